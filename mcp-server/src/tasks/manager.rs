//! The in-process side of tasks: the [`TaskManager`] of a server and its live entries (the
//! handlers that may still run, with what it takes to run them again).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

use mcp_core::jsonrpc::{ErrorObject, RequestId};
use mcp_core::types::{JsonObject, Meta};
use mcp_core::version::ProtocolVersion;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use super::TaskConfig;
use crate::ToolDef;
use crate::auth::{AuthContext, Delegation};
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
    /// The caller's token exchange (RFC 8693), for upstream calls of the handler.
    pub(crate) delegation: Option<Delegation>,
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

/// The live tasks of a manager, by id.
type LiveTasks = Mutex<HashMap<String, Live>>;

/// The tasks of one server: the record store plus the handlers still running.
pub(crate) struct TaskManager {
    pub(crate) config: TaskConfig,
    live: Arc<LiveTasks>,
    counts: Arc<Mutex<Counts>>,
    /// Counts the statuses tasks enter (`mcp.server.tasks`).
    pub(crate) metrics: crate::telemetry::ServerMetrics,
    /// Whether the store's [`cancellations`](crate::store::TaskStore::cancellations) are
    /// listened to (from the first place taken, in the runtime that serves the tasks).
    listening: AtomicBool,
    /// Ends that listener when the manager goes.
    stop: CancellationToken,
}

impl Drop for TaskManager {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl TaskManager {
    pub(crate) fn new(config: TaskConfig, metrics: crate::telemetry::ServerMetrics) -> Self {
        TaskManager {
            config,
            live: Arc::default(),
            counts: Arc::default(),
            metrics,
            listening: AtomicBool::new(false),
            stop: CancellationToken::new(),
        }
    }

    pub(crate) fn live(&self) -> std::sync::MutexGuard<'_, HashMap<String, Live>> {
        lock(&self.live)
    }

    /// A place for a new task of `owner`, within [`TaskConfig::max_live_tasks`] and, for a
    /// caller with a principal, [`TaskConfig::max_live_tasks_per_principal`]. Tasks whose
    /// records expired make room first. The error (`-32603`) names the bound.
    pub(crate) fn admit(&self, owner: Option<&str>) -> Result<Slot, ErrorObject> {
        self.listen();
        self.try_admit(owner).or_else(|_| {
            self.drop_expired();
            self.try_admit(owner).map_err(ErrorObject::from)
        })
    }

    /// A place for a task admitted before (resumed here after another instance started it):
    /// counted, never refused.
    pub(crate) fn readmit(&self, owner: Option<&str>) -> Slot {
        self.listen();
        self.count(&mut lock(&self.counts), owner)
    }

    /// Starts listening to the cancellations the store pushes, once, if it pushes any and a
    /// runtime is at hand (else the next place taken tries again).
    fn listen(&self) {
        if self.listening.load(Ordering::Acquire) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.listening.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Some(cancellations) = self.config.store.cancellations() {
            let live = Arc::downgrade(&self.live);
            runtime.spawn(stop_cancelled(live, cancellations, self.stop.clone()));
        }
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

/// Stops the handlers of the tasks cancelled elsewhere, as the store announces them, the way
/// the periodic look at the record does: the token is cancelled, and the run's watcher, which
/// finds the record settled already, counts nothing and forgets the entry. Ids of tasks not
/// running here are ignored; ids lost to lag are caught by that periodic look. Ends with the
/// manager (`stop`, or its live tasks gone) or with the store's channel.
async fn stop_cancelled(live: Weak<LiveTasks>, mut ids: Receiver<String>, stop: CancellationToken) {
    loop {
        let id = tokio::select! {
            () = stop.cancelled() => return,
            received = ids.recv() => match received {
                Ok(id) => id,
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "task cancellations missed; the next poll sees them");
                    continue;
                }
                Err(RecvError::Closed) => return,
            },
        };
        let Some(live) = live.upgrade() else { return };
        if let Some(l) = lock(&live).get(&id) {
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
    use crate::BoxFuture;
    use crate::store::{TaskRecord, TaskStore};

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

    /// An in-memory store that pushes the cancellations the test sends, as a shared one would.
    struct Pushing {
        records: crate::store::InMemoryTaskStore,
        sender: tokio::sync::broadcast::Sender<String>,
    }

    impl TaskStore for Pushing {
        fn insert(&self, record: TaskRecord) -> BoxFuture<'_, Result<(), TaskStoreError>> {
            self.records.insert(record)
        }
        fn get<'a>(
            &'a self,
            id: &'a str,
        ) -> BoxFuture<'a, Result<Option<TaskRecord>, TaskStoreError>> {
            self.records.get(id)
        }
        fn update<'a>(
            &'a self,
            id: &'a str,
            change: &'a mut (dyn FnMut(&mut TaskRecord) + Send),
        ) -> BoxFuture<'a, Result<Option<TaskRecord>, TaskStoreError>> {
            self.records.update(id, change)
        }
        fn remove<'a>(
            &'a self,
            id: &'a str,
        ) -> BoxFuture<'a, Result<Option<TaskRecord>, TaskStoreError>> {
            self.records.remove(id)
        }
        fn cancellations(&self) -> Option<Receiver<String>> {
            Some(self.sender.subscribe())
        }
    }

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct NoArgs {}

    fn live(token: CancellationToken, slot: Slot) -> Live {
        let tool = crate::ToolDef::from_fn("t", |_c: crate::Context, NoArgs {}| async { "" });
        Live {
            token,
            spec: Spec {
                tool: Arc::new(tool),
                arguments: None,
                request_id: RequestId::Number(1),
                meta: None,
                version: ProtocolVersion::V2026_07_28,
                client: None,
                auth: None,
                delegation: None,
                request_timeout: None,
            },
            gate: Arc::default(),
            expires_at: SystemTime::now() + Duration::from_secs(60),
            _slot: slot,
        }
    }

    /// Issue 15: the manager listens to the store from its first task on, once; an id the
    /// store pushes cancels that task's handler here (the entry stays for the run's watcher,
    /// as when the poll finds the record cancelled), other ids change nothing, and the
    /// listener ends with the manager.
    #[tokio::test]
    async fn cancellations_pushed_by_the_store_stop_the_local_handler() {
        let sender = tokio::sync::broadcast::channel(8).0;
        let store = Pushing {
            records: crate::store::InMemoryTaskStore::default(),
            sender: sender.clone(),
        };
        let config = TaskConfig::default().store(Arc::new(store));
        let m = TaskManager::new(config, crate::telemetry::ServerMetrics::default());
        assert_eq!(sender.receiver_count(), 0, "nothing listens before a task");
        let (here, other) = (CancellationToken::new(), CancellationToken::new());
        let slot = m.admit(None).unwrap();
        m.live().insert("here".to_owned(), live(here.clone(), slot));
        let slot = m.readmit(None);
        m.live()
            .insert("other".to_owned(), live(other.clone(), slot));
        assert_eq!(sender.receiver_count(), 1, "one listener per manager");
        sender.send("elsewhere".to_owned()).unwrap();
        sender.send("here".to_owned()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), here.cancelled())
            .await
            .unwrap();
        assert!(!other.is_cancelled());
        assert!(m.live().contains_key("here"));
        drop(m);
        crate::test_util::until(|| sender.receiver_count() == 0).await;
    }
}
