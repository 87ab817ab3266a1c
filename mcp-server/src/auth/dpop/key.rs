//! Proof keys: the RFC 7638 thumbprint of a proof's `jwk` (DP-14), and the key itself parsed
//! for signature checks (DP-05, DP-07).
//!
//! A client signs all its proofs with one key, so parsed keys are kept by thumbprint: later
//! proofs skip decoding the coordinates and validating the point and go straight to the
//! signature check, which no cache can skip since every proof is new.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::auth::algorithm::Algorithm;
use crate::crypto::sha256;

/// The RFC 7638 thumbprint of a public JWK (EC, RSA or OKP), as used in `cnf.jkt`.
pub(crate) fn jwk_thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    let s = |k: &str| jwk.get(k).and_then(Value::as_str);
    let members: [(&str, &str); 4] = match s("kty")? {
        "EC" => [
            ("crv", s("crv")?),
            ("kty", "EC"),
            ("x", s("x")?),
            ("y", s("y")?),
        ],
        "RSA" => [("e", s("e")?), ("kty", "RSA"), ("n", s("n")?), ("", "")],
        "OKP" => [("crv", s("crv")?), ("kty", "OKP"), ("x", s("x")?), ("", "")],
        _ => return None,
    };
    // The required members in lexicographic order, no whitespace, JSON string escaping.
    let mut input = Vec::with_capacity(256);
    input.push(b'{');
    for (i, (name, value)) in members.iter().filter(|(n, _)| !n.is_empty()).enumerate() {
        if i > 0 {
            input.push(b',');
        }
        serde_json::to_writer(&mut input, name).ok()?;
        input.push(b':');
        serde_json::to_writer(&mut input, value).ok()?;
    }
    input.push(b'}');
    Some(URL_SAFE_NO_PAD.encode(sha256(&input)))
}

/// Parsed proof keys by thumbprint, with the algorithm each was parsed for. Bounded: when full
/// it starts over, so a flood of one-off keys costs parsing, never memory.
pub(crate) struct ProofKeys {
    capacity: usize,
    parsed: RwLock<HashMap<String, (Algorithm, Arc<ProofKey>)>>,
}

impl ProofKeys {
    /// Room for `capacity` keys.
    pub fn new(capacity: usize) -> Self {
        ProofKeys {
            capacity,
            parsed: RwLock::new(HashMap::new()),
        }
    }

    /// The key of `jwk` (whose thumbprint is `jkt`) for `alg`, parsed on first use; `None` when
    /// the `jwk` is malformed or does not fit `alg` (an RSA key for ES256, a P-384 point for
    /// ES256, a point off the curve, an RSA modulus outside 2048..=8192 bits, ...).
    pub fn get(
        &self,
        alg: Algorithm,
        jkt: &str,
        jwk: &Map<String, Value>,
    ) -> Option<Arc<ProofKey>> {
        if let Ok(parsed) = self.parsed.read() {
            if let Some((a, key)) = parsed.get(jkt) {
                if *a == alg {
                    return Some(Arc::clone(key));
                }
            }
        }
        let key = Arc::new(ProofKey::parse(alg, jwk)?);
        if self.capacity > 0 {
            let mut parsed = self.parsed.write().unwrap_or_else(|e| e.into_inner());
            if parsed.len() >= self.capacity {
                parsed.clear();
            }
            parsed.insert(jkt.to_owned(), (alg, Arc::clone(&key)));
        }
        Some(key)
    }
}

/// The members of a public `jwk` that make the key of `alg`'s family (RFC 7518 §6), decoded
/// and checked for size.
enum KeyParts {
    /// An uncompressed SEC 1 point (`04 || x || y`).
    Ec(Vec<u8>),
    /// An Ed25519 public key.
    Okp([u8; 32]),
    /// An RSA modulus and exponent, big-endian.
    Rsa { n: Vec<u8>, e: Vec<u8> },
}

impl KeyParts {
    fn of(alg: Algorithm, jwk: &Map<String, Value>) -> Option<Self> {
        let text = |k: &str| jwk.get(k).and_then(Value::as_str);
        let bytes = |k: &str| text(k).and_then(|v| URL_SAFE_NO_PAD.decode(v).ok());
        match alg {
            Algorithm::ES256 | Algorithm::ES384 => {
                let (crv, len) = if alg == Algorithm::ES256 {
                    ("P-256", 32)
                } else {
                    ("P-384", 48)
                };
                if text("kty") != Some("EC") || text("crv") != Some(crv) {
                    return None;
                }
                let (x, y) = (bytes("x")?, bytes("y")?);
                if x.len() != len || y.len() != len {
                    return None;
                }
                let mut point = Vec::with_capacity(1 + 2 * len);
                point.push(4);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                Some(KeyParts::Ec(point))
            }
            Algorithm::EdDSA => {
                if text("kty") != Some("OKP") || text("crv") != Some("Ed25519") {
                    return None;
                }
                bytes("x")?.try_into().ok().map(KeyParts::Okp)
            }
            _ => {
                if text("kty") != Some("RSA") {
                    return None;
                }
                Some(KeyParts::Rsa {
                    n: bytes("n")?,
                    e: bytes("e")?,
                })
            }
        }
    }
}

/// A proof key, parsed for one algorithm on the build's backend.
pub(crate) struct ProofKey(backend::Parsed);

impl ProofKey {
    fn parse(alg: Algorithm, jwk: &Map<String, Value>) -> Option<Self> {
        backend::parse(alg, KeyParts::of(alg, jwk)?).map(ProofKey)
    }

    /// Whether `signature` (the raw JWS signature bytes) signs `message`.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        backend::verify(&self.0, message, signature)
    }
}

/// aws-lc: keys parsed once into aws-lc's form; parsing checks points lie on the curve.
#[cfg(feature = "aws-lc")]
mod backend {
    use aws_lc_rs::signature::{self, ParsedPublicKey, RsaParameters, RsaPublicKeyComponents};

    use super::KeyParts;
    use crate::auth::algorithm::Algorithm;

    pub(super) type Parsed = ParsedPublicKey;

    pub(super) fn parse(alg: Algorithm, parts: KeyParts) -> Option<Parsed> {
        match parts {
            KeyParts::Ec(point) => {
                let verification: &'static signature::EcdsaVerificationAlgorithm =
                    if alg == Algorithm::ES256 {
                        &signature::ECDSA_P256_SHA256_FIXED
                    } else {
                        &signature::ECDSA_P384_SHA384_FIXED
                    };
                ParsedPublicKey::new(verification, point).ok()
            }
            KeyParts::Okp(x) => ParsedPublicKey::new(&signature::ED25519, x).ok(),
            KeyParts::Rsa { n, e } => {
                let params: &'static RsaParameters = match alg {
                    Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                    Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                    Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                    Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
                    Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
                    Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
                    _ => return None,
                };
                RsaPublicKeyComponents { n, e }
                    .to_parsed_public_key(params)
                    .ok()
            }
        }
    }

    pub(super) fn verify(key: &Parsed, message: &[u8], signature: &[u8]) -> bool {
        key.verify_sig(message, signature).is_ok()
    }
}

/// rustcrypto: the RustCrypto curves, Ed25519 and RSA, pure Rust. Parsing checks points lie on
/// the curve and RSA moduli have 2048 to 8192 bits, as the aws-lc backend does.
#[cfg(not(feature = "aws-lc"))]
mod backend {
    use rsa::signature::Verifier as _;
    use rsa::{BigUint, RsaPublicKey};
    use sha2::{Digest, Sha256, Sha384, Sha512};

    use super::KeyParts;
    use crate::auth::algorithm::Algorithm;

    pub(super) enum Parsed {
        P256(p256::ecdsa::VerifyingKey),
        P384(p384::ecdsa::VerifyingKey),
        Ed25519(ed25519_dalek::VerifyingKey),
        Rsa(Algorithm, RsaPublicKey),
    }

    pub(super) fn parse(alg: Algorithm, parts: KeyParts) -> Option<Parsed> {
        match parts {
            KeyParts::Ec(point) if alg == Algorithm::ES256 => {
                p256::ecdsa::VerifyingKey::from_sec1_bytes(&point)
                    .ok()
                    .map(Parsed::P256)
            }
            KeyParts::Ec(point) => p384::ecdsa::VerifyingKey::from_sec1_bytes(&point)
                .ok()
                .map(Parsed::P384),
            KeyParts::Okp(x) => ed25519_dalek::VerifyingKey::from_bytes(&x)
                .ok()
                .map(Parsed::Ed25519),
            KeyParts::Rsa { n, e } => {
                let n = BigUint::from_bytes_be(&n);
                if !(2048..=8192).contains(&n.bits()) {
                    return None;
                }
                let key = RsaPublicKey::new(n, BigUint::from_bytes_be(&e)).ok()?;
                Some(Parsed::Rsa(alg, key))
            }
        }
    }

    pub(super) fn verify(key: &Parsed, message: &[u8], signature: &[u8]) -> bool {
        match key {
            Parsed::P256(k) => p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|s| k.verify(message, &s).is_ok()),
            Parsed::P384(k) => p384::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|s| k.verify(message, &s).is_ok()),
            Parsed::Ed25519(k) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|s| k.verify_strict(message, &s).is_ok()),
            Parsed::Rsa(alg, k) => rsa_verify(*alg, k, message, signature),
        }
    }

    /// RSA checks borrow the parsed key: nothing is copied per proof.
    fn rsa_verify(alg: Algorithm, key: &RsaPublicKey, message: &[u8], signature: &[u8]) -> bool {
        use rsa::{Pkcs1v15Sign, Pss};
        let checked = match alg {
            Algorithm::RS256 => key.verify(
                Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(message),
                signature,
            ),
            Algorithm::RS384 => key.verify(
                Pkcs1v15Sign::new::<Sha384>(),
                &Sha384::digest(message),
                signature,
            ),
            Algorithm::RS512 => key.verify(
                Pkcs1v15Sign::new::<Sha512>(),
                &Sha512::digest(message),
                signature,
            ),
            Algorithm::PS256 => {
                key.verify(Pss::new::<Sha256>(), &Sha256::digest(message), signature)
            }
            Algorithm::PS384 => {
                key.verify(Pss::new::<Sha384>(), &Sha384::digest(message), signature)
            }
            Algorithm::PS512 => {
                key.verify(Pss::new::<Sha512>(), &Sha512::digest(message), signature)
            }
            _ => return false,
        };
        checked.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn dp14_rfc_thumbprints() {
        // RFC 9449 example P-256 key.
        let ec = object(serde_json::json!({"kty":"EC","crv":"P-256",
            "x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
            "y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}));
        assert_eq!(
            jwk_thumbprint(&ec).unwrap(),
            "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
        );
        // RFC 7638 §3.1 RSA key.
        let rsa = object(
            serde_json::json!({"kty":"RSA","e":"AQAB","alg":"RS256","kid":"2011-04-29",
            "n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}),
        );
        assert_eq!(
            jwk_thumbprint(&rsa).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
        // RFC 8037 §A.3 Ed25519 key.
        let okp = object(serde_json::json!({"kty":"OKP","crv":"Ed25519",
            "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}));
        assert_eq!(
            jwk_thumbprint(&okp).unwrap(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
        assert_eq!(
            jwk_thumbprint(&object(serde_json::json!({"kty":"oct","k":"AA"}))),
            None
        );
    }

    #[test]
    fn keys_must_fit_the_algorithm_and_are_parsed_once() {
        let ec = object(serde_json::json!({"kty":"EC","crv":"P-256",
            "x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
            "y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}));
        let jkt = jwk_thumbprint(&ec).unwrap();
        let keys = ProofKeys::new(8);
        let first = keys.get(Algorithm::ES256, &jkt, &ec).unwrap();
        let again = keys.get(Algorithm::ES256, &jkt, &ec).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert!(keys.get(Algorithm::ES384, &jkt, &ec).is_none());
        assert!(keys.get(Algorithm::RS256, &jkt, &ec).is_none());
        assert!(keys.get(Algorithm::EdDSA, &jkt, &ec).is_none());
        // A point that is not on the curve.
        let mut off = ec.clone();
        off.insert("y".into(), Value::from(URL_SAFE_NO_PAD.encode([7u8; 32])));
        assert!(keys.get(Algorithm::ES256, "off", &off).is_none());
        // RFC 8037 Ed25519 key.
        let okp = object(serde_json::json!({"kty":"OKP","crv":"Ed25519",
            "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}));
        assert!(keys.get(Algorithm::EdDSA, "okp", &okp).is_some());
    }
}
