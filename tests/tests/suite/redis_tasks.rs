//! Task records shared through Redis: two servers, as behind a load balancer, share one
//! `RedisTaskStore`; a task created through one is polled, cancelled and answered through
//! either. Also the store on its own (duplicates, expiry, concurrent updates), and what a
//! failing store does to requests (`-32603`, never a success).
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
    // `a` looks at the record every poll interval (100 ms here) and stops its handler.
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
