//! [`TokenValidator`]: turns an access token into an [`AuthContext`], or says why it cannot.

use super::context::AuthContext;
use crate::BoxFuture;
use crate::store::NotReady;

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The token is invalid: bad signature, wrong issuer or audience, expired, unknown key...
    /// Always 401 `invalid_token`; the message goes into `error_description` (never the token).
    #[error("{0}")]
    Invalid(String),
    /// The token could not be checked because the authorization server (or its keys) cannot be
    /// reached and nothing usable is cached: 503, or a request with no scopes under `fail_open`.
    #[error("authorization server unavailable: {0}")]
    Unavailable(String),
    /// Too many checks in flight (e.g. introspection calls over their bound): 503 with
    /// `Retry-After`, never let in by `fail_open` (the token was not checked, and a flood must
    /// not open the door).
    #[error("too many token checks in flight: {0}")]
    Busy(String),
}

/// Validates access tokens. [`JwtValidator`](super::JwtValidator) is the built-in one; implement
/// this for introspection (RFC 7662) or opaque tokens.
pub trait TokenValidator: Send + Sync + 'static {
    /// Checks `token`, issued for `resource` (the exact public URL of the MCP endpoint, the
    /// audience a token must name unless the validator was given its own), and describes its
    /// holder.
    fn validate<'a>(
        &'a self,
        token: &'a str,
        resource: &'a str,
    ) -> BoxFuture<'a, Result<AuthContext, TokenError>>;

    /// The issuer whose tokens this validator accepts, if it knows it: published as the
    /// authorization server when the configuration names none.
    fn issuer(&self) -> Option<&str> {
        None
    }

    /// Whether this validator can check tokens now, for the HTTP transport's readiness
    /// endpoint (`/readyz`): `Err` with a short reason, free of secrets (no URL, no token),
    /// when it cannot. [`JwtValidator`](super::JwtValidator) is ready while it holds usable
    /// signing keys, and otherwise tries one key fetch (the same single-flight fetch, cooldown
    /// and `http_timeout` as token checks); the introspection validator is always ready (the
    /// endpoint is not called with a made-up token). The endpoint calls it at most about once
    /// a second, bounded by `HttpConfig::readiness_timeout`. Default: ready.
    fn readiness(&self) -> BoxFuture<'_, Result<(), NotReady>> {
        Box::pin(std::future::ready(Ok(())))
    }
}
