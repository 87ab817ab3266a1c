//! Black-box tests of the 2026-07-28 wire on the same endpoint as the legacy era: stateless
//! requests, required headers, typed errors with their HTTP statuses (VERSIONS §4), caching
//! fields, MRTR and subscriptions. Requirement ids refer to `tests/spec/CHECKLIST.md`.

use std::time::Duration;

use mcp_server::testing::{TestServer, spawn};
use mcp_tests::{JSON_AND_SSE, RawResponse, Session, fixture, send, sse_messages};
use reqwest::Method;
use serde_json::{Value, json};

const V: &str = "2026-07-28";

async fn server() -> TestServer {
    spawn(fixture()).await.expect("server starts")
}

fn meta(caps: Value) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": V,
        "io.modelcontextprotocol/clientCapabilities": caps,
        "io.modelcontextprotocol/clientInfo": {"name": "tests", "version": "0"},
    })
}

/// A modern request with the standard headers; `name` goes into `Mcp-Name`.
async fn mreq(
    url: &str,
    method: &str,
    mut params: Value,
    name: Option<&str>,
    extra: &[(&str, &str)],
) -> RawResponse {
    if params.get("_meta").is_none() {
        params["_meta"] = meta(json!({}));
    }
    let body = json!({"jsonrpc":"2.0","id":1,"method":method,"params":params}).to_string();
    let mut headers = vec![
        ("content-type", "application/json"),
        ("accept", JSON_AND_SSE),
        ("mcp-protocol-version", V),
        ("mcp-method", method),
    ];
    if let Some(n) = name {
        headers.push(("mcp-name", n));
    }
    headers.extend_from_slice(extra);
    send(Method::POST, url, &headers, Some(&body)).await
}

fn result_of(r: &RawResponse) -> Value {
    r.messages()
        .into_iter()
        .find(|m| m.get("result").is_some() || m.get("error").is_some())
        .unwrap_or_else(|| panic!("no response in {}", r.body))
}

#[tokio::test]
async fn l20_discover_and_every_result_carries_result_type_and_server_info() {
    let srv = server().await;
    let r = mreq(&srv.url(), "server/discover", json!({}), None, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let res = &result_of(&r)["result"];
    assert!(
        res["supportedVersions"]
            .as_array()
            .unwrap()
            .contains(&json!(V))
    );
    assert!(
        res["supportedVersions"]
            .as_array()
            .unwrap()
            .contains(&json!("2025-11-25"))
    );
    assert_eq!(res["resultType"], "complete");
    assert!(res["ttlMs"].as_u64().is_some());
    assert_eq!(res["cacheScope"], "public");
    assert_eq!(
        res["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "fixture",
        "L-05"
    );
    // Each key once: the typed result parses (serde refuses duplicate fields).
    let typed: Result<mcp_server::types::DiscoverResult, _> =
        serde_json::from_str(&res.to_string());
    assert!(typed.is_ok());
    let raw = r.body.clone();
    assert_eq!(raw.matches("\"resultType\"").count(), 1, "{raw}");

    let r = mreq(
        &srv.url(),
        "tools/call",
        json!({"name":"add","arguments":{"a":2,"b":3}}),
        Some("add"),
        &[],
    )
    .await;
    let res = &result_of(&r)["result"];
    assert_eq!(res["resultType"], "complete", "L-02");
    assert_eq!(res["content"][0]["text"], "5");
    assert!(res.get("ttlMs").is_none(), "tools/call is not cacheable");
    assert_eq!(
        res["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "fixture"
    );
}

#[tokio::test]
async fn l70_lists_and_reads_carry_cache_hints_in_a_stable_order() {
    let srv = server().await;
    let mut names = Vec::new();
    for method in [
        "tools/list",
        "prompts/list",
        "resources/list",
        "resources/templates/list",
    ] {
        let r = mreq(&srv.url(), method, json!({}), None, &[]).await;
        let res = &result_of(&r)["result"];
        assert_eq!(r.status, 200, "{method}: {}", r.body);
        assert_eq!(res["resultType"], "complete", "{method}");
        assert!(res["ttlMs"].as_u64().is_some(), "{method}");
        assert_eq!(res["cacheScope"], "public", "{method}");
        if method == "tools/list" {
            names.push(res["tools"].clone());
        }
    }
    let again = mreq(&srv.url(), "tools/list", json!({}), None, &[]).await;
    assert_eq!(
        result_of(&again)["result"]["tools"],
        names[0],
        "TL-02: same order"
    );
}

#[tokio::test]
async fn t30_t33_header_mismatches_are_400_minus_32020() {
    let srv = server().await;
    let url = srv.url();
    // Mcp-Method disagrees with the body.
    let r = mreq(&url, "tools/list", json!({}), None, &[]).await;
    assert_eq!(r.status, 200);
    let body =
        json!({"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"_meta":meta(json!({}))}})
            .to_string();
    let base = [
        ("content-type", "application/json"),
        ("accept", JSON_AND_SSE),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut h = base.to_vec();
        h.extend_from_slice(extra);
        h
    };
    for headers in [
        with(&[("mcp-protocol-version", V), ("mcp-method", "prompts/list")]),
        with(&[("mcp-protocol-version", V)]),
        with(&[("mcp-protocol-version", V), ("mcp-method", "TOOLS/LIST")]),
        with(&[("mcp-method", "tools/list")]),
        with(&[
            ("mcp-protocol-version", "2025-11-25"),
            ("mcp-method", "tools/list"),
        ]),
    ] {
        let r = send(Method::POST, &url, &headers, Some(&body)).await;
        assert_eq!(
            (r.status, r.error_code()),
            (400, -32020),
            "{headers:?}: {}",
            r.body
        );
        assert_eq!(r.json()["id"], 7, "T-43");
    }
    // T-37: header names are case-insensitive.
    let r = send(
        Method::POST,
        &url,
        &with(&[("MCP-PROTOCOL-VERSION", V), ("MCP-METHOD", "tools/list")]),
        Some(&body),
    )
    .await;
    assert_eq!(r.status, 200);
    // T-33: Mcp-Name is required on tools/call and must match.
    let call = json!({"name":"echo","arguments":{"text":"hi"}});
    let r = mreq(&url, "tools/call", call.clone(), None, &[]).await;
    assert_eq!((r.status, r.error_code()), (400, -32020));
    let r = mreq(&url, "tools/call", call.clone(), Some("other"), &[]).await;
    assert_eq!((r.status, r.error_code()), (400, -32020));
    let r = mreq(&url, "tools/call", call.clone(), Some("  echo  "), &[]).await;
    assert_eq!(r.status, 200, "optional whitespace is trimmed");
    // T-34: the base64 form.
    let r = mreq(&url, "tools/call", call, Some("=?base64?ZWNobw==?="), &[]).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn t31_t38_versions_and_meta() {
    let srv = server().await;
    let url = srv.url();
    // T-38: missing _meta fields → 400 -32602.
    for m in [
        json!(null),
        json!({"io.modelcontextprotocol/protocolVersion": V}),
        json!({"io.modelcontextprotocol/clientCapabilities": {}}),
    ] {
        let params = if m.is_null() {
            json!({})
        } else {
            json!({"_meta": m})
        };
        let body = json!({"jsonrpc":"2.0","id":101,"method":"server/discover","params":params})
            .to_string();
        let r = send(
            Method::POST,
            &url,
            &[
                ("content-type", "application/json"),
                ("accept", JSON_AND_SSE),
                ("mcp-protocol-version", V),
                ("mcp-method", "server/discover"),
            ],
            Some(&body),
        )
        .await;
        assert_eq!((r.status, r.error_code()), (400, -32602), "{}", r.body);
        assert_eq!(r.json()["id"], 101);
    }
    // T-31: an unsupported version → 400 -32022 with data.
    let mut m = meta(json!({}));
    m["io.modelcontextprotocol/protocolVersion"] = json!("v999.0.0");
    let body =
        json!({"jsonrpc":"2.0","id":3,"method":"server/discover","params":{"_meta":m}}).to_string();
    let r = send(
        Method::POST,
        &url,
        &[
            ("content-type", "application/json"),
            ("accept", JSON_AND_SSE),
            ("mcp-protocol-version", "v999.0.0"),
            ("mcp-method", "server/discover"),
        ],
        Some(&body),
    )
    .await;
    assert_eq!((r.status, r.error_code()), (400, -32022), "{}", r.body);
    let data = &r.json()["error"]["data"];
    assert_eq!(data["requested"], "v999.0.0");
    assert!(data["supported"].as_array().unwrap().contains(&json!(V)));
    // Header says 2026-07-28, _meta says v999: a mismatch first (-32020).
    let r = send(
        Method::POST,
        &url,
        &[
            ("content-type", "application/json"),
            ("accept", JSON_AND_SSE),
            ("mcp-protocol-version", V),
            ("mcp-method", "server/discover"),
        ],
        Some(&body),
    )
    .await;
    assert_eq!((r.status, r.error_code()), (400, -32020));
    // An unknown log level → -32602.
    let mut m = meta(json!({}));
    m["io.modelcontextprotocol/logLevel"] = json!("loud");
    let r = mreq(&url, "tools/list", json!({"_meta": m}), None, &[]).await;
    assert_eq!((r.status, r.error_code()), (400, -32602));
}

#[tokio::test]
async fn t32_removed_and_unknown_methods_are_404_minus_32601() {
    let srv = server().await;
    for method in [
        "initialize",
        "ping",
        "logging/setLevel",
        "resources/subscribe",
        "resources/unsubscribe",
        "unknown/method",
    ] {
        // `initialize` in modern form is a removed method; a legacy client's plain
        // `initialize` still opens a session (t95).
        let r = mreq(&srv.url(), method, json!({}), None, &[]).await;
        assert_eq!(
            (r.status, r.error_code()),
            (404, -32601),
            "{method}: {}",
            r.body
        );
        assert_eq!(r.json()["id"], 1);
    }
}

#[tokio::test]
async fn t41_get_and_delete_without_a_session_are_405() {
    let srv = server().await;
    let r = send(
        Method::GET,
        &srv.url(),
        &[("accept", "text/event-stream")],
        None,
    )
    .await;
    assert_eq!(r.status, 405);
    // Without a session only POST applies to the endpoint.
    assert_eq!(r.header("allow"), Some("POST"));
    let r = send(Method::DELETE, &srv.url(), &[], None).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST"));
    // A method the endpoint never serves: the 405 names every method it does.
    let r = send(Method::PUT, &srv.url(), &[], Some("{}")).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, POST, DELETE"));
}

#[tokio::test]
async fn t95_both_eras_on_one_endpoint() {
    let srv = server().await;
    let legacy = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    assert_eq!(
        legacy.call(1, "add", json!({"a": 1, "b": 2})).await[0]["result"]["content"][0]["text"],
        "3"
    );
    let r = mreq(
        &srv.url(),
        "tools/call",
        json!({"name":"add","arguments":{"a":1,"b":2}}),
        Some("add"),
        &[("mcp-session-id", &legacy.id)],
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("mcp-session-id").is_none(),
        "T-41: never echo a session id"
    );
    assert_eq!(result_of(&r)["result"]["resultType"], "complete");
}

#[tokio::test]
async fn l62_progress_goes_on_sse_and_logs_only_with_a_log_level() {
    let srv = server().await;
    let params = json!({"name":"progress","arguments":{"steps":3},"_meta":{"progressToken":"p1"}});
    let mut p = params.clone();
    let mut m = meta(json!({}));
    m["progressToken"] = json!("p1");
    p["_meta"] = m.clone();
    let r = mreq(&srv.url(), "tools/call", p.clone(), Some("progress"), &[]).await;
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    assert!(
        !r.body.contains("id:"),
        "T-26: no event ids on the modern wire"
    );
    let msgs = sse_messages(&r.body);
    assert_eq!(
        msgs.iter()
            .filter(|m| m["method"] == "notifications/progress")
            .count(),
        3
    );
    assert_eq!(
        msgs.iter()
            .filter(|m| m["method"] == "notifications/message")
            .count(),
        0,
        "L-62"
    );
    m["io.modelcontextprotocol/logLevel"] = json!("debug");
    p["_meta"] = m;
    let r = mreq(&srv.url(), "tools/call", p, Some("progress"), &[]).await;
    let msgs = sse_messages(&r.body);
    assert_eq!(
        msgs.iter()
            .filter(|m| m["method"] == "notifications/message")
            .count(),
        3
    );
    assert_eq!(msgs.last().unwrap()["result"]["resultType"], "complete");
}

#[tokio::test]
async fn l75_elicitation_becomes_input_required_and_resumes_with_the_answer() {
    let srv = server().await;
    let caps = json!({"elicitation": {}});
    let first = mreq(
        &srv.url(),
        "tools/call",
        json!({"name":"ask","arguments":{},"_meta":meta(caps.clone())}),
        Some("ask"),
        &[],
    )
    .await;
    assert!(
        !first
            .body
            .contains("\"method\":\"elicitation/create\",\"id\""),
        "T-21: no requests on the stream"
    );
    let res = result_of(&first)["result"].clone();
    assert_eq!(res["resultType"], "input_required", "{res}");
    let (key, request) = res["inputRequests"]
        .as_object()
        .unwrap()
        .iter()
        .next()
        .map(|(k, v)| (k.clone(), v.clone()))
        .unwrap();
    assert_eq!(request["method"], "elicitation/create");
    let state = res["requestState"].as_str().unwrap().to_owned();
    let answer = json!({key.clone(): {"action":"accept","content":{"name":"Ada"}}});
    let retry = json!({"name":"ask","arguments":{},"inputResponses":answer,"requestState":state,"_meta":meta(caps.clone())});
    let r = mreq(&srv.url(), "tools/call", retry.clone(), Some("ask"), &[]).await;
    let res = &result_of(&r)["result"];
    assert_eq!(res["resultType"], "complete");
    assert_eq!(res["content"][0]["text"], "hello Ada");

    // L-76: a tampered state is an invalid-params error (-32602) naming the state, never a
    // success.
    let mut tampered = retry.clone();
    tampered["requestState"] = json!(format!("{state}-TAMPERED"));
    let r = mreq(&srv.url(), "tools/call", tampered, Some("ask"), &[]).await;
    let answer = result_of(&r);
    assert!(answer.get("result").is_none(), "{}", r.body);
    assert_eq!(answer["error"]["code"], -32602, "{}", r.body);
    assert_eq!(
        answer["error"]["message"], "Invalid requestState: requestState failed its integrity check",
        "{}",
        r.body
    );
    // The state is bound to the request: another tool's call cannot use it.
    let mut other = retry;
    other["name"] = json!("echo");
    other["arguments"] = json!({"text": "x"});
    let r = mreq(&srv.url(), "tools/call", other, Some("echo"), &[]).await;
    let answer = result_of(&r);
    assert!(answer.get("result").is_none(), "{}", r.body);
    assert_eq!(answer["error"]["code"], -32602, "{}", r.body);
    assert_eq!(
        answer["error"]["message"], "Invalid requestState: requestState belongs to another request",
        "{}",
        r.body
    );
}

#[tokio::test]
async fn t39_a_missing_client_capability_is_400_minus_32021() {
    let srv = server().await;
    let r = mreq(
        &srv.url(),
        "tools/call",
        json!({"name":"ask","arguments":{}}),
        Some("ask"),
        &[],
    )
    .await;
    assert_eq!((r.status, r.error_code()), (400, -32021), "{}", r.body);
    assert!(r.json()["error"]["data"]["requiredCapabilities"]["elicitation"].is_object());
}

#[tokio::test]
async fn l80_subscriptions_listen_acknowledges_then_streams_changes() {
    let server = fixture();
    let handle = server.clone();
    let srv = spawn(server).await.unwrap();
    let body = json!({"jsonrpc":"2.0","id":42,"method":"subscriptions/listen","params":{"notifications":{"toolsListChanged":true},"_meta":meta(json!({}))}}).to_string();
    let mut resp = reqwest::Client::new()
        .post(srv.url())
        .header("content-type", "application/json")
        .header("accept", JSON_AND_SSE)
        .header("mcp-protocol-version", V)
        .header("mcp-method", "subscriptions/listen")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut text = String::new();
    while sse_messages(&text).is_empty() {
        let chunk = tokio::time::timeout(Duration::from_secs(2), resp.chunk())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    let ack = &sse_messages(&text)[0];
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert_eq!(
        ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        42
    );
    assert_eq!(ack["params"]["notifications"]["toolsListChanged"], true);
    handle.remove_tool("echo");
    handle.notify_resource_updated("test://not-subscribed");
    let chunk = tokio::time::timeout(Duration::from_secs(2), resp.chunk())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let m = sse_messages(std::str::from_utf8(&chunk).unwrap());
    assert_eq!(m[0]["method"], "notifications/tools/list_changed");
    assert_eq!(
        m[0]["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        42
    );
}

#[tokio::test]
async fn r02_a_missing_resource_is_minus_32602_on_the_modern_wire() {
    let srv = server().await;
    let uri = "test://nonexistent-resource-for-conformance-testing";
    let r = mreq(
        &srv.url(),
        "resources/read",
        json!({"uri": uri}),
        Some(uri),
        &[],
    )
    .await;
    assert_eq!(r.error_code(), -32602);
    assert_eq!(r.json()["error"]["data"]["uri"], uri);
}

#[tokio::test]
async fn t12_batches_and_responses_are_refused_on_the_modern_wire() {
    let srv = server().await;
    let m = meta(json!({}));
    let batch =
        json!([{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":m}}]).to_string();
    let headers = [
        ("content-type", "application/json"),
        ("accept", JSON_AND_SSE),
        ("mcp-protocol-version", V),
        ("mcp-method", "tools/list"),
    ];
    let r = send(Method::POST, &srv.url(), &headers, Some(&batch)).await;
    assert_eq!((r.status, r.error_code()), (400, -32600));
}

#[tokio::test]
async fn l75_a_prompt_asks_with_the_question_mark_operator() {
    let srv = server().await;
    let caps = json!({"elicitation": {}});
    let r = mreq(
        &srv.url(),
        "prompts/get",
        json!({"name":"ask_prompt","_meta":meta(caps.clone())}),
        Some("ask_prompt"),
        &[],
    )
    .await;
    let res = result_of(&r)["result"].clone();
    assert_eq!(res["resultType"], "input_required", "{res}");
    assert_eq!(
        res["inputRequests"]["topic"]["method"],
        "elicitation/create"
    );
    let retry = json!({"name":"ask_prompt","inputResponses":{"topic":{"action":"accept","content":{"topic":"owls"}}},"requestState":res["requestState"],"_meta":meta(caps)});
    let r = mreq(&srv.url(), "prompts/get", retry, Some("ask_prompt"), &[]).await;
    let res = &result_of(&r)["result"];
    assert_eq!(res["resultType"], "complete");
    assert_eq!(res["messages"][0]["content"]["text"], "Tell me about owls");
    // Without the capability: -32021 naming it.
    let r = mreq(
        &srv.url(),
        "prompts/get",
        json!({"name":"ask_prompt"}),
        Some("ask_prompt"),
        &[],
    )
    .await;
    assert_eq!((r.status, r.error_code()), (400, -32021));
    assert!(r.json()["error"]["data"]["requiredCapabilities"]["elicitation"].is_object());
}
