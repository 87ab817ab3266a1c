//! # mcp-core
//!
//! The Model Context Protocol as data. This crate holds the JSON-RPC 2.0 message layer
//! ([`jsonrpc`]), the MCP types of every supported protocol version ([`types`]), version
//! negotiation ([`version`]), and the protocol's naming rules ([`rules`]: tool names, scopes)
//! and URI templates ([`uri_template`]), checked alike by the macros at compile time and by the
//! server at run time. It does no I/O: no async runtime, no HTTP. The server
//! (`mcp-server`) and the client (`mcp-client`) are built on it.
//!
//! ```
//! use mcp_core::jsonrpc::{parse_payload, Message, Payload};
//! use mcp_core::version::{negotiate_initialize, DEFAULT_LEGACY_VERSIONS};
//!
//! let Ok(Payload::Single(Ok(Message::Request(req)))) =
//!     parse_payload(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
//! else {
//!     unreachable!()
//! };
//! assert_eq!(req.method, "tools/list");
//! assert_eq!(
//!     negotiate_initialize("2025-06-18", &DEFAULT_LEGACY_VERSIONS).map(|v| v.as_str()),
//!     Some("2025-06-18")
//! );
//! ```

#[cfg(feature = "types")]
pub mod jsonrpc;
pub mod rules;
#[cfg(feature = "types")]
pub mod types;
pub mod uri_template;
#[cfg(feature = "types")]
pub mod version;

#[cfg(feature = "types")]
pub use jsonrpc::{ErrorCode, ErrorObject, Message, RequestId};
#[cfg(feature = "types")]
pub use version::{Era, ProtocolVersion};
