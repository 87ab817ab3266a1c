//! The framework's spans and metrics as OpenTelemetry exports them (issue 14, the OpenTelemetry
//! semantic conventions for MCP): real servers on 127.0.0.1:0 and the real client, a
//! `tracing-opentelemetry` layer over an in-memory span exporter, an in-memory metric exporter
//! on the global meter provider. Exact span names, kinds, attributes and parent/child links for
//! a legacy session, a 2026-07-28 call, refused calls, a tool error and stdio; a trace started by
//! the client continues on the server.
//!
//! A test binary of its own: the exporters sit behind a global subscriber and the global meter
//! provider. The tests run one at a time (they share the exporters).

use std::collections::HashMap;
use std::sync::OnceLock;

use mcp_client::McpClient;
use mcp_client::auth::BearerAuth;
use mcp_core::version::{Era, ProtocolVersion};
use mcp_server::auth::{AuthorizationConfig, JwtValidator, JwtValidatorConfig};
use mcp_server::prelude::*;
use mcp_server::testing::{TestIssuer, TestListener, TestServer, spawn};
use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId, TracerProvider as _};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{
    InMemoryMetricExporter, InMemoryMetricExporterBuilder, PeriodicReader, SdkMeterProvider,
    Temporality,
};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use serde_json::json;
use tokio::sync::{Mutex, MutexGuard};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Always fails.
#[tool]
fn fail() -> Result<String, String> {
    Err("the disk is full".to_owned())
}

/// Needs a scope the caller may lack.
#[tool(required_scopes = ["files:delete"])]
fn delete_file(path: String) -> String {
    format!("deleted {path}")
}

/// A greeting.
#[prompt]
fn greet(name: String) -> String {
    format!("Hello, {name}")
}

struct Exporters {
    spans: InMemorySpanExporter,
    metrics: InMemoryMetricExporter,
    meter: SdkMeterProvider,
    tracer: SdkTracerProvider,
}

/// The exporters, installed once for the whole binary; the guard runs the tests one at a time.
async fn exporters() -> (MutexGuard<'static, ()>, &'static Exporters) {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());
    static EXPORTERS: OnceLock<Exporters> = OnceLock::new();
    let guard = ONE_AT_A_TIME.lock().await;
    let exporters = EXPORTERS.get_or_init(|| {
        let spans = InMemorySpanExporter::default();
        let tracer = SdkTracerProvider::builder()
            .with_simple_exporter(spans.clone())
            .build();
        // Delta: each collection holds what was recorded since the one before.
        let metrics = InMemoryMetricExporterBuilder::new()
            .with_temporality(Temporality::Delta)
            .build();
        let meter = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(metrics.clone()).build())
            .build();
        opentelemetry::global::set_meter_provider(meter.clone());
        tracing_subscriber::registry()
            .with(tracing_subscriber::filter::LevelFilter::INFO)
            .with(tracing_opentelemetry::layer().with_tracer(tracer.tracer("tests")))
            .init();
        Exporters {
            spans,
            metrics,
            meter,
            tracer,
        }
    });
    exporters.spans.reset();
    // What earlier tests recorded is collected, then forgotten.
    exporters.meter.force_flush().unwrap();
    exporters.metrics.reset();
    (guard, exporters)
}

impl Exporters {
    /// The spans ended so far.
    fn spans(&self) -> Vec<SpanData> {
        let _ = self.tracer.force_flush();
        self.spans.get_finished_spans().unwrap()
    }

    /// Every data point so far as (metric, attributes, count or value).
    fn metrics(&self) -> Vec<(String, HashMap<String, String>, f64)> {
        self.meter.force_flush().unwrap();
        let mut out = Vec::new();
        for rm in self.metrics.get_finished_metrics().unwrap() {
            for sm in rm.scope_metrics() {
                for m in sm.metrics() {
                    let name = m.name().to_owned();
                    let attrs = |kvs: &mut dyn Iterator<Item = &opentelemetry::KeyValue>| {
                        kvs.map(|kv| (kv.key.to_string(), kv.value.to_string()))
                            .collect::<HashMap<_, _>>()
                    };
                    match m.data() {
                        AggregatedMetrics::F64(MetricData::Histogram(h)) => {
                            for p in h.data_points() {
                                let count = p.count() as f64;
                                out.push((name.clone(), attrs(&mut p.attributes()), count));
                            }
                        }
                        AggregatedMetrics::U64(MetricData::Sum(s)) => {
                            for p in s.data_points() {
                                let v = p.value() as f64;
                                out.push((name.clone(), attrs(&mut p.attributes()), v));
                            }
                        }
                        AggregatedMetrics::I64(MetricData::Sum(s)) => {
                            for p in s.data_points() {
                                let v = p.value() as f64;
                                out.push((name.clone(), attrs(&mut p.attributes()), v));
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        out
    }
}

/// The sum of the data points of metric `name` whose attributes include every pair of `attrs`
/// (counts for histograms, values for sums): above 0 when such a point was recorded.
fn total(
    metrics: &[(String, HashMap<String, String>, f64)],
    name: &str,
    attrs: &[(&str, &str)],
) -> f64 {
    metrics
        .iter()
        .filter(|(n, a, _)| {
            n == name
                && attrs
                    .iter()
                    .all(|(k, v)| a.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, _, v)| v)
        .sum()
}

fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

/// The first span named `name` of `kind`, or a failure listing the names there are.
fn span<'a>(spans: &'a [SpanData], name: &str, kind: SpanKind) -> &'a SpanData {
    spans
        .iter()
        .find(|s| s.name == name && s.span_kind == kind)
        .unwrap_or_else(|| {
            panic!(
                "no {kind:?} span {name:?} among {:?}",
                spans.iter().map(|s| s.name.as_ref()).collect::<Vec<_>>()
            )
        })
}

/// The one span named `name`, or a failure listing the names there are.
fn one<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    let found: Vec<_> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(
        found.len(),
        1,
        "one span {name:?} among {:?}",
        spans.iter().map(|s| s.name.as_ref()).collect::<Vec<_>>()
    );
    found[0]
}

fn parent_of<'a>(spans: &'a [SpanData], child: &SpanData) -> Option<&'a SpanData> {
    spans
        .iter()
        .find(|s| s.span_context.span_id() == child.parent_span_id)
}

fn server() -> McpServer {
    McpServer::builder("telemetry")
        .tool(add)
        .tool(fail)
        .tool(delete_file)
        .prompt(greet)
        .build()
        .unwrap()
}

/// A server protected by a testing issuer's JWTs (`tweak` adds to the configuration), with the
/// tools `add` and `delete_file`.
async fn protected(
    tweak: impl FnOnce(AuthorizationConfig) -> AuthorizationConfig,
) -> (TestIssuer, TestServer) {
    let issuer = TestIssuer::start().await.unwrap();
    let listener = TestListener::bind().await.unwrap();
    let auth = AuthorizationConfig::enabled()
        .authorization_server(issuer.issuer())
        .resource(listener.url())
        .validator(JwtValidator::new(JwtValidatorConfig::new(issuer.issuer(), "")).unwrap());
    let server = McpServer::builder("protected")
        .authorization(tweak(auth))
        .tool(add)
        .tool(delete_file)
        .build()
        .unwrap();
    (issuer, listener.spawn(server))
}

#[tokio::test]
async fn legacy_session_spans_follow_the_conventions_and_continue_the_clients_trace() {
    let (_one, exporters) = exporters().await;
    let srv = spawn(server()).await.unwrap();
    let client = McpClient::builder()
        .protocol_version(ProtocolVersion::V2025_11_25)
        .connect(srv.url())
        .await
        .unwrap();
    let sum = client
        .call_tool("add", json!({"a": 2, "b": 3}))
        .await
        .unwrap();
    assert_eq!(sum.is_error, None);
    client.get_prompt("greet", [("name", "Ada")]).await.unwrap();
    let session_id = client.session_id().unwrap();
    client.close().await.unwrap();
    srv.shutdown().await;
    let spans = exporters.spans();

    // initialize, in a session of 2025-11-25 over TCP.
    let init = span(&spans, "initialize", SpanKind::Server);
    assert_eq!(attr(init, "mcp.method.name").as_deref(), Some("initialize"));
    assert_eq!(
        attr(init, "mcp.protocol.version").as_deref(),
        Some("2025-11-25")
    );
    assert_eq!(attr(init, "network.transport").as_deref(), Some("tcp"));
    assert_eq!(
        parent_of(&spans, init).map(|p| p.name.as_ref()),
        Some("POST /mcp"),
        "initialize runs inside its HTTP request's span"
    );
    assert!(spans.iter().any(|s| s.name == "notifications/initialized"));

    // The tool call: the client's span, the HTTP request's span, the message span inside it.
    let calls: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "tools/call add")
        .collect();
    assert_eq!(calls.len(), 2, "the client's span and the server's");
    let client_span = calls
        .iter()
        .find(|s| s.span_kind == SpanKind::Client)
        .unwrap();
    let server_span = calls
        .iter()
        .find(|s| s.span_kind == SpanKind::Server)
        .unwrap();
    for (key, value) in [
        ("mcp.method.name", "tools/call"),
        ("gen_ai.tool.name", "add"),
        ("gen_ai.operation.name", "execute_tool"),
        ("mcp.protocol.version", "2025-11-25"),
        ("network.transport", "tcp"),
        ("jsonrpc.protocol.version", "2.0"),
    ] {
        assert_eq!(attr(server_span, key).as_deref(), Some(value), "{key}");
        assert_eq!(
            attr(client_span, key).as_deref(),
            Some(value),
            "client {key}"
        );
    }
    assert!(attr(server_span, "jsonrpc.request.id").is_some());
    assert_eq!(attr(server_span, "error.type"), None);
    assert_eq!(server_span.status, Status::Unset);
    // The session id is a capability: only a digest of it is exported.
    let hashed = attr(server_span, "mcp.session.id").unwrap();
    assert_eq!(hashed.len(), 16);
    assert!(!session_id.contains(&hashed) && !hashed.contains(&session_id));
    // One trace: client span → HTTP span (POST /mcp) → message span.
    let http = parent_of(&spans, server_span).expect("the HTTP request's span");
    assert_eq!(http.name, "POST /mcp");
    assert_eq!(http.span_kind, SpanKind::Server);
    assert_eq!(
        attr(http, "http.response.status_code").as_deref(),
        Some("200")
    );
    assert_eq!(attr(http, "http.request.method").as_deref(), Some("POST"));
    assert_eq!(attr(http, "http.route").as_deref(), Some("/mcp"));
    assert_eq!(http.parent_span_id, client_span.span_context.span_id());
    let trace = client_span.span_context.trace_id();
    assert_ne!(trace, TraceId::INVALID);
    assert_eq!(server_span.span_context.trace_id(), trace);
    assert_eq!(http.span_context.trace_id(), trace);

    // The prompt.
    let prompt = span(&spans, "prompts/get greet", SpanKind::Server);
    assert_eq!(attr(prompt, "gen_ai.prompt.name").as_deref(), Some("greet"));

    // Metrics: the operation's duration by method and tool, and the session's.
    let metrics = exporters.metrics();
    let call = metrics
        .iter()
        .find(|(n, a, _)| {
            n == "mcp.server.operation.duration"
                && a.get("gen_ai.tool.name").map(String::as_str) == Some("add")
        })
        .expect("the tool call's duration");
    assert_eq!(call.1["mcp.method.name"], "tools/call");
    assert_eq!(call.1["mcp.protocol.version"], "2025-11-25");
    assert_eq!(call.1["network.transport"], "tcp");
    assert!(!call.1.contains_key("error.type"));
    assert_eq!(call.2, 1.0);
    let sessions: Vec<_> = metrics
        .iter()
        .filter(|(n, _, _)| n == "mcp.server.session.duration")
        .collect();
    assert!(
        sessions
            .iter()
            .any(|(_, a, _)| a["mcp.protocol.version"] == "2025-11-25"
                && a["network.transport"] == "tcp"),
        "the ended session's duration: {sessions:?}"
    );
    assert!(
        metrics
            .iter()
            .any(|(n, _, _)| n == "mcp.client.operation.duration")
    );
}

#[tokio::test]
async fn a_modern_call_continues_the_trace_the_client_started() {
    let (_one, exporters) = exporters().await;
    let srv = spawn(server()).await.unwrap();
    let client = McpClient::builder()
        .era(Era::Modern)
        .connect(srv.url())
        .await
        .unwrap();
    // The caller's own span: the client's request span and the server's spans join its trace.
    let outer = tracing::info_span!("caller");
    let sum = tracing::Instrument::instrument(
        client.call_tool("add", json!({"a": 20, "b": 22})),
        outer.clone(),
    )
    .await
    .unwrap();
    assert_eq!(sum.is_error, None);
    drop(outer);
    srv.shutdown().await;
    let spans = exporters.spans();
    let caller = one(&spans, "caller");
    let server_span = span(&spans, "tools/call add", SpanKind::Server);
    let client_span = span(&spans, "tools/call add", SpanKind::Client);
    assert_eq!(client_span.parent_span_id, caller.span_context.span_id());
    assert_eq!(
        server_span.span_context.trace_id(),
        caller.span_context.trace_id(),
        "the server continues the client's trace"
    );
    assert_eq!(
        attr(server_span, "mcp.protocol.version").as_deref(),
        Some("2026-07-28")
    );
    assert_eq!(
        attr(server_span, "mcp.session.id"),
        None,
        "no session in 2026-07-28"
    );
    let http = parent_of(&spans, server_span).unwrap();
    assert_eq!(http.name, "POST /mcp");
    assert_eq!(http.parent_span_id, client_span.span_context.span_id());
}

#[tokio::test]
async fn a_tool_error_and_a_json_rpc_error_set_error_type() {
    let (_one, exporters) = exporters().await;
    let srv = spawn(server()).await.unwrap();
    let client = McpClient::connect(srv.url(), mcp_client::auth::NoAuth)
        .await
        .unwrap();
    let failed = client.call_tool("fail", json!({})).await.unwrap();
    assert_eq!(failed.is_error, Some(true));
    // A tool the server does not have: -32602, and no made-up name in the span's name.
    let unknown = client.call_tool("no_such_tool", json!({})).await;
    assert!(unknown.is_err());
    srv.shutdown().await;
    let spans = exporters.spans();

    let tool_error = span(&spans, "tools/call fail", SpanKind::Server);
    assert_eq!(
        attr(tool_error, "error.type").as_deref(),
        Some("tool_error")
    );
    assert!(matches!(tool_error.status, Status::Error { .. }));
    let client_side = span(&spans, "tools/call fail", SpanKind::Client);
    assert_eq!(
        attr(client_side, "error.type").as_deref(),
        Some("tool_error")
    );

    let rpc_error = span(&spans, "tools/call", SpanKind::Server);
    assert_eq!(attr(rpc_error, "error.type").as_deref(), Some("-32602"));
    assert_eq!(
        attr(rpc_error, "rpc.response.status_code").as_deref(),
        Some("-32602")
    );
    assert_eq!(attr(rpc_error, "gen_ai.tool.name"), None);
    assert!(matches!(rpc_error.status, Status::Error { .. }));

    let metrics = exporters.metrics();
    let duration = "mcp.server.operation.duration";
    let tool_error = [("error.type", "tool_error"), ("gen_ai.tool.name", "fail")];
    assert!(total(&metrics, duration, &tool_error) > 0.0);
    let invalid = [
        ("error.type", "-32602"),
        ("rpc.response.status_code", "-32602"),
    ];
    assert!(total(&metrics, duration, &invalid) > 0.0);
}

#[tokio::test]
async fn refused_calls_record_the_decision_on_the_http_span_and_count_it() {
    let (_one, exporters) = exporters().await;
    let (issuer, srv) = protected(|auth| auth.step_up()).await;
    let url = srv.url();
    // No credential: 401.
    let anonymous = McpClient::connect(&url, mcp_client::auth::NoAuth).await;
    assert!(anonymous.is_err());
    // A valid token without the tool's scope: the call is refused with the step-up challenge,
    // 403 insufficient_scope (AZ-14).
    let token = issuer.token(&url).scope("read").subject("ada").sign();
    let client = McpClient::builder()
        .auth(BearerAuth::new(token))
        .era(Era::Modern)
        .connect(&url)
        .await
        .unwrap();
    let allowed = client
        .call_tool("add", json!({"a": 1, "b": 1}))
        .await
        .unwrap();
    assert_eq!(allowed.is_error, None);
    let refused = client
        .call_tool("delete_file", json!({"path": "/tmp/x"}))
        .await;
    assert!(refused.is_err(), "{refused:?}");
    srv.shutdown().await;
    let spans = exporters.spans();

    let http: Vec<_> = spans.iter().filter(|s| s.name == "POST /mcp").collect();
    let denied = http
        .iter()
        .find(|s| attr(s, "http.response.status_code").as_deref() == Some("401"))
        .expect("the refused request's span");
    assert_eq!(attr(denied, "mcp.auth.outcome").as_deref(), Some("denied"));
    assert_eq!(attr(denied, "error.type").as_deref(), Some("401"));
    assert!(attr(denied, "mcp.auth.reason").is_some());
    let allowed = http
        .iter()
        .find(|s| attr(s, "http.response.status_code").as_deref() == Some("200"))
        .unwrap();
    assert_eq!(
        attr(allowed, "mcp.auth.outcome").as_deref(),
        Some("allowed")
    );
    assert_eq!(
        attr(allowed, "mcp.auth.reason").as_deref(),
        Some("valid_credentials")
    );
    assert_eq!(
        attr(allowed, "mcp.auth.credential").as_deref(),
        Some("bearer")
    );
    assert_eq!(attr(allowed, "user.id").as_deref(), Some("ada"));

    let step_up = span(&spans, "tools/call delete_file", SpanKind::Server);
    assert_eq!(
        attr(step_up, "error.type").as_deref(),
        Some("insufficient_scope")
    );
    let step_up_http = parent_of(&spans, step_up).unwrap();
    assert_eq!(
        attr(step_up_http, "http.response.status_code").as_deref(),
        Some("403")
    );
    assert_eq!(attr(step_up_http, "error.type").as_deref(), Some("403"));

    let metrics = exporters.metrics();
    let refusals: Vec<_> = metrics
        .iter()
        .filter(|(n, _, _)| n == "mcp.server.auth.refusals")
        .collect();
    assert!(
        refusals
            .iter()
            .any(|(_, a, v)| a["http.response.status_code"] == "401" && *v >= 1.0),
        "{refusals:?}"
    );
    // No span outlives its request.
    assert!(spans.iter().all(|s| s.end_time >= s.start_time));
}

#[tokio::test]
async fn stdio_messages_get_the_same_spans_and_continue_the_trace_in_meta() {
    let (_one, exporters) = exporters().await;
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let (server_read, server_write) = tokio::io::split(server_io);
    let served = tokio::spawn(server().serve_io(server_read, server_write));
    let (client_read, client_write) = tokio::io::split(client_io);
    let client = McpClient::builder()
        .protocol_version(ProtocolVersion::V2025_11_25)
        .connect_io(client_read, client_write)
        .await
        .unwrap();
    // A trace context set by hand, as any SDK would send it.
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent = "00f067aa0ba902b7";
    let result = client
        .request(
            "tools/call",
            Some(json!({
                "name": "add",
                "arguments": {"a": 1, "b": 2},
                "_meta": {"traceparent": format!("00-{trace}-{parent}-01")},
            })),
            &Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(result["content"][0]["text"], "3");
    client.close().await.unwrap();
    let _ = served.await;
    let spans = exporters.spans();
    let server_span = span(&spans, "tools/call add", SpanKind::Server);
    assert_eq!(
        attr(server_span, "network.transport").as_deref(),
        Some("pipe")
    );
    assert_eq!(
        attr(server_span, "mcp.protocol.version").as_deref(),
        Some("2025-11-25")
    );
    assert_eq!(
        server_span.span_context.trace_id(),
        TraceId::from_hex(trace).unwrap()
    );
    assert_eq!(
        server_span.parent_span_id,
        SpanId::from_hex(parent).unwrap()
    );
    let init = span(&spans, "initialize", SpanKind::Server);
    assert_eq!(attr(init, "network.transport").as_deref(), Some("pipe"));
    let metrics = exporters.metrics();
    let pipe = [("network.transport", "pipe")];
    assert!(total(&metrics, "mcp.server.session.duration", &pipe) > 0.0);
}

#[tokio::test]
async fn unknown_methods_do_not_name_spans() {
    let (_one, exporters) = exporters().await;
    let srv = spawn(server()).await.unwrap();
    let client = McpClient::builder()
        .era(Era::Modern)
        .connect(srv.url())
        .await
        .unwrap();
    let made_up = client
        .request("x/attacker-chosen-name-1234", None, &Default::default())
        .await;
    assert!(made_up.is_err());
    srv.shutdown().await;
    let spans = exporters.spans();
    let server_span = spans
        .iter()
        .find(|s| {
            s.span_kind == SpanKind::Server
                && attr(s, "mcp.method.name").as_deref() == Some("_OTHER")
        })
        .expect("the unknown method's span");
    assert_eq!(server_span.name, "_OTHER");
    assert_eq!(attr(server_span, "error.type").as_deref(), Some("-32601"));
    assert!(
        spans
            .iter()
            .filter(|s| s.span_kind == SpanKind::Server)
            .all(|s| !s.name.contains("attacker"))
    );
}

#[tokio::test]
async fn a_replayed_dpop_proof_is_counted_and_its_check_has_a_span() {
    let (_one, exporters) = exporters().await;
    let (issuer, srv) = protected(|auth| auth.dpop(mcp_server::auth::DpopConfig::allowed())).await;
    let url = srv.url();
    let key = mcp_server::testing::DpopKey::generate().unwrap();
    let token = issuer.token(&url).cnf_jkt(&key.thumbprint()).sign();
    let proof = key.proof("POST", &url, &token).sign();
    let authorization = format!("DPoP {token}");
    let headers = [
        ("authorization", authorization.as_str()),
        ("dpop", proof.as_str()),
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "add"),
    ];
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
    "name": "add",
    "arguments": {"a": 1, "b": 2},
    "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {},
    }}})
    .to_string();
    let first = mcp_tests::post(&url, &headers, &body).await;
    assert_eq!(first.status, 200, "{}", first.body);
    // The same proof again (DP-07): refused, counted.
    assert_eq!(mcp_tests::post(&url, &headers, &body).await.status, 401);
    srv.shutdown().await;
    let spans = exporters.spans();
    let verify: Vec<_> = spans.iter().filter(|s| s.name == "dpop.verify").collect();
    assert_eq!(verify.len(), 2, "one proof check per request");
    assert!(verify.iter().all(|s| s.span_kind == SpanKind::Internal));
    let replay_checks: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "dpop.replay_check")
        .collect();
    assert_eq!(replay_checks.len(), 2);
    let http = parent_of(&spans, verify[0]).unwrap();
    assert_eq!(http.name, "POST /mcp");
    let metrics = exporters.metrics();
    assert_eq!(total(&metrics, "mcp.server.dpop.replays", &[]), 1.0);
    let replayed = [("mcp.auth.reason", "dpop_proof_replayed")];
    assert!(total(&metrics, "mcp.server.auth.refusals", &replayed) > 0.0);
}

#[tokio::test]
async fn each_status_a_task_enters_is_counted() {
    let (_one, exporters) = exporters().await;
    let srv = spawn(
        McpServer::builder("tasks")
            .tool(
                ToolDef::from_fn("nap", |_c: Context, NoArgs {}| async {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    "rested"
                })
                .task_support(mcp_server::tasks::TaskSupport::Optional),
            )
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {
            "extensions": {"io.modelcontextprotocol/tasks": {}}
        },
    });
    let created = mcp_tests::modern_post(
        &srv.url(),
        "tools/call",
        json!({"name": "nap", "arguments": {}, "_meta": meta}),
        Some("nap"),
    )
    .await
    .result();
    assert_eq!(created["status"], "working", "{created}");
    let id = created["taskId"].as_str().unwrap().to_owned();
    let mut status = String::new();
    for _ in 0..100 {
        let task = mcp_tests::modern_post(
            &srv.url(),
            "tasks/get",
            json!({"taskId": id, "_meta": meta}),
            Some(&id),
        )
        .await
        .result();
        status = task["status"].as_str().unwrap_or_default().to_owned();
        if status == "completed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(status, "completed");
    srv.shutdown().await;
    let metrics = exporters.metrics();
    let count = |status: &str| total(&metrics, "mcp.server.tasks", &[("mcp.task.status", status)]);
    assert_eq!(count("working"), 1.0);
    assert_eq!(count("completed"), 1.0);
    assert_eq!(count("failed") + count("cancelled"), 0.0);
}
