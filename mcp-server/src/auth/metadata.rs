//! RFC 9728 protected resource metadata (AZ-02..AZ-07): served at the path-suffixed and the root
//! well-known URLs, public, cacheable, CORS `*`, with the exact resource URL.

use axum::body::Body;
use axum::response::Response;
use http::header::{
    ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN, ALLOW, CACHE_CONTROL, CONTENT_TYPE,
};
use http::{HeaderValue, Method, StatusCode};
use serde::Serialize;

use super::authenticator::Authenticator;
use super::dpop::DpopMode;

/// The metadata document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProtectedResourceMetadata {
    /// The resource identifier: the exact public URL of the MCP endpoint.
    pub resource: String,
    /// Trusted authorization servers.
    pub authorization_servers: Vec<String>,
    /// Scopes the server and its tools use (never `offline_access`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes_supported: Vec<String>,
    /// How tokens are sent: only in the `Authorization` header.
    pub bearer_methods_supported: Vec<String>,
    /// A human-readable name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// Accepted DPoP proof algorithms (DP-01), when DPoP is on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dpop_signing_alg_values_supported: Vec<String>,
    /// Whether only DPoP-bound tokens are accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpop_bound_access_tokens_required: Option<bool>,
}

/// Builds the document: the same for every request (nothing in it comes from the request).
pub(crate) fn document(
    auth: &Authenticator,
    tool_scopes: impl Iterator<Item = String>,
    server_name: &str,
) -> ProtectedResourceMetadata {
    let config = auth.config();
    let mut scopes: Vec<String> = config.required_scopes.clone();
    for s in tool_scopes {
        if !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    scopes.retain(|s| s != "offline_access");
    ProtectedResourceMetadata {
        resource: auth.resource().to_owned(),
        authorization_servers: config.published_authorization_servers(),
        scopes_supported: scopes,
        bearer_methods_supported: vec!["header".to_owned()],
        resource_name: Some(
            config
                .resource_name
                .clone()
                .unwrap_or_else(|| server_name.to_owned()),
        ),
        dpop_signing_alg_values_supported: match config.dpop.mode {
            DpopMode::Off => Vec::new(),
            _ => config
                .dpop
                .alg_names()
                .into_iter()
                .map(str::to_owned)
                .collect(),
        },
        dpop_bound_access_tokens_required: match config.dpop.mode {
            DpopMode::Off => None,
            mode => Some(mode == DpopMode::Required),
        },
    }
}

/// The HTTP answer: 200 JSON for GET/HEAD, 204 for a CORS preflight, 405 otherwise.
pub(crate) fn respond(
    method: &Method,
    auth: &Authenticator,
    doc: &ProtectedResourceMetadata,
) -> Response {
    let mut r = match *method {
        Method::GET | Method::HEAD => {
            let body = serde_json::to_vec(doc).unwrap_or_default();
            let mut r = Response::new(if *method == Method::HEAD {
                Body::empty()
            } else {
                Body::from(body)
            });
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            let max_age = format!("public, max-age={}", auth.config().cache_ttl.as_secs());
            if let Ok(v) = HeaderValue::from_str(&max_age) {
                r.headers_mut().insert(CACHE_CONTROL, v);
            }
            r
        }
        Method::OPTIONS => {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::NO_CONTENT;
            r
        }
        _ => {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            r
        }
    };
    let h = r.headers_mut();
    h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, HEAD, OPTIONS"),
    );
    h.insert(ALLOW, HeaderValue::from_static("GET, HEAD, OPTIONS"));
    r
}
