//! # mcp-server
//!
//! An MCP server framework: register tools, resources, prompts and completions on an
//! [`McpServer`], then serve them over Streamable HTTP (both protocol eras on one endpoint, with
//! sessions, SSE, resumable streams and DNS-rebinding protection) or over stdio.
//!
//! ```no_run
//! use mcp_server::prelude::*;
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Add {
//!     /// The first addend.
//!     a: i64,
//!     /// The second addend.
//!     b: i64,
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let server = McpServer::builder("calculator")
//!         .tool(
//!             ToolDef::from_fn("add", |_ctx: Context, Add { a, b }| async move { a + b })
//!                 .description("Add two integers"),
//!         )
//!         .build()?;
//!     server.serve("127.0.0.1:8000").await?; // http://127.0.0.1:8000/mcp
//!     Ok(())
//! }
//! ```

mod client_state;
pub mod context;
mod dispatch;
pub mod error;
pub mod registry;
pub mod schema;
mod server;
#[cfg(feature = "testing")]
pub mod testing;
pub mod transport;

use std::future::Future;
use std::pin::Pin;

pub use context::Context;
pub use error::{ClientRequestError, McpError};
pub use mcp_core as core;
pub use mcp_core::types;
pub use registry::prompts::{CompletionHandler, IntoPromptResult, PromptArguments, PromptDef};
pub use registry::resources::{IntoReadResult, ResourceDef, ResourceTemplateDef};
pub use registry::tools::{
    IntoTool, IntoToolResult, IntoTools, Json, NoArgs, ToolDef, ToolHandler,
};
pub use server::{BuildError, McpServer, McpServerBuilder};
pub use transport::http::{HttpConfig, SessionMode};

/// A boxed, sendable future, as handlers return them.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The names most servers need: `use mcp_server::prelude::*;`.
pub mod prelude {
    pub use crate::types::{
        CallToolResult, Content, GetPromptResult, Prompt, PromptMessage, ReadResourceResult,
        Resource, ResourceContents, ResourceTemplate, ToolAnnotations,
    };
    pub use crate::{
        CompletionHandler, Context, HttpConfig, Json, McpError, McpServer, NoArgs, PromptDef,
        ResourceDef, ResourceTemplateDef, SessionMode, ToolDef,
    };
}

/// Paths used by code that `mcp-macros` generates. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::registry::tools::parse_arguments;
    pub use crate::schema::{object_schema_for, output_schema_for};
    pub use schemars;
    pub use serde;
    pub use serde_json;
}
