//! Legacy sessions shared through Redis (`HttpConfig::shared_sessions`): several instances with
//! no sticky routing serve one session. Each test runs two or three real servers on loopback
//! sharing one Redis under a fresh prefix, and moves a session between them the way a
//! round-robin load balancer would (T-50..T-56 across instances, T-80/T-81 resumption, L-40
//! cancellation, elicitation answers, list-change and resource-update notifications).
//!
//! Needs a Redis server: set `MCP_TEST_REDIS_URL`. Without it each test says so and passes
//! without checking anything, except under `CI`, where it fails. The unreachable-Redis test
//! needs a Redis only to start (then it is cut off by a relay).

use std::time::Duration;

use futures_util::StreamExt;
use mcp_server::testing::{TestServer, spawn};
use mcp_server::transport::http::RedisSessions;
use mcp_server::{HttpConfig, McpServer, ToolDef};
use mcp_tests::{JSON_AND_SSE, Session, fixture, redis_prefix, redis_url, send, sse_events};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::net::TcpListener;

async fn sessions(url: &str, prefix: &str) -> RedisSessions {
    RedisSessions::connect(url, prefix)
        .await
        .expect("Redis is reachable")
}

async fn instance_of(server: McpServer, url: &str, prefix: &str) -> TestServer {
    let config = HttpConfig::default().shared_sessions(sessions(url, prefix).await);
    spawn(server.http(config)).await.expect("server starts")
}

/// `n` instances of the fixture sharing sessions under one fresh prefix.
async fn instances(n: usize) -> Option<Vec<TestServer>> {
    let url = redis_url()?;
    let prefix = redis_prefix();
    let mut all = Vec::new();
    for _ in 0..n {
        all.push(instance_of(fixture(), &url, &prefix).await);
    }
    Some(all)
}

/// The same session, addressed through another instance.
fn through(s: &Session, srv: &TestServer) -> Session {
    Session {
        url: srv.url(),
        ..s.clone()
    }
}

/// An SSE response read as it arrives.
struct Events {
    status: u16,
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
}

impl Events {
    async fn open(
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Events {
        let mut req = reqwest::Client::new().request(method, url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.expect("the server answers");
        Events {
            status: resp.status().as_u16(),
            body: Box::pin(resp.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The next event (its id and data), `None` when the stream ended or nothing came in 10 s.
    async fn next(&mut self) -> Option<(Option<String>, String)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let events = sse_events(&frame);
                match events.into_iter().next() {
                    Some(e) => return Some(e),
                    None => continue, // a comment or a bare retry
                }
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.body.next())
                .await
                .ok()??
                .ok()?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next JSON-RPC message (events without data are skipped).
    async fn message(&mut self) -> Option<(Option<String>, Value)> {
        loop {
            let (id, data) = self.next().await?;
            if !data.is_empty() {
                return Some((id, serde_json::from_str(&data).expect("JSON data")));
            }
        }
    }
}

fn session_headers(s: &Session) -> Vec<(&str, &str)> {
    vec![
        ("mcp-session-id", s.id.as_str()),
        ("mcp-protocol-version", s.version.as_str()),
        ("accept", JSON_AND_SSE),
    ]
}

/// T-52/T-53 across instances: a session created through A is served by B and C; its log
/// level set through B applies to a call through C; `DELETE` through C ends it on all three.
#[tokio::test]
async fn any_instance_serves_a_session_and_delete_through_one_ends_it_everywhere() {
    let Some(srv) = instances(3).await else {
        return;
    };
    let s = Session::open(&srv[0].url(), "2025-11-25", json!({})).await;
    let r = through(&s, &srv[1])
        .post(&json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3}}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.result()["content"][0]["text"], "5", "{}", r.body);
    let r = through(&s, &srv[1])
        .post(
            &json!({"jsonrpc":"2.0","id":2,"method":"logging/setLevel","params":{"level":"error"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The fixture's `progress` tool logs at info: below the level set through B.
    let messages = through(&s, &srv[2])
        .post(
            &json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{
            "name":"progress","arguments":{"steps": 2},"_meta":{"progressToken":"p"}}}),
        )
        .await
        .messages();
    assert!(
        messages
            .iter()
            .all(|m| m["method"] != "notifications/message"),
        "the level set through B holds on C: {messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m["method"] == "notifications/progress")
    );
    let r = send(Method::DELETE, &srv[2].url(), &session_headers(&s), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    for srv in &srv {
        let r = through(&s, srv)
            .post(&json!({"jsonrpc":"2.0","id":4,"method":"ping"}))
            .await;
        assert_eq!(r.status, 404, "ended everywhere: {}", r.body);
    }
    // A made-up id is unknown everywhere too.
    let forged = Session {
        id: "0123456789abcdef0123456789abcdef".into(),
        ..s.clone()
    };
    let r = through(&forged, &srv[1])
        .post(&json!({"jsonrpc":"2.0","id":5,"method":"ping"}))
        .await;
    assert_eq!(r.status, 404);
}

/// A server→client elicitation sent by a handler on A is answered by a POST that lands on B:
/// the answer reaches the waiting handler, whose result ends A's stream.
#[tokio::test]
async fn an_elicitation_answer_through_another_instance_reaches_the_waiting_handler() {
    let Some(srv) = instances(2).await else {
        return;
    };
    let s = Session::open(&srv[0].url(), "2025-11-25", json!({"elicitation": {}})).await;
    let call = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ask","arguments":{}}});
    let mut stream = Events::open(
        Method::POST,
        &srv[0].url(),
        &session_headers(&s),
        Some(call),
    )
    .await;
    assert_eq!(stream.status, 200);
    let (_, request) = stream.message().await.expect("the elicitation request");
    assert_eq!(request["method"], "elicitation/create", "{request}");
    let answer = json!({"jsonrpc":"2.0","id":request["id"],"result":{"action":"accept","content":{"name":"Ada"}}});
    let r = through(&s, &srv[1]).post(&answer).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let (_, result) = stream.message().await.expect("the tool's result");
    assert_eq!(result["id"], 1);
    assert_eq!(
        result["result"]["content"][0]["text"], "hello Ada",
        "{result}"
    );
}

/// L-40 across instances: `notifications/cancelled` through B stops the request running on A.
#[tokio::test]
async fn a_cancellation_through_another_instance_stops_the_request() {
    let Some(srv) = instances(2).await else {
        return;
    };
    let s = Session::open(&srv[0].url(), "2025-11-25", json!({})).await;
    let call = json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"slow","arguments":{"steps": 1000},"_meta":{"progressToken":"p"}}});
    let mut stream = Events::open(
        Method::POST,
        &srv[0].url(),
        &session_headers(&s),
        Some(call),
    )
    .await;
    let (_, first) = stream.message().await.expect("progress");
    assert_eq!(first["method"], "notifications/progress");
    let cancel =
        json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}});
    assert_eq!(through(&s, &srv[1]).post(&cancel).await.status, 202);
    // The stream ends without a response (a cancelled request gets none), long before the
    // 1000 steps of 20 ms.
    let mut saw_response = false;
    while let Some((_, m)) = stream.message().await {
        saw_response |= m.get("id").is_some();
    }
    assert!(!saw_response, "a cancelled request gets no response");
}

/// A list change made through A's server object reaches a client whose standalone GET stream
/// is open on B; a resource update reaches it too after it subscribed through A.
#[tokio::test]
async fn list_changes_and_resource_updates_reach_subscribers_on_other_instances() {
    let Some(url) = redis_url() else { return };
    let prefix = redis_prefix();
    let changed = fixture();
    let a = instance_of(changed.clone(), &url, &prefix).await;
    let b = instance_of(fixture(), &url, &prefix).await;
    let s = Session::open(&a.url(), "2025-11-25", json!({})).await;
    let mut get = Events::open(Method::GET, &b.url(), &session_headers(&s), None).await;
    assert_eq!(get.status, 200);
    let r = s
        .post(&json!({"jsonrpc":"2.0","id":1,"method":"resources/subscribe","params":{"uri":"file:///watched"}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The GET on B is attached once B answered its headers; give the attach a moment.
    tokio::time::sleep(Duration::from_millis(200)).await;
    changed
        .add_tool(ToolDef::from_fn(
            "added",
            |_: mcp_server::Context, mcp_server::NoArgs {}| async { "new" },
        ))
        .expect("a tool added at run time");
    let (_, m) = get.message().await.expect("the list change on B");
    assert_eq!(m["method"], "notifications/tools/list_changed", "{m}");
    changed.notify_resource_updated("file:///unwatched");
    changed.notify_resource_updated("file:///watched");
    let (_, m) = get.message().await.expect("the resource update on B");
    assert_eq!(m["method"], "notifications/resources/updated", "{m}");
    assert_eq!(
        m["params"]["uri"], "file:///watched",
        "only the subscribed URI: {m}"
    );
}

/// T-80/T-81 across instances: a stream cut while its handler still runs on A is resumed
/// through B with `Last-Event-ID`; B replays what was stored, then follows A's new events
/// until the result. Every event arrives once, in order.
#[tokio::test]
async fn a_stream_cut_mid_way_resumes_through_another_instance_with_every_event_once() {
    let Some(srv) = instances(2).await else {
        return;
    };
    let s = Session::open(&srv[0].url(), "2025-11-25", json!({})).await;
    let call = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow","arguments":{"steps": 40},"_meta":{"progressToken":"p"}}});
    let mut first = Events::open(
        Method::POST,
        &srv[0].url(),
        &session_headers(&s),
        Some(call),
    )
    .await;
    let mut seen: Vec<(String, Value)> = Vec::new();
    while seen.len() < 3 {
        let (id, m) = first.message().await.expect("progress before the cut");
        seen.push((id.expect("events carry ids"), m));
    }
    drop(first); // the cut
    let last = seen.last().map(|(id, _)| id.clone()).unwrap_or_default();
    let mut headers = session_headers(&s);
    headers.push(("last-event-id", &last));
    let mut resumed = Events::open(Method::GET, &srv[1].url(), &headers, None).await;
    assert_eq!(resumed.status, 200);
    while let Some((id, m)) = resumed.message().await {
        seen.push((id.expect("events carry ids"), m.clone()));
        if m.get("id").is_some() {
            break;
        }
    }
    let ids: Vec<&String> = seen.iter().map(|(id, _)| id).collect();
    let unique: std::collections::HashSet<&&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no event twice: {ids:?}");
    let progress: Vec<f64> = seen
        .iter()
        .filter(|(_, m)| m["method"] == "notifications/progress")
        .map(|(_, m)| m["params"]["progress"].as_f64().unwrap_or_default())
        .collect();
    let expected: Vec<f64> = (1..=40).map(f64::from).collect();
    assert_eq!(progress, expected, "every progress event once, in order");
    let (_, result) = seen.last().expect("events");
    assert_eq!(
        result["result"]["content"][0]["text"], "finished",
        "{result}"
    );
}

/// T-55 across instances: a session bound to nobody (authorization off) cannot be taken over
/// by naming it with another protocol version's header, and an instance that cannot reach
/// Redis answers 503 with `Retry-After` (never a guess, never a hang) and recovers.
#[tokio::test]
async fn an_unreachable_redis_gives_503_with_retry_after_and_service_recovers() {
    let Some(url) = redis_url() else { return };
    let target = url
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .to_owned();
    let relay = Relay::start(&target).await;
    let prefix = redis_prefix();
    let via_relay = format!("redis://{}/", relay.addr);
    let a = instance_of(fixture(), &via_relay, &prefix).await;
    let s = Session::open(&a.url(), "2025-11-25", json!({})).await;
    relay.cut();
    let started = std::time::Instant::now();
    let r = s
        .post(&json!({"jsonrpc":"2.0","id":1,"method":"ping"}))
        .await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.header("retry-after"), Some("5"));
    assert!(
        !r.body.contains("redis://"),
        "no URL in the answer: {}",
        r.body
    );
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}});
    let r = mcp_tests::post(&a.url(), &[], &init.to_string()).await;
    assert_eq!(
        r.status, 503,
        "no session is created unrecorded: {}",
        r.body
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "bounded, not hung"
    );
    relay.restore();
    let mut status = 0;
    for _ in 0..100 {
        status = s
            .post(&json!({"jsonrpc":"2.0","id":2,"method":"ping"}))
            .await
            .status;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        status, 200,
        "the session is served again once Redis answers"
    );
}

/// A TCP relay to Redis that can be cut (connections closed, new ones refused by closing them
/// at once) and restored.
struct Relay {
    addr: std::net::SocketAddr,
    open: std::sync::Arc<std::sync::atomic::AtomicBool>,
    generation: tokio::sync::watch::Sender<u64>,
}

impl Relay {
    async fn start(target: &str) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let open = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let (generation, _) = tokio::sync::watch::channel(0u64);
        let (flag, target, gen_tx) = (open.clone(), target.to_owned(), generation.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if !flag.load(std::sync::atomic::Ordering::SeqCst) {
                    continue; // dropped: closed at once
                }
                let target = target.clone();
                let mut cut = gen_tx.subscribe();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Relay {
            addr,
            open,
            generation,
        }
    }

    fn cut(&self) {
        self.open.store(false, std::sync::atomic::Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    fn restore(&self) {
        self.open.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}
