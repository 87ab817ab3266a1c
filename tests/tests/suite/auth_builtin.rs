//! Built-in credentials, black-box: API keys (roles, surfaces, legacy keys, expiry, revocation,
//! disabled owners, workspaces, `?token=`), HTTP Basic users, JWTs beside keys, the audit trail,
//! and the SQLite key store (restart, 1,000 concurrent calls, migration of an old schema).
//!
//! Real servers on 127.0.0.1:0. The bundled client (`mcp-client`, `ApiKeyAuth`) walks the
//! role × tool matrix; raw HTTP (2026-07-28 framing) checks statuses, headers and bodies. Every
//! log line of each test is captured (a subscriber scoped to the test), and each test checks that
//! none of its secrets appears in a log line, an audit event, a response or an error.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Extension;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use mcp_client::McpClient;
use mcp_client::auth::{ApiKeyAuth, BasicAuth};
use mcp_server::auth::{
    ApiKeys, AuditAction, AuditEvent, AuditSink, AuthContext, AuthFailureLimits, AuthRejection,
    AuthorizationConfig, Caller, CredentialKind, DEFAULT_ROLES, Danger, JsonlFileSink,
    JwtValidator, JwtValidatorConfig, KeyDigest, MemoryAuditSink, MemoryStore, NewApiKey,
    RoleLadder, SqliteStore, Surface, User, UserStore, hash_password,
};
use mcp_server::testing::{TestIssuer, TestListener, spawn};
use mcp_server::{Context, McpServer, tool};
use mcp_tests::{JSON_AND_SSE, RawResponse, send};
use reqwest::Method;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// The server under test: Dagu-like tools, one per rung of the default ladder.

/// Read the workflows.
#[tool(min_role = "viewer", annotations(read_only))]
fn list_workflows() -> String {
    "build, deploy".to_owned()
}

/// Start a run of a workflow.
#[tool(min_role = "operator")]
fn start_run(dag: String) -> String {
    format!("started {dag}")
}

/// Stop a run.
#[tool(min_role = "operator")]
fn stop_run(run_id: String) -> String {
    format!("stopped {run_id}")
}

/// Replace a workflow's spec.
#[tool(min_role = "developer")]
fn edit_spec(dag: String, spec: String) -> String {
    format!("saved {dag} ({} bytes)", spec.len())
}

/// Read the audit log.
#[tool(min_role = "manager")]
fn read_audit() -> String {
    "audit entries".to_owned()
}

/// Manage API keys.
#[tool(min_role = "admin")]
fn manage_keys() -> String {
    "keys".to_owned()
}

/// Who is calling, and the URI the tool saw.
#[tool]
fn whoami(ctx: &Context) -> Value {
    json!({
        "auth": ctx.auth(),
        "uri": ctx.http().map(|h| h.uri.to_string()),
    })
}

/// Every role-guarded tool and the role it needs.
const MATRIX: [(&str, &str); 6] = [
    ("list_workflows", "viewer"),
    ("start_run", "operator"),
    ("stop_run", "operator"),
    ("edit_spec", "developer"),
    ("read_audit", "manager"),
    ("manage_keys", "admin"),
];

fn args_of(tool: &str) -> Value {
    match tool {
        "start_run" => json!({"dag": "build"}),
        "stop_run" => json!({"run_id": "r-1"}),
        "edit_spec" => json!({"dag": "build", "spec": "steps: [hunter2-spec-value]"}),
        _ => json!({}),
    }
}

fn server(config: AuthorizationConfig) -> McpServer {
    McpServer::builder("workflows")
        .authorization(config)
        .tool(list_workflows)
        .tool(start_run)
        .tool(stop_run)
        .tool(edit_spec)
        .tool(read_audit)
        .tool(manage_keys)
        .tool(whoami)
        .build()
        .expect("the server builds")
}

fn json_response(v: &Value) -> Response {
    ([("content-type", "application/json")], v.to_string()).into_response()
}

/// `GET /api/runs` for anyone authenticated on the REST surface, `POST /api/runs` for operators.
async fn list_runs(Extension(ctx): Extension<Arc<AuthContext>>) -> Response {
    json_response(&json!({
        "runs": ["r-1"],
        "subject": ctx.subject,
        "role": ctx.role,
        "workspace": ctx.workspace,
    }))
}

async fn create_run(caller: Caller) -> Result<Response, AuthRejection> {
    caller.require_role("operator")?;
    Ok(json_response(&json!({"started": "r-2"})))
}

/// The MCP endpoint and the REST API in one axum app, served on 127.0.0.1:0.
struct App {
    base: String,
}

impl App {
    fn mcp(&self) -> String {
        format!("{}/mcp", self.base)
    }
    fn runs(&self) -> String {
        format!("{}/api/runs", self.base)
    }
}

async fn serve_app(server: McpServer) -> App {
    let api = axum::Router::new()
        .route("/api/runs", get(list_runs).post(create_run))
        .layer(server.auth_layer(Surface::RestApi));
    let app = server.into_router().merge(api);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    App {
        base: format!("http://{addr}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP, 2026-07-28 framing.

const V: &str = "2026-07-28";

fn meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": V,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "auth-builtin", "version": "0"},
    })
}

fn call_body(tool: &str, args: &Value) -> String {
    json!({"jsonrpc":"2.0","id":1,"method":"tools/call",
           "params":{"name":tool,"arguments":args,"_meta":meta()}})
    .to_string()
}

fn mcp_headers<'a>(tool: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut h = vec![
        ("content-type", "application/json"),
        ("accept", JSON_AND_SSE),
        ("mcp-protocol-version", V),
        ("mcp-method", "tools/call"),
        ("mcp-name", tool),
    ];
    h.extend_from_slice(extra);
    h
}

/// `tools/call` with these extra headers.
async fn call(url: &str, extra: &[(&str, &str)], tool: &str, args: Value) -> RawResponse {
    let body = call_body(tool, &args);
    send(Method::POST, url, &mcp_headers(tool, extra), Some(&body)).await
}

/// `tools/call` with `Authorization: Bearer <key>`.
async fn call_with_key(url: &str, key: &str, tool: &str, args: Value) -> RawResponse {
    let bearer = format!("Bearer {key}");
    call(url, &[("authorization", &bearer)], tool, args).await
}

/// The JSON-RPC result of a 200 answer.
fn result(r: &RawResponse) -> Value {
    assert_eq!(r.status, 200, "{}", r.body);
    r.messages()
        .into_iter()
        .find_map(|m| m.get("result").cloned())
        .unwrap_or_else(|| panic!("no result in {}", r.body))
}

fn text(result: &Value) -> String {
    result["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The `auth` that `whoami` saw.
async fn whoami_with(url: &str, extra: &[(&str, &str)]) -> Value {
    let r = call(url, extra, "whoami", json!({})).await;
    result(&r)["structuredContent"].clone()
}

fn www(r: &RawResponse) -> String {
    r.headers
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(" | ")
}

// ---------------------------------------------------------------------------------------------
// Every log line of the process, and the no-secret check.

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

thread_local! {
    /// What the capture of the test running on this thread holds.
    static CAPTURED: std::cell::RefCell<Option<Arc<Mutex<Vec<u8>>>>> =
        const { std::cell::RefCell::new(None) };
}

/// Keeps every event of every target at every level emitted on this thread while it lives.
///
/// The capture is scoped to the test, not global: the integration tests share one process, and
/// a global subscriber would be the only one any module could install. A `#[tokio::test]` runs
/// its runtime, the server under test and the client on the test's thread, so everything the
/// test sets off is captured.
struct Logs {
    _default: tracing::subscriber::DefaultGuard,
}

impl Drop for Logs {
    fn drop(&mut self) {
        CAPTURED.with(|c| c.borrow_mut().take());
    }
}

/// Starts capturing this test's log lines (see [`Logs`]); keep the guard for the whole test.
fn logs() -> Logs {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let writer = Capture(Arc::clone(&buf));
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let previous = CAPTURED.with(|c| c.borrow_mut().replace(buf));
    assert!(previous.is_none(), "one capture per test");
    Logs {
        _default: tracing::subscriber::set_default(subscriber),
    }
}

/// What this test logged so far; panics when the test captures nothing (a check of an empty
/// capture would pass for nothing).
fn log_text() -> String {
    CAPTURED.with(|c| {
        let captured = c.borrow();
        let buf = captured
            .as_ref()
            .expect("the test captures its logs: `let _logs = logs();` first");
        String::from_utf8_lossy(&buf.lock().unwrap()).into_owned()
    })
}

/// No secret (nor its random body) in the logs, the audit events or the given texts.
fn assert_no_secret(secrets: &[&str], audit: &[AuditEvent], texts: &[&str]) {
    let logs = log_text();
    let events = serde_json::to_string(audit).unwrap();
    for secret in secrets {
        let body = secret
            .get(secret.len().saturating_sub(40)..)
            .unwrap_or(secret);
        for (what, hay) in [("log", logs.as_str()), ("audit", events.as_str())]
            .into_iter()
            .chain(texts.iter().map(|t| ("text", *t)))
        {
            assert!(!hay.contains(body), "a secret appears in a {what}");
        }
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("mcp-auth-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn actions(events: &[AuditEvent]) -> Vec<AuditAction> {
    events.iter().map(|e| e.action).collect()
}

// ---------------------------------------------------------------------------------------------
// Roles

/// Every role of the default ladder against every tool, through the bundled client (key in
/// `X-API-Key` for half of the roles, `Authorization: Bearer` for the others): allowed exactly
/// when the role is at least the tool's `min_role`; a denial is the documented tool error; each
/// call leaves `received` then `succeeded` or `denied` in the audit trail, attributed to the key's
/// service account.
#[tokio::test]
async fn role_matrix_every_role_against_every_tool() {
    let _logs = logs();
    let audit = MemoryAuditSink::new();
    let keys = ApiKeys::in_memory();
    let srv = spawn(server(
        AuthorizationConfig::builtin(keys.clone()).audit(audit.clone()),
    ))
    .await
    .unwrap();
    let ladder = RoleLadder::default();
    let mut secrets = Vec::new();
    let (mut allowed_calls, mut denied_calls) = (0, 0);
    for (i, role) in DEFAULT_ROLES.iter().enumerate() {
        let created = keys
            .create(NewApiKey::new(format!("key-{role}"), *role).surface(Surface::Mcp))
            .await
            .unwrap();
        let secret = created.secret.expose().to_owned();
        let auth = if i % 2 == 0 {
            ApiKeyAuth::new(secret.clone())
        } else {
            ApiKeyAuth::new(secret.clone()).bearer()
        };
        let client = McpClient::connect(&srv.url(), auth).await.unwrap();
        for (tool, min) in MATRIX {
            let r = client.call_tool(tool, args_of(tool)).await.unwrap();
            let allowed = ladder.allows(Some(role), min);
            assert_eq!(
                !r.is_error(),
                allowed,
                "{role} calling {tool} (needs {min})"
            );
            let text = r
                .content
                .first()
                .and_then(|c| c.as_text())
                .unwrap_or_default();
            if allowed {
                allowed_calls += 1;
            } else {
                denied_calls += 1;
                assert_eq!(
                    text,
                    format!("Tool \"{tool}\" requires role '{min}'. Current role: '{role}'")
                );
            }
        }
        let me = client.call_tool("whoami", json!({})).await.unwrap();
        let me = me.structured_content.unwrap();
        assert_eq!(me["auth"]["role"], *role);
        assert_eq!(me["auth"]["credential"], "api_key");
        assert_eq!(me["auth"]["credential_id"], created.key.id.as_str());
        assert_eq!(me["auth"]["subject"], format!("api_key:{}", created.key.id));
        secrets.push(secret);
    }
    assert_eq!((allowed_calls, denied_calls), (19, 11));

    let events = audit.events();
    let tool_events: Vec<_> = events
        .iter()
        .filter(|e| e.tool.as_deref().is_some_and(|t| t != "whoami"))
        .collect();
    let count = |a: AuditAction| tool_events.iter().filter(|e| e.action == a).count();
    assert_eq!(count(AuditAction::ToolCallReceived), 30);
    assert_eq!(count(AuditAction::ToolCallSucceeded), 19);
    assert_eq!(count(AuditAction::ToolCallDenied), 11);
    for e in &tool_events {
        assert_eq!(e.credential_kind, Some(CredentialKind::ApiKey));
        assert_eq!(e.subject_type.as_deref(), Some("service_account"));
        assert!(e.subject.as_deref().unwrap().starts_with("api_key:"));
        assert!(e.correlation_id.is_some());
        if e.action == AuditAction::ToolCallDenied {
            assert_eq!(e.reason.as_deref(), Some("insufficient_role"));
        }
        if e.action == AuditAction::ToolCallSucceeded {
            assert!(e.duration_ms.is_some());
        }
    }
    // Arguments by shape only: the spec's value never reaches the trail.
    let edit = tool_events
        .iter()
        .find(|e| e.tool.as_deref() == Some("edit_spec"))
        .unwrap();
    assert_eq!(edit.arguments.as_ref().unwrap()["spec"], "string(27)");
    let trail = serde_json::to_string(&events).unwrap();
    assert!(!trail.contains("hunter2-spec-value"));
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_no_secret(&refs, &events, &[]);
}

/// With the step-up option, a missing role is HTTP 403 `insufficient_scope`, not a tool error.
#[tokio::test]
async fn role_denial_with_step_up_is_a_403() {
    let _logs = logs();
    let keys = ApiKeys::in_memory();
    let srv = spawn(server(AuthorizationConfig::builtin(keys.clone()).step_up()))
        .await
        .unwrap();
    let viewer = keys
        .create(NewApiKey::new("v", "viewer").surface(Surface::Mcp))
        .await
        .unwrap();
    let r = call_with_key(
        &srv.url(),
        viewer.secret.expose(),
        "start_run",
        args_of("start_run"),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(
        www(&r).contains("error=\"insufficient_scope\""),
        "{}",
        www(&r)
    );
    assert!(www(&r).contains("requires role 'operator'"), "{}", www(&r));
    let r = call_with_key(
        &srv.url(),
        viewer.secret.expose(),
        "list_workflows",
        json!({}),
    )
    .await;
    assert_eq!(text(&result(&r)), "build, deploy");
}

/// With `filter_tools`, `tools/list` shows each role exactly the tools it may call.
#[tokio::test]
async fn filter_tools_hides_what_the_role_cannot_call() {
    let _logs = logs();
    let keys = ApiKeys::in_memory();
    let srv = spawn(server(
        AuthorizationConfig::builtin(keys.clone()).filter_tools(),
    ))
    .await
    .unwrap();
    let ladder = RoleLadder::default();
    for role in DEFAULT_ROLES {
        let k = keys
            .create(NewApiKey::new(format!("k-{role}"), role).surface(Surface::Mcp))
            .await
            .unwrap();
        let client = McpClient::connect(&srv.url(), ApiKeyAuth::new(k.secret.expose()))
            .await
            .unwrap();
        let listed: BTreeSet<String> = client
            .list_tools()
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        let mut expected: BTreeSet<String> = MATRIX
            .iter()
            .filter(|(_, min)| ladder.allows(Some(role), min))
            .map(|(t, _)| (*t).to_owned())
            .collect();
        expected.insert("whoami".to_owned());
        assert_eq!(listed, expected, "{role}");
    }
}

/// A `min_role` that is not on the ladder is a build error, not a silent allow or deny.
#[test]
fn unknown_min_role_is_a_build_error() {
    let ladder = RoleLadder::new(["reader", "writer"]).unwrap();
    let err = McpServer::builder("x")
        .authorization(AuthorizationConfig::builtin(ApiKeys::in_memory()).roles(ladder))
        .tool(start_run)
        .build()
        .unwrap_err();
    assert!(
        matches!(err, mcp_server::BuildError::UnknownRole { ref role, .. } if role == "operator"),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Surfaces, legacy keys

/// One authorization layer for MCP and REST: an MCP-only key works on MCP and gets a JSON 403
/// on REST, a REST-only key the reverse, a key with both works on both; a legacy key (stored
/// without surfaces) works on both and a key whose only surface nobody knows works on neither.
/// REST routes see the same `AuthContext` and the same role checks.
#[tokio::test]
async fn surfaces_limit_keys_to_mcp_rest_or_both() {
    let _logs = logs();
    let dir = temp_dir("surfaces");
    let db = dir.join("auth.db");
    let audit = MemoryAuditSink::new();
    let keys = ApiKeys::sqlite(&db).unwrap();
    let app = serve_app(server(
        AuthorizationConfig::builtin(keys.clone()).audit(audit.clone()),
    ))
    .await;
    let make = |name: &'static str, surfaces: Vec<Surface>| {
        let keys = keys.clone();
        async move {
            let mut n = NewApiKey::new(name, "operator");
            for s in surfaces {
                n = n.surface(s);
            }
            keys.create(n).await.unwrap()
        }
    };
    let mcp_only = make("mcp-only", vec![Surface::Mcp]).await;
    let rest_only = make("rest-only", vec![Surface::RestApi]).await;
    let both = make("both", vec![Surface::Mcp, Surface::RestApi]).await;
    let legacy = make("legacy", vec![Surface::Mcp]).await;
    let odd = make("odd", vec![Surface::Mcp]).await;
    // Rows as an older version (or a damaged one) left them.
    let sql = rusqlite::Connection::open(&db).unwrap();
    sql.execute(
        "UPDATE api_keys SET surfaces = NULL, attribution = NULL WHERE name = 'legacy'",
        [],
    )
    .unwrap();
    sql.execute(
        "UPDATE api_keys SET surfaces = '[\"webhooks\"]' WHERE name = 'odd'",
        [],
    )
    .unwrap();
    drop(sql);

    let rest = |key: String, method: Method| {
        let url = app.runs();
        async move {
            let bearer = format!("Bearer {key}");
            send(method, &url, &[("authorization", &bearer)], None).await
        }
    };
    let cases = [
        (&mcp_only, true, false),
        (&rest_only, false, true),
        (&both, true, true),
        (&legacy, true, true),
        (&odd, false, false),
    ];
    let mut bodies = Vec::new();
    for (key, on_mcp, on_rest) in cases {
        let secret = key.secret.expose();
        let m = call_with_key(&app.mcp(), secret, "list_workflows", json!({})).await;
        let r = rest(secret.to_owned(), Method::GET).await;
        let name = &key.key.name;
        if on_mcp {
            assert_eq!(text(&result(&m)), "build, deploy", "{name} on MCP");
        } else {
            assert_eq!(m.status, 403, "{name} on MCP: {}", m.body);
            assert_eq!(m.json()["reason"], "api_key_surface_denied");
            assert_eq!(m.json()["error"], "forbidden");
            assert!(
                m.json()["error_description"]
                    .as_str()
                    .unwrap()
                    .contains("mcp")
            );
            assert!(m.header("www-authenticate").is_none());
        }
        if on_rest {
            assert_eq!(r.status, 200, "{name} on REST: {}", r.body);
            assert_eq!(r.json()["role"], "operator");
            let p = rest(secret.to_owned(), Method::POST).await;
            assert_eq!(p.status, 200, "{}", p.body);
        } else {
            assert_eq!(r.status, 403, "{name} on REST: {}", r.body);
            assert_eq!(r.json()["reason"], "api_key_surface_denied");
        }
        bodies.push(m.body);
        bodies.push(r.body);
    }
    // The legacy key: both surfaces, its own service account.
    let stored = keys.get(&legacy.key.id).await.unwrap();
    assert!(stored.is_legacy());
    assert_eq!(stored.effective_surfaces(), Surface::legacy_default());
    assert_eq!(
        stored.attribution.subject(),
        format!("api_key:{}", legacy.key.id)
    );

    // Roles apply on REST as on MCP.
    let viewer = keys
        .create(NewApiKey::new("viewer", "viewer").surface(Surface::RestApi))
        .await
        .unwrap();
    let p = rest(viewer.secret.expose().to_owned(), Method::POST).await;
    assert_eq!(p.status, 403);
    assert_eq!(p.json()["reason"], "insufficient_role");
    assert_eq!(
        rest(viewer.secret.expose().to_owned(), Method::GET)
            .await
            .status,
        200
    );
    let r = send(Method::GET, &app.runs(), &[], None).await;
    assert_eq!(r.status, 401);

    let events = audit.events();
    let surface_denials: Vec<_> = events
        .iter()
        .filter(|e| e.reason.as_deref() == Some("api_key_surface_denied"))
        .collect();
    assert_eq!(surface_denials.len(), 4);
    assert!(
        surface_denials
            .iter()
            .all(|e| e.action == AuditAction::AuthDenied
                && e.credential_id.is_some()
                && e.surface.is_some())
    );
    assert!(
        events
            .iter()
            .any(|e| e.surface.as_deref() == Some("rest_api")
                && e.action == AuditAction::AuthAllowed)
    );
    let secrets: Vec<&str> = [&mcp_only, &rest_only, &both, &legacy, &odd, &viewer]
        .iter()
        .map(|k| k.secret.expose())
        .collect();
    let texts: Vec<&str> = bodies.iter().map(String::as_str).collect();
    assert_no_secret(&secrets, &events, &texts);
    let _ = std::fs::remove_dir_all(dir);
}

// ---------------------------------------------------------------------------------------------
// Unknown, malformed, expired, revoked keys; disabled owners

/// Unknown, malformed, expired and revoked keys get 401 `invalid_token` with a JSON body naming
/// the reason; no credentials get 401 without an error; two credentials get 400. The key is
/// never echoed.
#[tokio::test]
async fn unknown_expired_and_revoked_keys_get_401() {
    let _logs = logs();
    let audit = MemoryAuditSink::new();
    let keys = ApiKeys::in_memory();
    let srv = spawn(server(
        AuthorizationConfig::builtin(keys.clone()).audit(audit.clone()),
    ))
    .await
    .unwrap();
    let url = srv.url();
    let short = keys
        .create(
            NewApiKey::new("short-lived", "viewer")
                .surface(Surface::Mcp)
                .expires_in(Duration::from_secs(2)),
        )
        .await
        .unwrap();
    let revoked = keys
        .create(NewApiKey::new("revoked", "viewer").surface(Surface::Mcp))
        .await
        .unwrap();
    let unknown = format!("mcp_{}", "Z".repeat(43));

    let ok = call_with_key(&url, short.secret.expose(), "list_workflows", json!({})).await;
    assert_eq!(text(&result(&ok)), "build, deploy");
    let ok = call_with_key(&url, revoked.secret.expose(), "list_workflows", json!({})).await;
    assert_eq!(ok.status, 200);
    keys.revoke(&revoked.key.id).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2200)).await;

    let mut bodies = Vec::new();
    for (key, reason, description) in [
        (
            unknown.as_str(),
            "api_key_unknown",
            "the API key is not valid",
        ),
        (
            "mcp_tooshort",
            "api_key_malformed",
            "the API key is malformed",
        ),
        (
            short.secret.expose(),
            "api_key_expired",
            "the API key has expired",
        ),
        (
            revoked.secret.expose(),
            "api_key_revoked",
            "the API key has been revoked",
        ),
    ] {
        let r = call_with_key(&url, key, "list_workflows", json!({})).await;
        assert_eq!(r.status, 401, "{reason}: {}", r.body);
        assert_eq!(
            r.json(),
            json!({"error": "invalid_token", "error_description": description, "reason": reason})
        );
        assert_eq!(
            www(&r),
            format!(
                r#"Bearer realm="mcp", error="invalid_token", error_description="{description}""#
            )
        );
        bodies.push(r.body);
    }
    // No credentials: a challenge without an error (and no metadata: there is no AS).
    let r = call(&url, &[], "list_workflows", json!({})).await;
    assert_eq!(r.status, 401);
    assert_eq!(www(&r), r#"Bearer realm="mcp""#);
    // A JWT-looking token where only keys are accepted.
    let r = call_with_key(&url, "eyJhbGciOiJFUzI1NiJ9.e30.sig", "whoami", json!({})).await;
    assert_eq!(r.status, 401);
    assert!(r.body.contains("not an API key"), "{}", r.body);
    // Two credentials at once.
    let bearer = format!("Bearer {unknown}");
    let r = call(
        &url,
        &[("authorization", &bearer), ("x-api-key", &unknown)],
        "whoami",
        json!({}),
    )
    .await;
    assert_eq!(r.status, 400);

    let events = audit.events();
    for reason in [
        "api_key_unknown",
        "api_key_malformed",
        "api_key_expired",
        "api_key_revoked",
    ] {
        assert!(
            events
                .iter()
                .any(|e| e.action == AuditAction::AuthDenied && e.reason.as_deref() == Some(reason)),
            "{reason}"
        );
    }
    assert!(
        events
            .iter()
            .any(|e| e.reason.as_deref() == Some("no_credentials"))
    );
    let texts: Vec<&str> = bodies.iter().map(String::as_str).collect();
    assert_no_secret(
        &[short.secret.expose(), revoked.secret.expose(), &unknown],
        &events,
        &texts,
    );
}

/// A user-owned key acts for its owner (the audit subject) with its own role; disabling the owner
/// disables the key at once, enabling them restores it; service-account keys are untouched.
#[tokio::test]
async fn disabled_owners_disable_their_user_owned_keys() {
    let _logs = logs();
    let audit = MemoryAuditSink::new();
    let keys = ApiKeys::in_memory();
    let users = keys.users().unwrap().clone();
    users.put_user(User::new("alice", "admin")).await.unwrap();
    let srv = spawn(server(
        AuthorizationConfig::builtin(keys.clone()).audit(audit.clone()),
    ))
    .await
    .unwrap();
    let alices = keys
        .create(
            NewApiKey::new("alice-laptop", "operator")
                .surface(Surface::Mcp)
                .user_owned("alice"),
        )
        .await
        .unwrap();
    let bot = keys
        .create(
            NewApiKey::new("team-bot", "operator")
                .surface(Surface::Mcp)
                .service_account("sa-bot", "Team bot"),
        )
        .await
        .unwrap();
    let bearer = format!("Bearer {}", alices.secret.expose());
    let me = whoami_with(&srv.url(), &[("authorization", &bearer)]).await;
    assert_eq!(me["auth"]["subject"], "alice");
    assert_eq!(
        me["auth"]["role"], "operator",
        "the key's role, not the owner's"
    );
    assert_eq!(
        me["auth"]["attribution"],
        json!({"class": "user_owned", "owner": "alice"})
    );
    let r = call_with_key(&srv.url(), alices.secret.expose(), "manage_keys", json!({})).await;
    assert!(
        result(&r)["isError"].as_bool().unwrap(),
        "the owner's admin role does not apply"
    );

    users.set_user_disabled("alice", true).await.unwrap();
    let r = call_with_key(
        &srv.url(),
        alices.secret.expose(),
        "start_run",
        args_of("start_run"),
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.json()["reason"], "api_key_owner_disabled");
    let r = call_with_key(
        &srv.url(),
        bot.secret.expose(),
        "start_run",
        args_of("start_run"),
    )
    .await;
    assert_eq!(text(&result(&r)), "started build");

    users.set_user_disabled("alice", false).await.unwrap();
    let r = call_with_key(
        &srv.url(),
        alices.secret.expose(),
        "start_run",
        args_of("start_run"),
    )
    .await;
    assert_eq!(text(&result(&r)), "started build");

    let events = audit.events();
    let subject_of = |key_id: &str| {
        events
            .iter()
            .filter(|e| e.credential_id.as_deref() == Some(key_id))
            .filter_map(|e| Some((e.subject.clone()?, e.subject_type.clone()?)))
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(
        subject_of(&alices.key.id),
        BTreeSet::from([("alice".to_owned(), "user".to_owned())])
    );
    assert_eq!(
        subject_of(&bot.key.id),
        BTreeSet::from([("sa-bot".to_owned(), "service_account".to_owned())])
    );
    assert!(
        events
            .iter()
            .any(|e| e.reason.as_deref() == Some("api_key_owner_disabled"))
    );
    assert_no_secret(&[alices.secret.expose(), bot.secret.expose()], &events, &[]);
}

// ---------------------------------------------------------------------------------------------
// Workspaces

/// `?workspace=` selects the workspace; the effective role is the key's grant there; a workspace
/// the key cannot see answers exactly like one that does not exist (404); the selection is in
/// `ctx.auth()` and in the audit events.
#[tokio::test]
async fn workspace_selection_sets_the_effective_role() {
    let _logs = logs();
    let audit = MemoryAuditSink::new();
    let keys = ApiKeys::in_memory();
    let config = AuthorizationConfig::builtin(keys.clone())
        .known_workspaces(["ops", "dev", "finance"])
        .audit(audit.clone());
    let app = serve_app(server(config)).await;
    let scoped = keys
        .create(
            NewApiKey::new("scoped", "viewer")
                .surface(Surface::Mcp)
                .surface(Surface::RestApi)
                .workspace("ops", "operator")
                .workspace("dev", "viewer"),
        )
        .await
        .unwrap();
    let global = keys
        .create(NewApiKey::new("global", "developer").surface(Surface::Mcp))
        .await
        .unwrap();
    let at = |ws: &str| format!("{}?workspace={ws}", app.mcp());
    let s = scoped.secret.expose();

    let r = call_with_key(&at("ops"), s, "start_run", args_of("start_run")).await;
    assert_eq!(text(&result(&r)), "started build");
    let me = whoami_with(&at("ops"), &[("authorization", &format!("Bearer {s}"))]).await;
    assert_eq!(me["auth"]["workspace"], "ops");
    assert_eq!(me["auth"]["role"], "operator");
    assert_eq!(me["auth"]["global_role"], "viewer");

    let r = call_with_key(&at("dev"), s, "start_run", args_of("start_run")).await;
    assert!(result(&r)["isError"].as_bool().unwrap());
    assert!(text(&result(&r)).contains("Current role: 'viewer'"));

    // Outside any workspace the scoped key is the lowest role.
    let r = call_with_key(&app.mcp(), s, "start_run", args_of("start_run")).await;
    assert!(result(&r)["isError"].as_bool().unwrap());
    let r = call_with_key(&app.mcp(), s, "list_workflows", json!({})).await;
    assert_eq!(text(&result(&r)), "build, deploy");

    // Invisible (finance) and nonexistent (nowhere) look the same.
    let hidden = call_with_key(&at("finance"), s, "list_workflows", json!({})).await;
    let missing = call_with_key(
        &at("nowhere"),
        global.secret.expose(),
        "list_workflows",
        json!({}),
    )
    .await;
    assert_eq!(hidden.status, 404);
    assert_eq!(
        (hidden.status, &hidden.body),
        (missing.status, &missing.body)
    );
    assert_eq!(hidden.json()["reason"], "workspace_not_found");
    let bad = call_with_key(
        &at("a%20b"),
        global.secret.expose(),
        "list_workflows",
        json!({}),
    )
    .await;
    assert_eq!(bad.status, 404);

    // A key for all workspaces keeps its role in each.
    let r = call_with_key(
        &at("finance"),
        global.secret.expose(),
        "edit_spec",
        args_of("edit_spec"),
    )
    .await;
    assert!(
        !result(&r)["isError"].as_bool().unwrap_or(false),
        "{}",
        r.body
    );

    // Two selections are refused.
    let two = format!("{}?workspace=ops&workspace=dev", app.mcp());
    assert_eq!(
        call_with_key(&two, s, "whoami", json!({})).await.status,
        400
    );

    // REST reads the same parameter.
    let r = send(
        Method::POST,
        &format!("{}?workspace=ops", app.runs()),
        &[("authorization", &format!("Bearer {s}"))],
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let events = audit.events();
    assert!(
        events
            .iter()
            .any(|e| e.action == AuditAction::ToolCallSucceeded
                && e.tool.as_deref() == Some("start_run")
                && e.workspace.as_deref() == Some("ops")
                && e.role.as_deref() == Some("operator"))
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e.reason.as_deref() == Some("workspace_not_found"))
            .count(),
        3
    );
    assert_no_secret(&[s, global.secret.expose()], &events, &[]);
}

// ---------------------------------------------------------------------------------------------
// `?token=`

/// Off by default: a key in the query is ignored (401 without an error). On: accepted on the MCP
/// endpoint only when no credential header is present, for API keys only, and cut out of the URI
/// before the tool (or a log line) can see it.
#[tokio::test]
async fn query_token_off_by_default_and_header_wins_when_on() {
    let _logs = logs();
    let keys = ApiKeys::in_memory();
    let off = spawn(server(AuthorizationConfig::builtin(keys.clone())))
        .await
        .unwrap();
    let audit = MemoryAuditSink::new();
    let on = serve_app(server(
        AuthorizationConfig::builtin(keys.clone())
            .dangerously_allow(Danger::QueryToken)
            .audit(audit.clone()),
    ))
    .await;
    let key = keys
        .create(
            NewApiKey::new("no-headers", "operator")
                .surface(Surface::Mcp)
                .surface(Surface::RestApi),
        )
        .await
        .unwrap();
    let other = keys
        .create(NewApiKey::new("other", "viewer").surface(Surface::Mcp))
        .await
        .unwrap();
    let k = key.secret.expose();

    let r = call(
        &format!("{}?token={k}", off.url()),
        &[],
        "whoami",
        json!({}),
    )
    .await;
    assert_eq!(r.status, 401);
    assert!(!www(&r).contains("error="), "ignored, as if absent");

    let url = format!("{}?workspace=ops&token={k}", on.mcp());
    let me = whoami_with(&url, &[]).await;
    assert_eq!(me["auth"]["credential_id"], key.key.id.as_str());
    assert_eq!(
        me["uri"], "/mcp?workspace=ops",
        "the token never reaches the handler"
    );

    // A header always wins over the query.
    let bad = format!("Bearer mcp_{}", "Q".repeat(43));
    let r = call(&url, &[("authorization", &bad)], "whoami", json!({})).await;
    assert_eq!(r.status, 401);
    let good = format!("Bearer {}", other.secret.expose());
    let me = whoami_with(&url, &[("authorization", &good)]).await;
    assert_eq!(me["auth"]["credential_id"], other.key.id.as_str());

    // Only API keys: a JWT in the query is ignored.
    let r = call(
        &format!("{}?token=eyJhbGciOiJFUzI1NiJ9.e30.x", on.mcp()),
        &[],
        "whoami",
        json!({}),
    )
    .await;
    assert_eq!(r.status, 401);
    assert!(!www(&r).contains("error="));

    // Only on the MCP endpoint.
    let r = send(Method::GET, &format!("{}?token={k}", on.runs()), &[], None).await;
    assert_eq!(r.status, 401);

    let events = audit.events();
    assert!(
        events
            .iter()
            .all(|e| e.path.as_deref().is_none_or(|p| !p.contains('?')))
    );
    assert_no_secret(&[k, other.secret.expose()], &events, &[]);
}

// ---------------------------------------------------------------------------------------------
// Basic and JWT

/// Basic mode: Argon2id-hashed passwords in a user store; the user's role applies to tools;
/// wrong passwords and unknown users look the same; disabled users are refused.
#[tokio::test]
async fn basic_mode_checks_hashed_passwords() {
    let _logs = logs();
    let store = Arc::new(MemoryStore::new());
    let hash = hash_password("ada-pass-123").unwrap();
    store
        .put_user(User::new("ada", "admin").password_hash(hash))
        .await
        .unwrap();
    store
        .put_user(User::new("bob", "viewer").password_hash(hash_password("bob-pass-456").unwrap()))
        .await
        .unwrap();
    let mut carol = User::new("carol", "admin").password_hash(hash_password("carol-pass").unwrap());
    carol.disabled = true;
    store.put_user(carol).await.unwrap();
    let audit = MemoryAuditSink::new();
    let srv = spawn(server(
        AuthorizationConfig::basic(Arc::clone(&store)).audit(audit.clone()),
    ))
    .await
    .unwrap();
    let basic = |u: &str, p: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
        )
    };

    let ada = McpClient::connect(&srv.url(), BasicAuth::new("ada", "ada-pass-123"))
        .await
        .unwrap();
    assert!(
        !ada.call_tool("manage_keys", json!({}))
            .await
            .unwrap()
            .is_error()
    );
    let r = call(
        &srv.url(),
        &[("authorization", &basic("bob", "bob-pass-456"))],
        "start_run",
        args_of("start_run"),
    )
    .await;
    assert!(result(&r)["isError"].as_bool().unwrap());

    let r = call(&srv.url(), &[], "whoami", json!({})).await;
    assert_eq!(r.status, 401);
    assert_eq!(www(&r), r#"Basic realm="mcp", charset="UTF-8""#);
    let wrong = call(
        &srv.url(),
        &[("authorization", &basic("ada", "nope"))],
        "whoami",
        json!({}),
    )
    .await;
    let nobody = call(
        &srv.url(),
        &[("authorization", &basic("zed", "nope"))],
        "whoami",
        json!({}),
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert_eq!((wrong.status, &wrong.body), (nobody.status, &nobody.body));
    assert_eq!(wrong.json()["reason"], "basic_invalid_credentials");
    let r = call(
        &srv.url(),
        &[("authorization", &basic("carol", "carol-pass"))],
        "whoami",
        json!({}),
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["reason"], "user_disabled");

    let events = audit.events();
    assert!(
        events
            .iter()
            .any(|e| e.credential_kind == Some(CredentialKind::Basic)
                && e.subject.as_deref() == Some("ada"))
    );
    assert_no_secret(
        &["ada-pass-123", "bob-pass-456", "carol-pass"],
        &events,
        &[&wrong.body, &nobody.body],
    );
}

/// Builtin mode with JWTs too: the role comes from the token's `role` claim; a token without one
/// has no role; `mcp_` tokens are only ever checked as keys.
#[tokio::test]
async fn builtin_mode_accepts_jwts_beside_keys() {
    let _logs = logs();
    let issuer = TestIssuer::start().await.unwrap();
    let keys = ApiKeys::in_memory();
    let jwt = JwtValidator::new(JwtValidatorConfig::new(issuer.issuer(), "")).unwrap();
    let listener = TestListener::bind().await.unwrap();
    let config = AuthorizationConfig::builtin(keys.clone())
        .authorization_server(issuer.issuer())
        .resource(listener.url())
        .validator(jwt);
    let srv = listener.spawn(server(config));
    let dev = issuer
        .token(&srv.url())
        .subject("dana")
        .claim("role", json!("developer"))
        .sign();
    let r = call_with_key(&srv.url(), &dev, "edit_spec", args_of("edit_spec")).await;
    assert!(
        !result(&r)["isError"].as_bool().unwrap_or(false),
        "{}",
        r.body
    );
    let me = whoami_with(&srv.url(), &[("authorization", &format!("Bearer {dev}"))]).await;
    assert_eq!(me["auth"]["subject"], "dana");
    assert_eq!(me["auth"]["credential"], "bearer");

    let no_role = issuer.token(&srv.url()).subject("eve").sign();
    let r = call_with_key(&srv.url(), &no_role, "list_workflows", json!({})).await;
    assert!(text(&result(&r)).contains("Current role: 'none'"));

    let k = keys
        .create(NewApiKey::new("k", "operator").surface(Surface::Mcp))
        .await
        .unwrap();
    let r = call_with_key(
        &srv.url(),
        k.secret.expose(),
        "start_run",
        args_of("start_run"),
    )
    .await;
    assert_eq!(text(&result(&r)), "started build");
    let r = call_with_key(
        &srv.url(),
        &format!("mcp_{}", "J".repeat(43)),
        "whoami",
        json!({}),
    )
    .await;
    assert_eq!(r.json()["reason"], "api_key_unknown");
    // With authorization servers named, the metadata is served and challenges point at it.
    let r = call(&srv.url(), &[], "whoami", json!({})).await;
    assert!(www(&r).contains("resource_metadata="), "{}", www(&r));
}

// ---------------------------------------------------------------------------------------------
// Audit file

/// The JSON-lines sink writes today's file; every decision and tool call is in it, with arguments
/// by shape and no secret.
#[tokio::test]
async fn audit_events_reach_the_jsonl_file() {
    let _logs = logs();
    let dir = temp_dir("audit");
    let sink = Arc::new(JsonlFileSink::open(&dir, 7).unwrap());
    let keys = ApiKeys::in_memory();
    let config = AuthorizationConfig::builtin(keys.clone())
        .audit_shared(Arc::clone(&sink) as Arc<dyn AuditSink>);
    let srv = spawn(server(config)).await.unwrap();
    let k = keys
        .create(NewApiKey::new("ci", "operator").surface(Surface::Mcp))
        .await
        .unwrap();
    let r = call_with_key(
        &srv.url(),
        k.secret.expose(),
        "edit_spec",
        args_of("edit_spec"),
    )
    .await;
    assert_eq!(r.status, 200);
    let r = call_with_key(
        &srv.url(),
        k.secret.expose(),
        "start_run",
        args_of("start_run"),
    )
    .await;
    assert_eq!(text(&result(&r)), "started build");
    sink.flush();
    let events = JsonlFileSink::read_recent(&dir, 100).unwrap();
    assert_eq!(
        actions(&events),
        [
            AuditAction::AuthAllowed,
            AuditAction::ToolCallReceived,
            AuditAction::ToolCallDenied,
            AuditAction::AuthAllowed,
            AuditAction::ToolCallReceived,
            AuditAction::ToolCallSucceeded,
        ]
    );
    // One correlation id per request, shared by its decision and tool events.
    assert_eq!(events[0].correlation_id, events[2].correlation_id);
    assert_ne!(events[0].correlation_id, events[3].correlation_id);
    assert_eq!(events[5].tool.as_deref(), Some("start_run"));
    assert_eq!(events[5].arguments, Some(json!({"dag": "string(5)"})));
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
    assert_eq!(files.len(), 1);
    let raw = std::fs::read_to_string(files[0].path()).unwrap();
    assert!(!raw.contains("hunter2-spec-value"));
    assert_no_secret(&[k.secret.expose()], &events, &[&raw]);
    let _ = std::fs::remove_dir_all(dir);
}

// ---------------------------------------------------------------------------------------------
// The SQLite store

/// Keys (and their revocation and last use) survive a restart of the server and the store.
#[tokio::test]
async fn the_key_store_survives_a_restart() {
    let _logs = logs();
    let dir = temp_dir("restart");
    let db = dir.join("auth.db");
    let (kept, gone) = {
        let keys = ApiKeys::sqlite(&db).unwrap();
        let srv = spawn(server(AuthorizationConfig::builtin(keys.clone())))
            .await
            .unwrap();
        let kept = keys
            .create(NewApiKey::new("kept", "operator").surface(Surface::Mcp))
            .await
            .unwrap();
        let gone = keys
            .create(NewApiKey::new("gone", "operator").surface(Surface::Mcp))
            .await
            .unwrap();
        let r = call_with_key(
            &srv.url(),
            kept.secret.expose(),
            "start_run",
            args_of("start_run"),
        )
        .await;
        assert_eq!(text(&result(&r)), "started build");
        keys.revoke(&gone.key.id).await.unwrap();
        srv.shutdown().await;
        (kept, gone)
    };
    let store = Arc::new(SqliteStore::open(&db).unwrap());
    assert_eq!(
        store.schema_version().unwrap(),
        SqliteStore::latest_schema_version()
    );
    store.check_integrity().unwrap();
    let keys = ApiKeys::new(Arc::clone(&store));
    let srv = spawn(server(AuthorizationConfig::builtin(keys.clone())))
        .await
        .unwrap();
    let r = call_with_key(
        &srv.url(),
        kept.secret.expose(),
        "start_run",
        args_of("start_run"),
    )
    .await;
    assert_eq!(text(&result(&r)), "started build");
    let r = call_with_key(
        &srv.url(),
        gone.secret.expose(),
        "start_run",
        args_of("start_run"),
    )
    .await;
    assert_eq!(r.json()["reason"], "api_key_revoked");
    let listed = keys.list().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .find(|k| k.name == "kept")
            .unwrap()
            .last_used_at
            .is_some()
    );
    assert!(
        listed
            .iter()
            .find(|k| k.name == "gone")
            .unwrap()
            .revoked_at
            .is_some()
    );
    // The file holds digests, never secrets.
    let raw = std::fs::read(&db).unwrap();
    let raw = String::from_utf8_lossy(&raw);
    assert_no_secret(&[kept.secret.expose(), gone.secret.expose()], &[], &[&raw]);
    srv.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// 1,000 concurrent authenticated calls over 100 keys, with revocations racing them: every call
/// answers, every key records its use, every revocation holds, and the database stays sound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_calls_lose_no_last_used_update() {
    let _logs = logs();
    let dir = temp_dir("concurrent");
    let store = Arc::new(SqliteStore::open(dir.join("auth.db")).unwrap());
    let keys = ApiKeys::new(Arc::clone(&store));
    // Up to 100 uses of the revoked keys come from this one address: more failures than the
    // default address budget (30) allows, and throttling is not what this test is about
    // (auth_rate_limit is).
    let limits = AuthFailureLimits::default().per_address(1000, Duration::from_secs(60));
    let srv = spawn(server(
        AuthorizationConfig::builtin(keys.clone()).auth_failure_limits(limits),
    ))
    .await
    .unwrap();
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut created = Vec::new();
    for i in 0..100 {
        let k = keys
            .create(NewApiKey::new(format!("load-{i}"), "operator").surface(Surface::Mcp))
            .await
            .unwrap();
        created.push(k);
    }
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let url = srv.url();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..1000usize {
        let secret = created[n % 100].secret.expose().to_owned();
        let (http, url) = (http.clone(), url.clone());
        tasks.spawn(async move {
            let body = call_body("start_run", &json!({"dag": format!("d{n}")}));
            let mut req = http
                .post(&url)
                .header("authorization", format!("Bearer {secret}"));
            for (k, v) in mcp_headers("start_run", &[]) {
                req = req.header(k, v);
            }
            let resp = req.body(body).send().await.unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        });
    }
    // Revocations race the calls; they must neither be lost nor lose a use.
    for k in &created[..10] {
        keys.revoke(&k.key.id).await.unwrap();
    }
    let mut ok = 0;
    while let Some(joined) = tasks.join_next().await {
        let (status, body) = joined.unwrap();
        match status {
            200 => {
                assert!(body.contains("started d"), "{body}");
                ok += 1;
            }
            401 => assert!(body.contains("api_key_revoked"), "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(ok >= 900, "{ok} calls succeeded");
    store.check_integrity().unwrap();
    let listed = keys.list().await.unwrap();
    assert_eq!(listed.len(), 100);
    for k in &listed {
        let revoked_here = created[..10].iter().any(|c| c.key.id == k.id);
        assert_eq!(k.revoked_at.is_some(), revoked_here, "{}", k.name);
        if !revoked_here {
            let used = k
                .last_used_at
                .unwrap_or_else(|| panic!("{} lost its use", k.name));
            assert!(used >= started, "{}", k.name);
        }
    }
    srv.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// A database written by the first schema (keys without surfaces, attribution or expiry) is
/// migrated when opened; its keys are legacy keys: accepted on MCP and REST, attributed to their
/// own service account.
#[tokio::test]
async fn an_old_schema_is_migrated_and_its_keys_are_legacy() {
    let _logs = logs();
    let dir = temp_dir("migrate");
    let db = dir.join("auth.db");
    let secret = mcp_server::auth::ApiKeySecret::generate("mcp_").unwrap();
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch(
            "CREATE TABLE api_keys (
                id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL UNIQUE, description TEXT,
                role TEXT NOT NULL, digest BLOB NOT NULL UNIQUE, key_prefix TEXT NOT NULL,
                workspaces TEXT, created_by TEXT, created_at INTEGER NOT NULL,
                last_used_at INTEGER, revoked_at INTEGER);
             PRAGMA user_version = 1;",
        )
        .unwrap();
        c.execute(
            "INSERT INTO api_keys (id, name, role, digest, key_prefix, created_at)
             VALUES ('old-1', 'old-ci', 'operator', ?1, 'mcp_abcd', 1700000000)",
            [KeyDigest::of(secret.expose()).as_bytes().as_slice()],
        )
        .unwrap();
    }
    let keys = ApiKeys::sqlite(&db).unwrap();
    let key = keys.get("old-1").await.unwrap();
    assert!(key.is_legacy());
    assert_eq!(key.attribution.subject(), "api_key:old-1");
    assert!(key.expires_at.is_none());
    let app = serve_app(server(AuthorizationConfig::builtin(keys.clone()))).await;
    let r = call_with_key(
        &app.mcp(),
        secret.expose(),
        "start_run",
        args_of("start_run"),
    )
    .await;
    assert_eq!(text(&result(&r)), "started build");
    let r = send(
        Method::GET,
        &app.runs(),
        &[("authorization", &format!("Bearer {}", secret.expose()))],
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["subject"], "api_key:old-1");
    let _ = std::fs::remove_dir_all(dir);
}

/// The admin API: rotation replaces the secret (the old one stops at once), revocation is final,
/// lists never show a secret.
#[tokio::test]
async fn admin_api_rotates_and_revokes() {
    let _logs = logs();
    let keys = ApiKeys::in_memory();
    let srv = spawn(server(AuthorizationConfig::builtin(keys.clone())))
        .await
        .unwrap();
    let k = keys
        .create(
            NewApiKey::new("rotating", "viewer")
                .surface(Surface::Mcp)
                .created_by("admin"),
        )
        .await
        .unwrap();
    let rotated = keys.rotate(&k.key.id).await.unwrap();
    assert_ne!(rotated.secret.expose(), k.secret.expose());
    assert_eq!(rotated.key.id, k.key.id);
    assert!(rotated.key.rotated_at.is_some());
    let old = call_with_key(&srv.url(), k.secret.expose(), "whoami", json!({})).await;
    assert_eq!(old.json()["reason"], "api_key_unknown");
    let new = call_with_key(&srv.url(), rotated.secret.expose(), "whoami", json!({})).await;
    assert_eq!(new.status, 200);
    let listed = serde_json::to_string(&keys.list().await.unwrap()).unwrap();
    assert!(listed.contains(&rotated.key.key_prefix));
    keys.revoke(&k.key.id).await.unwrap();
    assert!(keys.rotate(&k.key.id).await.is_err());
    let debug = format!("{k:?} {rotated:?}");
    assert_no_secret(
        &[k.secret.expose(), rotated.secret.expose()],
        &[],
        &[&listed, &debug],
    );
}

/// Mode `none`: nothing is asked, `ctx.auth()` is empty, and starting it says so in the log.
#[tokio::test]
async fn mode_none_lets_everyone_in_and_says_so() {
    let _logs = logs();
    let srv = spawn(server(AuthorizationConfig::none())).await.unwrap();
    let r = call(&srv.url(), &[], "manage_keys", json!({})).await;
    assert_eq!(text(&result(&r)), "keys");
    assert!(log_text().contains("authorization mode `none`"));
}

/// The legacy era works with keys too: a session opened with one key (in `X-API-Key`) serves
/// that key's calls, and is not found for another key's subject.
#[tokio::test]
async fn legacy_sessions_are_bound_to_the_key_that_opened_them() {
    let _logs = logs();
    let keys = ApiKeys::in_memory();
    let srv = spawn(server(AuthorizationConfig::builtin(keys.clone())))
        .await
        .unwrap();
    let mine = keys
        .create(NewApiKey::new("mine", "operator").surface(Surface::Mcp))
        .await
        .unwrap();
    let theirs = keys
        .create(NewApiKey::new("theirs", "admin").surface(Surface::Mcp))
        .await
        .unwrap();
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}});
    let r = mcp_tests::post(
        &srv.url(),
        &[("x-api-key", mine.secret.expose())],
        &init.to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let sid = r.header("mcp-session-id").unwrap().to_owned();
    let body = json!({"jsonrpc":"2.0","id":1,"method":"tools/call",
        "params":{"name":"start_run","arguments":{"dag":"build"}}})
    .to_string();
    let in_session = |key: String| {
        let (url, sid, body) = (srv.url(), sid.clone(), body.clone());
        async move {
            mcp_tests::post(
                &url,
                &[
                    ("x-api-key", key.as_str()),
                    ("mcp-session-id", sid.as_str()),
                    ("mcp-protocol-version", "2025-11-25"),
                ],
                &body,
            )
            .await
        }
    };
    let r = in_session(mine.secret.expose().to_owned()).await;
    assert_eq!(text(&result(&r)), "started build");
    let r = in_session(theirs.secret.expose().to_owned()).await;
    assert_eq!(r.status, 404, "{}", r.body);
}
