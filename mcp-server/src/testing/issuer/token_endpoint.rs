//! The token endpoint: client authentication (Basic or in the body), the client credentials,
//! authorization code (PKCE S256) and refresh token grants, and issuing access tokens (DPoP-bound
//! when the request carries a proof).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use crate::auth::{ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT};

use super::dpop::check_token_proof;
use super::endpoints::{json_response, oauth_error, unavailable};
use super::form::{decode_form, form_decode, form_value};
use super::keys::SigningKey;
use super::{ClientEntry, RefreshGrant, Shared, now, random_id};

fn sha256_b64url(input: &str) -> String {
    URL_SAFE_NO_PAD
        .encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, input.as_bytes()).as_ref())
}

/// The scopes granted: the requested ones the client may have, or all of them.
pub(super) fn grant_scopes(requested: Option<&str>, allowed: &str) -> String {
    let allowed: Vec<&str> = allowed.split_whitespace().collect();
    match requested {
        Some(req) => req
            .split_whitespace()
            .filter(|r| allowed.contains(r))
            .collect::<Vec<_>>()
            .join(" "),
        None => allowed.join(" "),
    }
}

/// What a token endpoint answer issues.
pub(super) struct Issue<'a> {
    pub(super) client_id: &'a str,
    pub(super) scope: &'a str,
    /// The audience (and a refresh token's resource).
    pub(super) resource: &'a str,
    pub(super) lifetime: Duration,
    pub(super) jkt: Option<String>,
    pub(super) refresh: bool,
    /// A token exchange's subject, audience and actor, replacing `sub` and `aud`.
    pub(super) exchange: Option<Exchange>,
}

/// The claims of a token issued by a token exchange (RFC 8693 §4.1).
pub(super) struct Exchange {
    pub(super) sub: String,
    pub(super) aud: Value,
    pub(super) act: Value,
}

pub(super) fn issue(s: &Shared, i: Issue<'_>) -> Response {
    let t = now();
    let secs = i.lifetime.as_secs().max(1);
    let mut claims = json!({
        "iss": s.issuer, "sub": i.client_id, "client_id": i.client_id, "aud": i.resource,
        "scope": i.scope, "iat": t, "nbf": t, "exp": t + secs,
        "jti": format!("jti-{}", random_id()),
    });
    if let Some(jkt) = &i.jkt {
        claims["cnf"] = json!({"jkt": jkt});
    }
    if let Some(x) = &i.exchange {
        claims["sub"] = json!(x.sub);
        claims["aud"] = x.aud.clone();
        claims["act"] = x.act.clone();
    }
    let keys = s.keys();
    let header = json!({"alg": "ES256", "typ": "at+jwt", "kid": keys.kid(SigningKey::Es256)});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = keys.sign(SigningKey::Es256, input.as_bytes());
    let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig));
    if let Ok(mut issued) = s.issued.lock() {
        issued.push(token.clone());
    }
    let token_type = if i.jkt.is_some() { "DPoP" } else { "Bearer" };
    let mut body = json!({"access_token": token, "token_type": token_type,
        "expires_in": secs, "scope": i.scope});
    if i.exchange.is_some() {
        body["issued_token_type"] = json!(ACCESS_TOKEN_TYPE);
    }
    if i.refresh {
        let rt = format!("rt-{}", random_id());
        if let Ok(mut r) = s.refresh_tokens.lock() {
            r.insert(
                rt.clone(),
                RefreshGrant {
                    client_id: i.client_id.to_owned(),
                    scope: i.scope.to_owned(),
                    resource: i.resource.to_owned(),
                },
            );
        }
        body["refresh_token"] = json!(rt);
    }
    json_response(StatusCode::OK, &body)
}

pub(super) async fn token(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    s.token_requests.fetch_add(1, Ordering::SeqCst);
    let form = decode_form(&body);
    let grant = form_value(&form, "grant_type").unwrap_or("").to_owned();
    if let Ok(mut g) = s.grants.lock() {
        g.push(grant.clone());
    }
    if !s.available.load(Ordering::SeqCst) {
        return unavailable();
    }
    let jkt = match headers.get("dpop") {
        None => None,
        Some(v) => match check_token_proof(&s, v.to_str().unwrap_or("")) {
            Ok(jkt) => Some(jkt),
            Err(r) => return *r,
        },
    };
    let (id, client) = match authenticate_client(&s, &headers, &form) {
        Ok(found) => found,
        Err(r) => return *r,
    };
    let global = s
        .lifetime
        .lock()
        .map(|l| *l)
        .unwrap_or(Duration::from_secs(3600));
    let lifetime = client.lifetime.unwrap_or(global);
    match grant.as_str() {
        "client_credentials" => {
            if client.secret.is_none() {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "unauthorized_client",
                    "public clients cannot use client credentials",
                );
            }
            let scope = grant_scopes(form_value(&form, "scope"), &client.scopes);
            let Some(resource) = form_value(&form, "resource") else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_target", "no resource");
            };
            issue(
                &s,
                Issue {
                    client_id: &id,
                    scope: &scope,
                    resource,
                    lifetime,
                    jkt,
                    refresh: false,
                    exchange: None,
                },
            )
        }
        TOKEN_EXCHANGE_GRANT => super::exchange::exchange(&s, &id, &client, &form, lifetime, jkt),
        "authorization_code" => {
            let code = form_value(&form, "code").unwrap_or("");
            let pending = s.codes.lock().ok().and_then(|mut c| c.remove(code));
            let Some(p) = pending else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "unknown code");
            };
            if p.client_id != id {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "wrong client");
            }
            if form_value(&form, "redirect_uri") != Some(p.redirect_uri.as_str()) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "wrong redirect_uri",
                );
            }
            let verifier = form_value(&form, "code_verifier").unwrap_or("");
            if verifier.len() < 43 || sha256_b64url(verifier) != p.challenge {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "PKCE failed");
            }
            let resource = form_value(&form, "resource").unwrap_or(&p.resource);
            if resource != p.resource {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_target", "wrong resource");
            }
            issue(
                &s,
                Issue {
                    client_id: &id,
                    scope: &p.scope,
                    resource,
                    lifetime,
                    jkt,
                    refresh: true,
                    exchange: None,
                },
            )
        }
        "refresh_token" => {
            let rt = form_value(&form, "refresh_token").unwrap_or("");
            // Rotated: a refresh token works once.
            let g = s.refresh_tokens.lock().ok().and_then(|mut r| r.remove(rt));
            let Some(g) = g.filter(|g| g.client_id == id) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "bad refresh token",
                );
            };
            let resource = form_value(&form, "resource").unwrap_or(&g.resource);
            issue(
                &s,
                Issue {
                    client_id: &id,
                    scope: &g.scope,
                    resource,
                    lifetime,
                    jkt,
                    refresh: true,
                    exchange: None,
                },
            )
        }
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "unsupported grant",
        ),
    }
}

/// The client of a request, authenticated by HTTP Basic or by `client_id`/`client_secret` in
/// the body (a public client sends no secret).
pub(super) fn authenticate_client(
    s: &Shared,
    headers: &HeaderMap,
    form: &[(String, String)],
) -> Result<(String, ClientEntry), Box<Response>> {
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(a, b)| (form_decode(a), Some(form_decode(b))))
        });
    let (id, secret) = match basic {
        Some(pair) => pair,
        None => (
            form_value(form, "client_id").unwrap_or("").to_owned(),
            form_value(form, "client_secret").map(str::to_owned),
        ),
    };
    let registered = s.clients.lock().ok().and_then(|c| c.get(&id).cloned());
    let Some(client) = registered else {
        return Err(Box::new(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client",
        )));
    };
    let authenticated = match &client.secret {
        Some(expected) => secret.as_deref() == Some(expected.as_str()),
        None => secret.is_none(),
    };
    if !authenticated {
        return Err(Box::new(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        )));
    }
    Ok((id, client))
}
