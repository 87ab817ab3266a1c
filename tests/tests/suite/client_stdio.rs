//! The client over stdio: against a child process (the `stdio_server` example), and in process
//! against the fixture over a pair of pipes. Era negotiation falls back to `initialize` (our
//! stdio server speaks the legacy era), server requests are answered on stdin, dropping a call
//! sends `notifications/cancelled`, and a dying or babbling process is a typed error.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use mcp_client::types::{ElicitRequestParams, ElicitResult, JsonObject};
use mcp_client::{Era, Error, McpClient, ProtocolVersion, RequestOptions, TransportError};
use mcp_tests::fixture_counting_steps;
use serde_json::json;
use tokio::process::Command;

/// The `stdio_server` example, built (once per test run) with the profile of this test.
fn stdio_server() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("the test binary's path");
        let profile_dir = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("target/<profile>");
        let bin = profile_dir
            .join("examples")
            .join(format!("stdio_server{}", std::env::consts::EXE_SUFFIX));
        let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut build = std::process::Command::new(env!("CARGO"));
        build.current_dir(workspace).args([
            "build",
            "-q",
            "-p",
            "mcp-examples",
            "--example",
            "stdio_server",
        ]);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        let built = build.status().is_ok_and(|s| s.success());
        assert!(
            built || bin.exists(),
            "could not build the stdio_server example"
        );
        bin
    })
    .clone()
}

fn greeter(
    name: &'static str,
) -> impl Fn(ElicitRequestParams) -> std::future::Ready<Result<ElicitResult, mcp_client::ErrorObject>>
+ Send
+ Sync
+ 'static {
    move |_| {
        let mut content = JsonObject::new();
        content.insert("name".into(), name.into());
        std::future::ready(Ok(ElicitResult::accept(Some(content))))
    }
}

fn text(r: &mcp_client::types::CallToolResult) -> &str {
    r.content[0].as_text().unwrap_or_default()
}

#[tokio::test]
async fn a_child_process_over_stdio() {
    let client = McpClient::builder()
        .on_elicitation(greeter("Lin"))
        .spawn(Command::new(stdio_server()))
        .await
        .unwrap();
    assert_eq!(
        client.era(),
        Era::Modern,
        "the stdio server speaks 2026-07-28: no initialize"
    );
    assert_eq!(client.protocol_version(), ProtocolVersion::V2026_07_28);
    assert_eq!(client.server_info().unwrap().name, "stdio-example");
    assert_eq!(client.session_id(), None);

    let names: Vec<String> = client
        .list_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["add", "echo", "progress", "slow", "ask"]);
    assert_eq!(
        text(
            &client
                .call_tool("add", json!({"a": 40, "b": 2}))
                .await
                .unwrap()
        ),
        "42"
    );

    let progress = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&progress);
    let options = RequestOptions::new().on_progress(move |p| sink.lock().unwrap().push(p.progress));
    let r = client
        .call_tool_with("progress", json!({"steps": 3}), &options)
        .await
        .unwrap();
    assert_eq!(text(&r), "done");
    assert_eq!(*progress.lock().unwrap(), [1.0, 2.0, 3.0]);

    assert_eq!(
        text(&client.call_tool("ask", ()).await.unwrap()),
        "hello Lin"
    );

    // Concurrent calls share the pipe.
    let calls = (0..10).map(|i| {
        let c = client.clone();
        async move { c.call_tool("echo", json!({"text": format!("m{i}")})).await }
    });
    for (i, r) in futures_util::future::join_all(calls)
        .await
        .into_iter()
        .enumerate()
    {
        assert_eq!(text(&r.unwrap()), format!("m{i}"));
    }

    // Dropping a call cancels it; the server keeps serving.
    let call = client.call_tool("slow", json!({"steps": 500}));
    assert!(
        tokio::time::timeout(Duration::from_millis(100), call)
            .await
            .is_err()
    );
    assert_eq!(
        text(
            &client
                .call_tool("echo", json!({"text": "still here"}))
                .await
                .unwrap()
        ),
        "still here"
    );

    tokio::time::timeout(Duration::from_secs(10), client.close())
        .await
        .expect("the process exits")
        .unwrap();
    assert!(matches!(
        client.call_tool("add", json!({"a": 1, "b": 1})).await,
        Err(Error::Closed)
    ));
}

#[tokio::test]
async fn in_process_pipes_and_cancellation() {
    let (client_out, server_in) = tokio::io::duplex(1 << 16);
    let (server_out, client_in) = tokio::io::duplex(1 << 16);
    let (server, slow_steps) = fixture_counting_steps();
    let served = tokio::spawn(async move { server.serve_io(server_in, server_out).await });
    let client = McpClient::builder()
        .protocol_version(ProtocolVersion::V2025_06_18)
        .connect_io(client_in, client_out)
        .await
        .unwrap();
    assert_eq!(client.protocol_version(), ProtocolVersion::V2025_06_18);
    assert_eq!(
        text(
            &client
                .call_tool("add", json!({"a": 1, "b": 2}))
                .await
                .unwrap()
        ),
        "3"
    );

    let before = slow_steps.load(Ordering::SeqCst);
    let call = client.call_tool("slow", json!({"steps": 200}));
    assert!(
        tokio::time::timeout(Duration::from_millis(150), call)
            .await
            .is_err()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let settled = slow_steps.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        slow_steps.load(Ordering::SeqCst),
        settled,
        "the tool stopped"
    );
    assert!(settled - before < 100);

    // Without an elicitation handler the capability is not declared.
    assert!(client.call_tool("ask", ()).await.unwrap().is_error());
    client.close().await.unwrap();
    let done = tokio::time::timeout(Duration::from_secs(5), served).await;
    assert!(
        matches!(done, Ok(Ok(Ok(())))),
        "closing stdin ends the server"
    );
}

#[tokio::test]
async fn forced_legacy_over_stdio_still_opens_a_session() {
    let client = McpClient::builder()
        .era(Era::Legacy)
        .on_elicitation(greeter("Ada"))
        .spawn(Command::new(stdio_server()))
        .await
        .unwrap();
    assert_eq!(client.era(), Era::Legacy);
    assert_eq!(client.protocol_version(), ProtocolVersion::V2025_11_25);
    assert_eq!(
        text(
            &client
                .call_tool("add", json!({"a": 1, "b": 2}))
                .await
                .unwrap()
        ),
        "3"
    );
    // On the legacy wire the question is a real request to the client.
    assert_eq!(
        text(&client.call_tool("ask", ()).await.unwrap()),
        "hello Ada"
    );
    client.close().await.unwrap();
}

#[tokio::test]
async fn dying_and_babbling_processes_are_typed_errors() {
    let e = McpClient::spawn(Command::new("/nonexistent/mcp-server"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Spawn(_)), "{e:?}");

    let mut exits = Command::new("sh");
    exits.args(["-c", "exit 3"]);
    let e = McpClient::spawn(exits).await.unwrap_err();
    assert!(
        matches!(e, Error::Transport(TransportError::ConnectionClosed)),
        "{e:?}"
    );

    let mut babbles = Command::new("sh");
    babbles.args([
        "-c",
        "read line; echo 'not json'; echo '{\"jsonrpc\":\"2.0\",\"id\":999,\"result\":{}}'; exit 0",
    ]);
    let e = McpClient::spawn(babbles).await.unwrap_err();
    assert!(
        matches!(e, Error::Transport(TransportError::ConnectionClosed)),
        "{e:?}"
    );

    let mut silent = Command::new("sh");
    silent.args(["-c", "sleep 30"]);
    let e = McpClient::builder()
        .request_timeout(Duration::from_millis(300))
        .spawn(silent)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Timeout(_)), "{e:?}");
}
