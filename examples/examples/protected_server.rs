//! A protected MCP server: OAuth 2.1 bearer tokens checked against an authorization server's
//! keys, server scope `read`, and a tool that needs `files:delete`.
//!
//! Tools: `list_files`, `whoami`, `add`, `echo` (scope `read`), `delete_file` (`files:delete`),
//! and `archive_files` (scope `read`): it reports progress (`notifications/progress`, one step
//! every 200 ms while it counts the files of a directory, then while it archives them), asks
//! the user "Archive N files under DIR?" by elicitation (form mode, a `confirm` boolean) when the
//! client supports elicitation (archiving goes ahead without asking when it does not; a decline
//! archives nothing and is not an error), and exposes each archive as a new resource
//! (`archive:///N.txt`, listing its files), so that clients hear
//! `notifications/resources/list_changed` (2026-07-28: `subscriptions/listen`).
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
//! - `MCP_REQUEST_STATE_KEY` — a secret of at least 32 bytes (e.g. `openssl rand -hex 32`) that
//!   seals 2026-07-28 `requestState`: give every instance behind one URL the same one, so that
//!   the retry of an `input_required` answer (elicitation) may reach any instance (default: a
//!   random key per process). Never printed.
//! - `MCP_DATABASE_URL` — a PostgreSQL database (`postgres://user:password@10.0.0.5:5432/mcp`;
//!   plain TCP: loopback or a private network) where the audit trail goes (table
//!   `audit_events`, shared by every instance; queued, so a slow or absent database never
//!   blocks a request). `MCP_DATABASE_SCHEMA` picks a schema other than the user's default.
//!   Unset: audit events go to the logs only. The URL's password is never printed.
//! - `MCP_STEP_UP` — `1` answers a missing tool scope with HTTP 403 `insufficient_scope` naming
//!   every scope the call needs (clients that can re-authorize), instead of the tool error.
//! - `MCP_FAIL_OPEN` — `1` lets requests in with no scopes while the authorization server is
//!   unreachable (default off: 503).
//! - `MCP_ROLE_CLAIM` — where tokens carry the caller's role (see `RoleClaim`): a claim name,
//!   taken as is (`roles`, `groups`, `https://example.com/roles`), or a JSON array of claim names
//!   and paths, pooled (`[["realm_access","roles"],["resource_access","mcp-server","roles"]]`).
//!   A token without a role there holds the lowest role, `viewer`. Set, it adds the tool
//!   `rotate_logs` (`min_role = "operator"`), and `whoami` reports the role.
//! - `MCP_ROLE_MAP` — a JSON object, claim value → role (`{"mcp-operators":"operator"}`); unset,
//!   the values are role names (`viewer < operator < developer < manager < admin`).
//! - `MCP_WORKSPACE_CLAIM` — where tokens carry workspaces (see `WorkspaceClaim`), the same
//!   syntax as `MCP_ROLE_CLAIM`; each value matching `MCP_WORKSPACE_PATTERN` (default
//!   `mcp:{workspace}:{role}`) grants that role in that workspace (`?workspace=ops` on the URL).
//!   A token sees only the workspaces it is granted (others answer 404).
//! - `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) — an OTLP/HTTP
//!   collector (`http://127.0.0.1:4318`): the MCP spans and metrics are exported there, as the
//!   other standard `OTEL_*` variables say (`OTEL_SERVICE_NAME`, `OTEL_TRACES_SAMPLER`, …; see
//!   `mcp_server::telemetry::init_from_env`). Unset: logs only.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use mcp_server::auth::{
    AuthorizationConfig, Danger, DpopConfig, IntrospectionConfig, IntrospectionValidator,
    JwtValidator, JwtValidatorConfig, PostgresAuditSink, PostgresOptions, PostgresStore, RoleClaim,
    WorkspaceClaim,
};
use mcp_server::prelude::*;
use mcp_server::store::RedisReplayCache;
use mcp_server::testing::TestIssuer;
use mcp_server::transport::http::RedisSessions;
use mcp_server::types::{ElicitAction, ElicitRequestParams};

/// What `delete_file` answers.
#[derive(serde::Serialize, schemars::JsonSchema)]
struct Deleted {
    /// The deleted file.
    deleted: String,
}

/// The pause between two steps of `archive_files`, so that its progress is visible.
const ARCHIVE_STEP: Duration = Duration::from_millis(200);

/// A pretend filesystem, so that the example never touches real files.
struct Files {
    paths: Mutex<BTreeSet<String>>,
    /// The server, to publish archives as resources (set once it is built).
    server: OnceLock<McpServer>,
    /// Archives made so far, for their names.
    archives: AtomicU64,
}

impl Files {
    /// The files under `dir`.
    fn under(&self, dir: &str) -> Result<Vec<String>, ToolError> {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        let paths = self
            .paths
            .lock()
            .map_err(|_| ToolError::new("storage unavailable"))?;
        Ok(paths
            .iter()
            .filter(|f| f.starts_with(&prefix))
            .cloned()
            .collect())
    }

    /// Publishes an archive of `files` as a new resource; clients hear `list_changed`.
    fn publish_archive(&self, files: Vec<String>) -> Result<String, ToolError> {
        let server = self
            .server
            .get()
            .ok_or_else(|| ToolError::new("the server is starting"))?;
        let n = self.archives.fetch_add(1, Ordering::Relaxed) + 1;
        let uri = format!("archive:///{n}.txt");
        let listing = files.join("\n");
        let resource = Resource {
            description: Some(format!("An archive of {} files", files.len())),
            mime_type: Some("text/plain".to_owned()),
            ..Resource::new(&uri, format!("archive-{n}"))
        };
        server.add_resource(ResourceDef::new(resource, move |_ctx, uri| {
            let listing = listing.clone();
            async move {
                Ok(ResourceContents::text(
                    uri,
                    Some("text/plain".to_owned()),
                    listing,
                ))
            }
        }));
        Ok(uri)
    }
}

/// The form `archive_files` shows: one `confirm` checkbox.
fn confirm_form(message: String) -> ElicitRequestParams {
    let schema = serde_json::from_value(serde_json::json!({
        "type": "object",
        "properties": {
            "confirm": {"type": "boolean", "title": "Archive", "default": true}
        },
        "required": ["confirm"]
    }))
    .unwrap_or_default();
    ElicitRequestParams::form(message, schema)
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
        Ok(Json(self.under(&path)?))
    }

    /// Archive the files of a directory (after confirmation), with progress; the archive
    /// becomes a resource.
    #[tool]
    async fn archive_files(
        &self,
        ctx: &Context,
        /// Directory whose files to archive.
        path: String,
    ) -> Result<String, ToolError> {
        let files = self.under(&path)?;
        if files.is_empty() {
            return Err(ToolError::new(format!("no files under {path}")));
        }
        let n = files.len();
        let total = Some((2 * n) as f64);
        for (i, f) in files.iter().enumerate() {
            tokio::time::sleep(ARCHIVE_STEP).await;
            ctx.progress((i + 1) as f64, total, Some(&format!("found {f}")));
        }
        // Ask only a client that can be asked (on the 2026-07-28 wire, asking one that cannot
        // fails the call with -32021): archiving only copies, so it goes ahead otherwise.
        let can_ask = ctx
            .client_capabilities()
            .is_some_and(|c| c.elicitation.is_some());
        if can_ask {
            let question = confirm_form(format!("Archive {n} files under {path}?"));
            // 2026-07-28: the first round ends here with an `input_required` result (whatever
            // is returned); the client retries with the answer and this handler runs again.
            let answer = ctx
                .elicit(question)
                .await
                .map_err(|e| ToolError::new(format!("no confirmation: {e}")))?;
            let confirmed = answer.action == ElicitAction::Accept
                && answer
                    .content
                    .as_ref()
                    .and_then(|c| c.get("confirm"))
                    .and_then(serde_json::Value::as_bool)
                    .unwrap_or(false);
            if !confirmed {
                return Ok(format!(
                    "not archived: {n} files under {path} left as they are"
                ));
            }
        }
        for (i, f) in files.iter().enumerate() {
            tokio::time::sleep(ARCHIVE_STEP).await;
            ctx.progress((n + i + 1) as f64, total, Some(&format!("archived {f}")));
        }
        let uri = self.publish_archive(files)?;
        Ok(format!("archived {n} files under {path} into {uri}"))
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
            "role": a.role, "global_role": a.global_role,
            "workspace": a.workspace, "workspaces": a.workspaces,
        }),
        None => serde_json::json!({ "subject": "anonymous" }),
    }
}

/// Rotate the server's logs (operators and above; only with `MCP_ROLE_CLAIM`).
#[tool(min_role = "operator")]
fn rotate_logs(ctx: &Context) -> String {
    let role = ctx.auth().and_then(|a| a.role.clone()).unwrap_or_default();
    format!("logs rotated (role {role})")
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
    let (auth, roles) = roles_from_env(auth)?;
    let auth = if env("MCP_STEP_UP").as_deref() == Some("1") {
        auth.step_up()
    } else {
        auth
    };
    // The audit trail in PostgreSQL, shared by every instance (else in the logs only).
    let auth = match env("MCP_DATABASE_URL") {
        Some(url) => {
            let mut options = PostgresOptions::new(url);
            if let Some(schema) = env("MCP_DATABASE_SCHEMA") {
                options = options.schema(schema);
            }
            // The error never repeats the URL (it may hold a password).
            let store = PostgresStore::connect_with(options).await?;
            tracing::info!(schema = store.schema(), "audit events in PostgreSQL");
            auth.audit(PostgresAuditSink::new(&store)?)
        }
        None => auth,
    };

    let files = Arc::new(Files {
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
        server: OnceLock::new(),
        archives: AtomicU64::new(0),
    });
    let mut http = HttpConfig::default().allow_host(host_of(&public_url));
    if let Some(url) = env("MCP_REDIS_URL") {
        // Legacy sessions and their streams on Redis too: any instance serves any session.
        http = http.shared_sessions(RedisSessions::connect(&url, "mcp:sessions:").await?);
    }
    let mut builder = McpServer::builder("protected-server")
        .authorization(auth)
        .tools(Arc::clone(&files))
        .tool(whoami)
        .tool(add)
        .tool(echo);
    if roles {
        builder = builder.tool(rotate_logs);
    }
    if let Some(key) = env("MCP_REQUEST_STATE_KEY") {
        builder = builder.request_state_key(key.into_bytes());
    }
    let mcp = builder.build()?;
    // Set before serving: archive_files publishes its archives through it.
    let _ = files.server.set(mcp.clone());
    let server = mcp.http(http);

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

/// The claim paths of `MCP_ROLE_CLAIM` or `MCP_WORKSPACE_CLAIM`: a claim name as is, or a JSON
/// array whose items are claim names or arrays of path segments.
fn claim_paths(var: &str, value: &str) -> Result<Vec<Vec<String>>, String> {
    if !value.trim_start().starts_with('[') {
        return Ok(vec![vec![value.to_owned()]]);
    }
    let bad = || {
        format!(
            "{var} must be a claim name or a JSON array of claim names and paths \
             (`[[\"realm_access\",\"roles\"],\"groups\"]`)"
        )
    };
    let items: Vec<serde_json::Value> = serde_json::from_str(value).map_err(|_| bad())?;
    let paths: Vec<Vec<String>> = items
        .into_iter()
        .map(|item| match item {
            serde_json::Value::String(name) => Some(vec![name]),
            serde_json::Value::Array(segments) => segments
                .into_iter()
                .map(|s| s.as_str().map(str::to_owned))
                .collect(),
            _ => None,
        })
        .collect::<Option<_>>()
        .ok_or_else(bad)?;
    if paths.is_empty() || paths.iter().any(Vec::is_empty) {
        return Err(bad());
    }
    Ok(paths)
}

/// `MCP_ROLE_CLAIM`, `MCP_ROLE_MAP`, `MCP_WORKSPACE_CLAIM` and `MCP_WORKSPACE_PATTERN` applied to
/// `auth`; `true` when roles come from tokens (then `rotate_logs` can be enforced).
fn roles_from_env(
    auth: AuthorizationConfig,
) -> Result<(AuthorizationConfig, bool), Box<dyn std::error::Error>> {
    let mut auth = auth;
    let mut roles = false;
    if let Some(value) = env("MCP_ROLE_CLAIM") {
        let mut paths = claim_paths("MCP_ROLE_CLAIM", &value)?.into_iter();
        let mut claim = RoleClaim::path(paths.next().unwrap_or_default());
        for path in paths {
            claim = claim.also_path(path);
        }
        if let Some(map) = env("MCP_ROLE_MAP") {
            let map: std::collections::BTreeMap<String, String> = serde_json::from_str(&map)
                .map_err(|_| "MCP_ROLE_MAP must be a JSON object of claim value → role")?;
            for (value, role) in map {
                claim = claim.map(value, role);
            }
        }
        auth = auth.role_claim(claim);
        roles = true;
    } else if env("MCP_ROLE_MAP").is_some() {
        return Err("MCP_ROLE_MAP is set but MCP_ROLE_CLAIM is not".into());
    }
    if let Some(value) = env("MCP_WORKSPACE_CLAIM") {
        let mut paths = claim_paths("MCP_WORKSPACE_CLAIM", &value)?.into_iter();
        let mut claim = WorkspaceClaim::path(paths.next().unwrap_or_default());
        for path in paths {
            claim = claim.also_path(path);
        }
        let pattern =
            env("MCP_WORKSPACE_PATTERN").unwrap_or_else(|| "mcp:{workspace}:{role}".to_owned());
        auth = auth.workspace_claim(claim.pattern(&pattern)?);
        roles = true;
    }
    if roles {
        tracing::info!("roles and workspaces come from the token's claims");
    }
    Ok((auth, roles))
}

/// The `host[:port]` of a URL, accepted as `Host` besides loopback.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest).to_owned()
}
