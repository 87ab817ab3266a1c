//! Proof keys: the RFC 7638 thumbprint of a proof's `jwk` (DP-14), and the key itself parsed
//! for signature checks (DP-05, DP-07).
//!
//! A client signs all its proofs with one key, so parsed keys are kept by thumbprint: later
//! proofs skip decoding the coordinates and validating the point and go straight to the
//! signature check, which no cache can skip since every proof is new.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use aws_lc_rs::digest;
use aws_lc_rs::signature::{self, ParsedPublicKey, RsaParameters, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

/// The RFC 7638 thumbprint of a public JWK (EC, RSA or OKP), as used in `cnf.jkt`.
pub fn jwk_thumbprint(jwk: &Map<String, Value>) -> Option<String> {
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
    Some(URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, &input).as_ref()))
}

/// Parsed proof keys by thumbprint, with the algorithm each was parsed for. Bounded: when full
/// it starts over, so a flood of one-off keys costs parsing, never memory.
pub(crate) struct ProofKeys {
    capacity: usize,
    parsed: RwLock<HashMap<String, (Algorithm, Arc<ParsedPublicKey>)>>,
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
    /// ES256, a point off the curve, …). RSA moduli under 2048 bits are refused by the
    /// signature check.
    pub fn get(
        &self,
        alg: Algorithm,
        jkt: &str,
        jwk: &Map<String, Value>,
    ) -> Option<Arc<ParsedPublicKey>> {
        if let Ok(parsed) = self.parsed.read() {
            if let Some((a, key)) = parsed.get(jkt) {
                if *a == alg {
                    return Some(Arc::clone(key));
                }
            }
        }
        let key = Arc::new(parse(alg, jwk)?);
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

/// Parses a public `jwk` as a key of `alg`'s family (RFC 7518 §6).
fn parse(alg: Algorithm, jwk: &Map<String, Value>) -> Option<ParsedPublicKey> {
    use Algorithm::*;
    let text = |k: &str| jwk.get(k).and_then(Value::as_str);
    let bytes = |k: &str| text(k).and_then(|v| URL_SAFE_NO_PAD.decode(v).ok());
    match alg {
        ES256 | ES384 => {
            let (crv, len, verification): (_, _, &'static signature::EcdsaVerificationAlgorithm) =
                if alg == ES256 {
                    ("P-256", 32, &signature::ECDSA_P256_SHA256_FIXED)
                } else {
                    ("P-384", 48, &signature::ECDSA_P384_SHA384_FIXED)
                };
            if text("kty") != Some("EC") || text("crv") != Some(crv) {
                return None;
            }
            let (x, y) = (bytes("x")?, bytes("y")?);
            if x.len() != len || y.len() != len {
                return None;
            }
            // SEC 1 uncompressed point; parsing checks that it lies on the curve.
            let mut point = Vec::with_capacity(1 + 2 * len);
            point.push(4);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            ParsedPublicKey::new(verification, point).ok()
        }
        EdDSA => {
            if text("kty") != Some("OKP") || text("crv") != Some("Ed25519") {
                return None;
            }
            let x = bytes("x").filter(|x| x.len() == 32)?;
            ParsedPublicKey::new(&signature::ED25519, x).ok()
        }
        RS256 | RS384 | RS512 | PS256 | PS384 | PS512 => {
            if text("kty") != Some("RSA") {
                return None;
            }
            let params: &'static RsaParameters = match alg {
                RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                PS256 => &signature::RSA_PSS_2048_8192_SHA256,
                PS384 => &signature::RSA_PSS_2048_8192_SHA384,
                _ => &signature::RSA_PSS_2048_8192_SHA512,
            };
            let components = RsaPublicKeyComponents {
                n: bytes("n")?,
                e: bytes("e")?,
            };
            components.to_parsed_public_key(params).ok()
        }
        _ => None,
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
