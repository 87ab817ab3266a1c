//! Helpers for testing servers (feature `testing`): start a server on an ephemeral loopback port
//! and stop it when done, and an in-process authorization server ([`TestIssuer`]) that mints
//! real tokens.

mod dpop;
mod issuer;

pub use dpop::{DpopKey, ProofBuilder};
pub use issuer::{SigningKey, TestIssuer, TokenBuilder};

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::McpServer;

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

/// Starts `server` on an ephemeral loopback port.
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
pub async fn spawn(server: McpServer) -> std::io::Result<TestServer> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
        };
        if let Err(e) = server.serve_listener(listener, shutdown).await {
            tracing::error!(error = %e, "test server failed");
        }
    });
    Ok(TestServer {
        addr,
        stop: Some(stop),
        task: Some(task),
    })
}
