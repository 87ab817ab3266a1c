//! Black-box tests of the bounds on memory a client can grow (security finding 13): a real
//! server on 127.0.0.1:0, raw HTTP, each bound set low and exceeded, with the documented outcome
//! checked. Requirement ids refer to `tests/spec/CHECKLIST.md`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mcp_server::auth::{ApiKeys, AuthorizationConfig, JsonlFileSink, NewApiKey, Surface};
use mcp_server::prelude::*;
use mcp_server::tasks::{TaskConfig, TaskSupport};
use mcp_server::testing::{TestServer, spawn};
use mcp_server::transport::http::InMemoryEventStore;
use mcp_tests::{JSON_AND_SSE, RawResponse, Session, fixture, send, sse_events};
use reqwest::Method;
use serde_json::{Value, json};

const EXT: &str = "io.modelcontextprotocol/tasks";

#[test]
fn the_documented_defaults_hold() {
    assert_eq!(HttpConfig::DEFAULT_MAX_BATCH_MESSAGES, 100);
    assert_eq!(HttpConfig::DEFAULT_MAX_BATCH_CONCURRENCY, 8);
    assert_eq!(HttpConfig::DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION, 256);
    assert_eq!(HttpConfig::DEFAULT_MAX_SUBSCRIPTION_URI_BYTES, 2048);
    assert_eq!(TaskConfig::DEFAULT_MAX_LIVE_TASKS, 1000);
    assert_eq!(TaskConfig::DEFAULT_MAX_LIVE_TASKS_PER_PRINCIPAL, 100);
    assert_eq!(
        InMemoryEventStore::default().limits(),
        (1024, 8 * 1024 * 1024, 128 * 1024 * 1024)
    );
    assert_eq!(JsonlFileSink::DEFAULT_QUEUE_CAPACITY, 10_000);
}

// --- event store -------------------------------------------------------------------------

/// T-81: the oldest events of a stream are evicted past `max_stream_bytes`; resuming from one
/// of them is answered like an unknown id (400), from a kept one as usual.
#[tokio::test]
async fn t81_resuming_from_an_event_evicted_by_the_stream_byte_bound_is_400() {
    let store = InMemoryEventStore::new(1000).max_stream_bytes(600);
    let http = HttpConfig::default().event_store(Arc::new(store));
    let srv = spawn(fixture().http(http)).await.expect("server starts");
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let call = json!({"jsonrpc":"2.0","id":1,"method":"tools/call",
        "params":{"name":"progress","arguments":{"steps":20}}});
    let r = s.post(&call).await;
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    let ids: Vec<String> = sse_events(&r.body)
        .into_iter()
        .filter_map(|(id, _)| id)
        .collect();
    assert!(ids.len() > 20, "{}", r.body);
    let resume = async |last: &str| {
        let headers = [
            ("accept", "text/event-stream"),
            ("mcp-session-id", s.id.as_str()),
            ("mcp-protocol-version", "2025-11-25"),
            ("last-event-id", last),
        ];
        send(Method::GET, &srv.url(), &headers, None).await
    };
    let evicted = resume(&ids[0]).await;
    assert_eq!(evicted.status, 400, "{}", evicted.body);
    assert!(evicted.body.contains("expired"), "{}", evicted.body);
    let kept = resume(&ids[ids.len() - 1]).await;
    assert_eq!(kept.status, 200, "{}", kept.body);
}

// --- resources/subscribe -----------------------------------------------------------------

async fn subscribe(s: &Session, id: i64, method: &str, uri: &str) -> RawResponse {
    s.post(&json!({"jsonrpc":"2.0","id":id,"method":method,"params":{"uri":uri}}))
        .await
}

/// L-81: a session holds at most `max_subscriptions_per_session` subscriptions of URIs of at
/// most `max_subscription_uri_bytes`; beyond, `-32602` naming the limit.
#[tokio::test]
async fn l81_subscriptions_beyond_the_session_bounds_are_minus_32602_naming_the_limit() {
    let http = HttpConfig::default()
        .max_subscriptions_per_session(2)
        .max_subscription_uri_bytes(32);
    let srv = spawn(fixture().http(http)).await.expect("server starts");
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    for (id, uri) in [(1, "test://a"), (2, "test://b"), (3, "test://b")] {
        let r = subscribe(&s, id, "resources/subscribe", uri).await;
        assert_eq!(r.result(), json!({}), "{uri}");
    }
    let r = subscribe(&s, 4, "resources/subscribe", "test://c").await;
    assert_eq!(r.error_code(), -32602, "{}", r.body);
    let error = &r.json()["error"];
    assert!(error["message"].as_str().unwrap().contains("at most 2"));
    assert_eq!(error["data"]["limit"], "max_subscriptions_per_session");
    assert_eq!(error["data"]["max"], 2);

    let r = subscribe(&s, 5, "resources/unsubscribe", "test://a").await;
    assert_eq!(r.result(), json!({}));
    let r = subscribe(&s, 6, "resources/subscribe", "test://c").await;
    assert_eq!(r.result(), json!({}), "unsubscribing made room");

    let long = format!("test://{}", "x".repeat(26));
    assert_eq!(long.len(), 33);
    let r = subscribe(&s, 7, "resources/unsubscribe", "test://b").await;
    assert_eq!(r.result(), json!({}));
    let r = subscribe(&s, 8, "resources/subscribe", &long).await;
    assert_eq!(r.error_code(), -32602, "{}", r.body);
    assert_eq!(
        r.json()["error"]["data"]["limit"],
        "max_subscription_uri_bytes"
    );
}

/// L-80: the `resourceSubscriptions` of one `subscriptions/listen` request are bounded the same
/// way: too many, or one too long, is `-32602` (HTTP 400) naming the limit.
#[tokio::test]
async fn l80_a_listen_request_over_the_subscription_bounds_is_minus_32602() {
    let http = HttpConfig::default()
        .max_subscriptions_per_session(2)
        .max_subscription_uri_bytes(32);
    let srv = spawn(fixture().http(http)).await.expect("server starts");
    let long = format!("test://{}", "x".repeat(26));
    for (uris, limit) in [
        (
            json!(["test://a", "test://b", "test://c"]),
            "max_subscriptions_per_session",
        ),
        (json!(["test://a", long]), "max_subscription_uri_bytes"),
    ] {
        let body = json!({"jsonrpc":"2.0","id":42,"method":"subscriptions/listen","params":{
            "notifications": {"resourceSubscriptions": uris},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/clientInfo": {"name": "tests", "version": "0"},
            },
        }})
        .to_string();
        let headers = [
            ("content-type", "application/json"),
            ("accept", JSON_AND_SSE),
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "subscriptions/listen"),
        ];
        let r = send(Method::POST, &srv.url(), &headers, Some(&body)).await;
        assert_eq!((r.status, r.error_code()), (400, -32602), "{}", r.body);
        assert_eq!(r.json()["error"]["data"]["limit"], limit);
    }
}

// --- batches -----------------------------------------------------------------------------

/// Calls of `count` so far, and the most that ran at once.
#[derive(Default)]
struct Counter {
    calls: AtomicUsize,
    running: AtomicUsize,
    most_at_once: AtomicUsize,
}

async fn batch_server(http: HttpConfig, counter: Arc<Counter>) -> TestServer {
    let tool = ToolDef::from_fn("count", move |_c: Context, NoArgs {}| {
        let c = Arc::clone(&counter);
        async move {
            c.calls.fetch_add(1, Ordering::SeqCst);
            let now = c.running.fetch_add(1, Ordering::SeqCst) + 1;
            c.most_at_once.fetch_max(now, Ordering::SeqCst);
            // Long enough for the other requests of the batch to start, if they may.
            tokio::time::sleep(Duration::from_millis(30)).await;
            c.running.fetch_sub(1, Ordering::SeqCst);
            "counted"
        }
    });
    let server = McpServer::builder("batches")
        .tool(tool)
        .build()
        .expect("server builds")
        .http(http);
    spawn(server).await.expect("server starts")
}

fn batch_of(n: i64) -> Value {
    let calls: Vec<Value> = (1..=n)
        .map(|id| {
            let params = json!({"name": "count", "arguments": {}});
            json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params})
        })
        .collect();
    Value::Array(calls)
}

/// T-90, T-12: a batch over `max_batch_messages` is refused whole (400, `-32600` naming the
/// limit) before any of it runs; a batch at the bound is served.
#[tokio::test]
async fn t90_a_batch_over_the_message_bound_is_refused_whole_with_400_and_minus_32600() {
    let counter = Arc::new(Counter::default());
    let http = HttpConfig::default().max_batch_messages(4);
    let srv = batch_server(http, Arc::clone(&counter)).await;
    let s = Session::open(&srv.url(), "2025-03-26", json!({})).await;
    let r = s.post(&batch_of(5)).await;
    assert_eq!((r.status, r.error_code()), (400, -32600), "{}", r.body);
    let error = &r.json()["error"];
    assert!(error["message"].as_str().unwrap().contains("at most 4"));
    assert_eq!(error["data"]["limit"], "max_batch_messages");
    assert_eq!(counter.calls.load(Ordering::SeqCst), 0, "nothing ran");

    let r = s.post(&batch_of(4)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ids: Vec<Value> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].clone())
        .collect();
    assert_eq!(ids, [json!(1), json!(2), json!(3), json!(4)]);
    assert_eq!(counter.calls.load(Ordering::SeqCst), 4);
}

/// T-90: at most `max_batch_concurrency` requests of a batch run at once; every request still
/// gets its response, in the batch's order.
#[tokio::test]
async fn t90_at_most_max_batch_concurrency_requests_of_a_batch_run_at_once() {
    let counter = Arc::new(Counter::default());
    let http = HttpConfig::default().max_batch_concurrency(2);
    let srv = batch_server(http, Arc::clone(&counter)).await;
    let s = Session::open(&srv.url(), "2025-03-26", json!({})).await;
    let r = s.post(&batch_of(7)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let replies = r.json();
    let replies = replies.as_array().unwrap();
    let ids: Vec<i64> = replies.iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6, 7]);
    assert!(
        replies
            .iter()
            .all(|m| m["result"]["content"][0]["text"] == "counted")
    );
    assert_eq!(counter.calls.load(Ordering::SeqCst), 7);
    let most = counter.most_at_once.load(Ordering::SeqCst);
    assert!((1..=2).contains(&most), "{most} ran at once");
}

// --- tasks -------------------------------------------------------------------------------

/// Handlers of `wait` started so far.
async fn task_server(
    tasks: TaskConfig,
    auth: Option<ApiKeys>,
    started: Arc<AtomicUsize>,
) -> TestServer {
    let tool = ToolDef::from_fn("wait", move |_c: Context, NoArgs {}| {
        let started = Arc::clone(&started);
        async move {
            started.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(600)).await;
            "waited"
        }
    })
    .task_support(TaskSupport::Optional);
    let mut builder = McpServer::builder("task-bounds").tasks(tasks).tool(tool);
    if let Some(keys) = auth {
        builder = builder.authorization(AuthorizationConfig::builtin(keys));
    }
    spawn(builder.build().expect("server builds"))
        .await
        .expect("server starts")
}

/// A 2026-07-28 request declaring the tasks extension, with an API key when given.
async fn modern(
    url: &str,
    method: &str,
    params: Value,
    name: &str,
    key: Option<&str>,
) -> RawResponse {
    let mut params = params;
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {"extensions": {EXT: {}}},
        "io.modelcontextprotocol/clientInfo": {"name": "tests", "version": "0"},
    });
    let body = json!({"jsonrpc":"2.0","id":1,"method":method,"params":params}).to_string();
    let bearer = key.map(|k| format!("Bearer {k}"));
    let mut headers = vec![
        ("content-type", "application/json"),
        ("accept", JSON_AND_SSE),
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", method),
        ("mcp-name", name),
    ];
    if let Some(b) = &bearer {
        headers.push(("authorization", b.as_str()));
    }
    send(Method::POST, url, &headers, Some(&body)).await
}

/// Starts a `wait` task; its id, or the JSON-RPC error.
async fn start_task(url: &str, key: Option<&str>) -> Result<String, Value> {
    let r = modern(
        url,
        "tools/call",
        json!({"name": "wait", "arguments": {}}),
        "wait",
        key,
    )
    .await;
    let m = r.json();
    match m.get("result") {
        Some(res) => {
            assert_eq!(res["resultType"], "task", "{m}");
            Ok(res["taskId"].as_str().unwrap().to_owned())
        }
        None => Err(m["error"].clone()),
    }
}

async fn cancel_task(url: &str, id: &str, key: Option<&str>) {
    let r = modern(url, "tasks/cancel", json!({"taskId": id}), id, key).await;
    assert_eq!(r.result()["resultType"], "complete", "{}", r.body);
}

/// A live task over `max_live_tasks` is refused with `-32603` naming the bound, and its handler
/// never runs; cancelling a task makes room at once.
#[tokio::test]
async fn tasks_over_the_live_bound_are_refused_before_their_handler_runs() {
    let started = Arc::new(AtomicUsize::new(0));
    let config = TaskConfig::default().max_live_tasks(2);
    let srv = task_server(config, None, Arc::clone(&started)).await;
    let url = srv.url();
    let a = start_task(&url, None).await.expect("first task");
    let b = start_task(&url, None).await.expect("second task");
    let refused = start_task(&url, None)
        .await
        .expect_err("a third live task is refused");
    assert_eq!(refused["code"], -32603);
    assert_eq!(refused["data"]["limit"], "max_live_tasks");
    assert_eq!(refused["data"]["max"], 2);
    assert!(refused["message"].as_str().unwrap().contains("at most 2"));
    cancel_task(&url, &a, None).await;
    let c = start_task(&url, None)
        .await
        .expect("room after a cancellation");
    assert!(
        started.load(Ordering::SeqCst) <= 3,
        "the refused call never ran"
    );
    for id in [b, c] {
        cancel_task(&url, &id, None).await;
    }
}

/// A task whose `ttl` passed no longer counts: the next call gets its place.
#[tokio::test]
async fn an_expired_task_makes_room_for_a_new_one() {
    let started = Arc::new(AtomicUsize::new(0));
    let config = TaskConfig::default()
        .ttl(Duration::from_millis(200))
        .max_live_tasks(1);
    let srv = task_server(config, None, started).await;
    let url = srv.url();
    let first = start_task(&url, None).await.expect("first task");
    // Wait until the record is gone (expired), however long that takes here.
    loop {
        let r = modern(&url, "tasks/get", json!({"taskId": first}), &first, None).await;
        if r.json().get("error").is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let second = start_task(&url, None)
        .await
        .expect("the expired task made room");
    cancel_task(&url, &second, None).await;
}

/// With authorization on, `max_live_tasks_per_principal` bounds each caller separately.
#[tokio::test]
async fn tasks_over_the_per_principal_bound_are_refused_for_that_principal_only() {
    let keys = ApiKeys::in_memory();
    let mut secrets = Vec::new();
    for name in ["alice", "bob"] {
        let created = keys
            .create(NewApiKey::new(name, "operator").surface(Surface::Mcp))
            .await
            .unwrap();
        secrets.push(created.secret.expose().to_owned());
    }
    let (alice, bob) = (Some(secrets[0].as_str()), Some(secrets[1].as_str()));
    let config = TaskConfig::default().max_live_tasks_per_principal(1);
    let srv = task_server(config, Some(keys), Arc::new(AtomicUsize::new(0))).await;
    let url = srv.url();
    let a1 = start_task(&url, alice).await.expect("alice's first task");
    let refused = start_task(&url, alice)
        .await
        .expect_err("alice's second is refused");
    assert_eq!(refused["code"], -32603);
    assert_eq!(refused["data"]["limit"], "max_live_tasks_per_principal");
    assert_eq!(refused["data"]["max"], 1);
    let b1 = start_task(&url, bob)
        .await
        .expect("bob is not bound by alice's tasks");
    cancel_task(&url, &a1, alice).await;
    let a2 = start_task(&url, alice)
        .await
        .expect("room after alice cancelled");
    cancel_task(&url, &a2, alice).await;
    cancel_task(&url, &b1, bob).await;
}
