//! Servers that break the protocol: every way a response can be wrong comes back to the caller
//! as a typed error, never a panic or a hang. A tiny axum app plays the broken server (one
//! behaviour per path), and raw TCP listeners send what is not even HTTP.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::response::Response;
use mcp_client::auth::NoAuth;
use mcp_client::types::{ElicitRequestParams, ElicitResult};
use mcp_client::{Era, Error, Malformed, McpClient, TransportError};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn response(status: u16, content_type: &str, body: impl Into<Body>) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("mcp-session-id", "s-1")
        .body(body.into())
        .unwrap()
}

fn result(id: &Value, result: Value) -> Response {
    let body = json!({"jsonrpc": "2.0", "id": id, "result": result});
    response(200, "application/json", body.to_string())
}

fn error(id: &Value, code: i64) -> Response {
    let body = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": "no"}});
    response(200, "application/json", body.to_string())
}

fn initialized(id: &Value, version: &str) -> Response {
    result(
        id,
        json!({"protocolVersion": version, "capabilities": {}, "serverInfo": {"name": "liar", "version": "0"}}),
    )
}

/// One broken behaviour per path.
async fn broken(Path(mode): Path<String>, body: String) -> Response {
    let request: Value = serde_json::from_str(&body).unwrap_or_default();
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let method = request["method"].as_str().unwrap_or_default().to_owned();
    let name = request["params"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if id.is_null() {
        return response(202, "application/json", "");
    }
    match (mode.as_str(), method.as_str()) {
        ("json-garbage", _) => response(200, "application/json", "{not json"),
        ("empty", _) => response(200, "application/json", ""),
        ("html", _) => response(200, "text/html", "<html>hello</html>"),
        ("status500", _) => response(500, "text/plain", "database on fire"),
        ("wrong-id", _) => result(&json!(id.as_i64().unwrap_or(0) + 1000), json!({})),
        ("notification", _) => {
            response(200, "application/json", r#"{"jsonrpc":"2.0","method":"x"}"#)
        }
        ("accepted", _) => response(202, "application/json", ""),
        ("sse-garbage", _) => response(200, "text/event-stream", "data: this is not json\n\n"),
        ("sse-empty", _) => response(
            200,
            "text/event-stream",
            ": nothing to see\n\nretry: 10\n\n",
        ),
        ("sse-non-utf8", _) => response(200, "text/event-stream", &b"data: \xff\xfe\n\n"[..]),
        (_, "server/discover") if !mode.starts_with("modern") => error(&id, -32601),
        ("bad-version", "initialize") => initialized(&id, "1999-01-01"),
        ("old-version", "initialize") => initialized(&id, "2024-11-05"),
        ("lying", "initialize") => initialized(&id, "2025-11-25"),
        ("lying", "tools/list") => result(&id, json!({"tools": 5})),
        ("lying", "prompts/list") => result(&id, json!({"prompts": [], "nextCursor": "again"})),
        ("lying", "resources/read") => result(&id, json!({"contents": "nope"})),
        ("lying", "completion/complete") => response(
            200,
            "application/json",
            r#"{"jsonrpc":"2.0","id":"#.to_owned()
                + &id.to_string()
                + r#","result":{"completion":{"values":["#,
        ),
        ("lying", "tools/call") if name == "typed" => result(
            &id,
            json!({"content": [], "structuredContent": {"sum": "x"}}),
        ),
        ("lying", "tools/call") if name == "mrtr" => result(
            &id,
            json!({"resultType": "input_required", "requestState": "s"}),
        ),
        ("lying", "tools/call") => {
            // A garbage server request first (answered with an error), then the result.
            let frames = format!(
                "data: {}\n\ndata: {}\n\ndata: {}\n\n",
                json!({"jsonrpc":"2.0","id":"srv-1","method":"elicitation/create","params":{"mode":42}}),
                json!({"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":"lots"}}),
                json!({"jsonrpc":"2.0","id":id,"result":{"content":[{"type":"text","text":"survived"}]}}),
            );
            response(200, "text/event-stream", frames)
        }
        ("modern", "server/discover") => result(
            &id,
            json!({"supportedVersions": ["2026-07-28"], "capabilities": {}, "ttlMs": 0, "cacheScope": "public"}),
        ),
        ("modern", "tools/call") if name == "empty" => {
            result(&id, json!({"resultType": "input_required"}))
        }
        ("modern", "tools/call") if name == "forever" => result(
            &id,
            json!({"resultType": "input_required", "requestState": "again"}),
        ),
        ("modern", "tools/call") if name == "sampling" => result(
            &id,
            json!({"resultType": "input_required", "inputRequests": {"s": {"method": "sampling/createMessage", "params": {"messages": [], "maxTokens": 5}}}}),
        ),
        ("modern", "tools/list") => result(
            &id,
            json!({"resultType": "input_required", "requestState": "x"}),
        ),
        ("modern-bad-discover", "server/discover") => {
            result(&id, json!({"supportedVersions": "all of them"}))
        }
        _ => error(&id, -32601),
    }
}

async fn broken_server() -> String {
    let app = Router::new().route("/{mode}", axum::routing::post(broken));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn connect(base: &str, mode: &str) -> Result<McpClient, Error> {
    let url = format!("{base}/{mode}");
    let connecting = McpClient::builder()
        .on_elicitation(|_: ElicitRequestParams| async { Ok(ElicitResult::decline()) })
        .connect(&url);
    tokio::time::timeout(Duration::from_secs(10), connecting)
        .await
        .expect("no hang")
}

#[tokio::test]
async fn broken_handshakes_are_typed_errors() {
    let base = broken_server().await;
    type Expect = fn(&Error) -> bool;
    let cases: Vec<(&str, Expect)> = vec![
        ("json-garbage", |e| {
            matches!(e, Error::MalformedResponse(Malformed::NotJsonRpc(_)))
        }),
        ("empty", |e| {
            matches!(e, Error::MalformedResponse(Malformed::NotJsonRpc(_)))
        }),
        (
            "html",
            |e| matches!(e, Error::MalformedResponse(Malformed::ContentType(ct)) if ct == "text/html"),
        ),
        (
            "status500",
            |e| matches!(e, Error::HttpStatus { status: 500, body } if body == "database on fire"),
        ),
        ("wrong-id", |e| {
            matches!(e, Error::MalformedResponse(Malformed::WrongId { .. }))
        }),
        ("notification", |e| {
            matches!(
                e,
                Error::MalformedResponse(Malformed::NotAResponse("notification"))
            )
        }),
        ("accepted", |e| {
            matches!(e, Error::MalformedResponse(Malformed::Accepted))
        }),
        ("sse-garbage", |e| {
            matches!(e, Error::MalformedResponse(Malformed::Sse(_)))
        }),
        ("sse-empty", |e| {
            matches!(e, Error::Transport(TransportError::StreamEnded))
        }),
        ("sse-non-utf8", |e| {
            matches!(e, Error::MalformedResponse(Malformed::Sse(_)))
        }),
        (
            "bad-version",
            |e| matches!(e, Error::MalformedResponse(Malformed::UnknownVersion(v)) if v == "1999-01-01"),
        ),
        (
            "old-version",
            |e| matches!(e, Error::NoCommonVersion { supported } if supported == &["2024-11-05"]),
        ),
        (
            "modern-bad-discover",
            |e| matches!(e, Error::Protocol(o) if o.code.0 == -32601),
        ),
    ];
    for (mode, expected) in cases {
        let e = connect(&base, mode).await.unwrap_err();
        assert!(expected(&e), "{mode}: {e:?}");
        assert!(!e.to_string().is_empty());
    }
}

#[tokio::test]
async fn broken_results_after_a_good_handshake() {
    let base = broken_server().await;
    let client = connect(&base, "lying").await.unwrap();
    assert_eq!(client.era(), Era::Legacy);
    let e = client.list_tools().await.unwrap_err();
    assert!(
        matches!(&e, Error::MalformedResponse(Malformed::Result { method, .. }) if method == "tools/list"),
        "{e:?}"
    );
    let e = client.list_prompts().await.unwrap_err();
    assert!(
        matches!(&e, Error::MalformedResponse(Malformed::PaginationLoop(c)) if c == "again"),
        "{e:?}"
    );
    let e = client.read_resource("x://y").await.unwrap_err();
    assert!(
        matches!(e, Error::MalformedResponse(Malformed::Result { .. })),
        "{e:?}"
    );
    let e = client
        .complete(mcp_client::types::Reference::prompt("p"), "a", "b")
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::MalformedResponse(Malformed::NotJsonRpc(_))),
        "{e:?}"
    );
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Sum {
        sum: i64,
    }
    let e = client
        .call_tool_typed::<Sum>("typed", ())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidStructuredContent { .. }), "{e:?}");
    let e = client.call_tool("mrtr", ()).await.unwrap_err();
    assert!(
        matches!(e, Error::MalformedResponse(Malformed::InputRequired(_))),
        "legacy has no MRTR: {e:?}"
    );
    // Garbage server requests and notifications on the stream do not stop the result.
    let r = client.call_tool("anything", ()).await.unwrap();
    assert_eq!(r.content[0].as_text(), Some("survived"));
}

#[tokio::test]
async fn broken_multi_round_trips() {
    let base = broken_server().await;
    let client = connect(&base, "modern").await.unwrap();
    assert_eq!(client.era(), Era::Modern);
    let e = client.call_tool("empty", ()).await.unwrap_err();
    assert!(
        matches!(e, Error::MalformedResponse(Malformed::InputRequired(_))),
        "{e:?}"
    );
    let e = client.call_tool("forever", ()).await.unwrap_err();
    assert!(matches!(e, Error::TooManyInputRounds(8)), "{e:?}");
    let e = client.call_tool("sampling", ()).await.unwrap_err();
    assert!(
        matches!(&e, Error::Handler { method, error } if method == "sampling/createMessage" && error.code.0 == -32601),
        "{e:?}"
    );
    let e = client.list_tools().await.unwrap_err();
    assert!(
        matches!(e, Error::MalformedResponse(Malformed::InputRequired(_))),
        "only three methods may: {e:?}"
    );
}

/// A TCP server that answers every connection with `reply` and closes it.
async fn raw_server(reply: &'static [u8]) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(reply).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    format!("http://{addr}/mcp")
}

#[tokio::test]
async fn what_is_not_http_is_a_transport_error() {
    for reply in [
        &b"SSH-2.0-OpenSSH_9.6\r\n"[..],
        b"",
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"jsonrpc\"",
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\nZZ\r\n",
    ] {
        let url = raw_server(reply).await;
        let e = tokio::time::timeout(Duration::from_secs(10), McpClient::connect(&url, NoAuth))
            .await
            .expect("no hang")
            .unwrap_err();
        assert!(matches!(e, Error::Transport(_)), "{:?}: {e:?}", String::from_utf8_lossy(reply));
    }
}
