//! Fixed keys and the JWS plumbing the token targets and the seed generator share: tokens and
//! proofs signed here verify against [`jwks`] on every run, so seeds stay valid.
//!
//! The Ed25519 key is derived from a fixed seed (EdDSA signatures are deterministic: a
//! structured input always builds the same token). The ES256 key is drawn per process; proofs
//! carry their public key, so its proofs verify too.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// The issuer of the fuzzed tokens.
pub const ISSUER: &str = "https://issuer.fuzz.example";
/// The resource (token audience, DPoP `htu` base) of the fuzzed server.
pub const RESOURCE: &str = "https://mcp.fuzz.example/mcp";
/// The `kid` of the Ed25519 key in [`jwks`].
pub const ED25519_KID: &str = "fuzz-ed25519";
/// The `kid` of the public-only P-256 key in [`jwks`] (RFC 7517 A.1): no token verifies with it.
pub const EC_KID: &str = "rfc7517-ec";

/// Exactly 32 bytes: the Ed25519 seed.
const ED25519_SEED: &[u8; 32] = b"mcp-fuzz fixed ed25519 seed 0001";

/// base64url without padding.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `base64url(SHA-256(token))`: a DPoP proof's `ath` for `token`.
pub fn ath(token: &str) -> String {
    b64(digest(&SHA256, token.as_bytes()))
}

/// The fixed Ed25519 key.
pub fn ed25519() -> &'static Ed25519KeyPair {
    static KEY: OnceLock<Ed25519KeyPair> = OnceLock::new();
    KEY.get_or_init(|| {
        Ed25519KeyPair::from_seed_unchecked(ED25519_SEED).expect("a 32-byte Ed25519 seed")
    })
}

/// This process's P-256 key.
pub fn p256() -> &'static EcdsaKeyPair {
    static KEY: OnceLock<EcdsaKeyPair> = OnceLock::new();
    KEY.get_or_init(|| {
        EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("a P-256 key")
    })
}

/// The public JWK of the Ed25519 key (no `kid`: as a DPoP proof carries it).
pub fn ed25519_jwk() -> Value {
    json!({"kty": "OKP", "crv": "Ed25519", "x": b64(ed25519().public_key().as_ref())})
}

/// The public JWK of the P-256 key.
pub fn p256_jwk() -> Value {
    let point = p256().public_key().as_ref();
    let (x, y) = point.get(1..).unwrap_or_default().split_at(32);
    json!({"kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y)})
}

/// The keys the fuzzed JWT validator trusts: the Ed25519 key (`kid` [`ED25519_KID`], `alg`
/// EdDSA), a public-only P-256 key, and an encryption key that must never verify anything.
pub fn jwks() -> Value {
    let mut ed = ed25519_jwk();
    ed["kid"] = json!(ED25519_KID);
    ed["alg"] = json!("EdDSA");
    ed["use"] = json!("sig");
    json!({"keys": [
        ed,
        {"kty": "EC", "crv": "P-256", "kid": EC_KID,
         "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
         "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"},
        {"kty": "EC", "crv": "P-256", "kid": "enc", "use": "enc",
         "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
         "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}
    ]})
}

/// Which key signs a compact JWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    /// The fixed Ed25519 key (EdDSA).
    Ed25519,
    /// The process's P-256 key (ES256).
    P256,
}

impl Signer {
    /// The signature of `input`.
    pub fn sign(self, input: &[u8]) -> Vec<u8> {
        match self {
            Signer::Ed25519 => ed25519().sign(input).as_ref().to_vec(),
            Signer::P256 => p256()
                .sign(&SystemRandom::new(), input)
                .map(|s| s.as_ref().to_vec())
                .unwrap_or_default(),
        }
    }

    /// The `alg` it signs with.
    pub fn alg(self) -> &'static str {
        match self {
            Signer::Ed25519 => "EdDSA",
            Signer::P256 => "ES256",
        }
    }

    /// Its public JWK.
    pub fn jwk(self) -> Value {
        match self {
            Signer::Ed25519 => ed25519_jwk(),
            Signer::P256 => p256_jwk(),
        }
    }
}

/// `base64url(header).base64url(claims)`: the signing input of a compact JWS.
pub fn signing_input(header: &[u8], claims: &[u8]) -> String {
    format!("{}.{}", b64(header), b64(claims))
}

/// A compact JWS of `header` and `claims` (any bytes) signed by `signer`.
pub fn sign_compact(signer: Signer, header: &[u8], claims: &[u8]) -> String {
    let input = signing_input(header, claims);
    let signature = signer.sign(input.as_bytes());
    format!("{input}.{}", b64(signature))
}

/// A valid access token for [`RESOURCE`] from [`ISSUER`], with `extra` claims merged in.
pub fn access_token(extra: &Value) -> String {
    let now = now();
    let mut claims = json!({"iss": ISSUER, "aud": RESOURCE, "sub": "fuzz-user",
        "iat": now, "nbf": now, "exp": now + 3600, "scope": "read write", "jti": "t-1"});
    if let (Some(c), Some(e)) = (claims.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    let header = json!({"typ": "at+jwt", "alg": "EdDSA", "kid": ED25519_KID});
    sign_compact(
        Signer::Ed25519,
        header.to_string().as_bytes(),
        claims.to_string().as_bytes(),
    )
}
