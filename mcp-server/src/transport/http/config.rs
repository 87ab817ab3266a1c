//! Settings of the Streamable HTTP transport.

use std::sync::Arc;
use std::time::Duration;

use super::event_store::{EventStore, InMemoryEventStore};

/// Whether legacy clients get sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SessionMode {
    /// `initialize` opens a session (`Mcp-Session-Id`); later requests must name it (T-52).
    /// Needed for server→client requests, the GET stream and resumable streams.
    #[default]
    Stateful,
    /// No sessions: every request stands alone. GET answers 405; sampling and elicitation are
    /// unavailable.
    Stateless,
}

/// Settings of the Streamable HTTP transport. Defaults are safe for a local server.
#[derive(Clone)]
#[non_exhaustive]
pub struct HttpConfig {
    /// Extra `Host` values to accept, as `host` (any port) or `host:port`. Loopback names
    /// (`localhost`, `127.0.0.1`, `[::1]`) are always accepted unless
    /// [`allow_loopback`](Self::allow_loopback) is off. `*` accepts any host.
    pub allowed_hosts: Vec<String>,
    /// Extra `Origin` values to accept, exactly as browsers send them (`https://app.example`).
    /// An origin whose host is an accepted host is accepted too. `*` accepts any origin.
    pub allowed_origins: Vec<String>,
    /// Whether loopback hosts and origins are accepted (default true).
    pub allow_loopback: bool,
    /// The largest request body, in bytes (default 4 MiB); larger bodies get 413.
    pub max_body_bytes: usize,
    /// Sessions or not (default: sessions).
    pub session_mode: SessionMode,
    /// The most live sessions at once (default 10 000); beyond it `initialize` gets 503.
    pub max_sessions: usize,
    /// A session unused for this long ends (default 30 minutes).
    pub session_idle_timeout: Duration,
    /// Where SSE events are kept for resumption (default: in memory, bounded).
    pub event_store: Arc<dyn EventStore>,
    /// The `retry:` hint (milliseconds) sent with priming events and before closing a stream
    /// early (default 1000).
    pub sse_retry: Duration,
    /// How often an idle GET stream gets a keep-alive comment (default 15 s; `None` for never).
    pub sse_keep_alive: Option<Duration>,
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("allowed_hosts", &self.allowed_hosts)
            .field("allowed_origins", &self.allowed_origins)
            .field("allow_loopback", &self.allow_loopback)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("session_mode", &self.session_mode)
            .field("max_sessions", &self.max_sessions)
            .field("session_idle_timeout", &self.session_idle_timeout)
            .finish_non_exhaustive()
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            allow_loopback: true,
            max_body_bytes: 4 * 1024 * 1024,
            session_mode: SessionMode::Stateful,
            max_sessions: 10_000,
            session_idle_timeout: Duration::from_secs(30 * 60),
            event_store: Arc::new(InMemoryEventStore::default()),
            sse_retry: Duration::from_millis(1000),
            sse_keep_alive: Some(Duration::from_secs(15)),
        }
    }
}

impl HttpConfig {
    /// Accepts another `Host` (e.g. the public name behind a proxy).
    #[must_use]
    pub fn allow_host(mut self, host: impl Into<String>) -> Self {
        self.allowed_hosts.push(host.into());
        self
    }

    /// Accepts another browser `Origin`.
    #[must_use]
    pub fn allow_origin(mut self, origin: impl Into<String>) -> Self {
        self.allowed_origins.push(origin.into());
        self
    }

    /// Sets the body limit.
    #[must_use]
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }

    /// Sets the session mode.
    #[must_use]
    pub fn session_mode(mut self, mode: SessionMode) -> Self {
        self.session_mode = mode;
        self
    }

    /// Shorthand for [`SessionMode::Stateless`].
    #[must_use]
    pub fn stateless(self) -> Self {
        self.session_mode(SessionMode::Stateless)
    }

    /// Sets the bound on live sessions.
    #[must_use]
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.max_sessions = n;
        self
    }

    /// Sets the idle timeout of sessions.
    #[must_use]
    pub fn session_idle_timeout(mut self, d: Duration) -> Self {
        self.session_idle_timeout = d;
        self
    }

    /// Sets the event store.
    #[must_use]
    pub fn event_store(mut self, store: Arc<dyn EventStore>) -> Self {
        self.event_store = store;
        self
    }
}
