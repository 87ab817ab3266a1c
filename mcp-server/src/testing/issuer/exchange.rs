//! The token exchange grant (RFC 8693) at the token endpoint: a registered confidential client
//! trades a subject token this issuer made for a token of another audience, on the subject's
//! behalf, with itself as the actor.
//!
//! What it checks, and the errors (RFC 8693 §2.2.2, RFC 6749 §5.2):
//! - the client is confidential (a public one: `unauthorized_client`);
//! - `subject_token` and `subject_token_type` are present, the type is an access token (or a
//!   JWT); `requested_token_type`, when present, is an access token; no `actor_token` (not
//!   supported); at least one `resource` or `audience`, each `resource` an absolute URI
//!   without fragment (otherwise `invalid_request`);
//! - every target is on the client's allow list when it has one
//!   ([`TestIssuer::restrict_exchange_targets`](super::TestIssuer::restrict_exchange_targets);
//!   otherwise `invalid_target`);
//! - the subject token is genuine and current: a JWT signed by this issuer's current keys
//!   (`iss` this issuer, not expired, not before `nbf`), or an opaque token it minted; not
//!   revoked (otherwise `invalid_grant`);
//! - the scopes asked for are ones the subject token has; without `scope`, the subject token's
//!   scopes. Scopes the subject lacks are dropped (the answer's `scope` says what was granted);
//!   none left is `invalid_scope`.
//!
//! The token issued: `sub` = the subject token's, `aud` = the target (an array for several),
//! `client_id` = the requesting client, `act: {"sub": <client>}` with the subject token's own
//! `act` nested inside (RFC 8693 §4.1: a chain of delegation), `scope` as granted, lifetime the
//! client's (or the issuer's) but never past the subject token's `exp`; the answer has
//! `issued_token_type: urn:ietf:params:oauth:token-type:access_token` and no refresh token.

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use std::time::Duration;

use super::endpoints::oauth_error;
use super::form::form_value;
use super::token_endpoint::{Exchange, Issue, issue};
use super::{ClientEntry, Shared, now};
use crate::auth::ACCESS_TOKEN_TYPE;

/// The JWT token type (RFC 8693 §3), accepted for subject tokens too.
const JWT_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";

fn invalid_request(why: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_request", why)
}

/// A `token-exchange` request from the authenticated client `client_id`.
pub(super) fn exchange(
    s: &Shared,
    client_id: &str,
    client: &ClientEntry,
    form: &[(String, String)],
    lifetime: Duration,
    jkt: Option<String>,
) -> Response {
    if client.secret.is_none() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "public clients cannot exchange tokens",
        );
    }
    let Some(subject) = form_value(form, "subject_token").filter(|t| !t.is_empty()) else {
        return invalid_request("subject_token is required");
    };
    match form_value(form, "subject_token_type") {
        None => return invalid_request("subject_token_type is required"),
        Some(t) if t == ACCESS_TOKEN_TYPE || t == JWT_TYPE => {}
        Some(_) => return invalid_request("unsupported subject_token_type"),
    }
    if form_value(form, "requested_token_type").is_some_and(|t| t != ACCESS_TOKEN_TYPE) {
        return invalid_request("only access tokens can be requested");
    }
    if form_value(form, "actor_token").is_some() {
        return invalid_request("actor tokens are not supported");
    }
    let values = |name: &str| -> Vec<&str> {
        form.iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let resources = values("resource");
    let targets: Vec<&str> = resources
        .iter()
        .copied()
        .chain(values("audience"))
        .collect();
    if targets.is_empty() || targets.iter().any(|t| t.is_empty()) {
        return invalid_request("name the target with resource or audience");
    }
    if resources.iter().any(|r| !is_absolute_uri(r)) {
        return invalid_request("a resource is an absolute URI without a fragment");
    }
    if let Some(allowed) = &client.exchange_targets {
        if targets.iter().any(|t| !allowed.iter().any(|a| a == t)) {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_target",
                "the requested target is not served to this client",
            );
        }
    }
    let Some(claims) = subject_claims(s, subject) else {
        // Never the token itself in the description.
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the subject token is invalid, expired or revoked",
        );
    };
    let held: Vec<&str> = claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let scope = match form_value(form, "scope") {
        Some(asked) => {
            let granted: Vec<&str> = asked
                .split_whitespace()
                .filter(|s| held.contains(s))
                .collect();
            if granted.is_empty() && !asked.trim().is_empty() {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    "the subject token holds none of the requested scopes",
                );
            }
            granted.join(" ")
        }
        None => held.join(" "),
    };
    let Some(sub) = claims.get("sub").and_then(Value::as_str) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the subject token names no subject",
        );
    };
    let mut act = Map::new();
    act.insert("sub".into(), json!(client_id));
    if let Some(prior) = claims.get("act") {
        act.insert("act".into(), prior.clone());
    }
    let aud = match targets.as_slice() {
        [one] => json!(one),
        many => json!(many),
    };
    // Never outlives the subject token.
    let left = claims
        .get("exp")
        .and_then(Value::as_u64)
        .map_or(u64::MAX, |exp| exp.saturating_sub(now()));
    let lifetime = Duration::from_secs(lifetime.as_secs().min(left).max(1));
    issue(
        s,
        Issue {
            client_id,
            scope: &scope,
            resource: targets.first().copied().unwrap_or_default(),
            lifetime,
            jkt,
            refresh: false,
            exchange: Some(Exchange {
                sub: sub.to_owned(),
                aud,
                act: Value::Object(act),
            }),
        },
    )
}

/// An absolute URI (a scheme, then `:`) without a fragment (RFC 8707 §2).
fn is_absolute_uri(uri: &str) -> bool {
    let Some((scheme, rest)) = uri.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !uri.contains('#')
}

/// The claims of a subject token this issuer made and still stands by: an opaque token it
/// minted, or a JWT with a valid signature by its current keys, from it, in its validity
/// window; not revoked.
fn subject_claims(s: &Shared, token: &str) -> Option<Map<String, Value>> {
    if s.revoked.lock().map_or(true, |r| r.contains(token)) {
        return None;
    }
    let claims = match s.opaque.lock().ok()?.get(token) {
        Some(claims) => claims.clone(),
        None => verified_jwt(s, token)?,
    };
    let t = now();
    let exp = claims.get("exp").and_then(Value::as_u64)?;
    let nbf = claims.get("nbf").and_then(Value::as_u64).unwrap_or(0);
    let iss = claims.get("iss").and_then(Value::as_str);
    (exp > t && nbf <= t && iss == Some(s.issuer.as_str())).then_some(claims)
}

/// The claims of a JWT signed by this issuer's current keys.
fn verified_jwt(s: &Shared, token: &str) -> Option<Map<String, Value>> {
    let mut parts = token.split('.');
    let (header, payload, sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let decode = |part: &str| -> Option<Map<String, Value>> {
        let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
        match serde_json::from_slice(&bytes).ok()? {
            Value::Object(m) => Some(m),
            _ => None,
        }
    };
    let head = decode(header)?;
    let alg = head.get("alg").and_then(Value::as_str)?;
    let kid = head.get("kid").and_then(Value::as_str);
    let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
    let input = format!("{header}.{payload}");
    if !s.keys().verify(alg, kid, input.as_bytes(), &sig) {
        return None;
    }
    decode(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_are_absolute_uris_without_fragments() {
        assert!(is_absolute_uri("https://api.example.com/v1"));
        assert!(is_absolute_uri("urn:example:api"));
        assert!(!is_absolute_uri("api.example.com"));
        assert!(!is_absolute_uri("https://api.example.com/#x"));
        assert!(!is_absolute_uri("1http://x"));
        assert!(!is_absolute_uri("https:"));
    }
}
