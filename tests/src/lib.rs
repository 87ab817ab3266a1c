//! Shared helpers for the integration tests: a raw HTTP driver that sends exactly the bytes and
//! headers a test wants, an SSE reader, and a fixture server with tools that exercise progress,
//! logging, cancellation, elicitation, panics and stream resumption.

/// The README's Rust examples, compiled (and run, unless `no_run`) by `cargo test --doc`, so that
/// what a newcomer copies from it builds.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeExamples;

/// The guides' Rust examples (`mcp-server/guides/`, rendered as `mcp_server::guides`), compiled
/// and run like the README's.
#[cfg(doctest)]
pub mod guides {
    #[doc = include_str!("../../mcp-server/guides/tools.md")]
    pub struct Tools;
    #[doc = include_str!("../../mcp-server/guides/authorization.md")]
    pub struct Authorization;
    #[doc = include_str!("../../mcp-server/guides/dpop.md")]
    pub struct Dpop;
    #[doc = include_str!("../../mcp-server/guides/api-keys.md")]
    pub struct ApiKeys;
    #[doc = include_str!("../../mcp-server/guides/testing.md")]
    pub struct Testing;
    #[doc = include_str!("../../mcp-server/guides/scaling.md")]
    pub struct Scaling;
    #[doc = include_str!("../../mcp-server/guides/observability.md")]
    pub struct Observability;
    #[doc = include_str!("../../mcp-server/guides/migrating-from-rmcp.md")]
    pub struct MigratingFromRmcp;
}

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mcp_server::prelude::*;
use mcp_server::types::{ElicitRequestParams, LoggingLevel};
use serde_json::{Value, json};

/// An HTTP response, fully read.
#[derive(Debug)]
pub struct RawResponse {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body as text.
    pub body: String,
}

impl RawResponse {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON (panics with the body when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.body))
    }

    /// The JSON-RPC messages of the body, whether it is JSON or SSE.
    pub fn messages(&self) -> Vec<Value> {
        if self.header("content-type") == Some("text/event-stream") {
            sse_messages(&self.body)
        } else {
            vec![self.json()]
        }
    }

    /// Every `WWW-Authenticate` challenge, joined by ` | ` (empty when there is none).
    pub fn challenges(&self) -> String {
        self.headers
            .get_all("www-authenticate")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(" | ")
    }

    /// The `result` of the response message, JSON or SSE (panics with the error or the body
    /// when there is none).
    pub fn result(&self) -> Value {
        let m = self
            .messages()
            .into_iter()
            .find(|m| m.get("result").is_some() || m.get("error").is_some())
            .unwrap_or_else(|| panic!("no response in {}", self.body));
        m.get("result")
            .cloned()
            .unwrap_or_else(|| panic!("error: {m}"))
    }

    /// The error code of a JSON-RPC error body.
    pub fn error_code(&self) -> i64 {
        self.json()["error"]["code"]
            .as_i64()
            .unwrap_or_else(|| panic!("no error code: {}", self.body))
    }
}

/// POSTs a 2026-07-28 request whose `params` already carry their `_meta`, with the headers that
/// wire requires; `name` goes into `Mcp-Name`.
pub async fn modern_post(
    url: &str,
    method: &str,
    params: Value,
    name: Option<&str>,
) -> RawResponse {
    let version = params["_meta"]["io.modelcontextprotocol/protocolVersion"]
        .as_str()
        .unwrap_or("2026-07-28")
        .to_owned();
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        .to_string();
    let mut headers = vec![
        ("content-type", "application/json"),
        ("accept", JSON_AND_SSE),
        ("mcp-protocol-version", version.as_str()),
        ("mcp-method", method),
    ];
    if let Some(n) = name {
        headers.push(("mcp-name", n));
    }
    send(reqwest::Method::POST, url, &headers, Some(&body)).await
}

/// The Redis of the Redis store tests, from `MCP_TEST_REDIS_URL`; `None` (the caller skips its
/// test) when it is unset, except under `CI`, which always provides one: there the test fails.
pub fn redis_url() -> Option<String> {
    let url = std::env::var("MCP_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        assert!(
            std::env::var("CI").is_err(),
            "CI must set MCP_TEST_REDIS_URL"
        );
        eprintln!("skipped: set MCP_TEST_REDIS_URL to run the Redis tests");
    }
    url
}

/// A Redis key prefix no other test (or run) uses.
pub fn redis_prefix() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("mcp-test:{}:{nanos}:{n}:", std::process::id())
}

/// The PostgreSQL of the PostgreSQL store tests, from `MCP_TEST_DATABASE_URL`; `None` (the
/// caller skips its test) when it is unset, except under `CI`, which always provides one: there
/// the test fails.
pub fn database_url() -> Option<String> {
    let url = std::env::var("MCP_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        assert!(
            std::env::var("CI").is_err(),
            "CI must set MCP_TEST_DATABASE_URL"
        );
        eprintln!("skipped: set MCP_TEST_DATABASE_URL to run the PostgreSQL tests");
    }
    url
}

/// A PostgreSQL schema name no other test (or run) uses.
pub fn database_schema() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("mcp_test_{}_{nanos}_{n}", std::process::id())
}

/// The JSON payloads of an SSE body (events with empty data are skipped).
pub fn sse_messages(body: &str) -> Vec<Value> {
    sse_events(body)
        .into_iter()
        .filter(|(_, data)| !data.is_empty())
        .filter_map(|(_, data)| serde_json::from_str(&data).ok())
        .collect()
}

/// The `(id, data)` pairs of an SSE body.
pub fn sse_events(body: &str) -> Vec<(Option<String>, String)> {
    let mut events = Vec::new();
    for block in body.split("\n\n") {
        let mut id = None;
        let mut data = Vec::new();
        let mut any = false;
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("id:") {
                id = Some(v.trim().to_owned());
                any = true;
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push(v.strip_prefix(' ').unwrap_or(v).to_owned());
                any = true;
            }
        }
        if any && (id.is_some() || !data.is_empty()) {
            events.push((id, data.join("\n")));
        }
    }
    events
}

/// The headers every well-behaved POST carries.
pub const JSON_AND_SSE: &str = "application/json, text/event-stream";

/// Sends a request with exactly these headers and body.
pub async fn send(
    method: reqwest::Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> RawResponse {
    let client = reqwest::Client::new();
    let mut req = client.request(method, url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.body(b.to_owned());
    }
    let resp = req.send().await.expect("the server answers");
    RawResponse {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: resp.text().await.unwrap_or_default(),
    }
}

/// A POST with JSON content type and the standard Accept, plus extra headers.
pub async fn post(url: &str, extra: &[(&str, &str)], body: &str) -> RawResponse {
    let mut headers = vec![
        ("content-type", "application/json"),
        ("accept", JSON_AND_SSE),
    ];
    headers.extend_from_slice(extra);
    send(reqwest::Method::POST, url, &headers, Some(body)).await
}

/// A legacy session: its id and negotiated version.
#[derive(Debug, Clone)]
pub struct Session {
    /// The endpoint.
    pub url: String,
    /// `Mcp-Session-Id`.
    pub id: String,
    /// The negotiated version.
    pub version: String,
}

impl Session {
    /// Initializes (with the given client capabilities) and sends `notifications/initialized`.
    pub async fn open(url: &str, version: &str, capabilities: Value) -> Session {
        let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
            "protocolVersion": version, "capabilities": capabilities,
            "clientInfo": {"name":"tests","version":"0"}}});
        let r = post(url, &[], &init.to_string()).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let id = r.header("mcp-session-id").expect("a session id").to_owned();
        let version = r.json()["result"]["protocolVersion"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let s = Session {
            url: url.to_owned(),
            id,
            version,
        };
        let n = s
            .post(&json!({"jsonrpc":"2.0","method":"notifications/initialized"}))
            .await;
        assert_eq!(n.status, 202);
        s
    }

    /// POSTs a message in this session.
    pub async fn post(&self, body: &Value) -> RawResponse {
        self.post_raw(&body.to_string()).await
    }

    /// POSTs raw text in this session.
    pub async fn post_raw(&self, body: &str) -> RawResponse {
        post(
            &self.url,
            &[
                ("mcp-session-id", &self.id),
                ("mcp-protocol-version", &self.version),
            ],
            body,
        )
        .await
    }

    /// Calls a tool and returns every message of the answer.
    pub async fn call(&self, id: i64, tool: &str, args: Value) -> Vec<Value> {
        self.post(&json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":tool,"arguments":args}}))
            .await
            .messages()
    }
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct AddArgs {
    a: i64,
    b: i64,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct EchoArgs {
    text: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Steps {
    steps: u32,
}

/// A server with tools for the transport tests.
pub fn fixture() -> McpServer {
    fixture_counting_steps().0
}

/// [`fixture`], with the count of the steps its `slow` tool has done, so a test can see whether
/// the tool stopped. Each server counts its own: the integration tests share one process, and a
/// test running beside this one never moves the count.
pub fn fixture_counting_steps() -> (McpServer, Arc<AtomicUsize>) {
    let steps = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&steps);
    let server = McpServer::builder("fixture")
        .tool(ToolDef::from_fn("add", |_: Context, AddArgs { a, b }| async move { a + b }).description("Add"))
        .tool(ToolDef::from_fn("echo", |_: Context, EchoArgs { text }| async move { text }).description("Echo"))
        .tool(
            ToolDef::from_fn("progress", |ctx: Context, Steps { steps }| async move {
                for i in 1..=steps {
                    ctx.progress(f64::from(i), Some(f64::from(steps)), Some("working"));
                    ctx.log(LoggingLevel::Info, Some("fixture"), json!(format!("step {i}")));
                }
                "done"
            })
            .description("Reports progress"),
        )
        .tool(
            ToolDef::from_fn("slow", move |ctx: Context, Steps { steps: n }| {
                let steps = Arc::clone(&steps);
                async move {
                    for i in 0..n {
                        if ctx.is_cancelled() {
                            return format!("cancelled after {i}");
                        }
                        steps.fetch_add(1, Ordering::SeqCst);
                        ctx.progress(f64::from(i + 1), None, None);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    "finished".to_owned()
                }
            })
            .description("Takes a while"),
        )
        .tool(
            ToolDef::from_fn("ask", |ctx: Context, NoArgs {}| async move {
                let schema = json!({"type":"object","properties":{"name":{"type":"string"}},"required":["name"]});
                let params = ElicitRequestParams::form("Your name?", schema.as_object().cloned().unwrap_or_default());
                match ctx.elicit(params).await {
                    Ok(r) => Ok(format!("hello {}", r.content.and_then(|c| c.get("name").and_then(|n| n.as_str()).map(str::to_owned)).unwrap_or_default())),
                    Err(e) => Err(e.to_string()),
                }
            })
            .description("Asks the user"),
        )
        .tool(ToolDef::from_fn("boom", |_: Context, NoArgs {}| async move {
            if true {
                panic!("tool bug");
            }
            "unreachable"
        }).description("Panics"))
        .tool(
            ToolDef::from_fn("reconnect", |ctx: Context, NoArgs {}| async move {
                ctx.close_sse_stream();
                tokio::time::sleep(Duration::from_millis(100)).await;
                "after reconnect"
            })
            .description("Closes its stream early"),
        )
        .prompt(PromptDef::new(
            Prompt {
                name: "ask_prompt".into(),
                description: Some("Asks for context first".into()),
                ..Default::default()
            },
            |ctx: Context, _args| async move {
                let schema = json!({"type":"object","properties":{"topic":{"type":"string"}},"required":["topic"]});
                let params = ElicitRequestParams::form("Topic?", schema.as_object().cloned().unwrap_or_default());
                let answer = ctx.elicit_as("topic", params).await?;
                let topic = answer.content.and_then(|c| c.get("topic").and_then(|t| t.as_str()).map(str::to_owned));
                Ok(vec![PromptMessage::user_text(format!("Tell me about {}", topic.unwrap_or_default()))])
            },
        ))
        .build()
        .expect("the fixture builds");
    (server, counted)
}

/// Waits (at most ~10 s) until `cond` holds: tests count what happened, they do not time it.
pub async fn until(mut cond: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition never held");
}
