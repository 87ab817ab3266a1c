//! POST on the endpoint (legacy era): `initialize`, then requests, notifications and the
//! client's responses, answered as JSON or, when the handler talks to the client before its
//! result, as an SSE stream (T-12..T-22, T-90).

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use futures_util::{StreamExt, stream};
use http::StatusCode;
use http::request::Parts;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use mcp_core::jsonrpc::{
    ErrorCode, ErrorObject, ErrorResponse, Message, Payload, Request, RequestId, parse_payload,
};
use mcp_core::types::methods;
use mcp_core::version::{Era, ProtocolVersion};
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use super::HttpState;
use super::config::SessionMode;
use super::guard::{self, Accepts, Refusal};
use super::respond::{self, MCP_PROTOCOL_VERSION, MCP_SESSION_ID, header};
use super::session::{CreateError, Session};
use super::sse::{LiveBody, SseStream, frame};
use crate::BoxFuture;
use crate::auth::{AuthContext, Delegation};
use crate::client_state::ClientState;
use crate::context::{HttpRequestParts, Peer};
use crate::dispatch::{self, Failure, Outcome, RequestEnv, StepUp};
use crate::error::ClientRequestError;
use crate::telemetry::Transport;
use axum::response::IntoResponse;

/// What a request's handler sends before its result.
pub(crate) enum Outbound {
    Message(Arc<str>),
    CloseStream,
}

/// The peer of one POST: its messages go to the POST's response stream.
pub(crate) struct PostPeer {
    tx: mpsc::UnboundedSender<Outbound>,
    client: Option<Arc<ClientState>>,
    can_request: bool,
}

impl PostPeer {
    /// A peer writing to `tx`; requests to the client need its state and an SSE response.
    pub fn new(
        tx: mpsc::UnboundedSender<Outbound>,
        client: Option<Arc<ClientState>>,
        can_request: bool,
    ) -> Self {
        PostPeer {
            tx,
            client,
            can_request,
        }
    }
}

/// Forgets a server→client request whose waiter went away.
struct PendingGuard<'a> {
    client: &'a ClientState,
    id: Option<RequestId>,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            self.client.abandon_client_request(&id);
        }
    }
}

impl Peer for PostPeer {
    fn notify(&self, notification: mcp_core::jsonrpc::Notification) {
        if let Ok(json) = serde_json::to_string(&notification) {
            let _ = self.tx.send(Outbound::Message(json.into()));
        }
    }

    fn request(
        &self,
        method: &'static str,
        params: Value,
    ) -> BoxFuture<'_, Result<Value, ClientRequestError>> {
        Box::pin(async move {
            let client = match &self.client {
                Some(c) if self.can_request => c,
                _ => return Err(ClientRequestError::NotSupported),
            };
            let (id, answer) = client.begin_client_request()?;
            let mut guard = PendingGuard {
                client,
                id: Some(id.clone()),
            };
            let json = serde_json::to_string(&Request::new(id, method, Some(params)))
                .map_err(|e| ClientRequestError::InvalidResponse(e.to_string()))?;
            if self.tx.send(Outbound::Message(json.into())).is_err() {
                return Err(ClientRequestError::Cancelled);
            }
            let answer = answer.await;
            guard.id = None;
            match answer {
                Ok(Ok(v)) => Ok(v),
                Ok(Err(e)) => Err(ClientRequestError::Rejected(e)),
                Err(_) => Err(ClientRequestError::Cancelled),
            }
        })
    }

    fn close_stream(&self) {
        let _ = self.tx.send(Outbound::CloseStream);
    }
}

#[derive(Serialize)]
struct ResultResponse<'a> {
    jsonrpc: &'static str,
    id: &'a RequestId,
    result: &'a RawValue,
}

/// Serializes the response to one request.
pub(crate) fn encode_reply(id: &RequestId, outcome: &Outcome) -> Vec<u8> {
    let encoded = match outcome {
        Ok(result) => serde_json::to_vec(&ResultResponse {
            jsonrpc: "2.0",
            id,
            result,
        }),
        Err(Failure::Error(error)) => {
            serde_json::to_vec(&ErrorResponse::new(Some(id.clone()), error.clone()))
        }
        // No HTTP status of its own here (a stream, a batch): the tool error reports it.
        Err(Failure::StepUp(s)) => serde_json::to_vec(&ResultResponse {
            jsonrpc: "2.0",
            id,
            result: &s.fallback,
        }),
    };
    encoded.unwrap_or_default()
}

type Replies = Vec<(RequestId, Outcome)>;

fn json_replies(replies: &Replies, batch: bool) -> Response {
    match (batch, replies.as_slice()) {
        (_, []) => respond::accepted(),
        (false, [(id, outcome)]) => respond::json(StatusCode::OK, encode_reply(id, outcome)),
        _ => {
            let mut body = Vec::with_capacity(64 * replies.len());
            body.push(b'[');
            for (i, (id, outcome)) in replies.iter().enumerate() {
                if i > 0 {
                    body.push(b',');
                }
                body.extend_from_slice(&encode_reply(id, outcome));
            }
            body.push(b']');
            respond::json(StatusCode::OK, body)
        }
    }
}

/// Reads the body within [`HttpConfig::max_body_bytes`](super::HttpConfig::max_body_bytes)
/// (413) and [`HttpConfig::body_read_timeout`](super::HttpConfig::body_read_timeout) (408).
async fn read_body(body: Body, config: &super::HttpConfig) -> Result<Bytes, Response> {
    let collect = Limited::new(body, config.max_body_bytes).collect();
    let Ok(collected) = tokio::time::timeout(config.body_read_timeout, collect).await else {
        return Err(respond::transport_error(
            StatusCode::REQUEST_TIMEOUT,
            "Request Timeout: the request body was not received in time",
        ));
    };
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(respond::transport_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Payload Too Large: the request body exceeds the limit",
        )),
        Err(_) => Err(respond::transport_error(
            StatusCode::BAD_REQUEST,
            "Bad Request: the request body could not be read",
        )),
    }
}

/// The HTTP 403 step-up challenge for a tool the caller may not call (AZ-14).
pub(crate) fn step_up(state: &HttpState, s: &StepUp) -> Response {
    state
        .auth
        .insufficient_scope(&s.scopes, &s.description)
        .into_response()
}

fn reply_json(state: &HttpState, replies: &Replies, batch: bool) -> Response {
    if let (false, [(_, Err(Failure::StepUp(s)))]) = (batch, replies.as_slice()) {
        return step_up(state, s);
    }
    json_replies(replies, batch)
}

/// Handles a POST that passed the Host/Origin guard.
pub(crate) async fn post(state: Arc<HttpState>, parts: Parts, body: Body) -> Response {
    let config = &state.config;
    if let Err(r) = guard::check_json_content_type(&parts.headers) {
        return respond::refusal(r);
    }
    let accepts = guard::accepts(&parts.headers);
    if !accepts.json && !accepts.sse {
        return respond::refusal(Refusal::NotAcceptable(
            "Not Acceptable: Client must accept application/json or text/event-stream",
        ));
    }
    let bytes = match read_body(body, config).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    if mcp_core::jsonrpc::nesting_exceeds(&bytes, config.max_json_depth) {
        return respond::rpc_error(
            StatusCode::BAD_REQUEST,
            None,
            crate::error::too_deep(config.max_json_depth),
        );
    }
    let payload = match parse_payload(&bytes) {
        Ok(p) => p,
        Err(e) => {
            let status = StatusCode::BAD_REQUEST;
            return respond::rpc_error(status, None, e.to_error_response().error);
        }
    };
    if super::modern::is_modern(&parts.headers, &payload) {
        return super::modern::post(state, parts, payload, accepts).await;
    }
    let (messages, batch) = match payload {
        Payload::Single(Err(invalid)) => {
            let e = invalid.to_error_response();
            return respond::rpc_error(StatusCode::BAD_REQUEST, e.id, e.error);
        }
        Payload::Single(Ok(Message::Request(req))) if req.method == methods::INITIALIZE => {
            let principal = parts
                .extensions
                .get::<Arc<AuthContext>>()
                .map(|a| a.principal());
            return initialize(&state, req, accepts, principal, &parts.headers).await;
        }
        Payload::Single(Ok(m)) => (vec![Ok(m)], false),
        Payload::Batch(items) => {
            if items.len() > config.max_batch_messages {
                return batch_too_large(items.len(), config.max_batch_messages);
            }
            if items
                .iter()
                .any(|m| matches!(m, Ok(Message::Request(r)) if r.method == methods::INITIALIZE))
            {
                return respond::rpc_error(
                    StatusCode::BAD_REQUEST,
                    None,
                    ErrorObject::invalid_request("initialize must not be part of a batch"),
                );
            }
            (items, true)
        }
    };

    let header_version = match header(&parts.headers, &MCP_PROTOCOL_VERSION) {
        None => None,
        Some(v) => match ProtocolVersion::parse(v)
            .filter(|p| p.era() == Era::Legacy && state.server.supports(*p))
        {
            Some(p) => Some(p),
            None => {
                return respond::transport_error(
                    StatusCode::BAD_REQUEST,
                    &format!("Bad Request: Unsupported protocol version: {v}"),
                );
            }
        },
    };

    let session = match resolve_session(&state, &parts).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let version = session
        .as_ref()
        .map(|s| s.client.version)
        .or(header_version)
        .unwrap_or(ProtocolVersion::ASSUMED_WITHOUT_HEADER);
    let batching_version = header_version.unwrap_or(version);
    if batch && !batching_version.allows_batches() {
        return respond::rpc_error(
            StatusCode::BAD_REQUEST,
            None,
            ErrorObject::invalid_request(format!(
                "Batches are not supported in protocol version {batching_version}"
            )),
        );
    }

    let client = session.as_ref().map(|s| Arc::clone(&s.client));
    let mut requests = Vec::new();
    let mut replies: Replies = Vec::new();
    for m in messages {
        match m {
            Ok(Message::Request(r)) => requests.push(r),
            Ok(Message::Notification(n)) => {
                dispatch::handle_notification(n, client.as_deref(), Transport::Http)
            }
            Ok(Message::Response(r)) => deliver(client.as_deref(), r.id, Ok(r.result)),
            Ok(Message::Error(e)) => match e.id {
                Some(id) => deliver(client.as_deref(), id, Err(e.error)),
                None => tracing::debug!(error = %e.error, "client sent an error without id"),
            },
            Err(invalid) => {
                // Only batches get here; the element's error goes into the batch's answer.
                let e = invalid.to_error_response();
                replies.push((e.id.unwrap_or(RequestId::Number(0)), Err(e.error.into())));
            }
        }
    }
    if requests.is_empty() {
        return json_replies(&replies, batch);
    }
    // Answers and notifications above always get through (a handler may be waiting on one);
    // requests that could open one stream too many do not start.
    if let Some(s) = &session {
        let max = config.max_streams_per_session;
        if accepts.sse && s.open_streams() >= max {
            return too_many_streams(max);
        }
    }
    run_requests(
        &state, parts, session, client, version, requests, replies, batch, accepts,
    )
    .await
}

/// A batch over [`HttpConfig::max_batch_messages`](super::HttpConfig::max_batch_messages):
/// refused whole, like any other batch the server does not accept (T-12, T-92: 400, `-32600`).
fn batch_too_large(len: usize, limit: usize) -> Response {
    let error = crate::error::batch_too_large(len, limit);
    respond::rpc_error(StatusCode::BAD_REQUEST, None, error)
}

/// 429 for a POST that could open one stream more than
/// [`HttpConfig::max_streams_per_session`](super::HttpConfig::max_streams_per_session).
fn too_many_streams(max: usize) -> Response {
    let mut r = respond::transport_error(
        StatusCode::TOO_MANY_REQUESTS,
        &format!(
            "Too Many Requests: the session has {max} open streams, the most allowed (max_streams_per_session)"
        ),
    );
    r.headers_mut().insert(
        http::header::RETRY_AFTER,
        http::HeaderValue::from_static("1"),
    );
    r
}

fn deliver(client: Option<&ClientState>, id: RequestId, answer: Result<Value, ErrorObject>) {
    let delivered = client.is_some_and(|c| c.deliver_answer(&id, answer));
    if !delivered {
        tracing::debug!(%id, "response from the client matches no pending request");
    }
}

/// T-52/T-53: with sessions on, a request must name a live session.
#[allow(clippy::result_large_err)] // the error is the response itself
async fn resolve_session(
    state: &HttpState,
    parts: &Parts,
) -> Result<Option<Arc<Session>>, Response> {
    if state.config.session_mode == SessionMode::Stateless {
        return Ok(None);
    }
    let Some(id) = header(&parts.headers, &MCP_SESSION_ID) else {
        return Err(respond::transport_error(
            StatusCode::BAD_REQUEST,
            "Bad Request: Mcp-Session-Id header is required",
        ));
    };
    let principal = parts
        .extensions
        .get::<Arc<AuthContext>>()
        .map(|a| a.principal());
    match state.sessions.get(id, principal.as_ref()).await {
        Ok(Some(s)) => Ok(Some(s)),
        Ok(None) => Err(session_not_found()),
        Err(e) => Err(store_unavailable(&e)),
    }
}

/// 503 for a request whose session could not be read or written: never served on a guess.
pub(crate) fn store_unavailable(e: &super::shared::Unavailable) -> Response {
    tracing::warn!(error = %e, "a request needing the shared session store was refused");
    respond::unavailable("Service Unavailable: the session store does not answer; try again")
}

pub(crate) fn session_not_found() -> Response {
    respond::rpc_error(
        StatusCode::NOT_FOUND,
        None,
        ErrorObject::new(ErrorCode(-32001), "Session not found"),
    )
}

/// `initialize` (L-10): negotiate, open a session (T-50), answer.
async fn initialize(
    state: &Arc<HttpState>,
    req: Request,
    accepts: Accepts,
    principal: Option<crate::auth::Principal>,
    headers: &http::HeaderMap,
) -> Response {
    let (outcome, client) = match dispatch::initialize(
        &state.server,
        &req.id,
        req.params,
        Transport::Http,
        Some(headers),
    ) {
        Ok(x) => x,
        Err(e) => return respond::rpc_error(StatusCode::OK, Some(req.id), e),
    };
    let body = encode_reply(&req.id, &outcome);
    let session = match state.config.session_mode {
        SessionMode::Stateless => None,
        SessionMode::Stateful => match state.sessions.create(client, principal).await {
            Ok(s) => Some(s),
            Err(CreateError::TooMany) => {
                return respond::unavailable("Service Unavailable: too many sessions");
            }
            Err(CreateError::Unavailable(e)) => return store_unavailable(&e),
        },
    };
    let response = if accepts.json {
        respond::json(StatusCode::OK, body)
    } else {
        let text = String::from_utf8_lossy(&body).into_owned();
        respond::sse_body(Body::from(frame(None, None, &text)))
    };
    match session {
        Some(s) => respond::with_session(response, &s.id),
        None => response,
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_requests(
    state: &Arc<HttpState>,
    parts: Parts,
    session: Option<Arc<Session>>,
    client: Option<Arc<ClientState>>,
    version: ProtocolVersion,
    requests: Vec<Request>,
    replies: Replies,
    batch: bool,
    accepts: Accepts,
) -> Response {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let peer: Arc<dyn Peer> = Arc::new(PostPeer::new(
        tx,
        client.clone(),
        accepts.sse && client.is_some(),
    ));
    let Parts {
        headers,
        uri,
        extensions,
        ..
    } = parts;
    let auth = extensions.get::<Arc<AuthContext>>().cloned();
    let delegation = extensions.get::<Delegation>().cloned();
    let mut http = Some(HttpRequestParts {
        headers,
        uri,
        extensions,
    });
    let last = requests.len() - 1;
    let futures: Vec<_> = requests
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let http = if i == last {
                http.take()
            } else {
                http.as_ref().map(|h| HttpRequestParts {
                    headers: h.headers.clone(),
                    uri: h.uri.clone(),
                    extensions: http::Extensions::new(),
                })
            };
            let env = RequestEnv {
                version,
                peer: Arc::clone(&peer),
                client: client.clone(),
                http,
                auth: auth.clone(),
                delegation: delegation.clone(),
            };
            let id = r.id.clone();
            let fut = dispatch::handle_request(Arc::clone(&state.server), r, env);
            async move { (id, fut.await) }
        })
        .collect();
    drop(peer);
    // At most `max_batch_concurrency` requests of a batch run at once; replies keep its order.
    let concurrency = state.config.max_batch_concurrency.max(1);
    let mut work: BoxFuture<'static, Replies> = Box::pin(async move {
        let mut all = replies;
        let done: Replies = stream::iter(futures).buffered(concurrency).collect().await;
        all.extend(done);
        all
    });

    if !accepts.sse {
        return reply_json(state, &work.await, batch);
    }
    let mut pending = Vec::new();
    let mut done = None;
    if accepts.json {
        tokio::select! {
            biased;
            out = &mut work => {
                match rx.try_recv() {
                    Err(_) => return reply_json(state, &out, batch),
                    Ok(first) => {
                        pending.push(first);
                        done = Some(out);
                    }
                }
            }
            Some(first) = rx.recv() => pending.push(first),
        }
    }

    let (stream, live) = match &session {
        Some(s) => s.open_stream().await,
        None => SseStream::open("0".to_owned(), None, state.config.sse_retry),
    };
    let prime = version.primes_sse_streams() && stream.is_resumable();
    tokio::spawn(pump(stream, session, prime, pending, rx, work, done));
    respond::sse(&state.server.metrics, LiveBody::new(live, None))
}

/// Drives the requests of an SSE-answered POST and writes what they send, then their results.
async fn pump(
    stream: Arc<SseStream>,
    session: Option<Arc<Session>>,
    prime: bool,
    pending: Vec<Outbound>,
    mut rx: mpsc::UnboundedReceiver<Outbound>,
    mut work: BoxFuture<'static, Replies>,
    done: Option<Replies>,
) {
    if prime {
        stream.prime().await;
    }
    for o in pending {
        write(&stream, o).await;
    }
    let replies = match done {
        Some(r) => r,
        None => loop {
            tokio::select! {
                biased;
                Some(o) = rx.recv() => write(&stream, o).await,
                out = &mut work => break out,
            }
        },
    };
    while let Ok(o) = rx.try_recv() {
        write(&stream, o).await;
    }
    let cancelled = dispatch::cancelled_error();
    // A cancelled request gets no response (L-40).
    for (id, outcome) in replies
        .iter()
        .filter(|(_, o)| !matches!(o, Err(Failure::Error(e)) if *e == cancelled))
    {
        let text = String::from_utf8_lossy(&encode_reply(id, outcome)).into_owned();
        stream.send(text.into()).await;
    }
    stream.finish().await;
    if let Some(s) = session {
        s.close_stream(&stream.id);
    }
}

async fn write(stream: &SseStream, o: Outbound) {
    match o {
        Outbound::Message(json) => stream.send(json).await,
        Outbound::CloseStream => stream.disconnect().await,
    }
}
