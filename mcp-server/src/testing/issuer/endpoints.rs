//! The issuer's HTTP surface: the router, the RFC 8414 / OpenID metadata and JWKS endpoints,
//! and the responses every endpoint shares (503 when unavailable, JSON, OAuth errors).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::Shared;
use super::authorize::authorize;
use super::introspect::introspect;
use super::token_endpoint::token;

/// The routes of the issuer, on `shared`.
pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/.well-known/oauth-authorization-server", get(metadata))
        .route("/.well-known/openid-configuration", get(metadata))
        .route("/jwks", get(jwks))
        .route("/token", post(token))
        .route("/authorize", get(authorize))
        .route("/introspect", post(introspect))
        .with_state(shared)
}

pub(super) fn unavailable() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, "unavailable").into_response()
}

pub(super) fn json_response(status: StatusCode, value: &Value) -> Response {
    let mut r = (status, value.to_string()).into_response();
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    r
}

async fn metadata(State(s): State<Arc<Shared>>) -> Response {
    if !s.available.load(Ordering::SeqCst) {
        return unavailable();
    }
    let i = &s.issuer;
    json_response(
        StatusCode::OK,
        &json!({
            "issuer": i,
            "jwks_uri": format!("{i}/jwks"),
            "token_endpoint": format!("{i}/token"),
            "introspection_endpoint": format!("{i}/introspect"),
            "authorization_endpoint": format!("{i}/authorize"),
            "grant_types_supported": ["client_credentials", "authorization_code", "refresh_token",
                crate::auth::TOKEN_EXCHANGE_GRANT],
            "token_endpoint_auth_methods_supported":
                ["client_secret_basic", "client_secret_post", "none"],
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": true,
            "dpop_signing_alg_values_supported": ["ES256"],
        }),
    )
}

async fn jwks(State(s): State<Arc<Shared>>) -> Response {
    s.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    if !s.available.load(Ordering::SeqCst) {
        return unavailable();
    }
    json_response(StatusCode::OK, &s.keys().jwks())
}

pub(super) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    json_response(
        status,
        &json!({"error": error, "error_description": description}),
    )
}
