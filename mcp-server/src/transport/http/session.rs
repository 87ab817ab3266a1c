//! Legacy-era sessions (`Mcp-Session-Id`, T-50..T-56): creation with a random id, lookup with
//! idle expiry, a bound on how many live at once, and the event streams each one owns. With
//! [`SharedSessions`] the sessions live in a shared backend and this manager keeps working
//! copies of those it serves (see the `shared` module).

use crate::auth::Principal;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::{Duration, Instant};

use mcp_core::jsonrpc::{ErrorObject, Notification, RequestId};
use mcp_core::types::{ResourceUpdatedNotificationParams, methods};

use super::config::HttpConfig;
use super::event_store::EventStore;
use super::shared::{Message, SessionRecord, SharedSessions, Unavailable};
use super::sse::{SseStream, Storage};
use crate::BoxFuture;
use crate::client_state::{ClientAnswer, ClientState, SharedState, StateChange};
use crate::server::{Change, ChangeListener};
use crate::telemetry::{ServerMetrics, Transport};

/// The id of the standalone GET stream of every session.
pub(crate) const STANDALONE_STREAM: &str = "get";

/// One legacy session.
pub(crate) struct Session {
    pub id: Arc<str>,
    pub client: Arc<ClientState>,
    /// Who created the session; anyone else gets 404 for it (T-55).
    principal: Option<Principal>,
    created: Instant,
    last_seen_ms: AtomicU64,
    next_stream: AtomicU64,
    /// Streams that may still receive events, by stream id (for resumption).
    streams: Mutex<HashMap<String, Arc<SseStream>>>,
    store: Arc<dyn EventStore>,
    retry: Duration,
    /// The backend sharing the session with other instances, and the session's expiry there.
    shared: Option<(Arc<dyn SharedSessions>, Duration)>,
}

impl Session {
    fn touch(&self) {
        let ms = u64::try_from(self.created.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_seen_ms.store(ms, Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_seen_ms.load(Ordering::Relaxed));
        self.created.elapsed().saturating_sub(last)
    }

    fn storage(&self) -> Storage {
        Storage {
            store: Arc::clone(&self.store),
            session_id: Arc::clone(&self.id),
            shared: self.shared.as_ref().map(|(s, _)| Arc::clone(s)),
        }
    }

    fn streams(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<SseStream>>> {
        self.streams.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens a new resumable POST response stream. With shared sessions its id names this
    /// instance, and the backend learns that it runs (for followers through other instances).
    pub async fn open_stream(&self) -> (Arc<SseStream>, tokio::sync::mpsc::Receiver<bytes::Bytes>) {
        let n = self.next_stream.fetch_add(1, Ordering::Relaxed);
        let id = match &self.shared {
            Some((shared, ttl)) => {
                let id = format!("{}-{n}", shared.instance());
                if let Err(e) = shared.set_stream_live(&self.id, &id, true, *ttl).await {
                    // The stream still works here; a resumption elsewhere ends after the replay.
                    tracing::debug!(error = %e, "could not record a running stream");
                }
                id
            }
            None => n.to_string(),
        };
        let (stream, rx) = SseStream::open(id, Some(self.storage()), self.retry);
        self.streams()
            .insert(stream.id.clone(), Arc::clone(&stream));
        (stream, rx)
    }

    /// How many streams the session has open (POST streams still running, and the standalone
    /// stream once used).
    pub fn open_streams(&self) -> usize {
        self.streams().len()
    }

    /// Forgets a stream that has sent its last event (its events stay in the store).
    pub fn close_stream(&self, id: &str) {
        self.streams().remove(id);
        if let Some((shared, ttl)) = &self.shared {
            let (shared, ttl) = (Arc::clone(shared), *ttl);
            let (session, stream) = (Arc::clone(&self.id), id.to_owned());
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    if let Err(e) = shared.set_stream_live(&session, &stream, false, ttl).await {
                        tracing::debug!(error = %e, "could not record a finished stream");
                    }
                });
            }
        }
    }

    pub fn stream(&self, id: &str) -> Option<Arc<SseStream>> {
        self.streams().get(id).cloned()
    }

    /// The standalone GET stream, created on first use.
    pub fn standalone(&self) -> Arc<SseStream> {
        let mut streams = self.streams();
        Arc::clone(
            streams
                .entry(STANDALONE_STREAM.to_owned())
                .or_insert_with(|| {
                    SseStream::detached(
                        STANDALONE_STREAM.to_owned(),
                        Some(self.storage()),
                        self.retry,
                    )
                }),
        )
    }

    fn existing_standalone(&self) -> Option<Arc<SseStream>> {
        self.stream(STANDALONE_STREAM)
    }

    pub fn store(&self) -> &Arc<dyn EventStore> {
        &self.store
    }

    /// The backend the session is shared through and the session's idle timeout, if shared.
    pub fn shared(&self) -> Option<(&Arc<dyn SharedSessions>, Duration)> {
        self.shared.as_ref().map(|(s, ttl)| (s, *ttl))
    }

    /// Ends this instance's copy: cancels its requests, closes its streams; forgets the
    /// session's events when `forget_events`.
    fn close(&self, forget_events: bool) {
        self.client.close();
        let streams: Vec<_> = self.streams().drain().map(|(_, s)| s).collect();
        let store = Arc::clone(&self.store);
        let sid = Arc::clone(&self.id);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                for s in streams {
                    s.finish().await;
                }
                if forget_events {
                    store.remove_session(&sid).await;
                }
            });
        }
    }
}

/// What ties a shared session's client state to the backend: changes are recorded there,
/// answers and cancellations with no taker here are handed on.
struct SharedLink {
    shared: Arc<dyn SharedSessions>,
    id: Arc<str>,
    ttl: Duration,
}

impl SharedState for SharedLink {
    fn record(&self, change: StateChange) -> BoxFuture<'static, Result<(), ErrorObject>> {
        let (shared, id, ttl) = (Arc::clone(&self.shared), Arc::clone(&self.id), self.ttl);
        Box::pin(async move {
            shared.record(&id, &change, ttl).await.map_err(|e| {
                tracing::warn!(error = %e, "could not share a change of a session");
                ErrorObject::internal_error("The session store is unavailable; try again")
            })
        })
    }

    fn forward_answer(&self, id: RequestId, answer: ClientAnswer) {
        self.shared.publish(Message::Answer {
            s: self.id.to_string(),
            id,
            answer,
        });
    }

    fn forward_cancel(&self, id: RequestId) {
        self.shared.publish(Message::Cancel {
            s: self.id.to_string(),
            id,
        });
    }
}

/// Why a session could not be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CreateError {
    /// This instance holds as many sessions as it may.
    TooMany,
    /// The shared backend did not answer.
    Unavailable(Unavailable),
}

/// All live sessions of one HTTP endpoint.
pub(crate) struct SessionManager {
    sessions: RwLock<HashMap<Arc<str>, Arc<Session>>>,
    max_sessions: usize,
    idle_timeout: Duration,
    store: Arc<dyn EventStore>,
    retry: Duration,
    /// Subscriptions per session, and the longest subscribed URI.
    subscription_limits: (usize, usize),
    background_started: std::sync::Once,
    metrics: ServerMetrics,
    shared: Option<Arc<dyn SharedSessions>>,
    /// Who hears of the list changes made in other instances (this manager among them).
    remote_listeners: OnceLock<Vec<Weak<dyn ChangeListener>>>,
}

fn random_session_id() -> Option<String> {
    crate::crypto::random_hex::<16>().ok()
}

/// Whether `id` has the form of the ids [`random_session_id`] makes: 32 hex digits.
fn is_session_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

impl SessionManager {
    pub fn new(config: &HttpConfig, metrics: ServerMetrics) -> Arc<Self> {
        Arc::new(SessionManager {
            sessions: RwLock::new(HashMap::new()),
            max_sessions: config.max_sessions,
            idle_timeout: config.session_idle_timeout,
            store: Arc::clone(&config.event_store),
            retry: config.sse_retry,
            subscription_limits: (
                config.max_subscriptions_per_session,
                config.max_subscription_uri_bytes,
            ),
            background_started: std::sync::Once::new(),
            metrics,
            shared: config.shared_sessions.clone(),
            remote_listeners: OnceLock::new(),
        })
    }

    /// The backend sessions are shared through, if any.
    pub fn shared(&self) -> Option<&Arc<dyn SharedSessions>> {
        self.shared.as_ref()
    }

    /// Sets who hears of list changes made in other instances.
    pub fn set_remote_listeners(&self, listeners: Vec<Weak<dyn ChangeListener>>) {
        let _ = self.remote_listeners.set(listeners);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Arc<str>, Arc<Session>>> {
        self.sessions.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<Arc<str>, Arc<Session>>> {
        self.sessions.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Room for one more session copy here: sweeps idle ones when full.
    fn has_room(&self) -> bool {
        if self.read().len() < self.max_sessions {
            return true;
        }
        self.sweep();
        self.read().len() < self.max_sessions
    }

    /// A session object for `id` (not yet registered).
    fn assemble(
        &self,
        id: Arc<str>,
        client: ClientState,
        principal: Option<Principal>,
    ) -> Arc<Session> {
        let (subscriptions, uri_bytes) = self.subscription_limits;
        let mut client = client.with_subscription_limits(subscriptions, uri_bytes);
        if let Some(shared) = &self.shared {
            let link = SharedLink {
                shared: Arc::clone(shared),
                id: Arc::clone(&id),
                ttl: self.idle_timeout,
            };
            client = client.with_shared(Arc::new(link), Arc::clone(shared.instance()));
        }
        Arc::new(Session {
            id,
            client: Arc::new(client),
            principal,
            created: Instant::now(),
            last_seen_ms: AtomicU64::new(0),
            next_stream: AtomicU64::new(0),
            streams: Mutex::new(HashMap::new()),
            store: Arc::clone(&self.store),
            retry: self.retry,
            shared: self
                .shared
                .as_ref()
                .map(|s| (Arc::clone(s), self.idle_timeout)),
        })
    }

    /// Creates a session for a client that just initialized. The id is 128 random bits from the
    /// operating system, hex-encoded (visible ASCII, T-51). With shared sessions its record is
    /// stored first.
    pub async fn create(
        self: &Arc<Self>,
        client: ClientState,
        principal: Option<Principal>,
    ) -> Result<Arc<Session>, CreateError> {
        self.start_background();
        if !self.has_room() {
            return Err(CreateError::TooMany);
        }
        let id: Arc<str> = random_session_id().ok_or(CreateError::TooMany)?.into();
        if let Some(shared) = &self.shared {
            let record = SessionRecord {
                version: client.version,
                capabilities: (*client.capabilities).clone(),
                client_info: client.client_info.clone(),
                principal: principal.clone(),
                log_level: None,
                subscriptions: Default::default(),
            };
            shared
                .create(&id, &record, self.idle_timeout)
                .await
                .map_err(CreateError::Unavailable)?;
        }
        let session = self.assemble(Arc::clone(&id), client, principal);
        self.write().insert(id, Arc::clone(&session));
        self.metrics.session_opened(Transport::Http);
        Ok(session)
    }

    /// A live session of `principal`; an unknown, ended, expired or someone else's session is
    /// `None` (→ 404, T-53, T-55). With shared sessions the record is read (and its expiry
    /// renewed) on every call; `Err` when the backend does not answer.
    pub async fn get(
        self: &Arc<Self>,
        id: &str,
        principal: Option<&Principal>,
    ) -> Result<Option<Arc<Session>>, Unavailable> {
        let Some(shared) = &self.shared else {
            return Ok(self.get_local(id, principal));
        };
        self.start_background();
        // Not an id this server issues: unknown, without a round trip to the backend.
        if !is_session_id(id) {
            return Ok(None);
        }
        let Some(record) = shared.load(id, self.idle_timeout).await? else {
            self.end_local(id, false);
            return Ok(None);
        };
        if record.principal.as_ref() != principal {
            return Ok(None);
        }
        let existing = self.read().get(id).cloned();
        let session = match existing {
            Some(s) => s,
            None => {
                if !self.has_room() {
                    return Err(Unavailable("this instance serves too many sessions".into()));
                }
                let client = ClientState::new(
                    record.version,
                    record.capabilities.clone(),
                    record.client_info.clone(),
                );
                let session = self.assemble(id.into(), client, record.principal.clone());
                let mut sessions = self.write();
                let session =
                    Arc::clone(sessions.entry(Arc::clone(&session.id)).or_insert(session));
                drop(sessions);
                self.metrics.session_opened(Transport::Http);
                session
            }
        };
        session
            .client
            .refresh(record.log_level, record.subscriptions);
        session.touch();
        Ok(Some(session))
    }

    fn get_local(&self, id: &str, principal: Option<&Principal>) -> Option<Arc<Session>> {
        let session = self.read().get(id).cloned()?;
        if session.principal.as_ref() != principal {
            return None;
        }
        if session.idle_for() > self.idle_timeout {
            self.end(id);
            return None;
        }
        session.touch();
        Some(session)
    }

    /// Ends a session (`DELETE`): everywhere when shared, then here.
    pub async fn end_everywhere(&self, id: &str) -> Result<(), Unavailable> {
        if let Some(shared) = &self.shared {
            shared.remove(id).await?;
        }
        self.end(id);
        Ok(())
    }

    /// Ends a session here: cancels its requests, closes its streams, forgets its events.
    pub fn end(&self, id: &str) -> bool {
        self.end_local(id, true)
    }

    /// Drops this instance's copy of a session; its events are forgotten when
    /// `forget_events`.
    fn end_local(&self, id: &str, forget_events: bool) -> bool {
        let Some(session) = self.write().remove(id) else {
            return false;
        };
        self.metrics.session_closed(
            session.created.elapsed().as_secs_f64(),
            session.client.version.as_str(),
            Transport::Http,
        );
        session.close(forget_events);
        true
    }

    /// Closes every standalone GET stream with a `retry:` hint (the client reconnects later, or
    /// elsewhere); the sessions and their requests in flight go on.
    pub async fn disconnect_standalone_streams(&self) {
        let streams: Vec<_> = self
            .read()
            .values()
            .filter_map(|s| s.existing_standalone())
            .collect();
        for s in streams {
            s.disconnect().await;
        }
    }

    /// Ends every session (at shutdown). Shared sessions go on in the other instances: only
    /// this instance's copies end.
    pub fn end_all(&self) {
        let ids: Vec<Arc<str>> = self.read().keys().cloned().collect();
        let forget_events = self.shared.is_none();
        for id in ids {
            self.end_local(&id, forget_events);
        }
    }

    /// Ends every session idle for longer than the timeout. A shared session's copy is only
    /// dropped (when none of its streams is open here): the backend expires the session.
    pub fn sweep(&self) {
        let shared = self.shared.is_some();
        let expired: Vec<Arc<str>> = self
            .read()
            .values()
            .filter(|s| s.idle_for() > self.idle_timeout && !(shared && s.open_streams() > 0))
            .map(|s| Arc::clone(&s.id))
            .collect();
        for id in expired {
            self.end_local(&id, !shared);
        }
    }

    /// Starts the idle sweeper and, with shared sessions, the reader of the other instances'
    /// messages (once; they need a runtime, so on first use rather than at construction).
    pub fn start_background(self: &Arc<Self>) {
        self.background_started.call_once(|| {
            let weak: Weak<Self> = Arc::downgrade(self);
            let period =
                (self.idle_timeout / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    let mut tick = tokio::time::interval(period);
                    tick.tick().await;
                    loop {
                        tick.tick().await;
                        let Some(manager) = weak.upgrade() else { break };
                        manager.sweep();
                    }
                });
                if let Some(shared) = &self.shared {
                    rt.spawn(receive(Arc::downgrade(self), shared.messages()));
                }
            }
        });
    }

    fn local(&self, id: &str) -> Option<Arc<Session>> {
        self.read().get(id).cloned()
    }

    /// Applies a message of another instance.
    fn apply(&self, message: &Message) {
        match message {
            Message::Ended { s } => {
                self.end_local(s, false);
            }
            Message::State { s, change } => {
                if let Some(session) = self.local(s) {
                    session.client.apply(change);
                }
            }
            Message::Answer { s, id, answer } => {
                if let Some(session) = self.local(s) {
                    session.client.complete_client_request(id, answer.clone());
                }
            }
            Message::Cancel { s, id } => {
                if let Some(session) = self.local(s) {
                    session.client.cancel_here(id);
                }
            }
            Message::Change { change } => {
                let change = Change::from(change.clone());
                for listener in self.remote_listeners.get().into_iter().flatten() {
                    if let Some(listener) = listener.upgrade() {
                        listener.on_change(&change);
                    }
                }
            }
            Message::Stream { .. } => {}
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.read().len()
    }
}

/// Reads the other instances' messages until the manager goes away.
async fn receive(
    manager: Weak<SessionManager>,
    mut messages: tokio::sync::broadcast::Receiver<Arc<Message>>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let message = match messages.recv().await {
            Ok(m) => m,
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "too slow to read the other instances' messages");
                continue;
            }
            Err(RecvError::Closed) => break,
        };
        let Some(manager) = manager.upgrade() else {
            break;
        };
        manager.apply(&message);
    }
}

impl ChangeListener for SessionManager {
    fn on_change(&self, change: &Change) {
        let (method, params) = match change {
            Change::Tools => (methods::NOTIFICATION_TOOLS_LIST_CHANGED, None),
            Change::Prompts => (methods::NOTIFICATION_PROMPTS_LIST_CHANGED, None),
            Change::Resources => (methods::NOTIFICATION_RESOURCES_LIST_CHANGED, None),
            Change::ResourceUpdated(uri) => (
                methods::NOTIFICATION_RESOURCES_UPDATED,
                serde_json::to_value(ResourceUpdatedNotificationParams {
                    uri: uri.clone(),
                    meta: None,
                })
                .ok(),
            ),
        };
        let Ok(json) = serde_json::to_string(&Notification::new(method, params)) else {
            return;
        };
        let json: Arc<str> = json.into();
        let targets: Vec<Arc<SseStream>> = self
            .read()
            .values()
            .filter(|s| match change {
                Change::ResourceUpdated(uri) => s.client.is_subscribed(uri),
                _ => true,
            })
            .filter_map(|s| s.existing_standalone())
            .collect();
        if targets.is_empty() {
            return;
        }
        // A shared session may have a standalone stream object in several instances; only the
        // one its client is connected to sends (and stores) the notification.
        let connected_only = self.shared.is_some();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                for stream in targets {
                    if connected_only && !stream.is_connected().await {
                        continue;
                    }
                    stream.send(Arc::clone(&json)).await;
                }
            });
        }
    }
}

/// Tells the other instances of the list changes made here.
pub(crate) struct ChangeRelay(pub Arc<dyn SharedSessions>);

impl ChangeListener for ChangeRelay {
    fn on_change(&self, change: &Change) {
        self.0.publish(Message::Change {
            change: change.into(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_core::types::{ClientCapabilities, Implementation};
    use mcp_core::version::ProtocolVersion;

    fn client() -> ClientState {
        ClientState::new(
            ProtocolVersion::V2025_11_25,
            ClientCapabilities::default(),
            Implementation::new("t", "0"),
        )
    }

    #[tokio::test]
    async fn ids_are_random_visible_ascii_and_sessions_are_bounded() {
        let config = HttpConfig::default().max_sessions(2);
        let m = SessionManager::new(&config, ServerMetrics::default());
        let a = m.create(client(), None).await.unwrap();
        let b = m.create(client(), None).await.unwrap();
        assert_ne!(a.id, b.id);
        assert!(a.id.bytes().all(|c| (0x21..=0x7e).contains(&c)));
        assert_eq!(a.id.len(), 32);
        assert!(m.create(client(), None).await.is_err());
        assert!(m.end(&a.id));
        assert!(m.get(&a.id, None).await.unwrap().is_none());
        assert!(m.create(client(), None).await.is_ok());
    }

    #[test]
    fn only_ids_of_the_issued_form_reach_a_shared_backend() {
        let id = random_session_id().unwrap();
        assert!(is_session_id(&id));
        for bad in ["", "abc", &"g".repeat(32), &"a".repeat(33), "{x}:r"] {
            assert!(!is_session_id(bad), "{bad}");
        }
    }

    #[tokio::test]
    async fn idle_sessions_expire() {
        let config = HttpConfig::default().session_idle_timeout(Duration::from_millis(20));
        let m = SessionManager::new(&config, ServerMetrics::default());
        let s = m.create(client(), None).await.unwrap();
        assert!(m.get(&s.id, None).await.unwrap().is_some());
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(m.get(&s.id, None).await.unwrap().is_none());
        assert_eq!(m.len(), 0);
    }
}
