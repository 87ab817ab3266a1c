//! Helpers for testing servers (feature `testing`): start a server on an ephemeral loopback port
//! ([`spawn`], or [`TestListener`] when the configuration needs the URL first) and stop it when
//! done, and an in-process authorization server ([`TestIssuer`]) that mints real tokens.

mod dpop;
mod issuer;

pub use dpop::{DpopKey, ProofBuilder};
pub use issuer::{SigningKey, TestIssuer, TokenBuilder};

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::transport::http::HttpServer;

/// A server running on `127.0.0.1:<ephemeral port>` for the duration of a test.
#[derive(Debug)]
pub struct TestServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestServer {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of the MCP endpoint (`http://127.0.0.1:<port>/mcp`).
    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    /// The URL of the server's root (`http://127.0.0.1:<port>`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and waits for it to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A loopback port bound before the server is built, so that its URL can go into the
/// configuration (an OAuth server's [`resource`](crate::auth::AuthorizationConfig::resource) is
/// the URL tokens must name).
///
/// ```
/// use mcp_server::McpServer;
/// use mcp_server::auth::{AuthorizationConfig, JwtValidator, JwtValidatorConfig};
/// use mcp_server::testing::{TestIssuer, TestListener};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let issuer = TestIssuer::start().await?;
/// let listener = TestListener::bind().await?;
/// let server = McpServer::builder("test")
///     .authorization(
///         AuthorizationConfig::enabled()
///             .resource(listener.url())
///             .validator(JwtValidator::new(JwtValidatorConfig::new(issuer.issuer(), ""))?),
///     )
///     .build()?;
/// let running = listener.spawn(server);
/// let token = issuer.token(&running.url()).sign(); // a token for this server
/// # let _ = token;
/// running.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct TestListener {
    listener: TcpListener,
    addr: SocketAddr,
}

impl TestListener {
    /// Binds `127.0.0.1:0`.
    pub async fn bind() -> std::io::Result<TestListener> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        Ok(TestListener { listener, addr })
    }

    /// The address it is bound to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL the MCP endpoint will have (`http://127.0.0.1:<port>/mcp`).
    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    /// The bound listener, to serve an app of your own (e.g. `server.into_router()` merged with
    /// your routes) with `axum::serve`.
    pub fn into_tcp_listener(self) -> TcpListener {
        self.listener
    }

    /// Serves `server` (an [`McpServer`](crate::McpServer), with the default HTTP settings, or
    /// an [`HttpServer`]) on this port until the returned [`TestServer`] is shut down or dropped.
    pub fn spawn(self, server: impl Into<HttpServer>) -> TestServer {
        let server = server.into();
        let (stop, stopped) = oneshot::channel::<()>();
        let listener = self.listener;
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            if let Err(e) = server.serve_listener(listener, shutdown).await {
                tracing::error!(error = %e, "test server failed");
            }
        });
        TestServer {
            addr: self.addr,
            stop: Some(stop),
            task: Some(task),
        }
    }
}

/// Starts `server` on an ephemeral loopback port. A server whose configuration needs its own
/// URL (OAuth's `resource`) is built after [`TestListener::bind`] instead.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = mcp_server::McpServer::builder("test").build()?;
/// let running = mcp_server::testing::spawn(server).await?;
/// assert!(running.url().starts_with("http://127.0.0.1:"));
/// running.shutdown().await;
/// # Ok(()) }
/// ```
pub async fn spawn(server: impl Into<HttpServer>) -> std::io::Result<TestServer> {
    Ok(TestListener::bind().await?.spawn(server))
}
