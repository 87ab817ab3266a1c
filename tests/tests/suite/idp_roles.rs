//! Roles and workspaces from the identity provider (OAuth mode), black-box: a real server on
//! 127.0.0.1:0, real ES256 tokens from the in-process issuer shaped as Keycloak, Entra ID, Okta
//! and Auth0 send them, raw HTTP (2026-07-28 framing). `RoleClaim` presets and paths give the
//! role, `WorkspaceClaim` patterns and maps give the workspaces; deny by default: no claim, an
//! unmapped value or a malformed claim is the lowest role, no workspace grant is no workspace.
//! Role refusals are the documented tool error (`Tool "x" requires role 'r'. Current role: 'c'`;
//! with step-up, 403: AZ-18); tokens never appear in logs or audit events (AZ-19). Requirement
//! ids refer to `tests/spec/CHECKLIST.md`.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::{Arc, Mutex};

use mcp_server::auth::{
    AuditAction, AuthConfigError, AuthorizationConfig, IntrospectionConfig, IntrospectionValidator,
    JwtValidator, JwtValidatorConfig, MAX_CLAIM_VALUES, MemoryAuditSink, RoleClaim, RoleLadder,
    WorkspaceClaim, WorkspaceError,
};
use mcp_server::testing::{TestIssuer, TestListener, TestServer};
use mcp_server::{BuildError, Context, McpServer, tool};
use mcp_tests::{JSON_AND_SSE, RawResponse, send};
use reqwest::Method;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// The server under test: one tool per rung of the default ladder.

/// Read the workflows.
#[tool(min_role = "viewer", annotations(read_only))]
fn list_workflows() -> String {
    "build, deploy".to_owned()
}

/// Start a run.
#[tool(min_role = "operator")]
fn start_run() -> String {
    "started".to_owned()
}

/// Replace a workflow's spec.
#[tool(min_role = "developer")]
fn edit_spec() -> String {
    "saved".to_owned()
}

/// Read the audit log.
#[tool(min_role = "manager")]
fn read_audit() -> String {
    "audit entries".to_owned()
}

/// Manage keys.
#[tool(min_role = "admin")]
fn manage_keys() -> String {
    "keys".to_owned()
}

/// Who is calling.
#[tool]
fn whoami(ctx: &Context) -> Value {
    json!({ "auth": ctx.auth() })
}

/// Every role-guarded tool and the role it needs.
const MATRIX: [(&str, &str); 5] = [
    ("list_workflows", "viewer"),
    ("start_run", "operator"),
    ("edit_spec", "developer"),
    ("read_audit", "manager"),
    ("manage_keys", "admin"),
];

fn build(auth: AuthorizationConfig) -> Result<McpServer, BuildError> {
    McpServer::builder("idp-roles")
        .authorization(auth)
        .tool(list_workflows)
        .tool(start_run)
        .tool(edit_spec)
        .tool(read_audit)
        .tool(manage_keys)
        .tool(whoami)
        .build()
}

/// OAuth mode trusting `issuer`'s JWTs, with `configure` applied.
async fn serve(
    issuer: &TestIssuer,
    configure: impl FnOnce(AuthorizationConfig) -> AuthorizationConfig,
) -> TestServer {
    let listener = TestListener::bind().await.unwrap();
    let jwt = JwtValidator::new(JwtValidatorConfig::new(issuer.issuer(), "")).unwrap();
    let auth = configure(
        AuthorizationConfig::enabled()
            .authorization_server(issuer.issuer())
            .resource(listener.url())
            .validator(jwt),
    );
    listener.spawn(build(auth).expect("the server builds"))
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP, 2026-07-28 framing.

fn call_body(tool: &str) -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
    "params": {"name": tool, "arguments": {}, "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "idp-roles", "version": "0"},
    }}})
    .to_string()
}

/// `tools/call` of `tool` at `url` with `Authorization: Bearer <token>`.
async fn call(url: &str, token: &str, tool: &str) -> RawResponse {
    let bearer = format!("Bearer {token}");
    let headers = [
        ("content-type", "application/json"),
        ("accept", JSON_AND_SSE),
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", tool),
        ("authorization", bearer.as_str()),
    ];
    send(Method::POST, url, &headers, Some(&call_body(tool))).await
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

/// The `AuthContext` `whoami` saw at `url`.
async fn whoami_at(url: &str, token: &str) -> Value {
    let r = call(url, token, "whoami").await;
    result(&r)["structuredContent"]["auth"].clone()
}

fn at(srv: &TestServer, workspace: &str) -> String {
    format!("{}?workspace={workspace}", srv.url())
}

/// Checks every tool at `url`: allowed exactly when `role` is at least its `min_role`, refused
/// with the documented tool error naming `role` otherwise.
async fn assert_role_matrix(url: &str, token: &str, role: &str) {
    let ladder = RoleLadder::default();
    for (tool, min) in MATRIX {
        let r = result(&call(url, token, tool).await);
        let refused = r["isError"].as_bool().unwrap_or(false);
        assert_eq!(
            !refused,
            ladder.allows(Some(role), min),
            "{role} calling {tool} (needs {min}) at {url}: {r}"
        );
        if refused {
            assert_eq!(
                text(&r),
                format!("Tool \"{tool}\" requires role '{min}'. Current role: '{role}'")
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Every log line of the test, to check that no token is in one (AZ-19).

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

/// Captures this test's log lines (a subscriber scoped to the test's thread: the tests use the
/// current-thread runtime, so the server's tasks log here too).
fn logs() -> (tracing::subscriber::DefaultGuard, Arc<Mutex<Vec<u8>>>) {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let writer = Capture(Arc::clone(&buf));
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (tracing::subscriber::set_default(subscriber), buf)
}

fn assert_no_token(buf: &Arc<Mutex<Vec<u8>>>, audit: &str, tokens: &[&str]) {
    let logs = String::from_utf8_lossy(&buf.lock().unwrap()).into_owned();
    assert!(!logs.is_empty(), "the capture caught nothing");
    for t in tokens {
        // The signature part is what makes a token usable.
        let sig = t.rsplit('.').next().unwrap_or(t);
        assert!(!logs.contains(sig), "a token appears in a log line");
        assert!(!audit.contains(sig), "a token appears in an audit event");
    }
}

// ---------------------------------------------------------------------------------------------
// Roles

/// Keycloak: realm roles (`realm_access.roles`) and the client's roles
/// (`resource_access.<client>.roles`) pooled, Keycloak's own roles and another client's roles
/// ignored; the highest mapped role wins.
#[tokio::test]
async fn keycloak_realm_and_client_roles_give_the_mapped_role() {
    let issuer = TestIssuer::start().await.unwrap();
    let srv = serve(&issuer, |a| {
        a.role_claim(
            RoleClaim::keycloak_realm()
                .also_path(["resource_access", "mcp-server", "roles"])
                .map("mcp-operator", "operator")
                .map("mcp-developer", "developer"),
        )
    })
    .await;
    let keycloak = |realm: Value, resource: Value| {
        issuer
            .token(&srv.url())
            .subject("f:1b2c:alice")
            .claim("azp", json!("mcp-client"))
            .claim("realm_access", json!({ "roles": realm }))
            .claim("resource_access", resource)
            .sign()
    };
    let operator = keycloak(
        json!([
            "offline_access",
            "uma_authorization",
            "default-roles-acme",
            "mcp-operator"
        ]),
        json!({"account": {"roles": ["manage-account", "view-profile"]}}),
    );
    assert_role_matrix(&srv.url(), &operator, "operator").await;
    let me = whoami_at(&srv.url(), &operator).await;
    assert_eq!(me["role"], "operator");
    assert_eq!(me["global_role"], "operator");
    assert_eq!(me["credential"], "bearer");

    let developer = keycloak(
        json!(["offline_access", "mcp-operator"]),
        json!({"mcp-server": {"roles": ["mcp-developer"]}, "account": {"roles": ["manage-account"]}}),
    );
    assert_role_matrix(&srv.url(), &developer, "developer").await;

    // "admin" is a role name, but unmapped, and of another client: nothing.
    let other_client = keycloak(
        json!(["offline_access", "admin"]),
        json!({"account": {"roles": ["mcp-developer", "admin"]}}),
    );
    assert_role_matrix(&srv.url(), &other_client, "viewer").await;
}

/// Keycloak client roles alone, named after the ladder (no mapping).
#[tokio::test]
async fn keycloak_client_roles_named_after_the_ladder() {
    let issuer = TestIssuer::start().await.unwrap();
    let srv = serve(&issuer, |a| {
        a.role_claim(RoleClaim::keycloak_client("mcp-server"))
    })
    .await;
    let token = issuer
        .token(&srv.url())
        .claim("realm_access", json!({"roles": ["admin"]}))
        .claim(
            "resource_access",
            json!({"mcp-server": {"roles": ["viewer", "manager"]}}),
        )
        .sign();
    assert_role_matrix(&srv.url(), &token, "manager").await;
}

/// Entra ID: app roles in `roles`, mapped; with step-up a role refusal is a 403 (AZ-18).
#[tokio::test]
async fn entra_app_roles_give_the_mapped_role() {
    let issuer = TestIssuer::start().await.unwrap();
    let entra = || {
        RoleClaim::entra()
            .map("MCP.Reader", "viewer")
            .map("MCP.Manager", "manager")
            .map("MCP.Admin", "admin")
    };
    let srv = serve(&issuer, |a| a.role_claim(entra())).await;
    let token = issuer
        .token(&srv.url())
        .claim("tid", json!("72f988bf-86f1-41af-91ab-2d7cd011db47"))
        .claim("oid", json!("00000000-0000-0000-0000-000000000001"))
        .claim("roles", json!(["MCP.Reader", "MCP.Manager"]))
        .sign();
    assert_role_matrix(&srv.url(), &token, "manager").await;
    let admin = issuer
        .token(&srv.url())
        .claim("roles", json!("MCP.Admin"))
        .sign();
    assert_role_matrix(&srv.url(), &admin, "admin").await;

    let step_up = serve(&issuer, |a| a.role_claim(entra()).step_up()).await;
    let token = issuer
        .token(&step_up.url())
        .claim("roles", json!(["MCP.Manager"]))
        .sign();
    let r = call(&step_up.url(), &token, "manage_keys").await;
    assert_eq!(r.status, 403, "{}", r.body);
    let challenge = r.challenges();
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(challenge.contains("requires role 'admin'"), "{challenge}");
    assert_eq!(
        text(&result(&call(&step_up.url(), &token, "read_audit").await)),
        "audit entries"
    );
}

/// Okta: groups in `groups` give the role and, by pattern, the workspaces; `?workspace=` gives
/// the granted role there, and a workspace not granted answers exactly as one that does not
/// exist (404); the audit trail records the role and workspace, never the token.
#[tokio::test(flavor = "current_thread")]
async fn okta_groups_give_the_role_and_the_workspaces() {
    let (_guard, captured) = logs();
    let issuer = TestIssuer::start().await.unwrap();
    let audit = MemoryAuditSink::new();
    let srv = serve(&issuer, |a| {
        a.role_claim(RoleClaim::okta_groups().map("mcp-operators", "operator"))
            .workspace_claim(
                WorkspaceClaim::new("groups")
                    .pattern("mcp:{workspace}:{role}")
                    .unwrap(),
            )
            .audit(audit.clone())
            .filter_tools()
    })
    .await;
    let token = issuer
        .token(&srv.url())
        .subject("00u1abcd")
        .claim(
            "groups",
            json!([
                "Everyone",
                "mcp-operators",
                "mcp:ops:developer",
                "mcp:ops:viewer",
                "mcp:finance:viewer",
                "mcp:dev:admin",
                "mcp:Bad Name:viewer",
                "mcp:qa:root"
            ]),
        )
        .sign();

    // Outside any workspace: the mapped role.
    assert_role_matrix(&srv.url(), &token, "operator").await;
    let me = whoami_at(&srv.url(), &token).await;
    assert_eq!(me["role"], "operator");
    assert_eq!(
        me["workspaces"],
        json!({"grants": [{"workspace": "finance", "role": "viewer"},
                          {"workspace": "ops", "role": "developer"}]}),
        "the highest grant per workspace; the top role, unknown roles and bad names grant nothing"
    );

    // In ops: the granted role (higher than the global one).
    assert_role_matrix(&at(&srv, "ops"), &token, "developer").await;
    let me = whoami_at(&at(&srv, "ops"), &token).await;
    assert_eq!(
        (&me["workspace"], &me["role"], &me["global_role"]),
        (&json!("ops"), &json!("developer"), &json!("operator"))
    );
    // In finance: the granted role (lower than the global one).
    assert_role_matrix(&at(&srv, "finance"), &token, "viewer").await;

    // Not granted (dev: the top role cannot be granted per workspace; qa: unknown role) and
    // nonexistent look the same.
    let nowhere = call(&at(&srv, "nowhere"), &token, "list_workflows").await;
    assert_eq!(nowhere.status, 404, "{}", nowhere.body);
    assert_eq!(nowhere.json()["reason"], "workspace_not_found");
    for ws in ["dev", "qa", "all", "Bad%20Name"] {
        let r = call(&at(&srv, ws), &token, "list_workflows").await;
        assert_eq!((r.status, &r.body), (nowhere.status, &nowhere.body), "{ws}");
    }

    // tools/list is filtered by the effective role.
    let list = |url: String| {
        let token = token.clone();
        async move {
            let bearer = format!("Bearer {token}");
            let body =
                json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": {
                    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientCapabilities": {},
                    "io.modelcontextprotocol/clientInfo": {"name": "idp-roles", "version": "0"},
                }}})
                .to_string();
            let headers = [
                ("content-type", "application/json"),
                ("accept", JSON_AND_SSE),
                ("mcp-protocol-version", "2026-07-28"),
                ("mcp-method", "tools/list"),
                ("authorization", bearer.as_str()),
            ];
            let r = send(Method::POST, &url, &headers, Some(&body)).await;
            result(&r)["tools"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|t| t["name"].as_str().map(str::to_owned))
                .collect::<BTreeSet<String>>()
        }
    };
    let names = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
    assert_eq!(
        list(srv.url()).await,
        names(&["list_workflows", "start_run", "whoami"])
    );
    assert_eq!(
        list(at(&srv, "ops")).await,
        names(&["list_workflows", "start_run", "edit_spec", "whoami"])
    );

    let events = audit.events();
    assert!(
        events
            .iter()
            .any(|e| e.action == AuditAction::ToolCallSucceeded
                && e.tool.as_deref() == Some("edit_spec")
                && e.workspace.as_deref() == Some("ops")
                && e.role.as_deref() == Some("developer")
                && e.subject.as_deref() == Some("00u1abcd"))
    );
    assert!(
        events
            .iter()
            .any(|e| e.action == AuditAction::ToolCallDenied
                && e.tool.as_deref() == Some("read_audit")
                && e.role.as_deref() == Some("operator")
                && e.reason.as_deref() == Some("insufficient_role"))
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e.reason.as_deref() == Some("workspace_not_found"))
            .count(),
        5
    );
    let trail = serde_json::to_string(&events).unwrap();
    assert_no_token(&captured, &trail, &[&token]);
}

/// Auth0: a namespaced custom claim, its name holding dots and slashes, read as one top-level
/// claim (never as a path); workspaces by explicit map from another namespaced claim.
#[tokio::test]
async fn auth0_namespaced_claims_are_read_by_their_full_name() {
    let issuer = TestIssuer::start().await.unwrap();
    let srv = serve(&issuer, |a| {
        a.role_claim(RoleClaim::new("https://example.com/roles").map("mcp-admin", "admin"))
            .workspace_claim(
                WorkspaceClaim::new("https://example.com/workspaces")
                    .map("acme-ops-team", "ops", "operator")
                    .map("acme-dev-team", "dev", "developer"),
            )
    })
    .await;
    let token = issuer
        .token(&srv.url())
        .subject("auth0|65f0c1")
        .claim("https://example.com/roles", json!(["mcp-admin"]))
        .claim(
            "https://example.com/workspaces",
            json!(["acme-ops-team", "acme-qa-team"]),
        )
        .sign();
    assert_role_matrix(&srv.url(), &token, "admin").await;
    assert_role_matrix(&at(&srv, "ops"), &token, "operator").await;
    let r = call(&at(&srv, "dev"), &token, "whoami").await;
    assert_eq!(r.status, 404, "{}", r.body);

    // The same names nested are another claim: nothing read, the lowest role.
    let nested = issuer
        .token(&srv.url())
        .claim("https://example", json!({"com/roles": ["mcp-admin"]}))
        .claim(
            "https:",
            json!({"": {"example.com": {"roles": ["mcp-admin"]}}}),
        )
        .sign();
    assert_role_matrix(&srv.url(), &nested, "viewer").await;
}

/// Deny by default: a token without the role claim, or with only unmapped values, holds the
/// lowest role (the viewer tool passes, every higher one is refused); with a workspace claim
/// configured and nothing granted, it sees no workspace.
#[tokio::test]
async fn a_token_without_the_claim_holds_the_lowest_role_only() {
    let issuer = TestIssuer::start().await.unwrap();
    let srv = serve(&issuer, |a| {
        a.role_claim(RoleClaim::okta_groups().map("mcp-admins", "admin"))
            .workspace_claim(
                WorkspaceClaim::new("groups")
                    .pattern("/workspaces/{workspace}/{role}")
                    .unwrap(),
            )
    })
    .await;
    let bare = issuer.token(&srv.url()).subject("no-claims").sign();
    let unmapped = issuer
        .token(&srv.url())
        .claim(
            "groups",
            json!(["Everyone", "admin", "mcp-admin", "/workspaces/ops"]),
        )
        .sign();
    for token in [&bare, &unmapped] {
        assert_role_matrix(&srv.url(), token, "viewer").await;
        let me = whoami_at(&srv.url(), token).await;
        assert_eq!(me["role"], "viewer");
        assert_eq!(me["workspaces"], json!({"grants": []}));
        for ws in ["ops", "default"] {
            let r = call(&at(&srv, ws), token, "list_workflows").await;
            assert_eq!(r.status, 404, "{ws}: {}", r.body);
            assert_eq!(r.json()["reason"], "workspace_not_found");
        }
    }
    // A Keycloak group path grants its workspace.
    let grouped = issuer
        .token(&srv.url())
        .claim("groups", json!(["/workspaces/ops/operator"]))
        .sign();
    assert_role_matrix(&at(&srv, "ops"), &grouped, "operator").await;
    assert_role_matrix(&srv.url(), &grouped, "viewer").await;
}

/// A workspace claim alone is a source of roles too: `min_role` builds in OAuth mode, tokens
/// hold the lowest role outside their workspaces; `all_workspaces_from` lets the claimed role
/// see every workspace.
#[tokio::test]
async fn a_workspace_claim_alone_and_all_workspaces_from() {
    let issuer = TestIssuer::start().await.unwrap();
    let srv = serve(&issuer, |a| {
        a.workspace_claim(WorkspaceClaim::path(["ext", "ws"]).map("ops-team", "ops", "manager"))
    })
    .await;
    let token = issuer
        .token(&srv.url())
        .claim("ext", json!({"ws": "ops-team"}))
        .sign();
    assert_role_matrix(&srv.url(), &token, "viewer").await;
    assert_role_matrix(&at(&srv, "ops"), &token, "manager").await;

    let srv = serve(&issuer, |a| {
        a.role_claim(
            RoleClaim::entra()
                .map("MCP.Admin", "admin")
                .map("MCP.Ops", "operator"),
        )
        .workspace_claim(
            WorkspaceClaim::new("roles")
                .map("MCP.Ops", "ops", "developer")
                .all_workspaces_from("admin"),
        )
        .known_workspaces(["ops", "finance"])
    })
    .await;
    let admin = issuer
        .token(&srv.url())
        .claim("roles", json!(["MCP.Admin"]))
        .sign();
    assert_role_matrix(&at(&srv, "finance"), &admin, "admin").await;
    let r = call(&at(&srv, "nowhere"), &admin, "whoami").await;
    assert_eq!(r.status, 404, "known_workspaces still apply");
    let ops = issuer
        .token(&srv.url())
        .claim("roles", json!(["MCP.Ops"]))
        .sign();
    assert_role_matrix(&at(&srv, "ops"), &ops, "developer").await;
    assert_eq!(call(&at(&srv, "finance"), &ops, "whoami").await.status, 404);
}

/// Malformed claim shapes never panic and never give more than the lowest role (or any
/// workspace): numbers, booleans, null, objects, nested arrays, arrays of non-strings, paths
/// through non-objects, and values past the first `MAX_CLAIM_VALUES` of a huge array.
#[tokio::test]
async fn malformed_claims_give_the_lowest_role() {
    let issuer = TestIssuer::start().await.unwrap();
    let srv = serve(&issuer, |a| {
        a.role_claim(
            RoleClaim::keycloak_realm()
                .also_path(["groups"])
                .map("mcp-admin", "admin"),
        )
        .workspace_claim(
            WorkspaceClaim::new("groups")
                .also_path(["realm_access", "roles"])
                .pattern("ws:{workspace}:{role}")
                .unwrap(),
        )
    })
    .await;
    let mut padding: Vec<Value> = (0..MAX_CLAIM_VALUES)
        .map(|i| json!(format!("g{i}")))
        .collect();
    padding.push(json!("mcp-admin"));
    padding.push(json!("ws:ops:manager"));
    let long = "x".repeat(6000);
    let shapes: Vec<(&str, Value, Value)> = vec![
        ("a number", json!({"roles": 5}), json!(7)),
        ("a boolean", json!({"roles": true}), json!(false)),
        ("null", json!({"roles": null}), Value::Null),
        (
            "an object",
            json!({"roles": {"mcp-admin": true}}),
            json!({"ws:ops:manager": 1}),
        ),
        (
            "nested arrays",
            json!({"roles": [["mcp-admin"]]}),
            json!([["ws:ops:manager"]]),
        ),
        (
            "non-strings",
            json!({"roles": [1, null, {"a": "mcp-admin"}, 2.5]}),
            json!([{}, []]),
        ),
        (
            "a path through a string",
            json!("mcp-admin"),
            json!("ws:ops"),
        ),
        (
            "a path through an array",
            json!(["roles", "mcp-admin"]),
            json!([]),
        ),
        (
            "empty and long strings",
            json!({"roles": ["", long]}),
            json!(["", "ws::", "ws:ops:"]),
        ),
        (
            "past the value bound",
            json!({"roles": []}),
            Value::Array(padding),
        ),
    ];
    for (what, realm, groups) in shapes {
        let token = issuer
            .token(&srv.url())
            .claim("realm_access", realm)
            .claim("groups", groups)
            .sign();
        let me = whoami_at(&srv.url(), &token).await;
        assert_eq!(me["role"], "viewer", "{what}");
        assert_eq!(me["workspaces"], json!({"grants": []}), "{what}");
        assert_role_matrix(&srv.url(), &token, "viewer").await;
        let r = call(&at(&srv, "ops"), &token, "whoami").await;
        assert_eq!(r.status, 404, "{what}: {}", r.body);
    }
    // Within the bound the same values count.
    let token = issuer
        .token(&srv.url())
        .claim("groups", json!(["g1", "mcp-admin", "ws:ops:manager"]))
        .sign();
    assert_role_matrix(&srv.url(), &token, "admin").await;
    assert_role_matrix(&at(&srv, "ops"), &token, "manager").await;
}

/// Introspection answers (RFC 7662) carry the same claims and map the same way.
#[tokio::test]
async fn introspected_tokens_map_the_same_way() {
    let issuer = TestIssuer::start().await.unwrap();
    issuer.register_client("mcp-rs", "rs-secret", "");
    let listener = TestListener::bind().await.unwrap();
    let introspection =
        IntrospectionConfig::new(issuer.introspection_endpoint(), "mcp-rs", "rs-secret")
            .issuer(issuer.issuer());
    let auth = AuthorizationConfig::enabled()
        .authorization_server(issuer.issuer())
        .resource(listener.url())
        .validator(IntrospectionValidator::new(introspection).unwrap())
        .role_claim(RoleClaim::keycloak_realm().map("mcp-developer", "developer"))
        .workspace_claim(
            WorkspaceClaim::new("groups")
                .pattern("/workspaces/{workspace}/{role}")
                .unwrap(),
        );
    let srv = listener.spawn(build(auth).unwrap());
    let token = issuer
        .token(&srv.url())
        .claim("realm_access", json!({"roles": ["mcp-developer"]}))
        .claim("groups", json!(["/workspaces/ops/operator"]))
        .opaque();
    assert_role_matrix(&srv.url(), &token, "developer").await;
    assert_role_matrix(&at(&srv, "ops"), &token, "operator").await;
    let bare = issuer.token(&srv.url()).opaque();
    assert_role_matrix(&srv.url(), &bare, "viewer").await;
}

/// What could not be enforced does not build: a role claim mapping to a role off the ladder, a
/// workspace claim granting the top role, a bad workspace name or an unknown role, a bad pattern.
#[tokio::test]
async fn mappings_the_ladder_refuses_do_not_build() {
    let issuer = TestIssuer::start().await.unwrap();
    let base = || {
        AuthorizationConfig::enabled()
            .authorization_server(issuer.issuer())
            .resource("http://127.0.0.1:9/mcp")
            .validator(JwtValidator::new(JwtValidatorConfig::new(issuer.issuer(), "")).unwrap())
    };
    let err = |auth| match build(auth) {
        Err(BuildError::Authorization(e)) => e,
        Err(e) => panic!("another error: {e}"),
        Ok(_) => panic!("built"),
    };
    assert_eq!(
        err(base().role_claim(RoleClaim::entra().map("MCP.Ops", "opertor"))),
        AuthConfigError::UnknownClaimRole("opertor".to_owned())
    );
    assert!(matches!(
        err(base().workspace_claim(WorkspaceClaim::new("g").map("x", "ops", "admin"))),
        AuthConfigError::InvalidWorkspaceClaim(WorkspaceError::TopRoleScoped(_))
    ));
    assert!(matches!(
        err(base().workspace_claim(WorkspaceClaim::new("g").map("x", "a b", "viewer"))),
        AuthConfigError::InvalidWorkspaceClaim(WorkspaceError::InvalidName(_))
    ));
    assert!(matches!(
        err(base().workspace_claim(WorkspaceClaim::new("g").map("x", "ops", "root"))),
        AuthConfigError::InvalidWorkspaceClaim(WorkspaceError::Role(_))
    ));
    assert!(matches!(
        err(base().workspace_claim(WorkspaceClaim::new("g").all_workspaces_from("root"))),
        AuthConfigError::InvalidWorkspaceClaim(WorkspaceError::Role(_))
    ));
    for bad in [
        "{workspace}-{role}",
        "{role}:{workspace}",
        "mcp:{workspace}",
        "{workspace}:{role}:{role}",
    ] {
        assert!(
            matches!(
                WorkspaceClaim::new("g").pattern(bad),
                Err(WorkspaceError::InvalidPattern { .. })
            ),
            "{bad}"
        );
    }
    // The presets build and `min_role` is enforceable with either claim.
    assert!(build(base().role_claim(RoleClaim::keycloak_client("mcp"))).is_ok());
    assert!(build(base().workspace_claim(WorkspaceClaim::new("groups"))).is_ok());
}
