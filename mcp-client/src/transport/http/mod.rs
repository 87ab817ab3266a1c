//! Streamable HTTP, both eras on one wire: every exchange goes through [`HttpWire::send`] (the
//! [`Auth`] strategy, 401/403 with parsed challenges), responses are read as JSON or as an SSE
//! stream, and what the server sends besides the response goes to
//! [`Incoming`](crate::incoming::Incoming). The era-specific parts live in [`legacy`] (session
//! id, resumption, answering server requests, the GET stream) and [`modern`] (headers,
//! `subscriptions/listen`).

mod legacy;
mod modern;

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};

use bytes::Bytes;
use futures_util::StreamExt;
use mcp_core::jsonrpc::{Message, Notification, Payload, RequestId, parse_payload};
use mcp_core::types::methods;
use reqwest::header::{
    ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, LOCATION, WWW_AUTHENTICATE,
};
use reqwest::{Method, Response, StatusCode, Url};
use serde_json::Value;

use super::sse::{SseItem, SseReader};
use super::{Call, Framing};
use crate::auth::{Auth, AuthDecision, AuthRequest, AuthResponse, MAX_AUTH_RETRIES};
use crate::challenge::{Challenge, parse_www_authenticate};
use crate::error::{Error, Malformed, TransportError};
use crate::incoming::Incoming;
use crate::secure_url::{Verdict, has_userinfo, shown, verdict, warn_once};

pub(crate) use legacy::GetStream;

/// The largest JSON response body the client reads.
const MAX_BODY: usize = 64 * 1024 * 1024;
/// How much of an error body is kept for [`Error::HttpStatus`].
const ERROR_SNIPPET: usize = 1024;

static MCP_SESSION_ID: HeaderName = HeaderName::from_static("mcp-session-id");
static MCP_PROTOCOL_VERSION: HeaderName = HeaderName::from_static("mcp-protocol-version");
static LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");
/// W3C trace context (feature `otel`).
#[cfg(feature = "otel")]
const TRACEPARENT: &str = "traceparent";
#[cfg(feature = "otel")]
const TRACESTATE: &str = "tracestate";

const JSON: HeaderValue = HeaderValue::from_static("application/json");
const JSON_AND_SSE: HeaderValue = HeaderValue::from_static("application/json, text/event-stream");
const SSE: HeaderValue = HeaderValue::from_static("text/event-stream");

/// The legacy session: its id and how many sessions came before it.
#[derive(Debug, Default)]
struct SessionSlot {
    id: Option<String>,
    generation: u64,
}

struct Shared {
    client: reqwest::Client,
    url: Url,
    /// What the https rule says about `url` when a request carries credentials.
    url_verdict: Verdict,
    /// Whether the `dangerously_allow_http()` warning was logged.
    http_warned: AtomicBool,
    auth: Arc<dyn Auth>,
    incoming: Arc<Incoming>,
    session: RwLock<SessionSlot>,
    /// Woken when an `initialize` result replaces the session.
    session_changed: tokio::sync::Notify,
    get_stream: Mutex<Weak<GetStream>>,
}

/// The HTTP connection to one MCP endpoint. Cheap to clone.
#[derive(Clone)]
pub(crate) struct HttpWire {
    shared: Arc<Shared>,
}

/// What a response body holds, by its `Content-Type`.
enum BodyKind {
    Json,
    Sse,
    Unknown,
    Other(String),
}

fn body_kind(headers: &HeaderMap) -> BodyKind {
    let Some(ct) = headers.get(CONTENT_TYPE) else {
        return BodyKind::Unknown;
    };
    let text = String::from_utf8_lossy(ct.as_bytes());
    let media = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if media == "application/json" || media.ends_with("+json") {
        BodyKind::Json
    } else if media == "text/event-stream" {
        BodyKind::Sse
    } else {
        BodyKind::Other(text.into_owned())
    }
}

/// The error for a 3xx: its status and `Location` (at most 2048 characters of it).
fn redirected(response: &Response) -> Error {
    let location = response.headers().get(LOCATION).map(|v| {
        String::from_utf8_lossy(v.as_bytes())
            .chars()
            .take(2048)
            .collect()
    });
    Error::Redirected {
        status: response.status().as_u16(),
        location,
    }
}

/// The 401 or 403 error for a refusal the strategy did not overcome.
fn refusal(status: StatusCode, challenges: Vec<Challenge>) -> Error {
    if status == StatusCode::UNAUTHORIZED {
        return Error::Unauthorized { challenges };
    }
    let scoped = challenges
        .iter()
        .find(|c| c.error() == Some("insufficient_scope"))
        .or_else(|| challenges.iter().find(|c| c.scope().is_some()));
    let missing_scopes = scoped
        .map(|c| c.scopes().into_iter().map(str::to_owned).collect())
        .unwrap_or_default();
    Error::Forbidden {
        challenges,
        missing_scopes,
    }
}

/// Reads a whole body, failing beyond `limit` bytes.
async fn read_body(response: Response, limit: usize) -> Result<Vec<u8>, Error> {
    let mut body = Vec::new();
    let mut chunks = response.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(TransportError::Http)?;
        if body.len() + chunk.len() > limit {
            return Err(Malformed::TooLarge(limit).into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads at most `limit` bytes of a body, ignoring the rest and any error.
async fn read_prefix(response: Response, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    let mut chunks = response.bytes_stream();
    while let Some(Ok(chunk)) = chunks.next().await {
        let room = limit.saturating_sub(body.len());
        body.extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
        if body.len() >= limit {
            break;
        }
    }
    body
}

fn id_text(id: Option<&RequestId>) -> String {
    id.map_or_else(|| "null".to_owned(), ToString::to_string)
}

/// The result for request `id` in a JSON body.
fn parse_reply(body: &[u8], id: &RequestId) -> Result<Value, Error> {
    let message = match parse_payload(body) {
        Ok(Payload::Single(Ok(m))) => m,
        Ok(Payload::Single(Err(invalid))) => {
            return Err(Malformed::NotJsonRpc(invalid.reason.to_owned()).into());
        }
        Ok(Payload::Batch(items)) => items
            .into_iter()
            .flatten()
            .find(|m| match m {
                Message::Response(r) => r.id == *id,
                Message::Error(e) => e.id.as_ref() == Some(id),
                _ => false,
            })
            .ok_or(Malformed::NotAResponse("batch"))?,
        Err(e) => return Err(Malformed::NotJsonRpc(e.to_string()).into()),
    };
    match message {
        Message::Response(r) if r.id == *id => Ok(r.result),
        Message::Response(r) => Err(Malformed::WrongId {
            expected: id.to_string(),
            got: r.id.to_string(),
        }
        .into()),
        Message::Error(e) if e.id.as_ref().is_none_or(|got| got == id) => {
            Err(Error::Protocol(e.error))
        }
        Message::Error(e) => Err(Malformed::WrongId {
            expected: id.to_string(),
            got: id_text(e.id.as_ref()),
        }
        .into()),
        Message::Request(_) => Err(Malformed::NotAResponse("request").into()),
        Message::Notification(_) => Err(Malformed::NotAResponse("notification").into()),
    }
}

impl HttpWire {
    pub fn new(
        client: reqwest::Client,
        url: Url,
        auth: Arc<dyn Auth>,
        incoming: Arc<Incoming>,
        allow_http: bool,
    ) -> Self {
        HttpWire {
            shared: Arc::new(Shared {
                client,
                url_verdict: verdict(&url, allow_http),
                http_warned: AtomicBool::new(false),
                url,
                auth,
                incoming,
                session: RwLock::new(SessionSlot::default()),
                session_changed: tokio::sync::Notify::new(),
                get_stream: Mutex::new(Weak::new()),
            }),
        }
    }

    fn incoming(&self) -> &Arc<Incoming> {
        &self.shared.incoming
    }

    /// Refuses credentials over plain `http` to a host that is not loopback (unless allowed by
    /// name): `authorized` are the headers after the strategy ran, `plain` those before; a
    /// `user:password@` in the URL counts as credentials too.
    fn check_credentials(&self, plain: &HeaderMap, authorized: &HeaderMap) -> Result<(), Error> {
        let s = &self.shared;
        let credentials = plain != authorized || has_userinfo(&s.url);
        if s.url_verdict == Verdict::Secure || !credentials {
            return Ok(());
        }
        if s.url_verdict == Verdict::AllowedHttp {
            warn_once(&s.http_warned, "credentials", &s.url);
            return Ok(());
        }
        Err(Error::InsecureUrl { url: shown(&s.url) })
    }

    /// Sends one HTTP request with credentials. Redirects are not followed: a 3xx is
    /// [`Error::Redirected`]. A 401 or 403 goes to the strategy, which may ask for a retry;
    /// otherwise it becomes [`Error::Unauthorized`] / [`Error::Forbidden`].
    async fn send(
        &self,
        method: Method,
        headers: HeaderMap,
        body: Option<Bytes>,
    ) -> Result<Response, Error> {
        let s = &self.shared;
        let mut retries = 0;
        loop {
            let mut request = AuthRequest::new(method.clone(), s.url.clone(), headers.clone())
                .with_retries(retries);
            s.auth.authorize(&mut request).await?;
            self.check_credentials(&headers, request.headers())?;
            let mut builder = s
                .client
                .request(method.clone(), s.url.clone())
                .headers(request.into_headers());
            if let Some(b) = &body {
                builder = builder.body(b.clone());
            }
            let response = builder.send().await.map_err(TransportError::Http)?;
            let status = response.status();
            if status.is_redirection() {
                return Err(redirected(&response));
            }
            let refused = status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN;
            let challenges = if refused {
                let values: Vec<String> = response
                    .headers()
                    .get_all(WWW_AUTHENTICATE)
                    .iter()
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .collect();
                parse_www_authenticate(values.iter().map(String::as_str))
            } else {
                Vec::new()
            };
            let view = AuthResponse::new(
                &method,
                &s.url,
                status,
                response.headers(),
                &challenges,
                retries,
            );
            s.auth.observe(&view);
            if !refused {
                return Ok(response);
            }
            if retries < MAX_AUTH_RETRIES
                && s.auth.on_rejection(&view).await? == AuthDecision::Retry
            {
                retries += 1;
                continue;
            }
            return Err(refusal(status, challenges));
        }
    }

    /// The headers of a POST, with the era's own.
    fn post_headers(
        &self,
        framing: Framing,
        method: &str,
        params: Option<&Value>,
        param_headers: &[(String, String)],
    ) -> Result<(HeaderMap, bool), Error> {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, JSON);
        headers.insert(ACCEPT, JSON_AND_SSE);
        // The trace context of `_meta`, for HTTP-level instrumentation (proxies, the server's
        // HTTP span) too.
        #[cfg(feature = "otel")]
        if let Some(meta) = params.and_then(|p| p.get("_meta")) {
            for key in [TRACEPARENT, TRACESTATE] {
                let value = meta.get(key).and_then(Value::as_str);
                if let Some(v) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
                    headers.insert(key, v);
                }
            }
        }
        let sent_session = match framing {
            Framing::Modern(version) => {
                modern::add_headers(&mut headers, version, method, params, param_headers)?;
                false
            }
            Framing::Legacy(version) => {
                let initialize = method == methods::INITIALIZE;
                self.add_legacy_headers(&mut headers, version, initialize)
            }
        };
        Ok((headers, sent_session))
    }

    /// Sends a request and reads its result, from JSON or from an SSE stream.
    pub async fn call(&self, call: Call) -> Result<Value, Error> {
        let Call {
            request,
            framing,
            param_headers,
        } = call;
        let (headers, sent_session) = self.post_headers(
            framing,
            &request.method,
            request.params.as_ref(),
            &param_headers,
        )?;
        let body = serde_json::to_vec(&request).map_err(|_| Error::InvalidArguments {
            what: "the request",
        })?;
        let response = self
            .send(Method::POST, headers, Some(Bytes::from(body)))
            .await?;
        if request.method == methods::INITIALIZE && response.status().is_success() {
            self.adopt_session(response.headers());
        }
        self.reply(response, &request.id, framing, sent_session)
            .await
    }

    /// Sends a notification (202 expected).
    pub async fn notify(&self, notification: Notification, framing: Framing) -> Result<(), Error> {
        let (headers, sent_session) = self.post_headers(
            framing,
            &notification.method,
            notification.params.as_ref(),
            &[],
        )?;
        let body = serde_json::to_vec(&notification).map_err(|_| Error::InvalidArguments {
            what: "the notification",
        })?;
        let response = self
            .send(Method::POST, headers, Some(Bytes::from(body)))
            .await?;
        if response.status().is_success() {
            return Ok(());
        }
        Err(self.status_error(response, framing, sent_session).await)
    }

    /// The error for a response whose status is not a success.
    async fn status_error(
        &self,
        response: Response,
        framing: Framing,
        sent_session: bool,
    ) -> Error {
        let status = response.status();
        if status == StatusCode::NOT_FOUND && sent_session && matches!(framing, Framing::Legacy(_))
        {
            return Error::SessionExpired;
        }
        let body = read_prefix(response, ERROR_SNIPPET * 64).await;
        match parse_payload(&body) {
            Ok(Payload::Single(Ok(Message::Error(e)))) => Error::Protocol(e.error),
            _ => {
                let text = String::from_utf8_lossy(&body);
                let cut: String = text.chars().take(ERROR_SNIPPET).collect();
                Error::HttpStatus {
                    status: status.as_u16(),
                    body: cut,
                }
            }
        }
    }

    /// Reads the answer to request `id`.
    async fn reply(
        &self,
        response: Response,
        id: &RequestId,
        framing: Framing,
        sent_session: bool,
    ) -> Result<Value, Error> {
        let status = response.status();
        if !status.is_success() {
            return Err(self.status_error(response, framing, sent_session).await);
        }
        if status == StatusCode::ACCEPTED || status == StatusCode::NO_CONTENT {
            return Err(Malformed::Accepted.into());
        }
        match body_kind(response.headers()) {
            BodyKind::Sse => self.read_sse(response, id, framing).await,
            BodyKind::Json | BodyKind::Unknown => {
                let body = read_body(response, MAX_BODY).await?;
                parse_reply(&body, id)
            }
            BodyKind::Other(ct) => Err(Malformed::ContentType(ct).into()),
        }
    }

    /// Handles a message that is not the awaited response; returns the response if it is.
    fn dispatch(
        &self,
        message: Message,
        id: Option<&RequestId>,
        framing: Framing,
    ) -> Option<Result<Value, Error>> {
        match message {
            Message::Response(r) if Some(&r.id) == id => return Some(Ok(r.result)),
            Message::Error(e) if id.is_some() && (e.id.is_none() || e.id.as_ref() == id) => {
                return Some(Err(Error::Protocol(e.error)));
            }
            Message::Response(r) => {
                tracing::debug!(id = %r.id, "ignoring a response to another request")
            }
            Message::Error(e) => {
                tracing::debug!(error = %e.error, "ignoring an error for another request")
            }
            Message::Notification(n) => self.incoming().notification(n),
            Message::Request(r) => match framing {
                Framing::Legacy(_) => self.answer(r, framing),
                Framing::Modern(_) => {
                    tracing::debug!(method = %r.method, "a modern server sent a request; ignored");
                }
            },
        }
        None
    }

    /// Reads an SSE response until the result of `id`, resuming a legacy stream the server
    /// closed early (`Last-Event-ID`, after its `retry:` hint).
    async fn read_sse(
        &self,
        response: Response,
        id: &RequestId,
        framing: Framing,
    ) -> Result<Value, Error> {
        let mut reader = SseReader::new(response);
        let mut reconnects = 0;
        let mut malformed: Option<String> = None;
        loop {
            let ended = match reader.next().await {
                Some(Ok(SseItem::Message(m))) => {
                    reconnects = 0;
                    if let Some(result) = self.dispatch(m, Some(id), framing) {
                        return result;
                    }
                    continue;
                }
                Some(Ok(SseItem::Invalid(why))) => {
                    malformed.get_or_insert(why);
                    continue;
                }
                Some(Err(e)) => Some(e),
                None => None,
            };
            if let (Framing::Legacy(_), Some(last)) = (framing, reader.last_event_id()) {
                if reconnects < legacy::MAX_RECONNECTS {
                    reconnects += 1;
                    let last = last.to_owned();
                    tokio::time::sleep(legacy::retry_delay(reader.retry())).await;
                    let resumed = self.resume(&last, framing).await?;
                    reader.reconnect(resumed);
                    continue;
                }
            }
            return Err(match (malformed, ended) {
                (Some(why), _) => Malformed::Sse(why).into(),
                (None, Some(e)) => e,
                (None, None) => TransportError::StreamEnded.into(),
            });
        }
    }
}

/// Locks a std mutex, ignoring poisoning (the guarded data stays consistent).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_matched_by_id() {
        let id = RequestId::Number(3);
        let ok = br#"{"jsonrpc":"2.0","id":3,"result":{"a":1}}"#;
        assert_eq!(parse_reply(ok, &id).unwrap()["a"], 1);
        let err = br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad"}}"#;
        assert!(matches!(parse_reply(err, &id), Err(Error::Protocol(e)) if e.code.0 == -32700));
        let other = br#"{"jsonrpc":"2.0","id":4,"result":{}}"#;
        assert!(matches!(
            parse_reply(other, &id),
            Err(Error::MalformedResponse(Malformed::WrongId { .. }))
        ));
        for garbage in [
            &b"<html>"[..],
            b"",
            b"[]",
            b"{}",
            b"{\"jsonrpc\":\"2.0\",\"method\":\"x\"}",
        ] {
            assert!(matches!(
                parse_reply(garbage, &id),
                Err(Error::MalformedResponse(_))
            ));
        }
        let batch =
            br#"[{"jsonrpc":"2.0","id":9,"result":{}},{"jsonrpc":"2.0","id":3,"result":7}]"#;
        assert_eq!(parse_reply(batch, &id).unwrap(), 7);
    }

    #[test]
    fn forbidden_names_the_missing_scopes() {
        let c = vec![
            Challenge::new("Bearer")
                .with_param("error", "insufficient_scope")
                .with_param("scope", "files:read files:delete"),
        ];
        match refusal(StatusCode::FORBIDDEN, c) {
            Error::Forbidden { missing_scopes, .. } => {
                assert_eq!(missing_scopes, ["files:read", "files:delete"]);
            }
            other => panic!("{other:?}"),
        }
    }
}
