//! # mcp-client
//!
//! The companion client of the MCP server framework: speaks Streamable HTTP in both protocol
//! eras and stdio, authenticates with pluggable strategies, and is what the framework's own
//! integration tests use.
//!
#![cfg_attr(feature = "http", doc = "```no_run")]
#![cfg_attr(not(feature = "http"), doc = "```ignore")]
//! use mcp_client::auth::BearerAuth;
//! use mcp_client::{McpClient, RequestOptions};
//!
//! #[derive(serde::Deserialize)]
//! struct Sum {
//!     sum: i64,
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), mcp_client::Error> {
//!     // Modern era (2026-07-28) first, legacy `initialize` fallback.
//!     let client = McpClient::connect("http://127.0.0.1:8000/mcp", BearerAuth::new("eyJ...")).await?;
//!     println!("{:?} {}", client.era(), client.protocol_version());
//!
//!     for tool in client.list_tools().await? {
//!         println!("{}: {}", tool.name, tool.description.unwrap_or_default());
//!     }
//!     let result = client.call_tool("add", serde_json::json!({"a": 2, "b": 3})).await?;
//!     println!("{}", result.text_content().unwrap_or_default());
//!
//!     // Typed structured output, and progress while it runs.
//!     let sum: Sum = client.call_tool_typed("sum", serde_json::json!({"values": [1, 2]})).await?;
//!     let options = RequestOptions::new().on_progress(|p| eprintln!("{}", p.progress));
//!     client.call_tool_with("slow", serde_json::json!({"steps": 5}), &options).await?;
//!
//!     client.close().await
//! }
//! ```
//!
//! OAuth client credentials, registered with (and so only ever sent to) one authorization server:
//!
#![cfg_attr(feature = "http", doc = "```no_run")]
#![cfg_attr(not(feature = "http"), doc = "```ignore")]
//! use mcp_client::McpClient;
//! use mcp_client::auth::ClientCredentialsAuth;
//!
//! # async fn run() -> Result<(), mcp_client::Error> {
//! let auth = ClientCredentialsAuth::new("https://auth.example.com", "my-service", "s3cret")
//!     .scopes(["tools:call"]);
//! let client = McpClient::connect("https://mcp.example.com/mcp", auth).await?;
//! # Ok(()) }
//! ```
//!
//! ## What it does
//!
//! - **Eras.** [`McpClient::connect`] sends `server/discover` with the 2026-07-28 framing
//!   (`_meta` in every request; `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` and
//!   `Mcp-Param-*` headers); a legacy server's answer makes it fall back to `initialize`
//!   (session id, `MCP-Protocol-Version`, SSE). [`ClientBuilder::era`] and
//!   [`ClientBuilder::protocol_version`] force one.
//! - **Server requests.** Elicitation, sampling and roots reach the handlers given to the
//!   [`ClientBuilder`], whether a legacy server sends a JSON-RPC request on the SSE stream or a
//!   modern one answers `input_required` (the client answers and retries).
//! - **Streams.** SSE responses are parsed with `sse-stream`; a legacy stream the server closes
//!   early is resumed with `Last-Event-ID`; an expired legacy session (404) is re-initialised and
//!   the request sent again.
//! - **Cancellation.** Dropping a call's future cancels it on the server.
//! - **Auth.** One [`Auth`](auth::Auth) trait: [`BearerAuth`](auth::BearerAuth),
//!   [`ApiKeyAuth`](auth::ApiKeyAuth), [`BasicAuth`](auth::BasicAuth), [`NoAuth`](auth::NoAuth),
//!   [`DpopAuth`](auth::DpopAuth), OAuth with discovery from the 401
//!   ([`ClientCredentialsAuth`](auth::ClientCredentialsAuth),
//!   [`AuthorizationCodeAuth`](auth::AuthorizationCodeAuth),
//!   [`JwtBearerAuth`](auth::JwtBearerAuth)), or your own; 401 and 403 come back as
//!   [`Error::Unauthorized`] and [`Error::Forbidden`] with the parsed `WWW-Authenticate`
//!   [challenges](challenge::Challenge).
//! - **Where credentials go.** Pre-registered OAuth credentials are pinned to the authorization
//!   server they belong to, named with them:
//!   `ClientCredentialsAuth::new("https://auth.example.com", "my-service", secret)` never sends
//!   the secret to an issuer the server names instead
//!   ([`OAuthError::UntrustedIssuer`](auth::OAuthError::UntrustedIssuer)). Redirects are never
//!   followed ([`Error::Redirected`]). Credentials travel over plain `http` only to loopback
//!   hosts (`127.0.0.0/8`, `[::1]`, `localhost`): elsewhere [`Error::InsecureUrl`] /
//!   [`OAuthError::InsecureUrl`](auth::OAuthError::InsecureUrl), unless
//!   [`ClientBuilder::dangerously_allow_http`] (and the strategies' own
//!   `dangerously_allow_http()`) say otherwise. Protected-resource metadata must name the
//!   server's own URL (RFC 9728 §3.3), from the server's own origin.
//! - **stdio.** [`McpClient::spawn`] starts a server process (the `stdio` feature);
//!   [`ClientBuilder::connect_io`] talks over any pair of byte streams (always there).
//!
//! ## Cargo features
//!
//! All three are on by default, so `McpClient::connect("https://…")` and
//! `McpClient::spawn(…)` work out of the box. Turn off what you do not use with
//! `default-features = false`:
//!
//! | Feature | What it brings | Dependencies it adds |
//! |---------|----------------|----------------------|
//! | `http`  | The Streamable HTTP transport ([`McpClient::connect`], [`ClientBuilder::connect`], [`IntoEndpoint`], [`Url`]) and all of its authentication: the [`auth`] module (Bearer, DPoP, API keys, Basic, OAuth client credentials, authorization code and JWT bearer), the [`challenge`] parser, the [`reqwest`] re-export, and the HTTP-only errors ([`Error::InvalidUrl`], [`Error::Unauthorized`], [`Error::Forbidden`], [`Error::Redirected`], [`Error::InsecureUrl`], [`Error::HttpStatus`], [`Error::Auth`], [`TransportError::Http`]) | `reqwest` (hyper), `sse-stream`, `url`, `form_urlencoded`, `base64`, `bytes`, `aws-lc-rs` (DPoP and `private_key_jwt` signing), tokio's `net` |
//! | `stdio` | Starting a server as a child process: [`McpClient::spawn`], [`ClientBuilder::spawn`] | tokio's `process` |
//! | `rustls` | `https` URLs, through rustls; implies `http`. Without it the HTTP transport speaks plain HTTP/1.1 only, and an `https` URL is [`Error::InvalidUrl`] | `rustls` (on `aws-lc-rs`) through reqwest |
//!
//! A client of local servers only, with no HTTP stack at all:
//!
//! ```toml
//! [dependencies]
//! mcp-client = { version = "0.1", default-features = false, features = ["stdio"] }
//! ```
//!
#![cfg_attr(feature = "stdio", doc = "```no_run")]
#![cfg_attr(not(feature = "stdio"), doc = "```ignore")]
//! # async fn run() -> Result<(), mcp_client::Error> {
//! let client = mcp_client::McpClient::spawn(tokio::process::Command::new("my-mcp-server")).await?;
//! let result = client.call_tool("add", serde_json::json!({"a": 2, "b": 3})).await?;
//! println!("{}", result.text_content().unwrap_or_default());
//! client.close().await
//! # }
//! ```
//!
//! With no feature at all, [`ClientBuilder::connect_io`] is what is left: the protocol over any
//! pair of byte streams you provide.

// The crate docs describe the HTTP side whether or not it is compiled in; without `http` their
// links to it have nothing to point at.
#![cfg_attr(not(feature = "http"), allow(rustdoc::broken_intra_doc_links))]

#[cfg(feature = "http")]
pub mod auth;
mod builder;
#[cfg(feature = "http")]
pub mod challenge;
mod client;
#[cfg(feature = "http")]
mod endpoint;
mod error;
#[cfg(all(fuzzing, feature = "http"))]
#[doc(hidden)]
pub mod fuzzing;
mod handlers;
mod incoming;
mod notifications;
mod options;
#[cfg(feature = "http")]
mod secure_url;
mod session;
mod telemetry;
mod transport;

use std::future::Future;
use std::pin::Pin;

pub use builder::ClientBuilder;
pub use client::McpClient;
#[cfg(feature = "http")]
pub use endpoint::IntoEndpoint;
pub use error::{Error, Malformed, TransportError};
pub use handlers::{ElicitationHandler, SamplingHandler};
pub use mcp_core as core;
pub use mcp_core::types;
pub use mcp_core::{Era, ErrorCode, ErrorObject, ProtocolVersion};
pub use notifications::{NotificationStream, ServerNotification, Subscription};
pub use options::{ProgressCallback, RequestOptions};
/// The HTTP client underneath (for [`ClientBuilder::http_client`] and the types of the
/// [`auth`] API).
#[cfg(feature = "http")]
pub use reqwest;
/// The URL type [`McpClient::connect`] and [`ClientBuilder::connect`] accept (the same type as
/// `reqwest::Url`).
#[cfg(feature = "http")]
pub use url::Url;

/// A boxed, sendable future, as handlers and authentication strategies return them.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
