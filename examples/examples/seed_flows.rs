//! The two flows this framework grew from, end to end in one process: each step prints what it
//! did and what came back, and the program exits non-zero when anything differs from what the
//! flow promises (CI runs it).
//!
//! ```sh
//! cargo run --example seed_flows
//! ```
//!
//! **OAuth resource server** (Dedalus-style `AuthorizationConfig`): a server whose every request
//! needs the `read` scope and whose `delete_file` tool also needs `files:delete`, an embedded
//! authorization server minting tokens, and clients with `BearerAuth` and `DpopAuth`:
//! 1. no token → 401 with a `WWW-Authenticate` challenge naming the protected resource metadata,
//!    which names the authorization server and the scopes;
//! 2. a `read` token lists and calls `list_files`, and `delete_file` answers the tool error
//!    `Tool "delete_file" requires scopes: ['files:delete']. Missing: ['files:delete']`;
//! 3. a `read files:delete` token deletes; `whoami` shows the subject and scopes;
//! 4. a server requiring DPoP: the token bound to the client's key works with its proofs, and the
//!    same token as a plain Bearer is refused.
//!
//! **API keys** (Dagu-style builtin mode): keys with roles, surfaces and workspaces:
//! 5. an operator key with the `mcp` surface starts a run; a viewer key is refused by the
//!    operator tool;
//! 6. a key limited to the `ops` workspace acts there (`?workspace=ops`) and not in `dev`;
//! 7. the MCP-only key is refused by the REST route, a key with the `rest_api` surface is not.
//!
//! The same flows as separate processes: `cargo run --example protected_server` (prints tokens)
//! with `cargo run --example client -- --token ...`, and `cargo run --example workflow_server`.

use std::collections::BTreeSet;
use std::sync::Mutex;

use mcp_client::McpClient;
use mcp_client::auth::{BearerAuth, DpopAuth, DpopKey};
use mcp_server::auth::{ApiKeys, AuthorizationConfig, Caller, DpopConfig, NewApiKey, Surface};
use mcp_server::prelude::*;
use mcp_server::testing::{TestIssuer, TestListener};
use serde_json::json;

/// A pretend filesystem: the example never touches real files.
struct Files {
    paths: Mutex<BTreeSet<String>>,
}

#[tools]
impl Files {
    /// List the files.
    #[tool(annotations(read_only))]
    fn list_files(&self) -> Vec<String> {
        self.paths
            .lock()
            .map(|p| p.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Delete a file.
    #[tool(required_scopes = ["files:delete"], annotations(destructive))]
    fn delete_file(&self, path: String) -> Result<String, String> {
        let mut paths = self.paths.lock().map_err(|_| "busy".to_owned())?;
        if paths.remove(&path) {
            Ok(format!("deleted {path}"))
        } else {
            Err(format!("no such file: {path}"))
        }
    }
}

/// Who is calling, with which scopes.
#[tool(annotations(read_only))]
fn whoami(ctx: &Context) -> Json<serde_json::Value> {
    Json(match ctx.auth() {
        Some(a) => json!({"subject": a.subject, "scopes": a.scopes, "role": a.role}),
        None => json!({"subject": null}),
    })
}

/// Start a run of a workflow (operators and above), in the selected workspace if any.
#[tool(min_role = "operator")]
fn start_run(workflow: String, ctx: &Context) -> String {
    let workspace = ctx
        .auth()
        .and_then(|a| a.workspace.clone())
        .unwrap_or_else(|| "-".to_owned());
    format!("started {workflow} in workspace {workspace}")
}

/// Counts the steps that went as the flow promises.
#[derive(Default)]
struct Checks {
    failed: usize,
}

impl Checks {
    fn check(&mut self, ok: bool, what: &str) {
        if ok {
            println!("  ok    {what}");
        } else {
            println!("  FAIL  {what}");
            self.failed += 1;
        }
    }
}

fn files() -> Files {
    Files {
        paths: Mutex::new(
            ["/srv/data/report.csv", "/srv/data/old.log"]
                .into_iter()
                .map(str::to_owned)
                .collect(),
        ),
    }
}

async fn oauth_flow(checks: &mut Checks) -> Result<(), Box<dyn std::error::Error>> {
    println!("OAuth resource server (AuthorizationConfig + BearerAuth)");
    let issuer = TestIssuer::start().await?;
    let listener = TestListener::bind().await?;
    let url = listener.url();
    let server = McpServer::builder("protected-server")
        .authorization(issuer.authorization(&url)?.required_scopes(["read"]))
        .tools(files())
        .tool(whoami)
        .build()?;
    let running = listener.spawn(server);

    // 1. No token: 401 and the way to a token.
    let http = reqwest::Client::new();
    let r = http
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        .send()
        .await?;
    let challenge = r
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    println!("  no token: {} {challenge}", r.status().as_u16());
    checks.check(
        r.status() == 401 && challenge.contains("resource_metadata="),
        "no token: 401 with a resource_metadata challenge",
    );
    let metadata_url = challenge
        .split("resource_metadata=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .to_owned();
    let metadata: serde_json::Value = http.get(&metadata_url).send().await?.json().await?;
    println!("  protected resource metadata: {metadata}");
    checks.check(
        metadata["resource"] == url.as_str()
            && metadata["authorization_servers"][0] == issuer.issuer()
            && metadata["scopes_supported"]
                .as_array()
                .is_some_and(|s| s.iter().any(|v| v == "files:delete")),
        "the metadata names the resource, the authorization server and every scope",
    );

    // 2. A `read` token: listing works, deleting is refused with the documented tool error.
    let read = issuer.token(&url).subject("alice").scope("read").sign();
    let client = McpClient::connect(&url, BearerAuth::new(read)).await?;
    let listed = client.call_tool("list_files", json!({})).await?;
    println!(
        "  read token, list_files: {}",
        listed
            .text_content()
            .unwrap_or_default()
            .replace('\n', ", ")
    );
    checks.check(
        listed.is_error != Some(true),
        "a read token calls list_files",
    );
    let refused = client
        .call_tool("delete_file", json!({"path": "/srv/data/old.log"}))
        .await?;
    let text = refused.text_content().unwrap_or_default();
    println!(
        "  read token, delete_file: isError={:?} {text}",
        refused.is_error
    );
    checks.check(
        refused.is_error == Some(true)
            && text == "Tool \"delete_file\" requires scopes: ['files:delete']. Missing: ['files:delete']",
        "delete_file without files:delete is the documented tool error",
    );
    client.close().await?;

    // 3. With `files:delete`.
    let both = issuer
        .token(&url)
        .subject("alice")
        .scope("read files:delete")
        .sign();
    let client = McpClient::connect(&url, BearerAuth::new(both)).await?;
    let deleted = client
        .call_tool("delete_file", json!({"path": "/srv/data/old.log"}))
        .await?;
    println!(
        "  read+files:delete token, delete_file: {}",
        deleted.text_content().unwrap_or_default()
    );
    checks.check(
        deleted.is_error != Some(true),
        "a token with files:delete deletes",
    );
    let me = client.call_tool("whoami", json!({})).await?;
    let me = me.structured_content.unwrap_or_default();
    println!("  whoami: {me}");
    checks.check(
        me["subject"] == "alice" && me["scopes"] == json!(["files:delete", "read"]),
        "whoami shows the subject and the scopes",
    );
    client.close().await?;
    running.shutdown().await;

    // 4. DPoP required: bound tokens with proofs only.
    let listener = TestListener::bind().await?;
    let url = listener.url();
    let server = McpServer::builder("dpop-server")
        .authorization(
            issuer
                .authorization(&url)?
                .required_scopes(["read"])
                .dpop(DpopConfig::required()),
        )
        .tools(files())
        .build()?;
    let running = listener.spawn(server);
    let key = DpopKey::generate()?;
    let bound = issuer
        .token(&url)
        .scope("read")
        .cnf_jkt(key.thumbprint())
        .sign();
    let client = McpClient::connect(&url, DpopAuth::new(bound.clone(), key)).await?;
    let listed = client.call_tool("list_files", json!({})).await?;
    checks.check(
        listed.is_error != Some(true),
        "DPoP: the bound token with its key's proofs is accepted",
    );
    client.close().await?;
    let as_bearer = McpClient::connect(&url, BearerAuth::new(bound)).await;
    checks.check(
        as_bearer.is_err(),
        "DPoP: the same token as a plain Bearer is refused",
    );
    running.shutdown().await;
    Ok(())
}

async fn api_key_flow(checks: &mut Checks) -> Result<(), Box<dyn std::error::Error>> {
    println!("API keys (builtin mode: roles, surfaces, workspaces)");
    let keys = ApiKeys::in_memory();
    let operator = keys
        .create(NewApiKey::new("ci", "operator").surface(Surface::Mcp))
        .await?;
    let viewer = keys
        .create(NewApiKey::new("dashboard", "viewer").surface(Surface::Mcp))
        .await?;
    let ops_only = keys
        .create(
            NewApiKey::new("ops-bot", "viewer")
                .surface(Surface::Mcp)
                .surface(Surface::RestApi)
                .workspace("ops", "operator"),
        )
        .await?;
    let server = McpServer::builder("workflows")
        .authorization(AuthorizationConfig::builtin(keys).known_workspaces(["ops", "dev"]))
        .tool(start_run)
        .build()?
        .http(HttpConfig::default());
    let api = axum::Router::new()
        .route(
            "/api/runs",
            axum::routing::get(|caller: Caller| async move {
                let who = caller.context().and_then(|c| c.subject.clone());
                format!("runs visible to {}", who.unwrap_or_default())
            }),
        )
        .layer(server.auth_layer(Surface::RestApi));
    let app = server.into_router().merge(api);
    let listener = TestListener::bind().await?;
    let base = format!("http://{}", listener.addr());
    let url = listener.url();
    let tcp = listener.into_tcp_listener();
    let serving = tokio::spawn(async move {
        let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        axum::serve(tcp, app).await
    });

    // 5. Roles.
    let run = json!({"workflow": "nightly"});
    let client = McpClient::connect(&url, BearerAuth::new(operator.secret.expose())).await?;
    let started = client.call_tool("start_run", run.clone()).await?;
    println!(
        "  operator key, start_run: {}",
        started.text_content().unwrap_or_default()
    );
    checks.check(
        started.is_error != Some(true),
        "an operator key starts a run",
    );
    client.close().await?;
    let client = McpClient::connect(&url, BearerAuth::new(viewer.secret.expose())).await?;
    let refused = client.call_tool("start_run", run.clone()).await?;
    println!(
        "  viewer key, start_run: {}",
        refused.text_content().unwrap_or_default()
    );
    checks.check(
        refused.is_error == Some(true),
        "a viewer key is refused by an operator tool",
    );
    client.close().await?;

    // 6. Workspaces.
    let in_ops = format!("{url}?workspace=ops");
    let client = McpClient::connect(&in_ops, BearerAuth::new(ops_only.secret.expose())).await?;
    let started = client.call_tool("start_run", run.clone()).await?;
    println!(
        "  ops-only key in ?workspace=ops: {}",
        started.text_content().unwrap_or_default()
    );
    checks.check(
        started.is_error != Some(true)
            && started
                .text_content()
                .is_some_and(|t| t.ends_with("workspace ops")),
        "a key granted operator in ops starts a run there",
    );
    client.close().await?;
    let in_dev = format!("{url}?workspace=dev");
    let outside = McpClient::connect(&in_dev, BearerAuth::new(ops_only.secret.expose())).await;
    checks.check(
        outside.is_err(),
        "the same key cannot act in a workspace it was not granted",
    );

    // 7. Surfaces.
    let http = reqwest::Client::new();
    let mcp_only = http
        .get(format!("{base}/api/runs"))
        .bearer_auth(operator.secret.expose())
        .send()
        .await?;
    let rest = http
        .get(format!("{base}/api/runs"))
        .bearer_auth(ops_only.secret.expose())
        .send()
        .await?;
    println!(
        "  REST /api/runs: MCP-only key {}, rest_api key {}",
        mcp_only.status().as_u16(),
        rest.status().as_u16()
    );
    checks.check(
        mcp_only.status() == 401 || mcp_only.status() == 403,
        "an MCP-only key is refused by the REST route",
    );
    checks.check(
        rest.status() == 200,
        "a key with the rest_api surface is accepted by it",
    );
    serving.abort();
    Ok(())
}

#[tokio::main]
async fn main() {
    let mut checks = Checks::default();
    for result in [
        oauth_flow(&mut checks).await,
        api_key_flow(&mut checks).await,
    ] {
        if let Err(e) = result {
            println!("  FAIL  {e}");
            checks.failed += 1;
        }
    }
    if checks.failed > 0 {
        println!("{} step(s) did not go as the flows promise", checks.failed);
        std::process::exit(1);
    }
    println!("both flows went as promised");
}
