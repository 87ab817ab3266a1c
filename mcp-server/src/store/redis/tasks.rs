//! Task records on Redis: one JSON value per task under `{prefix}{task_id}`, expiring when the
//! task does, so that every instance sharing the Redis serves the same tasks; cancellations are
//! announced on the channel `{prefix}cancelled`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ::redis::aio::{ConnectionManager, MultiplexedConnection, PubSub};
use ::redis::{
    AsyncConnectionConfig, Client, ExistenceCheck, RedisError, SetExpiry, SetOptions, cmd, pipe,
};
use futures_util::StreamExt;
use mcp_core::jsonrpc::ErrorObject;
use mcp_core::types::{InputRequests, JsonObject};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::BoxFuture;
use crate::store::{NotReady, TaskCall, TaskRecord, TaskStatus, TaskStore, TaskStoreError};

/// How many times an update reads the record again after another writer changed it first.
const UPDATE_ATTEMPTS: u32 = 32;
/// The longest pause between two attempts of an update (the pause doubles from 1 ms).
const MAX_PAUSE: Duration = Duration::from_millis(64);
/// How many idle update connections a store keeps for reuse.
const IDLE_CONNECTIONS: usize = 4;
/// The longest expiry a key gets (about 100 years), however long the record's TTL.
const MAX_EXPIRY_MS: u64 = 100 * 365 * 24 * 3600 * 1000;
/// How many announced cancellations wait for a slow listener before it misses some.
const ANNOUNCED: usize = 1024;
/// The longest task id forwarded from the channel (the server's are 32 hex digits).
const MAX_ID_LEN: usize = 128;
/// How long connecting and subscribing may take.
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(2);
/// The first pause before subscribing again after Redis went away; it doubles up to
/// [`MAX_RESUBSCRIBE_PAUSE`].
const RESUBSCRIBE_PAUSE: Duration = Duration::from_millis(100);
/// The longest pause between two attempts to subscribe again.
const MAX_RESUBSCRIBE_PAUSE: Duration = Duration::from_secs(5);
/// How often an idle subscription checks, with a `PING`, that Redis still answers.
const HEALTH_EVERY: Duration = Duration::from_secs(15);
/// How long that `PING` may take.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

/// A [`TaskStore`] on Redis, shared by every instance that uses the same server and prefix: a
/// task created through one instance can be polled, answered and cancelled through any other
/// (a handler that is running keeps running where it started; see the `tasks` module).
///
/// Each record is a JSON value under `{prefix}{task_id}` whose expiry is the record's remaining
/// time to live, computed from its `created_at`: the instances' clocks should agree. There is
/// no capacity limit (insertion never fails with [`TaskStoreError::Full`]); bound the keyspace
/// with Redis's own `maxmemory` settings. Use a prefix of its own: task ids come from clients.
///
/// Reads, insertions and removals are single commands on the shared connection. An update is an
/// optimistic transaction (`WATCH`, `GET`, then `MULTI`/`SET`/`EXEC`, retried when another
/// writer came first) on a connection of its own, because a `WATCH` belongs to a connection and
/// the shared one interleaves every caller's commands.
///
/// An update that makes a task `cancelled` announces its id on the channel `{prefix}cancelled`
/// (`PUBLISH`, once the transaction committed). [`TaskStore::cancellations`] subscribes to it,
/// on a connection of its own opened by the first call, so that the instance running the
/// handler stops it at once. The subscription comes back, with a growing pause of at most 5 s,
/// after Redis went away; what was announced meanwhile is lost, and the instance then sees the
/// cancellation when it next looks at the record (every poll interval).
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use mcp_server::store::RedisTaskStore;
/// use mcp_server::tasks::TaskConfig;
///
/// let store = RedisTaskStore::connect("redis://127.0.0.1:6379/", "mcp:tasks:").await?;
/// let config = TaskConfig::default().store(Arc::new(store));
/// # let _ = config;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisTaskStore {
    client: Client,
    connection: ConnectionManager,
    prefix: String,
    /// Idle connections for updates; each serves one update at a time.
    idle: Arc<Mutex<Vec<MultiplexedConnection>>>,
    /// The cancellations announced by every instance, for [`TaskStore::cancellations`].
    announced: Arc<Announced>,
}

/// Where the cancellations announced on the channel go, once someone listens.
struct Announced {
    sender: broadcast::Sender<String>,
    /// Whether the subscriber runs.
    subscribed: AtomicBool,
    /// Ends the subscriber when the last clone of the store goes.
    stop: CancellationToken,
}

impl Drop for Announced {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl std::fmt::Debug for RedisTaskStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTaskStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisTaskStore {
    /// A store on `connection`, which it may share with other users; updates open their own
    /// connections through `client`, which must point at the same Redis. Every key starts with
    /// `prefix`.
    pub fn new(client: Client, connection: ConnectionManager, prefix: impl Into<String>) -> Self {
        RedisTaskStore {
            client,
            connection,
            prefix: prefix.into(),
            idle: Arc::new(Mutex::new(Vec::new())),
            announced: Arc::new(Announced {
                sender: broadcast::channel(ANNOUNCED).0,
                subscribed: AtomicBool::new(false),
                stop: CancellationToken::new(),
            }),
        }
    }

    /// Connects to `url` (`redis://host:port/db`); every key starts with `prefix`.
    pub async fn connect(url: &str, prefix: impl Into<String>) -> Result<Self, TaskStoreError> {
        let (client, connection) = super::connect(url).await.map_err(TaskStoreError::Backend)?;
        Ok(Self::new(client, connection, prefix))
    }

    fn key(&self, task_id: &str) -> String {
        format!("{}{task_id}", self.prefix)
    }

    /// The channel on which cancellations are announced.
    fn channel(&self) -> String {
        format!("{}cancelled", self.prefix)
    }

    /// Tells every instance that `task_id` was cancelled. A failure only delays the news: the
    /// others see the record at their next poll.
    async fn announce(&self, task_id: &str) {
        let mut connection = self.connection.clone();
        let published = cmd("PUBLISH")
            .arg(self.channel())
            .arg(task_id)
            .query_async::<i64>(&mut connection)
            .await;
        if let Err(e) = published {
            tracing::warn!(
                task = %task_id,
                kind = ?e.kind(),
                "could not announce a task's cancellation on Redis; other instances see it at their next poll"
            );
        }
    }

    /// Starts the subscriber of the channel, once, in the current runtime (none: not yet).
    fn subscribe(&self) {
        let announced = &self.announced;
        if announced.subscribed.load(Ordering::Acquire) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if announced.subscribed.swap(true, Ordering::AcqRel) {
            return;
        }
        runtime.spawn(relay(
            self.client.clone(),
            self.channel(),
            announced.sender.clone(),
            announced.stop.clone(),
        ));
    }

    /// A connection no other update uses, and whether it served an update before.
    async fn checkout(&self) -> Result<(MultiplexedConnection, bool), TaskStoreError> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match idle {
            Some(connection) => Ok((connection, true)),
            None => Ok((self.open().await?, false)),
        }
    }

    /// A new connection for updates.
    async fn open(&self) -> Result<MultiplexedConnection, TaskStoreError> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(1)));
        self.client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(backend)
    }

    /// Keeps a connection whose last update ended cleanly (no `WATCH` left) for the next one.
    fn checkin(&self, connection: MultiplexedConnection) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < IDLE_CONNECTIONS {
            idle.push(connection);
        }
    }

    /// Forgets every idle connection (after a failure, they may all point at a dead server).
    fn drain(&self) {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The read-modify-write loop of [`TaskStore::update`] on `connection`.
    async fn transact(
        connection: &mut MultiplexedConnection,
        key: &str,
        change: &mut (dyn FnMut(&mut TaskRecord) + Send),
    ) -> Result<Option<Committed>, Stop> {
        let mut pause = Duration::from_millis(1);
        for _ in 0..UPDATE_ATTEMPTS {
            let (raw,): (Option<Vec<u8>>,) = pipe()
                .cmd("WATCH")
                .arg(key)
                .ignore()
                .cmd("GET")
                .arg(key)
                .query_async(connection)
                .await
                .map_err(|e| Stop::Unwritten(backend(e)))?;
            let now = SystemTime::now();
            let current = raw.map(|bytes| decode(&bytes)).transpose()?;
            let Some(mut record) = current.filter(|r| !r.is_expired(now)) else {
                cmd("UNWATCH")
                    .exec_async(connection)
                    .await
                    .map_err(backend)?;
                return Ok(None);
            };
            let before = record.status;
            change(&mut record);
            let options = SetOptions::default()
                .conditional_set(ExistenceCheck::XX)
                .with_expiration(SetExpiry::PX(expiry_ms(&record, now)));
            // Nil when a watched key changed (EXEC aborted); else the reply of SET, itself nil
            // when the key is gone.
            let committed: Option<(Option<String>,)> = pipe()
                .atomic()
                .cmd("SET")
                .arg(key)
                .arg(encode(&record)?)
                .arg(options)
                .query_async(connection)
                .await
                .map_err(backend)?;
            match committed {
                Some((Some(_),)) => {
                    let cancelled =
                        before != TaskStatus::Cancelled && record.status == TaskStatus::Cancelled;
                    return Ok(Some(Committed { record, cancelled }));
                }
                Some((None,)) => return Ok(None),
                None => {
                    tokio::time::sleep(jitter(pause)).await;
                    pause = (pause * 2).min(MAX_PAUSE);
                }
            }
        }
        Err(Stop::Failed(TaskStoreError::Backend(
            "the task record kept changing during the update".to_owned(),
        )))
    }
}

/// A record an update stored.
struct Committed {
    record: TaskRecord,
    /// Whether this update made the task `cancelled`.
    cancelled: bool,
}

/// Why an update transaction stopped without a result.
enum Stop {
    /// Reading failed; nothing was written.
    Unwritten(TaskStoreError),
    /// Anything else, possibly after a write.
    Failed(TaskStoreError),
}

impl From<TaskStoreError> for Stop {
    fn from(error: TaskStoreError) -> Self {
        Stop::Failed(error)
    }
}

impl From<Stop> for TaskStoreError {
    fn from(stop: Stop) -> Self {
        match stop {
            Stop::Unwritten(e) | Stop::Failed(e) => e,
        }
    }
}

impl TaskStore for RedisTaskStore {
    fn insert(&self, record: TaskRecord) -> BoxFuture<'_, Result<(), TaskStoreError>> {
        let span = crate::telemetry::outgoing("redis SET", Some("redis"));
        Box::pin(crate::telemetry::traced(span, async move {
            let key = self.key(&record.task_id);
            let options = SetOptions::default()
                .conditional_set(ExistenceCheck::NX)
                .with_expiration(SetExpiry::PX(expiry_ms(&record, SystemTime::now())));
            let mut connection = self.connection.clone();
            // `OK` when the key was new; nil when it was there already.
            let reply: Option<String> = cmd("SET")
                .arg(&key)
                .arg(encode(&record)?)
                .arg(options)
                .query_async(&mut connection)
                .await
                .map_err(backend)?;
            reply.map(|_| ()).ok_or(TaskStoreError::Duplicate)
        }))
    }

    fn get<'a>(
        &'a self,
        task_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<TaskRecord>, TaskStoreError>> {
        let span = crate::telemetry::outgoing("redis GET", Some("redis"));
        Box::pin(crate::telemetry::traced(span, async move {
            let mut connection = self.connection.clone();
            let raw: Option<Vec<u8>> = cmd("GET")
                .arg(self.key(task_id))
                .query_async(&mut connection)
                .await
                .map_err(backend)?;
            let record = raw.map(|bytes| decode(&bytes)).transpose()?;
            Ok(record.filter(|r| !r.is_expired(SystemTime::now())))
        }))
    }

    fn update<'a>(
        &'a self,
        task_id: &'a str,
        change: &'a mut (dyn FnMut(&mut TaskRecord) + Send),
    ) -> BoxFuture<'a, Result<Option<TaskRecord>, TaskStoreError>> {
        let span = crate::telemetry::outgoing("redis update", Some("redis"));
        Box::pin(crate::telemetry::traced(span, async move {
            let key = self.key(task_id);
            let (mut connection, reused) = self.checkout().await?;
            let mut outcome = Self::transact(&mut connection, &key, change).await;
            if reused && matches!(outcome, Err(Stop::Unwritten(_))) {
                // Idle connections die with the server they point at (a Redis restart). Nothing
                // was written: try once more on a new connection.
                self.drain();
                connection = self.open().await?;
                outcome = Self::transact(&mut connection, &key, change).await;
            }
            match outcome {
                Ok(committed) => {
                    self.checkin(connection);
                    Ok(match committed {
                        Some(Committed { record, cancelled }) => {
                            if cancelled {
                                self.announce(task_id).await;
                            }
                            Some(record)
                        }
                        None => None,
                    })
                }
                // The connection may still watch the key, or be dead: let it go.
                Err(stop) => Err(stop.into()),
            }
        }))
    }

    fn remove<'a>(
        &'a self,
        task_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<TaskRecord>, TaskStoreError>> {
        let span = crate::telemetry::outgoing("redis GETDEL", Some("redis"));
        Box::pin(crate::telemetry::traced(span, async move {
            let mut connection = self.connection.clone();
            let raw: Option<Vec<u8>> = cmd("GETDEL")
                .arg(self.key(task_id))
                .query_async(&mut connection)
                .await
                .map_err(backend)?;
            raw.map(|bytes| decode(&bytes)).transpose()
        }))
    }

    /// A `PING` on the shared connection, answered within 1 s.
    fn readiness(&self) -> BoxFuture<'_, Result<(), NotReady>> {
        Box::pin(super::ping(&self.connection))
    }

    /// The ids announced on `{prefix}cancelled`; the first call subscribes (see the type).
    fn cancellations(&self) -> Option<broadcast::Receiver<String>> {
        self.subscribe();
        Some(self.announced.sender.subscribe())
    }
}

/// Subscribes to `channel` and forwards the ids announced there to `sender` until `stop`;
/// after Redis went away, subscribes again with a growing pause, warning once per outage.
async fn relay(
    client: Client,
    channel: String,
    sender: broadcast::Sender<String>,
    stop: CancellationToken,
) {
    let mut pause = RESUBSCRIBE_PAUSE;
    let mut outage = false;
    loop {
        let subscribed = tokio::select! {
            () = stop.cancelled() => return,
            subscribed = subscribe(&client, &channel) => subscribed,
        };
        let reason = match subscribed {
            Ok(pubsub) => {
                if outage {
                    tracing::info!("task cancellations from other instances are pushed again");
                    outage = false;
                }
                pause = RESUBSCRIBE_PAUSE;
                match forward(pubsub, &sender, &stop).await {
                    Some(reason) => reason,
                    None => return,
                }
            }
            Err(reason) => reason,
        };
        if !outage {
            // The reason names an error kind, never the URL (which may hold a password).
            tracing::warn!(
                %reason,
                "lost the Redis subscription to task cancellations; until it is back, other \
                 instances' cancellations are seen at the next poll"
            );
            outage = true;
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
        pause = (pause * 2).min(MAX_RESUBSCRIBE_PAUSE);
    }
}

/// A connection of its own subscribed to `channel`, within [`SUBSCRIBE_TIMEOUT`].
async fn subscribe(client: &Client, channel: &str) -> Result<PubSub, String> {
    let open = async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(channel).await?;
        Ok::<_, RedisError>(pubsub)
    };
    match tokio::time::timeout(SUBSCRIBE_TIMEOUT, open).await {
        Ok(Ok(pubsub)) => Ok(pubsub),
        Ok(Err(e)) => Err(format!("{:?}", e.kind())),
        Err(_) => Err(format!(
            "no answer within {} ms",
            SUBSCRIBE_TIMEOUT.as_millis()
        )),
    }
}

/// Forwards the ids announced on `pubsub` until `stop` (`None`) or until the subscription is
/// lost (why). An idle subscription checks every [`HEALTH_EVERY`] that Redis still answers.
async fn forward(
    pubsub: PubSub,
    sender: &broadcast::Sender<String>,
    stop: &CancellationToken,
) -> Option<String> {
    let (mut sink, mut messages) = pubsub.split();
    let mut health =
        tokio::time::interval_at(tokio::time::Instant::now() + HEALTH_EVERY, HEALTH_EVERY);
    loop {
        tokio::select! {
            () = stop.cancelled() => return None,
            message = messages.next() => {
                let Some(message) = message else {
                    return Some("the connection closed".to_owned());
                };
                health.reset();
                let id = message.get_payload_bytes();
                if let Some(id) = std::str::from_utf8(id).ok().filter(|id| id.len() <= MAX_ID_LEN) {
                    // No receiver left is fine: nobody runs tasks here any more.
                    let _ = sender.send(id.to_owned());
                }
            }
            _ = health.tick() => {
                match tokio::time::timeout(HEALTH_TIMEOUT, sink.ping::<::redis::Value>()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => return Some(format!("{:?}", e.kind())),
                    Err(_) => {
                        return Some(format!(
                            "no answer to PING within {} ms",
                            HEALTH_TIMEOUT.as_millis()
                        ));
                    }
                }
            }
        }
    }
}

fn backend(error: RedisError) -> TaskStoreError {
    TaskStoreError::Backend(format!("Redis failed: {error}"))
}

/// The expiry of a record's key at `now`: its remaining time to live, at least 1 ms (an expired
/// record vanishes at once) and at most [`MAX_EXPIRY_MS`].
fn expiry_ms(record: &TaskRecord, now: SystemTime) -> u64 {
    let remaining = match record.created_at.checked_add(record.ttl) {
        Some(expires_at) => expires_at.duration_since(now).map_or(0, millis),
        None => MAX_EXPIRY_MS,
    };
    remaining.clamp(1, MAX_EXPIRY_MS)
}

/// Up to `pause`, so that writers who collided do not retry in step.
fn jitter(pause: Duration) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let max = u32::try_from(pause.as_micros()).unwrap_or(u32::MAX).max(1);
    Duration::from_micros(u64::from(nanos % max) + 1)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn since_epoch_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, millis)
}

/// A [`TaskRecord`] as stored: times in milliseconds (since the Unix epoch for instants).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stored {
    task_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
    status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status_message: Option<String>,
    created_at_ms: u64,
    last_updated_at_ms: u64,
    ttl_ms: u64,
    poll_interval_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    result: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<ErrorObject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    input_requests: Option<InputRequests>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    call: Option<TaskCall>,
    #[serde(default, skip_serializing_if = "JsonObject::is_empty")]
    answers: JsonObject,
}

fn encode(record: &TaskRecord) -> Result<Vec<u8>, TaskStoreError> {
    let stored = Stored {
        task_id: record.task_id.clone(),
        owner: record.owner.clone(),
        status: record.status.as_str().to_owned(),
        status_message: record.status_message.clone(),
        created_at_ms: since_epoch_ms(record.created_at),
        last_updated_at_ms: since_epoch_ms(record.last_updated_at),
        ttl_ms: millis(record.ttl),
        poll_interval_ms: millis(record.poll_interval),
        result: record.result.clone(),
        error: record.error.clone(),
        input_requests: record.input_requests.clone(),
        call: record.call.clone(),
        answers: record.answers.clone(),
    };
    serde_json::to_vec(&stored)
        .map_err(|e| TaskStoreError::Backend(format!("cannot encode a task record: {e}")))
}

fn decode(bytes: &[u8]) -> Result<TaskRecord, TaskStoreError> {
    let corrupt = || TaskStoreError::Backend("a stored task record is unreadable".to_owned());
    let stored: Stored = serde_json::from_slice(bytes).map_err(|_| corrupt())?;
    let status = [
        TaskStatus::Working,
        TaskStatus::InputRequired,
        TaskStatus::Completed,
        TaskStatus::Failed,
        TaskStatus::Cancelled,
    ]
    .into_iter()
    .find(|s| s.as_str() == stored.status)
    .ok_or_else(corrupt)?;
    Ok(TaskRecord {
        task_id: stored.task_id,
        owner: stored.owner,
        status,
        status_message: stored.status_message,
        created_at: UNIX_EPOCH + Duration::from_millis(stored.created_at_ms),
        last_updated_at: UNIX_EPOCH + Duration::from_millis(stored.last_updated_at_ms),
        ttl: Duration::from_millis(stored.ttl_ms),
        poll_interval: Duration::from_millis(stored.poll_interval_ms),
        result: stored.result,
        error: stored.error,
        input_requests: stored.input_requests,
        call: stored.call,
        answers: stored.answers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> TaskRecord {
        let at = UNIX_EPOCH + Duration::from_millis(1_785_240_000_123);
        let requests: InputRequests = serde_json::from_value(serde_json::json!({
            "a": {"method": "elicitation/create", "params": {"message": "?"}},
            "b": {"method": "roots/list"},
        }))
        .unwrap();
        TaskRecord {
            task_id: "0123abcd".to_owned(),
            owner: Some("alice".to_owned()),
            status: TaskStatus::InputRequired,
            status_message: Some("waiting".to_owned()),
            created_at: at,
            last_updated_at: at + Duration::from_millis(5),
            ttl: Duration::from_secs(3600),
            poll_interval: Duration::from_millis(500),
            result: Some(serde_json::json!({"content": []})),
            error: Some(ErrorObject::internal_error("boom")),
            input_requests: Some(requests),
            call: Some(TaskCall::new(
                "greet",
                serde_json::from_value(serde_json::json!({"x": 1})).ok(),
                mcp_core::jsonrpc::RequestId::Number(7),
                None,
            )),
            answers: serde_json::from_value(serde_json::json!({"a": {"action": "accept"}}))
                .unwrap(),
        }
    }

    #[test]
    fn records_survive_the_json_round_trip() {
        let r = record();
        assert_eq!(decode(&encode(&r).unwrap()).unwrap(), r);
        let mut bare = r;
        bare.owner = None;
        bare.status = TaskStatus::Working;
        bare.status_message = None;
        bare.result = None;
        bare.error = None;
        bare.input_requests = None;
        bare.call = None;
        bare.answers.clear();
        assert_eq!(decode(&encode(&bare).unwrap()).unwrap(), bare);
    }

    #[test]
    fn unreadable_values_are_backend_errors() {
        for raw in [&b"not json"[..], br#"{"taskId":"x"}"#] {
            assert!(matches!(decode(raw), Err(TaskStoreError::Backend(_))));
        }
        let mut value = serde_json::to_value(
            serde_json::from_slice::<Value>(&encode(&record()).unwrap()).unwrap(),
        )
        .unwrap();
        value["status"] = Value::from("sleeping");
        let raw = serde_json::to_vec(&value).unwrap();
        assert!(matches!(decode(&raw), Err(TaskStoreError::Backend(_))));
    }

    #[test]
    fn the_expiry_is_the_remaining_ttl() {
        let r = record();
        let now = r.created_at + Duration::from_secs(600);
        assert_eq!(expiry_ms(&r, now), 3_000_000);
        assert_eq!(expiry_ms(&r, r.created_at + Duration::from_secs(7200)), 1);
        let mut forever = r;
        forever.ttl = Duration::MAX;
        assert_eq!(expiry_ms(&forever, now), MAX_EXPIRY_MS);
    }
}
