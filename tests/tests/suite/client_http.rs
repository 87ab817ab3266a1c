//! The client against our own server over Streamable HTTP, black box on 127.0.0.1:0: era
//! negotiation (modern first, legacy fallback, forced eras and versions), the typed calls,
//! pagination, structured results, progress, elicitation on both wires, stream resumption,
//! session expiry, cancellation and change feeds.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_client::types::{
    CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult, JsonObject,
    LoggingLevel, Prompt, PromptMessage, Reference, Resource, ResourceContents, Role, Root,
    SamplingMessage, SamplingMessageContentBlock, SubscriptionFilter,
};
use mcp_client::{
    Era, Error, Malformed, McpClient, ProtocolVersion, RequestOptions, ServerNotification,
};
use mcp_server::testing::{TestServer, spawn};
use mcp_server::{
    Context, HttpConfig, HttpServer, Json, McpServer, NoArgs, PromptDef, ResourceDef, ToolDef,
};
use mcp_tests::fixture_counting_steps;
use serde_json::json;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct SumArgs {
    values: Vec<i64>,
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
struct Sum {
    sum: i64,
    count: usize,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct RegionArgs {
    /// Mirrored in the `Mcp-Param-Region` header on the modern wire.
    #[schemars(extend("x-mcp-header" = "Region"))]
    region: String,
}

/// The shared fixture plus a structured tool and a tool with a header argument.
fn full_fixture() -> McpServer {
    full_fixture_counting_steps().0
}

/// [`full_fixture`], with the count of the steps its `slow` tool has done.
fn full_fixture_counting_steps() -> (McpServer, Arc<AtomicUsize>) {
    let (server, steps) = fixture_counting_steps();
    server
        .add_tool(ToolDef::from_fn(
            "sum",
            |_: Context, SumArgs { values }| async move {
                Json(Sum {
                    sum: values.iter().sum(),
                    count: values.len(),
                })
            },
        ))
        .expect("sum is a valid tool");
    server
        .add_tool(ToolDef::from_fn(
            "regional",
            |_: Context, RegionArgs { region }| async move { format!("served from {region}") },
        ))
        .expect("regional is a valid tool");
    server
        .add_tool(ToolDef::from_fn(
            "think",
            |ctx: Context, NoArgs {}| async move {
                let question =
                    CreateMessageRequestParams::new(vec![SamplingMessage::user_text("2+2?")], 10);
                let answer = ctx.sample(question).await.map_err(|e| e.to_string())?;
                let roots = ctx.list_roots().await.map_err(|e| e.to_string())?;
                let first = roots
                    .roots
                    .first()
                    .map(|r| r.uri.clone())
                    .unwrap_or_default();
                Ok::<_, String>(format!(
                    "{} from {} in {first}",
                    answer.content.text(),
                    answer.model
                ))
            },
        ))
        .expect("think is a valid tool");
    (server, steps)
}

/// A server with a resource and a prompt with completions (registered at build time: a prompt
/// added at run time gets no `completion/complete`).
fn catalog() -> McpServer {
    fn languages(typed: &str) -> Vec<String> {
        ["rust", "ruby", "python"]
            .into_iter()
            .filter(|l| l.starts_with(typed))
            .map(String::from)
            .collect()
    }
    McpServer::builder("catalog")
        .resource(ResourceDef::new(
            Resource::new("mem://greeting", "greeting"),
            |_, uri| async move {
                Ok(vec![ResourceContents::text(
                    uri,
                    Some("text/plain".into()),
                    "hi there",
                )])
            },
        ))
        .prompt(
            PromptDef::new(Prompt::new("review"), |_, args| async move {
                let language = args.get("language").cloned().unwrap_or_default();
                Ok(vec![PromptMessage::user_text(format!(
                    "Review this {language} code"
                ))])
            })
            .argument("language", "The language", true)
            .complete("language", languages),
        )
        .build()
        .expect("the catalog builds")
}

async fn server() -> TestServer {
    spawn(full_fixture()).await.expect("server starts")
}

fn legacy_only(http: HttpConfig) -> HttpServer {
    let mut builder = McpServer::builder("legacy-only")
        .protocol_versions(mcp_core::version::DEFAULT_LEGACY_VERSIONS);
    builder = builder.tool(ToolDef::from_fn(
        "add",
        |_: Context, args: serde_json::Map<String, serde_json::Value>| async move {
            let n = |k: &str| args.get(k).and_then(serde_json::Value::as_i64).unwrap_or(0);
            n("a") + n("b")
        },
    ));
    builder.build().expect("builds").http(http)
}

fn text(result: &mcp_client::types::CallToolResult) -> String {
    result.content[0].as_text().unwrap_or_default().to_owned()
}

async fn legacy(url: &str) -> McpClient {
    McpClient::builder()
        .era(Era::Legacy)
        .connect(url)
        .await
        .expect("legacy connect")
}

#[tokio::test]
async fn the_modern_era_comes_first() {
    let srv = server().await;
    let client = McpClient::connect(&srv.url(), mcp_client::auth::NoAuth)
        .await
        .unwrap();
    assert_eq!(client.era(), Era::Modern);
    assert_eq!(client.protocol_version(), ProtocolVersion::V2026_07_28);
    assert_eq!(client.server_info().unwrap().name, "fixture");
    assert!(client.server_capabilities().tools.is_some());
    assert_eq!(client.session_id(), None, "no sessions in the modern era");
    let tools = client.list_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "add"));
    let r = client
        .call_tool("add", json!({"a": 2, "b": 3}))
        .await
        .unwrap();
    assert_eq!(text(&r), "5");
    client.ping().await.unwrap();
    client.close().await.unwrap();
    assert!(matches!(
        client.call_tool("add", json!({"a": 1, "b": 1})).await,
        Err(Error::Closed)
    ));
}

#[tokio::test]
async fn forced_legacy_era_and_version() {
    let srv = server().await;
    let client = legacy(&srv.url()).await;
    assert_eq!(client.protocol_version(), ProtocolVersion::V2025_11_25);
    assert!(client.session_id().is_some());
    assert_eq!(client.server_info().unwrap().name, "fixture");
    assert_eq!(
        text(
            &client
                .call_tool("add", json!({"a": 40, "b": 2}))
                .await
                .unwrap()
        ),
        "42"
    );
    client.ping().await.unwrap();

    for version in [ProtocolVersion::V2025_06_18, ProtocolVersion::V2025_03_26] {
        let client = McpClient::builder()
            .protocol_version(version)
            .connect(&srv.url())
            .await
            .unwrap();
        assert_eq!(client.protocol_version(), version);
        assert_eq!(
            text(
                &client
                    .call_tool("echo", json!({"text": "hi"}))
                    .await
                    .unwrap()
            ),
            "hi"
        );
    }
    let modern = McpClient::builder()
        .era(Era::Modern)
        .connect(&srv.url())
        .await
        .unwrap();
    assert_eq!(modern.era(), Era::Modern);
}

#[tokio::test]
async fn falls_back_to_initialize_on_a_legacy_server() {
    for (http, stateless) in [
        (HttpConfig::default(), false),
        (HttpConfig::default().stateless(), true),
    ] {
        let srv = spawn(legacy_only(http)).await.unwrap();
        let client = McpClient::connect(&srv.url(), mcp_client::auth::NoAuth)
            .await
            .unwrap();
        assert_eq!(client.era(), Era::Legacy);
        assert_eq!(client.protocol_version(), ProtocolVersion::V2025_11_25);
        assert_eq!(client.session_id().is_none(), stateless);
        assert_eq!(
            text(
                &client
                    .call_tool("add", json!({"a": 1, "b": 2}))
                    .await
                    .unwrap()
            ),
            "3"
        );
        client.close().await.unwrap();

        let forced = McpClient::builder()
            .era(Era::Modern)
            .connect(&srv.url())
            .await;
        assert!(
            forced.is_err(),
            "a forced modern era does not fall back: {forced:?}"
        );
    }
}

#[tokio::test]
async fn a_forced_version_the_server_does_not_speak_is_an_error() {
    let server = McpServer::builder("old")
        .protocol_versions([ProtocolVersion::V2025_06_18])
        .build()
        .unwrap();
    let srv = spawn(server).await.unwrap();
    let e = McpClient::builder()
        .protocol_version(ProtocolVersion::V2025_11_25)
        .connect(&srv.url())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::VersionMismatch { requested, offered } if requested == "2025-11-25" && offered == "2025-06-18"),
        "{e}"
    );
    let ok = McpClient::connect(&srv.url(), mcp_client::auth::NoAuth)
        .await
        .unwrap();
    assert_eq!(ok.protocol_version(), ProtocolVersion::V2025_06_18);
}

#[tokio::test]
async fn nothing_listening_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    drop(listener);
    let e = McpClient::connect(&url, mcp_client::auth::NoAuth)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Transport(_)), "{e:?}");
    let e = McpClient::connect("ftp://127.0.0.1/mcp", mcp_client::auth::NoAuth)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidUrl { .. }));
    let e = McpClient::connect("not a url", mcp_client::auth::NoAuth)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidUrl { .. }));
}

#[tokio::test]
async fn pagination_collects_every_page_in_both_eras() {
    let mut builder = McpServer::builder("many").page_size(3);
    for i in 0..8 {
        builder = builder.tool(ToolDef::from_fn(
            format!("t{i}"),
            |_: Context, _: NoArgs| async { "x" },
        ));
    }
    let srv = spawn(builder.build().unwrap()).await.unwrap();
    for client in [
        McpClient::connect(&srv.url(), mcp_client::auth::NoAuth)
            .await
            .unwrap(),
        legacy(&srv.url()).await,
    ] {
        let names: Vec<String> = client
            .list_tools()
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(
            names,
            (0..8).map(|i| format!("t{i}")).collect::<Vec<_>>(),
            "{:?}",
            client.era()
        );
        let first = client.list_tools_page(None).await.unwrap();
        assert_eq!(first.tools.len(), 3);
        let second = client
            .list_tools_page(first.next_cursor.as_deref())
            .await
            .unwrap();
        assert_eq!(second.tools[0].name, "t3");
    }
}

#[tokio::test]
async fn structured_results_and_tool_errors() {
    let srv = server().await;
    for client in [
        McpClient::connect(&srv.url(), mcp_client::auth::NoAuth)
            .await
            .unwrap(),
        legacy(&srv.url()).await,
    ] {
        let sum: Sum = client
            .call_tool_typed("sum", json!({"values": [1, 2, 3]}))
            .await
            .unwrap();
        assert_eq!(sum, Sum { sum: 6, count: 3 });
        let raw = client
            .call_tool("sum", json!({"values": [4]}))
            .await
            .unwrap();
        assert_eq!(raw.structured_content, Some(json!({"sum": 4, "count": 1})));

        let e = client
            .call_tool_typed::<Sum>("add", json!({"a": 1, "b": 2}))
            .await
            .unwrap_err();
        assert!(
            matches!(e, Error::NoStructuredContent { ref name } if name == "add"),
            "{e}"
        );
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Other {
            missing: String,
        }
        let e = client
            .call_tool_typed::<Other>("sum", json!({"values": []}))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::InvalidStructuredContent { .. }), "{e}");

        // A tool failure is a result for call_tool, an error for the checked and typed calls.
        let boom = client.call_tool("boom", ()).await.unwrap();
        assert!(boom.is_error());
        let e = client.call_tool_checked("boom", ()).await.unwrap_err();
        assert!(
            matches!(&e, Error::ToolError { name, result } if name == "boom" && result.is_error()),
            "{e}"
        );
        let bad_args = client.call_tool("add", json!({"a": "x"})).await.unwrap();
        assert!(
            bad_args.is_error(),
            "argument errors are tool errors (TL-08)"
        );
        let e = client.call_tool("no_such_tool", ()).await.unwrap_err();
        assert!(
            matches!(e, Error::Protocol(ref o) if o.code.0 == -32602),
            "{e}"
        );
        let e = client.call_tool("add", json!([1, 2])).await.unwrap_err();
        assert!(matches!(e, Error::InvalidArguments { .. }));
    }
}

#[tokio::test]
async fn resources_prompts_and_completion() {
    let srv = spawn(catalog()).await.unwrap();
    for client in [
        McpClient::connect(&srv.url(), mcp_client::auth::NoAuth)
            .await
            .unwrap(),
        legacy(&srv.url()).await,
    ] {
        let era = client.era();
        let resources = client.list_resources().await.unwrap();
        assert!(
            resources.iter().any(|r| r.uri == "mem://greeting"),
            "{era:?}"
        );
        let read = client.read_resource("mem://greeting").await.unwrap();
        assert_eq!(read.contents[0].as_text(), Some("hi there"));
        let e = client.read_resource("mem://missing").await.unwrap_err();
        let code = e.protocol_error().map(|o| o.code.0);
        assert_eq!(
            code,
            Some(if era == Era::Modern { -32602 } else { -32002 }),
            "{e}"
        );

        let prompts = client.list_prompts().await.unwrap();
        assert!(prompts.iter().any(|p| p.name == "review"));
        let prompt = client
            .get_prompt("review", [("language", "rust")])
            .await
            .unwrap();
        assert_eq!(
            prompt.messages[0].content.as_text(),
            Some("Review this rust code")
        );
        let e = client
            .get_prompt("review", None::<(&str, &str)>)
            .await
            .unwrap_err();
        assert!(
            e.protocol_error().is_some(),
            "a missing required argument: {e}"
        );

        let done = client
            .complete(Reference::prompt("review"), "language", "ru")
            .await
            .unwrap();
        assert_eq!(done.completion.values, ["rust", "ruby"]);
        assert!(client.list_resource_templates().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn progress_callbacks_in_both_eras() {
    let srv = server().await;
    for client in [
        McpClient::connect(&srv.url(), mcp_client::auth::NoAuth)
            .await
            .unwrap(),
        legacy(&srv.url()).await,
    ] {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let options = RequestOptions::new().on_progress(move |p| {
            sink.lock().unwrap().push((p.progress, p.total, p.message));
        });
        let r = client
            .call_tool_with("progress", json!({"steps": 3}), &options)
            .await
            .unwrap();
        assert_eq!(text(&r), "done");
        let seen = seen.lock().unwrap().clone();
        assert_eq!(
            seen,
            (1..=3)
                .map(|i| (f64::from(i), Some(3.0), Some("working".to_owned())))
                .collect::<Vec<_>>(),
            "{:?}",
            client.era()
        );
    }
}

#[tokio::test]
async fn log_levels_reach_the_server_and_logs_reach_the_stream() {
    let srv = server().await;
    for client in [
        McpClient::connect(&srv.url(), mcp_client::auth::NoAuth)
            .await
            .unwrap(),
        legacy(&srv.url()).await,
    ] {
        let mut notifications = client.notifications();
        client.set_log_level(LoggingLevel::Debug).await.unwrap();
        client
            .call_tool("progress", json!({"steps": 2}))
            .await
            .unwrap();
        let mut logs = Vec::new();
        while let Ok(Some(n)) =
            tokio::time::timeout(Duration::from_millis(500), notifications.recv()).await
        {
            if let ServerNotification::Log(l) = n {
                logs.push(l.data);
            }
            if logs.len() == 2 {
                break;
            }
        }
        assert_eq!(
            logs,
            [json!("step 1"), json!("step 2")],
            "{:?}",
            client.era()
        );
    }
}

fn answer_with(
    name: &'static str,
    asked: Arc<Mutex<Vec<String>>>,
) -> impl Fn(
    ElicitRequestParams,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<ElicitResult, mcp_client::ErrorObject>> + Send>,
> + Send
+ Sync
+ 'static {
    move |request: ElicitRequestParams| {
        asked.lock().unwrap().push(request.message().to_owned());
        Box::pin(async move {
            let mut content = JsonObject::new();
            content.insert("name".into(), name.into());
            Ok(ElicitResult::accept(Some(content)))
        })
    }
}

#[tokio::test]
async fn elicitation_on_the_legacy_wire_and_through_input_required() {
    let srv = server().await;
    for era in [Era::Legacy, Era::Modern] {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let client = McpClient::builder()
            .era(era)
            .on_elicitation(answer_with("Ada", Arc::clone(&asked)))
            .connect(&srv.url())
            .await
            .unwrap();
        let r = client.call_tool("ask", ()).await.unwrap();
        assert_eq!(text(&r), "hello Ada", "{era:?}");
        assert_eq!(*asked.lock().unwrap(), ["Your name?"], "{era:?}");

        // Without a handler the capability is not declared: legacy tools see the refusal,
        // modern servers answer -32021.
        let plain = McpClient::builder()
            .era(era)
            .connect(&srv.url())
            .await
            .unwrap();
        match plain.call_tool("ask", ()).await {
            Ok(r) => assert!(era == Era::Legacy && r.is_error(), "{era:?}: {r:?}"),
            Err(e) => assert!(
                era == Era::Modern && e.protocol_error().map(|o| o.code.0) == Some(-32021),
                "{e}"
            ),
        }
    }
    // A handler that refuses: legacy tools get the JSON-RPC error, modern calls fail with it.
    for era in [Era::Legacy, Era::Modern] {
        let client = McpClient::builder()
            .era(era)
            .on_elicitation(|_: ElicitRequestParams| async {
                Err(mcp_client::ErrorObject::internal_error("no user here"))
            })
            .connect(&srv.url())
            .await
            .unwrap();
        match client.call_tool("ask", ()).await {
            Ok(r) => assert!(era == Era::Legacy && r.is_error(), "{r:?}"),
            Err(e) => assert!(
                era == Era::Modern && matches!(e, Error::Handler { .. }),
                "{e}"
            ),
        }
    }
}

#[tokio::test]
async fn a_stream_the_server_closes_early_is_resumed_with_last_event_id() {
    let http = HttpConfig::default().sse_retry(Duration::from_millis(50));
    let srv = spawn(full_fixture().http(http)).await.unwrap();
    let client = legacy(&srv.url()).await;
    let r = client.call_tool("reconnect", ()).await.unwrap();
    assert_eq!(text(&r), "after reconnect");
    // And the session still works afterwards.
    assert_eq!(
        text(
            &client
                .call_tool("add", json!({"a": 1, "b": 1}))
                .await
                .unwrap()
        ),
        "2"
    );
}

#[tokio::test]
async fn an_expired_session_is_reinitialized() {
    let srv = server().await;
    let client = legacy(&srv.url()).await;
    let first = client.session_id().unwrap();
    // End the session behind the client's back.
    let deleted = reqwest::Client::new()
        .delete(srv.url())
        .header("mcp-session-id", &first)
        .header("mcp-protocol-version", "2025-11-25")
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success());
    let r = client
        .call_tool("add", json!({"a": 2, "b": 2}))
        .await
        .unwrap();
    assert_eq!(text(&r), "4");
    let second = client.session_id().unwrap();
    assert_ne!(first, second, "a new session");
    // Concurrent requests after another expiry share one re-initialisation.
    let _ = reqwest::Client::new()
        .delete(srv.url())
        .header("mcp-session-id", &second)
        .send()
        .await
        .unwrap();
    let calls = (0..4).map(|i| {
        let c = client.clone();
        async move { c.call_tool("add", json!({"a": i, "b": 0})).await }
    });
    for r in futures_util::future::join_all(calls).await {
        assert!(!r.unwrap().is_error());
    }
    // close() ends the session on the server.
    let third = client.session_id().unwrap();
    client.close().await.unwrap();
    let after = reqwest::Client::new()
        .post(srv.url())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", &third)
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 404);
}

/// Waits until the `slow` tool's step counter stops moving; returns how far it got.
async fn settled_steps(steps: &AtomicUsize) -> usize {
    let mut last = steps.load(Ordering::SeqCst);
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = steps.load(Ordering::SeqCst);
        if now == last {
            return now;
        }
        last = now;
    }
}

#[tokio::test]
async fn dropping_a_call_cancels_it_on_the_server() {
    // The server counts its own `slow` steps: no other test moves the count.
    let (server, slow_steps) = full_fixture_counting_steps();
    let srv = spawn(server).await.expect("server starts");
    for client in [
        legacy(&srv.url()).await,
        McpClient::connect(&srv.url(), mcp_client::auth::NoAuth)
            .await
            .unwrap(),
    ] {
        let before = settled_steps(&slow_steps).await;
        let options = RequestOptions::new().on_progress(|_| {});
        let call = client.call_tool_with("slow", json!({"steps": 200}), &options);
        assert!(
            tokio::time::timeout(Duration::from_millis(200), call)
                .await
                .is_err()
        );
        let done = settled_steps(&slow_steps).await - before;
        assert!(
            done < 100,
            "{:?}: the tool stopped early ({done} steps)",
            client.era()
        );
        // The client's own timeout does the same, as an error.
        let quick = McpClient::builder()
            .era(client.era())
            .request_timeout(Duration::from_millis(100))
            .connect(&srv.url())
            .await
            .unwrap();
        let before = settled_steps(&slow_steps).await;
        let e = quick
            .call_tool("slow", json!({"steps": 200}))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Timeout(_)), "{e}");
        assert!(settled_steps(&slow_steps).await - before < 100);
    }
}

#[tokio::test]
async fn change_feeds_in_both_eras() {
    let server = full_fixture();
    let handle = server.clone();
    let srv = spawn(server).await.unwrap();
    let filter = SubscriptionFilter {
        tools_list_changed: Some(true),
        resource_subscriptions: Some(vec!["mem://greeting".into()]),
        ..SubscriptionFilter::default()
    };
    for client in [
        McpClient::connect(&srv.url(), mcp_client::auth::NoAuth)
            .await
            .unwrap(),
        legacy(&srv.url()).await,
    ] {
        let mut feed = client.subscribe(filter.clone()).await.unwrap();
        assert_eq!(feed.filter().tools_list_changed, Some(true));
        handle
            .add_tool(ToolDef::from_fn("extra", |_: Context, _: NoArgs| async {
                "x"
            }))
            .unwrap();
        let n = tokio::time::timeout(Duration::from_secs(5), feed.recv())
            .await
            .unwrap();
        assert_eq!(
            n,
            Some(ServerNotification::ToolsListChanged),
            "{:?}",
            client.era()
        );
        handle.notify_resource_updated("mem://greeting");
        let n = tokio::time::timeout(Duration::from_secs(5), feed.recv())
            .await
            .unwrap();
        assert!(
            matches!(n, Some(ServerNotification::ResourceUpdated(ref p)) if p.uri == "mem://greeting"),
            "{:?}: {n:?}",
            client.era()
        );
        drop(feed);
    }
}

#[tokio::test]
async fn header_arguments_are_mirrored_on_the_modern_wire() {
    let srv = server().await;
    let client = McpClient::connect(&srv.url(), mcp_client::auth::NoAuth)
        .await
        .unwrap();
    // Not listed yet: the server's -32020 makes the client learn the tool's header arguments.
    let r = client
        .call_tool("regional", json!({"region": "eu-west"}))
        .await
        .unwrap();
    assert_eq!(text(&r), "served from eu-west");
    let r = client
        .call_tool("regional", json!({"region": "Zürich"}))
        .await
        .unwrap();
    assert_eq!(text(&r), "served from Zürich", "non-ASCII goes base64");
}

#[tokio::test]
async fn malformed_arguments_are_rejected_before_sending() {
    let srv = server().await;
    let client = McpClient::connect(&srv.url(), mcp_client::auth::NoAuth)
        .await
        .unwrap();
    let e = client.call_tool("add", "a string").await.unwrap_err();
    assert!(matches!(e, Error::InvalidArguments { .. }));
    let e = client
        .request("tools/list", Some(json!(5)), &RequestOptions::new())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidArguments { .. }));
    let raw = client
        .request("tools/list", None, &RequestOptions::new())
        .await
        .unwrap();
    assert!(raw["tools"].is_array());
    let _: Option<Malformed> = None;
}

#[tokio::test]
async fn a_legacy_feed_follows_the_session_across_reinitialization() {
    let server = full_fixture();
    let handle = server.clone();
    let srv = spawn(server).await.unwrap();
    let client = legacy(&srv.url()).await;
    let mut feed = client
        .subscribe(SubscriptionFilter {
            tools_list_changed: Some(true),
            ..SubscriptionFilter::default()
        })
        .await
        .unwrap();
    let first = client.session_id().unwrap();
    let _ = reqwest::Client::new()
        .delete(srv.url())
        .header("mcp-session-id", &first)
        .send()
        .await
        .unwrap();
    // The next call re-initialises; the feed moves to the new session's GET stream.
    client
        .call_tool("add", json!({"a": 1, "b": 1}))
        .await
        .unwrap();
    assert_ne!(client.session_id().unwrap(), first);
    let mut received = None;
    for i in 0..50 {
        handle
            .add_tool(ToolDef::from_fn(
                format!("late{i}"),
                |_: Context, _: NoArgs| async { "x" },
            ))
            .unwrap();
        if let Ok(n) = tokio::time::timeout(Duration::from_millis(100), feed.recv()).await {
            received = n;
            break;
        }
    }
    assert_eq!(received, Some(ServerNotification::ToolsListChanged));
}

#[tokio::test]
async fn sampling_and_roots_on_both_wires() {
    let srv = server().await;
    for era in [Era::Legacy, Era::Modern] {
        let client = McpClient::builder()
            .era(era)
            .on_sampling(|request: CreateMessageRequestParams| async move {
                assert_eq!(request.max_tokens, 10);
                Ok(CreateMessageResult {
                    role: Role::Assistant,
                    content: SamplingMessageContentBlock::text("4").into(),
                    model: "test-model".into(),
                    stop_reason: Some("endTurn".into()),
                    meta: None,
                })
            })
            .roots(vec![Root {
                uri: "file:///workspace".into(),
                name: Some("workspace".into()),
                meta: None,
            }])
            .connect(&srv.url())
            .await
            .unwrap();
        let r = client.call_tool("think", ()).await.unwrap();
        assert_eq!(
            text(&r),
            "4 from test-model in file:///workspace",
            "{era:?}"
        );
    }
}
