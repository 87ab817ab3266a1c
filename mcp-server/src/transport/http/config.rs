//! Settings of the Streamable HTTP transport.

use std::sync::Arc;
use std::time::Duration;

use super::event_store::{EventStore, InMemoryEventStore};
use crate::client_state::{
    DEFAULT_MAX_SUBSCRIPTION_URI_BYTES, DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION,
};

const DEFAULT_MAX_BATCH_MESSAGES: usize = 100;
const DEFAULT_MAX_BATCH_CONCURRENCY: usize = 8;

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
    pub(crate) allowed_hosts: Vec<String>,
    /// Extra `Origin` values to accept, exactly as browsers send them (`https://app.example`).
    /// An origin whose host is an accepted host is accepted too. `*` accepts any origin.
    pub(crate) allowed_origins: Vec<String>,
    /// Whether loopback hosts and origins are accepted (default true).
    pub(crate) allow_loopback: bool,
    /// The largest request body, in bytes (default 4 MiB); larger bodies get 413.
    pub(crate) max_body_bytes: usize,
    /// Sessions or not (default: sessions).
    pub(crate) session_mode: SessionMode,
    /// The most live sessions at once (default 10 000); beyond it `initialize` gets 503.
    pub(crate) max_sessions: usize,
    /// A session unused for this long ends (default 30 minutes).
    pub(crate) session_idle_timeout: Duration,
    /// Where SSE events are kept for resumption (default: [`InMemoryEventStore`], bounded to
    /// 1024 events per session, 8 MiB per stream and 128 MiB in all, oldest evicted first).
    pub(crate) event_store: Arc<dyn EventStore>,
    /// The `retry:` hint (milliseconds) sent with priming events and before closing a stream
    /// early (default 1000).
    pub(crate) sse_retry: Duration,
    /// How often an idle GET stream gets a keep-alive comment (default 15 s; `None` for never).
    pub(crate) sse_keep_alive: Option<Duration>,
    /// The most messages in one JSON-RPC batch (2025-03-26; default 100). A larger batch is
    /// refused whole, before any of it runs: HTTP 400 with `-32600` naming the limit.
    pub(crate) max_batch_messages: usize,
    /// How many requests of one batch run at once (default 8, at least 1); the others wait for
    /// a turn. Responses keep the batch's order.
    pub(crate) max_batch_concurrency: usize,
    /// The most `resources/subscribe` subscriptions one session holds (default 256). One more
    /// is refused with `-32602` naming the limit; unsubscribing makes room. It also bounds the
    /// `resourceSubscriptions` of one 2026-07-28 `subscriptions/listen` request. stdio clients
    /// always get the defaults.
    pub(crate) max_subscriptions_per_session: usize,
    /// The longest URI, in bytes, `resources/subscribe` (and `subscriptions/listen`) accepts
    /// (default 2048); a longer one is refused with `-32602` naming the limit.
    pub(crate) max_subscription_uri_bytes: usize,
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
            .field("max_batch_messages", &self.max_batch_messages)
            .field("max_batch_concurrency", &self.max_batch_concurrency)
            .field(
                "max_subscriptions_per_session",
                &self.max_subscriptions_per_session,
            )
            .field(
                "max_subscription_uri_bytes",
                &self.max_subscription_uri_bytes,
            )
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
            max_batch_messages: Self::DEFAULT_MAX_BATCH_MESSAGES,
            max_batch_concurrency: Self::DEFAULT_MAX_BATCH_CONCURRENCY,
            max_subscriptions_per_session: Self::DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION,
            max_subscription_uri_bytes: Self::DEFAULT_MAX_SUBSCRIPTION_URI_BYTES,
        }
    }
}

impl HttpConfig {
    /// The default [`max_batch_messages`](Self::max_batch_messages).
    pub const DEFAULT_MAX_BATCH_MESSAGES: usize = DEFAULT_MAX_BATCH_MESSAGES;
    /// The default [`max_batch_concurrency`](Self::max_batch_concurrency).
    pub const DEFAULT_MAX_BATCH_CONCURRENCY: usize = DEFAULT_MAX_BATCH_CONCURRENCY;
    /// The default [`max_subscriptions_per_session`](Self::max_subscriptions_per_session).
    pub const DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION: usize = DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION;
    /// The default [`max_subscription_uri_bytes`](Self::max_subscription_uri_bytes).
    pub const DEFAULT_MAX_SUBSCRIPTION_URI_BYTES: usize = DEFAULT_MAX_SUBSCRIPTION_URI_BYTES;

    /// Whether loopback hosts and origins are accepted (default true).
    #[must_use]
    pub fn allow_loopback(mut self, allow: bool) -> Self {
        self.allow_loopback = allow;
        self
    }

    /// The `retry:` hint sent with priming events and before closing a stream early (default
    /// 1 s).
    #[must_use]
    pub fn sse_retry(mut self, retry: Duration) -> Self {
        self.sse_retry = retry;
        self
    }

    /// How often an idle GET stream gets a keep-alive comment (default 15 s; `None` for never).
    #[must_use]
    pub fn sse_keep_alive(mut self, every: Option<Duration>) -> Self {
        self.sse_keep_alive = every;
        self
    }

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

    /// Sets the most messages in one batch (default 100).
    #[must_use]
    pub fn max_batch_messages(mut self, n: usize) -> Self {
        self.max_batch_messages = n;
        self
    }

    /// Sets how many requests of one batch run at once (default 8, at least 1).
    #[must_use]
    pub fn max_batch_concurrency(mut self, n: usize) -> Self {
        self.max_batch_concurrency = n;
        self
    }

    /// Sets the most resource subscriptions per session (default 256).
    #[must_use]
    pub fn max_subscriptions_per_session(mut self, n: usize) -> Self {
        self.max_subscriptions_per_session = n;
        self
    }

    /// Sets the longest URI `resources/subscribe` accepts, in bytes (default 2048).
    #[must_use]
    pub fn max_subscription_uri_bytes(mut self, n: usize) -> Self {
        self.max_subscription_uri_bytes = n;
        self
    }
}
