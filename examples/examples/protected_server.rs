//! A protected MCP server: OAuth 2.1 bearer tokens checked against an authorization server's
//! keys, server scope `read`, and a tool that needs `files:delete`.
//!
//! Run it with no configuration and it starts an embedded authorization server on loopback and
//! prints two ready tokens and the commands to try them:
//!
//! ```sh
//! cargo run --example protected_server
//! ```
//!
//! Configuration (environment):
//! - `MCP_BIND` — address to bind (default `127.0.0.1:8000`); the endpoint is `/mcp`.
//! - `MCP_PUBLIC_URL` — the public URL of the endpoint, i.e. the resource identifier tokens must
//!   name (default `http://<MCP_BIND>/mcp`).
//! - `MCP_AUTH_ISSUER` — issuer URL of your authorization server (keys by discovery). Unset: the
//!   embedded one.
//! - `MCP_AUTH_AUDIENCE` — accepted token audience (default: the public URL).
//! - `MCP_REQUIRED_SCOPES` — space-separated scopes every request needs (default `read`).
//! - `MCP_DPOP` — `off` (default), `allowed` (Bearer or DPoP) or `required` (DPoP-bound tokens
//!   only, RFC 9449).
//! - `MCP_REDIS_URL` — a Redis (`redis://host:6379/`) where accepted DPoP proofs are remembered,
//!   so that several instances behind one URL refuse each other's replays (default: in memory).
//! - `MCP_STEP_UP` — `1` answers a missing tool scope with HTTP 403 `insufficient_scope` naming
//!   every scope the call needs (clients that can re-authorize), instead of the tool error.
//! - `MCP_FAIL_OPEN` — `1` lets requests in with no scopes while the authorization server is
//!   unreachable (default off: 503).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use mcp_server::auth::{AuthorizationConfig, DpopConfig, JwtValidator, JwtValidatorConfig};
use mcp_server::prelude::*;
use mcp_server::store::RedisReplayCache;
use mcp_server::testing::TestIssuer;

/// What `delete_file` answers.
#[derive(serde::Serialize, schemars::JsonSchema)]
struct Deleted {
    /// The deleted file.
    deleted: String,
}

/// A pretend filesystem, so that the example never touches real files.
struct Files {
    paths: Mutex<BTreeSet<String>>,
}

#[tools]
impl Files {
    /// List files in a directory.
    #[tool(annotations(read_only))]
    fn list_files(
        &self,
        /// Directory to list.
        path: String,
    ) -> Result<Json<Vec<String>>, ToolError> {
        let prefix = format!("{}/", path.trim_end_matches('/'));
        let paths = self
            .paths
            .lock()
            .map_err(|_| ToolError::new("storage unavailable"))?;
        Ok(Json(
            paths
                .iter()
                .filter(|f| f.starts_with(&prefix))
                .cloned()
                .collect(),
        ))
    }

    /// Delete a file.
    #[tool(required_scopes = ["files:delete"], annotations(destructive))]
    fn delete_file(
        &self,
        /// File to delete.
        path: String,
    ) -> Result<Json<Deleted>, ToolError> {
        let mut paths = self
            .paths
            .lock()
            .map_err(|_| ToolError::new("storage unavailable"))?;
        if paths.remove(&path) {
            Ok(Json(Deleted { deleted: path }))
        } else {
            Err(ToolError::new(format!("no such file: {path}")))
        }
    }
}

/// Get the current user.
#[tool(annotations(read_only))]
fn whoami(ctx: &Context) -> serde_json::Value {
    match ctx.auth() {
        Some(a) => serde_json::json!({
            "subject": a.subject, "client_id": a.client_id,
            "scopes": a.scopes, "issuer": a.issuer,
        }),
        None => serde_json::json!({ "subject": "anonymous" }),
    }
}

/// Add two integers.
#[tool(annotations(read_only, idempotent))]
fn add(
    /// The first addend.
    a: i64,
    /// The second addend.
    b: i64,
) -> Result<i64, &'static str> {
    a.checked_add(b).ok_or("integer overflow")
}

/// Echo the text back.
#[tool(annotations(read_only, idempotent))]
fn echo(
    /// The text to send back.
    text: String,
) -> String {
    text
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let bind = env("MCP_BIND").unwrap_or_else(|| "127.0.0.1:8000".to_owned());
    let public_url = env("MCP_PUBLIC_URL").unwrap_or_else(|| format!("http://{bind}/mcp"));
    let scopes: Vec<String> = env("MCP_REQUIRED_SCOPES")
        .unwrap_or_else(|| "read".to_owned())
        .split_whitespace()
        .map(str::to_owned)
        .collect();

    // Keep the embedded issuer alive for as long as the server runs.
    let mut embedded = None;
    let issuer = match env("MCP_AUTH_ISSUER") {
        Some(i) => i,
        None => {
            let e = TestIssuer::start().await?;
            let i = e.issuer().to_owned();
            embedded = Some(e);
            i
        }
    };
    let mut dpop = match env("MCP_DPOP").as_deref() {
        Some("required") => DpopConfig::required(),
        Some("allowed") => DpopConfig::allowed(),
        None | Some("off") => DpopConfig::default(),
        Some(other) => {
            return Err(format!("MCP_DPOP must be off, allowed or required, not {other:?}").into());
        }
    };
    if let Some(url) = env("MCP_REDIS_URL") {
        dpop.replay_cache = Arc::new(RedisReplayCache::connect(&url, "mcp:dpop:").await?);
    }
    let audience = env("MCP_AUTH_AUDIENCE").unwrap_or_default();
    let validator = JwtValidator::new(JwtValidatorConfig::new(&issuer, audience))?;
    let auth = AuthorizationConfig::enabled()
        .authorization_server(&issuer)
        .required_scopes(scopes.clone())
        .resource(&public_url)
        .fail_open(env("MCP_FAIL_OPEN").as_deref() == Some("1"))
        .dpop(dpop)
        .validator(validator);
    let auth = if env("MCP_STEP_UP").as_deref() == Some("1") {
        auth.step_up()
    } else {
        auth
    };

    let files = Files {
        paths: Mutex::new(
            [
                "/srv/data/report.txt",
                "/srv/data/notes.md",
                "/srv/data/old.log",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect(),
        ),
    };
    let server = McpServer::builder("protected-server")
        .authorization(auth)
        .http(HttpConfig::default().allow_host(host_of(&public_url)))
        .tools(files)
        .tool(whoami)
        .tool(add)
        .tool(echo)
        .build()?;

    if let Some(e) = &embedded {
        let read = e.token(&public_url).scope(&scopes.join(" ")).sign();
        let mut all = scopes.clone();
        all.push("files:delete".to_owned());
        let delete = e.token(&public_url).scope(&all.join(" ")).sign();
        println!("protected_server: {public_url} (embedded authorization server {issuer})");
        println!();
        println!("token with `{}`:\n  {read}", scopes.join(" "));
        println!("token with `{}`:\n  {delete}", all.join(" "));
        println!();
        println!("try it:");
        println!("  cargo run --example client -- --url {public_url} --token {read} list");
        println!(
            "  cargo run --example client -- --url {public_url} --token {delete} call delete_file '{{\"path\":\"/srv/data/old.log\"}}'"
        );
        println!(
            "  curl -si {public_url} -H 'Content-Type: application/json' -d '{{}}'   # 401 with a challenge"
        );
    } else {
        println!("protected_server: {public_url} (authorization server {issuer})");
    }
    server.serve(bind).await?;
    drop(embedded);
    Ok(())
}

/// The `host[:port]` of a URL, accepted as `Host` besides loopback.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest).to_owned()
}
