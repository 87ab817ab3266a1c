//! The legacy era (2025-03-26 … 2025-11-25) on HTTP: the `Mcp-Session-Id` issued with the
//! `initialize` result, `MCP-Protocol-Version` on every later request, answering the server's
//! requests with POSTs, resuming a POST stream the server closed early (GET with
//! `Last-Event-ID`), the standalone GET stream for server notifications, and `DELETE` on close.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use mcp_core::jsonrpc::{Message, Notification, Request, RequestId};
use mcp_core::types::{CancelledNotificationParams, methods};
use mcp_core::version::ProtocolVersion;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, Response, StatusCode};
use tokio::sync::oneshot;

use super::{
    BodyKind, HttpWire, JSON, JSON_AND_SSE, LAST_EVENT_ID, MCP_PROTOCOL_VERSION, MCP_SESSION_ID,
    SSE, body_kind, lock,
};
use crate::error::{Error, Malformed};
use crate::notifications::AbortOnDrop;
use crate::transport::sse::{SseItem, SseReader};
use crate::transport::{Framing, spawn_detached};

/// How many times in a row a POST stream is resumed without a new message in between.
pub(super) const MAX_RECONNECTS: u32 = 5;
/// The wait before a resumption when the server gave no `retry:` hint.
const DEFAULT_RETRY: Duration = Duration::from_millis(500);
/// The longest wait before a resumption, whatever the server asks.
const MAX_RETRY: Duration = Duration::from_secs(10);

/// How long to wait before reconnecting, given the server's `retry:` hint.
pub(super) fn retry_delay(hint: Option<Duration>) -> Duration {
    hint.unwrap_or(DEFAULT_RETRY).min(MAX_RETRY)
}

/// Keeps the session's GET stream open while alive.
pub(crate) struct GetStream {
    _task: AbortOnDrop,
}

impl HttpWire {
    /// Adds the session headers; returns whether a session id was sent.
    pub(super) fn add_legacy_headers(
        &self,
        headers: &mut HeaderMap,
        version: Option<ProtocolVersion>,
        initialize: bool,
    ) -> bool {
        if initialize {
            return false;
        }
        if let Some(v) = version {
            headers.insert(
                MCP_PROTOCOL_VERSION.clone(),
                HeaderValue::from_static(v.as_str()),
            );
        }
        let Some(id) = self.session_id() else {
            return false;
        };
        match HeaderValue::from_str(&id) {
            Ok(v) => {
                headers.insert(MCP_SESSION_ID.clone(), v);
                true
            }
            Err(_) => false,
        }
    }

    /// Takes the session id of an `initialize` response (or its absence: no session).
    pub(super) fn adopt_session(&self, headers: &HeaderMap) {
        let id = headers
            .get(&MCP_SESSION_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        let mut slot = self
            .shared
            .session
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        slot.id = id;
        slot.generation += 1;
        drop(slot);
        self.shared.session_changed.notify_waiters();
    }

    /// The current session id.
    pub fn session_id(&self) -> Option<String> {
        self.shared
            .session
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .id
            .clone()
    }

    /// How many `initialize` results this connection adopted.
    pub fn generation(&self) -> u64 {
        self.shared
            .session
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .generation
    }

    /// Headers of a GET on the session.
    fn get_headers(
        &self,
        version: Option<ProtocolVersion>,
        last_event_id: Option<&str>,
    ) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, SSE);
        self.add_legacy_headers(&mut headers, version, false);
        if let Some(last) = last_event_id.and_then(|l| HeaderValue::from_str(l).ok()) {
            headers.insert(LAST_EVENT_ID.clone(), last);
        }
        headers
    }

    /// Resumes a stream after `last_event_id` (GET, T-81).
    pub(super) async fn resume(
        &self,
        last_event_id: &str,
        framing: Framing,
    ) -> Result<Response, Error> {
        let version = match framing {
            Framing::Legacy(v) => v,
            Framing::Modern(_) => None,
        };
        let sent_session = self.session_id().is_some();
        let headers = self.get_headers(version, Some(last_event_id));
        let response = self.send(Method::GET, headers, None).await?;
        if !response.status().is_success() {
            return Err(self.status_error(response, framing, sent_session).await);
        }
        match body_kind(response.headers()) {
            BodyKind::Sse => Ok(response),
            BodyKind::Other(ct) => Err(Malformed::ContentType(ct).into()),
            BodyKind::Json | BodyKind::Unknown => {
                Err(Malformed::ContentType("not text/event-stream".to_owned()).into())
            }
        }
    }

    /// Answers a server request in the background: the handler's result goes back in a POST.
    pub(super) fn answer(&self, request: Request, framing: Framing) {
        let wire = self.clone();
        spawn_detached(async move {
            let method = request.method.clone();
            let reply = wire.incoming().request(request).await;
            if let Err(e) = wire.post_message(&reply, framing).await {
                tracing::warn!(%method, error = %e, "could not answer the server's request");
            }
        });
    }

    /// POSTs a response (or any message) in the session; 202 expected.
    async fn post_message(&self, message: &Message, framing: Framing) -> Result<(), Error> {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, JSON);
        headers.insert(ACCEPT, JSON_AND_SSE);
        let version = match framing {
            Framing::Legacy(v) => v,
            Framing::Modern(_) => None,
        };
        let sent_session = self.add_legacy_headers(&mut headers, version, false);
        let body = serde_json::to_vec(message).map_err(|_| Error::InvalidArguments {
            what: "the response",
        })?;
        let response = self
            .send(Method::POST, headers, Some(Bytes::from(body)))
            .await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(self.status_error(response, framing, sent_session).await)
        }
    }

    /// Legacy cancellation: `notifications/cancelled` (a dropped connection is not one, T-25).
    pub fn cancel(&self, id: RequestId, framing: Framing) {
        if !matches!(framing, Framing::Legacy(Some(_))) {
            return;
        }
        let params = CancelledNotificationParams::new(id, Some("cancelled by the client".into()));
        let notification = Notification::new(
            methods::NOTIFICATION_CANCELLED,
            serde_json::to_value(params).ok(),
        );
        let wire = self.clone();
        spawn_detached(async move {
            if let Err(e) = wire.notify(notification, framing).await {
                tracing::debug!(error = %e, "could not send notifications/cancelled");
            }
        });
    }

    /// Ends the legacy session with `DELETE` (a 405 means the server keeps sessions itself).
    pub async fn close(&self, framing: Framing) -> Result<(), Error> {
        let Framing::Legacy(version) = framing else {
            return Ok(());
        };
        if self.session_id().is_none() {
            return Ok(());
        }
        let mut headers = HeaderMap::new();
        self.add_legacy_headers(&mut headers, version, false);
        let response = self.send(Method::DELETE, headers, None).await?;
        let status = response.status();
        {
            let mut slot = self
                .shared
                .session
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            slot.id = None;
        }
        self.shared.session_changed.notify_waiters();
        if status.is_success()
            || status == StatusCode::METHOD_NOT_ALLOWED
            || status == StatusCode::NOT_FOUND
        {
            return Ok(());
        }
        Err(self.status_error(response, framing, false).await)
    }

    /// The session's GET stream, opened on first use and shared while any guard lives; returns
    /// once the first connection attempt is answered. `None` without a session (a stateless
    /// server has no stream to offer).
    pub async fn get_stream(&self, version: ProtocolVersion) -> Option<Arc<GetStream>> {
        self.session_id()?;
        let (stream, ready) = {
            let mut slot = lock(&self.shared.get_stream);
            if let Some(stream) = slot.upgrade() {
                return Some(stream);
            }
            let (ready, is_ready) = oneshot::channel();
            let wire = self.clone();
            let task = tokio::spawn(async move { wire.run_get_stream(version, ready).await });
            let stream = Arc::new(GetStream {
                _task: AbortOnDrop(task),
            });
            *slot = Arc::downgrade(&stream);
            (stream, is_ready)
        };
        let _ = ready.await;
        Some(stream)
    }

    /// Waits until an `initialize` result replaces the session of `generation`.
    async fn session_replaced(&self, generation: u64) {
        loop {
            let changed = self.shared.session_changed.notified();
            if self.generation() != generation || self.session_id().is_none() {
                return;
            }
            changed.await;
        }
    }

    /// Reads the GET stream, reconnecting (with `Last-Event-ID`) when the server closes it and
    /// moving to the next session when this one expires, until the server says it has no stream
    /// (405), the client closes the session, or the credentials are refused.
    async fn run_get_stream(self, version: ProtocolVersion, ready: oneshot::Sender<()>) {
        let mut ready = Some(ready);
        let framing = Framing::Legacy(Some(version));
        let mut last: Option<String> = None;
        let mut failures: u32 = 0;
        loop {
            if self.session_id().is_none() {
                return;
            }
            let generation = self.generation();
            let headers = self.get_headers(Some(version), last.as_deref());
            let mut delay = DEFAULT_RETRY;
            let attempt = self.send(Method::GET, headers, None).await;
            if let Some(tx) = ready.take() {
                let _ = tx.send(());
            }
            match attempt {
                Ok(response)
                    if response.status().is_success()
                        && matches!(body_kind(response.headers()), BodyKind::Sse) =>
                {
                    failures = 0;
                    let mut reader = SseReader::new(response);
                    while let Some(Ok(item)) = reader.next().await {
                        if let SseItem::Message(m) = item {
                            self.dispatch(m, None, framing);
                        }
                    }
                    if let Some(id) = reader.last_event_id() {
                        last = Some(id.to_owned());
                    }
                    delay = retry_delay(reader.retry());
                }
                Ok(response) if response.status() == StatusCode::NOT_FOUND => {
                    // The session ended: follow the next one, which the client opens on its
                    // next request (T-55).
                    self.session_replaced(generation).await;
                    last = None;
                    failures = 0;
                    continue;
                }
                Ok(response) => match response.status() {
                    StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_ACCEPTABLE => return,
                    _ => failures += 1,
                },
                // Nothing a retry would change.
                Err(
                    e @ (Error::Unauthorized { .. }
                    | Error::Forbidden { .. }
                    | Error::Auth(_)
                    | Error::Redirected { .. }
                    | Error::InsecureUrl { .. }),
                ) => {
                    tracing::debug!(error = %e, "the session's GET stream stops");
                    return;
                }
                Err(_) => failures += 1,
            }
            let backoff = delay.saturating_mul(2u32.saturating_pow(failures.min(5)));
            tokio::time::sleep(backoff.min(MAX_RETRY)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Finding 3: the server's `retry:` hint is any u64 of milliseconds; the wait it yields is
    /// capped, and no value overflows.
    #[test]
    fn any_retry_hint_is_capped() {
        assert_eq!(retry_delay(None), DEFAULT_RETRY);
        assert_eq!(
            retry_delay(Some(Duration::from_millis(u64::MAX))),
            MAX_RETRY
        );
        assert_eq!(retry_delay(Some(Duration::MAX)), MAX_RETRY);
        assert_eq!(
            retry_delay(Some(Duration::from_millis(20))),
            Duration::from_millis(20)
        );
    }
}
