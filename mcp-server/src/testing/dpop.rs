//! DPoP keys and proofs for tests: a valid proof by default, and every way to break one.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair,
    EcdsaSigningAlgorithm, Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256, RSA_PSS_SHA256, RsaEncoding,
    RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::auth::dpop::{access_token_hash, jwk_thumbprint};

/// The private half of a [`DpopKey`].
enum Signer {
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
    Rsa(RsaKeyPair, &'static dyn RsaEncoding),
}

/// A key that signs DPoP proofs: ES256 by default, or ES384, EdDSA (Ed25519), RS256 or PS256.
pub struct DpopKey {
    signer: Signer,
    alg: &'static str,
    jwk: Map<String, Value>,
}

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopKey")
            .field("alg", &self.alg)
            .field("jwk", &self.jwk)
            .finish()
    }
}

fn failed(_: impl std::fmt::Debug) -> std::io::Error {
    std::io::Error::other("key generation failed")
}

fn ecdsa(alg: &'static EcdsaSigningAlgorithm, crv: &str) -> std::io::Result<(Signer, Value)> {
    let key = EcdsaKeyPair::generate(alg).map_err(failed)?;
    let point = key.public_key().as_ref();
    let (x, y) = point[1..].split_at((point.len() - 1) / 2);
    let jwk = json!({"kty": "EC", "crv": crv,
        "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y)});
    Ok((Signer::Ecdsa(key), jwk))
}

fn rsa(padding: &'static dyn RsaEncoding) -> std::io::Result<(Signer, Value)> {
    let key = RsaKeyPair::generate(KeySize::Rsa2048).map_err(failed)?;
    let public = key.public_key();
    let jwk = json!({"kty": "RSA",
        "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
        "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero())});
    Ok((Signer::Rsa(key, padding), jwk))
}

impl DpopKey {
    /// A fresh P-256 key (ES256).
    pub fn generate() -> std::io::Result<Self> {
        Self::generate_for("ES256")
    }

    /// A fresh key for `alg`: `ES256`, `ES384`, `EdDSA` (Ed25519), `RS256` or `PS256` (RSA
    /// 2048).
    pub fn generate_for(alg: &str) -> std::io::Result<Self> {
        let (signer, jwk, alg) = match alg {
            "ES256" => {
                let (s, j) = ecdsa(&ECDSA_P256_SHA256_FIXED_SIGNING, "P-256")?;
                (s, j, "ES256")
            }
            "ES384" => {
                let (s, j) = ecdsa(&ECDSA_P384_SHA384_FIXED_SIGNING, "P-384")?;
                (s, j, "ES384")
            }
            "EdDSA" => {
                let key = Ed25519KeyPair::generate().map_err(failed)?;
                let x = URL_SAFE_NO_PAD.encode(key.public_key().as_ref());
                let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": x});
                (Signer::Ed25519(key), jwk, "EdDSA")
            }
            "RS256" => {
                let (s, j) = rsa(&RSA_PKCS1_SHA256)?;
                (s, j, "RS256")
            }
            "PS256" => {
                let (s, j) = rsa(&RSA_PSS_SHA256)?;
                (s, j, "PS256")
            }
            _ => return Err(std::io::Error::other("unsupported DPoP algorithm")),
        };
        Ok(DpopKey {
            signer,
            alg,
            jwk: jwk.as_object().cloned().unwrap_or_default(),
        })
    }

    /// The algorithm its proofs name in `alg`.
    pub fn alg(&self) -> &'static str {
        self.alg
    }

    /// The public JWK.
    pub fn jwk(&self) -> &Map<String, Value> {
        &self.jwk
    }

    /// The RFC 7638 thumbprint (the `cnf.jkt` of tokens bound to this key).
    pub fn thumbprint(&self) -> String {
        jwk_thumbprint(&self.jwk).unwrap_or_default()
    }

    /// A proof for a request with `method` to `url` carrying `token`: fresh `jti`, `iat` now,
    /// `ath` of the token.
    pub fn proof(&self, method: &str, url: &str, token: &str) -> ProofBuilder<'_> {
        let iat = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut jti = [0u8; 16];
        let _ = getrandom::fill(&mut jti);
        let claims = json!({"htm": method, "htu": url, "iat": iat,
            "jti": URL_SAFE_NO_PAD.encode(jti), "ath": access_token_hash(token)});
        let header = json!({"typ": "dpop+jwt", "alg": self.alg, "jwk": self.jwk});
        ProofBuilder {
            signer: self,
            header: header.as_object().cloned().unwrap_or_default(),
            claims: claims.as_object().cloned().unwrap_or_default(),
        }
    }
}

/// One proof under construction.
#[must_use]
pub struct ProofBuilder<'a> {
    signer: &'a DpopKey,
    header: Map<String, Value>,
    claims: Map<String, Value>,
}

impl<'a> ProofBuilder<'a> {
    /// Sets a header member (`Value::Null` removes it).
    pub fn header(mut self, name: &str, value: Value) -> Self {
        if value.is_null() {
            self.header.remove(name);
        } else {
            self.header.insert(name.into(), value);
        }
        self
    }

    /// Sets a claim (`Value::Null` removes it).
    pub fn claim(mut self, name: &str, value: Value) -> Self {
        if value.is_null() {
            self.claims.remove(name);
        } else {
            self.claims.insert(name.into(), value);
        }
        self
    }

    /// Moves `iat` by `secs`.
    pub fn iat_offset(self, secs: i64) -> Self {
        let iat = self.claims.get("iat").and_then(Value::as_u64).unwrap_or(0);
        self.claim("iat", json!(iat.saturating_add_signed(secs)))
    }

    /// Adds the server's nonce.
    pub fn nonce(self, nonce: &str) -> Self {
        self.claim("nonce", json!(nonce))
    }

    /// Signs with another key while keeping this key's `jwk` in the header.
    pub fn signed_by(mut self, other: &'a DpopKey) -> Self {
        self.signer = other;
        self
    }

    /// The compact JWS, signed with the signer's own algorithm whatever `alg` the header claims.
    pub fn sign(self) -> String {
        let h = URL_SAFE_NO_PAD.encode(Value::Object(self.header).to_string());
        let c = URL_SAFE_NO_PAD.encode(Value::Object(self.claims).to_string());
        let input = format!("{h}.{c}");
        let rng = SystemRandom::new();
        let signature = match &self.signer.signer {
            Signer::Ecdsa(key) => key
                .sign(&rng, input.as_bytes())
                .map(|s| s.as_ref().to_vec())
                .unwrap_or_default(),
            Signer::Ed25519(key) => key.sign(input.as_bytes()).as_ref().to_vec(),
            Signer::Rsa(key, padding) => {
                let mut out = vec![0; key.public_modulus_len()];
                match key.sign(*padding, &rng, input.as_bytes(), &mut out) {
                    Ok(()) => out,
                    Err(_) => Vec::new(),
                }
            }
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}
