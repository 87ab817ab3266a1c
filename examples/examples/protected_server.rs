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
//! - `MCP_INTROSPECTION_URL` — the authorization server's RFC 7662 introspection endpoint; when
//!   set, tokens (opaque ones included) are validated by introspection instead of as JWTs, and
//!   the answer must come from `MCP_AUTH_ISSUER` (required then) and name the audience above.
//! - `MCP_INTROSPECTION_CLIENT_ID`, `MCP_INTROSPECTION_CLIENT_SECRET` — the credentials this
//!   server authenticates to the introspection endpoint with (HTTP Basic); both required when
//!   `MCP_INTROSPECTION_URL` is set. The secret is never printed.
//! - `MCP_REQUIRED_SCOPES` — space-separated scopes every request needs (default `read`).
//! - `MCP_DPOP` — `off` (default), `allowed` (Bearer or DPoP) or `required` (DPoP-bound tokens
//!   only, RFC 9449).
//! - `MCP_REDIS_URL` — a Redis (`redis://host:6379/`) shared by several instances behind one
//!   URL (no sticky routing needed): accepted DPoP proofs are remembered there, so that the
//!   instances refuse each other's replays, and legacy-era sessions, their SSE events and the
//!   instances' messages live there, so that any instance serves any session (see
//!   `RedisSessions`). Default: all in memory.
//! - `MCP_STEP_UP` — `1` answers a missing tool scope with HTTP 403 `insufficient_scope` naming
//!   every scope the call needs (clients that can re-authorize), instead of the tool error.
//! - `MCP_FAIL_OPEN` — `1` lets requests in with no scopes while the authorization server is
//!   unreachable (default off: 503).
//! - `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) — an OTLP/HTTP
//!   collector (`http://127.0.0.1:4318`): the MCP spans and metrics are exported there, as the
//!   other standard `OTEL_*` variables say (`OTEL_SERVICE_NAME`, `OTEL_TRACES_SAMPLER`, …; see
//!   `mcp_server::telemetry::init_from_env`). Unset: logs only.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use mcp_server::auth::{
    AuthorizationConfig, Danger, DpopConfig, IntrospectionConfig, IntrospectionValidator,
    JwtValidator, JwtValidatorConfig,
};
use mcp_server::prelude::*;
use mcp_server::store::RedisReplayCache;
use mcp_server::testing::TestIssuer;
use mcp_server::transport::http::RedisSessions;

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

/// Logs on stderr (`RUST_LOG`, default `info`); with an OTLP endpoint configured, spans and
/// metrics exported too, until the returned guard drops (at the end of `main`, which flushes).
fn telemetry() -> Result<Option<mcp_server::telemetry::TelemetryGuard>, Box<dyn std::error::Error>>
{
    if env("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
        || env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some()
    {
        return Ok(Some(mcp_server::telemetry::init_from_env(
            "protected-server",
        )?));
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    Ok(None)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Before the server is built: its metrics go to the meter provider installed here.
    let _telemetry = telemetry()?;
    let bind = env("MCP_BIND").unwrap_or_else(|| "127.0.0.1:8000".to_owned());
    let public_url = env("MCP_PUBLIC_URL").unwrap_or_else(|| format!("http://{bind}/mcp"));
    let scopes: Vec<String> = env("MCP_REQUIRED_SCOPES")
        .unwrap_or_else(|| "read".to_owned())
        .split_whitespace()
        .map(str::to_owned)
        .collect();

    let introspection = introspection_from_env()?;
    let introspected_at = introspection.as_ref().map(|c| c.endpoint.clone());
    // Keep the embedded issuer alive for as long as the server runs.
    let mut embedded = None;
    let issuer = match env("MCP_AUTH_ISSUER") {
        Some(i) => i,
        None if introspection.is_some() => {
            return Err(
                "MCP_INTROSPECTION_URL needs MCP_AUTH_ISSUER (the authorization server \
                 whose tokens it introspects)"
                    .into(),
            );
        }
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
        dpop = dpop.replay_cache(Arc::new(
            RedisReplayCache::connect(&url, "mcp:dpop:").await?,
        ));
    }
    let audience = env("MCP_AUTH_AUDIENCE");
    let auth = AuthorizationConfig::enabled()
        .authorization_server(&issuer)
        .required_scopes(scopes.clone())
        .resource(&public_url)
        .dpop(dpop);
    let auth = if env("MCP_FAIL_OPEN").as_deref() == Some("1") {
        auth.dangerously_allow(Danger::FailOpen)
    } else {
        auth
    };
    let auth = match introspection {
        Some(config) => {
            let mut config = config.issuer(&issuer);
            if let Some(a) = audience {
                config = config.audience([a]);
            }
            tracing::info!(
                endpoint = %config.endpoint,
                auth = ?config.auth,
                "access tokens are validated by introspection"
            );
            auth.validator(IntrospectionValidator::new(config)?)
        }
        None => auth.validator(JwtValidator::new(JwtValidatorConfig::new(
            &issuer,
            audience.unwrap_or_default(),
        ))?),
    };
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
    let mut http = HttpConfig::default().allow_host(host_of(&public_url));
    if let Some(url) = env("MCP_REDIS_URL") {
        // Legacy sessions and their streams on Redis too: any instance serves any session.
        http = http.shared_sessions(RedisSessions::connect(&url, "mcp:sessions:").await?);
    }
    let server = McpServer::builder("protected-server")
        .authorization(auth)
        .tools(files)
        .tool(whoami)
        .tool(add)
        .tool(echo)
        .build()?
        .http(http);

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
        match &introspected_at {
            Some(endpoint) => println!(
                "protected_server: {public_url} (authorization server {issuer}, tokens checked by introspection at {endpoint})"
            ),
            None => println!("protected_server: {public_url} (authorization server {issuer})"),
        }
    }
    server.serve(bind).await?;
    drop(embedded);
    Ok(())
}

/// The introspection settings from `MCP_INTROSPECTION_URL`, `MCP_INTROSPECTION_CLIENT_ID` and
/// `MCP_INTROSPECTION_CLIENT_SECRET`: `None` when the URL is unset, an error when it is set
/// without both credentials (or they are set without it).
fn introspection_from_env() -> Result<Option<IntrospectionConfig>, String> {
    let id = env("MCP_INTROSPECTION_CLIENT_ID");
    let secret = env("MCP_INTROSPECTION_CLIENT_SECRET");
    let Some(url) = env("MCP_INTROSPECTION_URL") else {
        if id.is_some() || secret.is_some() {
            return Err(
                "MCP_INTROSPECTION_CLIENT_ID/MCP_INTROSPECTION_CLIENT_SECRET are set but \
                 MCP_INTROSPECTION_URL is not"
                    .to_owned(),
            );
        }
        return Ok(None);
    };
    match (id, secret) {
        (Some(id), Some(secret)) => Ok(Some(IntrospectionConfig::new(url, id, secret))),
        (id, secret) => {
            let missing: Vec<&str> = [
                ("MCP_INTROSPECTION_CLIENT_ID", id.is_none()),
                ("MCP_INTROSPECTION_CLIENT_SECRET", secret.is_none()),
            ]
            .into_iter()
            .filter_map(|(name, absent)| absent.then_some(name))
            .collect();
            Err(format!(
                "MCP_INTROSPECTION_URL is set but {} {} not: the client id and secret this \
                 server authenticates to the introspection endpoint with are both required",
                missing.join(" and "),
                if missing.len() > 1 { "are" } else { "is" }
            ))
        }
    }
}

/// The `host[:port]` of a URL, accepted as `Host` besides loopback.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest).to_owned()
}
