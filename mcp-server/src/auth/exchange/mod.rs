//! Calling upstream APIs on behalf of the caller: OAuth 2.0 Token Exchange (RFC 8693).
//!
//! A tool that calls another protected API must not forward the caller's access token (it was
//! issued for this server, and the upstream must refuse it: AZ-13). It asks the authorization
//! server for a token of the upstream's own instead, in exchange for the caller's: the server
//! authenticates as a confidential client and sends the caller's token as `subject_token`; the
//! new token names the upstream as its audience, the caller as its subject, and this server as
//! the actor (`act`, RFC 8693 §4.1).
//!
//! - [`TokenExchangeConfig`]: the token endpoint, this server's client id and secret (HTTP Basic
//!   by default, or in the body), timeouts, cache and concurrency bounds;
//! - [`TokenExchanger`]: the client, given to
//!   [`AuthorizationConfig::token_exchange`](super::AuthorizationConfig::token_exchange);
//! - [`ExchangeRequest`]: the upstream (`resource` or `audience`) and the scopes a handler asks
//!   for, through [`Context::upstream_token`](crate::Context::upstream_token) (or
//!   [`Caller::upstream_token`](super::Caller::upstream_token) on the application's routes);
//! - [`UpstreamToken`]: what comes back, printable only as `<redacted>`, usable as an
//!   `Authorization` header value;
//! - [`ExchangeError`]: why there is none; it never carries a token.
//!
//! The caller's own token is kept by the framework in a type of its own, reachable only by the
//! exchange: no API returns it. Exchanged tokens are cached per (caller's token, target,
//! scopes, token type) until shortly before they expire, in a bounded cache; identical
//! concurrent exchanges share one call; at most
//! [`max_concurrent`](TokenExchangeConfig::max_concurrent) calls are in flight; each call ends
//! within [`http_timeout`](TokenExchangeConfig::http_timeout) (default 5 s).

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use tokio::sync::Semaphore;

use super::backend::{BodyError, ValidatorSetupError, read_bounded};
use super::context::{AuthContext, CredentialKind};
use super::flight::{FlightKey, FlightTicket, Flights};
use super::token_cache::token_digest;
use crate::form::form_urlencode;

mod cache;
mod config;

use cache::ExchangeCache;
pub use config::{
    ACCESS_TOKEN_TYPE, ClientAuthMethod, ClientSecret, TOKEN_EXCHANGE_GRANT, TokenExchangeConfig,
};

/// What a handler asks for: a token for one upstream, named by `resource` (its URL, RFC 8707)
/// or `audience` (a logical name the authorization server knows), with optional scopes.
///
/// ```
/// use mcp_server::auth::ExchangeRequest;
/// let request = ExchangeRequest::resource("https://api.example.com").scope("read write");
/// assert_eq!(request.target_resource(), Some("https://api.example.com"));
/// assert_eq!(request.scopes().len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExchangeRequest {
    resource: Option<String>,
    audience: Option<String>,
    scopes: BTreeSet<String>,
}

impl ExchangeRequest {
    /// A token for the upstream at `url` (sent as `resource`).
    pub fn resource(url: impl Into<String>) -> Self {
        ExchangeRequest {
            resource: Some(url.into()),
            audience: None,
            scopes: BTreeSet::new(),
        }
    }

    /// A token for the upstream the authorization server knows as `name` (sent as `audience`).
    pub fn audience(name: impl Into<String>) -> Self {
        ExchangeRequest {
            resource: None,
            audience: Some(name.into()),
            scopes: BTreeSet::new(),
        }
    }

    /// Names the upstream's `audience` too, beside its `resource`.
    #[must_use]
    pub fn with_audience(mut self, name: impl Into<String>) -> Self {
        self.audience = Some(name.into());
        self
    }

    /// Asks for scopes (space-separated; may be called several times).
    #[must_use]
    pub fn scope(mut self, scope: &str) -> Self {
        self.scopes
            .extend(scope.split_whitespace().map(str::to_owned));
        self
    }

    /// The `resource` asked for.
    pub fn target_resource(&self) -> Option<&str> {
        self.resource.as_deref()
    }

    /// The `audience` asked for.
    pub fn target_audience(&self) -> Option<&str> {
        self.audience.as_deref()
    }

    /// The scopes asked for.
    pub fn scopes(&self) -> &BTreeSet<String> {
        &self.scopes
    }

    /// The `scope` parameter, when scopes were asked for.
    fn scope_param(&self) -> Option<String> {
        (!self.scopes.is_empty()).then(|| {
            self.scopes
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        })
    }

    /// Why this request cannot be sent, if it cannot.
    fn check(&self) -> Result<(), ExchangeError> {
        let empty = |t: &Option<String>| t.as_deref().is_some_and(|t| t.trim().is_empty());
        if empty(&self.resource) || empty(&self.audience) {
            return Err(ExchangeError::InvalidRequest(
                "the upstream's resource or audience is empty",
            ));
        }
        Ok(())
    }
}

/// An access token for an upstream, from a token exchange. `Debug` shows its lifetime and
/// scope, never the token; there is no `Display`. Send it with
/// [`authorization_header`](Self::authorization_header).
///
/// ```no_run
/// use mcp_server::auth::{ExchangeError, ExchangeRequest};
/// use mcp_server::Context;
///
/// async fn upstream_call(ctx: &Context) -> Result<(), ExchangeError> {
///     let token = ctx
///         .upstream_token(ExchangeRequest::resource("https://api.example.com").scope("read"))
///         .await?;
///     let mut headers = http::HeaderMap::new();
///     headers.insert(http::header::AUTHORIZATION, token.authorization_header());
///     assert!(!format!("{token:?}").contains(token.expose()));
///     Ok(())
/// }
/// ```
#[derive(Clone)]
pub struct UpstreamToken(Arc<Issued>);

struct Issued {
    token: String,
    /// `Bearer <token>`, marked sensitive.
    header: http::HeaderValue,
    expires_at: Option<Instant>,
    scope: Option<String>,
    issued_token_type: String,
}

impl UpstreamToken {
    /// The `Authorization` header value: `Bearer <token>`, marked sensitive (the `http` crate
    /// and this crate's request `Debug` never print it).
    pub fn authorization_header(&self) -> http::HeaderValue {
        self.0.header.clone()
    }

    /// The token itself, for clients that take a string (e.g. `mcp_client::auth::BearerAuth`).
    /// Never log it.
    pub fn expose(&self) -> &str {
        &self.0.token
    }

    /// How long it remains valid, when the authorization server said (`expires_in`).
    pub fn expires_in(&self) -> Option<Duration> {
        self.0
            .expires_at
            .map(|at| at.saturating_duration_since(Instant::now()))
    }

    /// The scopes granted, when the authorization server said (`scope`); otherwise the ones
    /// asked for were granted (RFC 6749 §5.1).
    pub fn scope(&self) -> Option<&str> {
        self.0.scope.as_deref()
    }

    /// `issued_token_type`: always [`ACCESS_TOKEN_TYPE`].
    pub fn issued_token_type(&self) -> &str {
        &self.0.issued_token_type
    }
}

impl std::fmt::Debug for UpstreamToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamToken")
            .field("token", &format_args!("<redacted>"))
            .field("expires_in", &self.expires_in())
            .field("scope", &self.0.scope)
            .finish()
    }
}

/// Why no upstream token could be had. The text says what went wrong; it never carries a
/// token or a secret, and can be returned to the caller as a tool error.
///
/// ```
/// use mcp_server::auth::{CredentialKind, ExchangeError};
/// let e = ExchangeError::NotExchangeable { credential: CredentialKind::ApiKey };
/// assert_eq!(
///     e.to_string(),
///     "the caller authenticated with api_key credentials, not an OAuth access token: nothing to exchange"
/// );
/// let refused = ExchangeError::Refused {
///     error: "invalid_grant".into(),
///     description: None,
///     status: 400,
/// };
/// assert_eq!(
///     refused.to_string(),
///     "the authorization server refused the token exchange: invalid_grant"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExchangeError {
    /// No authenticated caller (an unprotected endpoint, stdio, or a request let in by
    /// `fail_open`): there is no token to exchange.
    #[error("there is no authenticated caller whose token could be exchanged")]
    NoCaller,
    /// The caller did not present an OAuth access token (an API key, HTTP Basic): only access
    /// tokens can be exchanged.
    #[error(
        "the caller authenticated with {} credentials, not an OAuth access token: nothing to exchange",
        .credential.as_str()
    )]
    NotExchangeable {
        /// How the caller authenticated.
        credential: CredentialKind,
    },
    /// This server has no token exchange configured
    /// ([`AuthorizationConfig::token_exchange`](super::AuthorizationConfig::token_exchange)).
    #[error("token exchange is not configured on this server")]
    NotConfigured,
    /// The request is unusable as written (an empty resource or audience).
    #[error("the token exchange request is invalid: {0}")]
    InvalidRequest(&'static str),
    /// The authorization server refused the exchange with an OAuth error (`invalid_grant`: the
    /// caller's token is not acceptable; `invalid_target`: the upstream is unknown or not
    /// allowed; `invalid_scope`; `invalid_client`: this server's credentials are wrong ...).
    #[error("the authorization server refused the token exchange: {error}{}", .description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        /// The OAuth `error` code.
        error: String,
        /// Its `error_description`, when it had a short printable one that carries no token
        /// or secret.
        description: Option<String>,
        /// The HTTP status of the answer.
        status: u16,
    },
    /// The authorization server cannot be reached, timed out, failed (5xx) or asked to slow
    /// down (429).
    #[error("the authorization server is unavailable for token exchange: {0}")]
    Unavailable(String),
    /// Too many exchanges are in flight on this server.
    #[error("too many token exchanges are in progress")]
    Busy,
    /// The authorization server's answer is not a usable token exchange answer (not JSON, no
    /// `access_token`, another token type, too large ...).
    #[error("the authorization server's token exchange answer is unusable: {0}")]
    Malformed(String),
}

/// The caller's access token, as the authentication layer found it: kept by the framework for
/// the exchange alone. `Debug` prints `<redacted>`; nothing outside this module reads it.
#[derive(Clone)]
pub(crate) struct SubjectToken {
    token: Arc<str>,
    digest: [u8; 32],
}

impl SubjectToken {
    pub(crate) fn new(token: &str) -> Self {
        SubjectToken {
            token: Arc::from(token),
            digest: token_digest(token),
        }
    }
}

impl std::fmt::Debug for SubjectToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubjectToken(<redacted>)")
    }
}

/// What a request needs to exchange its caller's token: the exchanger of the server and the
/// token. Put in the request's extensions by the authentication layer, for callers that
/// presented an access token to a server with token exchange configured.
#[derive(Clone, Debug)]
pub(crate) struct Delegation {
    exchanger: Arc<TokenExchanger>,
    subject: SubjectToken,
}

impl Delegation {
    pub(crate) fn new(exchanger: Arc<TokenExchanger>, subject: SubjectToken) -> Self {
        Delegation { exchanger, subject }
    }

    /// A token for the upstream of `request`, on behalf of the caller.
    pub(crate) async fn exchange(
        &self,
        request: &ExchangeRequest,
    ) -> Result<UpstreamToken, ExchangeError> {
        self.exchanger.exchange(&self.subject, request).await
    }
}

/// A token for `request`'s upstream on behalf of `caller`, through `delegation` (the request's,
/// when it has one): what [`Context::upstream_token`](crate::Context::upstream_token) and
/// [`Caller::upstream_token`](super::Caller::upstream_token) do.
pub(crate) async fn upstream_token(
    caller: Option<&AuthContext>,
    delegation: Option<&Delegation>,
    request: &ExchangeRequest,
) -> Result<UpstreamToken, ExchangeError> {
    let Some(caller) = caller else {
        return Err(ExchangeError::NoCaller);
    };
    match (delegation, caller.credential) {
        (Some(d), _) => d.exchange(request).await,
        (None, CredentialKind::None) => Err(ExchangeError::NoCaller),
        (None, CredentialKind::Bearer | CredentialKind::Dpop) => Err(ExchangeError::NotConfigured),
        (None, credential) => Err(ExchangeError::NotExchangeable { credential }),
    }
}

/// The answer for `subject`, `request` (the requests of a flight share it).
type Exchanged = Result<UpstreamToken, ExchangeError>;

/// The client of RFC 8693 token exchange: this server, authenticated to the authorization
/// server, trades a caller's access token for one of an upstream's. Give it to
/// [`AuthorizationConfig::token_exchange`](super::AuthorizationConfig::token_exchange); handlers
/// use it through [`Context::upstream_token`](crate::Context::upstream_token).
///
/// ```no_run
/// use mcp_server::auth::{
///     AuthorizationConfig, ExchangeRequest, JwtValidator, JwtValidatorConfig,
///     TokenExchangeConfig, TokenExchanger,
/// };
/// use mcp_server::{Context, McpServer, NoArgs, ToolDef};
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let issuer = "https://auth.example.com";
/// let exchange = TokenExchanger::new(TokenExchangeConfig::new(
///     "https://auth.example.com/token",
///     "mcp-front",
///     std::env::var("MCP_EXCHANGE_CLIENT_SECRET")?,
/// ))?;
/// let server = McpServer::builder("front")
///     .authorization(
///         AuthorizationConfig::enabled()
///             .authorization_server(issuer)
///             .resource("https://mcp.example.com/mcp")
///             .validator(JwtValidator::new(JwtValidatorConfig::new(issuer, ""))?)
///             .token_exchange(exchange),
///     )
///     .tool(ToolDef::from_fn("reports", |ctx: Context, _: NoArgs| async move {
///         let request = ExchangeRequest::resource("https://reports.example.com").scope("read");
///         let token = ctx.upstream_token(request).await?;
///         // ... call https://reports.example.com with `token.authorization_header()`
///         # let _ = token;
///         Ok::<_, mcp_server::auth::ExchangeError>("done")
///     }))
///     .build()?;
/// # let _ = server;
/// # Ok(()) }
/// ```
pub struct TokenExchanger {
    config: TokenExchangeConfig,
    http: reqwest::Client,
    permits: Semaphore,
    cache: ExchangeCache,
    flights: Flights<Exchanged>,
}

impl std::fmt::Debug for TokenExchanger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenExchanger")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The longest lifetime taken from `expires_in`, in seconds.
const YEAR: u64 = 365 * 24 * 3600;

/// The most characters of an `error_description` kept.
const MAX_DESCRIPTION: usize = 200;

/// The cache and flight key of an exchange: the caller's token (by digest), the target, the
/// scopes; domain-separated and length-prefixed.
fn exchange_key(subject: &SubjectToken, request: &ExchangeRequest) -> FlightKey {
    let mut ctx = crate::crypto::Sha256::new();
    let scope = request.scope_param().unwrap_or_default();
    for part in [
        b"mcp-token-exchange:v1".as_slice(),
        subject.digest.as_slice(),
        request.resource.as_deref().unwrap_or("").as_bytes(),
        &[u8::from(request.resource.is_some())],
        request.audience.as_deref().unwrap_or("").as_bytes(),
        &[u8::from(request.audience.is_some())],
        scope.as_bytes(),
    ] {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part);
    }
    ctx.finish()
}

/// An OAuth `error` code as RFC 6749 §5.2 allows it (printable ASCII but `"` and `\`), short.
fn error_code(value: Option<&Value>) -> Option<String> {
    let code = value?.as_str()?;
    let ok = !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\');
    ok.then(|| code.to_owned())
}

impl TokenExchanger {
    /// An exchanger with its own HTTP client (`http_timeout` per exchange, no redirects
    /// followed).
    pub fn new(config: TokenExchangeConfig) -> Result<Self, ValidatorSetupError> {
        let http = super::backend::http_client(config.http_timeout)?;
        Ok(TokenExchanger {
            permits: Semaphore::new(config.max_concurrent.max(1)),
            cache: ExchangeCache {
                capacity: config.cache_capacity,
                inner: Mutex::new((HashMap::new(), VecDeque::new())),
            },
            flights: Mutex::new(HashMap::new()),
            config,
            http,
        })
    }

    /// The settings.
    pub fn config(&self) -> &TokenExchangeConfig {
        &self.config
    }

    /// A token for `request`'s upstream in exchange for `subject`: from the cache, else from
    /// one (shared, bounded) call.
    pub(crate) async fn exchange(
        &self,
        subject: &SubjectToken,
        request: &ExchangeRequest,
    ) -> Result<UpstreamToken, ExchangeError> {
        request.check()?;
        let key = exchange_key(subject, request);
        if let Some(token) = self.cache.get(&key) {
            return Ok(token);
        }
        let ticket = FlightTicket::join(&self.flights, key);
        let outcome = match ticket.cell() {
            Some(cell) => cell
                .get_or_init(|| self.exchange_bounded(key, subject, request))
                .await
                .clone(),
            None => self.exchange_bounded(key, subject, request).await,
        };
        drop(ticket);
        outcome
    }

    /// One exchange once a slot is free (`Busy` when none frees up within `max_wait`); a
    /// usable answer is cached.
    async fn exchange_bounded(
        &self,
        key: FlightKey,
        subject: &SubjectToken,
        request: &ExchangeRequest,
    ) -> Exchanged {
        // A flight that ended just before this one joined may have cached the answer.
        if let Some(token) = self.cache.get(&key) {
            return Ok(token);
        }
        let permit = tokio::time::timeout(self.config.max_wait, self.permits.acquire()).await;
        let Ok(Ok(_permit)) = permit else {
            tracing::warn!(target: "mcp::auth", "too many token exchanges in flight");
            return Err(ExchangeError::Busy);
        };
        use tracing::Instrument;
        let span = crate::telemetry::outgoing("oauth.token_exchange", None);
        // Bounded twice: the client's timeout, and this one around everything.
        let call = self.call(subject, request).instrument(span.clone());
        let outcome = match tokio::time::timeout(self.config.http_timeout, call).await {
            Ok(outcome) => outcome,
            Err(_) => Err(ExchangeError::Unavailable(
                "the token endpoint did not answer in time".to_owned(),
            )),
        };
        match &outcome {
            Ok(token) => {
                tracing::debug!(
                    target: "mcp::auth",
                    resource = request.resource.as_deref(),
                    audience = request.audience.as_deref(),
                    scope = token.scope(),
                    "token exchanged for an upstream"
                );
                let expires_in = token
                    .0
                    .expires_at
                    .map(|at| at.saturating_duration_since(Instant::now()));
                if let Some(expires_in) = expires_in {
                    let margin = self.config.refresh_before.min(expires_in / 2);
                    self.cache
                        .insert(key, Instant::now() + (expires_in - margin), token.clone());
                }
            }
            Err(e) => {
                crate::telemetry::failed(&span);
                tracing::warn!(
                    target: "mcp::auth",
                    resource = request.resource.as_deref(),
                    audience = request.audience.as_deref(),
                    error = %e,
                    "token exchange failed"
                );
            }
        }
        outcome
    }

    /// The form of an exchange.
    fn body(&self, subject: &SubjectToken, request: &ExchangeRequest) -> String {
        let mut body = form_urlencoded::Serializer::new(String::new());
        body.append_pair("grant_type", TOKEN_EXCHANGE_GRANT)
            .append_pair("subject_token", &subject.token)
            .append_pair("subject_token_type", ACCESS_TOKEN_TYPE)
            .append_pair("requested_token_type", ACCESS_TOKEN_TYPE);
        if let Some(resource) = &request.resource {
            body.append_pair("resource", resource);
        }
        if let Some(audience) = &request.audience {
            body.append_pair("audience", audience);
        }
        if let Some(scope) = request.scope_param() {
            body.append_pair("scope", &scope);
        }
        if self.config.client_auth == ClientAuthMethod::ClientSecretPost {
            body.append_pair("client_id", &self.config.client_id)
                .append_pair("client_secret", self.config.client_secret.expose());
        }
        body.finish()
    }

    /// One call to the token endpoint.
    async fn call(&self, subject: &SubjectToken, request: &ExchangeRequest) -> Exchanged {
        let unavailable = |why: &str| ExchangeError::Unavailable(why.to_owned());
        let mut call = self
            .http
            .post(&self.config.token_endpoint)
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(self.body(subject, request));
        if self.config.client_auth == ClientAuthMethod::ClientSecretBasic {
            // RFC 6749 §2.3.1: both parts form-urlencoded before Basic encoding.
            call = call.basic_auth(
                form_urlencode(&self.config.client_id),
                Some(form_urlencode(self.config.client_secret.expose())),
            );
        }
        let response = call
            .send()
            .await
            .map_err(|_| unavailable("the token endpoint cannot be reached"))?;
        let status = response.status();
        if status.is_server_error() {
            return Err(unavailable(&format!(
                "the token endpoint failed ({status})"
            )));
        }
        if status == http::StatusCode::TOO_MANY_REQUESTS {
            return Err(unavailable("the token endpoint asks to slow down (429)"));
        }
        let body = match read_bounded(response, self.config.max_response_bytes).await {
            Ok(body) => body,
            Err(BodyError::TooLarge(limit)) => {
                return Err(ExchangeError::Malformed(format!(
                    "the answer is larger than {limit} bytes"
                )));
            }
            Err(BodyError::Read(_)) => return Err(unavailable("the answer could not be read")),
        };
        let answer = match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(answer)) => Some(answer),
            _ => None,
        };
        if !status.is_success() {
            return Err(self.refusal(status, answer.as_ref(), subject));
        }
        let Some(answer) = answer else {
            return Err(ExchangeError::Malformed(
                "the answer is not a JSON object".to_owned(),
            ));
        };
        issued(&answer)
    }

    /// The refusal an error answer states. A description that could carry a secret (the
    /// caller's token, this server's client secret) or is not short printable text is dropped.
    fn refusal(
        &self,
        status: http::StatusCode,
        answer: Option<&Map<String, Value>>,
        subject: &SubjectToken,
    ) -> ExchangeError {
        let Some(error) = error_code(answer.and_then(|a| a.get("error"))) else {
            return ExchangeError::Malformed(format!(
                "the token endpoint refused with HTTP {} and no OAuth error",
                status.as_u16()
            ));
        };
        let description = answer
            .and_then(|a| a.get("error_description"))
            .and_then(Value::as_str)
            .filter(|d| {
                d.len() <= MAX_DESCRIPTION
                    && d.chars().all(|c| !c.is_control())
                    && !d.contains(&*subject.token)
                    && !d.contains(self.config.client_secret.expose())
            })
            .map(str::to_owned);
        ExchangeError::Refused {
            error,
            description,
            status: status.as_u16(),
        }
    }
}

/// The token of a successful answer (RFC 8693 §2.2.1): an access token usable as a bearer
/// token.
fn issued(answer: &Map<String, Value>) -> Exchanged {
    let malformed = |why: &str| Err(ExchangeError::Malformed(why.to_owned()));
    let Some(token) = answer.get("access_token").and_then(Value::as_str) else {
        return malformed("no access_token");
    };
    let issued_type = answer.get("issued_token_type").and_then(Value::as_str);
    if issued_type != Some(ACCESS_TOKEN_TYPE) {
        return malformed("the issued token is not an access token (issued_token_type)");
    }
    let token_type = answer.get("token_type").and_then(Value::as_str);
    if !token_type.is_some_and(|t| t.eq_ignore_ascii_case("bearer")) {
        return malformed("the issued token is not a bearer token (token_type)");
    }
    // RFC 6750 b64token: what an `Authorization: Bearer` header can carry.
    let usable = !token.is_empty()
        && token.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
        });
    let header = usable
        .then(|| http::HeaderValue::from_str(&format!("Bearer {token}")).ok())
        .flatten();
    let Some(mut header) = header else {
        return malformed("the access token has characters a bearer token cannot have");
    };
    header.set_sensitive(true);
    let expires_at = match answer.get("expires_in") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            // Beyond a year is as good as a year (and never overflows the clock).
            Some(secs) => Instant::now().checked_add(Duration::from_secs(secs.min(YEAR))),
            None => return malformed("expires_in is not a number of seconds"),
        },
    };
    Ok(UpstreamToken(Arc::new(Issued {
        token: token.to_owned(),
        header,
        expires_at,
        scope: answer
            .get("scope")
            .and_then(Value::as_str)
            .map(str::to_owned),
        issued_token_type: ACCESS_TOKEN_TYPE.to_owned(),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    fn good() -> Value {
        json!({"access_token": "abc.def-ghi", "issued_token_type": ACCESS_TOKEN_TYPE,
            "token_type": "Bearer", "expires_in": 300, "scope": "read"})
    }

    #[test]
    fn a_usable_answer_is_a_bearer_access_token() {
        let t = issued(&answer(good())).unwrap();
        assert_eq!(t.expose(), "abc.def-ghi");
        assert_eq!(t.scope(), Some("read"));
        assert!(t.expires_in().unwrap() <= Duration::from_secs(300));
        let h = t.authorization_header();
        assert!(h.is_sensitive());
        assert_eq!(h.to_str().unwrap(), "Bearer abc.def-ghi");
        let printed = format!("{t:?}");
        assert!(!printed.contains("abc.def"), "{printed}");

        let refused = |patch: Value| {
            let mut a = answer(good());
            for (k, v) in patch.as_object().unwrap() {
                if v.is_null() {
                    a.remove(k);
                } else {
                    a.insert(k.clone(), v.clone());
                }
            }
            issued(&a).unwrap_err()
        };
        for patch in [
            json!({"access_token": null}),
            json!({"access_token": 7}),
            json!({"access_token": "has space"}),
            json!({"access_token": ""}),
            json!({"issued_token_type": null}),
            json!({"issued_token_type": "urn:ietf:params:oauth:token-type:id_token"}),
            json!({"token_type": "N_A"}),
            json!({"token_type": "DPoP"}),
            json!({"expires_in": "soon"}),
        ] {
            assert!(
                matches!(refused(patch.clone()), ExchangeError::Malformed(_)),
                "{patch}"
            );
        }
    }

    #[test]
    fn keys_tell_callers_targets_and_scopes_apart() {
        let a = SubjectToken::new("token-a");
        let b = SubjectToken::new("token-b");
        let r = ExchangeRequest::resource("https://api.example");
        let k = exchange_key(&a, &r);
        assert_eq!(k, exchange_key(&a, &r.clone()));
        assert_eq!(
            k,
            exchange_key(
                &a,
                &ExchangeRequest::resource("https://api.example").scope("")
            )
        );
        assert_ne!(k, exchange_key(&b, &r));
        assert_ne!(k, exchange_key(&a, &r.clone().scope("read")));
        assert_ne!(
            k,
            exchange_key(&a, &ExchangeRequest::audience("https://api.example"))
        );
        assert_ne!(
            k,
            exchange_key(&a, &ExchangeRequest::resource("https://api2.example"))
        );
        // Scope order does not matter.
        assert_eq!(
            exchange_key(&a, &r.clone().scope("b a")),
            exchange_key(&a, &r.clone().scope("a").scope("b"))
        );
        assert_eq!(format!("{a:?}"), "SubjectToken(<redacted>)");
    }

    #[test]
    fn the_cache_stays_bounded_and_forgets_what_is_due() {
        let cache = ExchangeCache {
            capacity: 3,
            inner: Mutex::new((HashMap::new(), VecDeque::new())),
        };
        let token = issued(&answer(good())).unwrap();
        let later = Instant::now() + Duration::from_secs(60);
        for i in 0..50u8 {
            cache.insert([i; 32], later, token.clone());
            assert!(cache.len() <= 3);
        }
        assert!(cache.get(&[49; 32]).is_some());
        assert!(cache.get(&[0; 32]).is_none());
        cache.insert([99; 32], Instant::now(), token.clone());
        assert!(cache.get(&[99; 32]).is_none(), "due: not served");
    }

    #[test]
    fn error_codes_are_short_printable_tokens() {
        assert_eq!(
            error_code(Some(&json!("invalid_grant"))).as_deref(),
            Some("invalid_grant")
        );
        assert_eq!(error_code(Some(&json!("bad\"code"))), None);
        assert_eq!(error_code(Some(&json!("x".repeat(65)))), None);
        assert_eq!(error_code(Some(&json!(3))), None);
        assert_eq!(error_code(None), None);
    }

    #[test]
    fn empty_targets_are_refused_before_any_call() {
        assert!(matches!(
            ExchangeRequest::resource(" ").check(),
            Err(ExchangeError::InvalidRequest(_))
        ));
        assert!(ExchangeRequest::audience("api").check().is_ok());
    }

    /// A token endpoint on 127.0.0.1:0 answering `status` and `body`, keeping the last form
    /// and `Authorization` header it got.
    async fn endpoint(
        status: u16,
        body: String,
    ) -> (String, Arc<Mutex<Option<(String, Option<String>)>>>) {
        let got = Arc::new(Mutex::new(None));
        let keep = Arc::clone(&got);
        let handler = move |headers: http::HeaderMap, form: String| {
            let (keep, body) = (Arc::clone(&keep), body.clone());
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                *keep.lock().unwrap() = Some((form, auth));
                (http::StatusCode::from_u16(status).unwrap(), body)
            }
        };
        let app = axum::Router::new().route("/token", axum::routing::post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/token", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, got)
    }

    const CALLER: &str = "caller-token-SECRET-1234567890";

    async fn exchange_with(status: u16, body: Value) -> Exchanged {
        let (url, _) = endpoint(status, body.to_string()).await;
        let x =
            TokenExchanger::new(TokenExchangeConfig::new(url, "front", "front-secret")).unwrap();
        x.exchange(
            &SubjectToken::new(CALLER),
            &ExchangeRequest::resource("https://api.example"),
        )
        .await
    }

    #[tokio::test]
    async fn answers_map_to_typed_errors_without_tokens() {
        for status in [500, 502, 503, 429] {
            let r = exchange_with(status, json!({"error": "temporarily_unavailable"})).await;
            assert!(
                matches!(r, Err(ExchangeError::Unavailable(_))),
                "{status}: {r:?}"
            );
        }
        let r = exchange_with(
            400,
            json!({"error": "invalid_grant", "error_description": format!("bad token {CALLER}")}),
        )
        .await;
        assert_eq!(
            r.unwrap_err(),
            ExchangeError::Refused {
                error: "invalid_grant".into(),
                description: None,
                status: 400
            },
            "a description echoing the token is dropped"
        );
        let r = exchange_with(
            400,
            json!({"error": "invalid_target", "error_description": "unknown resource"}),
        )
        .await;
        assert_eq!(
            r.unwrap_err().to_string(),
            "the authorization server refused the token exchange: invalid_target (unknown resource)"
        );
        for (status, body) in [
            (403, json!("forbidden")),
            (200, json!(["not", "an", "object"])),
            (200, json!({"access_token": "t"})),
            (
                200,
                json!({"access_token": "x".repeat(2 * 1024 * 1024), "token_type": "Bearer"}),
            ),
        ] {
            let r = exchange_with(status, body).await;
            assert!(
                matches!(r, Err(ExchangeError::Malformed(_))),
                "{status}: {r:?}"
            );
        }
        let (url, got) = endpoint(200, good().to_string()).await;
        let basic = TokenExchanger::new(TokenExchangeConfig::new(&url, "front", "s p@ce")).unwrap();
        let subject = SubjectToken::new(CALLER);
        let request = ExchangeRequest::audience("reports").scope("read");
        assert!(basic.exchange(&subject, &request).await.is_ok());
        let (form, auth) = got.lock().unwrap().clone().unwrap();
        let form: HashMap<String, String> = form_urlencoded::parse(form.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(form["grant_type"], TOKEN_EXCHANGE_GRANT);
        assert_eq!(form["subject_token"], CALLER);
        assert_eq!(form["subject_token_type"], ACCESS_TOKEN_TYPE);
        assert_eq!(form["requested_token_type"], ACCESS_TOKEN_TYPE);
        assert_eq!(form["audience"], "reports");
        assert_eq!(form["scope"], "read");
        assert!(!form.contains_key("resource") && !form.contains_key("client_secret"));
        // RFC 6749 §2.3.1: form-urlencoded, then Basic.
        use base64::Engine;
        let expected = base64::engine::general_purpose::STANDARD.encode("front:s+p%40ce");
        assert_eq!(auth, Some(format!("Basic {expected}")));

        let post = TokenExchanger::new(
            TokenExchangeConfig::new(&url, "front", "front-secret").client_secret_post(),
        )
        .unwrap();
        assert!(post.exchange(&subject, &request).await.is_ok());
        let (form, auth) = got.lock().unwrap().clone().unwrap();
        assert!(auth.is_none());
        assert!(form.contains("client_id=front&client_secret=front-secret"));
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let c = TokenExchangeConfig::new("https://as/token", "front", "top-secret-value");
        assert!(!format!("{c:?}").contains("top-secret-value"));
        let x = TokenExchanger::new(c).unwrap();
        assert!(!format!("{x:?}").contains("top-secret-value"));
        let d = Delegation::new(Arc::new(x), SubjectToken::new("caller-token-value"));
        assert!(!format!("{d:?}").contains("caller-token-value"));
    }
}
