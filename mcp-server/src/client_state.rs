//! What the server remembers about one legacy-era client between requests: the negotiated
//! version and capabilities, the log level, resource subscriptions, requests in flight (for
//! `notifications/cancelled`) and requests the server sent to the client (awaiting answers).
//!
//! Transports own one per connection: the HTTP transport per `Mcp-Session-Id`, stdio per process.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use mcp_core::jsonrpc::{ErrorObject, RequestId};
use mcp_core::types::{ClientCapabilities, Implementation, LoggingLevel};
use mcp_core::version::ProtocolVersion;
use serde_json::Value;
use tokio::sync::oneshot;

use crate::BoxFuture;
use crate::error::ClientRequestError;
use tokio_util::sync::CancellationToken;

const LEVEL_UNSET: u8 = u8::MAX;
/// Modern requests that name no log level get no log messages (L-62).
const LEVEL_OFF: u8 = u8::MAX - 1;

/// The default bound on `resources/subscribe` subscriptions per client (see
/// `HttpConfig::max_subscriptions_per_session`).
pub(crate) const DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION: usize = 256;
/// The default bound on the length of a subscribed URI, in bytes.
pub(crate) const DEFAULT_MAX_SUBSCRIPTION_URI_BYTES: usize = 2048;

/// `-32602` naming the limit when `uri` is longer than `max_bytes`.
pub(crate) fn check_subscription_uri(uri: &str, max_bytes: usize) -> Result<(), ErrorObject> {
    if uri.len() <= max_bytes {
        return Ok(());
    }
    Err(ErrorObject::invalid_params(format!(
        "The resource URI is too long to subscribe to: at most {max_bytes} bytes"
    ))
    .with_data(serde_json::json!({"limit": "max_subscription_uri_bytes", "max": max_bytes})))
}

/// `-32602` naming the limit on subscriptions.
pub(crate) fn too_many_subscriptions(max: usize) -> ErrorObject {
    ErrorObject::invalid_params(format!(
        "Too many resource subscriptions: at most {max} per session or subscription"
    ))
    .with_data(serde_json::json!({"limit": "max_subscriptions_per_session", "max": max}))
}

/// The default bound on server→client requests waiting for answers (see
/// `McpServerBuilder::max_pending_client_requests`).
pub(crate) const DEFAULT_MAX_PENDING_CLIENT_REQUESTS: usize = 16;

/// The answer to a server→client request.
pub(crate) type ClientAnswer = Result<Value, ErrorObject>;

/// A change of a legacy client's state that the other server instances serving the same client
/// must learn of.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StateChange {
    /// `logging/setLevel`.
    LogLevel(LoggingLevel),
    /// `resources/subscribe`.
    Subscribed(String),
    /// `resources/unsubscribe`.
    Unsubscribed(String),
}

/// Where a legacy client's state is shared with other server instances (HTTP sessions on
/// Redis): changes are recorded there, and answers and cancellations this instance has no
/// taker for are handed on to the instance that has one.
pub(crate) trait SharedState: Send + Sync {
    /// Records `change`; the request that made it is answered once this completes, so that a
    /// request through another instance sees it.
    fn record(&self, change: StateChange) -> BoxFuture<'static, Result<(), ErrorObject>>;
    /// Hands on an answer to a server→client request that no handler here waits for.
    fn forward_answer(&self, id: RequestId, answer: ClientAnswer);
    /// Hands on a cancellation of a request that does not run here.
    fn forward_cancel(&self, id: RequestId);
}

/// Protocol-level state of one legacy client.
pub(crate) struct ClientState {
    pub version: ProtocolVersion,
    pub capabilities: Arc<ClientCapabilities>,
    pub client_info: Implementation,
    initialized: AtomicBool,
    log_level: AtomicU8,
    subscriptions: Mutex<HashSet<String>>,
    max_subscriptions: usize,
    max_subscription_uri_bytes: usize,
    in_flight: Mutex<HashMap<RequestId, CancellationToken>>,
    pending: Mutex<HashMap<RequestId, oneshot::Sender<ClientAnswer>>>,
    next_request_id: AtomicI64,
    /// The most entries of `pending`.
    max_pending: usize,
    /// One modern (2026-07-28) request: nothing spans requests, nothing is tracked.
    per_request: bool,
    /// Where the state is shared with other instances, and this instance's tag (part of the
    /// ids of server→client requests, so that two instances never issue the same id).
    shared: Option<(Arc<dyn SharedState>, Arc<str>)>,
    /// Cancelled when the client goes away (session ended, stdin closed).
    pub closed: CancellationToken,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock only means another request panicked while holding it; the data (plain
    // maps) stays consistent, so keep serving.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl ClientState {
    pub fn new(
        version: ProtocolVersion,
        capabilities: ClientCapabilities,
        client_info: Implementation,
    ) -> Self {
        ClientState {
            version,
            capabilities: Arc::new(capabilities),
            client_info,
            initialized: AtomicBool::new(false),
            log_level: AtomicU8::new(LEVEL_UNSET),
            subscriptions: Mutex::new(HashSet::new()),
            max_subscriptions: DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION,
            max_subscription_uri_bytes: DEFAULT_MAX_SUBSCRIPTION_URI_BYTES,
            in_flight: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            next_request_id: AtomicI64::new(0),
            max_pending: DEFAULT_MAX_PENDING_CLIENT_REQUESTS,
            per_request: false,
            shared: None,
            closed: CancellationToken::new(),
        }
    }

    /// Shares this state with other instances through `shared`; `instance` tags the ids of the
    /// server→client requests issued here.
    #[must_use]
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub fn with_shared(mut self, shared: Arc<dyn SharedState>, instance: Arc<str>) -> Self {
        self.shared = Some((shared, instance));
        self
    }

    /// Records a change of this state where other instances read it (nothing to do when the
    /// state is not shared).
    pub async fn share(&self, change: StateChange) -> Result<(), ErrorObject> {
        match &self.shared {
            Some((shared, _)) => shared.record(change).await,
            None => Ok(()),
        }
    }

    /// Applies a change recorded by another instance.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub fn apply(&self, change: &StateChange) {
        match change {
            StateChange::LogLevel(level) => self.set_log_level(*level),
            StateChange::Subscribed(uri) => {
                lock(&self.subscriptions).insert(uri.clone());
            }
            StateChange::Unsubscribed(uri) => {
                lock(&self.subscriptions).remove(uri);
            }
        }
    }

    /// Replaces the log level and subscriptions with what the shared record says.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub fn refresh(&self, level: Option<LoggingLevel>, subscriptions: HashSet<String>) {
        let level = level.map_or(LEVEL_UNSET, |l| l as u8);
        self.log_level.store(level, Ordering::Relaxed);
        *lock(&self.subscriptions) = subscriptions;
    }

    /// The state of one modern request: its declared capabilities and client info, and the log
    /// level of its `_meta` (none → no log messages).
    pub fn per_request(
        version: ProtocolVersion,
        capabilities: ClientCapabilities,
        client_info: Implementation,
        log_level: Option<LoggingLevel>,
    ) -> Self {
        let mut state = ClientState::new(version, capabilities, client_info);
        state.per_request = true;
        state.log_level = AtomicU8::new(log_level.map_or(LEVEL_OFF, |l| l as u8));
        state
    }

    /// Records `notifications/initialized` (L-12).
    pub fn mark_initialized(&self) {
        self.initialized.store(true, Ordering::Relaxed);
    }

    pub fn set_log_level(&self, level: LoggingLevel) {
        self.log_level.store(level as u8, Ordering::Relaxed);
    }

    /// Whether a message at `level` passes the level the client set (all pass when unset).
    pub fn log_enabled(&self, level: LoggingLevel) -> bool {
        match self.log_level.load(Ordering::Relaxed) {
            LEVEL_UNSET => true,
            LEVEL_OFF => false,
            min => level as u8 >= min,
        }
    }

    /// Sets the bounds of [`subscribe`](Self::subscribe): subscriptions held, URI bytes.
    #[must_use]
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub fn with_subscription_limits(
        mut self,
        max_subscriptions: usize,
        max_uri_bytes: usize,
    ) -> Self {
        self.max_subscriptions = max_subscriptions;
        self.max_subscription_uri_bytes = max_uri_bytes;
        self
    }

    /// Subscribes to `uri` (`resources/subscribe`). `-32602` naming the limit when the URI is
    /// too long or the client holds as many subscriptions as it may; subscribing again to a
    /// held URI always succeeds.
    pub fn subscribe(&self, uri: String) -> Result<(), ErrorObject> {
        check_subscription_uri(&uri, self.max_subscription_uri_bytes)?;
        let mut subscriptions = lock(&self.subscriptions);
        if subscriptions.len() >= self.max_subscriptions && !subscriptions.contains(&uri) {
            return Err(too_many_subscriptions(self.max_subscriptions));
        }
        subscriptions.insert(uri);
        Ok(())
    }

    pub fn unsubscribe(&self, uri: &str) {
        lock(&self.subscriptions).remove(uri);
    }

    pub fn is_subscribed(&self, uri: &str) -> bool {
        lock(&self.subscriptions).contains(uri)
    }

    /// Registers a running request so that `notifications/cancelled` can reach it. The guard
    /// unregisters it when dropped. Modern requests are not tracked: a disconnect cancels them.
    pub fn track(
        self: &Arc<Self>,
        id: RequestId,
        token: CancellationToken,
    ) -> Option<InFlightGuard> {
        if self.per_request {
            return None;
        }
        lock(&self.in_flight).insert(id.clone(), token);
        Some(InFlightGuard {
            state: Arc::clone(self),
            id,
        })
    }

    /// Cancels a running request; unknown or finished ids are ignored (L-40, L-43), or, when
    /// the state is shared, handed on to the instance that may run it.
    pub fn cancel(&self, id: &RequestId) {
        if !self.cancel_here(id) {
            if let Some((shared, _)) = &self.shared {
                shared.forward_cancel(id.clone());
            }
        }
    }

    /// Cancels a request running in this instance; false when none has that id.
    pub fn cancel_here(&self, id: &RequestId) -> bool {
        match lock(&self.in_flight).get(id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// Sets the bound on server→client requests waiting for answers.
    #[must_use]
    pub fn with_max_pending(mut self, max: usize) -> Self {
        self.max_pending = max.max(1);
        self
    }

    /// Registers a server→client request: its id and where its answer will arrive; refused
    /// when the client already has `max_pending` requests unanswered.
    pub fn begin_client_request(
        &self,
    ) -> Result<(RequestId, oneshot::Receiver<ClientAnswer>), ClientRequestError> {
        let mut pending = lock(&self.pending);
        if pending.len() >= self.max_pending {
            return Err(ClientRequestError::TooManyPending {
                max: self.max_pending,
            });
        }
        let n = self.next_request_id.fetch_add(1, Ordering::Relaxed);
        let id = match &self.shared {
            Some((_, instance)) => RequestId::String(format!("srv-{instance}-{n}")),
            None => RequestId::String(format!("srv-{n}")),
        };
        let (tx, rx) = oneshot::channel();
        pending.insert(id.clone(), tx);
        Ok((id, rx))
    }

    /// Forgets a server→client request that will not be answered (timeout, cancellation).
    pub fn abandon_client_request(&self, id: &RequestId) {
        lock(&self.pending).remove(id);
    }

    /// Delivers the client's answer to the request waiting for it here or, when the state is
    /// shared, in another instance; false when no request here waits and there is no other.
    pub fn deliver_answer(&self, id: &RequestId, answer: ClientAnswer) -> bool {
        let Some((shared, _)) = &self.shared else {
            return self.complete_client_request(id, answer);
        };
        let waiting = lock(&self.pending).remove(id);
        match waiting {
            Some(tx) => tx.send(answer).is_ok(),
            None => {
                shared.forward_answer(id.clone(), answer);
                true
            }
        }
    }

    /// Delivers the client's answer; returns false when no request with that id is waiting.
    pub fn complete_client_request(&self, id: &RequestId, answer: ClientAnswer) -> bool {
        match lock(&self.pending).remove(id) {
            Some(tx) => tx.send(answer).is_ok(),
            None => false,
        }
    }

    /// Ends everything tied to this client: cancels running requests and pending waits.
    pub fn close(&self) {
        self.closed.cancel();
        for token in lock(&self.in_flight).values() {
            token.cancel();
        }
        lock(&self.pending).clear();
    }
}

/// Removes a request from the in-flight table when it finishes.
pub(crate) struct InFlightGuard {
    state: Arc<ClientState>,
    id: RequestId,
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        lock(&self.state.in_flight).remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> Arc<ClientState> {
        Arc::new(ClientState::new(
            ProtocolVersion::V2025_11_25,
            ClientCapabilities::default(),
            Implementation::new("t", "0"),
        ))
    }

    /// Finding 13: subscriptions per client and the length of their URIs are bounded.
    #[test]
    fn subscriptions_are_bounded_in_number_and_uri_length() {
        let s = ClientState::new(
            ProtocolVersion::V2025_11_25,
            ClientCapabilities::default(),
            Implementation::new("t", "0"),
        )
        .with_subscription_limits(2, 16);
        s.subscribe("a://1".into()).unwrap();
        s.subscribe("a://2".into()).unwrap();
        s.subscribe("a://2".into()).unwrap();
        let e = s.subscribe("a://3".into()).unwrap_err();
        assert_eq!(e.code, mcp_core::ErrorCode::INVALID_PARAMS);
        assert!(e.message.contains("at most 2"), "{}", e.message);
        s.unsubscribe("a://1");
        s.subscribe("a://3".into()).unwrap();
        let e = s
            .subscribe("a://".to_owned() + &"x".repeat(13))
            .unwrap_err();
        assert!(e.message.contains("at most 16 bytes"), "{}", e.message);
        assert!(s.is_subscribed("a://3") && !s.is_subscribed("a://1"));
    }

    #[test]
    fn log_level_filters_below_the_minimum() {
        let s = state();
        assert!(s.log_enabled(LoggingLevel::Debug));
        s.set_log_level(LoggingLevel::Warning);
        assert!(!s.log_enabled(LoggingLevel::Info));
        assert!(s.log_enabled(LoggingLevel::Error));
    }

    #[test]
    fn cancellation_reaches_tracked_requests_only_while_running() {
        let s = state();
        let token = CancellationToken::new();
        let guard = s.track(RequestId::Number(5), token.clone());
        s.cancel(&RequestId::Number(6));
        assert!(!token.is_cancelled());
        s.cancel(&RequestId::Number(5));
        assert!(token.is_cancelled());
        drop(guard);
        assert!(lock(&s.in_flight).is_empty());
    }

    #[tokio::test]
    async fn client_answers_reach_their_waiter() {
        let s = state();
        let (id, rx) = s.begin_client_request().unwrap();
        assert!(!s.complete_client_request(&RequestId::Number(99), Ok(Value::Null)));
        assert!(s.complete_client_request(&id, Ok(serde_json::json!({"ok": true}))));
        assert_eq!(rx.await.unwrap().unwrap()["ok"], true);
    }
}
