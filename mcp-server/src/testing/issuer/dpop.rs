//! DPoP at the token endpoint (RFC 9449): checking a token request's proof.

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use super::endpoints::oauth_error;
use super::{Shared, now};

/// Checks the DPoP proof of a token request (RFC 9449 §4.3, minimally: `typ`, ES256 signature
/// by the embedded public key, `htm` POST, `htu` the token endpoint, a fresh `iat`, a `jti`, the
/// nonce when one is required) and returns the key's thumbprint.
pub(super) fn check_token_proof(s: &Shared, proof: &str) -> Result<String, Box<Response>> {
    use crate::auth::dpop::{jwk_thumbprint, normalize_htu};
    use jsonwebtoken::jwk::Jwk;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
    let invalid = |d: &str| {
        Box::new(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_dpop_proof",
            d,
        ))
    };
    let header = proof
        .split('.')
        .next()
        .and_then(|h| URL_SAFE_NO_PAD.decode(h).ok())
        .and_then(|b| serde_json::from_slice::<Map<String, Value>>(&b).ok())
        .ok_or_else(|| invalid("the proof header is malformed"))?;
    if header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return Err(invalid("typ must be dpop+jwt"));
    }
    if header.get("alg").and_then(Value::as_str) != Some("ES256") {
        return Err(invalid("only ES256 proofs are supported"));
    }
    let jwk_value = header
        .get("jwk")
        .and_then(Value::as_object)
        .filter(|j| !j.contains_key("d"))
        .ok_or_else(|| invalid("the proof has no public jwk"))?;
    let jwk: Jwk = serde_json::from_value(Value::Object(jwk_value.clone()))
        .map_err(|_| invalid("the proof jwk is malformed"))?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| invalid("the proof jwk is malformed"))?;
    let mut validation = Validation::new(Algorithm::ES256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = decode::<Map<String, Value>>(proof, &key, &validation)
        .map_err(|_| invalid("the proof signature is invalid"))?
        .claims;
    let text = |k: &str| claims.get(k).and_then(Value::as_str);
    if text("htm") != Some("POST") {
        return Err(invalid("htm must be POST"));
    }
    let expected = normalize_htu(&format!("{}/token", s.issuer));
    let htu = text("htu").and_then(normalize_htu);
    if htu.is_none() || htu != expected {
        return Err(invalid("htu must be the token endpoint"));
    }
    let iat = claims.get("iat").and_then(Value::as_u64).unwrap_or(0);
    let t = now();
    if iat + 300 < t || iat > t + 300 {
        return Err(invalid("the proof is not fresh"));
    }
    if text("jti").is_none_or(str::is_empty) {
        return Err(invalid("the proof has no jti"));
    }
    let nonce = s.dpop_nonce.lock().ok().and_then(|n| n.clone());
    if let Some(nonce) = nonce {
        if text("nonce") != Some(nonce.as_str()) {
            let mut r = oauth_error(
                StatusCode::BAD_REQUEST,
                "use_dpop_nonce",
                "the authorization server requires a DPoP nonce",
            );
            if let Ok(v) = axum::http::HeaderValue::from_str(&nonce) {
                r.headers_mut().insert("dpop-nonce", v);
            }
            return Err(Box::new(r));
        }
    }
    jwk_thumbprint(jwk_value).ok_or_else(|| invalid("the proof jwk is malformed"))
}
