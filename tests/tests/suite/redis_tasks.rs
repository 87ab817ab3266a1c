//! Task records shared through Redis: two servers, as behind a load balancer, share one
//! `RedisTaskStore`; a task created through one is polled, cancelled and answered through
//! either, and a cancellation through one is pushed to the other. Also the store on its own
//! (duplicates, expiry, concurrent updates, announced cancellations, resubscribing after Redis
//! went away), and what a failing store does to requests (`-32603`, never a success).
//!
//! Needs a Redis server: set `MCP_TEST_REDIS_URL` (for example `redis://127.0.0.1:6379/`).
//! Without it each test says so and passes without checking anything, except under `CI`, where
//! it fails. The test of a failing store needs no Redis.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use mcp_server::BoxFuture;
use mcp_server::ClientRequestError;
use mcp_server::prelude::*;
use mcp_server::store::{RedisTaskStore, TaskRecord, TaskStatus, TaskStore, TaskStoreError};
use mcp_server::tasks::{TaskConfig, TaskSupport};
use mcp_server::testing::{TestServer, spawn};
use mcp_server::types::ElicitRequestParams;
use mcp_tests::{RawResponse, modern_post, redis_prefix, redis_url};
use serde_json::{Value, json};

const V: &str = "2026-07-28";
const EXT: &str = "io.modelcontextprotocol/tasks";

async fn store(url: &str, prefix: &str) -> RedisTaskStore {
    RedisTaskStore::connect(url, prefix)
        .await
        .expect("Redis is reachable")
}

/// The `sleep` length that marks the run `a_cancel_through_another_instance_stops_...` watches.
const WATCHED_SLEEP_MS: u64 = 59_000;

/// How many watched `sleep` handlers run right now.
static SLEEPING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Counts one running `sleep` handler until it ends or is dropped (cancelled).
struct Sleeping;

impl Sleeping {
    fn start() -> Self {
        SLEEPING.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Sleeping
    }
}

impl Drop for Sleeping {
    fn drop(&mut self) {
        SLEEPING.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Sleep {
    ms: u64,
}

fn ask(key: &'static str) -> ElicitRequestParams {
    let schema = json!({"type": "object", "properties": {"v": {"type": "string"}}});
    ElicitRequestParams::form(key, schema.as_object().cloned().unwrap_or_default())
}

/// One instance with task-capable tools, its records in `store`.
async fn instance(store: Arc<dyn TaskStore>) -> TestServer {
    let srv = McpServer::builder("redis-tasks")
        .tasks(
            TaskConfig::default()
                .ttl(Duration::from_secs(60))
                .poll_interval(Duration::from_millis(50))
                .store(store),
        )
        .tool(ToolDef::from_fn("plain", |_c: Context, NoArgs {}| async {
            "plain"
        }))
        .tool(
            ToolDef::from_fn("sleep", |_c: Context, Sleep { ms }| async move {
                // Only the run the cross-instance cancel test watches is counted.
                let _running = (ms == WATCHED_SLEEP_MS).then(Sleeping::start);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                format!("slept {ms}")
            })
            .task_support(TaskSupport::Optional),
        )
        .tool(
            ToolDef::from_fn("greet", |ctx: Context, NoArgs {}| async move {
                let who = ctx.elicit_as("who", ask("who")).await?;
                let name = who
                    .content
                    .and_then(|c| c.get("v").and_then(Value::as_str).map(str::to_owned))
                    .unwrap_or_default();
                Ok::<_, ClientRequestError>(format!("hi {name}"))
            })
            .task_support(TaskSupport::Optional),
        )
        .build()
        .expect("server builds");
    spawn(srv).await.expect("server starts")
}

/// Two instances sharing one Redis store under a fresh prefix.
async fn pair(url: &str) -> (TestServer, TestServer) {
    let shared: Arc<dyn TaskStore> = Arc::new(store(url, &redis_prefix()).await);
    (instance(Arc::clone(&shared)).await, instance(shared).await)
}

/// A 2026-07-28 request declaring the tasks extension; `name` goes into `Mcp-Name`.
async fn req(url: &str, method: &str, mut params: Value, name: Option<&str>) -> RawResponse {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": V,
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}, "extensions": {EXT: {}}},
    });
    modern_post(url, method, params, name).await
}

/// The JSON-RPC error of a response.
fn error(r: &RawResponse) -> Value {
    let m = r
        .messages()
        .into_iter()
        .find(|m| m.get("result").is_some() || m.get("error").is_some())
        .unwrap_or_else(|| panic!("no response in {}", r.body));
    m.get("error")
        .cloned()
        .unwrap_or_else(|| panic!("not an error: {m}"))
}

/// Calls `tool` as a task and returns the task's id.
async fn create(srv: &TestServer, tool: &str, args: Value) -> String {
    let p = json!({"name": tool, "arguments": args});
    let created = req(&srv.url(), "tools/call", p, Some(tool)).await.result();
    assert_eq!(created["resultType"], "task", "{created}");
    created["taskId"].as_str().unwrap().to_owned()
}

async fn get(srv: &TestServer, id: &str) -> Value {
    req(&srv.url(), "tasks/get", json!({"taskId": id}), Some(id))
        .await
        .result()
}

async fn wait_for(srv: &TestServer, id: &str, status: &str) -> Value {
    for _ in 0..100 {
        let t = get(srv, id).await;
        if t["status"] == status {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("task {id} never reached {status}");
}

#[tokio::test]
async fn a_task_created_on_one_instance_is_polled_on_the_other() {
    let Some(url) = redis_url() else { return };
    let (a, b) = pair(&url).await;
    let id = create(&a, "sleep", json!({"ms": 300})).await;
    let now = get(&b, &id).await;
    assert_eq!(now["taskId"], id.as_str());
    assert_eq!(now["status"], "working", "{now}");
    let done = wait_for(&b, &id, "completed").await;
    assert_eq!(done["result"]["content"][0]["text"], "slept 300");
    assert_eq!(done["createdAt"], now["createdAt"]);
    assert_eq!(get(&a, &id).await, done);
}

#[tokio::test]
async fn a_cancel_through_one_instance_holds_for_the_other() {
    let Some(url) = redis_url() else { return };
    let (a, b) = pair(&url).await;
    let id = create(&a, "sleep", json!({"ms": 60_000})).await;
    for srv in [&b, &b, &a] {
        let ack = req(&srv.url(), "tasks/cancel", json!({"taskId": id}), Some(&id))
            .await
            .result();
        assert_eq!(ack["resultType"], "complete");
    }
    assert_eq!(get(&a, &id).await["status"], "cancelled");
    assert_eq!(get(&b, &id).await["status"], "cancelled");
}

#[tokio::test]
async fn a_cancel_through_another_instance_stops_the_running_handler() {
    let Some(url) = redis_url() else { return };
    let (a, b) = pair(&url).await;
    let id = create(&a, "sleep", json!({"ms": WATCHED_SLEEP_MS})).await;
    assert_eq!(SLEEPING.load(std::sync::atomic::Ordering::SeqCst), 1);
    let ack = req(&b.url(), "tasks/cancel", json!({"taskId": id}), Some(&id))
        .await
        .result();
    assert_eq!(ack["resultType"], "complete");
    // `a` hears of it from the store (or, at the latest, at its next look at the record).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while SLEEPING.load(std::sync::atomic::Ordering::SeqCst) > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the handler on `a` still runs"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(get(&a, &id).await["status"], "cancelled");
}

#[tokio::test]
async fn questions_of_a_task_are_seen_on_the_other_instance() {
    let Some(url) = redis_url() else { return };
    let (a, b) = pair(&url).await;
    let id = create(&a, "greet", json!({})).await;
    let parked = wait_for(&b, &id, "input_required").await;
    assert_eq!(
        parked["inputRequests"]["who"]["method"],
        "elicitation/create"
    );
    // The handler runs on `a`, which resumes it.
    let p = json!({"taskId": id, "inputResponses": {"who": {"action": "accept", "content": {"v": "Ada"}}}});
    let ack = req(&a.url(), "tasks/update", p, Some(&id)).await.result();
    assert_eq!(ack["resultType"], "complete");
    let done = wait_for(&b, &id, "completed").await;
    assert_eq!(done["result"]["content"][0]["text"], "hi Ada");
    assert!(done.get("inputRequests").is_none());
}

#[tokio::test]
async fn answers_through_another_instance_resume_the_task_there() {
    let Some(url) = redis_url() else { return };
    let (a, b) = pair(&url).await;
    let id = create(&a, "greet", json!({})).await;
    wait_for(&b, &id, "input_required").await;
    // `b` did not start the task; the record's call lets it run the handler with the answer.
    let p = json!({"taskId": id, "inputResponses": {"who": {"action": "accept", "content": {"v": "Lin"}}}});
    let ack = req(&b.url(), "tasks/update", p.clone(), Some(&id))
        .await
        .result();
    assert_eq!(ack["resultType"], "complete");
    let done = wait_for(&a, &id, "completed").await;
    assert_eq!(done["result"]["content"][0]["text"], "hi Lin");
    // A late duplicate answer through `a` changes nothing.
    let again = req(&a.url(), "tasks/update", p, Some(&id)).await.result();
    assert_eq!(again["resultType"], "complete");
    assert_eq!(get(&b, &id).await["result"]["content"][0]["text"], "hi Lin");
}

#[tokio::test]
async fn unknown_ids_get_the_same_error_as_in_memory() {
    let Some(url) = redis_url() else { return };
    let (_a, b) = pair(&url).await;
    let memory = instance(Arc::new(mcp_server::store::InMemoryTaskStore::default())).await;
    for method in ["tasks/get", "tasks/cancel"] {
        let p = json!({"taskId": "nope"});
        let shared = req(&b.url(), method, p.clone(), Some("nope")).await;
        let alone = req(&memory.url(), method, p, Some("nope")).await;
        assert_eq!(shared.status, 200, "{method}");
        assert_eq!(shared.error_code(), -32602, "{method}");
        assert_eq!(
            (shared.status, error(&shared)),
            (alone.status, error(&alone))
        );
    }
}

#[tokio::test]
async fn answers_for_a_task_no_instance_here_can_run_are_refused_not_lost() {
    let Some(url) = redis_url() else { return };
    let shared = Arc::new(store(&url, &redis_prefix()).await);
    let srv = instance(Arc::clone(&shared) as Arc<dyn TaskStore>).await;
    // A waiting task whose record keeps no call (written by another deployment).
    let mut waiting = record("orphan", Duration::from_secs(60));
    waiting.owner = None;
    waiting.status = TaskStatus::InputRequired;
    waiting.input_requests = serde_json::from_value(json!({"who": {"method": "elicitation/create",
        "params": {"mode": "form", "message": "who?", "requestedSchema": {"type": "object", "properties": {}}}}}))
    .unwrap();
    shared.insert(waiting).await.unwrap();
    let p = json!({"taskId": "orphan", "inputResponses": {"who": {"action": "decline"}}});
    let r = req(&srv.url(), "tasks/update", p, Some("orphan")).await;
    assert_eq!(r.error_code(), -32603, "{}", r.body);
    let kept = shared.get("orphan").await.unwrap().unwrap();
    assert_eq!(kept.status, TaskStatus::InputRequired);
    assert!(kept.input_requests.is_some_and(|q| q.contains_key("who")));
}

fn record(id: &str, ttl: Duration) -> TaskRecord {
    let now = SystemTime::now();
    TaskRecord {
        task_id: id.to_owned(),
        owner: Some("alice".to_owned()),
        status: TaskStatus::Working,
        status_message: None,
        created_at: now,
        last_updated_at: now,
        ttl,
        poll_interval: Duration::from_millis(100),
        result: None,
        error: None,
        input_requests: None,
        call: None,
        answers: Default::default(),
    }
}

/// How long `a_cancel_through_another_instance_is_pushed_to_the_running_handler` gives the
/// handler to stop: far below the poll interval of its instances, so only a push can make it.
const PUSH_BOUND: Duration = Duration::from_secs(5);

/// What the `slow` tool's handler went through.
#[derive(Debug, PartialEq)]
enum Slow {
    Started,
    /// Dropped before it finished: cancelled.
    Dropped,
}

/// Sends [`Slow::Dropped`] when the handler holding it is dropped.
struct OnDrop(tokio::sync::mpsc::UnboundedSender<Slow>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(Slow::Dropped);
    }
}

/// An instance whose `slow` tool runs for two minutes, telling `events` when it starts and when
/// it is dropped; it looks at its records every 30 s only.
async fn slow_instance(
    store: RedisTaskStore,
    events: tokio::sync::mpsc::UnboundedSender<Slow>,
) -> TestServer {
    let slow = ToolDef::from_fn("slow", move |_c: Context, NoArgs {}| {
        let events = events.clone();
        async move {
            let _dropped = OnDrop(events.clone());
            let _ = events.send(Slow::Started);
            tokio::time::sleep(Duration::from_secs(120)).await;
            "done"
        }
    })
    .task_support(TaskSupport::Optional);
    let srv = McpServer::builder("redis-tasks-push")
        .tasks(
            TaskConfig::default()
                .ttl(Duration::from_secs(300))
                .poll_interval(Duration::from_secs(30))
                .store(Arc::new(store)),
        )
        .tool(slow)
        .build()
        .expect("server builds");
    spawn(srv).await.expect("server starts")
}

/// How many connections subscribe to `channel` (`PUBSUB NUMSUB`).
async fn subscribers(url: &str, channel: &str) -> i64 {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let (_, n): (String, i64) = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(channel)
        .query_async(&mut conn)
        .await
        .unwrap();
    n
}

/// Waits (at most 10 s) until `ok` holds for the number of subscribers of `channel`.
async fn until_subscribers(url: &str, channel: &str, ok: impl Fn(i64) -> bool) {
    for _ in 0..200 {
        if ok(subscribers(url, channel).await) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the subscribers of {channel} never were as expected");
}

/// Issue 15: a cancellation through `b` reaches the handler running on `a` through Redis at
/// once, not at `a`'s next look at the record (every 30 s here). Each instance has a store of
/// its own, as separate processes do.
#[tokio::test]
async fn a_cancel_through_another_instance_is_pushed_to_the_running_handler() {
    let Some(url) = redis_url() else { return };
    let prefix = redis_prefix();
    let (events, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let a = slow_instance(store(&url, &prefix).await, events.clone()).await;
    let b = slow_instance(store(&url, &prefix).await, events).await;
    let id = create(&a, "slow", json!({})).await;
    let started = tokio::time::timeout(PUSH_BOUND, seen.recv()).await;
    assert_eq!(started, Ok(Some(Slow::Started)));
    // `a` subscribed when its first task started (`b`, which runs none, need not).
    until_subscribers(&url, &format!("{prefix}cancelled"), |n| n >= 1).await;
    let ack = req(&b.url(), "tasks/cancel", json!({"taskId": id}), Some(&id))
        .await
        .result();
    assert_eq!(ack["resultType"], "complete");
    let stopped = tokio::time::timeout(PUSH_BOUND, seen.recv()).await;
    assert_eq!(
        stopped,
        Ok(Some(Slow::Dropped)),
        "the handler on `a` still runs"
    );
    assert_eq!(get(&a, &id).await["status"], "cancelled");
    assert_eq!(get(&b, &id).await["status"], "cancelled");
}

/// Cancels `id` through `store` (a no-op on a finished task).
async fn cancel(store: &RedisTaskStore, id: &str) {
    store
        .update(id, &mut |r| {
            if !r.status.is_terminal() {
                r.status = TaskStatus::Cancelled;
            }
        })
        .await
        .unwrap()
        .unwrap();
}

/// The next id `ids` receives, within 5 s.
async fn next(ids: &mut tokio::sync::broadcast::Receiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(5), ids.recv())
        .await
        .expect("an announced cancellation")
        .unwrap()
}

/// An update that makes a task `cancelled` announces it to every store sharing the prefix; one
/// that does not (another status, a task cancelled already) announces nothing. The subscriber
/// ends when its store goes.
#[tokio::test]
async fn only_updates_that_cancel_are_announced_and_the_subscriber_ends_with_its_store() {
    let Some(url) = redis_url() else { return };
    let prefix = redis_prefix();
    let channel = format!("{prefix}cancelled");
    let listening = store(&url, &prefix).await;
    let announcing = store(&url, &prefix).await;
    let mut ids = listening.cancellations().expect("the Redis store pushes");
    let mut again = listening.cancellations().expect("the Redis store pushes");
    until_subscribers(&url, &channel, |n| n == 1).await;
    for id in ["t1", "t2", "t3"] {
        announcing
            .insert(record(id, Duration::from_secs(60)))
            .await
            .unwrap();
    }
    cancel(&announcing, "t1").await;
    assert_eq!(next(&mut ids).await, "t1");
    assert_eq!(next(&mut again).await, "t1", "every receiver gets every id");
    cancel(&announcing, "t1").await;
    announcing
        .update("t2", &mut |r| r.status = TaskStatus::Completed)
        .await
        .unwrap()
        .unwrap();
    cancel(&announcing, "t2").await;
    cancel(&listening, "t3").await;
    assert_eq!(next(&mut ids).await, "t3", "nothing came between");
    drop(listening);
    until_subscribers(&url, &channel, |n| n == 0).await;
    assert!(matches!(
        ids.recv().await,
        Err(tokio::sync::broadcast::error::RecvError::Closed)
    ));
}

/// A TCP relay to Redis that can cut every connection through it and refuse new ones, as a
/// Redis restart does to its clients.
struct Relay {
    /// The Redis URL through the relay.
    url: String,
    up: Arc<std::sync::atomic::AtomicBool>,
    connections: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    accepting: tokio::task::JoinHandle<()>,
}

impl Relay {
    /// A relay to the Redis of `url` (`redis://[userinfo@]host[:port][/db]`).
    async fn start(url: &str) -> Relay {
        let (scheme, rest) = url.split_once("://").unwrap();
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let (userinfo, host) = match authority.rsplit_once('@') {
            Some((u, h)) => (format!("{u}@"), h.to_owned()),
            None => (String::new(), authority.to_owned()),
        };
        let upstream = if host.contains(':') {
            host
        } else {
            format!("{host}:6379")
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let connections = Arc::new(std::sync::Mutex::new(Vec::new()));
        let accepting = tokio::spawn({
            let (up, connections) = (Arc::clone(&up), Arc::clone(&connections));
            async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if !up.load(std::sync::atomic::Ordering::SeqCst) {
                        continue;
                    }
                    let upstream = upstream.clone();
                    let relayed = tokio::spawn(async move {
                        if let Ok(mut out) = tokio::net::TcpStream::connect(&upstream).await {
                            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                        }
                    });
                    connections.lock().unwrap().push(relayed);
                }
            }
        });
        Relay {
            url: format!("{scheme}://{userinfo}{addr}{path}"),
            up,
            connections,
            accepting,
        }
    }

    /// Cuts every connection and refuses new ones (`false`), or accepts them again (`true`).
    fn set_up(&self, up: bool) {
        self.up.store(up, std::sync::atomic::Ordering::SeqCst);
        if !up {
            for relayed in self.connections.lock().unwrap().drain(..) {
                relayed.abort();
            }
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.set_up(false);
        self.accepting.abort();
    }
}

/// After Redis went away and came back, the store subscribes again: cancellations announced
/// from then on are pushed as before.
#[tokio::test]
async fn the_subscription_comes_back_after_redis_went_away() {
    let Some(url) = redis_url() else { return };
    let prefix = redis_prefix();
    let channel = format!("{prefix}cancelled");
    let relay = Relay::start(&url).await;
    let listening = store(&relay.url, &prefix).await;
    let announcing = store(&url, &prefix).await;
    let mut ids = listening.cancellations().expect("the Redis store pushes");
    until_subscribers(&url, &channel, |n| n == 1).await;
    for id in ["before", "after"] {
        announcing
            .insert(record(id, Duration::from_secs(60)))
            .await
            .unwrap();
    }
    cancel(&announcing, "before").await;
    assert_eq!(next(&mut ids).await, "before");
    relay.set_up(false);
    until_subscribers(&url, &channel, |n| n == 0).await;
    // A few attempts fail meanwhile.
    tokio::time::sleep(Duration::from_millis(500)).await;
    relay.set_up(true);
    until_subscribers(&url, &channel, |n| n == 1).await;
    cancel(&announcing, "after").await;
    assert_eq!(next(&mut ids).await, "after");
}

/// `PTTL key`, read directly from Redis.
async fn pttl(url: &str, key: &str) -> i64 {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("PTTL")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_store_refuses_duplicates_and_keys_expire_with_the_task() {
    let Some(url) = redis_url() else { return };
    let prefix = redis_prefix();
    let store = store(&url, &prefix).await;
    let ttl = Duration::from_secs(60);
    store.insert(record("t1", ttl)).await.unwrap();
    assert_eq!(
        store.insert(record("t1", ttl)).await,
        Err(TaskStoreError::Duplicate)
    );
    let key = format!("{prefix}t1");
    let left = pttl(&url, &key).await;
    assert!(left > 50_000 && left <= 60_000, "PTTL {left}");
    let got = store.get("t1").await.unwrap().unwrap();
    assert_eq!(got.owner.as_deref(), Some("alice"));
    assert_eq!(got.status, TaskStatus::Working);
    // An update keeps the expiry.
    let updated = store
        .update("t1", &mut |r| r.status = TaskStatus::Completed)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.status, TaskStatus::Completed);
    let left = pttl(&url, &key).await;
    assert!(left > 50_000 && left <= 60_000, "PTTL {left}");
    assert_eq!(
        store.get("t1").await.unwrap().map(|r| r.status),
        Some(TaskStatus::Completed)
    );
    assert_eq!(
        store.remove("t1").await.unwrap().map(|r| r.task_id),
        Some("t1".to_owned())
    );
    assert_eq!(store.get("t1").await, Ok(None));
    assert_eq!(pttl(&url, &key).await, -2, "the key is gone");
    assert_eq!(store.update("t1", &mut |_| {}).await, Ok(None));
    assert_eq!(store.remove("t1").await, Ok(None));

    // Redis itself drops the record when its time is up, updated or not.
    store
        .insert(record("short", Duration::from_millis(400)))
        .await
        .unwrap();
    store
        .update("short", &mut |r| {
            r.status_message = Some("still".to_owned())
        })
        .await
        .unwrap()
        .unwrap();
    let left = pttl(&url, &format!("{prefix}short")).await;
    assert!(left > 0 && left <= 400, "PTTL {left}");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(pttl(&url, &format!("{prefix}short")).await, -2);
    assert_eq!(store.remove("short").await, Ok(None));
}

#[tokio::test]
async fn concurrent_updates_do_not_lose_writes() {
    let Some(url) = redis_url() else { return };
    let prefix = redis_prefix();
    // Two stores, as two instances: separate connections racing on one record.
    let stores = [store(&url, &prefix).await, store(&url, &prefix).await];
    stores[0]
        .insert(record("counter", Duration::from_secs(60)))
        .await
        .unwrap();
    let increment = |store: &RedisTaskStore| {
        let store = store.clone();
        async move {
            let mut bump = |r: &mut TaskRecord| {
                let n: u32 = r.status_message.as_deref().unwrap_or("0").parse().unwrap();
                r.status_message = Some((n + 1).to_string());
            };
            store.update("counter", &mut bump).await
        }
    };
    let runs = (0..20).map(|i| tokio::spawn(increment(&stores[i % 2])));
    for outcome in futures_util::future::join_all(runs).await {
        assert!(outcome.unwrap().unwrap().is_some());
    }
    let last = stores[1].get("counter").await.unwrap().unwrap();
    assert_eq!(last.status_message.as_deref(), Some("20"));
    stores[1].remove("counter").await.unwrap();
}

/// A store whose backend is down; its error names a secret the client must never see.
struct Broken;

impl Broken {
    fn fail<'a, T: Send + 'a>() -> BoxFuture<'a, Result<T, TaskStoreError>> {
        Box::pin(std::future::ready(Err(TaskStoreError::Backend(
            "connection to redis://:hunter2@10.0.0.1 refused".to_owned(),
        ))))
    }
}

impl TaskStore for Broken {
    fn insert(&self, _record: TaskRecord) -> BoxFuture<'_, Result<(), TaskStoreError>> {
        Self::fail()
    }
    fn get<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Option<TaskRecord>, TaskStoreError>> {
        Self::fail()
    }
    fn update<'a>(
        &'a self,
        _: &'a str,
        _: &'a mut (dyn FnMut(&mut TaskRecord) + Send),
    ) -> BoxFuture<'a, Result<Option<TaskRecord>, TaskStoreError>> {
        Self::fail()
    }
    fn remove<'a>(
        &'a self,
        _: &'a str,
    ) -> BoxFuture<'a, Result<Option<TaskRecord>, TaskStoreError>> {
        Self::fail()
    }
}

#[tokio::test]
async fn a_failing_store_is_an_internal_error_and_the_server_keeps_serving() {
    let srv = instance(Arc::new(Broken)).await;
    let p = json!({"name": "sleep", "arguments": {"ms": 1}});
    let created = req(&srv.url(), "tools/call", p, Some("sleep")).await;
    let id = "0123456789abcdef0123456789abcdef";
    let got = req(&srv.url(), "tasks/get", json!({"taskId": id}), Some(id)).await;
    let cancelled = req(&srv.url(), "tasks/cancel", json!({"taskId": id}), Some(id)).await;
    let p = json!({"taskId": id, "inputResponses": {}});
    let updated = req(&srv.url(), "tasks/update", p, Some(id)).await;
    for r in [&created, &got, &cancelled, &updated] {
        let e = error(r);
        assert_eq!(e["code"], -32603, "{e}");
        assert!(
            !r.body.contains("hunter2") && !r.body.contains("10.0.0.1"),
            "{}",
            r.body
        );
    }
    // Calls that need no task still work.
    let p = json!({"name": "plain", "arguments": {}});
    let plain = req(&srv.url(), "tools/call", p, Some("plain"))
        .await
        .result();
    assert_eq!(plain["content"][0]["text"], "plain");
}
