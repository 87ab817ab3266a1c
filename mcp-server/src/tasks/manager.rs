//! The in-process side of tasks: the [`TaskManager`] of a server and its live entries (the
//! handlers that may still run, with what it takes to run them again).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_core::jsonrpc::{ErrorObject, RequestId};
use mcp_core::types::{JsonObject, Meta};
use mcp_core::version::ProtocolVersion;
use tokio_util::sync::CancellationToken;

use super::{TaskCall, TaskConfig, TaskStoreError};
use crate::ToolDef;
use crate::auth::AuthContext;
use crate::client_state::ClientState;
use crate::dispatch::RequestEnv;

/// What the framework needs to run a task's handler again after `tasks/update`.
#[derive(Clone)]
pub(super) struct Spec {
    pub(super) tool: Arc<ToolDef>,
    pub(super) arguments: Option<JsonObject>,
    pub(super) request_id: RequestId,
    pub(super) meta: Option<Meta>,
    pub(super) version: ProtocolVersion,
    pub(super) client: Option<Arc<ClientState>>,
    pub(super) auth: Option<Arc<AuthContext>>,
    pub(super) request_timeout: Option<Duration>,
}

impl Spec {
    /// A run of `tool` for the call (`arguments`, `request_id`, `meta`), on behalf of the
    /// caller of request `env`.
    pub(super) fn new(
        tool: Arc<ToolDef>,
        arguments: Option<JsonObject>,
        request_id: RequestId,
        meta: Option<Meta>,
        env: &RequestEnv,
        request_timeout: Option<Duration>,
    ) -> Self {
        Spec {
            tool,
            arguments,
            request_id,
            meta,
            version: env.version,
            client: env.client.clone(),
            auth: env.auth.clone(),
            request_timeout,
        }
    }

    /// The call a record keeps, so that another instance can run this again.
    pub(super) fn call(&self) -> TaskCall {
        TaskCall::new(
            self.tool.name(),
            self.arguments.clone(),
            self.request_id.clone(),
            self.meta.clone(),
        )
    }
}

/// A task whose handler may still run (or run again).
pub(super) struct Live {
    pub(super) token: CancellationToken,
    pub(super) spec: Spec,
    /// Taken by each `tasks/update` of this task, so that deliveries happen one at a time.
    pub(super) gate: Arc<tokio::sync::Mutex<()>>,
}

/// The tasks of one server: the record store plus the handlers still running.
pub(crate) struct TaskManager {
    pub(super) config: TaskConfig,
    live: Mutex<HashMap<String, Live>>,
}

impl TaskManager {
    pub(crate) fn new(config: TaskConfig) -> Self {
        TaskManager {
            config,
            live: Mutex::new(HashMap::new()),
        }
    }

    pub(super) fn live(&self) -> std::sync::MutexGuard<'_, HashMap<String, Live>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The owner a task record keeps: the caller's principal, in its stored form.
pub(super) fn principal(env: &RequestEnv) -> Option<String> {
    env.principal().map(|p| p.as_str().to_owned())
}

/// `-32603` for a store that failed. The cause goes to the log only: it may name the backend.
pub(super) fn store_failed(error: &TaskStoreError) -> ErrorObject {
    tracing::error!(%error, "task store failed");
    ErrorObject::internal_error("The task store is unavailable")
}
