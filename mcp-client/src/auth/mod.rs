//! Authentication strategies behind one trait, [`Auth`].
//!
//! The client calls a strategy at three points of every HTTP exchange (POSTs, the GET stream,
//! resumption, `DELETE`):
//!
//! 1. [`authorize`](Auth::authorize) before each attempt: it sees the method and the URL and adds
//!    headers. It is async, so a strategy can fetch or refresh a token first, and it runs again
//!    for a retry, so a proof bound to one request (DPoP, RFC 9449) is minted fresh each time.
//! 2. [`observe`](Auth::observe) after every response, whatever its status: a strategy keeps
//!    what the server hands out on the way (a rotated `DPoP-Nonce`).
//! 3. [`on_rejection`](Auth::on_rejection) when the server answers 401 or 403: it gets the parsed
//!    `WWW-Authenticate` challenges and decides whether the request is worth sending again
//!    (a `use_dpop_nonce` error, an expired token to refresh, a step-up to more scopes). The client
//!    retries at most [`MAX_AUTH_RETRIES`] times; after that, or when the strategy declines, the
//!    call fails with [`Error::Unauthorized`](crate::Error::Unauthorized) or
//!    [`Error::Forbidden`](crate::Error::Forbidden).
//!
//! Static credentials ([`BearerAuth`], [`ApiKeyAuth`], [`BasicAuth`], [`NoAuth`]) only use the
//! first point.
//!
//! Whatever the strategy, the client sends what it added only to the configured server URL (no
//! redirect is followed) and, over plain `http`, only to a loopback host unless
//! [`ClientBuilder::dangerously_allow_http`](crate::ClientBuilder::dangerously_allow_http).
//! The OAuth strategies ([`ClientCredentialsAuth`], [`AuthorizationCodeAuth`],
//! [`JwtBearerAuth`]) pin pre-registered credentials to the issuer named with them:
//!
//! ```
//! use mcp_client::auth::{AuthorizationCodeAuth, ClientCredentialsAuth, LoopbackRedirect};
//!
//! # async fn run() -> Result<(), mcp_client::auth::AuthError> {
//! let service = ClientCredentialsAuth::new("https://auth.example.com", "svc", "s3cret");
//! let redirect = LoopbackRedirect::bind(0).await?;
//! let app = AuthorizationCodeAuth::new(redirect.redirect_uri(), redirect)
//!     .client("https://auth.example.com", "app", None);
//! # Ok(()) }
//! ```

mod credentials;
mod dpop;
mod jose;
mod oauth;

use std::fmt;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url};

pub use credentials::{ApiKeyAuth, ApiKeyPlacement, BasicAuth, BearerAuth, NoAuth};
pub use dpop::DpopAuth;
pub use jose::DpopKey;
pub use oauth::{
    AssertionContext, AssertionProvider, AuthorizationCodeAuth, ClientCredentialsAuth,
    JwtBearerAuth, LoopbackRedirect, OAuthError, RedirectHandler, TokenEndpointAuth,
    headless_redirect, no_redirect_client,
};

use crate::BoxFuture;
use crate::challenge::Challenge;

/// How many times one request may be re-sent because a strategy asked for it.
pub const MAX_AUTH_RETRIES: u32 = 3;

/// An outgoing HTTP request, as a strategy sees it: the method and URL it will be sent to, and
/// the headers it may add to.
#[derive(Debug, Clone)]
pub struct AuthRequest {
    method: Method,
    url: Url,
    headers: HeaderMap,
    retries: u32,
}

impl AuthRequest {
    /// A request of `method` to `url` carrying `headers`.
    pub fn new(method: Method, url: Url, headers: HeaderMap) -> Self {
        AuthRequest {
            method,
            url,
            headers,
            retries: 0,
        }
    }

    /// Marks this as the `retries`-th retry of the same request.
    #[must_use]
    pub fn with_retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// The HTTP method (DPoP's `htm`).
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The target URL (DPoP's `htu`, after removing query and fragment).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// How many times this request was already sent and refused (0 on the first attempt).
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// The headers so far.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The headers, to add to.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// Sets a header to a secret value, marked sensitive so that it is never logged.
    pub fn set_secret(&mut self, name: HeaderName, value: &str) -> Result<(), AuthError> {
        let mut v = HeaderValue::from_str(value).map_err(|_| AuthError::InvalidHeaderValue {
            header: name.as_str().to_owned(),
        })?;
        v.set_sensitive(true);
        self.headers.insert(name, v);
        Ok(())
    }

    /// Sets `Authorization: <scheme> <credentials>`, marked sensitive.
    pub fn set_authorization(&mut self, scheme: &str, credentials: &str) -> Result<(), AuthError> {
        self.set_secret(AUTHORIZATION, &format!("{scheme} {credentials}"))
    }

    /// The headers, with whatever the strategy added.
    pub fn into_headers(self) -> HeaderMap {
        self.headers
    }
}

/// A response to an authorized request: what [`Auth::observe`] and [`Auth::on_rejection`] see.
#[derive(Debug, Clone, Copy)]
pub struct AuthResponse<'a> {
    method: &'a Method,
    url: &'a Url,
    status: StatusCode,
    headers: &'a HeaderMap,
    challenges: &'a [Challenge],
    retries: u32,
}

impl<'a> AuthResponse<'a> {
    /// A response to `method url` (`challenges` are those of its `WWW-Authenticate` headers).
    pub fn new(
        method: &'a Method,
        url: &'a Url,
        status: StatusCode,
        headers: &'a HeaderMap,
        challenges: &'a [Challenge],
        retries: u32,
    ) -> Self {
        AuthResponse {
            method,
            url,
            status,
            headers,
            challenges,
            retries,
        }
    }

    /// The method of the request.
    pub fn method(&self) -> &Method {
        self.method
    }

    /// The URL of the request.
    pub fn url(&self) -> &Url {
        self.url
    }

    /// The status (401 or 403 for [`Auth::on_rejection`]).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        self.headers
    }

    /// The parsed `WWW-Authenticate` challenges (empty when there were none).
    pub fn challenges(&self) -> &[Challenge] {
        self.challenges
    }

    /// The first challenge of `scheme` (case-insensitive).
    pub fn challenge(&self, scheme: &str) -> Option<&Challenge> {
        self.challenges.iter().find(|c| c.is_scheme(scheme))
    }

    /// The `DPoP-Nonce` header (RFC 9449 §8), if the server sent one.
    pub fn dpop_nonce(&self) -> Option<&str> {
        self.headers.get("dpop-nonce").and_then(|v| v.to_str().ok())
    }

    /// How many times the request had already been retried when this response came.
    pub fn retries(&self) -> u32 {
        self.retries
    }
}

/// What to do after a 401 or 403.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthDecision {
    /// Give up: the call fails with `Unauthorized` or `Forbidden`.
    Fail,
    /// Send the request again; [`Auth::authorize`] runs again first.
    Retry,
}

/// Why a strategy could not authorize a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// A credential cannot be put in a header (control characters, non-ASCII).
    #[error("the credential cannot be sent in the {header} header")]
    InvalidHeaderValue {
        /// The header it was meant for.
        header: String,
    },
    /// A configured header name is not a valid HTTP header name.
    #[error("{0:?} is not a valid header name")]
    InvalidHeaderName(String),
    /// A key could not be generated, read or used.
    #[error("crypto: {0}")]
    Crypto(&'static str),
    /// An OAuth flow (discovery, registration, authorization, token request) failed.
    #[error(transparent)]
    OAuth(Box<OAuthError>),
    /// A strategy of your own failed.
    #[error("authentication failed: {0}")]
    Strategy(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A way of authenticating to the server. See the [module docs](self) for when each method runs.
///
/// A strategy of your own:
///
/// ```
/// use mcp_client::auth::{Auth, AuthError, AuthRequest};
/// use mcp_client::BoxFuture;
///
/// struct SessionCookie(String);
///
/// impl Auth for SessionCookie {
///     fn authorize<'a>(&'a self, request: &'a mut AuthRequest) -> BoxFuture<'a, Result<(), AuthError>> {
///         let result = request.set_secret(reqwest::header::COOKIE, &format!("session={}", self.0));
///         Box::pin(std::future::ready(result))
///     }
/// }
/// ```
pub trait Auth: Send + Sync + 'static {
    /// Adds credentials to a request about to be sent (every attempt, retries included).
    fn authorize<'a>(
        &'a self,
        request: &'a mut AuthRequest,
    ) -> BoxFuture<'a, Result<(), AuthError>>;

    /// Sees every response to an authorized request. The default does nothing.
    fn observe(&self, response: &AuthResponse<'_>) {
        let _ = response;
    }

    /// The server answered 401 or 403: retry, or give up. The default gives up.
    fn on_rejection<'a>(
        &'a self,
        response: &'a AuthResponse<'_>,
    ) -> BoxFuture<'a, Result<AuthDecision, AuthError>> {
        let _ = response;
        Box::pin(std::future::ready(Ok(AuthDecision::Fail)))
    }
}

impl<A: Auth + ?Sized> Auth for std::sync::Arc<A> {
    fn authorize<'a>(
        &'a self,
        request: &'a mut AuthRequest,
    ) -> BoxFuture<'a, Result<(), AuthError>> {
        (**self).authorize(request)
    }

    fn observe(&self, response: &AuthResponse<'_>) {
        (**self).observe(response);
    }

    fn on_rejection<'a>(
        &'a self,
        response: &'a AuthResponse<'_>,
    ) -> BoxFuture<'a, Result<AuthDecision, AuthError>> {
        (**self).on_rejection(response)
    }
}

impl<A: Auth + ?Sized> Auth for Box<A> {
    fn authorize<'a>(
        &'a self,
        request: &'a mut AuthRequest,
    ) -> BoxFuture<'a, Result<(), AuthError>> {
        (**self).authorize(request)
    }

    fn observe(&self, response: &AuthResponse<'_>) {
        (**self).observe(response);
    }

    fn on_rejection<'a>(
        &'a self,
        response: &'a AuthResponse<'_>,
    ) -> BoxFuture<'a, Result<AuthDecision, AuthError>> {
        (**self).on_rejection(response)
    }
}

/// Shows a secret as its length only.
pub(crate) struct Redacted<'a>(pub &'a str);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted, {} bytes>", self.0.len())
    }
}
