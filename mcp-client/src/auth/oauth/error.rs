//! The errors of the OAuth flows, and how an endpoint's error response becomes one.

use reqwest::StatusCode;
use serde_json::Value;

use crate::auth::AuthError;

/// Why an OAuth flow failed. Never carries a secret (tokens, client secrets, codes).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// The server accepts only DPoP-bound tokens (its metadata says
    /// `dpop_bound_access_tokens_required`) and the strategy has no DPoP key, so no token is
    /// requested: give it one with `.dpop(key)`.
    #[error(
        "the server accepts only DPoP-bound tokens (dpop_bound_access_tokens_required): \
         configure a DPoP key on the strategy (.dpop(key))"
    )]
    DpopRequired,
    /// No usable metadata or endpoint was found.
    #[error("OAuth discovery failed: {0}")]
    Discovery(String),
    /// The protected-resource metadata names another resource than the server URL (RFC 9728
    /// §3.3: metadata from the path-suffixed well-known URL or from the challenge's
    /// `resource_metadata` must name the server URL itself; only the root well-known URL's may
    /// name the bare origin).
    #[error("the protected resource {resource} does not match the server URL {server}")]
    ResourceMismatch {
        /// The `resource` of the metadata.
        resource: String,
        /// The URL the client connected to.
        server: String,
    },
    /// The authorization-server metadata's `issuer` differs from the issuer it was fetched for.
    #[error("the authorization server metadata names issuer {found}, expected {expected}")]
    IssuerMismatch {
        /// The issuer the metadata was looked up for.
        expected: String,
        /// The `issuer` it contains.
        found: String,
    },
    /// The client credentials are registered with (pinned to) one authorization server, and
    /// discovery led to another: the protected-resource metadata lists only other
    /// `authorization_servers`, or the metadata names another `issuer`. Nothing was sent to it.
    #[error(
        "the server names authorization server {discovered}, but the client credentials are \
         registered with {pinned}: they are only ever sent to {pinned}"
    )]
    UntrustedIssuer {
        /// The issuer the credentials were configured for.
        pinned: String,
        /// The issuer (or the `authorization_servers`, comma-separated) discovery found.
        discovered: String,
    },
    /// An authorization server, metadata URL or OAuth endpoint is plain `http` on a host that is
    /// not loopback; nothing was sent to it. Use `https`, or `dangerously_allow_http()` on the
    /// strategy.
    #[error(
        "refusing plain http to {url}: OAuth URLs must be https except on loopback \
         (or allowed with dangerously_allow_http())"
    )]
    InsecureUrl {
        /// The refused URL.
        url: String,
    },
    /// The 401 challenge's `resource_metadata` points to another origin than the server: it is
    /// not fetched (RFC 9728 §3.3).
    #[error("the resource_metadata URL {url} is not on the origin of the server {server}")]
    ForeignResourceMetadata {
        /// The `resource_metadata` URL.
        url: String,
        /// The URL the client connected to.
        server: String,
    },
    /// An endpoint answered with an error (`error` / `error_description` of RFC 6749 §5.2).
    #[error("the {endpoint} endpoint answered {status}: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Endpoint {
        /// `token`, `registration`, ...
        endpoint: &'static str,
        /// The HTTP status.
        status: u16,
        /// The OAuth `error` code (or a summary).
        error: String,
        /// `error_description`.
        description: Option<String>,
    },
    /// The authorization response (the redirect) was refused: wrong `state`, wrong or missing
    /// `iss` (RFC 9207), an `error` parameter, or no `code`.
    #[error("authorization response rejected: {0}")]
    AuthorizationResponse(String),
    /// The client has no identity for this authorization server (no client ID, no registration
    /// endpoint, no client metadata document support).
    #[error("no client identity for {0}: configure a client ID or enable dynamic registration")]
    NoClient(String),
    /// An HTTP exchange failed.
    #[error("OAuth request to {url} failed: {source}")]
    Http {
        /// The endpoint.
        url: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
}

impl From<OAuthError> for AuthError {
    fn from(e: OAuthError) -> Self {
        AuthError::OAuth(Box::new(e))
    }
}

pub(super) fn err_discovery(msg: impl Into<String>) -> AuthError {
    OAuthError::Discovery(msg.into()).into()
}

pub(super) fn endpoint_error(
    endpoint: &'static str,
    status: StatusCode,
    body: &Value,
) -> OAuthError {
    OAuthError::Endpoint {
        endpoint,
        status: status.as_u16(),
        error: body
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("request failed")
            .to_owned(),
        description: body
            .get("error_description")
            .and_then(Value::as_str)
            .map(str::to_owned),
    }
}
