//! The in-process side of tasks: the [`TaskManager`] of a server and its live entries (the
//! handlers that may still run, with what it takes to run them again).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use mcp_core::jsonrpc::{ErrorObject, RequestId};
use mcp_core::types::{JsonObject, Meta};
use mcp_core::version::ProtocolVersion;
use tokio_util::sync::CancellationToken;

use super::TaskConfig;
use crate::ToolDef;
use crate::auth::AuthContext;
use crate::client_state::ClientState;
use crate::store::{TaskCall, TaskStoreError};

/// What the framework needs to run a task's handler again after `tasks/update`.
#[derive(Clone)]
pub(crate) struct Spec {
    pub(crate) tool: Arc<ToolDef>,
    pub(crate) arguments: Option<JsonObject>,
    pub(crate) request_id: RequestId,
    pub(crate) meta: Option<Meta>,
    pub(crate) version: ProtocolVersion,
    pub(crate) client: Option<Arc<ClientState>>,
    pub(crate) auth: Option<Arc<AuthContext>>,
    pub(crate) request_timeout: Option<Duration>,
}

impl Spec {
    /// The call a record keeps, so that another instance can run this again.
    pub(crate) fn call(&self) -> TaskCall {
        TaskCall::new(
            self.tool.name(),
            self.arguments.clone(),
            self.request_id.clone(),
            self.meta.clone(),
        )
    }
}

/// A task whose handler may still run (or run again).
pub(crate) struct Live {
    pub(crate) token: CancellationToken,
    pub(crate) spec: Spec,
    /// Taken by each `tasks/update` of this task, so that deliveries happen one at a time.
    pub(crate) gate: Arc<tokio::sync::Mutex<()>>,
    /// When the task's record expires (`createdAt` + `ttl`): past it, nobody can retrieve the
    /// task, and its entry is dropped (its handler cancelled) when room is needed.
    pub(crate) expires_at: SystemTime,
    /// Its place among the live tasks, given back when the entry goes.
    pub(crate) _slot: Slot,
}

/// How many live tasks there are, in all and by owner.
#[derive(Debug, Default)]
struct Counts {
    total: usize,
    by_owner: HashMap<String, usize>,
}

/// A place among the live tasks of a [`TaskManager`]: counted while it exists.
pub(crate) struct Slot {
    counts: Arc<Mutex<Counts>>,
    owner: Option<String>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = lock(&self.counts);
        counts.total = counts.total.saturating_sub(1);
        if let Some(owner) = &self.owner {
            if let Some(n) = counts.by_owner.get_mut(owner) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    counts.by_owner.remove(owner);
                }
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The tasks of one server: the record store plus the handlers still running.
pub(crate) struct TaskManager {
    pub(crate) config: TaskConfig,
    live: Mutex<HashMap<String, Live>>,
    counts: Arc<Mutex<Counts>>,
    /// Counts the statuses tasks enter (`mcp.server.tasks`).
    pub(crate) metrics: crate::telemetry::ServerMetrics,
}

impl TaskManager {
    pub(crate) fn new(config: TaskConfig, metrics: crate::telemetry::ServerMetrics) -> Self {
        TaskManager {
            config,
            live: Mutex::new(HashMap::new()),
            counts: Arc::default(),
            metrics,
        }
    }

    pub(crate) fn live(&self) -> std::sync::MutexGuard<'_, HashMap<String, Live>> {
        lock(&self.live)
    }

    /// A place for a new task of `owner`, within [`TaskConfig::max_live_tasks`] and, for a
    /// caller with a principal, [`TaskConfig::max_live_tasks_per_principal`]. Tasks whose
    /// records expired make room first. The error (`-32603`) names the bound.
    pub(crate) fn admit(&self, owner: Option<&str>) -> Result<Slot, ErrorObject> {
        self.try_admit(owner).or_else(|_| {
            self.drop_expired();
            self.try_admit(owner).map_err(ErrorObject::from)
        })
    }

    /// A place for a task admitted before (resumed here after another instance started it):
    /// counted, never refused.
    pub(crate) fn readmit(&self, owner: Option<&str>) -> Slot {
        self.count(&mut lock(&self.counts), owner)
    }

    fn try_admit(&self, owner: Option<&str>) -> Result<Slot, Refused> {
        let mut counts = lock(&self.counts);
        if counts.total >= self.config.max_live_tasks {
            return Err(Refused::Total(self.config.max_live_tasks));
        }
        if let Some(o) = owner {
            let max = self.config.max_live_tasks_per_principal;
            if counts.by_owner.get(o).copied().unwrap_or(0) >= max {
                return Err(Refused::Principal(max));
            }
        }
        Ok(self.count(&mut counts, owner))
    }

    fn count(&self, counts: &mut Counts, owner: Option<&str>) -> Slot {
        counts.total += 1;
        if let Some(o) = owner {
            *counts.by_owner.entry(o.to_owned()).or_default() += 1;
        }
        Slot {
            counts: Arc::clone(&self.counts),
            owner: owner.map(str::to_owned),
        }
    }

    /// Forgets (and cancels) the tasks whose records expired.
    fn drop_expired(&self) {
        let now = SystemTime::now();
        let expired: Vec<Live> = {
            let mut live = self.live();
            let ids: Vec<String> = live
                .iter()
                .filter(|(_, l)| l.expires_at < now)
                .map(|(id, _)| id.clone())
                .collect();
            ids.iter().filter_map(|id| live.remove(id)).collect()
        };
        for l in expired {
            l.token.cancel();
        }
    }
}

/// Which bound refused a place.
enum Refused {
    Total(usize),
    Principal(usize),
}

impl From<Refused> for ErrorObject {
    fn from(r: Refused) -> Self {
        let (message, limit, max) = match r {
            Refused::Total(max) => (
                format!(
                    "Too many tasks in progress on this server: at most {max}; try again later"
                ),
                "max_live_tasks",
                max,
            ),
            Refused::Principal(max) => (
                format!(
                    "Too many tasks in progress for this caller: at most {max}; \
                     wait for one to finish or cancel one"
                ),
                "max_live_tasks_per_principal",
                max,
            ),
        };
        ErrorObject::internal_error(message)
            .with_data(serde_json::json!({"limit": limit, "max": max}))
    }
}

/// `-32603` for a store that failed. The cause goes to the log only: it may name the backend.
pub(crate) fn store_failed(error: &TaskStoreError) -> ErrorObject {
    tracing::error!(%error, "task store failed");
    ErrorObject::internal_error("The task store is unavailable")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit_of(e: &ErrorObject) -> &str {
        e.data
            .as_ref()
            .and_then(|d| d["limit"].as_str())
            .unwrap_or_default()
    }

    /// Finding 13: places are bounded in all and per principal (callers without one count
    /// toward the total only), a resumed task is counted but never refused, and a dropped
    /// place is given back.
    #[test]
    fn places_are_bounded_in_all_and_per_principal_and_given_back() {
        let config = TaskConfig::default()
            .max_live_tasks(4)
            .max_live_tasks_per_principal(2);
        let m = TaskManager::new(config, crate::telemetry::ServerMetrics::default());
        let a1 = m.admit(Some("a")).unwrap();
        let _a2 = m.admit(Some("a")).unwrap();
        let e = m.admit(Some("a")).err().unwrap();
        assert_eq!(e.code, mcp_core::ErrorCode::INTERNAL_ERROR);
        assert_eq!(limit_of(&e), "max_live_tasks_per_principal");
        let _anonymous = m.admit(None).unwrap();
        let _b1 = m.admit(Some("b")).unwrap();
        let e = m.admit(None).err().unwrap();
        assert_eq!(limit_of(&e), "max_live_tasks");
        let resumed = m.readmit(Some("a"));
        assert_eq!(lock(&m.counts).total, 5);
        drop(resumed);
        drop(a1);
        assert_eq!(lock(&m.counts).by_owner.get("a"), Some(&1));
        let _a3 = m.admit(Some("a")).unwrap();
    }
}
