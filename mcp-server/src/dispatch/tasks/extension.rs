//! Whether a request uses the tasks extension: how a `tools/call` runs (synchronously or as a
//! task), the `-32021` error when the extension is missing, and its declaration in the server's
//! capabilities.

use mcp_core::jsonrpc::{ErrorCode, ErrorObject};
use mcp_core::types::{
    ClientCapabilities, JsonObject, MissingRequiredClientCapabilityData, TASKS_EXTENSION,
};
use mcp_core::version::Era;
use serde_json::Value;

use crate::ToolDef;
use crate::dispatch::RequestEnv;
use crate::server::ServerInner;
use crate::tasks::TaskSupport;

/// Whether this request declared the tasks extension in its client capabilities.
pub(super) fn declares_extension(env: &RequestEnv) -> bool {
    env.version.era() == Era::Modern
        && env
            .client
            .as_ref()
            .and_then(|c| c.capabilities.extensions.as_ref())
            .is_some_and(|e| e.contains_key(TASKS_EXTENSION))
}

/// `-32021` naming the tasks extension.
pub(super) fn missing_extension() -> ErrorObject {
    let mut extensions = JsonObject::new();
    extensions.insert(TASKS_EXTENSION.to_owned(), Value::Object(JsonObject::new()));
    let data = MissingRequiredClientCapabilityData {
        required_capabilities: ClientCapabilities {
            extensions: Some(extensions),
            ..Default::default()
        },
    };
    ErrorObject::new(
        ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
        "Missing required client capability: the io.modelcontextprotocol/tasks extension",
    )
    .with_data(serde_json::to_value(data).unwrap_or(Value::Null))
}

/// How `tools/call` runs a tool.
pub(crate) enum Route {
    /// As usual, answering on the request.
    Sync,
    /// As a task.
    Task,
}

/// Decides how a call of `tool` runs: a task when the tool supports tasks and the request
/// declared the extension; `-32021` for a tool that requires tasks without it.
pub(crate) fn route(tool: &ToolDef, env: &RequestEnv) -> Result<Route, ErrorObject> {
    match (tool.task_support_level(), declares_extension(env)) {
        (TaskSupport::Forbidden, _) | (TaskSupport::Optional, false) => Ok(Route::Sync),
        (TaskSupport::Required, false) if env.version.era() == Era::Legacy => Ok(Route::Sync),
        (TaskSupport::Required, false) => Err(missing_extension()),
        (_, true) => Ok(Route::Task),
    }
}

/// Whether any registered tool supports tasks (then `server/discover` declares the extension).
fn any_task_tool(server: &ServerInner) -> bool {
    server
        .registry
        .load()
        .tools
        .values()
        .any(|t| t.task_support_level() != TaskSupport::Forbidden)
}

/// Adds the extension to `capabilities.extensions` when a tool supports tasks.
pub(crate) fn declare(
    server: &ServerInner,
    capabilities: &mut mcp_core::types::ServerCapabilities,
) {
    if any_task_tool(server) {
        capabilities
            .extensions
            .get_or_insert_with(JsonObject::new)
            .insert(TASKS_EXTENSION.to_owned(), Value::Object(JsonObject::new()));
    }
}
