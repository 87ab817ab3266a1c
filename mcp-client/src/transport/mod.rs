//! Moving JSON-RPC messages to the server and back: Streamable HTTP (`http`, both eras; the
//! `http` feature) and newline-delimited JSON-RPC over byte streams ([`stdio`]; starting a
//! server process needs the `stdio` feature). The session layer above builds the messages (era framing, `_meta`,
//! multi-round trips); a transport only adds what its wire needs (HTTP headers, the legacy
//! session id, resumption) and routes what the server sends besides the response to
//! [`Incoming`](crate::incoming::Incoming).

#[cfg(feature = "http")]
pub(crate) mod http;
#[cfg(feature = "http")]
pub(crate) mod sse;
pub(crate) mod stdio;

use mcp_core::jsonrpc::{Notification, Request, RequestId};
use mcp_core::types::SubscriptionFilter;
use mcp_core::version::ProtocolVersion;
use serde_json::Value;

use crate::error::Error;

/// How a message is framed for the server's era.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// 2026-07-28: `_meta` in every request; over HTTP, `MCP-Protocol-Version`, `Mcp-Method`
    /// and `Mcp-Name` headers.
    Modern(ProtocolVersion),
    /// The `initialize` era; `None` for `initialize` itself, before a version is agreed.
    Legacy(Option<ProtocolVersion>),
}

/// One request and what its transport needs to send it.
#[derive(Debug)]
pub(crate) struct Call {
    pub request: Request,
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub framing: Framing,
    /// Modern HTTP: `Mcp-Param-{Name}` headers mirroring tool arguments, as `(Name, value)`.
    pub param_headers: Vec<(String, String)>,
}

/// The connection to one server.
pub(crate) enum Wire {
    #[cfg(feature = "http")]
    Http(http::HttpWire),
    Stdio(stdio::StdioWire),
}

// Without the `http` feature only the stdio arm is left, and it needs no era framing.
#[cfg_attr(not(feature = "http"), allow(unused_variables))]
impl Wire {
    /// `network.transport`: `tcp` (HTTP) or `pipe` (stdio).
    pub fn network_transport(&self) -> &'static str {
        match self {
            #[cfg(feature = "http")]
            Wire::Http(_) => "tcp",
            Wire::Stdio(_) => "pipe",
        }
    }

    /// Sends a request and waits for its result; a JSON-RPC error is [`Error::Protocol`].
    pub async fn call(&self, call: Call) -> Result<Value, Error> {
        match self {
            #[cfg(feature = "http")]
            Wire::Http(w) => w.call(call).await,
            Wire::Stdio(w) => w.call(call).await,
        }
    }

    /// Sends a notification.
    pub async fn notify(&self, notification: Notification, framing: Framing) -> Result<(), Error> {
        match self {
            #[cfg(feature = "http")]
            Wire::Http(w) => w.notify(notification, framing).await,
            Wire::Stdio(w) => w.notify(&notification),
        }
    }

    /// Tells the server a request was abandoned, in the background (used from `Drop`).
    pub fn cancel(&self, id: RequestId, framing: Framing) {
        match self {
            #[cfg(feature = "http")]
            Wire::Http(w) => w.cancel(id, framing),
            Wire::Stdio(w) => w.cancel(id),
        }
    }

    /// Counts the legacy sessions this connection had (changes when one is replaced).
    pub fn generation(&self) -> u64 {
        match self {
            #[cfg(feature = "http")]
            Wire::Http(w) => w.generation(),
            Wire::Stdio(_) => 0,
        }
    }

    /// The legacy `Mcp-Session-Id`, if the server issued one.
    pub fn session_id(&self) -> Option<String> {
        match self {
            #[cfg(feature = "http")]
            Wire::Http(w) => w.session_id(),
            Wire::Stdio(_) => None,
        }
    }

    /// Whether `2024-11-05` (whose HTTP transport is the old HTTP+SSE one) is usable here.
    pub fn speaks_2024_11_05(&self) -> bool {
        matches!(self, Wire::Stdio(_))
    }

    /// Opens a modern `subscriptions/listen` stream; returns the acknowledged filter and the
    /// stream's reader, which stops (closing the stream) when dropped.
    pub async fn listen(
        &self,
        call: Call,
    ) -> Result<(SubscriptionFilter, Box<dyn Send + Sync>), Error> {
        match self {
            #[cfg(feature = "http")]
            Wire::Http(w) => w.listen(call).await,
            Wire::Stdio(_) => Err(Error::Unsupported("subscriptions/listen over stdio")),
        }
    }

    /// Keeps the legacy GET stream open for server notifications while the guard lives
    /// (`None` where there is no such stream).
    pub async fn legacy_stream(&self, version: ProtocolVersion) -> Option<Box<dyn Send + Sync>> {
        match self {
            #[cfg(feature = "http")]
            Wire::Http(w) => w
                .get_stream(version)
                .await
                .map(|s| Box::new(s) as Box<dyn Send + Sync>),
            Wire::Stdio(_) => None,
        }
    }

    /// Ends the connection: deletes the legacy session, or closes the server's stdin and waits
    /// for it to exit.
    pub async fn close(&self, framing: Framing) -> Result<(), Error> {
        match self {
            #[cfg(feature = "http")]
            Wire::Http(w) => w.close(framing).await,
            Wire::Stdio(w) => w.close().await,
        }
    }
}

/// Runs `f` on the current tokio runtime, if there is one (used from `Drop`).
pub(crate) fn spawn_detached(f: impl std::future::Future<Output = ()> + Send + 'static) {
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        handle.spawn(f);
    }
}
