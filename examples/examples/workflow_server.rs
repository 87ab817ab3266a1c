//! A Dagu-like workflow server with built-in credentials: API keys in a SQLite file, roles per
//! tool, workspaces, an audit trail in daily JSON-lines files, and a small REST API beside the
//! MCP endpoint guarded by the same keys (surface `rest_api`), key and user administration over
//! REST included (`KeyAdmin`, under `/api/`).
//!
//! ```sh
//! # a key for CI: operator on MCP only, shown once
//! cargo run --example workflow_server -- keys create --name ci --role operator --surface mcp
//! # limited to the `ops` workspace, attributed to a service account
//! cargo run --example workflow_server -- keys create --name bot --role operator --surface mcp \
//!     --surface rest_api --workspace ops --service-account
//! cargo run --example workflow_server -- keys list
//! cargo run --example workflow_server -- keys rotate <ID>          # the old secret stops now
//! cargo run --example workflow_server -- keys rotate <ID> --grace 86400  # ... or in 24 h
//! cargo run --example workflow_server -- keys revoke <ID>
//! cargo run --example workflow_server -- users disable alice   # her user-owned keys stop
//! cargo run --example workflow_server -- serve                 # http://127.0.0.1:8000/mcp
//! ```
//!
//! Tools: `list_workflows`, `get_workflow` and `whoami` (viewer), `start_run` and `stop_run`
//! (operator), `edit_spec` (developer), `read_audit` (manager). REST: `GET /api/runs` (viewer),
//! `POST /api/runs?workflow=NAME` (operator). Add `?workspace=ops` to either URL to act in a
//! workspace.
//!
//! Administration over REST (role `admin`, the ladder's highest, outside any workspace; the key
//! needs the `rest_api` surface): `GET /api/keys`, `POST /api/keys`, `POST /api/keys/ID/rotate`
//! (`{"grace_seconds": 3600}`; default 24 h, at most 7 days), `POST /api/keys/ID/revoke` (or
//! `DELETE /api/keys/ID`), `GET /api/users`, `POST /api/users`, `POST /api/users/NAME/disable`
//! and `/enable`. Every action is in the audit trail (`key.create`, `key.rotate`, ...) with who
//! did it and to what, never a secret. An admin key on the `mcp` surface has the MCP tools
//! `admin_list_api_keys`, `admin_revoke_api_key`, `admin_list_users`, `admin_disable_user` and
//! `admin_enable_user` too (no tool answers a secret). The CLI stays for the first administrator:
//!
//! ```sh
//! cargo run --example workflow_server -- keys create --name root --role admin --surface rest_api
//! curl -s -H "Authorization: Bearer $ADMIN_KEY" http://127.0.0.1:8000/api/keys
//! curl -s -H "Authorization: Bearer $ADMIN_KEY" -H 'Content-Type: application/json' \
//!     -d '{"name": "ci", "role": "operator", "surfaces": ["mcp"], "expires_in": "90d"}' \
//!     http://127.0.0.1:8000/api/keys                 # 201, the secret once
//! ```
//!
//! Clients send the key as `Authorization: Bearer mcp_...` (Claude Code: `claude mcp add
//! --transport http workflows http://127.0.0.1:8000/mcp --header "Authorization: Bearer mcp_..."`;
//! Cursor / VS Code: `"headers": {"Authorization": "Bearer mcp_..."}`) or `X-API-Key: mcp_...`.
//!
//! Options (before the command): `--db PATH` (default `data/auth.db`), `--audit-dir DIR`
//! (default `data/audit`, 7 days kept). `serve` takes `--addr ADDR` (default `127.0.0.1:8000`)
//! and `--query-token` (accept `?token=<key>` from clients that cannot send headers).
//!
//! Several instances behind one load balancer: set `MCP_DATABASE_URL` to a PostgreSQL database
//! (`postgres://user:password@10.0.0.5:5432/mcp`; plain TCP, no TLS: loopback or a private
//! network) and keys, users and the audit trail go there instead of `--db` and `--audit-dir`,
//! shared by every instance (the tables are created on first use; `MCP_DATABASE_SCHEMA` picks
//! a schema other than the user's default). A key revoked through one instance (or the CLI) is
//! refused by every other from its next request on; while the database does not answer, the
//! requests that need it get 503 with `Retry-After`. Without the variable, the embedded SQLite
//! file and JSON-lines files are used. The URL's password is never printed. Set `MCP_REDIS_URL`
//! (`redis://10.0.0.7:6379/`) too, and legacy-era sessions and their SSE streams are shared
//! through Redis, so the balancer needs no sticky routing.
//!
//! ```sh
//! MCP_DATABASE_URL=postgres://mcp:secret@10.0.0.5/mcp cargo run --example workflow_server -- serve
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Extension;
use axum::response::{IntoResponse, Response};
use mcp_server::auth::{
    ApiKey, ApiKeys, Attribution, AuditSink, AuthorizationConfig, Caller, Danger, JsonlFileSink,
    KeyAdmin, KeyStatus, NewApiKey, PostgresAuditSink, PostgresOptions, PostgresStore, SqliteStore,
    Surface, User, UserStore, WorkspaceAccess, hash_password,
};
use mcp_server::prelude::*;
use mcp_server::transport::http::RedisSessions;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// The application: workflows (each in a workspace) and their runs.

#[derive(Clone, serde::Serialize)]
struct Workflow {
    workspace: String,
    spec: String,
}

#[derive(Clone, serde::Serialize)]
struct Run {
    id: String,
    workflow: String,
    workspace: String,
    status: String,
    started_by: String,
}

#[derive(Default)]
struct State {
    workflows: BTreeMap<String, Workflow>,
    runs: Vec<Run>,
}

/// Where the audit trail is, for `read_audit`.
enum AuditLog {
    /// Daily JSON-lines files in a directory.
    Files(PathBuf),
    /// The `audit_events` table of the PostgreSQL store.
    Postgres(PostgresAuditSink),
}

/// The workflow engine, shared by the MCP tools and the REST API.
struct Engine {
    state: Mutex<State>,
    audit: AuditLog,
}

fn subject(ctx: &Context) -> String {
    ctx.auth()
        .and_then(|a| a.subject.clone())
        .unwrap_or_else(|| "anonymous".to_owned())
}

/// The selected workspace, if any.
fn workspace(ctx: &Context) -> Option<String> {
    ctx.auth().and_then(|a| a.workspace.clone())
}

impl Engine {
    fn new(audit: AuditLog) -> Self {
        let mut state = State::default();
        for (name, ws) in [("build", "dev"), ("deploy", "ops"), ("backup", "ops")] {
            state.workflows.insert(
                name.to_owned(),
                Workflow {
                    workspace: ws.to_owned(),
                    spec: format!("steps:\n  - run: ./{name}.sh\n"),
                },
            );
        }
        Engine {
            state: Mutex::new(state),
            audit,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A workflow the caller may see: in the selected workspace, when one is selected.
    fn visible(&self, name: &str, ws: Option<&str>) -> Result<Workflow, String> {
        self.lock()
            .workflows
            .get(name)
            .filter(|w| ws.is_none_or(|ws| w.workspace == ws))
            .cloned()
            .ok_or_else(|| format!("no workflow named {name:?}"))
    }

    fn start(&self, name: &str, ws: Option<&str>, by: String) -> Result<Run, String> {
        let wf = self.visible(name, ws)?;
        let mut state = self.lock();
        let run = Run {
            id: format!("run-{}", state.runs.len() + 1),
            workflow: name.to_owned(),
            workspace: wf.workspace,
            status: "running".to_owned(),
            started_by: by,
        };
        state.runs.push(run.clone());
        Ok(run)
    }

    fn runs(&self, ws: Option<&str>) -> Vec<Run> {
        self.lock()
            .runs
            .iter()
            .filter(|r| ws.is_none_or(|ws| r.workspace == ws))
            .cloned()
            .collect()
    }
}

#[tools]
impl Engine {
    /// The workflows (of the selected workspace).
    #[tool(min_role = "viewer", annotations(read_only))]
    fn list_workflows(&self, ctx: &Context) -> Json<Value> {
        let ws = workspace(ctx);
        let state = self.lock();
        let names: Vec<&String> = state
            .workflows
            .iter()
            .filter(|(_, w)| ws.as_deref().is_none_or(|ws| w.workspace == ws))
            .map(|(n, _)| n)
            .collect();
        Json(json!({ "workflows": names }))
    }

    /// A workflow's spec.
    #[tool(min_role = "viewer", annotations(read_only))]
    fn get_workflow(
        &self,
        ctx: &Context,
        /// The workflow's name.
        name: String,
    ) -> Result<String, String> {
        self.visible(&name, workspace(ctx).as_deref())
            .map(|w| w.spec)
    }

    /// Start a run of a workflow.
    #[tool(min_role = "operator")]
    fn start_run(
        &self,
        ctx: &Context,
        /// The workflow's name.
        workflow: String,
    ) -> Result<String, String> {
        let run = self.start(&workflow, workspace(ctx).as_deref(), subject(ctx))?;
        Ok(format!("started {} ({})", run.id, run.workflow))
    }

    /// Stop a run.
    #[tool(min_role = "operator", annotations(destructive))]
    fn stop_run(
        &self,
        ctx: &Context,
        /// The run's id.
        run_id: String,
    ) -> Result<String, String> {
        let ws = workspace(ctx);
        let mut state = self.lock();
        let run = state
            .runs
            .iter_mut()
            .find(|r| r.id == run_id && ws.as_deref().is_none_or(|ws| r.workspace == ws))
            .ok_or_else(|| format!("no run {run_id:?}"))?;
        run.status = "stopped".to_owned();
        Ok(format!("stopped {run_id}"))
    }

    /// Replace a workflow's spec.
    #[tool(min_role = "developer", annotations(destructive))]
    fn edit_spec(
        &self,
        ctx: &Context,
        /// The workflow's name.
        workflow: String,
        /// The new spec (YAML).
        spec: String,
    ) -> Result<String, String> {
        self.visible(&workflow, workspace(ctx).as_deref())?;
        let mut state = self.lock();
        if let Some(w) = state.workflows.get_mut(&workflow) {
            w.spec = spec;
        }
        Ok(format!("saved {workflow}"))
    }

    /// The latest audit events.
    #[tool(min_role = "manager", annotations(read_only))]
    async fn read_audit(
        &self,
        /// How many events (default 20).
        limit: Option<u32>,
    ) -> Result<Json<Value>, String> {
        let limit = usize::try_from(limit.unwrap_or(20)).unwrap_or(20);
        let events = match &self.audit {
            AuditLog::Files(dir) => {
                JsonlFileSink::read_recent(dir, limit).map_err(|e| e.to_string())?
            }
            AuditLog::Postgres(sink) => sink.read_recent(limit).await.map_err(|e| e.to_string())?,
        };
        Ok(Json(json!({ "events": events })))
    }

    /// Who is calling: subject, role, workspace, credential.
    #[tool(annotations(read_only))]
    fn whoami(&self, ctx: &Context) -> Json<Value> {
        Json(json!(ctx.auth().map(|a| json!({
            "subject": a.subject,
            "role": a.role,
            "workspace": a.workspace,
            "credential": a.credential,
            "credential_id": a.credential_id,
            "correlation_id": a.correlation_id,
        }))))
    }
}

// ---------------------------------------------------------------------------------------------
// The REST API, behind the same authorization layer (surface `rest_api`).

fn json_response(status: u16, body: &Value) -> Response {
    let status = axum::http::StatusCode::from_u16(status).unwrap_or_default();
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn get_runs(Extension(engine): Extension<Arc<Engine>>, caller: Caller) -> Response {
    if let Err(refusal) = caller.require_role("viewer") {
        return refusal.into_response();
    }
    let runs = engine.runs(caller.context().and_then(|c| c.workspace.as_deref()));
    json_response(200, &json!({ "runs": runs }))
}

async fn post_run(
    Extension(engine): Extension<Arc<Engine>>,
    caller: Caller,
    uri: axum::http::Uri,
) -> Response {
    if let Err(refusal) = caller.require_role("operator") {
        return refusal.into_response();
    }
    let ctx = caller.context();
    let workflow = uri
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|p| p.strip_prefix("workflow="));
    let Some(workflow) = workflow else {
        return json_response(400, &json!({"error": "name a workflow: ?workflow=NAME"}));
    };
    let by = ctx
        .and_then(|c| c.subject.clone())
        .unwrap_or_else(|| "anonymous".to_owned());
    match engine.start(workflow, ctx.and_then(|c| c.workspace.as_deref()), by) {
        Ok(run) => json_response(201, &json!({ "run": run })),
        Err(e) => json_response(404, &json!({ "error": e })),
    }
}

// ---------------------------------------------------------------------------------------------
// The CLI.

struct Args {
    db: PathBuf,
    audit_dir: PathBuf,
    rest: Vec<String>,
}

fn parse_globals() -> Args {
    let mut args = Args {
        db: PathBuf::from("data/auth.db"),
        audit_dir: PathBuf::from("data/audit"),
        rest: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--db" => args.db = it.next().map(PathBuf::from).unwrap_or(args.db),
            "--audit-dir" => {
                args.audit_dir = it.next().map(PathBuf::from).unwrap_or(args.audit_dir)
            }
            _ => {
                args.rest.push(a);
                args.rest.extend(it.by_ref());
            }
        }
    }
    args
}

/// The values of `--flag VALUE` (repeatable) and whether `--flag` appears alone.
struct Flags(Vec<String>);

impl Flags {
    fn values(&self, flag: &str) -> Vec<String> {
        self.0
            .windows(2)
            .filter(|w| w[0] == flag)
            .map(|w| w[1].clone())
            .collect()
    }
    fn value(&self, flag: &str) -> Option<String> {
        self.values(flag).into_iter().next()
    }
    fn has(&self, flag: &str) -> bool {
        self.0.iter().any(|a| a == flag)
    }
}

type CliResult = Result<(), Box<dyn std::error::Error>>;

fn ago(secs: Option<u64>) -> String {
    secs.map_or_else(
        || "never".to_owned(),
        |s| format!("{} min ago", now().saturating_sub(s) / 60),
    )
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn describe(k: &ApiKey) -> String {
    let surfaces: Vec<String> = k
        .effective_surfaces()
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    let workspaces = match &k.workspaces {
        WorkspaceAccess::All => "all".to_owned(),
        WorkspaceAccess::Grants(g) => g
            .iter()
            .map(|g| format!("{}:{}", g.workspace, g.role))
            .collect::<Vec<_>>()
            .join(","),
    };
    let who = match &k.attribution {
        Attribution::UserOwned { owner } => format!("user:{owner}"),
        Attribution::ServiceAccount { id, .. } => format!("service:{id}"),
        _ => "?".to_owned(),
    };
    let status = match k.status(now()) {
        KeyStatus::Active => "active",
        KeyStatus::Expired => "expired",
        KeyStatus::Revoked => "revoked",
        _ => "?",
    };
    format!(
        "{}  {:<14} {:<9} {:<16} {:<18} {:<24} {}…  used {}  {}",
        k.id,
        k.name,
        k.role,
        surfaces.join(","),
        workspaces,
        who,
        k.key_prefix,
        ago(k.last_used_at),
        status
    )
}

async fn keys_command(keys: &ApiKeys, flags: &Flags, sub: &str) -> CliResult {
    match sub {
        "create" => {
            let name = flags.value("--name").ok_or("--name is required")?;
            let role = flags.value("--role").unwrap_or_else(|| "viewer".to_owned());
            let workspaces = flags.values("--workspace");
            // With workspaces, the role is granted in each; outside them the key is a viewer.
            let mut new = if workspaces.is_empty() {
                NewApiKey::new(name, role.clone())
            } else {
                NewApiKey::new(name, keys.role_ladder().lowest().to_owned())
            };
            for ws in &workspaces {
                new = new.workspace(ws.clone(), role.clone());
            }
            for s in flags.values("--surface") {
                new = new.surface(Surface::parse(&s));
            }
            if let Some(d) = flags.value("--description") {
                new = new.description(d);
            }
            if let Some(days) = flags.value("--expires-in-days") {
                new = new.expires_in(Duration::from_secs(days.parse::<u64>()? * 86_400));
            }
            let admin = std::env::var("USER").unwrap_or_else(|_| "admin".to_owned());
            new = new.created_by(admin.clone());
            if !flags.has("--service-account") {
                let owner = flags.value("--owner").unwrap_or(admin);
                let users = keys.users().ok_or("no user store")?;
                if users.get_user(&owner).await?.is_none() {
                    users
                        .put_user(User::new(owner.clone(), role.clone()))
                        .await?;
                    eprintln!("added user {owner}");
                }
                new = new.user_owned(owner);
            }
            let created = keys.create(new).await?;
            println!("{}", describe(&created.key));
            println!();
            println!("API key (shown once, store it now):");
            println!("{}", created.secret.expose());
        }
        "list" => {
            for k in keys.list().await? {
                println!("{}", describe(&k));
            }
        }
        "revoke" => {
            let id = flags.0.get(2).ok_or("keys revoke ID")?;
            keys.revoke(id).await?;
            println!("revoked {id}");
        }
        "rotate" => {
            let id = flags.0.get(2).ok_or("keys rotate ID [--grace SECONDS]")?;
            let grace = match flags.value("--grace") {
                Some(s) => Duration::from_secs(s.parse::<u64>()?),
                None => Duration::ZERO,
            };
            let rotated = keys.rotate_with_grace(id, grace).await?;
            if grace.is_zero() {
                println!(
                    "new API key for {} (shown once; the old one no longer works):",
                    rotated.key.name
                );
            } else {
                println!(
                    "new API key for {} (shown once; the old one works {} s more):",
                    rotated.key.name,
                    grace.as_secs()
                );
            }
            println!("{}", rotated.secret.expose());
        }
        other => return Err(format!("unknown command: keys {other}").into()),
    }
    Ok(())
}

async fn users_command(keys: &ApiKeys, flags: &Flags, sub: &str) -> CliResult {
    let users = keys.users().ok_or("no user store")?;
    let name = flags.0.get(2).cloned();
    match (sub, name) {
        ("add", Some(name)) => {
            let role = flags.value("--role").unwrap_or_else(|| "viewer".to_owned());
            keys.role_ladder().check(&role)?;
            let mut user = User::new(name.clone(), role);
            if let Some(pw) = flags.value("--password") {
                user = user.password_hash(hash_password(&pw)?);
            }
            users.put_user(user).await?;
            println!("added user {name}");
        }
        ("disable" | "enable", Some(name)) => {
            if !users.set_user_disabled(&name, sub == "disable").await? {
                return Err(format!("no user {name}").into());
            }
            println!("{sub}d {name}");
        }
        ("list", _) => {
            for u in users.list_users().await? {
                let state = if u.disabled { "disabled" } else { "enabled" };
                println!("{:<16} {:<10} {state}", u.name, u.role);
            }
        }
        _ => {
            return Err(
                "users add NAME --role R [--password P] | disable NAME | enable NAME | list".into(),
            );
        }
    }
    Ok(())
}

async fn serve(args: &Args, store: Store, flags: &Flags) -> CliResult {
    let addr = flags
        .value("--addr")
        .unwrap_or_else(|| "127.0.0.1:8000".to_owned());
    // The audit trail beside the keys: the PostgreSQL table, or daily files.
    let (audit, log): (Arc<dyn AuditSink>, AuditLog) = match &store.postgres {
        Some(pg) => (
            Arc::new(PostgresAuditSink::new(pg)?),
            AuditLog::Postgres(PostgresAuditSink::with_capacity(pg, 1)?),
        ),
        None => (
            Arc::new(JsonlFileSink::open(&args.audit_dir, 7)?),
            AuditLog::Files(args.audit_dir.clone()),
        ),
    };
    let engine = Arc::new(Engine::new(log));
    // Key and user administration over REST, for admins (the CLI makes the first one).
    let admin = KeyAdmin::new(store.keys.clone()).tool_audit_sink(Arc::clone(&audit));
    let mut config = AuthorizationConfig::builtin(store.keys)
        .known_workspaces(["dev", "ops"])
        .audit_shared(audit);
    if flags.has("--query-token") {
        config = config.dangerously_allow(Danger::QueryToken);
    }
    let mut http = HttpConfig::default();
    if let Some(url) = std::env::var("MCP_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        // Legacy sessions and their streams on Redis: any instance serves any session.
        http = http.shared_sessions(RedisSessions::connect(&url, "mcp:sessions:").await?);
    }
    let server = McpServer::builder("workflows")
        .instructions("Read workflows, start and stop runs, edit specs. Add ?workspace=ops to act in one workspace.")
        .authorization(config)
        .tools(Arc::clone(&engine))
        // ... and over MCP, the operations that never answer a secret (list, revoke, disable).
        .tools(admin.tools())
        .build()?
        .http(http);
    let api = axum::Router::new()
        .route("/api/runs", axum::routing::get(get_runs).post(post_run))
        .layer(Extension(engine))
        .nest("/api", admin.router())
        .layer(server.auth_layer(Surface::RestApi))
        .layer(server.host_guard_layer());
    let app = server.into_router().merge(api);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!(
        "MCP endpoint: http://{addr}/mcp    REST: http://{addr}/api/runs    admin: http://{addr}/api/keys, /api/users"
    );
    println!(
        "Create a key: cargo run --example workflow_server -- keys create --name me --role operator --surface mcp"
    );
    println!("Then: Authorization: Bearer <key>   (or X-API-Key: <key>)");
    // The client address reaches the failed-authentication limits as `ConnectInfo`.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(mcp_server::transport::http::shutdown_signal())
        .await?;
    Ok(())
}

/// The keys and users: in PostgreSQL when `MCP_DATABASE_URL` is set, else in the SQLite file.
struct Store {
    keys: ApiKeys,
    postgres: Option<PostgresStore>,
}

async fn open_store(args: &Args) -> Result<Store, Box<dyn std::error::Error>> {
    let url = std::env::var("MCP_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let Some(url) = url else {
        return Ok(Store {
            keys: ApiKeys::new(SqliteStore::open(&args.db)?),
            postgres: None,
        });
    };
    let mut options = PostgresOptions::new(url);
    if let Some(schema) = std::env::var("MCP_DATABASE_SCHEMA")
        .ok()
        .filter(|s| !s.is_empty())
    {
        options = options.schema(schema);
    }
    // The error never repeats the URL (it may hold a password).
    let pg = PostgresStore::connect_with(options).await?;
    tracing::info!(
        schema = pg.schema(),
        "keys, users and audit events in PostgreSQL"
    );
    Ok(Store {
        keys: ApiKeys::new(pg.clone()),
        postgres: Some(pg),
    })
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn run() -> CliResult {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = parse_globals();
    let store = open_store(&args).await?;
    let flags = Flags(args.rest.clone());
    let cmd: Vec<&str> = args.rest.iter().take(2).map(String::as_str).collect();
    match cmd.as_slice() {
        ["keys", sub] => keys_command(&store.keys, &flags, sub).await,
        ["users", sub] => users_command(&store.keys, &flags, sub).await,
        ["serve", ..] | [] => serve(&args, store, &flags).await,
        _ => Err("commands: serve | keys create|list|revoke ID|rotate ID [--grace SECONDS] | users add|disable|enable|list".into()),
    }
}
