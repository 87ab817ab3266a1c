//! Where task records live: the [`TaskStore`] trait and its bounded in-memory default.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mcp_core::jsonrpc::{ErrorObject, RequestId};
use mcp_core::types::{InputRequests, JsonObject, Meta};
use serde_json::Value;

use crate::BoxFuture;
use crate::store::NotReady;

/// The state of a task (SEP-2663).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskStatus {
    /// The tool is running.
    Working,
    /// The tool waits for the client's answers (`inputRequests`, resumed by `tasks/update`).
    InputRequired,
    /// The tool finished; the record holds its result (possibly with `isError`).
    Completed,
    /// A protocol-level failure; the record holds the JSON-RPC error.
    Failed,
    /// The client cancelled the task.
    Cancelled,
}

impl TaskStatus {
    /// The wire name: `working`, `input_required`, `completed`, `failed`, `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Working => "working",
            TaskStatus::InputRequired => "input_required",
            TaskStatus::Completed => "completed",
            TaskStatus::Failed => "failed",
            TaskStatus::Cancelled => "cancelled",
        }
    }

    /// Whether the task is over (`completed`, `failed` or `cancelled`).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskStatus::Completed | TaskStatus::Failed | TaskStatus::Cancelled
        )
    }
}

/// Everything a server remembers about one task.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRecord {
    /// The opaque id (128 random bits, hex).
    pub task_id: String,
    /// The principal of the caller that created it, when authorization is on; only that caller
    /// sees the task.
    pub owner: Option<String>,
    /// The current status.
    pub status: TaskStatus,
    /// A human-readable note on the status.
    pub status_message: Option<String>,
    /// When the task was created.
    pub created_at: SystemTime,
    /// When the task last changed.
    pub last_updated_at: SystemTime,
    /// How long the task stays retrievable after it was created.
    pub ttl: Duration,
    /// How often clients should poll `tasks/get`.
    pub poll_interval: Duration,
    /// The tool's result (`CallToolResult` as JSON) once `completed`.
    pub result: Option<Value>,
    /// The protocol error once `failed`.
    pub error: Option<ErrorObject>,
    /// The questions still pending while `input_required`.
    pub input_requests: Option<InputRequests>,
    /// The call that started the task, so that any instance sharing the store can run its
    /// handler again once every question is answered (`None`: only the creating instance can).
    pub call: Option<TaskCall>,
    /// The answers collected so far while `input_required`, by input key.
    pub answers: JsonObject,
}

/// The `tools/call` behind a task: enough to run its handler again anywhere. The caller's
/// identity is not kept: a resumed handler runs for the caller of `tasks/update`, who must be
/// the task's owner.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct TaskCall {
    /// The tool's name.
    pub tool: String,
    /// The call's arguments.
    pub arguments: Option<JsonObject>,
    /// The id of the request that created the task (handlers see it as theirs).
    pub request_id: RequestId,
    /// The call's `_meta`.
    pub meta: Option<Meta>,
}

impl TaskCall {
    /// A call of `tool` with `arguments`, made by request `request_id` with `meta`.
    pub fn new(
        tool: impl Into<String>,
        arguments: Option<JsonObject>,
        request_id: RequestId,
        meta: Option<Meta>,
    ) -> Self {
        TaskCall {
            tool: tool.into(),
            arguments,
            request_id,
            meta,
        }
    }
}

impl TaskRecord {
    /// Whether the record's time to live has passed at `now`.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        now.duration_since(self.created_at)
            .is_ok_and(|age| age > self.ttl)
    }
}

/// Why a store refused a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskStoreError {
    /// The store holds as many live tasks as it may.
    #[error("too many tasks are in progress")]
    Full,
    /// A record with this id exists already.
    #[error("a task with this id exists already")]
    Duplicate,
    /// The backing storage failed.
    #[error("task storage failed: {0}")]
    Backend(String),
}

/// Storage of task records. Implement it to keep tasks elsewhere (a database shared by several
/// instances); the running handlers themselves always stay in the process that started them.
///
/// Every method is one atomic operation and may be called concurrently. A failing backend
/// answers [`TaskStoreError::Backend`]; the server then answers `-32603`, never a success.
pub trait TaskStore: Send + Sync + 'static {
    /// Adds a new record; [`TaskStoreError::Duplicate`] when its id exists already.
    fn insert(&self, record: TaskRecord) -> BoxFuture<'_, Result<(), TaskStoreError>>;

    /// The record with this id, unless unknown or expired.
    fn get<'a>(
        &'a self,
        task_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<TaskRecord>, TaskStoreError>>;

    /// Applies `change` to the record with this id and returns the updated record (`None` when
    /// unknown or expired). The change is atomic: no other write comes between the read and the
    /// write. A backend that retries on a conflict calls `change` again on the fresh record, so
    /// `change` may run more than once; only the last run is stored.
    fn update<'a>(
        &'a self,
        task_id: &'a str,
        change: &'a mut (dyn FnMut(&mut TaskRecord) + Send),
    ) -> BoxFuture<'a, Result<Option<TaskRecord>, TaskStoreError>>;

    /// Forgets the record with this id and returns it (`None` when unknown).
    fn remove<'a>(
        &'a self,
        task_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<TaskRecord>, TaskStoreError>>;

    /// Whether the store can serve now, for the HTTP transport's readiness endpoint (`/readyz`):
    /// `Err` with a short reason, free of secrets, when it cannot (a backend that does not
    /// answer). The endpoint calls it at most about once a second, bounded by
    /// `HttpConfig::readiness_timeout`. Default: ready (a store in memory always is).
    fn readiness(&self) -> BoxFuture<'_, Result<(), NotReady>> {
        Box::pin(std::future::ready(Ok(())))
    }

    /// The ids of tasks cancelled through other instances sharing this store, as they happen,
    /// so that the instance running a task's handler stops it at once rather than at its next
    /// look at the record (every poll interval). Each call gives a new receiver; the server
    /// calls it once, when its first task starts.
    ///
    /// Best effort: an id may come more than once, name a task running elsewhere, or be lost
    /// (a receiver that lags, a backend that was unreachable); the server keeps looking at the
    /// record every poll interval as well. Default: `None`, nothing is pushed (a store in
    /// memory is never shared).
    fn cancellations(&self) -> Option<tokio::sync::broadcast::Receiver<String>> {
        None
    }
}

/// The default [`TaskStore`]: records in memory, at most `capacity` of them. Expired records
/// are dropped lazily; when full, the oldest finished record makes room, and if every record is
/// still running the insertion fails.
#[derive(Debug)]
pub struct InMemoryTaskStore {
    capacity: usize,
    records: Mutex<HashMap<String, TaskRecord>>,
}

impl InMemoryTaskStore {
    /// A store holding at most `capacity` records (at least 1).
    pub fn new(capacity: usize) -> Self {
        InMemoryTaskStore {
            capacity: capacity.max(1),
            records: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, TaskRecord>> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for InMemoryTaskStore {
    /// 10 000 records.
    fn default() -> Self {
        InMemoryTaskStore::new(10_000)
    }
}

impl InMemoryTaskStore {
    fn insert_now(&self, record: TaskRecord) -> Result<(), TaskStoreError> {
        let mut records = self.lock();
        if records.contains_key(&record.task_id) {
            return Err(TaskStoreError::Duplicate);
        }
        if records.len() >= self.capacity {
            let now = SystemTime::now();
            records.retain(|_, r| !r.is_expired(now));
        }
        if records.len() >= self.capacity {
            let oldest = records
                .values()
                .filter(|r| r.status.is_terminal())
                .min_by_key(|r| r.last_updated_at)
                .map(|r| r.task_id.clone());
            match oldest {
                Some(id) => {
                    records.remove(&id);
                }
                None => return Err(TaskStoreError::Full),
            }
        }
        records.insert(record.task_id.clone(), record);
        Ok(())
    }

    fn get_now(&self, task_id: &str) -> Option<TaskRecord> {
        let records = self.lock();
        records
            .get(task_id)
            .filter(|r| !r.is_expired(SystemTime::now()))
            .cloned()
    }

    fn update_now(
        &self,
        task_id: &str,
        change: &mut (dyn FnMut(&mut TaskRecord) + Send),
    ) -> Option<TaskRecord> {
        let mut records = self.lock();
        let record = records
            .get_mut(task_id)
            .filter(|r| !r.is_expired(SystemTime::now()))?;
        change(record);
        Some(record.clone())
    }
}

/// Every operation completes at once, under one lock.
impl TaskStore for InMemoryTaskStore {
    fn insert(&self, record: TaskRecord) -> BoxFuture<'_, Result<(), TaskStoreError>> {
        Box::pin(std::future::ready(self.insert_now(record)))
    }

    fn get<'a>(
        &'a self,
        task_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<TaskRecord>, TaskStoreError>> {
        Box::pin(std::future::ready(Ok(self.get_now(task_id))))
    }

    fn update<'a>(
        &'a self,
        task_id: &'a str,
        change: &'a mut (dyn FnMut(&mut TaskRecord) + Send),
    ) -> BoxFuture<'a, Result<Option<TaskRecord>, TaskStoreError>> {
        Box::pin(std::future::ready(Ok(self.update_now(task_id, change))))
    }

    fn remove<'a>(
        &'a self,
        task_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<TaskRecord>, TaskStoreError>> {
        Box::pin(std::future::ready(Ok(self.lock().remove(task_id))))
    }
}

/// `t` as an ISO-8601 UTC timestamp with milliseconds (`2026-07-28T12:00:00.000Z`).
pub(crate) fn iso8601(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar
/// (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, status: TaskStatus) -> TaskRecord {
        let now = SystemTime::now();
        TaskRecord {
            task_id: id.to_owned(),
            owner: None,
            status,
            status_message: None,
            created_at: now,
            last_updated_at: now,
            ttl: Duration::from_secs(60),
            poll_interval: Duration::from_millis(100),
            result: None,
            error: None,
            input_requests: None,
            call: None,
            answers: JsonObject::new(),
        }
    }

    #[test]
    fn timestamps_are_iso8601() {
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_785_240_000_123);
        assert_eq!(iso8601(t), "2026-07-28T12:00:00.123Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(iso8601(leap), "2000-02-29T00:00:00.000Z");
    }

    #[tokio::test]
    async fn a_full_store_evicts_finished_tasks_only() {
        let store = InMemoryTaskStore::new(2);
        store
            .insert(record("a", TaskStatus::Working))
            .await
            .unwrap();
        store
            .insert(record("b", TaskStatus::Completed))
            .await
            .unwrap();
        store
            .insert(record("c", TaskStatus::Working))
            .await
            .unwrap();
        assert_eq!(store.get("b").await, Ok(None));
        assert_eq!(
            store.insert(record("d", TaskStatus::Working)).await,
            Err(TaskStoreError::Full)
        );
        assert_eq!(
            store.insert(record("a", TaskStatus::Working)).await,
            Err(TaskStoreError::Duplicate)
        );
    }

    #[tokio::test]
    async fn updates_apply_and_removal_forgets() {
        let store = InMemoryTaskStore::new(4);
        store
            .insert(record("a", TaskStatus::Working))
            .await
            .unwrap();
        let updated = store
            .update("a", &mut |r| r.status = TaskStatus::Completed)
            .await
            .unwrap();
        assert_eq!(updated.map(|r| r.status), Some(TaskStatus::Completed));
        let got = store.get("a").await.unwrap();
        assert_eq!(got.map(|r| r.status), Some(TaskStatus::Completed));
        assert!(store.remove("a").await.unwrap().is_some());
        assert_eq!(store.get("a").await, Ok(None));
        assert_eq!(store.update("a", &mut |_| {}).await, Ok(None));
        assert_eq!(store.remove("a").await, Ok(None));
    }

    #[tokio::test]
    async fn expired_records_are_gone() {
        let store = InMemoryTaskStore::new(4);
        let mut r = record("x", TaskStatus::Completed);
        r.ttl = Duration::ZERO;
        r.created_at = SystemTime::now() - Duration::from_secs(1);
        store.insert(r).await.unwrap();
        assert_eq!(store.get("x").await, Ok(None));
        assert_eq!(store.update("x", &mut |_| {}).await, Ok(None));
    }
}
