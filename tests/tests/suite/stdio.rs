//! The stdio transport: newline-delimited JSON-RPC over a pair of pipes, with the same fixture
//! tools as the HTTP tests.

use std::time::Duration;

use mcp_tests::fixture;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, Lines};

struct Pipe {
    to_server: DuplexStream,
    from_server: Lines<BufReader<DuplexStream>>,
}

impl Pipe {
    fn start() -> Pipe {
        let (client_out, server_in) = tokio::io::duplex(1 << 16);
        let (server_out, client_in) = tokio::io::duplex(1 << 16);
        let server = fixture();
        tokio::spawn(async move { server.serve_io(server_in, server_out).await });
        Pipe {
            to_server: client_out,
            from_server: BufReader::new(client_in).lines(),
        }
    }

    async fn send(&mut self, v: &Value) {
        self.send_raw(&v.to_string()).await;
    }

    async fn send_raw(&mut self, line: &str) {
        self.to_server.write_all(line.as_bytes()).await.unwrap();
        self.to_server.write_all(b"\n").await.unwrap();
    }

    async fn recv(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(5), self.from_server.next_line())
            .await
            .expect("a line in time")
            .unwrap()
            .expect("the server is still there");
        serde_json::from_str(&line).unwrap()
    }

    /// Reads until the response with `id`, returning everything read.
    async fn until(&mut self, id: i64) -> Vec<Value> {
        let mut seen = Vec::new();
        loop {
            let m = self.recv().await;
            let done = m["id"] == id && (m.get("result").is_some() || m.get("error").is_some());
            seen.push(m);
            if done {
                return seen;
            }
        }
    }
}

#[tokio::test]
async fn initialize_list_call_and_errors_over_stdio() {
    let mut p = Pipe::start();
    p.send(&json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"elicitation":{}},"clientInfo":{"name":"t","version":"0"}}})).await;
    assert_eq!(p.recv().await["result"]["protocolVersion"], "2025-06-18");
    p.send(&json!({"jsonrpc":"2.0","method":"notifications/initialized"}))
        .await;
    p.send(&json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{"a":40,"b":2}}})).await;
    assert_eq!(p.recv().await["result"]["content"][0]["text"], "42");

    p.send_raw("{not json").await;
    let e = p.recv().await;
    assert_eq!(
        (e["error"]["code"].clone(), e["id"].clone()),
        (json!(-32700), Value::Null)
    );
    p.send(&json!({"jsonrpc":"2.0","id":3,"method":"nope"}))
        .await;
    assert_eq!(p.recv().await["error"]["code"], -32601);

    // Progress notifications come before the result.
    p.send(&json!({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"progress","arguments":{"steps":2},"_meta":{"progressToken":9}}})).await;
    let seen = p.until(4).await;
    assert_eq!(
        seen.iter()
            .filter(|m| m["method"] == "notifications/progress")
            .count(),
        2
    );

    // A server→client request, answered on stdin.
    p.send(&json!({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"ask","arguments":{}}})).await;
    let req = p.recv().await;
    assert_eq!(req["method"], "elicitation/create");
    p.send(&json!({"jsonrpc":"2.0","id":req["id"],"result":{"action":"accept","content":{"name":"Lin"}}})).await;
    let seen = p.until(5).await;
    assert_eq!(
        seen.last().unwrap()["result"]["content"][0]["text"],
        "hello Lin"
    );
}

#[tokio::test]
async fn a_closed_stdin_ends_the_server() {
    let (client_out, server_in) = tokio::io::duplex(1024);
    let (server_out, _client_in) = tokio::io::duplex(1024);
    let server = fixture();
    let task = tokio::spawn(async move { server.serve_io(server_in, server_out).await });
    drop(client_out);
    let done = tokio::time::timeout(Duration::from_secs(5), task).await;
    assert!(matches!(done, Ok(Ok(Ok(())))));
}

/// `_meta` of a 2026-07-28 request.
fn modern_meta(capabilities: Value) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": capabilities,
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "0"},
    })
}

#[tokio::test]
async fn the_modern_era_over_stdio_needs_no_initialize() {
    let mut p = Pipe::start();
    // Discovery and a call, each carrying its version and capabilities (T-38).
    p.send(&json!({"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta":modern_meta(json!({}))}}))
        .await;
    let discovered = p.until(1).await.pop().unwrap();
    assert!(
        discovered["result"]["supportedVersions"]
            .as_array()
            .is_some_and(|v| v.contains(&json!("2026-07-28"))),
        "{discovered}"
    );
    p.send(&json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3},"_meta":modern_meta(json!({}))}}))
        .await;
    let called = p.until(2).await.pop().unwrap();
    assert_eq!(called["result"]["resultType"], "complete", "{called}");
    assert_eq!(called["result"]["content"][0]["text"], "5");

    // A question to the client is an input_required result, never a request on stdout (MRTR).
    p.send(&json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"ask","arguments":{},"_meta":modern_meta(json!({"elicitation":{}}))}}))
        .await;
    let seen = p.until(3).await;
    assert!(
        seen.iter()
            .all(|m| m.get("method").is_none() || m.get("id").is_none()),
        "{seen:?}"
    );
    let asked = &seen.last().unwrap()["result"];
    assert_eq!(asked["resultType"], "input_required", "{asked}");
    let key = asked["inputRequests"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    let retry = json!({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"ask","arguments":{},
        "inputResponses":{key: {"action":"accept","content":{"name":"Ada"}}},
        "requestState": asked["requestState"], "_meta":modern_meta(json!({"elicitation":{}}))}});
    p.send(&retry).await;
    let answered = p.until(4).await.pop().unwrap();
    assert_eq!(
        answered["result"]["content"][0]["text"], "hello Ada",
        "{answered}"
    );

    // Removed methods, unsupported versions, missing capabilities' data, batches.
    p.send(&json!({"jsonrpc":"2.0","id":5,"method":"initialize","params":{"_meta":modern_meta(json!({}))}}))
        .await;
    assert_eq!(p.until(5).await.pop().unwrap()["error"]["code"], -32601);
    let mut old = modern_meta(json!({}));
    old["io.modelcontextprotocol/protocolVersion"] = json!("2099-01-01");
    p.send(&json!({"jsonrpc":"2.0","id":6,"method":"tools/list","params":{"_meta":old}}))
        .await;
    // T-39: an unsupported version is -32022 naming the supported ones.
    let r = p.until(6).await.pop().unwrap();
    assert_eq!(r["error"]["code"], -32022, "{r}");
    assert_eq!(r["error"]["data"]["requested"], "2099-01-01");
    assert!(
        r["error"]["data"]["supported"]
            .as_array()
            .is_some_and(|v| v.contains(&json!("2026-07-28")))
    );
    p.send(&json!({"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}))
        .await;
    let r = p.until(7).await.pop().unwrap();
    assert_eq!(r["error"]["code"], -32602, "{r}");
    p.send_raw(&json!([{"jsonrpc":"2.0","id":8,"method":"tools/list","params":{"_meta":modern_meta(json!({}))}}]).to_string())
        .await;
    let r = p.recv().await;
    assert_eq!(r[0]["error"]["code"], -32600, "{r}");
}

#[tokio::test]
async fn l80_subscriptions_listen_over_stdio() {
    let (client_out, server_in) = tokio::io::duplex(1 << 16);
    let (server_out, client_in) = tokio::io::duplex(1 << 16);
    let server = fixture();
    let handle = server.clone();
    tokio::spawn(async move { server.serve_io(server_in, server_out).await });
    let mut p = Pipe {
        to_server: client_out,
        from_server: BufReader::new(client_in).lines(),
    };
    p.send(
        &json!({"jsonrpc":"2.0","id":"sub","method":"subscriptions/listen",
        "params":{"notifications":{"toolsListChanged":true},"_meta":modern_meta(json!({}))}}),
    )
    .await;
    // The acknowledgement first, naming the subscription and what it will receive.
    let ack = p.recv().await;
    assert_eq!(
        ack["method"], "notifications/subscriptions/acknowledged",
        "{ack}"
    );
    assert_eq!(
        ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "sub"
    );
    assert_eq!(ack["params"]["notifications"]["toolsListChanged"], true);
    // A change it asked for arrives tagged; one it did not ask for does not.
    handle.notify_resource_updated("test://not-subscribed");
    handle.remove_tool("echo");
    let change = p.recv().await;
    assert_eq!(
        change["method"], "notifications/tools/list_changed",
        "{change}"
    );
    assert_eq!(
        change["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "sub"
    );
    // No legacy session: nothing untagged was sent. Cancelling ends the subscription quietly.
    p.send(
        &json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"sub"}}),
    )
    .await;
    p.send(&json!({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":modern_meta(json!({}))}}))
        .await;
    let listed = p.until(1).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    handle.remove_tool("add");
    p.send(&json!({"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"_meta":modern_meta(json!({}))}}))
        .await;
    let listed = p.until(2).await;
    assert_eq!(
        listed.len(),
        1,
        "after the cancel no change arrives: {listed:?}"
    );
}

#[tokio::test]
async fn a_modern_request_over_stdio_stops_on_notifications_cancelled() {
    let mut p = Pipe::start();
    p.send(&json!({"jsonrpc":"2.0","id":"s","method":"tools/call","params":{"name":"slow","arguments":{"steps":500},"_meta":modern_meta(json!({}))}}))
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    p.send(&json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"s"}}))
        .await;
    // The cancelled request gets no answer; the connection keeps serving.
    p.send(&json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"after"},"_meta":modern_meta(json!({}))}}))
        .await;
    let seen = p.until(2).await;
    assert!(seen.iter().all(|m| m["id"] != "s"), "{seen:?}");
    assert_eq!(
        seen.last().unwrap()["result"]["content"][0]["text"],
        "after"
    );
}
