//! stdio: newline-delimited JSON-RPC on stdin/stdout. Nothing but protocol messages goes to
//! stdout; logs belong on stderr.
//!
//! Both eras on one connection. A request whose `_meta` names a protocol version is a 2026-07-28
//! request, served on its own with the version, capabilities and identity it declares: no
//! `initialize`, questions to the client become `input_required` results, and
//! `notifications/cancelled` stops it (another version is `-32022` naming the supported ones).
//! Anything else belongs to the legacy session that `initialize` opens. A `subscriptions/listen`
//! is acknowledged at once and stays open until `notifications/cancelled` names it: the
//! changes it asked for arrive tagged with its id. A legacy session hears of list changes as
//! before.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use mcp_core::jsonrpc::{
    ErrorResponse, Message, Notification, Payload, Request, RequestId, Response, parse_payload,
};
use mcp_core::types::{ResourceUpdatedNotificationParams, SubscriptionFilter, methods};
use mcp_core::version::ProtocolVersion;
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::BoxFuture;
use crate::client_state::{
    ClientState, DEFAULT_MAX_SUBSCRIPTION_URI_BYTES, DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION,
};
use crate::context::Peer;
use crate::dispatch::{self, Failure, Outcome, RequestEnv, listen, meta};
use crate::error::ClientRequestError;
use crate::server::{Change, ChangeListener, McpServer};
use crate::telemetry::Transport;

/// The most bytes one line may hold (a larger line is answered with a parse error and skipped
/// without being kept in memory).
const MAX_LINE: usize = 16 * 1024 * 1024;
/// The deepest nesting a message may have (as `HttpConfig::DEFAULT_MAX_JSON_DEPTH`).
const MAX_JSON_DEPTH: usize = 64;
/// The most messages in one batch (as `HttpConfig::DEFAULT_MAX_BATCH_MESSAGES`).
const MAX_BATCH_MESSAGES: usize = 100;
/// How many requests of one batch run at once (as `HttpConfig::DEFAULT_MAX_BATCH_CONCURRENCY`).
const MAX_BATCH_CONCURRENCY: usize = 8;
/// The most requests (or batches) running at once; one more is refused with `-32603` naming
/// the limit, while answers to the server's own requests keep being read.
const MAX_IN_FLIGHT: usize = 256;

/// `-32603` for a request refused because `MAX_IN_FLIGHT` requests are running.
fn busy(id: RequestId) -> ErrorResponse {
    let error = mcp_core::ErrorObject::new(
        mcp_core::ErrorCode::INTERNAL_ERROR,
        format!("Too many requests in progress: at most {MAX_IN_FLIGHT}"),
    )
    .with_data(serde_json::json!({"limit": "max_requests_in_flight", "max": MAX_IN_FLIGHT}));
    ErrorResponse::new(Some(id), error)
}

/// Reads one line into `buf` (cleared first), keeping at most `MAX_LINE + 1` bytes of it: the
/// rest of a longer line is read and dropped. `Ok(None)` at the end of input, else whether the
/// line fit.
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<bool>> {
    buf.clear();
    let limit = u64::try_from(MAX_LINE + 1).unwrap_or(u64::MAX);
    let n = (&mut *reader).take(limit).read_until(b'\n', buf).await?;
    if n == 0 {
        return Ok(None);
    }
    if buf.len() <= MAX_LINE {
        return Ok(Some(true));
    }
    let mut rest = Vec::new();
    while !buf.ends_with(b"\n") {
        rest.clear();
        let n = (&mut *reader)
            .take(64 * 1024)
            .read_until(b'\n', &mut rest)
            .await?;
        if n == 0 {
            break;
        }
        if rest.ends_with(b"\n") {
            break;
        }
    }
    Ok(Some(false))
}

struct Connection {
    out: mpsc::UnboundedSender<String>,
    client: Mutex<Option<Arc<ClientState>>>,
    /// The modern requests in progress, each with the client state it declared.
    modern: Mutex<HashMap<RequestId, Arc<ClientState>>>,
    /// Open `subscriptions/listen` requests and what each asked for.
    listens: Mutex<HashMap<RequestId, SubscriptionFilter>>,
}

impl Connection {
    fn send(&self, message: &impl serde::Serialize) {
        if let Ok(line) = serde_json::to_string(message) {
            let _ = self.out.send(line);
        }
    }

    fn client(&self) -> Option<Arc<ClientState>> {
        self.client
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn modern(&self) -> std::sync::MutexGuard<'_, HashMap<RequestId, Arc<ClientState>>> {
        self.modern.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn listens(&self) -> std::sync::MutexGuard<'_, HashMap<RequestId, SubscriptionFilter>> {
        self.listens.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The modern request a `notifications/cancelled` names, if it is one in progress.
    fn modern_target(&self, notification: &Notification) -> Option<Arc<ClientState>> {
        let id = cancelled_id(notification)?;
        self.modern().get(&id).cloned()
    }

    /// Whether `notification` cancels an open subscription, which it then closes (no answer).
    fn ends_listen(&self, notification: &Notification) -> bool {
        cancelled_id(notification).is_some_and(|id| self.listens().remove(&id).is_some())
    }
}

impl ChangeListener for Connection {
    fn on_change(&self, change: &Change) {
        // 2026-07-28 clients hear of changes through their subscriptions only.
        let listens: Vec<RequestId> = self
            .listens()
            .iter()
            .filter(|(_, filter)| listen::wants(filter, change))
            .map(|(id, _)| id.clone())
            .collect();
        for id in &listens {
            self.send(&listen::notification(id, change));
        }
        // A legacy session hears of every list change, and of updates it subscribed to.
        if self.client().is_none() {
            return;
        }
        let n = match change {
            Change::Tools => Notification::new(methods::NOTIFICATION_TOOLS_LIST_CHANGED, None),
            Change::Prompts => Notification::new(methods::NOTIFICATION_PROMPTS_LIST_CHANGED, None),
            Change::Resources => {
                Notification::new(methods::NOTIFICATION_RESOURCES_LIST_CHANGED, None)
            }
            Change::ResourceUpdated(uri) => {
                if !self.client().is_some_and(|c| c.is_subscribed(uri)) {
                    return;
                }
                let params = ResourceUpdatedNotificationParams {
                    uri: uri.clone(),
                    meta: None,
                };
                Notification::new(
                    methods::NOTIFICATION_RESOURCES_UPDATED,
                    serde_json::to_value(params).ok(),
                )
            }
        };
        self.send(&n);
    }
}

struct StdioPeer {
    conn: Arc<Connection>,
}

impl Peer for StdioPeer {
    fn notify(&self, notification: Notification) {
        self.conn.send(&notification);
    }

    fn request(
        &self,
        method: &'static str,
        params: Value,
    ) -> BoxFuture<'_, Result<Value, ClientRequestError>> {
        Box::pin(async move {
            let client = self.conn.client().ok_or(ClientRequestError::NotSupported)?;
            let (id, answer) = client.begin_client_request()?;
            self.conn
                .send(&Request::new(id.clone(), method, Some(params)));
            let result = answer.await;
            client.abandon_client_request(&id);
            match result {
                Ok(Ok(v)) => Ok(v),
                Ok(Err(e)) => Err(ClientRequestError::Rejected(e)),
                Err(_) => Err(ClientRequestError::Cancelled),
            }
        })
    }
}

/// The request id a `notifications/cancelled` names.
fn cancelled_id(notification: &Notification) -> Option<RequestId> {
    if notification.method != methods::NOTIFICATION_CANCELLED {
        return None;
    }
    let id = notification.params.as_ref()?.get("requestId")?;
    serde_json::from_value(id.clone()).ok()
}

fn reply(id: RequestId, outcome: Outcome) -> Option<Message> {
    match outcome {
        Err(Failure::Error(e)) if e == dispatch::cancelled_error() => None,
        Err(Failure::Error(e)) => Some(Message::Error(ErrorResponse::new(Some(id), e))),
        // stdio has no HTTP status: the tool error reports the denial.
        Err(Failure::StepUp(s)) => Some(Message::Response(Response {
            id,
            result: serde_json::from_str(s.fallback.get()).unwrap_or(Value::Null),
        })),
        Ok(raw) => {
            let result: Value = serde_json::from_str(RawValue::get(&raw)).unwrap_or(Value::Null);
            Some(Message::Response(Response { id, result }))
        }
    }
}

impl McpServer {
    /// Serves one client over this process's stdin and stdout until stdin closes.
    pub async fn serve_stdio(self) -> std::io::Result<()> {
        self.serve_io(tokio::io::stdin(), tokio::io::stdout()).await
    }

    /// Serves one client over any byte streams, newline-delimited JSON-RPC.
    pub async fn serve_io<R, W>(self, reader: R, mut writer: W) -> std::io::Result<()>
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let started = std::time::Instant::now();
        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        let writer_task = tokio::spawn(async move {
            while let Some(mut line) = rx.recv().await {
                line.push('\n');
                if writer.write_all(line.as_bytes()).await.is_err() || writer.flush().await.is_err()
                {
                    break;
                }
            }
        });
        let conn = Arc::new(Connection {
            out: tx,
            client: Mutex::new(None),
            modern: Mutex::new(HashMap::new()),
            listens: Mutex::new(HashMap::new()),
        });
        let listener: Arc<dyn ChangeListener> = conn.clone();
        self.inner.add_listener(Arc::downgrade(&listener));

        let mut tasks = JoinSet::new();
        let mut lines = BufReader::new(reader);
        let mut buf = Vec::new();
        while let Some(fits) = read_line(&mut lines, &mut buf).await? {
            if !fits {
                let error = mcp_core::ErrorObject::parse_error(format!(
                    "Parse error: the message is larger than {MAX_LINE} bytes"
                ));
                conn.send(&ErrorResponse::new(None, error));
                continue;
            }
            let line = buf.trim_ascii();
            if line.is_empty() {
                continue;
            }
            if mcp_core::jsonrpc::nesting_exceeds(line, MAX_JSON_DEPTH) {
                let error = crate::error::too_deep(MAX_JSON_DEPTH);
                conn.send(&ErrorResponse::new(None, error));
                continue;
            }
            match parse_payload(line) {
                Err(e) => conn.send(&e.to_error_response()),
                Ok(Payload::Single(m)) => self.handle(&conn, &mut tasks, vec![m], false),
                Ok(Payload::Batch(items)) if items.len() > MAX_BATCH_MESSAGES => {
                    let error = crate::error::batch_too_large(items.len(), MAX_BATCH_MESSAGES);
                    conn.send(&ErrorResponse::new(None, error));
                }
                Ok(Payload::Batch(items)) => self.handle(&conn, &mut tasks, items, true),
            }
            while tasks.try_join_next().is_some() {}
        }
        if let Some(c) = conn.client() {
            c.close();
            // The connection is the session.
            let seconds = started.elapsed().as_secs_f64();
            (self.inner.metrics).session_closed(seconds, c.version.as_str(), Transport::Stdio);
        }
        while tasks.join_next().await.is_some() {}
        drop(listener);
        drop(conn);
        let _ = writer_task.await;
        Ok(())
    }

    /// Serves one 2026-07-28 request: the version, capabilities and identity come from its
    /// `_meta`; its answer (or error) is written when it is done.
    fn handle_modern(&self, conn: &Arc<Connection>, tasks: &mut JoinSet<()>, request: Request) {
        let id = request.id.clone();
        let refuse = |e: mcp_core::ErrorObject| conn.send(&ErrorResponse::new(Some(id.clone()), e));
        let meta = match meta::read_meta(request.params.as_ref()) {
            Ok(m) => m,
            Err(why) => return refuse(mcp_core::ErrorObject::invalid_params(why)),
        };
        let version = match meta::modern_version(&self.inner, &meta.version) {
            Ok(v) => v,
            Err(e) => return refuse(e),
        };
        if request.method == methods::SUBSCRIPTIONS_LISTEN {
            let (uris, uri_bytes) = (
                DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION,
                DEFAULT_MAX_SUBSCRIPTION_URI_BYTES,
            );
            return match listen::honoured(request.params, uris, uri_bytes) {
                Err(e) => refuse(e),
                Ok(filter) => {
                    let mut listens = conn.listens();
                    if listens.contains_key(&id) {
                        drop(listens);
                        let e = mcp_core::ErrorObject::invalid_request(
                            "a subscription with this id is open",
                        );
                        return refuse(e);
                    }
                    // The acknowledgement goes out before any notification can.
                    conn.send(&listen::acknowledgement(&id, &filter));
                    listens.insert(id, filter);
                }
            };
        }
        let state = Arc::new(ClientState::per_request(
            version,
            meta.capabilities,
            meta.client_info.unwrap_or_default(),
            meta.log_level,
        ));
        {
            let mut in_progress = conn.modern();
            if in_progress.contains_key(&id) {
                drop(in_progress);
                let e =
                    mcp_core::ErrorObject::invalid_request("a request with this id is in progress");
                return refuse(e);
            }
            in_progress.insert(id.clone(), Arc::clone(&state));
        }
        let env = RequestEnv {
            version,
            peer: Arc::new(StdioPeer {
                conn: Arc::clone(conn),
            }),
            client: Some(state),
            http: None,
            auth: None,
            delegation: None,
        };
        if tasks.len() >= MAX_IN_FLIGHT {
            conn.modern().remove(&id);
            return conn.send(&busy(id));
        }
        let work = dispatch::handle_request(Arc::clone(&self.inner), request, env);
        let conn = Arc::clone(conn);
        tasks.spawn(async move {
            let outcome = work.await;
            conn.modern().remove(&id);
            if let Some(m) = reply(id, outcome) {
                conn.send(&m);
            }
        });
    }

    fn handle(
        &self,
        conn: &Arc<Connection>,
        tasks: &mut JoinSet<()>,
        items: Vec<Result<Message, mcp_core::jsonrpc::InvalidMessage>>,
        batch: bool,
    ) {
        let mut requests = Vec::new();
        let mut invalid = Vec::new();
        for item in items {
            match item {
                Err(e) => invalid.push(Message::Error(e.to_error_response())),
                // First: an `initialize` in modern form is a removed method (VERSIONS §3).
                Ok(Message::Request(r)) if meta::declared_version(r.params.as_ref()).is_some() => {
                    if batch {
                        let e = mcp_core::ErrorObject::invalid_request(
                            "batches are not supported in protocol version 2026-07-28",
                        );
                        invalid.push(Message::Error(ErrorResponse::new(Some(r.id), e)));
                    } else {
                        self.handle_modern(conn, tasks, r);
                    }
                }
                Ok(Message::Request(r)) if r.method == methods::INITIALIZE && !batch => {
                    match dispatch::initialize(&self.inner, &r.id, r.params, Transport::Stdio, None)
                    {
                        Ok((outcome, state)) => {
                            let previous = conn
                                .client
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .replace(Arc::new(state));
                            if previous.is_none() {
                                self.inner.metrics.session_opened(Transport::Stdio);
                            }
                            if let Some(m) = reply(r.id, outcome) {
                                conn.send(&m);
                            }
                        }
                        Err(e) => conn.send(&ErrorResponse::new(Some(r.id), e)),
                    }
                }
                Ok(Message::Request(r)) => requests.push(r),
                Ok(Message::Notification(n)) if conn.ends_listen(&n) => {}
                Ok(Message::Notification(n)) => match conn.modern_target(&n) {
                    Some(state) => dispatch::handle_notification(n, Some(&state), Transport::Stdio),
                    None => {
                        dispatch::handle_notification(n, conn.client().as_deref(), Transport::Stdio)
                    }
                },
                Ok(Message::Response(r)) => {
                    if let Some(c) = conn.client() {
                        c.deliver_answer(&r.id, Ok(r.result));
                    }
                }
                Ok(Message::Error(e)) => {
                    if let (Some(c), Some(id)) = (conn.client(), e.id) {
                        c.deliver_answer(&id, Err(e.error));
                    }
                }
            }
        }
        if requests.is_empty() {
            if batch && !invalid.is_empty() {
                conn.send(&invalid);
            } else {
                for m in &invalid {
                    conn.send(m);
                }
            }
            return;
        }
        if tasks.len() >= MAX_IN_FLIGHT {
            let refused: Vec<Message> = requests
                .into_iter()
                .map(|r| Message::Error(busy(r.id)))
                .chain(invalid)
                .collect();
            if batch {
                conn.send(&refused);
            } else {
                refused.iter().for_each(|m| conn.send(m));
            }
            return;
        }
        let client = conn.client();
        let version = client
            .as_ref()
            .map_or(ProtocolVersion::LATEST_LEGACY, |c| c.version);
        let server = Arc::clone(&self.inner);
        let conn = Arc::clone(conn);
        tasks.spawn(async move {
            let futures = requests.into_iter().map(|r| {
                let env = RequestEnv {
                    version,
                    peer: Arc::new(StdioPeer {
                        conn: Arc::clone(&conn),
                    }),
                    client: client.clone(),
                    http: None,
                    auth: None,
                    delegation: None,
                };
                let id = r.id.clone();
                let fut = dispatch::handle_request(Arc::clone(&server), r, env);
                async move { reply(id, fut.await) }
            });
            let mut replies: Vec<Message> = invalid;
            let done: Vec<Option<Message>> = futures_util::stream::iter(futures)
                .buffered(MAX_BATCH_CONCURRENCY)
                .collect()
                .await;
            replies.extend(done.into_iter().flatten());
            if batch {
                if !replies.is_empty() {
                    conn.send(&replies);
                }
            } else {
                for m in &replies {
                    conn.send(m);
                }
            }
        });
    }
}
