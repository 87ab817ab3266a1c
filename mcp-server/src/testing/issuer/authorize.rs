//! The authorization endpoint of the authorization code grant: no login, no consent, an
//! immediate redirect.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::endpoints::unavailable;
use super::form::decode_form;
use super::token_endpoint::grant_scopes;
use super::{PendingCode, Shared, random_id};
use crate::form::form_urlencode;

/// `/authorize`: no login, no consent; checks the request and redirects at once with a code,
/// the `state` and `iss` (RFC 9207).
pub(super) async fn authorize(State(s): State<Arc<Shared>>, uri: axum::http::Uri) -> Response {
    let q: HashMap<String, String> = decode_form(uri.query().unwrap_or_default())
        .into_iter()
        .collect();
    if !s.available.load(Ordering::SeqCst) {
        return unavailable();
    }
    let bad = |m: &str| (StatusCode::BAD_REQUEST, m.to_owned()).into_response();
    let get = |k: &str| q.get(k).map(String::as_str);
    let Some(client_id) = get("client_id") else {
        return bad("no client_id");
    };
    let registered = s
        .clients
        .lock()
        .ok()
        .and_then(|c| c.get(client_id).cloned());
    let Some(client) = registered else {
        return bad("unknown client");
    };
    let Some(redirect_uri) = get("redirect_uri") else {
        return bad("no redirect_uri");
    };
    if get("response_type") != Some("code") {
        return bad("response_type must be code");
    }
    if get("code_challenge_method") != Some("S256") {
        return bad("PKCE with S256 is required");
    }
    let Some(challenge) = get("code_challenge") else {
        return bad("no code_challenge");
    };
    let code = format!("code-{}", random_id());
    let pending = PendingCode {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        challenge: challenge.to_owned(),
        scope: grant_scopes(get("scope"), &client.scopes),
        resource: get("resource").unwrap_or_default().to_owned(),
    };
    if let Ok(mut c) = s.codes.lock() {
        c.insert(code.clone(), pending);
    }
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    let mut location = format!(
        "{redirect_uri}{sep}code={}&iss={}",
        form_urlencode(&code),
        form_urlencode(&s.issuer)
    );
    if let Some(state) = get("state") {
        location.push_str(&format!("&state={}", form_urlencode(state)));
    }
    let mut r = StatusCode::FOUND.into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&location) {
        r.headers_mut().insert(axum::http::header::LOCATION, v);
    }
    r
}
