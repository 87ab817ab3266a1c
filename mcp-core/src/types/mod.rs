//! MCP protocol data types for the legacy era (`2025-11-25`, `2025-06-18`, `2025-03-26`) and the
//! modern era (`2026-07-28`).
//!
//! One concept per module, all re-exported flat from here, so `mcp_core::types::Tool` and
//! `mcp_core::types::CallToolResult` are the names to use. Method and notification names live in
//! [`methods`]. Every type round-trips against the official JSON Schema of `2025-11-25` (and of
//! `2025-06-18` where the type exists there); fields newer than a version are optional, so the same
//! types serve every legacy version.
//!
//! The modern era adds [`meta_keys`], `resultType` and caching hints, `server/discover`,
//! multi-round-trip requests ([`InputRequiredResult`], `inputResponses` on `tools/call`,
//! `prompts/get` and `resources/read`) and `subscriptions/listen`; those types validate against
//! the schema of `2026-07-28`.
//!
//! ```
//! use mcp_core::types::{CallToolResult, Content};
//!
//! let result = CallToolResult::text("42");
//! assert_eq!(
//!     serde_json::to_value(&result).unwrap(),
//!     serde_json::json!({"content": [{"type": "text", "text": "42"}]})
//! );
//! assert_eq!(result.content[0], Content::text("42"));
//! ```

mod cancellation;
mod capabilities;
mod completion;
mod content;
mod elicitation;
mod icons;
mod initialize;
mod logging;
pub mod methods;
mod modern;
mod mrtr;
mod pagination;
mod progress;
mod prompts;
mod resources;
mod roots;
mod sampling;
mod subscriptions;
mod tools;

pub use cancellation::*;
pub use capabilities::*;
pub use completion::*;
pub use content::*;
pub use elicitation::*;
pub use icons::*;
pub use initialize::*;
pub use logging::*;
pub use modern::*;
pub use mrtr::*;
pub use pagination::*;
pub use progress::*;
pub use prompts::*;
pub use resources::*;
pub use roots::*;
pub use sampling::*;
pub use subscriptions::*;
pub use tools::*;

/// A JSON object: the shape of `_meta`, tool arguments, schemas and open-ended capabilities.
pub type JsonObject = serde_json::Map<String, serde_json::Value>;

/// The `_meta` member that most MCP types carry.
pub type Meta = JsonObject;

/// A progress token: a string or an integer, like a request id.
pub type ProgressToken = crate::jsonrpc::RequestId;

/// An opaque pagination cursor.
pub type Cursor = String;
