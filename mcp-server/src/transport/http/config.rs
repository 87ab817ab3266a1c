//! Settings of the Streamable HTTP transport.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::event_store::{EventStore, InMemoryEventStore};
use super::shared::SharedSessions;
use crate::client_state::{
    DEFAULT_MAX_SUBSCRIPTION_URI_BYTES, DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION,
};
use crate::store::{NotReady, ReadinessFn};

const DEFAULT_MAX_BATCH_MESSAGES: usize = 100;
const DEFAULT_MAX_BATCH_CONCURRENCY: usize = 8;
const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
const DEFAULT_MAX_JSON_DEPTH: usize = 64;
const DEFAULT_MAX_SESSIONS: usize = 10_000;
const DEFAULT_MAX_STREAMS_PER_SESSION: usize = 32;
const DEFAULT_MAX_CONNECTIONS: usize = 1024;
const DEFAULT_MAX_HEADER_BYTES: usize = 64 * 1024;
const DEFAULT_MAX_HEADERS: usize = 100;
const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
const DEFAULT_LIVENESS_PATH: &str = "/healthz";
const DEFAULT_READINESS_PATH: &str = "/readyz";
const DEFAULT_READINESS_TIMEOUT: Duration = Duration::from_secs(2);
/// The longest probe path accepted.
const MAX_PROBE_PATH_BYTES: usize = 256;
/// The longest name of a readiness check.
const MAX_CHECK_NAME_BYTES: usize = 64;

/// Settings of [`HttpConfig`] that cannot be served: what
/// [`HttpServer::check`](super::HttpServer::check) and
/// [`serve_listener`](super::HttpServer::serve_listener) report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpConfigError {
    /// A probe path ([`liveness_path`](HttpConfig::liveness_path),
    /// [`readiness_path`](HttpConfig::readiness_path)) that is not a plain absolute path: it
    /// must start with `/`, hold at most 256 bytes of ASCII letters, digits and `-._~/`.
    #[error("the {probe} path {path:?} is invalid: {reason}")]
    InvalidProbePath {
        /// `liveness` or `readiness`.
        probe: &'static str,
        /// The path as given.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A probe path that another route of the router already has (the MCP endpoint, the
    /// protected-resource metadata, the other probe).
    #[error("the {probe} path {path:?} is already the path of {taken_by}")]
    ProbePathTaken {
        /// `liveness` or `readiness`.
        probe: &'static str,
        /// The path.
        path: String,
        /// The route that has it.
        taken_by: &'static str,
    },
    /// A readiness check whose name is empty, longer than 64 bytes, not made of ASCII letters,
    /// digits and `-._`, or already the name of another check (the built-in checks included:
    /// see [`HttpConfig::readiness_check`]).
    #[error("the readiness check name {name:?} is invalid or taken")]
    InvalidCheckName {
        /// The name as given.
        name: String,
    },
}

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
    /// The deepest nesting of arrays and objects a request body may have (default 64); deeper
    /// bodies get 400 with `-32700` naming the limit, before anything is parsed.
    pub(crate) max_json_depth: usize,
    /// How long a client may take to send a request body (default 30 s); slower gets 408.
    pub(crate) body_read_timeout: Duration,
    /// The most SSE streams one session has open at once (default 32): POST response streams
    /// and the standalone GET stream. A POST that could open one more gets 429.
    pub(crate) max_streams_per_session: usize,
    /// The most TCP connections served at once (default 1024); further connections wait in the
    /// listen backlog until one closes. Applies to [`serve`](super::HttpServer::serve) and
    /// [`serve_listener`](super::HttpServer::serve_listener).
    pub(crate) max_connections: usize,
    /// The largest request head (request line and headers), in bytes (default 64 KiB, at
    /// least 8 KiB); larger gets 431 and the connection closes.
    pub(crate) max_header_bytes: usize,
    /// The most header fields in one request (default 100); more gets 431.
    pub(crate) max_headers: usize,
    /// How long a connection may take to send a complete request head, and how long a
    /// kept-alive connection may stay idle between requests (default 10 s); then it is closed.
    /// Cuts slowloris clients.
    pub(crate) header_read_timeout: Duration,
    /// How long graceful shutdown waits for in-flight requests before closing the connections
    /// still open (default 10 s).
    pub(crate) shutdown_grace: Duration,
    /// Sessions or not (default: sessions).
    pub(crate) session_mode: SessionMode,
    /// The most live sessions at once (default 10 000); beyond it `initialize` gets 503.
    pub(crate) max_sessions: usize,
    /// A session unused for this long ends (default 30 minutes).
    pub(crate) session_idle_timeout: Duration,
    /// Where SSE events are kept for resumption (default: [`InMemoryEventStore`], bounded to
    /// 1024 events per session, 8 MiB per stream and 128 MiB in all, oldest evicted first).
    pub(crate) event_store: Arc<dyn EventStore>,
    /// Where sessions are shared with other instances (default: nowhere, sessions live in
    /// this instance).
    pub(crate) shared_sessions: Option<Arc<dyn SharedSessions>>,
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
    /// The path of the liveness probe (default `/healthz`; `None`: no liveness endpoint).
    pub(crate) liveness_path: Option<String>,
    /// The path of the readiness probe (default `/readyz`; `None`: no readiness endpoint).
    pub(crate) readiness_path: Option<String>,
    /// How long each readiness check may take (default 2 s); a slower one is unavailable.
    pub(crate) readiness_timeout: Duration,
    /// The application's readiness checks, by name, in the order given.
    pub(crate) readiness_checks: Vec<(String, ReadinessFn)>,
    /// How long, once shutdown starts, the server keeps serving normally while readiness
    /// answers 503 `draining` (default 0).
    pub(crate) shutdown_delay: Duration,
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("allowed_hosts", &self.allowed_hosts)
            .field("allowed_origins", &self.allowed_origins)
            .field("allow_loopback", &self.allow_loopback)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_json_depth", &self.max_json_depth)
            .field("body_read_timeout", &self.body_read_timeout)
            .field("max_streams_per_session", &self.max_streams_per_session)
            .field("max_connections", &self.max_connections)
            .field("max_header_bytes", &self.max_header_bytes)
            .field("max_headers", &self.max_headers)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("session_mode", &self.session_mode)
            .field("max_sessions", &self.max_sessions)
            .field("session_idle_timeout", &self.session_idle_timeout)
            .field("shared_sessions", &self.shared_sessions.is_some())
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
            .field("liveness_path", &self.liveness_path)
            .field("readiness_path", &self.readiness_path)
            .field("readiness_timeout", &self.readiness_timeout)
            .field(
                "readiness_checks",
                &self
                    .readiness_checks
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .field("shutdown_delay", &self.shutdown_delay)
            .finish_non_exhaustive()
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            allow_loopback: true,
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
            max_json_depth: Self::DEFAULT_MAX_JSON_DEPTH,
            body_read_timeout: Self::DEFAULT_BODY_READ_TIMEOUT,
            max_streams_per_session: Self::DEFAULT_MAX_STREAMS_PER_SESSION,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            max_header_bytes: Self::DEFAULT_MAX_HEADER_BYTES,
            max_headers: Self::DEFAULT_MAX_HEADERS,
            header_read_timeout: Self::DEFAULT_HEADER_READ_TIMEOUT,
            shutdown_grace: Self::DEFAULT_SHUTDOWN_GRACE,
            session_mode: SessionMode::Stateful,
            max_sessions: Self::DEFAULT_MAX_SESSIONS,
            session_idle_timeout: Duration::from_secs(30 * 60),
            event_store: Arc::new(InMemoryEventStore::default()),
            shared_sessions: None,
            sse_retry: Duration::from_millis(1000),
            sse_keep_alive: Some(Duration::from_secs(15)),
            max_batch_messages: Self::DEFAULT_MAX_BATCH_MESSAGES,
            max_batch_concurrency: Self::DEFAULT_MAX_BATCH_CONCURRENCY,
            max_subscriptions_per_session: Self::DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION,
            max_subscription_uri_bytes: Self::DEFAULT_MAX_SUBSCRIPTION_URI_BYTES,
            liveness_path: Some(Self::DEFAULT_LIVENESS_PATH.to_owned()),
            readiness_path: Some(Self::DEFAULT_READINESS_PATH.to_owned()),
            readiness_timeout: Self::DEFAULT_READINESS_TIMEOUT,
            readiness_checks: Vec::new(),
            shutdown_delay: Duration::ZERO,
        }
    }
}

impl HttpConfig {
    /// The default [`max_body_bytes`](Self::max_body_bytes): 4 MiB.
    pub const DEFAULT_MAX_BODY_BYTES: usize = DEFAULT_MAX_BODY_BYTES;
    /// The default [`max_json_depth`](Self::max_json_depth): 64.
    pub const DEFAULT_MAX_JSON_DEPTH: usize = DEFAULT_MAX_JSON_DEPTH;
    /// The default [`body_read_timeout`](Self::body_read_timeout): 30 s.
    pub const DEFAULT_BODY_READ_TIMEOUT: Duration = DEFAULT_BODY_READ_TIMEOUT;
    /// The default [`max_sessions`](Self::max_sessions): 10 000.
    pub const DEFAULT_MAX_SESSIONS: usize = DEFAULT_MAX_SESSIONS;
    /// The default [`max_streams_per_session`](Self::max_streams_per_session): 32.
    pub const DEFAULT_MAX_STREAMS_PER_SESSION: usize = DEFAULT_MAX_STREAMS_PER_SESSION;
    /// The default [`max_connections`](Self::max_connections): 1024.
    pub const DEFAULT_MAX_CONNECTIONS: usize = DEFAULT_MAX_CONNECTIONS;
    /// The default [`max_header_bytes`](Self::max_header_bytes): 64 KiB.
    pub const DEFAULT_MAX_HEADER_BYTES: usize = DEFAULT_MAX_HEADER_BYTES;
    /// The default [`max_headers`](Self::max_headers): 100.
    pub const DEFAULT_MAX_HEADERS: usize = DEFAULT_MAX_HEADERS;
    /// The default [`header_read_timeout`](Self::header_read_timeout): 10 s.
    pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = DEFAULT_HEADER_READ_TIMEOUT;
    /// The default [`shutdown_grace`](Self::shutdown_grace): 10 s.
    pub const DEFAULT_SHUTDOWN_GRACE: Duration = DEFAULT_SHUTDOWN_GRACE;
    /// The default [`max_batch_messages`](Self::max_batch_messages).
    pub const DEFAULT_MAX_BATCH_MESSAGES: usize = DEFAULT_MAX_BATCH_MESSAGES;
    /// The default [`max_batch_concurrency`](Self::max_batch_concurrency).
    pub const DEFAULT_MAX_BATCH_CONCURRENCY: usize = DEFAULT_MAX_BATCH_CONCURRENCY;
    /// The default [`max_subscriptions_per_session`](Self::max_subscriptions_per_session).
    pub const DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION: usize = DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION;
    /// The default [`max_subscription_uri_bytes`](Self::max_subscription_uri_bytes).
    pub const DEFAULT_MAX_SUBSCRIPTION_URI_BYTES: usize = DEFAULT_MAX_SUBSCRIPTION_URI_BYTES;
    /// The default [`liveness_path`](Self::liveness_path): `/healthz`.
    pub const DEFAULT_LIVENESS_PATH: &str = DEFAULT_LIVENESS_PATH;
    /// The default [`readiness_path`](Self::readiness_path): `/readyz`.
    pub const DEFAULT_READINESS_PATH: &str = DEFAULT_READINESS_PATH;
    /// The default [`readiness_timeout`](Self::readiness_timeout): 2 s.
    pub const DEFAULT_READINESS_TIMEOUT: Duration = DEFAULT_READINESS_TIMEOUT;

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

    /// Sets the largest request body, in bytes (default 4 MiB); larger bodies get 413.
    #[must_use]
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }

    /// Sets the deepest nesting of arrays and objects a request body may have (default 64, at
    /// most 128: `serde_json`'s own limit). Deeper bodies get 400 with `-32700` naming the
    /// limit.
    #[must_use]
    pub fn max_json_depth(mut self, n: usize) -> Self {
        self.max_json_depth = n.min(128);
        self
    }

    /// Sets how long a client may take to send a request body (default 30 s); slower gets 408.
    #[must_use]
    pub fn body_read_timeout(mut self, d: Duration) -> Self {
        self.body_read_timeout = d;
        self
    }

    /// Sets the most SSE streams one session has open at once (default 32, at least 1). A POST
    /// that could open one more gets 429 with `Retry-After`; a second GET stream gets 409.
    #[must_use]
    pub fn max_streams_per_session(mut self, n: usize) -> Self {
        self.max_streams_per_session = n.max(1);
        self
    }

    /// Sets the most TCP connections served at once (default 1024, at least 1). Further
    /// connections wait in the listen backlog. Only [`serve`](super::HttpServer::serve) and
    /// [`serve_listener`](super::HttpServer::serve_listener) apply it (an application serving
    /// [`into_router`](super::HttpServer::into_router) itself sets its own).
    #[must_use]
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// Sets the largest request head, in bytes (default 64 KiB, at least 8 KiB); larger gets
    /// 431. Applied by `serve`/`serve_listener`.
    #[must_use]
    pub fn max_header_bytes(mut self, n: usize) -> Self {
        self.max_header_bytes = n.max(8 * 1024);
        self
    }

    /// Sets the most header fields in one request (default 100); more gets 431. Applied by
    /// `serve`/`serve_listener`.
    #[must_use]
    pub fn max_headers(mut self, n: usize) -> Self {
        self.max_headers = n.max(1);
        self
    }

    /// Sets how long a connection may take to send a complete request head, which is also how
    /// long a kept-alive connection may stay idle (default 10 s). Applied by
    /// `serve`/`serve_listener`.
    #[must_use]
    pub fn header_read_timeout(mut self, d: Duration) -> Self {
        self.header_read_timeout = d;
        self
    }

    /// Sets how long graceful shutdown waits for in-flight requests before closing the
    /// connections still open (default 10 s). Applied by `serve`/`serve_listener`.
    #[must_use]
    pub fn shutdown_grace(mut self, d: Duration) -> Self {
        self.shutdown_grace = d;
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

    /// Sets the most live sessions (default 10 000); beyond it `initialize` gets 503 with
    /// `Retry-After`.
    #[must_use]
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.max_sessions = n;
        self
    }

    /// Sets how long a session may stay unused before it ends (default 30 minutes).
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

    /// Shares legacy sessions with the other instances using the same Redis and prefix, so
    /// that a load balancer may send any request to any instance (no sticky routing): session
    /// records, SSE events (this replaces the [`event_store`](Self::event_store)), answers,
    /// cancellations and list-change notifications. See [`RedisSessions`](super::RedisSessions).
    #[cfg(feature = "redis")]
    #[must_use]
    pub fn shared_sessions(mut self, sessions: super::RedisSessions) -> Self {
        let sessions: Arc<dyn SharedSessions> = Arc::new(sessions);
        self.event_store = sessions.event_store();
        self.shared_sessions = Some(sessions);
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

    /// Sets the path of the liveness probe (default [`/healthz`](Self::DEFAULT_LIVENESS_PATH);
    /// `None` turns it off). `GET` and `HEAD` answer 200 `{"status":"ok"}` while the process
    /// serves, with no credential and whatever the `Host` (probes come with the pod's IP): the
    /// endpoint sits outside the authorization layer and the Host/Origin guard, and says
    /// nothing else. Other methods get 405. The path must start with `/`, hold only ASCII
    /// letters, digits and `-._~/` (at most 256 bytes), and differ from the MCP endpoint's, the
    /// metadata's and the readiness probe's; [`HttpServer::check`](super::HttpServer::check)
    /// says why one is refused.
    #[must_use]
    pub fn liveness_path(mut self, path: Option<&str>) -> Self {
        self.liveness_path = path.map(str::to_owned);
        self
    }

    /// Sets the path of the readiness probe (default [`/readyz`](Self::DEFAULT_READINESS_PATH);
    /// `None` turns it off). `GET` and `HEAD` answer 200
    /// `{"status":"ready","checks":{"<name>":"ok",...}}` when everything the server depends on
    /// can serve, else 503 with `Retry-After` and
    /// `{"status":"unavailable","checks":{"<name>":"unavailable: <reason>",...}}`; from the
    /// moment graceful shutdown starts, 503 `{"status":"draining"}`. Unauthenticated and
    /// outside the Host/Origin guard like [`liveness_path`](Self::liveness_path), under the same
    /// rules for the path.
    ///
    /// The checks: `token_validator` (when tokens are checked: a JWT validator is ready while it
    /// holds signing keys, else after one key fetch), `api_keys` and `users` (built-in
    /// credentials), `replay_cache` (when DPoP is on), `task_store`, `event_store`, then the
    /// application's ([`readiness_check`](Self::readiness_check)): the `readiness` methods of
    /// the store and validator traits. They run concurrently, each within
    /// [`readiness_timeout`](Self::readiness_timeout); the combined answer is kept for 1 s, so
    /// a flood of probes is at most one round of checks per second.
    #[must_use]
    pub fn readiness_path(mut self, path: Option<&str>) -> Self {
        self.readiness_path = path.map(str::to_owned);
        self
    }

    /// Sets how long each readiness check may take (default 2 s, at least 1 ms); a check that
    /// has not answered by then is reported unavailable.
    #[must_use]
    pub fn readiness_timeout(mut self, d: Duration) -> Self {
        self.readiness_timeout = d.max(Duration::from_millis(1));
        self
    }

    /// Adds an application readiness check called `name` (ASCII letters, digits and `-._`, at
    /// most 64 bytes, not the name of another check nor of a built-in one): `check` is called
    /// on each round of the readiness endpoint and answers `Err(NotReady::new("short reason"))`
    /// while the application cannot serve. The reason is published unauthenticated: no
    /// secrets in it.
    ///
    /// ```
    /// use mcp_server::HttpConfig;
    /// use mcp_server::store::NotReady;
    ///
    /// let config = HttpConfig::default().readiness_check("database", || async {
    ///     // e.g. `SELECT 1` on the application's pool
    ///     Err(NotReady::new("the database is migrating"))
    /// });
    /// # let _ = config;
    /// ```
    #[must_use]
    pub fn readiness_check<F, Fut>(mut self, name: impl Into<String>, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), NotReady>> + Send + 'static,
    {
        let check: ReadinessFn = Arc::new(move || Box::pin(check()));
        self.readiness_checks.push((name.into(), check));
        self
    }

    /// Sets how long, once graceful shutdown starts, [`serve`](super::HttpServer::serve) and
    /// [`serve_listener`](super::HttpServer::serve_listener) keep serving normally (accepting
    /// connections, answering every request) while the readiness probe answers 503
    /// `{"status":"draining"}` (default 0: the listener closes at once). Behind an orchestrator
    /// or a load balancer that polls readiness, set it to a little more than the probe period
    /// so that traffic stops arriving before the listener closes; then
    /// [`shutdown_grace`](Self::shutdown_grace) applies.
    #[must_use]
    pub fn shutdown_delay(mut self, d: Duration) -> Self {
        self.shutdown_delay = d;
        self
    }

    /// Checks the probe paths and the names of the readiness checks for a router whose other
    /// routes are `taken` (the MCP endpoint, the metadata): what
    /// [`HttpServer::check`](super::HttpServer::check) reports.
    pub(crate) fn check_probes(
        &self,
        taken: &[(&str, &'static str)],
        builtin_checks: &[&str],
    ) -> Result<(), HttpConfigError> {
        let mut routes: Vec<(&str, &'static str)> = taken.to_vec();
        for (probe, path) in [
            ("liveness", &self.liveness_path),
            ("readiness", &self.readiness_path),
        ] {
            let Some(path) = path.as_deref() else {
                continue;
            };
            let invalid = |reason| HttpConfigError::InvalidProbePath {
                probe,
                path: path.to_owned(),
                reason,
            };
            if !path.starts_with('/') {
                return Err(invalid("it must start with `/`"));
            }
            if path.len() > MAX_PROBE_PATH_BYTES {
                return Err(invalid("it is longer than 256 bytes"));
            }
            if !path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/'))
            {
                return Err(invalid(
                    "it may only hold ASCII letters, digits and `-._~/`",
                ));
            }
            if let Some((_, taken_by)) = routes.iter().find(|(p, _)| *p == path) {
                return Err(HttpConfigError::ProbePathTaken {
                    probe,
                    path: path.to_owned(),
                    taken_by,
                });
            }
            let taken_by = if probe == "liveness" {
                "the liveness probe"
            } else {
                "the readiness probe"
            };
            routes.push((path, taken_by));
        }
        let mut names: Vec<&str> = builtin_checks.to_vec();
        for (name, _) in &self.readiness_checks {
            let valid = (1..=MAX_CHECK_NAME_BYTES).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
            if !valid || names.contains(&name.as_str()) {
                return Err(HttpConfigError::InvalidCheckName { name: name.clone() });
            }
            names.push(name);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAKEN: &[(&str, &str)] = &[("/mcp", "the MCP endpoint")];
    const BUILTIN: &[&str] = &["token_validator", "task_store"];

    fn check(config: &HttpConfig) -> Result<(), HttpConfigError> {
        config.check_probes(TAKEN, BUILTIN)
    }

    #[test]
    fn the_default_probes_are_valid() {
        let config = HttpConfig::default();
        assert_eq!(config.liveness_path.as_deref(), Some("/healthz"));
        assert_eq!(config.readiness_path.as_deref(), Some("/readyz"));
        assert_eq!(config.readiness_timeout, Duration::from_secs(2));
        assert_eq!(check(&config), Ok(()));
        let off = HttpConfig::default()
            .liveness_path(None)
            .readiness_path(None);
        assert_eq!(check(&off), Ok(()));
    }

    #[test]
    fn probe_paths_must_be_plain_absolute_paths() {
        for bad in [
            "healthz",
            "",
            "/health z",
            "/h/{id}",
            "/h/*rest",
            "/é",
            "/a?b",
        ] {
            let e = check(&HttpConfig::default().liveness_path(Some(bad)));
            assert!(
                matches!(
                    e,
                    Err(HttpConfigError::InvalidProbePath {
                        probe: "liveness",
                        ..
                    })
                ),
                "{bad:?}: {e:?}"
            );
        }
        let long = format!("/{}", "a".repeat(256));
        let e = check(&HttpConfig::default().readiness_path(Some(&long)));
        assert!(matches!(
            e,
            Err(HttpConfigError::InvalidProbePath {
                probe: "readiness",
                ..
            })
        ));
        let ok = HttpConfig::default()
            .liveness_path(Some("/ops/live-1.0_~"))
            .readiness_path(Some("/ops/ready/"));
        assert_eq!(check(&ok), Ok(()));
    }

    #[test]
    fn probe_paths_must_not_be_taken() {
        let e = check(&HttpConfig::default().readiness_path(Some("/mcp")));
        assert_eq!(
            e,
            Err(HttpConfigError::ProbePathTaken {
                probe: "readiness",
                path: "/mcp".into(),
                taken_by: "the MCP endpoint",
            })
        );
        let e = check(&HttpConfig::default().readiness_path(Some("/healthz")));
        assert!(matches!(
            e,
            Err(HttpConfigError::ProbePathTaken {
                taken_by: "the liveness probe",
                ..
            })
        ));
        // A probe turned off frees its path.
        let moved = HttpConfig::default()
            .liveness_path(None)
            .readiness_path(Some("/healthz"));
        assert_eq!(check(&moved), Ok(()));
    }

    #[test]
    fn check_names_are_plain_and_unique() {
        let ok = || async { Ok(()) };
        for bad in ["", "has space", "token_validator", &"x".repeat(65), "naïve"] {
            let e = check(&HttpConfig::default().readiness_check(bad, ok));
            assert!(
                matches!(e, Err(HttpConfigError::InvalidCheckName { .. })),
                "{bad:?}"
            );
        }
        let twice = HttpConfig::default()
            .readiness_check("db", ok)
            .readiness_check("db", ok);
        assert!(matches!(
            check(&twice),
            Err(HttpConfigError::InvalidCheckName { .. })
        ));
        let fine = HttpConfig::default()
            .readiness_check("db", ok)
            .readiness_check("cache-1.primary", ok);
        assert_eq!(check(&fine), Ok(()));
    }

    #[test]
    fn the_timeout_is_at_least_a_millisecond() {
        let config = HttpConfig::default().readiness_timeout(Duration::ZERO);
        assert_eq!(config.readiness_timeout, Duration::from_millis(1));
    }
}
