//! [`PostgresAuditSink`]: audit events written to the `audit_events` table of a
//! [`PostgresStore`]'s database by a background task, in batches, off the request path.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use deadpool_postgres::{Object, Pool};
use tokio::sync::{mpsc, oneshot};

use super::drops::Drops;
use super::time::now_millis;
use super::{AuditEvent, AuditSink};
use crate::auth::apikey::{PostgresStore, StoreError};

/// The most events one `INSERT` writes.
const BATCH: usize = 256;

/// How many times a batch is tried before its events are counted as failed.
const ATTEMPTS: u32 = 3;

/// How long the writer waits between two attempts.
const RETRY_AFTER: Duration = Duration::from_millis(500);

/// How often, at most, a warning reports a failed write.
const FAILURE_WARNING_EVERY_MS: u64 = 10_000;

enum Msg {
    Event(Box<AuditEvent>),
    Flush(oneshot::Sender<()>),
}

/// Audit events in the `audit_events` table (created by [`PostgresStore::connect`]'s
/// migrations): the columns one searches by (`occurred_at`, `action`, `reason`, `subject`,
/// `credential_id`, `correlation_id`) and the whole event as `jsonb` in `event`.
///
/// Recording never blocks the request and never grows memory without bound: events go
/// through a queue of [`queue_capacity`](Self::queue_capacity) events (default
/// [10 000](Self::DEFAULT_QUEUE_CAPACITY)) to a background task on the tokio runtime that
/// created the sink, which writes them in batches on the store's pool (the task ends when the
/// sink is dropped). When the queue is full (a slow or unreachable database), new events are
/// dropped and counted ([`dropped_events`](Self::dropped_events)), and a warning on target
/// `mcp::audit` reports the count at most every 10 seconds. A batch the database refuses three
/// times, half a second apart, is given up and counted ([`failed_events`](Self::failed_events));
/// writing resumes by itself when the database is back. The `tracing` record of each event
/// (see [`Audit`](super::Audit)) is not affected. There is no retention: prune with
/// `DELETE FROM audit_events WHERE occurred_at < now() - interval '90 days'`.
///
/// ```no_run
/// use mcp_server::auth::{ApiKeys, AuthorizationConfig, PostgresAuditSink, PostgresStore};
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = PostgresStore::connect("postgres://mcp@127.0.0.1/mcp").await?;
/// let audit = PostgresAuditSink::new(&store)?;
/// let config = AuthorizationConfig::builtin(ApiKeys::new(store)).audit(audit);
/// # let _ = config; Ok(()) }
/// ```
pub struct PostgresAuditSink {
    tx: mpsc::Sender<Msg>,
    capacity: usize,
    drops: Arc<Drops>,
    failed: Arc<AtomicU64>,
    pool: Pool,
    statement_timeout: Duration,
}

impl std::fmt::Debug for PostgresAuditSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresAuditSink")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl PostgresAuditSink {
    /// The default [`queue_capacity`](Self::queue_capacity): 10 000 events.
    pub const DEFAULT_QUEUE_CAPACITY: usize = 10_000;

    /// Writes to `store`'s database, with a queue of
    /// [`DEFAULT_QUEUE_CAPACITY`](Self::DEFAULT_QUEUE_CAPACITY) events. Call it within a tokio
    /// runtime (the writer is a task on it): [`StoreError::Backend`] otherwise.
    pub fn new(store: &PostgresStore) -> Result<Self, StoreError> {
        Self::with_capacity(store, Self::DEFAULT_QUEUE_CAPACITY)
    }

    /// Like [`new`](Self::new), with a queue of `queue_capacity` events (at least 1) between
    /// the request path and the writer; events beyond it are dropped and counted.
    pub fn with_capacity(store: &PostgresStore, queue_capacity: usize) -> Result<Self, StoreError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            StoreError::Backend("the PostgreSQL audit sink needs a tokio runtime".into())
        })?;
        let capacity = queue_capacity.max(1);
        let (tx, rx) = mpsc::channel(capacity);
        let failed = Arc::new(AtomicU64::new(0));
        let writer = Writer {
            pool: store.pool().clone(),
            statement_timeout: store.statement_timeout(),
            failed: Arc::clone(&failed),
            warned_at_ms: 0,
        };
        runtime.spawn(writer.run(rx));
        Ok(PostgresAuditSink {
            tx,
            capacity,
            drops: Arc::default(),
            failed,
            pool: store.pool().clone(),
            statement_timeout: store.statement_timeout(),
        })
    }

    /// How many events the queue to the writer holds.
    pub fn queue_capacity(&self) -> usize {
        self.capacity
    }

    /// How many events were dropped so far because the queue was full.
    pub fn dropped_events(&self) -> u64 {
        self.drops.total.load(Ordering::Relaxed)
    }

    /// How many events were given up so far because the database refused or did not answer.
    pub fn failed_events(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Waits until every event recorded so far is written or given up (waits for room in the
    /// queue too).
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.tx.send(Msg::Flush(ack)).await.is_ok() {
            let _ = done.await;
        }
    }

    /// The latest `limit` events in the table, newest last.
    pub async fn read_recent(&self, limit: usize) -> Result<Vec<AuditEvent>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let obj = self.client().await?;
        let out = tokio::time::timeout(self.statement_timeout, async {
            obj.query(
                "SELECT event::text FROM (SELECT id, event FROM audit_events \
                 ORDER BY id DESC LIMIT $1) recent ORDER BY id",
                &[&limit],
            )
            .await
        })
        .await;
        let rows = match out {
            Ok(Ok(rows)) => rows,
            Ok(Err(e)) => return Err(crate::auth::apikey::pg_error(&e)),
            Err(_) => {
                drop(Object::take(obj));
                return Err(StoreError::Backend(format!(
                    "PostgreSQL did not answer within {} ms",
                    self.statement_timeout.as_millis()
                )));
            }
        };
        rows.iter()
            .map(|r| {
                let text: String = r
                    .try_get(0)
                    .map_err(|e| StoreError::Corrupt(format!("an audit row: {e}")))?;
                serde_json::from_str(&text)
                    .map_err(|e| StoreError::Corrupt(format!("an audit event: {e}")))
            })
            .collect()
    }

    async fn client(&self) -> Result<Object, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|_| StoreError::Backend("no PostgreSQL connection".into()))
    }
}

impl AuditSink for PostgresAuditSink {
    fn record(&self, event: &AuditEvent) {
        match self.tx.try_send(Msg::Event(Box::new(event.clone()))) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => self.drops.record(),
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::warn!(
                    target: "mcp::audit",
                    "the audit writer has stopped; an event was not written"
                );
            }
        }
    }
}

struct Writer {
    pool: Pool,
    statement_timeout: Duration,
    failed: Arc<AtomicU64>,
    warned_at_ms: u64,
}

/// One statement per batch: the events as one JSON array, unpacked by the server.
const INSERT: &str = "INSERT INTO audit_events \
    (occurred_at, action, reason, subject, credential_id, correlation_id, event) \
    SELECT (e->>'timestamp')::timestamptz, e->>'action', e->>'reason', e->>'subject', \
    e->>'credential_id', e->>'correlation_id', e \
    FROM jsonb_array_elements($1::text::jsonb) AS e";

impl Writer {
    async fn run(mut self, mut rx: mpsc::Receiver<Msg>) {
        while let Some(first) = rx.recv().await {
            let mut batch: Vec<AuditEvent> = Vec::new();
            let mut acks: Vec<oneshot::Sender<()>> = Vec::new();
            let mut next = Some(first);
            while let Some(msg) = next.take() {
                match msg {
                    Msg::Event(e) => batch.push(*e),
                    Msg::Flush(ack) => acks.push(ack),
                }
                if batch.len() < BATCH {
                    next = rx.try_recv().ok();
                }
            }
            if !batch.is_empty() {
                self.write(&batch).await;
            }
            for ack in acks {
                let _ = ack.send(());
            }
        }
    }

    async fn write(&mut self, batch: &[AuditEvent]) {
        let json = match serde_json::to_string(batch) {
            Ok(j) => j,
            Err(e) => {
                tracing::warn!(target: "mcp::audit", error = %e, "could not encode audit events");
                return;
            }
        };
        let mut last = None;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(RETRY_AFTER).await;
            }
            match self.insert(&json).await {
                Ok(()) => return,
                Err(e) => last = Some(e),
            }
        }
        let n = u64::try_from(batch.len()).unwrap_or(u64::MAX);
        let total = self
            .failed
            .fetch_add(n, Ordering::Relaxed)
            .saturating_add(n);
        let now = now_millis();
        if self.warned_at_ms == 0
            || now.saturating_sub(self.warned_at_ms) >= FAILURE_WARNING_EVERY_MS
        {
            self.warned_at_ms = now.max(1);
            let error = last.map(|e| e.to_string()).unwrap_or_default();
            tracing::warn!(
                target: "mcp::audit",
                failed = n,
                failed_total = total,
                error,
                "audit events could not be written to PostgreSQL and were given up"
            );
        }
    }

    async fn insert(&self, json: &str) -> Result<(), StoreError> {
        let obj = self
            .pool
            .get()
            .await
            .map_err(|_| StoreError::Backend("no PostgreSQL connection".into()))?;
        let out = tokio::time::timeout(self.statement_timeout, obj.execute(INSERT, &[&json])).await;
        match out {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => {
                if e.as_db_error().is_none() {
                    drop(Object::take(obj));
                }
                Err(crate::auth::apikey::pg_error(&e))
            }
            Err(_) => {
                drop(Object::take(obj));
                Err(StoreError::Backend(
                    "PostgreSQL did not answer in time".into(),
                ))
            }
        }
    }
}
