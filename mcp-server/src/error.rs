//! Errors a handler returns, and errors of server→client requests.

use mcp_core::jsonrpc::{ErrorCode, ErrorObject};
use mcp_core::version::ProtocolVersion;

/// What a resource, prompt or completion handler returns when it cannot answer.
///
/// Tool handlers report failures as tool results (`isError: true`) instead; see
/// [`IntoToolResult`](crate::IntoToolResult).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum McpError {
    /// The resource does not exist. Sent as `-32002` in the legacy era and `-32602` in
    /// 2026-07-28.
    #[error("Resource not found: {uri}")]
    ResourceNotFound {
        /// The URI that was asked for.
        uri: String,
    },
    /// The request's parameters are unacceptable (`-32602`).
    #[error("{0}")]
    InvalidParams(String),
    /// The server failed (`-32603`). The message reaches the client: keep secrets out of it.
    #[error("{0}")]
    Internal(String),
    /// A JSON-RPC error chosen by the handler.
    #[error("{0}")]
    Rpc(ErrorObject),
    /// A request to the client (sampling, elicitation, roots) failed.
    #[error(transparent)]
    ClientRequest(#[from] ClientRequestError),
}

impl McpError {
    /// `-32602` with a message.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        McpError::InvalidParams(message.into())
    }

    /// `-32603` with a message.
    pub fn internal(message: impl Into<String>) -> Self {
        McpError::Internal(message.into())
    }

    /// Resource-not-found for `uri`.
    pub fn resource_not_found(uri: impl Into<String>) -> Self {
        McpError::ResourceNotFound { uri: uri.into() }
    }

    /// The JSON-RPC error for `version`.
    pub fn to_error_object(&self, version: ProtocolVersion) -> ErrorObject {
        match self {
            McpError::ResourceNotFound { uri } => {
                let code = if version.resource_not_found_is_invalid_params() {
                    ErrorCode::INVALID_PARAMS
                } else {
                    ErrorCode::RESOURCE_NOT_FOUND
                };
                ErrorObject::new(code, self.to_string())
                    .with_data(serde_json::json!({ "uri": uri }))
            }
            McpError::InvalidParams(m) => ErrorObject::invalid_params(m.clone()),
            McpError::Internal(m) => ErrorObject::internal_error(m.clone()),
            McpError::Rpc(e) => e.clone(),
            McpError::ClientRequest(e) => ErrorObject::internal_error(e.to_string()),
        }
    }
}

impl From<ErrorObject> for McpError {
    fn from(e: ErrorObject) -> Self {
        McpError::Rpc(e)
    }
}

/// Why a request from the server to the client (sampling, elicitation, roots) failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientRequestError {
    /// The client did not declare the capability this request needs (L-13).
    #[error("the client did not declare the `{0}` capability")]
    CapabilityMissing(&'static str),
    /// This connection cannot carry server→client requests (stateless HTTP, or a client that
    /// accepts no event stream).
    #[error("this connection cannot carry requests to the client")]
    NotSupported,
    /// The client answered with an error.
    #[error("the client answered with an error: {0}")]
    Rejected(ErrorObject),
    /// The client's answer did not have the expected shape.
    #[error("the client's answer is malformed: {0}")]
    InvalidResponse(String),
    /// The request was cancelled or the connection closed before an answer came.
    #[error("the request was cancelled before the client answered")]
    Cancelled,
    /// The client already has as many requests waiting for its answers as
    /// [`McpServerBuilder::max_pending_client_requests`](crate::McpServerBuilder::max_pending_client_requests)
    /// allows; this one was not sent.
    #[error("too many requests to the client are waiting for answers (at most {max})")]
    TooManyPending {
        /// The bound.
        max: usize,
    },
    /// No answer within the configured timeout.
    #[error("the client did not answer in time")]
    Timeout,
    /// 2026-07-28: the question goes back to the client in an `input_required` result; the
    /// handler runs again when the client retries with the answer. Propagate it with `?`.
    #[error("input required from the client; the request will be retried with the answer")]
    InputRequired,
}

/// `-32700` for a message nested deeper than the bound
/// ([`HttpConfig::max_json_depth`](crate::HttpConfig::max_json_depth); stdio: 64).
pub(crate) fn too_deep(max: usize) -> ErrorObject {
    ErrorObject::new(
        mcp_core::ErrorCode::PARSE_ERROR,
        format!("Parse error: JSON nested deeper than {max} levels"),
    )
    .with_data(serde_json::json!({"limit": "max_json_depth", "max": max}))
}

/// `-32600` for a batch over the bound, refused whole before any of it runs (T-12, T-92).
pub(crate) fn batch_too_large(len: usize, max: usize) -> ErrorObject {
    ErrorObject::invalid_request(format!(
        "Batch too large: {len} messages, at most {max} are accepted"
    ))
    .with_data(serde_json::json!({"limit": "max_batch_messages", "max": max}))
}

/// What a panic's payload says, for the server's log (never for the client: it may name
/// internals). Panics carry a `&str` or a `String` unless raised with `panic_any`.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-text panic payload")
}
