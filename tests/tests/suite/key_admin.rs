//! Key administration over REST (`KeyAdmin`), black-box over real HTTP on 127.0.0.1:0: an admin
//! creates a key (the secret once) that then works on the MCP endpoint, lists keys (no secret;
//! an expiry warning within the window), rotates with a grace period (both secrets work, then
//! the old one is refused), revokes; users are created, disabled and enabled; everyone below
//! `admin` gets 403 on every route, no credential 401 with a challenge; bad bodies get precise
//! statuses naming the field; every action is in the audit trail with actor, target and
//! outcome; no secret appears in a log line, an audit event or a list. The flow runs on the
//! memory, SQLite and (with `MCP_TEST_DATABASE_URL`) PostgreSQL stores.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcp_server::auth::{
    ApiKeys, AuditAction, AuditEvent, AuthorizationConfig, KeyAdmin, MemoryAuditSink, NewApiKey,
    PostgresOptions, PostgresStore, SqliteStore, StoredApiKey, Surface, WorkspaceAccess,
    WorkspaceGrant,
};
use mcp_server::{Context, McpServer, tool};
use mcp_tests::{JSON_AND_SSE, RawResponse, database_schema, database_url, send};
use reqwest::Method;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// The server under test: one tool, the MCP endpoint and the admin API under `/api`.

/// Who is calling.
#[tool]
fn whoami(ctx: &Context) -> Value {
    json!({ "subject": ctx.auth().and_then(|a| a.subject.clone()) })
}

struct App {
    base: String,
    audit: MemoryAuditSink,
    /// The bootstrap administrator's key (`rest_api` only), and its id.
    admin: String,
    admin_id: String,
    /// An operator's key on both surfaces.
    operator: String,
}

impl App {
    fn mcp(&self) -> String {
        format!("{}/mcp", self.base)
    }
    fn api(&self, path: &str) -> String {
        format!("{}/api{path}", self.base)
    }
}

/// Serves `keys` with the admin API, after making the first administrator with the service
/// (what the CLI does) and an operator.
async fn serve(keys: ApiKeys, admin: KeyAdmin) -> App {
    let root = keys
        .create(
            NewApiKey::new("root", "admin")
                .surface(Surface::RestApi)
                .created_by("bootstrap"),
        )
        .await
        .unwrap();
    let operator = keys
        .create(
            NewApiKey::new("op", "operator")
                .surface(Surface::RestApi)
                .surface(Surface::Mcp),
        )
        .await
        .unwrap();
    let audit = MemoryAuditSink::new();
    let server = McpServer::builder("admin-under-test")
        .authorization(AuthorizationConfig::builtin(keys).audit(audit.clone()))
        .tool(whoami)
        .build()
        .unwrap()
        .http(mcp_server::HttpConfig::default());
    let api = axum::Router::new()
        .nest("/api", admin.router())
        .layer(server.auth_layer(Surface::RestApi))
        .layer(server.host_guard_layer());
    let app = server
        .into_router()
        .merge(api)
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    App {
        base: format!("http://{addr}"),
        audit,
        admin: root.secret.expose().to_owned(),
        admin_id: root.key.id,
        operator: operator.secret.expose().to_owned(),
    }
}

/// A request to the admin API with `key` (if any) and a JSON body (if any).
async fn api(method: Method, url: &str, key: Option<&str>, body: Option<&Value>) -> RawResponse {
    let bearer = key.map(|k| format!("Bearer {k}"));
    let mut headers: Vec<(&str, &str)> = vec![("accept", "application/json")];
    if let Some(b) = &bearer {
        headers.push(("authorization", b));
    }
    let text = body.map(Value::to_string);
    if text.is_some() {
        headers.push(("content-type", "application/json"));
    }
    send(method, url, &headers, text.as_deref()).await
}

/// `tools/call` (2026-07-28 framing) on `url` with `key`.
async fn call_tool(url: &str, key: &str, name: &str, args: Value) -> RawResponse {
    let bearer = format!("Bearer {key}");
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": name, "arguments": args, "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "key-admin", "version": "0"}}}})
    .to_string();
    send(
        Method::POST,
        url,
        &[
            ("content-type", "application/json"),
            ("accept", JSON_AND_SSE),
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", name),
            ("authorization", &bearer),
        ],
        Some(&body),
    )
    .await
}

/// `tools/call whoami` on the MCP endpoint with `key`.
async fn mcp_status(app: &App, key: &str) -> RawResponse {
    call_tool(&app.mcp(), key, "whoami", json!({})).await
}

/// The result of a 200 `tools/call`.
fn tool_result(r: &RawResponse) -> Value {
    assert_eq!(r.status, 200, "{}", r.body);
    r.messages()
        .into_iter()
        .find_map(|m| m.get("result").cloned())
        .unwrap_or_else(|| panic!("no result in {}", r.body))
}

fn find_key<'a>(list: &'a Value, id: &str) -> &'a Value {
    list["keys"]
        .as_array()
        .and_then(|ks| ks.iter().find(|k| k["id"] == id))
        .unwrap_or_else(|| panic!("key {id} not in {list}"))
}

/// The admin events (`key.*`, `user.*`) of the trail.
fn admin_events(audit: &MemoryAuditSink) -> Vec<AuditEvent> {
    audit
        .events()
        .into_iter()
        .filter(|e| {
            let a = e.action.as_str();
            a.starts_with("key.") || a.starts_with("user.")
        })
        .collect()
}

/// The one event of `action` on `target` with `outcome`, by the administrator.
fn assert_event(audit: &MemoryAuditSink, action: AuditAction, target: &str, outcome: &str) {
    let events = admin_events(audit);
    assert!(
        events.iter().any(|e| e.action == action
            && e.target.as_deref() == Some(target)
            && e.outcome.as_deref() == Some(outcome)
            && e.credential_id.is_some()
            && e.subject.is_some()
            && e.surface.as_deref() == Some("rest_api")),
        "no {} {outcome} event on {target} in {events:#?}",
        action.as_str()
    );
}

// ---------------------------------------------------------------------------------------------
// Every log line of the test, and the no-secret check (as in auth_builtin: a subscriber scoped
// to the test's thread, which runs the server too).

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

struct Logs {
    buf: Arc<Mutex<Vec<u8>>>,
    _default: tracing::subscriber::DefaultGuard,
}

impl Logs {
    fn start() -> Self {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = Capture(Arc::clone(&buf));
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        Logs {
            buf,
            _default: tracing::subscriber::set_default(subscriber),
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf.lock().unwrap()).into_owned()
    }
}

/// No secret (nor its random body) in the logs, the audit events or `texts`.
fn assert_no_secret(logs: &Logs, secrets: &[&str], audit: &MemoryAuditSink, texts: &[&str]) {
    let logs = logs.text();
    assert!(
        logs.contains("mcp::audit"),
        "the capture holds the audit lines"
    );
    let events = serde_json::to_string(&audit.events()).unwrap();
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

// ---------------------------------------------------------------------------------------------
// The flow, on each store.

/// Create → use → list (expiry warnings) → rotate with grace → old and new work → the old one
/// is refused once the grace is over → revoke → refused; the audit trail has each action.
async fn admin_flow(keys: ApiKeys) {
    let logs = Logs::start();
    let admin = KeyAdmin::new(keys.clone()).expiry_warning(Duration::from_secs(3 * 86_400));
    let app = serve(keys, admin).await;
    let mut secrets: Vec<String> = vec![app.admin.clone(), app.operator.clone()];
    let mut texts: Vec<String> = Vec::new();

    // Create: 201, the secret once, no-store.
    let r = api(
        Method::POST,
        &app.api("/keys"),
        Some(&app.admin),
        Some(
            &json!({"name": "ci", "role": "operator", "surfaces": ["mcp"],
                     "description": "CI runner", "expires_in": "30d"}),
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let created = r.json();
    let id = created["key"]["id"].as_str().unwrap().to_owned();
    let secret = created["secret"].as_str().unwrap().to_owned();
    secrets.push(secret.clone());
    assert!(secret.starts_with("mcp_"));
    assert_eq!(created["key"]["role"], "operator");
    assert_eq!(created["key"]["surfaces"], json!(["mcp"]));
    assert_eq!(created["key"]["status"], "active");
    assert_eq!(
        created["key"]["created_by"],
        format!("api_key:{}", app.admin_id)
    );
    assert_eq!(created["key"]["expiry_warning"], Value::Null);

    // The new key works on the MCP endpoint (its surface), not on the admin API.
    assert_eq!(mcp_status(&app, &secret).await.status, 200);
    let r = api(Method::GET, &app.api("/keys"), Some(&secret), None).await;
    assert_eq!(r.status, 403, "a key without rest_api: {}", r.body);

    // Keys expiring within the window (3 days) are flagged; the others are not.
    let r = api(
        Method::POST,
        &app.api("/keys"),
        Some(&app.admin),
        Some(&json!({"name": "soon", "role": "viewer", "surfaces": ["mcp", "rest_api"],
                     "expires_in": 2 * 86_400, "service_account": {"id": "sa-batch", "name": "Batch"}})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let soon = r.json();
    secrets.push(soon["secret"].as_str().unwrap().to_owned());
    let soon_id = soon["key"]["id"].as_str().unwrap().to_owned();
    assert_eq!(soon["key"]["service_account"]["id"], "sa-batch");

    // List: every key, never a secret.
    let r = api(Method::GET, &app.api("/keys"), Some(&app.admin), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    texts.push(r.body.clone());
    let list = r.json();
    assert_eq!(list["expiry_warning_window_seconds"], 3 * 86_400);
    assert_eq!(list["keys"].as_array().unwrap().len(), 4);
    let ci = find_key(&list, &id);
    assert_eq!(ci["name"], "ci");
    assert_eq!(ci["description"], "CI runner");
    assert_eq!(ci["workspaces"], "all");
    assert_eq!(ci["status"], "active");
    assert!(ci["created_at"].as_u64().is_some());
    assert!(ci["expires_at"].as_u64().is_some());
    assert!(ci["last_used_at"].as_u64().is_some(), "used on /mcp: {ci}");
    assert_eq!(ci["expiry_warning"], Value::Null);
    assert!(ci.get("secret").is_none());
    let warned = find_key(&list, &soon_id);
    let left = warned["expiry_warning"]["expires_in_seconds"]
        .as_u64()
        .unwrap();
    assert!(left > 86_400 && left <= 2 * 86_400, "{warned}");
    assert!(
        warned["expiry_warning"]["message"]
            .as_str()
            .unwrap()
            .contains("day"),
        "{warned}"
    );
    assert_eq!(
        find_key(&list, &app.admin_id)["expiry_warning"],
        Value::Null
    );

    // Rotate with a grace period: both secrets work, then only the new one.
    let r = api(
        Method::POST,
        &app.api(&format!("/keys/{id}/rotate")),
        Some(&app.admin),
        Some(&json!({"grace_seconds": 3})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rotated = r.json();
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    secrets.push(new_secret.clone());
    assert_ne!(new_secret, secret);
    assert_eq!(rotated["key"]["id"], id.as_str());
    assert_eq!(rotated["grace_seconds"], 3);
    assert!(
        rotated["key"]["previous_secret_expires_at"]
            .as_u64()
            .is_some()
    );
    assert_eq!(mcp_status(&app, &secret).await.status, 200, "old, in grace");
    assert_eq!(mcp_status(&app, &new_secret).await.status, 200, "new");
    // Polled, bounded: the grace ends within seconds; no assertion on how long it took.
    let deadline = Instant::now() + Duration::from_secs(30);
    let refused = loop {
        let r = mcp_status(&app, &secret).await;
        if r.status != 200 {
            break r;
        }
        assert!(Instant::now() < deadline, "the old secret still works");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert_eq!(refused.json()["reason"], "api_key_rotated");
    assert!(refused.challenges().contains("Bearer"));
    assert_eq!(mcp_status(&app, &new_secret).await.status, 200);

    // Revoke (POST .../revoke): refused from the next request on.
    let r = api(
        Method::POST,
        &app.api(&format!("/keys/{id}/revoke")),
        Some(&app.admin),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["key"]["status"], "revoked");
    let r = mcp_status(&app, &new_secret).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["reason"], "api_key_revoked");
    // DELETE revokes too.
    let r = api(
        Method::DELETE,
        &app.api(&format!("/keys/{soon_id}")),
        Some(&app.admin),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["key"]["status"], "revoked");
    let r = api(Method::GET, &app.api("/keys"), Some(&app.admin), None).await;
    texts.push(r.body.clone());
    assert_eq!(find_key(&r.json(), &soon_id)["status"], "revoked");

    // The audit trail: each action, by the administrator's key, on its target.
    assert_event(&app.audit, AuditAction::KeyCreate, &id, "succeeded");
    assert_event(&app.audit, AuditAction::KeyCreate, &soon_id, "succeeded");
    assert_event(&app.audit, AuditAction::KeyRotate, &id, "succeeded");
    assert_event(&app.audit, AuditAction::KeyRevoke, &id, "succeeded");
    assert_event(&app.audit, AuditAction::KeyRevoke, &soon_id, "succeeded");
    let events = admin_events(&app.audit);
    let create = events
        .iter()
        .find(|e| e.action == AuditAction::KeyCreate)
        .unwrap();
    assert_eq!(create.credential_id.as_deref(), Some(app.admin_id.as_str()));
    assert_eq!(create.credential_name.as_deref(), Some("root"));
    assert_eq!(create.role.as_deref(), Some("admin"));
    assert!(create.correlation_id.is_some());
    assert!(
        events
            .iter()
            .any(|e| e.action == AuditAction::KeyList && e.outcome.as_deref() == Some("succeeded"))
    );

    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_no_secret(&logs, &secrets, &app.audit, &texts);
}

#[tokio::test]
async fn admin_flow_on_the_memory_store() {
    admin_flow(ApiKeys::in_memory()).await;
}

#[tokio::test]
async fn admin_flow_on_the_sqlite_store() {
    let dir = std::env::temp_dir().join(format!("mcp-key-admin-{}", database_schema()));
    admin_flow(ApiKeys::new(
        SqliteStore::open(dir.join("auth.db")).unwrap(),
    ))
    .await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn admin_flow_on_the_postgres_store() {
    let Some(url) = database_url() else { return };
    let store = PostgresStore::connect_with(PostgresOptions::new(url).schema(database_schema()))
        .await
        .unwrap();
    admin_flow(ApiKeys::new(store)).await;
}

// ---------------------------------------------------------------------------------------------
// Who may administer.

/// Every route, with a body an admin would get through with.
fn every_route(id: &str) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (Method::GET, "/keys".into(), None),
        (
            Method::POST,
            "/keys".into(),
            Some(json!({"name": "sneaky", "role": "admin", "surfaces": ["rest_api"]})),
        ),
        (Method::POST, format!("/keys/{id}/rotate"), Some(json!({}))),
        (Method::POST, format!("/keys/{id}/revoke"), None),
        (Method::DELETE, format!("/keys/{id}"), None),
        (Method::GET, "/users".into(), None),
        (
            Method::POST,
            "/users".into(),
            Some(json!({"name": "mallory", "role": "admin"})),
        ),
        (Method::POST, "/users/alice/disable".into(), None),
        (Method::POST, "/users/alice/enable".into(), None),
    ]
}

/// An operator (and a manager, one rung below admin) gets 403 on every route, whatever the
/// body, and nothing changes; each refusal is audited as `denied`.
#[tokio::test]
async fn non_admins_get_403_on_every_route() {
    let keys = ApiKeys::in_memory();
    let app = serve(keys.clone(), KeyAdmin::new(keys.clone())).await;
    let manager = keys
        .create(NewApiKey::new("mgr", "manager").surface(Surface::RestApi))
        .await
        .unwrap();
    let before = keys.list().await.unwrap();
    for key in [app.operator.as_str(), manager.secret.expose()] {
        for (method, path, body) in every_route(&app.admin_id) {
            let r = api(method.clone(), &app.api(&path), Some(key), body.as_ref()).await;
            assert_eq!(r.status, 403, "{method} {path}: {}", r.body);
            let j = r.json();
            assert_eq!(j["error"], "forbidden", "{j}");
            assert_eq!(j["reason"], "insufficient_role", "{j}");
        }
    }
    // Nothing changed: no new key, the admin key neither rotated nor revoked.
    let after = keys.list().await.unwrap();
    assert_eq!(after.len(), before.len());
    let root = after.iter().find(|k| k.id == app.admin_id).unwrap();
    assert!(root.revoked_at.is_none() && root.rotated_at.is_none());
    assert!(
        keys.users()
            .unwrap()
            .get_user("mallory")
            .await
            .unwrap()
            .is_none()
    );
    let denied = admin_events(&app.audit)
        .into_iter()
        .filter(|e| e.outcome.as_deref() == Some("denied"))
        .count();
    assert_eq!(denied, 2 * every_route("x").len());
}

/// A credential limited to workspaces never administers, even where it holds `admin`.
#[tokio::test]
async fn a_workspace_scoped_admin_gets_403() {
    let keys = ApiKeys::in_memory();
    let app = serve(keys.clone(), KeyAdmin::new(keys.clone())).await;
    // `ApiKeys::create` refuses the highest role per workspace: the record is written as an
    // older or foreign tool could have.
    let scratch = ApiKeys::in_memory();
    let made = scratch
        .create(NewApiKey::new("ws-admin", "viewer").surface(Surface::RestApi))
        .await
        .unwrap();
    let mut key = made.key.clone();
    key.workspaces = WorkspaceAccess::Grants(vec![WorkspaceGrant {
        workspace: "ops".into(),
        role: "admin".into(),
    }]);
    keys.store()
        .insert(StoredApiKey {
            key,
            digest: made.secret.digest(),
        })
        .await
        .unwrap();
    for url in [app.api("/keys"), app.api("/keys?workspace=ops")] {
        let r = api(Method::GET, &url, Some(made.secret.expose()), None).await;
        assert_eq!(r.status, 403, "{url}: {}", r.body);
        assert_eq!(r.json()["reason"], "insufficient_role");
    }
}

/// No credential: 401 with the challenge; an invalid one: 401 `invalid_token`.
#[tokio::test]
async fn no_credential_is_401_with_a_challenge() {
    let keys = ApiKeys::in_memory();
    let app = serve(keys.clone(), KeyAdmin::new(keys)).await;
    for (method, path, body) in every_route(&app.admin_id) {
        let r = api(method.clone(), &app.api(&path), None, body.as_ref()).await;
        assert_eq!(r.status, 401, "{method} {path}: {}", r.body);
        assert!(r.challenges().starts_with("Bearer"), "{}", r.challenges());
    }
    let bogus = format!("mcp_{}", "A".repeat(43));
    let r = api(Method::GET, &app.api("/keys"), Some(&bogus), None).await;
    assert_eq!(r.status, 401);
    assert!(r.challenges().contains("invalid_token"));
    assert!(
        admin_events(&app.audit).is_empty(),
        "refused before any admin action"
    );
}

// ---------------------------------------------------------------------------------------------
// Bad requests.

/// 400 naming the field, 404, 409, 413, 415: each precise, each audited as `failed`.
#[tokio::test]
async fn bad_requests_get_precise_statuses() {
    let keys = ApiKeys::in_memory();
    let admin = KeyAdmin::new(keys.clone()).max_body_bytes(4096);
    let app = serve(keys.clone(), admin).await;
    let k = Some(app.admin.as_str());
    let post = |body: Value| {
        let url = app.api("/keys");
        async move { api(Method::POST, &url, k, Some(&body)).await }
    };
    let field = |r: &RawResponse| r.json()["field"].as_str().unwrap_or_default().to_owned();

    // Malformed JSON.
    let r = send(
        Method::POST,
        &app.api("/keys"),
        &[
            ("authorization", &format!("Bearer {}", app.admin)),
            ("content-type", "application/json"),
        ],
        Some("{\"name\": \"x\","),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["error"], "invalid_request");
    // Not an object.
    assert_eq!(post(json!(["name"])).await.status, 400);
    // Each field, named.
    let cases = [
        (json!({"role": "viewer", "surfaces": ["mcp"]}), "name"),
        (json!({"name": "x", "surfaces": ["mcp"]}), "role"),
        (json!({"name": "x", "role": "viewer"}), "surfaces"),
        (
            json!({"name": "x", "role": "viewer", "surfaces": []}),
            "surfaces",
        ),
        (
            json!({"name": "x", "role": "root", "surfaces": ["mcp"]}),
            "role",
        ),
        (
            json!({"name": "bad name", "role": "viewer", "surfaces": ["mcp"]}),
            "name",
        ),
        (
            json!({"name": "x", "role": "viewer", "surfaces": ["mpc"]}),
            "surfaces[0]",
        ),
        (
            json!({"name": "x", "role": "viewer", "surfaces": "mcp"}),
            "surfaces",
        ),
        (
            json!({"name": 7, "role": "viewer", "surfaces": ["mcp"]}),
            "name",
        ),
        (
            json!({"name": "x", "role": "viewer", "surfaces": ["mcp"], "colour": "red"}),
            "colour",
        ),
        (
            json!({"name": "x", "role": "viewer", "surfaces": ["mcp"], "expires_in": "soon"}),
            "expires_in",
        ),
        (
            json!({"name": "x", "role": "viewer", "surfaces": ["mcp"], "expires_at": 1}),
            "expires_at",
        ),
        (
            json!({"name": "x", "role": "viewer", "surfaces": ["mcp"], "expires_at": 4_000_000_000u64, "expires_in": 60}),
            "expires_at",
        ),
        (
            json!({"name": "x", "role": "viewer", "surfaces": ["mcp"], "owner": "nobody"}),
            "owner",
        ),
        (
            json!({"name": "x", "role": "viewer", "surfaces": ["mcp"], "scopes": ["a b"]}),
            "scopes",
        ),
        (
            json!({"name": "x", "role": "viewer", "surfaces": ["mcp"], "workspaces": ["all"]}),
            "workspaces",
        ),
        (
            json!({"name": "x", "role": "admin", "surfaces": ["mcp"], "workspaces": ["ops"]}),
            "workspaces",
        ),
    ];
    for (body, expected) in cases {
        let r = post(body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert_eq!(field(&r), expected, "{body}: {}", r.body);
        assert_eq!(r.json()["error"], "invalid_request");
    }
    // 409: a name taken.
    let ok = json!({"name": "dup", "role": "viewer", "surfaces": ["mcp"]});
    let first = post(ok.clone()).await;
    assert_eq!(first.status, 201);
    let dup_id = first.json()["key"]["id"].as_str().unwrap().to_owned();
    let r = post(ok).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(field(&r), "name");
    // 413 and 415.
    let big = json!({"name": "big", "role": "viewer", "surfaces": ["mcp"], "description": "x".repeat(8000)});
    assert_eq!(post(big).await.status, 413);
    let r = send(
        Method::POST,
        &app.api("/keys"),
        &[
            ("authorization", &format!("Bearer {}", app.admin)),
            ("content-type", "text/plain"),
        ],
        Some("{}"),
    )
    .await;
    assert_eq!(r.status, 415, "{}", r.body);
    // 404: unknown ids and users.
    for (method, path) in [
        (Method::POST, "/keys/no-such-id/rotate"),
        (Method::POST, "/keys/no-such-id/revoke"),
        (Method::DELETE, "/keys/no-such-id"),
        (Method::POST, "/users/nobody/disable"),
        (Method::POST, "/users/nobody/enable"),
    ] {
        let r = api(method.clone(), &app.api(path), k, None).await;
        assert_eq!(r.status, 404, "{method} {path}: {}", r.body);
        assert_eq!(r.json()["error"], "not_found");
    }
    // Rotation: a grace over the bound is 400; a revoked key is 409.
    let rotate = app.api(&format!("/keys/{dup_id}/rotate"));
    let r = api(
        Method::POST,
        &rotate,
        k,
        Some(&json!({"grace_seconds": "30d"})),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(field(&r), "grace_seconds");
    let r = api(Method::POST, &rotate, k, Some(&json!({"grace": 5}))).await;
    assert_eq!(
        (r.status, field(&r)),
        (400, "grace".to_owned()),
        "{}",
        r.body
    );
    let revoke = app.api(&format!("/keys/{dup_id}/revoke"));
    assert_eq!(api(Method::POST, &revoke, k, None).await.status, 200);
    let r = api(Method::POST, &rotate, k, None).await;
    assert_eq!(r.status, 409, "{}", r.body);

    // Each failure is audited, with its reason.
    let failed: Vec<AuditEvent> = admin_events(&app.audit)
        .into_iter()
        .filter(|e| e.outcome.as_deref() == Some("failed"))
        .collect();
    assert!(failed.len() >= 20, "{}", failed.len());
    assert!(failed.iter().all(|e| e.reason.is_some()));
    assert!(
        failed.iter().any(
            |e| e.action == AuditAction::KeyRotate && e.target.as_deref() == Some("no-such-id")
        )
    );
}

// ---------------------------------------------------------------------------------------------
// Users.

/// Users created over REST (the password never echoed nor logged), a key owned by one, which
/// stops working while its owner is disabled and works again once enabled.
#[tokio::test]
async fn users_are_created_disabled_and_enabled() {
    let logs = Logs::start();
    let keys = ApiKeys::in_memory();
    let app = serve(keys.clone(), KeyAdmin::new(keys.clone())).await;
    let k = Some(app.admin.as_str());
    let password = "correct-horse-battery-staple-7731";
    let r = api(
        Method::POST,
        &app.api("/users"),
        k,
        Some(&json!({"name": "alice", "role": "developer", "password": password})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let user = r.json()["user"].clone();
    assert_eq!(user["name"], "alice");
    assert_eq!(user["has_password"], true);
    assert!(!r.body.contains("argon2") && !r.body.contains(password));
    let r = api(
        Method::POST,
        &app.api("/users"),
        k,
        Some(&json!({"name": "alice", "role": "viewer"})),
    )
    .await;
    assert_eq!(r.status, 409);
    let r = api(
        Method::POST,
        &app.api("/users"),
        k,
        Some(&json!({"name": "bob", "role": "viewer", "password": 12345678901u64})),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(!r.body.contains("12345678901"), "{}", r.body);
    let r = api(
        Method::POST,
        &app.api("/users"),
        k,
        Some(&json!({"name": "bob", "role": "viewer", "password": "short"})),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["field"].clone()),
        (400, json!("password"))
    );

    // A key owned by alice works on /mcp while she is enabled.
    let r = api(
        Method::POST,
        &app.api("/keys"),
        k,
        Some(&json!({"name": "alice-laptop", "role": "developer", "surfaces": ["mcp"], "owner": "alice"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["key"]["owner"], "alice");
    let secret = r.json()["secret"].as_str().unwrap().to_owned();
    assert_eq!(mcp_status(&app, &secret).await.status, 200);

    let r = api(Method::POST, &app.api("/users/alice/disable"), k, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["user"]["disabled"], true);
    let r = mcp_status(&app, &secret).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["reason"], "api_key_owner_disabled");
    let r = api(Method::POST, &app.api("/users/alice/enable"), k, None).await;
    assert_eq!(r.json()["user"]["disabled"], false);
    assert_eq!(mcp_status(&app, &secret).await.status, 200);

    let r = api(Method::GET, &app.api("/users"), k, None).await;
    assert_eq!(r.status, 200);
    let names: Vec<Value> = r.json()["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].clone())
        .collect();
    assert_eq!(names, [json!("alice")]);

    assert_event(&app.audit, AuditAction::UserCreate, "alice", "succeeded");
    assert_event(&app.audit, AuditAction::UserDisable, "alice", "succeeded");
    assert_event(&app.audit, AuditAction::UserEnable, "alice", "succeeded");
    assert_no_secret(&logs, &[password, &secret, &app.admin], &app.audit, &[]);
    assert!(!logs.text().contains("12345678901"));
}

// ---------------------------------------------------------------------------------------------
// The same operations as MCP tools.

/// `KeyAdmin::tools_with_secrets()` on the MCP endpoint: `min_role` admin (an operator gets the
/// role error), a key created through a tool works, a revoked one is refused, a missing
/// argument is a tool error naming it; each call is an admin event with its target in the tool
/// audit sink. `tools()` alone never answers a secret.
#[tokio::test]
async fn admin_tools_over_mcp() {
    let logs = Logs::start();
    let keys = ApiKeys::in_memory();
    let audit = MemoryAuditSink::new();
    let admin = KeyAdmin::new(keys.clone()).tool_audit_sink(Arc::new(audit.clone()));
    let safe: Vec<String> = admin.tools().into_iter().map(|t| t.tool.name).collect();
    assert!(
        !safe
            .iter()
            .any(|n| n.contains("create") || n.contains("rotate")),
        "{safe:?}"
    );
    let root = keys
        .create(NewApiKey::new("root", "admin").surface(Surface::Mcp))
        .await
        .unwrap();
    let op = keys
        .create(NewApiKey::new("op", "operator").surface(Surface::Mcp))
        .await
        .unwrap();
    let server = McpServer::builder("admin-tools")
        .authorization(AuthorizationConfig::builtin(keys.clone()).audit(audit.clone()))
        .tool(whoami)
        .tools(admin.tools_with_secrets())
        .build()
        .unwrap();
    let srv = mcp_server::testing::spawn(server).await.unwrap();
    let url = srv.url();
    let (root_key, op_key) = (root.secret.expose(), op.secret.expose());

    let listed = tool_result(&call_tool(&url, root_key, "admin_list_api_keys", json!({})).await);
    assert_ne!(listed["isError"], true, "{listed}");
    assert_eq!(
        listed["structuredContent"]["keys"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let denied = tool_result(&call_tool(&url, op_key, "admin_list_api_keys", json!({})).await);
    assert_eq!(denied["isError"], true, "{denied}");
    assert!(denied.to_string().contains("role"), "{denied}");

    let created = tool_result(
        &call_tool(
            &url,
            root_key,
            "admin_create_api_key",
            json!({"name": "via-mcp", "role": "viewer", "surfaces": ["mcp"]}),
        )
        .await,
    );
    assert_ne!(created["isError"], true, "{created}");
    let id = created["structuredContent"]["key"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = created["structuredContent"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        call_tool(&url, &secret, "whoami", json!({})).await.status,
        200
    );

    let missing = tool_result(&call_tool(&url, root_key, "admin_revoke_api_key", json!({})).await);
    assert_eq!(missing["isError"], true);
    assert!(missing.to_string().contains("(id)"), "{missing}");
    let revoked =
        tool_result(&call_tool(&url, root_key, "admin_revoke_api_key", json!({"id": id})).await);
    assert_eq!(
        revoked["structuredContent"]["key"]["status"], "revoked",
        "{revoked}"
    );
    assert_eq!(
        call_tool(&url, &secret, "whoami", json!({})).await.status,
        401
    );

    let events = admin_events(&audit);
    for (action, outcome) in [
        (AuditAction::KeyCreate, "succeeded"),
        (AuditAction::KeyRevoke, "succeeded"),
    ] {
        assert!(
            events.iter().any(|e| e.action == action
                && e.target.as_deref() == Some(id.as_str())
                && e.outcome.as_deref() == Some(outcome)
                && e.surface.as_deref() == Some("mcp")
                && e.credential_id.as_deref() == Some(root.key.id.as_str())),
            "{events:#?}"
        );
    }
    assert_no_secret(&logs, &[root_key, op_key, &secret], &audit, &[]);
}
