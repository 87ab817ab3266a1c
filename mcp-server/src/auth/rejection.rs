//! [`AuthRejection`]: why a request was refused before any handler ran, as a value. It renders
//! itself ([`IntoResponse`]) with the exact status, `WWW-Authenticate` challenges and short JSON
//! body the specs prescribe (AZ-08, AZ-09, AZ-14, BE-01..BE-06, DP-); it never holds a secret.

use axum::response::{IntoResponse, Response};
use http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderName, HeaderValue, StatusCode};

use super::challenge::{BearerError, Challenge};

/// `DPoP-Nonce`.
static DPOP_NONCE: HeaderName = HeaderName::from_static("dpop-nonce");

/// The family of a refusal, and so its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectionKind {
    /// 401 without an error code: no credentials came (AZ-09).
    MissingCredentials,
    /// 401: the credentials are invalid, expired, revoked, or the DPoP proof is (AZ-10, DP-).
    InvalidCredentials,
    /// 400 `invalid_request`: several credentials, an ambiguous workspace.
    InvalidRequest,
    /// 403 `insufficient_scope` with a challenge naming the scopes (AZ-14).
    InsufficientScope,
    /// 403 without a challenge: a key on the wrong surface, a role too low. Re-authenticating
    /// will not help.
    Forbidden,
    /// 404: a workspace the caller cannot see (the same as one that does not exist).
    NotFound,
    /// 500: the server is configured wrongly (a handler reads the caller on a route without an
    /// [`AuthLayer`](super::AuthLayer)). Never a reason to let the request in.
    Misconfigured,
    /// 503 with `Retry-After`: the authorization server, a store or a bounded check cannot
    /// answer now. Never a reason to let the request in (except [`Danger::FailOpen`](super::Danger::FailOpen)
    /// for an unreachable authorization server).
    Unavailable,
    /// 429 with `Retry-After`: too many failed authentications from this client address or
    /// with this credential ([`AuthFailureLimits`](super::AuthFailureLimits)). The credential
    /// was not checked.
    TooManyFailures,
}

/// What a refused credential counts against in the failure budgets
/// ([`AuthFailureLimits`](super::AuthFailureLimits)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counted {
    /// The client address only: the request was refused for something other than the
    /// credential itself (a malformed token, a bad DPoP proof for a token that may be valid).
    Address,
    /// The address and the credential: the credential itself is invalid (a forged, expired or
    /// revoked token, an unknown API key, a wrong password).
    AddressAndCredential,
}

/// Why a request was refused, ready to be sent: use it as an axum handler's error type
/// (`Result<_, AuthRejection>`), or call [`into_response`](IntoResponse::into_response).
#[derive(Debug, Clone)]
pub struct AuthRejection(Box<Rejection>);

/// What [`AuthRejection`] holds (boxed: refusals are the cold path, results stay small).
#[derive(Debug, Clone)]
struct Rejection {
    kind: RejectionKind,
    status: StatusCode,
    /// Machine-readable cause, as in audit events (`no_credentials`, `invalid_token`,
    /// `api_key_revoked`, ...).
    reason: &'static str,
    /// `error` of the JSON body.
    error: &'static str,
    description: String,
    /// Whether the body carries `reason` (API-key, Basic and JSON refusals do; OAuth challenges
    /// keep to the RFC 6750 members).
    reason_in_body: bool,
    challenges: Vec<Challenge>,
    retry_after: Option<u64>,
    dpop_nonce: Option<String>,
    /// Whether (and against what) this refusal counts as a failed authentication.
    counted: Option<Counted>,
}

impl AuthRejection {
    /// A 401/403/400 carrying `challenges` (the first decides the status and the body's `error`).
    pub(crate) fn challenge(reason: &'static str, challenges: Vec<Challenge>) -> Self {
        let first = challenges.first();
        let status = first.map_or(StatusCode::UNAUTHORIZED, Challenge::status);
        let code = first.and_then(Challenge::error_code);
        let kind = match code {
            None => RejectionKind::MissingCredentials,
            Some(BearerError::InvalidRequest) => RejectionKind::InvalidRequest,
            Some(BearerError::InsufficientScope) => RejectionKind::InsufficientScope,
            Some(_) => RejectionKind::InvalidCredentials,
        };
        AuthRejection(Box::new(Rejection {
            kind,
            status,
            reason,
            error: code.map_or("unauthorized", BearerError::as_str),
            description: first
                .and_then(Challenge::description)
                .unwrap_or("authorization required")
                .to_owned(),
            reason_in_body: false,
            challenges,
            retry_after: None,
            dpop_nonce: None,
            counted: None,
        }))
    }

    /// A refusal without a challenge: `{error, error_description, reason}`.
    pub(crate) fn plain(
        kind: RejectionKind,
        status: StatusCode,
        error: &'static str,
        reason: &'static str,
        description: impl Into<String>,
    ) -> Self {
        AuthRejection(Box::new(Rejection {
            kind,
            status,
            reason,
            error,
            description: description.into(),
            reason_in_body: true,
            challenges: Vec::new(),
            retry_after: None,
            dpop_nonce: None,
            counted: None,
        }))
    }

    /// 503 with `Retry-After`.
    pub(crate) fn unavailable(reason: &'static str, description: &str, retry_after: u64) -> Self {
        let mut r = Self::plain(
            RejectionKind::Unavailable,
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            reason,
            description,
        );
        r.0.reason_in_body = false;
        r.0.retry_after = Some(retry_after);
        r
    }

    /// 429 with `Retry-After`: the failure budget of the client address or of the credential
    /// is spent. The body says neither which nor anything of the credential.
    pub(crate) fn too_many_failures(reason: &'static str, retry_after: u64) -> Self {
        let mut r = Self::plain(
            RejectionKind::TooManyFailures,
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            reason,
            "too many failed authentication attempts; retry later",
        );
        r.0.reason_in_body = false;
        r.0.retry_after = Some(retry_after);
        r
    }

    /// Marks the refusal as a failed authentication, counted against `what`.
    #[must_use]
    pub(crate) fn counted(mut self, what: Counted) -> Self {
        self.0.counted = Some(what);
        self
    }

    /// Whether (and against what) the refusal counts as a failed authentication, once: the
    /// refusal no longer counts afterwards (it was charged).
    pub(crate) fn take_counted(&mut self) -> Option<Counted> {
        self.0.counted.take()
    }

    /// Puts `reason` into the body (API-key and Basic refusals).
    #[must_use]
    #[cfg_attr(not(feature = "builtin-auth"), allow(dead_code))]
    pub(crate) fn with_reason_in_body(mut self) -> Self {
        self.0.reason_in_body = true;
        self
    }

    /// Sets the body's description (when the challenge carries none, as Basic's).
    #[must_use]
    #[cfg_attr(not(feature = "builtin-auth"), allow(dead_code))]
    pub(crate) fn with_description(mut self, description: &str) -> Self {
        self.0.description = description.to_owned();
        self
    }

    /// Sends a fresh `DPoP-Nonce` with the refusal (RFC 9449 §8).
    #[must_use]
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    pub(crate) fn with_dpop_nonce(mut self, nonce: String) -> Self {
        self.0.dpop_nonce = Some(nonce);
        self
    }

    /// The family of the refusal.
    pub fn kind(&self) -> RejectionKind {
        self.0.kind
    }

    /// The HTTP status it answers with.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The machine-readable cause, as in audit events (`no_credentials`, `invalid_token`,
    /// `insufficient_scope`, `api_key_revoked`, `workspace_not_found`, ...).
    pub fn reason(&self) -> &'static str {
        self.0.reason
    }

    /// The human-readable description sent to the client (never a secret).
    pub fn description(&self) -> &str {
        &self.0.description
    }
}

impl std::fmt::Display for AuthRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.0.status, self.0.reason, self.0.description
        )
    }
}

impl std::error::Error for AuthRejection {}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        let r = *self.0;
        let mut body = serde_json::json!({
            "error": r.error,
            "error_description": r.description,
        });
        if r.reason_in_body {
            body["reason"] = serde_json::Value::from(r.reason);
        }
        let mut response = Response::new(axum::body::Body::from(body.to_string()));
        *response.status_mut() = r.status;
        let h = response.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for c in &r.challenges {
            if let Ok(v) = HeaderValue::from_str(&c.render()) {
                h.append(WWW_AUTHENTICATE, v);
            }
        }
        if let Some(v) = r
            .retry_after
            .and_then(|s| HeaderValue::from_str(&s.to_string()).ok())
        {
            h.insert(RETRY_AFTER, v);
        }
        if let Some(v) = r.dpop_nonce.and_then(|n| HeaderValue::from_str(&n).ok()) {
            h.insert(DPOP_NONCE.clone(), v);
        }
        response
    }
}
