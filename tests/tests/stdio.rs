//! The stdio transport: newline-delimited JSON-RPC over a pair of pipes, with the same fixture
//! tools as the HTTP tests.

use std::time::Duration;

use mcp_server::HttpConfig;
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
        let server = fixture(HttpConfig::default());
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
    let server = fixture(HttpConfig::default());
    let task = tokio::spawn(async move { server.serve_io(server_in, server_out).await });
    drop(client_out);
    let done = tokio::time::timeout(Duration::from_secs(5), task).await;
    assert!(matches!(done, Ok(Ok(Ok(())))));
}
