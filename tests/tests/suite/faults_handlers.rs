//! Faults in what the application's handlers do, on every transport: a handler that panics, a
//! tool that returns 50 MB, a client that drops its connection in the middle of a stream. The
//! hardening issue's rule: the server keeps serving everyone else, loses nothing, and lets no
//! one in. Requirement ids refer to `CHECKLIST.md` (TL-08 error mechanisms, T-25 disconnects,
//! T-81 resumption).
//!
//! The documented outcomes these tests hold the server to:
//!
//! - **A panicking tool** answers the documented tool error result (`isError: true`,
//!   `Tool "<name>" failed unexpectedly`); **a panicking prompt, resource or other handler**
//!   answers JSON-RPC `-32603` `Internal error`, for that request alone (a batch's other
//!   requests are answered), on legacy HTTP (JSON and SSE), modern HTTP (JSON and SSE) and
//!   stdio (both eras). The panic message is logged at ERROR and never sent to the client. The
//!   connection, the session and other clients go on.
//! - **A huge tool result** (50 MB) is delivered in full (no result size bound), as JSON or on an
//!   SSE stream; it is not kept for resumption (an event over the event store's per-stream bound
//!   is dropped with what came before it on its stream, so resuming there is 400); other clients
//!   are served while it is being written.
//! - **A legacy client that drops a POST's SSE stream** does not cancel the handler (T-25 [L]): it
//!   runs to the end, its events and result wait in the event store, a GET with `Last-Event-ID`
//!   replays what came after that id and ends, the session stays usable, and the server shuts
//!   down promptly afterwards. **A modern client that drops its stream** cancels the handler
//!   (T-25 [M]): it stops.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_server::prelude::*;
use mcp_server::testing::{TestServer, spawn};
use mcp_tests::{
    JSON_AND_SSE, RawResponse, Session, fixture_counting_steps, modern_post, send, sse_events,
    sse_messages,
};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// What the panicking handlers' messages carry: an internal detail no client may see.
const DETAIL: &str = "postgres://app:hunter2@db.internal/prod";

/// Bytes of the huge tool's answer.
const HUGE: usize = 50 * 1024 * 1024;

/// A tool with a bug that puts an internal detail into its panic message.
#[tool]
async fn crash(ctx: &Context) -> String {
    ctx.progress(1.0, None, Some("about to fail"));
    panic!("connection to {DETAIL} failed")
}

/// A prompt with the same bug.
#[prompt]
async fn crash_prompt(ctx: &Context) -> Vec<PromptMessage> {
    ctx.progress(1.0, None, Some("about to fail"));
    panic!("connection to {DETAIL} failed")
}

/// A resource with the same bug.
#[resource(uri = "crash://now")]
async fn crash_resource(ctx: &Context) -> String {
    ctx.progress(1.0, None, Some("about to fail"));
    panic!("connection to {DETAIL} failed")
}

/// Add two integers.
#[tool]
async fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Returns `bytes` bytes of text, after a progress notification when the caller asked for
/// progress (which puts the answer on an SSE stream).
#[tool]
async fn huge(ctx: &Context, bytes: usize) -> String {
    ctx.progress(1.0, None, Some("writing"));
    "x".repeat(bytes)
}

fn server() -> McpServer {
    McpServer::builder("faults")
        .tool(crash)
        .tool(add)
        .tool(huge)
        .prompt(crash_prompt)
        .resource(crash_resource)
        .build()
        .expect("the server builds")
}

// ---------------------------------------------------------------------------------------------
// Log capture (scoped to the test's thread: the suite is one process)

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures every event emitted on this thread while the guard lives. A `#[tokio::test]` runs
/// the server and the client on the test's thread, so the server's logs are captured.
fn capture_logs() -> (tracing::subscriber::DefaultGuard, Capture) {
    let capture = Capture(Arc::new(Mutex::new(Vec::new())));
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (tracing::subscriber::set_default(subscriber), capture)
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn progress_meta() -> Value {
    json!({"progressToken": "p"})
}

fn response_for(messages: &[Value], id: i64) -> Value {
    messages
        .iter()
        .find(|m| m["id"] == id && (m.get("result").is_some() || m.get("error").is_some()))
        .cloned()
        .unwrap_or_else(|| panic!("no answer to {id} in {messages:?}"))
}

/// TL-08: the documented tool error of a panicking tool.
fn assert_tool_failed(m: &Value, what: &str) {
    assert_eq!(m["result"]["isError"], true, "{what}: {m}");
    assert_eq!(
        m["result"]["content"][0]["text"], "Tool \"crash\" failed unexpectedly",
        "{what}: {m}"
    );
}

/// A panicking handler other than a tool: `-32603 Internal error`.
fn assert_internal_error(m: &Value, what: &str) {
    assert_eq!(m["error"]["code"], -32603, "{what}: {m}");
    assert_eq!(m["error"]["message"], "Internal error", "{what}: {m}");
}

fn assert_no_detail(text: &str, what: &str) {
    assert!(
        !text.contains("hunter2"),
        "{what}: the panic message leaked"
    );
    assert!(
        !text.contains("db.internal"),
        "{what}: the panic message leaked"
    );
}

fn add_result(m: &Value) -> Value {
    m["result"]["content"][0]["text"].clone()
}

const V: &str = "2026-07-28";

fn modern_meta(progress: bool) -> Value {
    let mut meta = json!({
        "io.modelcontextprotocol/protocolVersion": V,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "tests", "version": "0"},
    });
    if progress {
        meta["progressToken"] = json!("p");
    }
    meta
}

// ---------------------------------------------------------------------------------------------
// Panics

/// TL-08: over legacy HTTP, JSON and SSE, a panicking tool is its tool error, a panicking
/// prompt or resource is `-32603`; the panic message goes to the log only; the session and
/// other clients go on; a 2025-03-26 batch with a panicking request answers the others.
#[tokio::test]
async fn tl08_a_panicking_handler_over_legacy_http_fails_that_request_alone() {
    let (_guard, logs) = capture_logs();
    let srv = spawn(server()).await.unwrap();
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let calls = [
        (
            json!({"name": "crash", "arguments": {}}),
            "tools/call",
            true,
        ),
        (json!({"name": "crash_prompt"}), "prompts/get", false),
        (json!({"uri": "crash://now"}), "resources/read", false),
    ];
    let mut id = 1;
    for (params, method, is_tool) in calls {
        for sse in [false, true] {
            let mut params = params.clone();
            if sse {
                // A progress notification first: the answer goes on an SSE stream.
                params["_meta"] = progress_meta();
            }
            let r = s
                .post(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
                .await;
            let what = format!("{method}, sse {sse}");
            assert_eq!(r.status, 200, "{what}: {}", r.body);
            assert_eq!(
                r.header("content-type") == Some("text/event-stream"),
                sse,
                "{what}"
            );
            let m = response_for(&r.messages(), id);
            if is_tool {
                assert_tool_failed(&m, &what);
            } else {
                assert_internal_error(&m, &what);
            }
            assert_no_detail(&r.body, &what);
            // The same session goes on.
            let m = response_for(
                &s.call(id + 100, "add", json!({"a": 2, "b": 3})).await,
                id + 100,
            );
            assert_eq!(add_result(&m), "5", "{what}");
            id += 1;
        }
    }
    // Another client was never affected.
    let other = Session::open(&srv.url(), "2025-06-18", json!({})).await;
    assert_eq!(
        add_result(&response_for(
            &other.call(1, "add", json!({"a": 1, "b": 1})).await,
            1
        )),
        "2"
    );
    // A batch (2025-03-26): the panicking request fails alone.
    let old = Session::open(&srv.url(), "2025-03-26", json!({})).await;
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "prompts/get", "params": {"name": "crash_prompt"}},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "add", "arguments": {"a": 20, "b": 22}}},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "crash", "arguments": {}}},
    ]);
    let r = old.post(&batch).await;
    let replies = r.json();
    let replies = replies.as_array().expect("a batch answer");
    assert_internal_error(&response_for(replies, 1), "batch");
    assert_eq!(add_result(&response_for(replies, 2)), "42");
    assert_tool_failed(&response_for(replies, 3), "batch");
    assert_no_detail(&r.body, "batch");

    // The panic is in the server's log, with its message, for the operator.
    let log = logs.text();
    assert!(log.contains("a request handler panicked"), "{log}");
    assert!(log.contains("tool panicked"), "{log}");
    assert!(log.contains(DETAIL), "the log names the panic: {log}");
    srv.shutdown().await;
}

/// TL-08 on the modern wire (2026-07-28), JSON and SSE: the same answers, HTTP 200.
#[tokio::test]
async fn tl08_a_panicking_handler_over_modern_http_fails_that_request_alone() {
    let srv = spawn(server()).await.unwrap();
    let calls = [
        (
            "tools/call",
            json!({"name": "crash", "arguments": {}}),
            Some("crash"),
            true,
        ),
        (
            "prompts/get",
            json!({"name": "crash_prompt"}),
            Some("crash_prompt"),
            false,
        ),
        (
            "resources/read",
            json!({"uri": "crash://now"}),
            Some("crash://now"),
            false,
        ),
    ];
    for (method, params, name, is_tool) in calls {
        for sse in [false, true] {
            let mut params = params.clone();
            params["_meta"] = modern_meta(sse);
            let r = modern_post(&srv.url(), method, params, name).await;
            let what = format!("{method}, sse {sse}");
            assert_eq!(r.status, 200, "{what}: {}", r.body);
            let m = response_for(&r.messages(), 1);
            if is_tool {
                assert_tool_failed(&m, &what);
            } else {
                assert_internal_error(&m, &what);
            }
            assert_no_detail(&r.body, &what);
            let sum =
                json!({"name": "add", "arguments": {"a": 1, "b": 2}, "_meta": modern_meta(false)});
            let r = modern_post(&srv.url(), "tools/call", sum, Some("add")).await;
            assert_eq!(add_result(&r.json()), "3", "{what}");
        }
    }
    srv.shutdown().await;
}

/// Newline-delimited JSON-RPC to a server on in-memory pipes.
struct Pipe {
    to_server: tokio::io::DuplexStream,
    from_server: tokio::io::Lines<BufReader<tokio::io::DuplexStream>>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Pipe {
    fn start(server: McpServer) -> Pipe {
        let (client_out, server_in) = tokio::io::duplex(1 << 16);
        let (server_out, client_in) = tokio::io::duplex(1 << 16);
        let served = tokio::spawn(async move { server.serve_io(server_in, server_out).await });
        Pipe {
            to_server: client_out,
            from_server: BufReader::new(client_in).lines(),
            served,
        }
    }

    async fn send(&mut self, v: &Value) {
        self.to_server
            .write_all(format!("{v}\n").as_bytes())
            .await
            .unwrap();
    }

    /// Reads until the answer to `id` (a hang detector bounds the wait), returning it as text.
    async fn answer(&mut self, id: i64) -> String {
        loop {
            let line = tokio::time::timeout(Duration::from_secs(30), self.from_server.next_line())
                .await
                .expect("an answer in time: the request was not dropped")
                .unwrap()
                .expect("the server is still there");
            let m: Value = serde_json::from_str(&line).unwrap();
            if m["id"] == id && (m.get("result").is_some() || m.get("error").is_some()) {
                return line;
            }
        }
    }
}

/// TL-08 over stdio, both eras: the panicking request is answered, the connection goes on, and
/// a modern request id is free again once answered.
#[tokio::test]
async fn tl08_a_panicking_handler_over_stdio_fails_that_request_alone() {
    let mut p = Pipe::start(server());
    p.send(&json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}})).await;
    p.answer(0).await;
    p.send(&json!({"jsonrpc":"2.0","method":"notifications/initialized"}))
        .await;
    let requests = [
        (
            "tools/call",
            json!({"name": "crash", "arguments": {}}),
            true,
        ),
        ("prompts/get", json!({"name": "crash_prompt"}), false),
        ("resources/read", json!({"uri": "crash://now"}), false),
    ];
    let mut id = 1;
    for (method, params, is_tool) in &requests {
        for modern in [false, true] {
            let mut params = params.clone();
            params["_meta"] = if modern {
                modern_meta(true)
            } else {
                progress_meta()
            };
            // Twice with one id: a modern id in progress is refused, so this shows it was freed.
            for _ in 0..2 {
                p.send(&json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}))
                    .await;
                let line = p.answer(id).await;
                let what = format!("{method}, modern {modern}");
                let m: Value = serde_json::from_str(&line).unwrap();
                if *is_tool {
                    assert_tool_failed(&m, &what);
                } else {
                    assert_internal_error(&m, &what);
                }
                assert_no_detail(&line, &what);
            }
            id += 1;
        }
    }
    p.send(&json!({"jsonrpc":"2.0","id":99,"method":"tools/call","params":{"name":"add","arguments":{"a":40,"b":2}}})).await;
    let m: Value = serde_json::from_str(&p.answer(99).await).unwrap();
    assert_eq!(add_result(&m), "42");
    // Closing the input ends the server cleanly.
    drop(p.to_server);
    let served = tokio::time::timeout(Duration::from_secs(10), p.served)
        .await
        .expect("the server ends when its input ends");
    assert!(served.unwrap().is_ok());
}

// ---------------------------------------------------------------------------------------------
// Huge output

/// A 50 MB tool result over legacy HTTP as JSON, over SSE, and over the modern wire: delivered
/// whole; another client is served while the first answer has not been read yet.
#[tokio::test]
async fn a_50_mb_tool_result_is_delivered_and_others_are_served_meanwhile() {
    let srv = spawn(server()).await.unwrap();
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let client = reqwest::Client::new();
    for sse in [false, true] {
        let mut params = json!({"name": "huge", "arguments": {"bytes": HUGE}});
        if sse {
            params["_meta"] = progress_meta();
        }
        let body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": params});
        let response = client
            .post(srv.url())
            .header("content-type", "application/json")
            .header("accept", JSON_AND_SSE)
            .header("mcp-session-id", &s.id)
            .header("mcp-protocol-version", &s.version)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        // The answer is not read yet: the server is still writing it; others are served.
        let other = Session::open(&srv.url(), "2025-11-25", json!({})).await;
        let m = response_for(&other.call(1, "add", json!({"a": 2, "b": 2})).await, 1);
        assert_eq!(add_result(&m), "4", "sse {sse}");
        let is_sse = response
            .headers()
            .get("content-type")
            .is_some_and(|v| v == "text/event-stream");
        assert_eq!(is_sse, sse);
        let text = response.text().await.unwrap();
        let messages = if sse {
            sse_messages(&text)
        } else {
            vec![serde_json::from_str(&text).unwrap()]
        };
        let m = response_for(&messages, 7);
        let delivered = m["result"]["content"][0]["text"].as_str().unwrap();
        assert_eq!(delivered.len(), HUGE, "sse {sse}: delivered whole");
        assert!(delivered.bytes().all(|b| b == b'x'));
        if sse {
            // Over the event store's per-stream bound (8 MiB): not kept, nor what preceded it
            // on its stream, so resuming from the stream's first event is refused (400), not
            // answered with a stream that cannot bring the result back.
            let first = sse_events(&text)
                .into_iter()
                .find_map(|(id, _)| id)
                .expect("a priming event id");
            let r = send(
                Method::GET,
                &srv.url(),
                &[
                    ("accept", "text/event-stream"),
                    ("mcp-session-id", &s.id),
                    ("mcp-protocol-version", &s.version),
                    ("last-event-id", &first),
                ],
                None,
            )
            .await;
            assert_eq!(r.status, 400, "{}", r.body);
        }
    }
    // The modern wire: the same, as JSON and as SSE.
    for sse in [false, true] {
        let params =
            json!({"name": "huge", "arguments": {"bytes": HUGE}, "_meta": modern_meta(sse)});
        let r = modern_post(&srv.url(), "tools/call", params, Some("huge")).await;
        let m = response_for(&r.messages(), 1);
        let delivered = m["result"]["content"][0]["text"].as_str().unwrap();
        assert_eq!(delivered.len(), HUGE, "modern, sse {sse}");
    }
    // The session goes on.
    let m = response_for(&s.call(8, "add", json!({"a": 1, "b": 1})).await, 8);
    assert_eq!(add_result(&m), "2");
    tokio::time::timeout(Duration::from_secs(10), srv.shutdown())
        .await
        .expect("the server shuts down");
}

/// A 50 MB tool result over stdio is one line, delivered whole; the next answer follows it.
#[tokio::test]
async fn a_50_mb_tool_result_over_stdio_is_delivered() {
    let mut p = Pipe::start(server());
    p.send(&json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"huge","arguments":{"bytes": HUGE},"_meta":modern_meta(false)}})).await;
    p.send(&json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2},"_meta":modern_meta(false)}})).await;
    let mut answers = std::collections::HashMap::new();
    for _ in 0..2 {
        let line = tokio::time::timeout(Duration::from_secs(60), p.from_server.next_line())
            .await
            .expect("in time")
            .unwrap()
            .unwrap();
        let m: Value = serde_json::from_str(&line).unwrap();
        answers.insert(m["id"].as_i64().unwrap(), m);
    }
    let text = answers[&1]["result"]["content"][0]["text"]
        .as_str()
        .unwrap();
    assert_eq!(text.len(), HUGE);
    assert_eq!(add_result(&answers[&2]), "3");
}

// ---------------------------------------------------------------------------------------------
// Disconnects

/// Reads a streaming response until `enough` holds for the SSE text read so far.
async fn read_until(response: &mut reqwest::Response, enough: impl Fn(&str) -> bool) -> String {
    let mut text = String::new();
    while !enough(&text) {
        let chunk = tokio::time::timeout(Duration::from_secs(10), response.chunk())
            .await
            .expect("events in time")
            .unwrap()
            .expect("the stream goes on");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    text
}

fn progress_values(messages: &[Value]) -> Vec<i64> {
    messages
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .map(|m| m["params"]["progress"].as_f64().unwrap() as i64)
        .collect()
}

/// T-25 [L], T-81: a legacy client drops a POST's SSE stream after two progress events. The
/// handler is not cancelled and runs to its end; a GET with the last seen `Last-Event-ID`
/// replays exactly what came after it, the result last, and ends; a second resumption gets the
/// same; the session stays usable; the server shuts down promptly afterwards (no stream or
/// task was left behind holding it).
#[tokio::test]
async fn t25_t81_a_legacy_client_that_drops_its_stream_loses_nothing() {
    let (server, steps) = fixture_counting_steps();
    let srv: TestServer = spawn(server).await.unwrap();
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    const STEPS: u32 = 30;
    let body = json!({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"slow","arguments":{"steps":STEPS},"_meta":{"progressToken":"t"}}});
    let mut response = reqwest::Client::new()
        .post(srv.url())
        .header("content-type", "application/json")
        .header("accept", JSON_AND_SSE)
        .header("mcp-session-id", &s.id)
        .header("mcp-protocol-version", &s.version)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let seen = read_until(&mut response, |t| {
        progress_values(&sse_messages(t)).len() >= 2 && t.ends_with("\n\n")
    })
    .await;
    drop(response);
    let seen_progress = progress_values(&sse_messages(&seen));
    let last = sse_events(&seen)
        .into_iter()
        .filter_map(|(id, _)| id)
        .next_back()
        .expect("event ids");

    // The handler runs to its end (a legacy disconnect is not a cancellation).
    mcp_tests::until(|| steps.load(Ordering::SeqCst) == STEPS as usize).await;

    let resume = || async {
        send(
            Method::GET,
            &srv.url(),
            &[
                ("accept", "text/event-stream"),
                ("mcp-session-id", &s.id),
                ("mcp-protocol-version", &s.version),
                ("last-event-id", &last),
            ],
            None,
        )
        .await
    };
    for attempt in 0..2 {
        let r: RawResponse = tokio::time::timeout(Duration::from_secs(10), resume())
            .await
            .expect("the replay of a finished stream ends");
        assert_eq!(r.status, 200, "{}", r.body);
        let replayed = sse_messages(&r.body);
        let mut all = seen_progress.clone();
        all.extend(progress_values(&replayed));
        let expected: Vec<i64> = (1..=i64::from(STEPS)).collect();
        assert_eq!(
            all, expected,
            "attempt {attempt}: every progress event once"
        );
        let result = replayed.last().expect("the result comes last");
        assert_eq!(result["id"], 5);
        assert_eq!(result["result"]["content"][0]["text"], "finished");
    }
    let m = response_for(&s.call(6, "add", json!({"a": 3, "b": 4})).await, 6);
    assert_eq!(add_result(&m), "7");
    tokio::time::timeout(Duration::from_secs(10), srv.shutdown())
        .await
        .expect("the server shuts down promptly");
}

/// T-25 [M]: a modern client that drops its SSE stream has cancelled the request: the handler
/// stops doing work.
#[tokio::test]
async fn t25_a_modern_client_that_drops_its_stream_cancels_the_handler() {
    let (server, steps) = fixture_counting_steps();
    let srv = spawn(server).await.unwrap();
    const STEPS: usize = 500;
    let params = json!({"name": "slow", "arguments": {"steps": STEPS}, "_meta": modern_meta(true)});
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params});
    let mut response = reqwest::Client::new()
        .post(srv.url())
        .header("content-type", "application/json")
        .header("accept", JSON_AND_SSE)
        .header("mcp-protocol-version", V)
        .header("mcp-method", "tools/call")
        .header("mcp-name", "slow")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    read_until(&mut response, |t| {
        !progress_values(&sse_messages(t)).is_empty()
    })
    .await;
    drop(response);
    // The count settles well before the end: the handler was dropped.
    let mut previous = usize::MAX;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = steps.load(Ordering::SeqCst);
        if now == previous {
            break;
        }
        previous = now;
    }
    let settled = steps.load(Ordering::SeqCst);
    assert_eq!(settled, previous, "the handler kept working");
    assert!(settled < STEPS, "the handler ran to its end: {settled}");
    // The server serves on.
    let sum = json!({"name": "add", "arguments": {"a": 1, "b": 2}, "_meta": modern_meta(false)});
    let r = modern_post(&srv.url(), "tools/call", sum, Some("add")).await;
    assert_eq!(add_result(&r.json()), "3");
    tokio::time::timeout(Duration::from_secs(10), srv.shutdown())
        .await
        .expect("the server shuts down promptly");
}
