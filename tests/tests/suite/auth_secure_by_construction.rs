//! Regression tests of the security review (issue 12), server side: each test proves that one
//! finding cannot happen any more, black-box where a request can show it (a real server on
//! 127.0.0.1, real tokens from the in-process issuer, raw HTTP). Requirement ids refer to
//! `tests/spec/CHECKLIST.md` (AZ-, DP-, T-).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::routing::get;
use mcp_server::auth::{
    ApiKeys, AuthConfigError, AuthRejection, AuthorizationConfig, Caller, Danger, DpopConfig,
    JwtValidator, JwtValidatorConfig, MemoryStore, NewApiKey, RoleClaim, Surface, User, UserStore,
};
use mcp_server::store::{ReplayCache, ReplayCacheError};
use mcp_server::tasks::TaskSupport;
use mcp_server::testing::{DpopKey, TestIssuer, TestListener};
use mcp_server::types::ElicitRequestParams;
use mcp_server::{
    BoxFuture, BuildError, ClientRequestError, Context, McpServer, NoArgs, ResourceDef, ToolDef,
    tool,
};
use mcp_tests::{JSON_AND_SSE, RawResponse, post, send};
use reqwest::Method;
use serde_json::{Value, json};

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;
const V: &str = "2026-07-28";
const TASKS: &str = "io.modelcontextprotocol/tasks";

fn jwt(issuer: &TestIssuer) -> JwtValidator {
    JwtValidator::new(JwtValidatorConfig::new(issuer.issuer(), "")).expect("validator")
}

fn whoami() -> ToolDef {
    ToolDef::from_fn("whoami", |ctx: Context, _: NoArgs| async move {
        json!({ "subject": ctx.auth().and_then(|a| a.subject.clone()) })
    })
}

/// Serves `router` on `listener` (an app the user mounts with `into_router`); its MCP URL.
fn serve_router(listener: TestListener, router: axum::Router) -> String {
    let url = listener.url();
    let listener = listener.into_tcp_listener();
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

async fn bearer_post(url: &str, token: &str, host: Option<&str>, body: &str) -> RawResponse {
    let bearer = format!("Bearer {token}");
    let mut headers = vec![("authorization", bearer.as_str())];
    if let Some(h) = host {
        headers.push(("host", h));
    }
    post(url, &headers, body).await
}

// ---------------------------------------------------------------------------------------------
// Finding 1 (high): the resource, and so the accepted audience, never comes from `Host`.

#[tokio::test]
async fn az10_a_token_for_another_host_is_refused_whatever_the_host_header_says() {
    let issuer = TestIssuer::start().await.unwrap();
    let listener = TestListener::bind().await.unwrap();
    let resource = listener.url();
    let server = McpServer::builder("mounted")
        .authorization(
            AuthorizationConfig::enabled()
                .resource(&resource)
                .validator(jwt(&issuer)),
        )
        .tool(whoami())
        .build()
        .unwrap();
    // Mounted in the user's own app: no bound address to fall back on.
    let url = serve_router(listener, server.into_router());

    // A token minted for another server on this machine, replayed with that server's Host.
    let foreign = issuer.token("http://localhost:9/mcp").sign();
    let r = bearer_post(&url, &foreign, Some("localhost:9"), INIT).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(
        r.challenges().contains("invalid_token"),
        "{}",
        r.challenges()
    );
    // The challenge names this server's metadata, not the Host's.
    assert!(
        !r.challenges().contains("localhost:9"),
        "{}",
        r.challenges()
    );

    // The metadata names the configured resource whatever the Host (AZ-03).
    let meta_url = url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp");
    let m = send(Method::GET, &meta_url, &[("host", "localhost:9")], None).await;
    assert_eq!(m.json()["resource"], resource);

    // The token made for this server works.
    let own = issuer.token(&resource).sign();
    assert_eq!(bearer_post(&url, &own, None, INIT).await.status, 200);
}

#[tokio::test]
async fn az10_a_guarded_rest_route_takes_its_audience_from_the_configuration_only() {
    let issuer = TestIssuer::start().await.unwrap();
    let listener = TestListener::bind().await.unwrap();
    let resource = listener.url();
    let server = McpServer::builder("app")
        .authorization(
            AuthorizationConfig::enabled()
                .resource(&resource)
                .validator(jwt(&issuer)),
        )
        .build()
        .unwrap();
    let api = axum::Router::new()
        .route("/api/runs", get(|| async { "runs" }))
        .layer(server.auth_layer(Surface::RestApi));
    let url = serve_router(listener, server.into_router().merge(api));
    let runs = url.replace("/mcp", "/api/runs");

    let evil = issuer.token("http://evil.example/api").sign();
    let bearer = format!("Bearer {evil}");
    let r = send(
        Method::GET,
        &runs,
        &[("authorization", &bearer), ("host", "evil.example")],
        None,
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.body);

    let own = issuer.token(&resource).sign();
    let bearer = format!("Bearer {own}");
    let r = send(Method::GET, &runs, &[("authorization", &bearer)], None).await;
    assert_eq!((r.status, r.body.as_str()), (200, "runs"));
}

#[test]
fn checking_tokens_without_a_public_url_does_not_build() {
    let issuer = "https://auth.example.com";
    let validator = || JwtValidator::new(JwtValidatorConfig::new(issuer, "")).unwrap();
    let oauth = McpServer::builder("s")
        .authorization(AuthorizationConfig::enabled().validator(validator()))
        .build();
    assert!(
        matches!(
            oauth,
            Err(BuildError::Authorization(
                AuthConfigError::MissingResource { .. }
            ))
        ),
        "{oauth:?}"
    );
    let message = oauth.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains(".resource("), "{message}");

    let builtin_with_jwts = McpServer::builder("s")
        .authorization(AuthorizationConfig::builtin(ApiKeys::in_memory()).validator(validator()))
        .build();
    assert!(matches!(
        builtin_with_jwts,
        Err(BuildError::Authorization(
            AuthConfigError::MissingResource { .. }
        ))
    ));
    // API keys alone have no audience: nothing to configure.
    assert!(
        McpServer::builder("s")
            .authorization(AuthorizationConfig::builtin(ApiKeys::in_memory()))
            .build()
            .is_ok()
    );
    // A resource read from a request header is not a URL the configuration can hold.
    let bad = McpServer::builder("s")
        .authorization(
            AuthorizationConfig::enabled()
                .resource("mcp.example.com/mcp?x=1")
                .validator(validator()),
        )
        .build();
    assert!(matches!(
        bad,
        Err(BuildError::Authorization(
            AuthConfigError::InvalidResource { .. }
        ))
    ));
}

// ---------------------------------------------------------------------------------------------
// Finding 11: `min_role` with nothing to enforce it does not build.

/// Start a run.
#[tool(min_role = "operator")]
fn start_run(dag: String) -> String {
    format!("started {dag}")
}

#[test]
fn min_role_in_oauth_mode_without_a_source_of_roles_does_not_build() {
    let validator =
        || JwtValidator::new(JwtValidatorConfig::new("https://auth.example.com", "")).unwrap();
    let oauth = || {
        AuthorizationConfig::enabled()
            .resource("https://mcp.example.com/mcp")
            .validator(validator())
    };
    let r = McpServer::builder("s")
        .authorization(oauth())
        .tool(start_run)
        .build();
    match r {
        Err(BuildError::Authorization(AuthConfigError::MinRoleWithoutRoles {
            tool, role, ..
        })) => {
            assert_eq!((tool.as_str(), role.as_str()), ("start_run", "operator"));
        }
        other => panic!("expected MinRoleWithoutRoles, got {other:?}"),
    }
    // Added at run time: refused the same way.
    let server = McpServer::builder("s")
        .authorization(oauth())
        .build()
        .unwrap();
    assert!(matches!(
        server.add_tool(start_run),
        Err(BuildError::Authorization(
            AuthConfigError::MinRoleWithoutRoles { .. }
        ))
    ));
    // A source of roles makes it enforceable.
    assert!(
        McpServer::builder("s")
            .authorization(oauth().role_claim(RoleClaim::default()))
            .tool(start_run)
            .build()
            .is_ok()
    );
}

// ---------------------------------------------------------------------------------------------
// Dangerous switches are named, and only where they mean something.

#[test]
fn dangerous_switches_must_be_named_and_must_fit_the_mode() {
    let validator = |issuer: &str| JwtValidator::new(JwtValidatorConfig::new(issuer, "")).unwrap();
    // A plain-http authorization server beyond loopback.
    let plain = || {
        AuthorizationConfig::enabled()
            .authorization_server("http://auth.example.com")
            .resource("https://mcp.example.com/mcp")
            .validator(validator("http://auth.example.com"))
    };
    assert!(matches!(
        McpServer::builder("s").authorization(plain()).build(),
        Err(BuildError::Authorization(
            AuthConfigError::PlainHttpAuthorizationServer { .. }
        ))
    ));
    assert!(
        McpServer::builder("s")
            .authorization(plain().dangerously_allow(Danger::PlainHttpAuthorizationServer))
            .build()
            .is_ok()
    );
    // Loopback is fine (the embedded issuer of tests and examples).
    assert!(
        McpServer::builder("s")
            .authorization(
                AuthorizationConfig::enabled()
                    .resource("http://127.0.0.1:8000/mcp")
                    .validator(validator("http://127.0.0.1:9000"))
            )
            .build()
            .is_ok()
    );
    // A danger the mode does not have is refused rather than ignored.
    assert!(matches!(
        McpServer::builder("s")
            .authorization(
                AuthorizationConfig::builtin(ApiKeys::in_memory())
                    .dangerously_allow(Danger::FailOpen)
            )
            .build(),
        Err(BuildError::Authorization(
            AuthConfigError::DangerNotInMode { .. }
        ))
    ));
    // So is a setting the mode would silently ignore.
    assert!(matches!(
        McpServer::builder("s")
            .authorization(
                AuthorizationConfig::basic(MemoryStore::new())
                    .validator(validator("https://auth.example.com"))
            )
            .build(),
        Err(BuildError::Authorization(AuthConfigError::NotInMode { .. }))
    ));
    assert!(matches!(
        McpServer::builder("s")
            .authorization(AuthorizationConfig::enabled().resource("https://m.example/mcp"))
            .build(),
        Err(BuildError::Authorization(AuthConfigError::MissingValidator))
    ));
}

#[tokio::test]
async fn no_authorization_on_a_network_address_is_refused_unless_named() {
    let server = McpServer::builder("open").build().unwrap();
    // Bound and refused before any connection is accepted.
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let r = server
        .clone()
        .serve_listener(listener, std::future::ready(()))
        .await;
    assert!(
        matches!(
            r,
            Err(mcp_server::transport::http::ServeError::Unprotected { .. })
        ),
        "{r:?}"
    );
    // Loopback needs nothing.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    assert!(
        server
            .serve_listener(listener, std::future::ready(()))
            .await
            .is_ok()
    );
}

// ---------------------------------------------------------------------------------------------
// Finding 7: proofs that ride on invalid tokens never take a place in the replay cache.

/// A replay cache that counts what it is asked to remember.
#[derive(Default)]
struct CountingCache {
    inserts: AtomicUsize,
}

impl ReplayCache for CountingCache {
    fn insert_fresh(
        &self,
        _key: [u8; 32],
        _expires_at: u64,
    ) -> BoxFuture<'_, Result<bool, ReplayCacheError>> {
        self.inserts.fetch_add(1, Ordering::SeqCst);
        Box::pin(std::future::ready(Ok(true)))
    }
}

#[tokio::test]
async fn dp12_proofs_with_invalid_tokens_are_not_recorded_as_seen() {
    let issuer = TestIssuer::start().await.unwrap();
    let cache = Arc::new(CountingCache::default());
    let dpop = DpopConfig::allowed().replay_cache(cache.clone());
    let listener = TestListener::bind().await.unwrap();
    let url = listener.url();
    let server = McpServer::builder("dpop")
        .authorization(
            AuthorizationConfig::enabled()
                .resource(&url)
                .validator(jwt(&issuer))
                .dpop(dpop),
        )
        .tool(whoami())
        .build()
        .unwrap();
    let _srv = listener.spawn(server);
    let key = DpopKey::generate().unwrap();
    let dpop_post = |token: String, proof: String| {
        let url = url.clone();
        async move {
            let auth = format!("DPoP {token}");
            post(&url, &[("authorization", &auth), ("dpop", &proof)], INIT).await
        }
    };
    // An attacker's own key, tokens that are not valid: expired, unsigned, bound to another key.
    let other = DpopKey::generate().unwrap();
    for token in [
        issuer
            .token(&url)
            .cnf_jkt(&key.thumbprint())
            .expires_in(-600)
            .sign(),
        issuer.token(&url).cnf_jkt(&key.thumbprint()).unsigned(),
        issuer.token(&url).cnf_jkt(&other.thumbprint()).sign(),
        issuer.token(&url).sign(),
    ] {
        let proof = key.proof("POST", &url, &token).sign();
        let r = dpop_post(token, proof).await;
        assert_eq!(r.status, 401, "{}", r.body);
    }
    assert_eq!(cache.inserts.load(Ordering::SeqCst), 0);
    // A good token and proof are recorded, once.
    let good = issuer.token(&url).cnf_jkt(&key.thumbprint()).sign();
    let proof = key.proof("POST", &url, &good).sign();
    assert_eq!(dpop_post(good, proof).await.status, 200);
    assert_eq!(cache.inserts.load(Ordering::SeqCst), 1);
}

// ---------------------------------------------------------------------------------------------
// Finding 9: principals are structured; tasks re-check the caller.

#[tokio::test]
async fn t55_principals_cannot_be_forged_with_separators() {
    let issuer = TestIssuer::start().await.unwrap();
    let listener = TestListener::bind().await.unwrap();
    let url = listener.url();
    let server = McpServer::builder("sessions")
        .authorization(
            AuthorizationConfig::enabled()
                .resource(&url)
                .validator(jwt(&issuer)),
        )
        .tool(whoami())
        .build()
        .unwrap();
    let _srv = listener.spawn(server);
    // `iss|sub|client` made these two the same caller.
    let a = issuer
        .token(&url)
        .subject("x|y")
        .claim("client_id", json!(""))
        .sign();
    let b = issuer
        .token(&url)
        .subject("x")
        .claim("client_id", json!("y|"))
        .sign();
    let init = bearer_post(&url, &a, None, INIT).await;
    assert_eq!(init.status, 200);
    let sid = init.header("mcp-session-id").unwrap().to_owned();
    let ping = r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#;
    let as_b = post(
        &url,
        &[
            ("authorization", &format!("Bearer {b}")),
            ("mcp-session-id", &sid),
            ("mcp-protocol-version", "2025-11-25"),
        ],
        ping,
    )
    .await;
    assert_eq!(as_b.status, 404, "{}", as_b.body);
}

fn ask(key: &'static str) -> ElicitRequestParams {
    let schema = json!({"type": "object", "properties": {"v": {"type": "string"}}});
    ElicitRequestParams::form(key, schema.as_object().cloned().unwrap_or_default())
}

/// A builtin server with one operator tool that asks a question and runs as a task.
async fn task_server(keys: ApiKeys) -> (String, mcp_server::testing::TestServer) {
    let listener = TestListener::bind().await.unwrap();
    let url = listener.url();
    let runs = Arc::new(AtomicUsize::new(0));
    let server = McpServer::builder("tasks")
        .authorization(AuthorizationConfig::builtin(keys))
        .tool(
            ToolDef::from_fn("deploy", move |ctx: Context, NoArgs {}| {
                let runs = Arc::clone(&runs);
                async move {
                    let answer = ctx.elicit_as("confirm", ask("confirm")).await?;
                    runs.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, ClientRequestError>(format!(
                        "deployed by {:?} ({:?})",
                        ctx.auth().and_then(|a| a.credential_name.clone()),
                        answer.action
                    ))
                }
            })
            .min_role("operator")
            .task_support(TaskSupport::Optional),
        )
        .build()
        .unwrap();
    (url, listener.spawn(server))
}

/// A 2026-07-28 request with an API key, declaring elicitation and the tasks extension.
async fn modern(url: &str, key: &str, method: &str, mut params: Value, name: &str) -> Value {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": V,
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}, "extensions": {TASKS: {}}},
    });
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let r = send(
        Method::POST,
        url,
        &[
            ("content-type", "application/json"),
            ("accept", JSON_AND_SSE),
            ("mcp-protocol-version", V),
            ("mcp-method", method),
            ("mcp-name", name),
            ("x-api-key", key),
        ],
        Some(&body),
    )
    .await;
    r.messages().into_iter().last().unwrap_or_else(|| r.json())
}

async fn parked_task(url: &str, key: &str) -> String {
    let created = modern(
        url,
        key,
        "tools/call",
        json!({"name": "deploy", "arguments": {}}),
        "deploy",
    )
    .await;
    let id = created["result"]["taskId"]
        .as_str()
        .unwrap_or_else(|| panic!("a task: {created}"))
        .to_owned();
    for _ in 0..100 {
        let t = modern(url, key, "tasks/get", json!({"taskId": id}), &id).await;
        if t["result"]["status"] == "input_required" {
            return id;
        }
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    panic!("the task never asked its question");
}

#[tokio::test]
async fn a_viewer_key_cannot_drive_a_task_started_by_the_same_users_admin_key() {
    let store = MemoryStore::new();
    store.put_user(User::new("alice", "admin")).await.unwrap();
    let keys = ApiKeys::new(store);
    let admin = keys
        .create(
            NewApiKey::new("alice-admin", "admin")
                .surface(Surface::Mcp)
                .user_owned("alice"),
        )
        .await
        .unwrap();
    let viewer = keys
        .create(
            NewApiKey::new("alice-viewer", "viewer")
                .surface(Surface::Mcp)
                .user_owned("alice"),
        )
        .await
        .unwrap();
    let (url, _srv) = task_server(keys).await;
    let id = parked_task(&url, admin.secret.expose()).await;

    // Same user, another key: the task is not the viewer key's to see or answer.
    let seen = modern(
        &url,
        viewer.secret.expose(),
        "tasks/get",
        json!({"taskId": id}),
        &id,
    )
    .await;
    assert_eq!(seen["error"]["code"], -32602, "{seen}");
    let answers = json!({"taskId": id, "inputResponses": {"confirm": {"action": "accept", "content": {"v": "y"}}}});
    let driven = modern(&url, viewer.secret.expose(), "tasks/update", answers, &id).await;
    assert_eq!(driven["error"]["code"], -32602, "{driven}");
    let t = modern(
        &url,
        admin.secret.expose(),
        "tasks/get",
        json!({"taskId": id}),
        &id,
    )
    .await;
    assert_eq!(t["result"]["status"], "input_required", "{t}");
}

#[tokio::test]
async fn a_task_runs_again_only_while_its_caller_may_still_call_the_tool() {
    let keys = ApiKeys::in_memory();
    // An operator in the `ops` workspace, a viewer in `dev`.
    let key = keys
        .create(
            NewApiKey::new("ci", "viewer")
                .surface(Surface::Mcp)
                .workspace("ops", "operator")
                .workspace("dev", "viewer"),
        )
        .await
        .unwrap();
    let (url, _srv) = task_server(keys).await;
    let in_ops = format!("{url}?workspace=ops");
    let in_dev = format!("{url}?workspace=dev");
    let id = parked_task(&in_ops, key.secret.expose()).await;
    // The same key answers from `dev`, where it may not deploy: refused, and the handler does
    // not run again.
    let answers = json!({"taskId": id, "inputResponses": {"confirm": {"action": "accept", "content": {"v": "y"}}}});
    let r = modern(
        &in_dev,
        key.secret.expose(),
        "tasks/update",
        answers.clone(),
        &id,
    )
    .await;
    assert_eq!(r["error"]["code"], -32600, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("requires role 'operator'"),
        "{r}"
    );
    let t = modern(
        &in_ops,
        key.secret.expose(),
        "tasks/get",
        json!({"taskId": id}),
        &id,
    )
    .await;
    assert_eq!(t["result"]["status"], "input_required", "{t}");
    // Where it is an operator, the answer goes through.
    let r = modern(&in_ops, key.secret.expose(), "tasks/update", answers, &id).await;
    assert_eq!(r["result"]["resultType"], "complete", "{r}");
}

// ---------------------------------------------------------------------------------------------
// Finding 12: what an authenticated caller reads is never for shared caches.

#[tokio::test]
async fn resources_read_by_an_authenticated_caller_are_private() {
    let keys = ApiKeys::in_memory();
    let key = keys
        .create(NewApiKey::new("reader", "viewer").surface(Surface::Mcp))
        .await
        .unwrap();
    let listener = TestListener::bind().await.unwrap();
    let url = listener.url();
    let server = McpServer::builder("res")
        .authorization(AuthorizationConfig::builtin(keys))
        .resource(ResourceDef::new(
            mcp_server::types::Resource::new("mem://mine", "mine"),
            |ctx, uri| async move {
                let who = ctx.auth().and_then(|a| a.credential_name.clone());
                Ok(vec![mcp_server::types::ResourceContents::text(
                    uri,
                    None,
                    format!("{who:?}"),
                )])
            },
        ))
        .build()
        .unwrap();
    let _srv = listener.spawn(server);
    let r = modern(
        &url,
        key.secret.expose(),
        "resources/read",
        json!({"uri": "mem://mine"}),
        "mem://mine",
    )
    .await;
    assert_eq!(r["result"]["cacheScope"], "private", "{r}");
}

// ---------------------------------------------------------------------------------------------
// The typed layer: a route that reads the caller without being guarded fails closed.

#[tokio::test]
async fn a_handler_reading_the_caller_on_an_unguarded_route_fails_closed() {
    async fn secret(caller: Caller) -> Result<String, AuthRejection> {
        caller.require_role("admin")?;
        Ok("the secret".to_owned())
    }
    let keys = ApiKeys::in_memory();
    let key = keys
        .create(NewApiKey::new("v", "viewer").surface(Surface::RestApi))
        .await
        .unwrap();
    let server = McpServer::builder("app")
        .authorization(AuthorizationConfig::builtin(keys))
        .build()
        .unwrap();
    let guarded = axum::Router::new()
        .route("/api/guarded", get(secret))
        .layer(server.auth_layer(Surface::RestApi));
    // Forgotten layer.
    let unguarded = axum::Router::new().route("/api/unguarded", get(secret));
    let listener = TestListener::bind().await.unwrap();
    let url = serve_router(listener, guarded.merge(unguarded));
    let base = url.trim_end_matches("/mcp").to_owned();

    let r = send(Method::GET, &format!("{base}/api/unguarded"), &[], None).await;
    assert_eq!(r.status, 500, "{}", r.body);
    assert_eq!(r.json()["reason"], "route_not_guarded");
    let r = send(Method::GET, &format!("{base}/api/guarded"), &[], None).await;
    assert_eq!(r.status, 401);
    let bearer = format!("Bearer {}", key.secret.expose());
    let r = send(
        Method::GET,
        &format!("{base}/api/guarded"),
        &[("authorization", &bearer)],
        None,
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.json()["reason"], "insufficient_role");
}

#[tokio::test]
async fn the_user_store_of_basic_mode_is_not_the_key_store() {
    // Basic users and keys are separate modes: a Basic config takes no API-key setting.
    let r = McpServer::builder("s")
        .authorization(AuthorizationConfig::basic(MemoryStore::new()).api_key_header(None))
        .build();
    assert!(matches!(
        r,
        Err(BuildError::Authorization(AuthConfigError::NotInMode {
            setting: "api_key_header",
            ..
        }))
    ));
    let users: Arc<dyn UserStore> = Arc::new(MemoryStore::new());
    assert!(
        McpServer::builder("s")
            .authorization(AuthorizationConfig::basic_shared(users))
            .build()
            .is_ok()
    );
}
