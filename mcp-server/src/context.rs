//! The per-request [`Context`] handed to tool, resource, prompt and completion handlers.

use std::sync::Arc;
use std::time::Duration;

use mcp_core::jsonrpc::{Notification, RequestId};
use mcp_core::types::{
    ClientCapabilities, CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams,
    ElicitResult, Implementation, InputRequest, ListRootsResult, LoggingLevel,
    LoggingMessageNotificationParams, Meta, ProgressNotificationParams, ProgressToken, methods,
};
use mcp_core::version::ProtocolVersion;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::BoxFuture;
use crate::auth::{AuthContext, Delegation};
use crate::client_state::ClientState;
use crate::error::ClientRequestError;
use crate::mrtr::InputRound;

/// How a request's messages reach the client: the POST's event stream, stdout, ...
///
/// Implemented by the transports.
pub(crate) trait Peer: Send + Sync {
    /// Sends a notification that belongs to the current request (progress, log).
    fn notify(&self, notification: Notification);

    /// Sends a request to the client and waits for its answer.
    fn request(
        &self,
        method: &'static str,
        params: Value,
    ) -> BoxFuture<'_, Result<Value, ClientRequestError>>;

    /// Asks the transport to end the current event stream now while the handler goes on
    /// (SEP-1699 polling); the client resumes with `Last-Event-ID`. A no-op where streams cannot
    /// be resumed.
    fn close_stream(&self) {}
}

/// Parts of the HTTP request a handler may look at. `Debug` prints the values of credential
/// headers (`Authorization`, `Proxy-Authorization`, `Cookie`, `Set-Cookie`, `DPoP`,
/// `X-API-Key`, names that look like credentials, values marked sensitive) as `<redacted>`.
#[derive(Default)]
pub struct HttpRequestParts {
    /// The request's headers. On a protected endpoint, without the credential the
    /// authorization layer consumed (`Authorization`, `DPoP`, the API-key header): tools never
    /// see the caller's secret, and call upstream APIs with
    /// [`Context::upstream_token`](crate::Context::upstream_token) instead of passing it on.
    pub headers: http::HeaderMap,
    /// The request's URI.
    pub uri: http::Uri,
    /// Extensions set by middleware in front of the MCP endpoint (e.g. authentication).
    pub extensions: http::Extensions,
}

/// Headers whose values are credentials, whatever the request: never printed.
const SECRET_HEADERS: [&str; 6] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "dpop",
    "x-api-key",
];

/// Fragments of header names that usually carry credentials (a custom API-key header such as
/// `X-Acme-Api-Key`, `X-Auth-Token`, `X-Client-Secret`): redacted too, since a log line cannot
/// know which custom header a deployment uses.
const SECRET_NAME_PARTS: [&str; 6] = ["auth", "token", "secret", "api-key", "apikey", "password"];

/// Whether `Debug` output must hide this header's value: a known credential header, a name that
/// looks like one, or a value the `http` crate marks sensitive.
fn is_secret_header(name: &http::HeaderName, value: &http::HeaderValue) -> bool {
    let name = name.as_str();
    value.is_sensitive()
        || SECRET_HEADERS.contains(&name)
        || SECRET_NAME_PARTS.iter().any(|part| name.contains(part))
}

/// A header map whose credential values print as `<redacted>`.
struct RedactedHeaders<'a>(&'a http::HeaderMap);

impl std::fmt::Debug for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in self.0 {
            if is_secret_header(name, value) {
                map.entry(name, &format_args!("<redacted>"));
            } else {
                map.entry(name, value);
            }
        }
        map.finish()
    }
}

impl std::fmt::Debug for HttpRequestParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRequestParts")
            .field("headers", &RedactedHeaders(&self.headers))
            .field("uri", &self.uri)
            .field("extensions", &self.extensions)
            .finish()
    }
}

pub(crate) struct ContextInner {
    pub request_id: RequestId,
    pub meta: Option<Meta>,
    pub version: ProtocolVersion,
    pub cancellation: CancellationToken,
    pub peer: Arc<dyn Peer>,
    pub client: Option<Arc<ClientState>>,
    pub http: Option<HttpRequestParts>,
    pub request_timeout: Option<Duration>,
    /// Modern requests that may answer `input_required` (tools/call, prompts/get,
    /// resources/read on 2026-07-28).
    pub round: Option<Arc<InputRound>>,
    /// The caller, when the endpoint is protected.
    pub auth: Option<Arc<AuthContext>>,
    /// The caller's token and the server's exchanger, when the caller's token can be exchanged
    /// for upstream calls (RFC 8693).
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    pub delegation: Option<Delegation>,
}

/// What a handler knows about the request it serves, and how it talks back to the client.
///
/// Cheap to clone. Progress and log messages go out before the final result on the same
/// response stream; [`elicit`](Context::elicit), [`sample`](Context::sample) and
/// [`list_roots`](Context::list_roots) send requests to the client and wait for the answers.
#[derive(Clone)]
pub struct Context {
    inner: Arc<ContextInner>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("request_id", &self.inner.request_id)
            .field("version", &self.inner.version)
            .finish_non_exhaustive()
    }
}

impl Context {
    pub(crate) fn new(inner: ContextInner) -> Self {
        Context {
            inner: Arc::new(inner),
        }
    }

    /// The JSON-RPC id of the request.
    pub fn request_id(&self) -> &RequestId {
        &self.inner.request_id
    }

    /// The request's `_meta`, if it had one.
    pub fn meta(&self) -> Option<&Meta> {
        self.inner.meta.as_ref()
    }

    /// The progress token the client attached, if any.
    pub fn progress_token(&self) -> Option<ProgressToken> {
        self.meta()
            .and_then(|m| m.get("progressToken"))
            .and_then(RequestId::from_value)
    }

    /// The protocol version this request is served under.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.inner.version
    }

    /// The capabilities the client declared.
    pub fn client_capabilities(&self) -> Option<&ClientCapabilities> {
        self.inner.client.as_deref().map(|c| &*c.capabilities)
    }

    /// The client's self-reported name and version (never use it for security decisions).
    pub fn client_info(&self) -> Option<&Implementation> {
        self.inner.client.as_deref().map(|c| &c.client_info)
    }

    pub(crate) fn client_state(&self) -> Option<&std::sync::Arc<ClientState>> {
        self.inner.client.as_ref()
    }

    /// Who is calling: subject, scopes, claims, client, credential. `None` when the endpoint is
    /// not protected (or over stdio).
    pub fn auth(&self) -> Option<&AuthContext> {
        self.inner.auth.as_deref()
    }

    /// An access token for an upstream API, on behalf of the caller: the caller's access token
    /// exchanged at the authorization server for one whose audience is the upstream (OAuth 2.0
    /// Token Exchange, RFC 8693), with this server as the actor. The caller's own token never
    /// leaves the server except to the authorization server that issued it, and no API returns
    /// it (AZ-13: never pass it through).
    ///
    /// Needs [`AuthorizationConfig::token_exchange`](crate::auth::AuthorizationConfig::token_exchange)
    /// and a caller authenticated with an access token; otherwise, and when the authorization
    /// server refuses or cannot be reached, a typed [`ExchangeError`](crate::auth::ExchangeError)
    /// that carries no token. Tokens are cached per caller token, target and scopes until
    /// shortly before they expire; identical concurrent exchanges share one call.
    ///
    /// ```no_run
    /// use mcp_server::auth::{ExchangeError, ExchangeRequest};
    /// use mcp_server::{Context, ToolDef, NoArgs};
    ///
    /// let tool = ToolDef::from_fn("upstream_whoami", |ctx: Context, _: NoArgs| async move {
    ///     let request = ExchangeRequest::resource("https://api.example.com").scope("read");
    ///     let token = ctx.upstream_token(request).await?;
    ///     let mut headers = http::HeaderMap::new();
    ///     headers.insert(http::header::AUTHORIZATION, token.authorization_header());
    ///     // ... send the upstream request with these headers
    ///     Ok::<_, ExchangeError>("called")
    /// });
    /// # let _ = tool;
    /// ```
    #[cfg(feature = "oauth")]
    pub async fn upstream_token(
        &self,
        request: crate::auth::ExchangeRequest,
    ) -> Result<crate::auth::UpstreamToken, crate::auth::ExchangeError> {
        crate::auth::upstream_token(self.auth(), self.inner.delegation.as_ref(), &request).await
    }

    /// The HTTP request behind this call, when served over HTTP.
    pub fn http(&self) -> Option<&HttpRequestParts> {
        self.inner.http.as_ref()
    }

    /// A token cancelled when the client cancels the request or goes away.
    pub fn cancellation(&self) -> &CancellationToken {
        &self.inner.cancellation
    }

    /// Whether the request has been cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancellation.is_cancelled()
    }

    /// Reports progress, when the client asked for it with a progress token (L-50). `progress`
    /// must increase from one call to the next.
    pub fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let Some(token) = self.progress_token() else {
            return;
        };
        let params = ProgressNotificationParams {
            progress_token: token,
            progress,
            total,
            message: message.map(str::to_owned),
            meta: None,
        };
        self.send(methods::NOTIFICATION_PROGRESS, &params);
    }

    /// Sends a log message to the client (`notifications/message`), if its level passes the
    /// level the client set. Never put secrets in `data`.
    pub fn log(&self, level: LoggingLevel, logger: Option<&str>, data: impl Into<Value>) {
        if let Some(client) = &self.inner.client {
            if !client.log_enabled(level) {
                return;
            }
        }
        let params = LoggingMessageNotificationParams {
            level,
            logger: logger.map(str::to_owned),
            data: data.into(),
            meta: None,
        };
        self.send(methods::NOTIFICATION_MESSAGE, &params);
    }

    fn send(&self, method: &'static str, params: &impl serde::Serialize) {
        if self.is_cancelled() {
            return;
        }
        if let Ok(params) = serde_json::to_value(params) {
            self.inner
                .peer
                .notify(Notification::new(method, Some(params)));
        }
    }

    /// Ends the current event stream now; the client reconnects with `Last-Event-ID` and gets
    /// the rest (SEP-1699 SSE polling, 2025-11-25 sessions only; a no-op elsewhere).
    pub fn close_sse_stream(&self) {
        self.inner.peer.close_stream();
    }

    /// Asks the user for input through the client (`elicitation/create`).
    ///
    /// Legacy era: a request to the client on the response stream. 2026-07-28: the first call
    /// returns [`ClientRequestError::InputRequired`] (propagate it with `?`); the framework
    /// answers `input_required`, the client retries with the answer, and the handler runs again,
    /// this time getting it. Name questions with [`elicit_as`](Self::elicit_as) when the client
    /// should see stable keys.
    pub async fn elicit(
        &self,
        params: ElicitRequestParams,
    ) -> Result<ElicitResult, ClientRequestError> {
        let key = self.auto_key("elicitation");
        self.elicit_as(&key, params).await
    }

    /// [`elicit`](Self::elicit) under a key of your choosing (the `inputRequests` key on the
    /// 2026-07-28 wire; ignored in the legacy era).
    pub async fn elicit_as(
        &self,
        key: &str,
        params: ElicitRequestParams,
    ) -> Result<ElicitResult, ClientRequestError> {
        self.require_capability("elicitation", |c| c.elicitation.is_some())?;
        self.client_request(key, methods::ELICITATION_CREATE, &params)
            .await
    }

    /// Asks the client's model for a completion (`sampling/createMessage`); see
    /// [`elicit`](Self::elicit) for how this works on each wire.
    pub async fn sample(
        &self,
        params: CreateMessageRequestParams,
    ) -> Result<CreateMessageResult, ClientRequestError> {
        let key = self.auto_key("sampling");
        self.sample_as(&key, params).await
    }

    /// [`sample`](Self::sample) under a key of your choosing.
    pub async fn sample_as(
        &self,
        key: &str,
        params: CreateMessageRequestParams,
    ) -> Result<CreateMessageResult, ClientRequestError> {
        self.require_capability("sampling", |c| c.sampling.is_some())?;
        self.client_request(key, methods::SAMPLING_CREATE_MESSAGE, &params)
            .await
    }

    /// Asks the client for its roots (`roots/list`); see [`elicit`](Self::elicit).
    pub async fn list_roots(&self) -> Result<ListRootsResult, ClientRequestError> {
        let key = self.auto_key("roots");
        self.list_roots_as(&key).await
    }

    /// [`list_roots`](Self::list_roots) under a key of your choosing.
    pub async fn list_roots_as(&self, key: &str) -> Result<ListRootsResult, ClientRequestError> {
        self.require_capability("roots", |c| c.roots.is_some())?;
        self.client_request(key, methods::ROOTS_LIST, &serde_json::json!({}))
            .await
    }

    fn auto_key(&self, kind: &str) -> String {
        match &self.inner.round {
            Some(round) => round.auto_key(kind),
            None => String::new(),
        }
    }

    fn require_capability(
        &self,
        name: &'static str,
        has: impl Fn(&ClientCapabilities) -> bool,
    ) -> Result<(), ClientRequestError> {
        match self.client_capabilities() {
            Some(caps) if has(caps) => Ok(()),
            Some(_) => {
                // 2026-07-28: the request fails with -32021 naming the capability (T-39).
                if let Some(round) = &self.inner.round {
                    round.require(name);
                }
                Err(ClientRequestError::CapabilityMissing(name))
            }
            None => Err(ClientRequestError::NotSupported),
        }
    }

    async fn client_request<T: DeserializeOwned>(
        &self,
        key: &str,
        method: &'static str,
        params: &impl serde::Serialize,
    ) -> Result<T, ClientRequestError> {
        let params = serde_json::to_value(params)
            .map_err(|e| ClientRequestError::InvalidResponse(e.to_string()))?;
        if let Some(round) = &self.inner.round {
            // An answer from this round's retry or an earlier one; a malformed answer is asked
            // again (L-77).
            if let Some(answer) = round.answer(key) {
                if let Ok(v) = serde_json::from_value(answer.clone()) {
                    return Ok(v);
                }
            }
            let params = match params {
                Value::Object(m) => Some(m),
                _ => None,
            };
            let method = method.to_owned();
            round.ask(key.to_owned(), InputRequest { method, params });
            return Err(ClientRequestError::InputRequired);
        }
        let call = self.inner.peer.request(method, params);
        let answer = tokio::select! {
            answer = call => answer?,
            () = self.inner.cancellation.cancelled() => return Err(ClientRequestError::Cancelled),
            () = sleep_or_forever(self.inner.request_timeout) => return Err(ClientRequestError::Timeout),
        };
        serde_json::from_value(answer)
            .map_err(|e| ClientRequestError::InvalidResponse(e.to_string()))
    }
}

async fn sleep_or_forever(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderName, HeaderValue};

    /// Finding 7: `Debug` of the request parts shows no credential, only that there was one.
    #[test]
    fn debug_output_redacts_every_credential_header() {
        let mut parts = HttpRequestParts::default();
        let secrets = [
            ("authorization", "Bearer SECRET-bearer-1"),
            ("proxy-authorization", "Basic SECRET-proxy-2"),
            ("cookie", "session=SECRET-cookie-3"),
            ("set-cookie", "id=SECRET-set-cookie-4"),
            ("dpop", "eyJ.SECRET-dpop-5.sig"),
            ("x-api-key", "mcp_SECRET-key-6"),
            ("x-acme-api-key", "SECRET-custom-key-7"),
            ("x-auth-token", "SECRET-token-8"),
            ("x-client-secret", "SECRET-client-9"),
        ];
        for (name, value) in secrets {
            parts.headers.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        let mut marked = HeaderValue::from_static("SECRET-marked-10");
        marked.set_sensitive(true);
        parts
            .headers
            .append(HeaderName::from_static("x-custom"), marked);
        parts.headers.append(
            HeaderName::from_static("mcp-protocol-version"),
            HeaderValue::from_static("2025-11-25"),
        );
        let printed = format!("{parts:?}");
        assert!(!printed.contains("SECRET"), "{printed}");
        assert_eq!(printed.matches("<redacted>").count(), 10, "{printed}");
        assert!(
            printed.contains("2025-11-25"),
            "other headers still show: {printed}"
        );
        assert!(
            printed.contains("\"authorization\": <redacted>"),
            "{printed}"
        );
        let pretty = format!("{parts:#?}");
        assert!(!pretty.contains("SECRET"), "{pretty}");
    }
}
