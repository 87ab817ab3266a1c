//! Legacy-era sessions (`Mcp-Session-Id`, T-50..T-56): creation with a random id, lookup with
//! idle expiry, a bound on how many live at once, and the event streams each one owns.

use crate::auth::Principal;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use mcp_core::jsonrpc::Notification;
use mcp_core::types::{ResourceUpdatedNotificationParams, methods};

use super::config::HttpConfig;
use super::event_store::EventStore;
use super::sse::{SseStream, Storage};
use crate::client_state::ClientState;
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
        }
    }

    fn streams(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<SseStream>>> {
        self.streams.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens a new resumable POST response stream.
    pub fn open_stream(&self) -> (Arc<SseStream>, tokio::sync::mpsc::Receiver<bytes::Bytes>) {
        let n = self.next_stream.fetch_add(1, Ordering::Relaxed);
        let (stream, rx) = SseStream::open(n.to_string(), Some(self.storage()), self.retry);
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
}

/// Why a session could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooManySessions;

/// All live sessions of one HTTP endpoint.
pub(crate) struct SessionManager {
    sessions: RwLock<HashMap<Arc<str>, Arc<Session>>>,
    max_sessions: usize,
    idle_timeout: Duration,
    store: Arc<dyn EventStore>,
    retry: Duration,
    /// Subscriptions per session, and the longest subscribed URI.
    subscription_limits: (usize, usize),
    sweeper_started: std::sync::Once,
    metrics: ServerMetrics,
}

fn random_session_id() -> Option<String> {
    crate::crypto::random_hex::<16>().ok()
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
            sweeper_started: std::sync::Once::new(),
            metrics,
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Arc<str>, Arc<Session>>> {
        self.sessions.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<Arc<str>, Arc<Session>>> {
        self.sessions.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates a session for a client that just initialized. The id is 128 random bits from the
    /// operating system, hex-encoded (visible ASCII, T-51).
    pub fn create(
        self: &Arc<Self>,
        client: ClientState,
        principal: Option<Principal>,
    ) -> Result<Arc<Session>, TooManySessions> {
        self.start_sweeper();
        if self.read().len() >= self.max_sessions {
            self.sweep();
            if self.read().len() >= self.max_sessions {
                return Err(TooManySessions);
            }
        }
        let id: Arc<str> = random_session_id().ok_or(TooManySessions)?.into();
        let (subscriptions, uri_bytes) = self.subscription_limits;
        let client = client.with_subscription_limits(subscriptions, uri_bytes);
        let session = Arc::new(Session {
            id: Arc::clone(&id),
            client: Arc::new(client),
            principal,
            created: Instant::now(),
            last_seen_ms: AtomicU64::new(0),
            next_stream: AtomicU64::new(0),
            streams: Mutex::new(HashMap::new()),
            store: Arc::clone(&self.store),
            retry: self.retry,
        });
        self.write().insert(id, Arc::clone(&session));
        self.metrics.session_opened(Transport::Http);
        Ok(session)
    }

    /// A live session of `principal`; an unknown, ended, expired or someone else's session is
    /// `None` (→ 404, T-53, T-55).
    pub fn get(&self, id: &str, principal: Option<&Principal>) -> Option<Arc<Session>> {
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

    /// Ends a session: cancels its requests, closes its streams, forgets its events.
    pub fn end(&self, id: &str) -> bool {
        let Some(session) = self.write().remove(id) else {
            return false;
        };
        session.client.close();
        self.metrics.session_closed(
            session.created.elapsed().as_secs_f64(),
            session.client.version.as_str(),
            Transport::Http,
        );
        let streams: Vec<_> = session.streams().drain().map(|(_, s)| s).collect();
        let store = Arc::clone(&session.store);
        let sid = Arc::clone(&session.id);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                for s in streams {
                    s.finish().await;
                }
                store.remove_session(&sid).await;
            });
        }
        true
    }

    /// Ends every session (at shutdown).
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

    pub fn end_all(&self) {
        let ids: Vec<Arc<str>> = self.read().keys().cloned().collect();
        for id in ids {
            self.end(&id);
        }
    }

    /// Ends every session idle for longer than the timeout.
    pub fn sweep(&self) {
        let expired: Vec<Arc<str>> = self
            .read()
            .values()
            .filter(|s| s.idle_for() > self.idle_timeout)
            .map(|s| Arc::clone(&s.id))
            .collect();
        for id in expired {
            self.end(&id);
        }
    }

    fn start_sweeper(self: &Arc<Self>) {
        self.sweeper_started.call_once(|| {
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
            }
        });
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.read().len()
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
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                for stream in targets {
                    stream.send(Arc::clone(&json)).await;
                }
            });
        }
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
        let a = m.create(client(), None).unwrap();
        let b = m.create(client(), None).unwrap();
        assert_ne!(a.id, b.id);
        assert!(a.id.bytes().all(|c| (0x21..=0x7e).contains(&c)));
        assert_eq!(a.id.len(), 32);
        assert!(m.create(client(), None).is_err());
        assert!(m.end(&a.id));
        assert!(m.get(&a.id, None).is_none());
        assert!(m.create(client(), None).is_ok());
    }

    #[tokio::test]
    async fn idle_sessions_expire() {
        let config = HttpConfig::default().session_idle_timeout(Duration::from_millis(20));
        let m = SessionManager::new(&config, ServerMetrics::default());
        let s = m.create(client(), None).unwrap();
        assert!(m.get(&s.id, None).is_some());
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(m.get(&s.id, None).is_none());
        assert_eq!(m.len(), 0);
    }
}
