//! The JSON-RPC side of the tasks extension (see [`crate::tasks`]): routing a `tools/call` to a
//! task, running its handler in the background, and `tasks/get`, `tasks/update`,
//! `tasks/cancel`.

mod extension;
mod methods;
mod run;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use mcp_core::jsonrpc::RequestId;
use mcp_core::types::{JsonObject, Meta};

pub(crate) use extension::{Route, declare, route};
pub(crate) use methods::handle;
pub(crate) use run::{Started, start};

use super::RequestEnv;
use crate::ToolDef;
use crate::tasks::Spec;

/// A run of `tool` for the call (`arguments`, `request_id`, `meta`), on behalf of the caller of
/// request `env`.
fn spec(
    tool: Arc<ToolDef>,
    arguments: Option<JsonObject>,
    request_id: RequestId,
    meta: Option<Meta>,
    env: &RequestEnv,
    request_timeout: Option<Duration>,
) -> Spec {
    Spec {
        tool,
        arguments,
        request_id,
        meta,
        version: env.version,
        client: env.client.clone(),
        auth: env.auth.clone(),
        delegation: env.delegation.clone(),
        request_timeout,
    }
}

/// The owner a task record keeps: the caller's principal, in its stored form.
fn principal(env: &RequestEnv) -> Option<String> {
    env.principal().map(|p| p.as_str().to_owned())
}
