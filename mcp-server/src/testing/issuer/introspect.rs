//! Token introspection (RFC 7662) for resource servers that check tokens by asking: registered
//! clients authenticate as at the token endpoint and learn whether a token is active and what
//! it carries. Only tokens this issuer knows to be genuine can be active: opaque tokens minted
//! with [`TokenBuilder::opaque`](super::TokenBuilder::opaque) and tokens its token endpoint
//! issued; revoked and expired ones are not.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::endpoints::{json_response, unavailable};
use super::form::{decode_form, form_value};
use super::token_endpoint::authenticate_client;
use super::{Shared, now};

/// `POST /introspect`.
pub(super) async fn introspect(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    s.introspections.fetch_add(1, Ordering::SeqCst);
    if !s.available.load(Ordering::SeqCst) {
        return unavailable();
    }
    let form = decode_form(&body);
    if let Err(r) = authenticate_client(&s, &headers, &form) {
        return *r;
    }
    let token = form_value(&form, "token").unwrap_or("");
    let answer = match claims_of(&s, token) {
        Some(mut claims) if !is_over(&s, token, &claims) => {
            claims.insert("active".into(), json!(true));
            claims.insert("token_type".into(), json!(token_type(&claims)));
            Value::Object(claims)
        }
        _ => json!({"active": false}),
    };
    json_response(StatusCode::OK, &answer)
}

/// The claims of a token this issuer made.
fn claims_of(s: &Shared, token: &str) -> Option<Map<String, Value>> {
    if let Some(claims) = s.opaque.lock().ok()?.get(token) {
        return Some(claims.clone());
    }
    let issued = s.issued.lock().ok()?.iter().any(|t| t == token);
    if !issued {
        return None;
    }
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(claims) => Some(claims),
        _ => None,
    }
}

/// Whether the token was revoked or has expired.
fn is_over(s: &Shared, token: &str, claims: &Map<String, Value>) -> bool {
    let revoked = s.revoked.lock().map_or(true, |r| r.contains(token));
    let expired = claims
        .get("exp")
        .and_then(Value::as_u64)
        .is_some_and(|e| e <= now());
    revoked || expired
}

fn token_type(claims: &Map<String, Value>) -> &'static str {
    if claims.get("cnf").and_then(|c| c.get("jkt")).is_some() {
        "DPoP"
    } else {
        "Bearer"
    }
}
