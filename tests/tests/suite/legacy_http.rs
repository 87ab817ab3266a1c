//! Black-box tests of the legacy-era Streamable HTTP transport: a real server on 127.0.0.1:0,
//! raw HTTP requests, exact statuses, headers and JSON-RPC codes. Requirement ids refer to
//! `tests/spec/CHECKLIST.md`.

use std::sync::atomic::Ordering;
use std::time::Duration;

use mcp_server::HttpConfig;
use mcp_server::testing::{TestServer, spawn};
use mcp_tests::{
    JSON_AND_SSE, Session, fixture, fixture_counting_steps, post, send, sse_events, sse_messages,
};
use reqwest::Method;
use serde_json::{Value, json};

async fn server() -> TestServer {
    spawn(fixture()).await.expect("server starts")
}

fn result_text(messages: &[Value], id: i64) -> String {
    let m = messages
        .iter()
        .find(|m| m["id"] == id && m.get("result").is_some())
        .unwrap_or_else(|| panic!("no result for {id} in {messages:?}"));
    m["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// After a bad request, the same server still serves a good one on another session.
async fn still_serves(url: &str) {
    let s = Session::open(url, "2025-11-25", json!({})).await;
    assert_eq!(
        result_text(&s.call(99, "add", json!({"a": 20, "b": 22})).await, 99),
        "42"
    );
}

#[tokio::test]
async fn l11_initialize_echoes_a_supported_version_and_otherwise_offers_the_newest() {
    let srv = server().await;
    for (asked, got) in [
        ("2025-06-18", "2025-06-18"),
        ("2025-03-26", "2025-03-26"),
        ("2099-01-01", "2025-11-25"),
        ("2026-07-28", "2025-11-25"),
    ] {
        let s = Session::open(&srv.url(), asked, json!({})).await;
        assert_eq!(s.version, got, "asked {asked}");
    }
}

#[tokio::test]
async fn l10_initialize_result_and_t51_session_ids() {
    let srv = server().await;
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}});
    let r = post(&srv.url(), &[], &init.to_string()).await;
    assert_eq!(r.status, 200);
    let result = &r.json()["result"];
    assert_eq!(result["serverInfo"]["name"], "fixture");
    assert!(result["capabilities"]["tools"].is_object());
    let mut ids = std::collections::HashSet::new();
    for _ in 0..50 {
        let r = post(&srv.url(), &[], &init.to_string()).await;
        let id = r.header("mcp-session-id").unwrap().to_owned();
        assert!(id.bytes().all(|b| (0x21..=0x7e).contains(&b)));
        assert!(ids.insert(id));
    }
}

#[tokio::test]
async fn t07_invalid_json_is_a_parse_error_with_null_id() {
    let srv = server().await;
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let r = s.post_raw("{bad").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), -32700);
    assert_eq!(r.json()["id"], Value::Null);
    let r = post(&srv.url(), &[], "\u{1}\u{2}not json").await;
    assert_eq!((r.status, r.error_code()), (400, -32700));
    still_serves(&srv.url()).await;
}

#[tokio::test]
async fn l01_invalid_requests_are_minus_32600_and_keep_the_id() {
    let srv = server().await;
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let r = s
        .post_raw(r#"{"jsonrpc":"2.0","id":null,"method":"tools/list"}"#)
        .await;
    assert_eq!((r.status, r.error_code()), (400, -32600));
    let r = s
        .post_raw(r#"{"jsonrpc":"1.0","id":7,"method":"tools/list"}"#)
        .await;
    assert_eq!((r.status, r.error_code()), (400, -32600));
    assert_eq!(r.json()["id"], 7, "T-43: the id is kept when readable");
    let r = s
        .post_raw(r#"{"jsonrpc":"2.0","method":"notifications/nonsense","params":5}"#)
        .await;
    assert_eq!((r.status, r.error_code()), (400, -32600), "T-14");
    let r = s.post_raw("42").await;
    assert_eq!((r.status, r.error_code()), (400, -32600));
    still_serves(&srv.url()).await;
}

#[tokio::test]
async fn unknown_methods_and_invalid_params() {
    let srv = server().await;
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let r = s
        .post(&json!({"jsonrpc":"2.0","id":3,"method":"no/such"}))
        .await;
    assert_eq!(
        (r.status, r.error_code()),
        (200, -32601),
        "T-16: legacy errors use 200"
    );
    assert_eq!(r.json()["id"], 3);
    let r = s
        .post(&json!({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"arguments":{}}}))
        .await;
    assert_eq!((r.status, r.error_code()), (200, -32602));
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("name")
    );
    let r = s
        .post(&json!({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"nope"}}))
        .await;
    assert_eq!(r.error_code(), -32602, "TL-08: unknown tool");
    let r = s
        .post(
            &json!({"jsonrpc":"2.0","id":6,"method":"logging/setLevel","params":{"level":"bogus"}}),
        )
        .await;
    assert_eq!(r.error_code(), -32602, "L-61");
    let r = s
        .post(
            &json!({"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"cursor":"!!bogus!!"}}),
        )
        .await;
    assert_eq!(r.error_code(), -32602, "L-55");
    let r = s
        .post(&json!({"jsonrpc":"2.0","id":8,"method":"prompts/get","params":{"name":"nope"}}))
        .await;
    assert_eq!(r.error_code(), -32602, "R-04");
    let r = s.post(&json!({"jsonrpc":"2.0","id":9,"method":"resources/read","params":{"uri":"file:///does/not/exist"}})).await;
    assert_eq!(r.error_code(), -32002, "R-02 legacy");
    still_serves(&srv.url()).await;
}

#[tokio::test]
async fn tl08_bad_arguments_are_tool_errors_naming_the_field() {
    let srv = server().await;
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    for (args, needle) in [
        (json!({"a": "x", "b": 1}), "`a`"),
        (json!({"a": 1}), "missing field `b`"),
    ] {
        let m = s.call(1, "add", args).await;
        assert_eq!(m[0]["result"]["isError"], true);
        let text = m[0]["result"]["content"][0]["text"].as_str().unwrap();
        assert!(text.contains(needle), "{text}");
    }
}

#[tokio::test]
async fn a_panicking_tool_is_an_error_result_and_the_server_keeps_serving() {
    let srv = server().await;
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let m = s.call(1, "boom", json!({})).await;
    assert_eq!(m[0]["result"]["isError"], true);
    assert_eq!(
        result_text(&s.call(2, "add", json!({"a": 1, "b": 2})).await, 2),
        "3"
    );
    still_serves(&srv.url()).await;
}

#[tokio::test]
async fn t10_t11_accept_and_content_type() {
    let srv = server().await;
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    let h = |accept, ctype| {
        vec![
            ("accept", accept),
            ("content-type", ctype),
            ("mcp-session-id", s.id.as_str()),
        ]
    };
    let r = send(
        Method::POST,
        &srv.url(),
        &h("text/html", "application/json"),
        Some(body),
    )
    .await;
    assert_eq!((r.status, r.error_code()), (406, -32000));
    let r = send(
        Method::POST,
        &srv.url(),
        &h(JSON_AND_SSE, "text/plain"),
        Some(body),
    )
    .await;
    assert_eq!(r.status, 415);
    let r = send(
        Method::POST,
        &srv.url(),
        &h("text/event-stream", "application/json"),
        Some(body),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/event-stream"),
        "T-15: only SSE accepted"
    );
    assert_eq!(r.header("x-accel-buffering"), Some("no"), "T-23");
    assert!(sse_messages(&r.body)[0]["result"]["tools"].is_array());
    still_serves(&srv.url()).await;
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let srv = spawn(fixture().http(HttpConfig::default().max_body_bytes(1024)))
        .await
        .unwrap();
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let big = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x".repeat(4096)}}});
    let r = s.post(&big).await;
    assert_eq!(r.status, 413);
    still_serves(&srv.url()).await;
}

#[tokio::test]
async fn t03_t04_host_and_origin_are_checked() {
    let srv = server().await;
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;
    let r = post(
        &srv.url(),
        &[
            ("host", "evil.example.com"),
            ("origin", "http://evil.example.com"),
        ],
        init,
    )
    .await;
    assert_eq!(r.status, 403);
    let r = post(&srv.url(), &[("origin", "https://evil.example")], init).await;
    assert_eq!(r.status, 403);
    let host = srv.addr().to_string();
    let origin = format!("http://{host}");
    let r = post(&srv.url(), &[("host", &host), ("origin", &origin)], init).await;
    assert_eq!(r.status, 200);
    let port = srv.addr().port().to_string();
    let localhost = format!("localhost:{port}");
    let r = post(&srv.url(), &[("host", &localhost)], init).await;
    assert_eq!(r.status, 200);
    let r = send(
        Method::GET,
        &srv.url(),
        &[
            ("host", "evil.example.com"),
            ("accept", "text/event-stream"),
        ],
        None,
    )
    .await;
    assert_eq!(r.status, 403, "every method is guarded");
}

#[tokio::test]
async fn t52_t53_t54_session_rules() {
    let srv = server().await;
    let list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    let r = post(&srv.url(), &[], list).await;
    assert_eq!(r.status, 400, "T-52: session required");
    let r = post(&srv.url(), &[("mcp-session-id", "does-not-exist")], list).await;
    assert_eq!(r.status, 404, "T-53: unknown session");
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    assert_eq!(s.post_raw(list).await.status, 200);
    let r = send(
        Method::DELETE,
        &srv.url(),
        &[
            ("mcp-session-id", &s.id),
            ("mcp-protocol-version", "2025-11-25"),
        ],
        None,
    )
    .await;
    assert_eq!(r.status, 200, "T-54");
    assert_eq!(s.post_raw(list).await.status, 404, "T-53: ended session");
    let r = send(
        Method::DELETE,
        &srv.url(),
        &[("mcp-session-id", &s.id)],
        None,
    )
    .await;
    assert_eq!(r.status, 404);
    still_serves(&srv.url()).await;
}

#[tokio::test]
async fn idle_sessions_expire_and_the_live_session_count_is_bounded() {
    let config = HttpConfig::default()
        .session_idle_timeout(Duration::from_millis(200))
        .max_sessions(3);
    let srv = spawn(fixture().http(config)).await.unwrap();
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        s.post_raw(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
            .await
            .status,
        404
    );
    // The bound, on a server whose sessions outlive a slow machine.
    let srv = spawn(fixture().http(HttpConfig::default().max_sessions(3)))
        .await
        .unwrap();
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;
    for _ in 0..3 {
        assert_eq!(post(&srv.url(), &[], init).await.status, 200);
    }
    let r = post(&srv.url(), &[], init).await;
    assert_eq!(r.status, 503);
    assert!(r.header("retry-after").is_some());
}

#[tokio::test]
async fn t61_protocol_version_header() {
    let srv = server().await;
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    let r = post(
        &srv.url(),
        &[
            ("mcp-session-id", &s.id),
            ("mcp-protocol-version", "1999-01-01"),
        ],
        list,
    )
    .await;
    assert_eq!(r.status, 400);
    // Any supported version is accepted within a session (what the conformance suite sends).
    let r = post(
        &srv.url(),
        &[
            ("mcp-session-id", &s.id),
            ("mcp-protocol-version", "2025-03-26"),
        ],
        list,
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn t90_t92_batches_only_in_2025_03_26() {
    let srv = server().await;
    let batch = json!([
        {"jsonrpc":"2.0","id":2,"method":"tools/list"},
        {"jsonrpc":"2.0","id":3,"method":"prompts/list"},
        {"jsonrpc":"2.0","method":"notifications/initialized"}
    ]);
    let old = Session::open(&srv.url(), "2025-03-26", json!({})).await;
    let r = old.post(&batch).await;
    assert_eq!(r.status, 200);
    let replies = r.json();
    let ids: Vec<_> = replies
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].clone())
        .collect();
    assert_eq!(ids, [json!(2), json!(3)]);
    let notes = json!([{"jsonrpc":"2.0","method":"notifications/initialized"}]);
    assert_eq!(
        old.post(&notes).await.status,
        202,
        "only notifications → 202"
    );
    let init_in_batch = json!([{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}]);
    assert_eq!(old.post(&init_in_batch).await.error_code(), -32600, "T-91");

    let new = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let r = new.post(&batch).await;
    assert_eq!((r.status, r.error_code()), (400, -32600), "T-92");
}

#[tokio::test]
async fn t13_notifications_and_responses_get_202_with_an_empty_body() {
    let srv = server().await;
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let r = s
        .post(&json!({"jsonrpc":"2.0","method":"notifications/roots/list_changed"}))
        .await;
    assert_eq!((r.status, r.body.as_str()), (202, ""));
    let r = s
        .post(&json!({"jsonrpc":"2.0","id":"srv-unknown","result":{}}))
        .await;
    assert_eq!((r.status, r.body.as_str()), (202, ""));
}

#[tokio::test]
async fn l50_progress_and_logging_arrive_on_sse_before_the_result() {
    let srv = server().await;
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let r = s
        .post(&json!({"jsonrpc":"2.0","id":"p","method":"tools/call","params":{"name":"progress","arguments":{"steps":3},"_meta":{"progressToken":"tok-1"}}}))
        .await;
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    let events = sse_events(&r.body);
    assert!(
        events[0].0.is_some() && events[0].1.is_empty(),
        "T-82: priming event first"
    );
    let m = sse_messages(&r.body);
    let progress: Vec<_> = m
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .collect();
    assert_eq!(progress.len(), 3);
    assert!(
        progress
            .iter()
            .all(|p| p["params"]["progressToken"] == "tok-1")
    );
    assert_eq!(progress[2]["params"]["progress"], 3.0);
    assert_eq!(
        m.iter()
            .filter(|m| m["method"] == "notifications/message")
            .count(),
        3
    );
    assert_eq!(m.last().unwrap()["id"], "p", "the result comes last (T-22)");
    // L-61: a level above info silences the info messages.
    s.post(
        &json!({"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{"level":"warning"}}),
    )
    .await;
    let m = s.call(2, "progress", json!({"steps": 2})).await;
    assert_eq!(
        m.iter()
            .filter(|m| m["method"] == "notifications/message")
            .count(),
        0
    );
    assert_eq!(result_text(&m, 2), "done");
}

#[tokio::test]
async fn t80_event_ids_are_unique_across_streams() {
    let srv = server().await;
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let call = |id: i64| {
        let s = s.clone();
        async move {
            s.post(&json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":"progress","arguments":{"steps":2},"_meta":{"progressToken":id}}}))
                .await
        }
    };
    let (a, b) = tokio::join!(call(1), call(2));
    let ids: Vec<_> = sse_events(&a.body)
        .into_iter()
        .chain(sse_events(&b.body))
        .filter_map(|(id, _)| id)
        .collect();
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert!(ids.len() >= 8);
    assert_eq!(unique.len(), ids.len());
}

#[tokio::test]
async fn l40_cancelled_requests_stop_and_get_no_response() {
    let (server, slow_steps) = fixture_counting_steps();
    let srv = spawn(server).await.expect("server starts");
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let before = slow_steps.load(Ordering::SeqCst);
    let call = {
        let s = s.clone();
        tokio::spawn(async move {
            s.post(&json!({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"slow","arguments":{"steps":100},"_meta":{"progressToken":5}}}))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    let r = s.post(&json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5,"reason":"test"}})).await;
    assert_eq!(r.status, 202);
    let r = call.await.unwrap();
    let m = sse_messages(&r.body);
    assert!(
        m.iter()
            .all(|m| m.get("result").is_none() && m.get("error").is_none()),
        "{m:?}"
    );
    let steps = slow_steps.load(Ordering::SeqCst) - before;
    assert!(steps < 100, "the tool stopped early ({steps} steps)");
    // Malformed cancellations are ignored (L-40).
    let r = s.post(&json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":{"x":1}}})).await;
    assert_eq!(r.status, 202);
}

#[tokio::test]
async fn l78_elicitation_round_trip_over_sse_and_a_separate_post() {
    let srv = server().await;
    let s = Session::open(&srv.url(), "2025-11-25", json!({"elicitation": {}})).await;
    let url = srv.url();
    let (sid, version) = (s.id.clone(), s.version.clone());
    // Read the SSE answer incrementally: the elicitation request arrives before the result.
    let client = reqwest::Client::new();
    let mut resp = client
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", JSON_AND_SSE)
        .header("mcp-session-id", &sid)
        .header("mcp-protocol-version", &version)
        .body(json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ask","arguments":{}}}).to_string())
        .send()
        .await
        .unwrap();
    let mut body = String::new();
    let request = loop {
        let chunk = resp.chunk().await.unwrap().expect("the stream stays open");
        body.push_str(std::str::from_utf8(&chunk).unwrap());
        if let Some(req) = sse_messages(&body)
            .into_iter()
            .find(|m| m["method"] == "elicitation/create")
        {
            break req;
        }
    };
    assert_eq!(request["params"]["message"], "Your name?");
    let answer = json!({"jsonrpc":"2.0","id":request["id"],"result":{"action":"accept","content":{"name":"Ada"}}});
    let r = s.post(&answer).await;
    assert_eq!(r.status, 202);
    while let Some(chunk) = resp.chunk().await.unwrap() {
        body.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert_eq!(result_text(&sse_messages(&body), 1), "hello Ada");

    // L-13: a client without the capability never gets the request.
    let plain = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let m = plain.call(2, "ask", json!({})).await;
    assert_eq!(m.len(), 1);
    assert_eq!(m[0]["result"]["isError"], true);
}

#[tokio::test]
async fn t81_t83_a_stream_closed_early_resumes_with_last_event_id() {
    let srv = server().await;
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let r = s.post(&json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"reconnect","arguments":{}}})).await;
    let events = sse_events(&r.body);
    assert!(
        r.body.contains("retry:"),
        "T-83: retry before closing: {:?}",
        r.body
    );
    assert!(sse_messages(&r.body).is_empty(), "closed before the result");
    let last = events
        .iter()
        .rev()
        .find_map(|(id, _)| id.clone())
        .expect("an event id");
    tokio::time::sleep(Duration::from_millis(250)).await;
    let r = send(
        Method::GET,
        &srv.url(),
        &[
            ("accept", "text/event-stream"),
            ("mcp-session-id", &s.id),
            ("mcp-protocol-version", "2025-11-25"),
            ("last-event-id", &last),
        ],
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(result_text(&sse_messages(&r.body), 1), "after reconnect");
}

#[tokio::test]
async fn t70_get_stream_rules() {
    let srv = server().await;
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let r = send(
        Method::GET,
        &srv.url(),
        &[("accept", "application/json"), ("mcp-session-id", &s.id)],
        None,
    )
    .await;
    assert_eq!(r.status, 406, "T-71");
    let r = send(
        Method::GET,
        &srv.url(),
        &[("accept", "text/event-stream")],
        None,
    )
    .await;
    assert_eq!(r.status, 405, "no session: nothing to stream (T-41)");
    assert_eq!(r.header("allow"), Some("POST"));
    let stateless = spawn(fixture().http(HttpConfig::default().stateless()))
        .await
        .unwrap();
    let r = send(
        Method::GET,
        &stateless.url(),
        &[("accept", "text/event-stream")],
        None,
    )
    .await;
    assert_eq!(r.status, 405);
    // A stateless endpoint never streams: only POST.
    assert_eq!(r.header("allow"), Some("POST"));
    let r = send(Method::PATCH, &stateless.url(), &[], Some("{}")).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, POST, DELETE"));
}

#[tokio::test]
async fn t72_list_changes_arrive_on_the_get_stream() {
    let server = fixture();
    let handle = server.clone();
    let srv = spawn(server).await.unwrap();
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let mut resp = reqwest::Client::new()
        .get(srv.url())
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &s.id)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // A second GET stream on the same session is refused while the first is open.
    let url = srv.url();
    let headers = [
        ("accept", "text/event-stream"),
        ("mcp-session-id", s.id.as_str()),
    ];
    let second = send(Method::GET, &url, &headers, None);
    let second = tokio::time::timeout(Duration::from_secs(2), second)
        .await
        .expect("answered at once");
    assert_eq!(second.status, 409);
    handle.remove_tool("echo");
    let chunk = tokio::time::timeout(Duration::from_secs(2), resp.chunk())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let m = sse_messages(std::str::from_utf8(&chunk).unwrap());
    assert_eq!(m[0]["method"], "notifications/tools/list_changed");
    assert!(m[0].get("result").is_none());
}

#[tokio::test]
async fn stateless_mode_serves_without_sessions() {
    let srv = spawn(fixture().http(HttpConfig::default().stateless()))
        .await
        .unwrap();
    let r = post(&srv.url(), &[], r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":1}}}"#).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(result_text(&r.messages(), 1), "2");
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;
    assert!(
        post(&srv.url(), &[], init)
            .await
            .header("mcp-session-id")
            .is_none()
    );
    // T-60: no header, no session → 2025-03-26, where batches are allowed.
    let batch =
        r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]"#;
    let r = post(&srv.url(), &[], batch).await;
    assert_eq!(r.json().as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn l55_pagination_follows_next_cursor_without_duplicates() {
    let mut builder = mcp_server::McpServer::builder("many").page_size(3);
    for i in 0..8 {
        builder = builder.tool(mcp_server::ToolDef::from_fn(
            format!("t{i}"),
            |_: mcp_server::Context, _: mcp_server::NoArgs| async { "x" },
        ));
    }
    let srv = spawn(builder.build().unwrap()).await.unwrap();
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let params = cursor.as_ref().map_or(json!({}), |c| json!({"cursor": c}));
        let r = s
            .post(&json!({"jsonrpc":"2.0","id":1,"method":"tools/list","params":params}))
            .await
            .json();
        for t in r["result"]["tools"].as_array().unwrap() {
            names.push(t["name"].as_str().unwrap().to_owned());
        }
        match r["result"]["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(names, (0..8).map(|i| format!("t{i}")).collect::<Vec<_>>());
}

#[tokio::test]
async fn t81_an_unknown_last_event_id_is_400_not_a_silent_new_stream() {
    let srv = server().await;
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let r = send(
        Method::GET,
        &srv.url(),
        &[
            ("accept", "text/event-stream"),
            ("mcp-session-id", &s.id),
            ("last-event-id", "9.999"),
        ],
        None,
    )
    .await;
    assert_eq!(r.status, 400);
}
