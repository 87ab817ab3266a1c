//! Streamable HTTP on axum: one endpoint for POST, GET and DELETE, with Host/Origin checks,
//! sessions, JSON or SSE answers, resumable streams, and graceful shutdown; beside it, the
//! liveness and readiness probes of an orchestrator (`/healthz`, `/readyz`).

pub(crate) mod config;
mod event_store;
mod guard;
mod health;
mod host_layer;
mod listen;
mod modern;
mod post;
mod respond;
mod serve;
mod session;
mod shared;
mod span;
mod sse;
mod stream;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::routing::any;
use http::{Method, Request};
use tokio::net::{TcpListener, ToSocketAddrs};

use config::HttpConfig;
pub use config::HttpConfigError;
#[cfg(feature = "redis")]
pub use event_store::RedisEventStore;
pub use event_store::{EventStore, EventStoreError, InMemoryEventStore, Replay, StoredEvent};
pub use host_layer::{HostGuard, HostGuardLayer};
#[cfg(fuzzing)]
pub(crate) use modern::decode_header_value;
#[cfg(feature = "redis")]
pub use shared::{RedisSessions, RedisSessionsError};

use crate::auth::{self, AuthLayer, Authenticator, Danger};
use crate::server::{ChangeListener, McpServer, ServerInner};
use session::SessionManager;

/// The default path of the MCP endpoint.
pub const DEFAULT_PATH: &str = "/mcp";

pub(crate) struct HttpState {
    pub server: Arc<ServerInner>,
    pub config: Arc<HttpConfig>,
    pub sessions: Arc<SessionManager>,
    pub subscriptions: Arc<listen::Subscriptions>,
    pub auth: Arc<Authenticator>,
    /// The readiness checks and whether shutdown has started.
    pub health: Arc<health::Health>,
    /// With shared sessions: what tells the other instances of this server's list changes
    /// (held here, the server holds it weakly).
    pub relay: std::sync::OnceLock<Arc<dyn ChangeListener>>,
}

/// The MCP endpoint, behind the [`HostGuardLayer`] and the [`AuthLayer`]: the caller (if any) is
/// in the request's extensions.
async fn endpoint(State(state): State<Arc<HttpState>>, request: Request<Body>) -> Response {
    let (parts, body) = request.into_parts();
    // With shared sessions, this instance must hear the others from its first request on
    // (changes for its subscribers, answers for its handlers).
    state.sessions.start_background();
    match parts.method {
        Method::POST => post::post(state, parts, body).await,
        Method::GET => stream::get(state, parts).await,
        Method::DELETE => stream::delete(state, parts).await,
        _ => respond::method_not_allowed("GET, POST, DELETE"),
    }
}

async fn protected_resource_metadata(
    State(state): State<Arc<HttpState>>,
    request: Request<Body>,
) -> Response {
    let registry = state.server.registry.load();
    let tool_scopes = registry
        .tools
        .values()
        .flat_map(|t| t.required_scopes.iter().cloned());
    let doc = auth::document(&state.auth, tool_scopes, &state.server.info.name);
    auth::metadata_response(request.method(), &state.auth, &doc)
}

/// Why serving failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// Binding or accepting failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A setting of [`HttpConfig`] that cannot be served (see [`HttpServer::check`]).
    #[error("invalid HTTP settings: {0}")]
    Config(#[from] HttpConfigError),
    /// Authorization mode `none` on an address other than loopback.
    #[error(
        "refusing to serve {addr} without authorization: anyone who can reach it could call every \
         tool. Configure `.authorization(...)`, bind to 127.0.0.1, or accept it with \
         `AuthorizationConfig::none().dangerously_allow(Danger::UnprotectedNetworkBind)`"
    )]
    Unprotected {
        /// The bound address.
        addr: SocketAddr,
    },
}

/// An [`McpServer`] with its Streamable HTTP settings: what [`McpServer::http`] returns. Turn it
/// into an axum [`Router`] to merge into an application, or serve it directly.
///
/// ```no_run
/// use mcp_server::{HttpConfig, McpServer};
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let server = McpServer::builder("demo").build()?;
/// server
///     .http(HttpConfig::default().allow_host("mcp.example.com"))
///     .serve("127.0.0.1:8000")
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct HttpServer {
    server: McpServer,
    config: Arc<HttpConfig>,
}

impl McpServer {
    /// This server over Streamable HTTP with `config` (allowed hosts and origins, body limit,
    /// sessions, SSE). The shortcuts below use [`HttpConfig::default`].
    pub fn http(self, config: HttpConfig) -> HttpServer {
        HttpServer {
            server: self,
            config: Arc::new(config),
        }
    }

    /// [`HttpServer::into_router`] with the default [`HttpConfig`].
    pub fn into_router(self) -> Router {
        self.http(HttpConfig::default()).into_router()
    }

    /// [`HttpServer::router_at`] with the default [`HttpConfig`].
    pub fn router_at(self, path: &str) -> Router {
        self.http(HttpConfig::default()).router_at(path)
    }

    /// [`HttpServer::serve`] with the default [`HttpConfig`]: serves `http://<addr>/mcp` until
    /// Ctrl-C.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = mcp_server::McpServer::builder("demo").build()?;
    /// server.serve("127.0.0.1:8000").await?;
    /// # Ok(()) }
    /// ```
    pub async fn serve(self, addr: impl ToSocketAddrs) -> Result<(), ServeError> {
        self.http(HttpConfig::default()).serve(addr).await
    }

    /// [`HttpServer::serve_listener`] with the default [`HttpConfig`].
    pub async fn serve_listener(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        self.http(HttpConfig::default())
            .serve_listener(listener, shutdown)
            .await
    }

    /// A tower layer authenticating the application's own routes with this server's
    /// authorization (API keys, tokens, roles, workspaces, audit), for requests arriving on
    /// `surface` (API keys must allow it). See [`AuthLayer`].
    pub fn auth_layer(&self, surface: auth::Surface) -> AuthLayer {
        let auth = Authenticator::from_checked(self.inner.auth.clone()).surface(surface);
        AuthLayer::new(Arc::new(auth))
    }
}

impl From<McpServer> for HttpServer {
    /// The server with the default [`HttpConfig`].
    fn from(server: McpServer) -> Self {
        server.http(HttpConfig::default())
    }
}

impl HttpServer {
    /// The MCP server being served.
    pub fn server(&self) -> &McpServer {
        &self.server
    }

    /// The HTTP settings.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// An axum router serving the MCP endpoint at `/mcp`. Merge it into your app
    /// (`app.merge(server.into_router())`) to serve other routes beside it.
    pub fn into_router(self) -> Router {
        self.router_at(DEFAULT_PATH)
    }

    /// An axum router serving the MCP endpoint at `path`.
    pub fn router_at(self, path: &str) -> Router {
        self.router_and_state(path).0
    }

    /// Checks the settings a router with the MCP endpoint at `path` could not serve: the probe
    /// paths ([`HttpConfig::liveness_path`], [`HttpConfig::readiness_path`]) must be plain
    /// absolute paths no other route of the router has, and the names of the application's
    /// readiness checks ([`HttpConfig::readiness_check`]) plain and unique.
    /// [`serve`](Self::serve) and [`serve_listener`](Self::serve_listener) refuse to start
    /// with [`ServeError::Config`]; [`into_router`](Self::into_router) and
    /// [`router_at`](Self::router_at) log the error and leave both probes out (the MCP endpoint
    /// is served): call this first to fail instead.
    pub fn check(&self, path: &str) -> Result<(), HttpConfigError> {
        let mut taken = vec![(path, "the MCP endpoint")];
        let meta = &self.server.inner.auth.metadata_path;
        let suffixed = format!("{meta}{}", if path == "/" { "" } else { path });
        if self.server.inner.auth.checks_tokens() {
            taken.push((meta.as_str(), "the protected-resource metadata"));
            taken.push((suffixed.as_str(), "the protected-resource metadata"));
        }
        let builtin: Vec<&str> = health::builtin_checks(&self.server.inner)
            .into_iter()
            .map(|(name, _)| name)
            .chain(["event_store"])
            .collect();
        self.config.check_probes(&taken, &builtin)
    }

    fn router_and_state(self, path: &str) -> (Router, Arc<HttpState>) {
        let probes = self.check(path);
        let inner = &self.server.inner;
        let sessions = SessionManager::new(&self.config, inner.metrics.clone());
        let subscriptions = Arc::new(listen::Subscriptions::default());
        inner.auth.warn_dangers(path);
        let auth = Arc::new(Authenticator::from_checked(inner.auth.clone()));
        let state = Arc::new(HttpState {
            server: Arc::clone(inner),
            config: Arc::clone(&self.config),
            sessions,
            subscriptions,
            auth: Arc::clone(&auth),
            health: Arc::new(health::Health::new(inner, &self.config)),
            relay: std::sync::OnceLock::new(),
        });
        let sessions: Arc<dyn ChangeListener> = state.sessions.clone();
        inner.add_listener(Arc::downgrade(&sessions));
        let subscriptions: Arc<dyn ChangeListener> = state.subscriptions.clone();
        inner.add_listener(Arc::downgrade(&subscriptions));
        if let Some(shared) = state.sessions.shared() {
            // Changes made here go to the other instances; theirs come to the same listeners.
            state.sessions.set_remote_listeners(vec![
                Arc::downgrade(&sessions),
                Arc::downgrade(&subscriptions),
            ]);
            let relay: Arc<dyn ChangeListener> = Arc::new(session::ChangeRelay(Arc::clone(shared)));
            inner.add_listener(Arc::downgrade(&relay));
            state.relay.set(relay).ok();
        }
        // The guard runs first (outermost), then authentication, then the endpoint (AZ-21);
        // all of it inside the request's span.
        let route = Arc::new(span::Route::new(path));
        let mcp = any(endpoint)
            .layer(AuthLayer::new(Arc::clone(&auth)))
            .layer(HostGuardLayer::new(&self.config))
            .layer(axum::middleware::from_fn_with_state(
                route,
                span::trace_request,
            ));
        let mut router = Router::new().route(path, mcp);
        if auth.publishes_metadata() {
            // RFC 9728 metadata, path-suffixed and at the root (AZ-05).
            let meta = state.server.auth.metadata_path.clone();
            let suffixed = format!("{meta}{}", if path == "/" { "" } else { path });
            router = router.route(&suffixed, any(protected_resource_metadata));
            if suffixed != meta {
                router = router.route(&meta, any(protected_resource_metadata));
            }
        }
        // The probes: outside the guard and the authentication (probes come with the pod's IP
        // as Host and no credential).
        match probes {
            Ok(()) => {
                if let Some(live) = &self.config.liveness_path {
                    router = router.route(live, any(health::liveness));
                }
                if let Some(ready) = &self.config.readiness_path {
                    router = router.route(ready, any(health::readiness));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "the liveness and readiness probes are not served");
            }
        }
        (router.with_state(Arc::clone(&state)), state)
    }

    /// A tower layer authenticating the application's own routes: [`McpServer::auth_layer`].
    pub fn auth_layer(&self, surface: auth::Surface) -> AuthLayer {
        self.server.auth_layer(surface)
    }

    /// A tower layer refusing the `Host`s and `Origin`s these settings do not allow
    /// (DNS-rebinding protection), for the application's own routes.
    pub fn host_guard_layer(&self) -> HostGuardLayer {
        HostGuardLayer::new(&self.config)
    }

    /// Serves the endpoint at `http://<addr>/mcp` until Ctrl-C (or SIGTERM).
    pub async fn serve(self, addr: impl ToSocketAddrs) -> Result<(), ServeError> {
        let listener = TcpListener::bind(addr).await?;
        self.serve_listener(listener, shutdown_signal()).await
    }

    /// Serves on a bound listener until `shutdown` completes.
    ///
    /// Connections are HTTP/1.1 under the connection bounds of [`HttpConfig`]
    /// ([`max_connections`](HttpConfig::max_connections),
    /// [`max_header_bytes`](HttpConfig::max_header_bytes),
    /// [`max_headers`](HttpConfig::max_headers),
    /// [`header_read_timeout`](HttpConfig::header_read_timeout)); handlers see the peer as
    /// `ConnectInfo<SocketAddr>`. On shutdown the server stops accepting, ends every session
    /// and open stream (clients reconnect elsewhere), lets in-flight requests finish within
    /// [`shutdown_grace`](HttpConfig::shutdown_grace), then closes the connections left. The
    /// readiness probe answers 503 `draining` from the moment `shutdown` completes (for
    /// [`shutdown_delay`](HttpConfig::shutdown_delay) the server keeps serving normally
    /// before it stops accepting); liveness answers 200 until the listener closes.
    ///
    /// Refuses to start with [`ServeError::Config`] when [`check`](Self::check) fails.
    pub async fn serve_listener(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let addr = listener.local_addr()?;
        self.check(DEFAULT_PATH)?;
        let auth = &self.server.inner.auth;
        if !auth.is_enabled()
            && !addr.ip().is_loopback()
            && !auth.allows(Danger::UnprotectedNetworkBind)
        {
            return Err(ServeError::Unprotected { addr });
        }
        tracing::info!(%addr, path = DEFAULT_PATH, "serving MCP over Streamable HTTP");
        let config = Arc::clone(&self.config);
        let (router, state) = self.router_and_state(DEFAULT_PATH);
        // Streams that only wait for events would hold graceful shutdown until the grace ends:
        // close them first (clients reconnect); requests in flight finish; then every session
        // ends (what still runs is cancelled).
        let drain = serve::Drain {
            close_idle_streams: async {
                state.sessions.disconnect_standalone_streams().await;
                state.subscriptions.close_all();
            },
            after: || state.sessions.end_all(),
        };
        // From the moment shutdown starts, readiness answers 503 `draining`; the server keeps
        // serving normally for `shutdown_delay`, then stops accepting.
        let health = Arc::clone(&state.health);
        let delay = config.shutdown_delay;
        let shutdown = async move {
            shutdown.await;
            health.start_draining();
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
        };
        serve::serve(listener, router, &config, shutdown, drain).await;
        Ok(())
    }
}

/// Completes on Ctrl-C (or SIGTERM on Unix).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
