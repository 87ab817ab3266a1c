//! Black-box tests of the bounds on connections and requests (the hardening issue): slow and
//! oversized request heads and bodies, connections, JSON nesting, streams per session, pending
//! server→client requests, handlers that hang, clients that never read their stream, and the
//! same bounds over stdio. Each bound is set low, exceeded, and the documented outcome checked;
//! after each, the server still serves everyone else. Requirement ids refer to
//! `tests/spec/CHECKLIST.md`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use mcp_core::types::{ElicitRequestParams, LoggingLevel};
use mcp_server::prelude::*;
use mcp_server::testing::{TestServer, spawn};
use mcp_server::transport::http::InMemoryEventStore;
use mcp_tests::{JSON_AND_SSE, Session, fixture, sse_events, until};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Longest any step may take before the test calls it a hang.
const HANG: Duration = Duration::from_secs(10);

#[test]
fn the_documented_defaults_hold() {
    assert_eq!(HttpConfig::DEFAULT_MAX_BODY_BYTES, 4 * 1024 * 1024);
    assert_eq!(HttpConfig::DEFAULT_MAX_JSON_DEPTH, 64);
    assert_eq!(
        HttpConfig::DEFAULT_BODY_READ_TIMEOUT,
        Duration::from_secs(30)
    );
    assert_eq!(HttpConfig::DEFAULT_MAX_SESSIONS, 10_000);
    assert_eq!(HttpConfig::DEFAULT_MAX_STREAMS_PER_SESSION, 32);
    assert_eq!(HttpConfig::DEFAULT_MAX_CONNECTIONS, 1024);
    assert_eq!(HttpConfig::DEFAULT_MAX_HEADER_BYTES, 64 * 1024);
    assert_eq!(HttpConfig::DEFAULT_MAX_HEADERS, 100);
    assert_eq!(
        HttpConfig::DEFAULT_HEADER_READ_TIMEOUT,
        Duration::from_secs(10)
    );
    assert_eq!(HttpConfig::DEFAULT_SHUTDOWN_GRACE, Duration::from_secs(10));
    assert_eq!(McpServer::DEFAULT_MAX_PENDING_CLIENT_REQUESTS, 16);
    assert_eq!(McpServer::DEFAULT_REQUEST_TIMEOUT, Duration::from_secs(300));
}

async fn serve(http: HttpConfig) -> TestServer {
    spawn(fixture().http(http)).await.expect("server starts")
}

/// Everything the server sends on `stream` until it closes the connection (or `HANG` passes:
/// then the test fails).
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let read = tokio::time::timeout(HANG, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server never closed the connection");
    String::from_utf8_lossy(&out).into_owned()
}

/// The status line of a raw HTTP/1.1 response.
async fn status_line(stream: &mut TcpStream) -> String {
    let mut line = String::new();
    let mut reader = BufReader::new(stream);
    tokio::time::timeout(HANG, reader.read_line(&mut line))
        .await
        .expect("an answer in time")
        .expect("the connection reads");
    line.trim_end().to_owned()
}

/// The server still answers a well-formed request from someone else.
async fn still_serving(srv: &TestServer) {
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let r = s
        .post(&json!({"jsonrpc":"2.0","id":1,"method":"ping"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

fn head(addr: std::net::SocketAddr, extra: &str) -> String {
    format!(
        "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAccept: {JSON_AND_SSE}\r\n{extra}"
    )
}

// --- connections -------------------------------------------------------------------------

/// A client that starts a request head and never finishes it (slowloris) is cut after
/// `header_read_timeout`, even while it keeps dribbling bytes.
#[tokio::test]
async fn a_request_head_not_finished_within_header_read_timeout_is_cut() {
    let http = HttpConfig::default().header_read_timeout(Duration::from_millis(300));
    let srv = serve(http).await;
    let mut silent = TcpStream::connect(srv.addr()).await.unwrap();
    silent
        .write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let answer = read_to_close(&mut silent).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );

    let mut dribbling = TcpStream::connect(srv.addr()).await.unwrap();
    let dribble = async {
        for _ in 0..100 {
            if dribbling.write_all(b"X-Slow: a\r\n").await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    };
    let cut = tokio::time::timeout(HANG, dribble).await.expect("no hang");
    let rest = read_to_close(&mut dribbling).await;
    assert!(
        cut || rest.is_empty() || rest.starts_with("HTTP/1.1 408"),
        "{rest}"
    );
    still_serving(&srv).await;
}

/// A kept-alive connection that stays idle longer than `header_read_timeout` is closed.
#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_header_read_timeout() {
    let http = HttpConfig::default().header_read_timeout(Duration::from_millis(300));
    let srv = serve(http).await;
    let mut conn = TcpStream::connect(srv.addr()).await.unwrap();
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let request = format!(
        "{}Mcp-Protocol-Version: 2025-03-26\r\nContent-Length: {}\r\n\r\n{body}",
        head(srv.addr(), ""),
        body.len()
    );
    conn.write_all(request.as_bytes()).await.unwrap();
    // The answer comes, then (nothing more being sent) the connection is closed.
    let answer = read_to_close(&mut conn).await;
    assert!(answer.starts_with("HTTP/1.1 "), "{answer}");
}

/// A request head larger than `max_header_bytes` gets 431; so does one with more than
/// `max_headers` fields.
#[tokio::test]
async fn request_heads_over_the_size_or_count_bound_get_431() {
    let http = HttpConfig::default()
        .max_header_bytes(16 * 1024)
        .max_headers(20);
    let srv = serve(http).await;
    let big = format!("X-Big: {}\r\n", "a".repeat(32 * 1024));
    let mut conn = TcpStream::connect(srv.addr()).await.unwrap();
    let _ = conn
        .write_all(format!("{}{big}Content-Length: 2\r\n\r\n{{}}", head(srv.addr(), "")).as_bytes())
        .await;
    assert!(status_line(&mut conn).await.starts_with("HTTP/1.1 431"));

    let many: String = (0..30).map(|i| format!("X-H{i}: v\r\n")).collect();
    let mut conn = TcpStream::connect(srv.addr()).await.unwrap();
    let _ = conn
        .write_all(
            format!(
                "{}{many}Content-Length: 2\r\n\r\n{{}}",
                head(srv.addr(), "")
            )
            .as_bytes(),
        )
        .await;
    assert!(status_line(&mut conn).await.starts_with("HTTP/1.1 431"));
    still_serving(&srv).await;
}

/// At most `max_connections` connections are served at once: a further one waits (it is not
/// refused, it is not answered) until one of them closes, then it is served.
#[tokio::test]
async fn connections_beyond_max_connections_wait_for_a_free_slot() {
    let http = HttpConfig::default().max_connections(2);
    let srv = serve(http).await;
    let first = TcpStream::connect(srv.addr()).await.unwrap();
    let second = TcpStream::connect(srv.addr()).await.unwrap();
    let url = srv.url();
    let third = tokio::spawn(async move { Session::open(&url, "2025-11-25", json!({})).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!third.is_finished(), "served beyond max_connections");
    drop(first);
    let session = tokio::time::timeout(HANG, third)
        .await
        .expect("served once a slot frees");
    assert!(!session.unwrap().id.is_empty());
    drop(second);
}

// --- bodies ------------------------------------------------------------------------------

/// A body not received within `body_read_timeout` gets 408.
#[tokio::test]
async fn a_body_not_received_within_body_read_timeout_gets_408() {
    let http = HttpConfig::default().body_read_timeout(Duration::from_millis(300));
    let srv = serve(http).await;
    let mut conn = TcpStream::connect(srv.addr()).await.unwrap();
    let request = format!(
        "{}Content-Length: 100\r\n\r\n{{\"jsonrpc\"",
        head(srv.addr(), "")
    );
    conn.write_all(request.as_bytes()).await.unwrap();
    assert!(status_line(&mut conn).await.starts_with("HTTP/1.1 408"));
    still_serving(&srv).await;
}

fn nested(depth: usize) -> String {
    // `{"jsonrpc":..,"params":{"x": [[...]]}}`: the message and params are two levels.
    let inner = format!("{}{}", "[".repeat(depth - 2), "]".repeat(depth - 2));
    format!(r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"x":{inner}}}}}"#)
}

/// T-12 (bodies the server refuses): a body nested deeper than `max_json_depth` gets 400 with
/// `-32700` naming the limit, before it is parsed; one at the bound is served.
#[tokio::test]
async fn a_body_nested_deeper_than_max_json_depth_is_minus_32700_naming_the_limit() {
    let srv = serve(HttpConfig::default().max_json_depth(10)).await;
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let r = s.post_raw(&nested(11)).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let body = r.json();
    assert_eq!(body["error"]["code"], -32700);
    assert_eq!(body["error"]["data"]["limit"], "max_json_depth");
    assert_eq!(body["error"]["data"]["max"], 10);
    let r = s.post_raw(&nested(10)).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // The default bound holds against a body far deeper than serde_json's own limit.
    let srv = serve(HttpConfig::default()).await;
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let r = s.post_raw(&nested(100_000)).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["data"]["max"], 64);
}

// --- sessions ----------------------------------------------------------------------------

/// A POST of `body` in session `s` accepting `accept`; the response is returned as soon as its
/// head arrives (a stream stays open for the caller to read, or not).
async fn post_in(s: &Session, accept: &str, body: &Value) -> reqwest::Result<reqwest::Response> {
    reqwest::Client::new()
        .post(&s.url)
        .header("content-type", "application/json")
        .header("accept", accept)
        .header("mcp-session-id", &s.id)
        .header("mcp-protocol-version", &s.version)
        .body(body.to_string())
        .send()
        .await
}

/// One POST of `slow` with a progress token: it answers as an SSE stream that stays open while
/// the tool runs. The response is returned as soon as its head arrives.
async fn open_stream(s: &Session, id: i64, steps: u32) -> reqwest::Response {
    let call = json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{
        "name":"slow","arguments":{"steps":steps},"_meta":{"progressToken":id}}});
    post_in(s, JSON_AND_SSE, &call)
        .await
        .expect("the server answers")
}

/// A session holds at most `max_streams_per_session` open streams: a request that could open
/// one more gets 429 with `Retry-After`; another session is not affected, and once a stream
/// ends there is room again.
#[tokio::test]
async fn requests_beyond_max_streams_per_session_get_429_with_retry_after() {
    let srv = serve(HttpConfig::default().max_streams_per_session(2)).await;
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let a = open_stream(&s, 1, 25).await;
    let b = open_stream(&s, 2, 25).await;
    assert_eq!(a.headers()["content-type"], "text/event-stream");
    assert_eq!(b.headers()["content-type"], "text/event-stream");
    let refused = open_stream(&s, 3, 1).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "1");
    let text = refused.text().await.unwrap();
    assert!(text.contains("max_streams_per_session"), "{text}");

    let other = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    assert_eq!(open_stream(&other, 1, 1).await.status(), 200);

    // Both streams run to their end; then the session has room again.
    assert!(a.text().await.unwrap().contains("finished"));
    assert!(b.text().await.unwrap().contains("finished"));
    let again = open_stream(&s, 4, 1).await;
    assert_eq!(again.status(), 200);
    assert!(again.text().await.unwrap().contains("finished"));
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct NoArgs {}

/// A server whose `ask` tool elicits and reports the outcome, and whose `hang` tool never ends.
fn asking_server(builder: McpServerBuilder) -> McpServer {
    builder
        .tool(ToolDef::from_fn(
            "ask",
            |ctx: Context, NoArgs {}| async move {
                let schema = json!({"type":"object","properties":{"name":{"type":"string"}}});
                let params = ElicitRequestParams::form(
                    "Your name?",
                    schema.as_object().cloned().unwrap_or_default(),
                );
                match ctx.elicit(params).await {
                    Ok(_) => Ok("answered".to_owned()),
                    Err(e) => Err(e.to_string()),
                }
            },
        ))
        .tool(ToolDef::from_fn(
            "hang",
            |_: Context, NoArgs {}| async move {
                std::future::pending::<()>().await;
                "never"
            },
        ))
        .build()
        .expect("builds")
}

/// At most `max_pending_client_requests` server→client requests of one session wait for
/// answers: one more fails at once with `TooManyPending` (the tool sees it), and the client's
/// answer to the waiting one still gets through.
#[tokio::test]
async fn server_to_client_requests_beyond_the_pending_bound_fail_at_once() {
    let server = asking_server(McpServer::builder("ask").max_pending_client_requests(1));
    let srv = spawn(server).await.expect("server starts");
    let caps = json!({"elicitation": {"form": {}}});
    let s = Session::open(&srv.url(), "2025-11-25", caps).await;
    let call = |id: i64| json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":"ask","arguments":{}}});
    let first = post_in(&s, JSON_AND_SSE, &call(1)).await.unwrap();
    assert_eq!(first.headers()["content-type"], "text/event-stream");
    let mut first = first.bytes_stream();
    // Read the first stream until the elicitation request arrives.
    let mut seen = String::new();
    let elicitation = tokio::time::timeout(HANG, async {
        use futures_util::StreamExt;
        while let Some(chunk) = first.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
            if let Some(m) = sse_events(&seen)
                .into_iter()
                .filter_map(|(_, d)| serde_json::from_str::<Value>(&d).ok())
                .find(|m| m["method"] == "elicitation/create")
            {
                return m;
            }
        }
        panic!("the stream ended without an elicitation: {seen}");
    })
    .await
    .expect("the elicitation in time");

    let second = s.post(&call(2)).await.messages();
    let result = &second.last().expect("an answer")["result"];
    assert_eq!(result["isError"], true, "{second:?}");
    assert!(
        result["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .contains("at most 1"),
        "{result}"
    );

    // The waiting request is answered; its tool completes.
    let answer = json!({"jsonrpc":"2.0","id":elicitation["id"],"result":{"action":"accept","content":{"name":"x"}}});
    assert_eq!(s.post(&answer).await.status, 202);
    let rest = tokio::time::timeout(HANG, async {
        use futures_util::StreamExt;
        while let Some(chunk) = first.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        }
        seen
    })
    .await
    .expect("the first stream ends");
    assert!(rest.contains("answered"), "{rest}");
}

/// A handler running past `request_timeout` is dropped and its request answered with `-32603`
/// naming the limit, while requests beside it are served.
#[tokio::test]
async fn a_handler_past_request_timeout_is_cancelled_with_minus_32603() {
    let builder = McpServer::builder("hang").request_timeout(Some(Duration::from_millis(300)));
    let srv = spawn(asking_server(builder)).await.expect("server starts");
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let hang = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"hang","arguments":{}}});
    let ping = json!({"jsonrpc":"2.0","id":2,"method":"ping"});
    let (hanging, beside) = (s.post(&hang), s.post(&ping));
    let (hanging, beside) = tokio::time::timeout(HANG, async { tokio::join!(hanging, beside) })
        .await
        .expect("the hanging call is bounded");
    assert_eq!(beside.status, 200);
    let error = &hanging.messages()[0]["error"];
    assert_eq!(error["code"], -32603, "{error}");
    assert_eq!(error["data"]["limit"], "request_timeout");
}

// --- a client that never reads -----------------------------------------------------------

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Flood {
    count: u32,
}

/// A client that never reads its SSE stream cannot make the server hold more than a bounded
/// buffer for it: the live connection is dropped once the buffer is full, the handler goes on,
/// and every event is still delivered once, by resuming with `Last-Event-ID` (T-80).
#[tokio::test]
async fn a_client_that_never_reads_its_stream_is_cut_and_resumes_without_loss() {
    const COUNT: u32 = 4000;
    let done = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&done);
    let server = McpServer::builder("flood")
        .tool(ToolDef::from_fn(
            "flood",
            move |ctx: Context, Flood { count }| {
                let flag = Arc::clone(&flag);
                async move {
                    let filler = "x".repeat(4096);
                    for i in 0..count {
                        ctx.log(LoggingLevel::Info, None, json!({"n": i, "filler": filler}));
                        if i % 64 == 0 {
                            tokio::task::yield_now().await;
                        }
                    }
                    flag.store(true, Ordering::SeqCst);
                    "flooded"
                }
            },
        ))
        .build()
        .expect("builds");
    let store = InMemoryEventStore::new(100_000)
        .max_stream_bytes(256 * 1024 * 1024)
        .max_total_bytes(256 * 1024 * 1024);
    let http = HttpConfig::default().event_store(Arc::new(store));
    let srv = spawn(server.http(http)).await.expect("server starts");
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let flood = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{
        "name":"flood","arguments":{"count":COUNT}}});
    let unread = post_in(&s, "text/event-stream", &flood).await.unwrap();
    // The handler finishes although nobody reads.
    let flag = Arc::clone(&done);
    until(move || flag.load(Ordering::SeqCst)).await;
    let first_part = tokio::time::timeout(HANG, unread.text())
        .await
        .expect("the cut stream ends")
        .unwrap_or_default();
    let events = sse_events(&first_part);
    let received: Vec<u64> = log_numbers(&events);
    assert!(
        (received.len() as u32) < COUNT,
        "the connection was never cut: all {} events were buffered",
        received.len()
    );
    let last = events
        .iter()
        .rev()
        .find_map(|(id, _)| id.clone())
        .expect("events carry ids");
    let resumed = reqwest::Client::new()
        .get(&s.url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &s.id)
        .header("mcp-protocol-version", &s.version)
        .header("last-event-id", &last)
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.status(), 200);
    let rest = tokio::time::timeout(HANG, resumed.text())
        .await
        .expect("the replay ends")
        .unwrap();
    let rest_events = sse_events(&rest);
    let mut all = received;
    all.extend(log_numbers(&rest_events));
    let expected: Vec<u64> = (0..u64::from(COUNT)).collect();
    assert_eq!(all, expected, "every event once, in order");
    assert!(
        rest.contains("flooded"),
        "the result is delivered after the replay"
    );
}

/// The `n` of each log notification among `events`, in order.
fn log_numbers(events: &[(Option<String>, String)]) -> Vec<u64> {
    events
        .iter()
        .filter_map(|(_, d)| serde_json::from_str::<Value>(d).ok())
        .filter(|m| m["method"] == "notifications/message")
        .filter_map(|m| m["params"]["data"]["n"].as_u64())
        .collect()
}

// --- graceful shutdown -------------------------------------------------------------------

/// Graceful shutdown lets a request in flight finish, and closes the connections still open
/// after `shutdown_grace`: `serve_listener` returns within the bound even with a handler that
/// never ends.
#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests_within_the_grace_period() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let builder = McpServer::builder("drain").request_timeout(None);
    // Shutdown starts once the short handler runs (not after a guessed delay: on a loaded
    // machine the request could arrive after the listener closed).
    let started = Arc::new(tokio::sync::Notify::new());
    let signal = Arc::clone(&started);
    let server = asking_server(builder.tool(ToolDef::from_fn(
        "short",
        move |_: Context, NoArgs {}| {
            let signal = Arc::clone(&signal);
            async move {
                signal.notify_one();
                tokio::time::sleep(Duration::from_millis(500)).await;
                "finished in flight"
            }
        },
    )));
    let http = server.http(HttpConfig::default().shutdown_grace(Duration::from_secs(1)));
    let serving = tokio::spawn(http.serve_listener(listener, async move {
        let _ = rx.await;
    }));
    let url = format!("http://{addr}/mcp");
    let s = Session::open(&url, "2025-11-25", json!({})).await;
    let call = |name: &str| json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":name,"arguments":{}}});
    let short = {
        let s = s.clone();
        let body = call("short");
        tokio::spawn(async move { s.post(&body).await })
    };
    let hang = {
        let s = s.clone();
        let body = call("hang");
        tokio::spawn(async move { post_in(&s, "application/json", &body).await })
    };
    tokio::time::timeout(HANG, started.notified())
        .await
        .expect("the short handler starts");
    tokio::time::sleep(Duration::from_millis(50)).await;
    tx.send(()).unwrap();
    let finished = tokio::time::timeout(HANG, serving)
        .await
        .expect("serve_listener returns within the grace period");
    assert!(finished.unwrap().is_ok());
    let short = short.await.unwrap();
    assert_eq!(short.status, 200);
    assert!(short.body.contains("finished in flight"), "{}", short.body);
    // The hanging request's connection was closed: an error, not a hang.
    assert!(hang.await.unwrap().is_err());
    // Nothing listens any more.
    assert!(TcpStream::connect(addr).await.is_err());
}

// --- stdio -------------------------------------------------------------------------------

/// stdio has the same message bounds: a line over 16 MiB and a message nested deeper than 64
/// levels get `-32700` naming the bound, without the line being kept; the next line is served.
#[tokio::test]
async fn stdio_refuses_oversized_and_too_deep_lines_and_goes_on() {
    let (mut to_server, server_in) = tokio::io::duplex(1 << 16);
    let (server_out, from_server) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move { fixture().serve_io(server_in, server_out).await });
    let mut lines = BufReader::new(from_server).lines();
    let writer = tokio::spawn(async move {
        let chunk = vec![b' '; 1024 * 1024];
        for _ in 0..17 {
            to_server.write_all(&chunk).await.unwrap();
        }
        to_server.write_all(b"\n").await.unwrap();
        to_server.write_all(nested(65).as_bytes()).await.unwrap();
        to_server.write_all(b"\n").await.unwrap();
        let init = json!({"jsonrpc":"2.0","id":7,"method":"initialize","params":{
            "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}});
        to_server
            .write_all(format!("{init}\n").as_bytes())
            .await
            .unwrap();
        to_server
    });
    let mut next = async || -> Value {
        let line = tokio::time::timeout(HANG, lines.next_line())
            .await
            .expect("a line in time")
            .unwrap()
            .expect("the server is still there");
        serde_json::from_str(&line).unwrap()
    };
    let too_long = next().await;
    assert_eq!(too_long["error"]["code"], -32700, "{too_long}");
    assert!(
        too_long["error"]["message"]
            .as_str()
            .unwrap()
            .contains("16777216 bytes")
    );
    let too_deep = next().await;
    assert_eq!(too_deep["error"]["data"]["limit"], "max_json_depth");
    let init = next().await;
    assert_eq!(init["id"], 7);
    assert_eq!(init["result"]["protocolVersion"], "2025-11-25");
    drop(writer.await.unwrap());
}

/// stdio runs at most 256 requests at once: one more is refused with `-32603` naming the
/// limit, at once; a handler past `request_timeout` is answered with `-32603` too, and the
/// connection goes on.
#[tokio::test]
async fn stdio_bounds_requests_in_flight_and_handler_time() {
    let server = asking_server(
        McpServer::builder("stdio").request_timeout(Some(Duration::from_millis(1500))),
    );
    let (mut to_server, server_in) = tokio::io::duplex(1 << 20);
    let (server_out, from_server) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move { server.serve_io(server_in, server_out).await });
    let mut lines = BufReader::new(from_server).lines();
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}});
    let mut out = format!("{init}\n");
    for id in 1..=257 {
        let call = json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":"hang","arguments":{}}});
        out.push_str(&format!("{call}\n"));
    }
    to_server.write_all(out.as_bytes()).await.unwrap();
    let mut next = async || -> Value {
        let line = tokio::time::timeout(HANG, lines.next_line())
            .await
            .expect("a line in time")
            .unwrap()
            .expect("the server is still there");
        serde_json::from_str(&line).unwrap()
    };
    assert_eq!(next().await["id"], 0);
    let refused = next().await;
    assert_eq!(
        refused["id"], 257,
        "the one over the bound is refused first: {refused}"
    );
    assert_eq!(refused["error"]["code"], -32603);
    assert_eq!(refused["error"]["data"]["limit"], "max_requests_in_flight");
    // The 256 running ones end at the request timeout, each with the timeout error.
    for _ in 0..256 {
        let timed_out = next().await;
        assert_eq!(
            timed_out["error"]["data"]["limit"], "request_timeout",
            "{timed_out}"
        );
    }
    let ping = json!({"jsonrpc":"2.0","id":"p","method":"ping"});
    to_server
        .write_all(format!("{ping}\n").as_bytes())
        .await
        .unwrap();
    assert_eq!(next().await["id"], "p");
}
