//! [`KeyAdmin`]: the REST administration of API keys and users, for administrators.

mod body;
mod ops;
mod tools;
mod views;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{HeaderMap, StatusCode};
use serde_json::Value;

use self::body::{AdminError, json_response, parse, read_object};
use self::views::key_json;
use super::apikey::now_secs;
use super::{
    ApiKeys, Audit, AuditAction, AuditEvent, AuditSink, AuthContext, AuthRejection, Caller,
    RejectionKind, RoleLadder, Surface,
};

/// The administration of API keys and users over REST, for administrators, behind
/// the same [`AuthLayer`](crate::auth::AuthLayer) as the application's other routes.
///
/// | route | does | answers |
/// |---|---|---|
/// | `GET /keys` | lists every key (never a secret) | 200 `{"keys": [...], "expiry_warning_window_seconds": N}` |
/// | `POST /keys` | creates a key | 201 `{"key": {...}, "secret": "mcp_..."}`: the secret, this once |
/// | `POST /keys/{id}/rotate` | a new secret; the old one works for a grace period | 200 `{"key": {...}, "secret": "mcp_..."}` |
/// | `POST /keys/{id}/revoke`, `DELETE /keys/{id}` | revokes a key | 200 `{"key": {...}}` |
/// | `GET /users` | lists the users | 200 `{"users": [...]}` |
/// | `POST /users` | creates a user | 201 `{"user": {...}}` |
/// | `POST /users/{name}/disable`, `/enable` | disables (and with them their user-owned keys) or enables a user | 200 `{"user": {...}}` |
///
/// **`POST /keys`** takes `name`, `role` and `surfaces` (`"mcp"`, `"rest_api"`, or a surface
/// added with [`surface`](Self::surface)), and optionally `description`, `scopes`, `workspaces`
/// (names, or `{"workspace", "role"}`: the key holds `role` in each and the lowest role outside
/// them), `expires_in` (seconds, or `"90d"`, `"12h"`, `"30m"`, `"45s"`) or `expires_at`
/// (seconds since the epoch), and `owner` (an existing user: a user-owned key, which stops
/// working while its owner is disabled) or `service_account` (`true`, the default: the key's
/// own; or `{"id", "name"}`). `created_by` is the caller's subject. **`POST
/// /keys/{id}/rotate`** takes `grace_seconds` (seconds or `"24h"`; default
/// [`rotation_grace`](Self::rotation_grace), at most
/// [`max_rotation_grace`](Self::max_rotation_grace); `0`: the old secret stops at once; see
/// [`ApiKeys::rotate_with_grace`]). **`POST /users`** takes `name` and `role`, and optionally
/// `password` (8 characters to 1024 bytes, kept as an Argon2id hash) and `workspaces`.
///
/// A key is shown as `id`, `name`, `description`, `role`, `scopes`, `surfaces` (where it is
/// accepted), `legacy_surfaces`, `workspaces` (`"all"` or grants), `owner` or
/// `service_account`, `subject`, `key_prefix` (the secret's first characters, to recognise it),
/// `created_by`, `created_at`, `last_used_at`, `expires_at`, `revoked_at`, `rotated_at`,
/// `previous_secret_expires_at` (while a rotated key's previous secret still works), `status`
/// (`active`, `expired`, `revoked`) and `expiry_warning` (`{"expires_in_seconds", "message"}`
/// on an active key expiring within the [`expiry_warning`](Self::expiry_warning) window, else
/// `null`). Times are seconds since the epoch. A user is shown as `name`, `role`, `workspaces`,
/// `disabled`, `has_password`, `created_at`.
///
/// The same operations are MCP tools too: [`tools`](Self::tools) (those that never answer a
/// secret) and [`tools_with_secrets`](Self::tools_with_secrets).
///
/// The paths are relative: mount the router where you want it (`.nest("/api", admin.router())`
/// serves `/api/keys`), under [`McpServer::auth_layer`](crate::McpServer::auth_layer)`(Surface::RestApi)`,
/// so the administrator's key needs the `rest_api` surface. Extracted on a route without the
/// layer, the caller is refused with 500: the routes are never served unguarded.
///
/// **Who may administer**: a caller holding the highest role of the server's
/// [`RoleLadder`](crate::auth::RoleLadder) (`admin` on the default ladder) outside any workspace:
/// its own role is the highest and it sees every workspace. Any other caller gets 403
/// (`insufficient_role`) on every route, whatever the body; a credential limited to workspaces
/// never administers (keys are global; the ladder's highest role cannot be granted per
/// workspace either). No caller can create a key or a user above its own role: only the
/// highest role administers. With authorization off (mode `none`) every route answers 403.
///
/// **Errors** are JSON, `{"error", "error_description", "field"?}`: 400 `invalid_request`
/// naming the `field` at fault (an unknown member, a wrong type, a missing or invalid value,
/// malformed JSON), 401 from the layer (no or an invalid credential, with its challenge), 403,
/// 404 (no such key or user), 409 `conflict` (a name taken, a revoked key rotated), 413 (a body
/// over [`max_body_bytes`](Self::max_body_bytes)), 415 (a body that is not
/// `application/json`), 503 with `Retry-After` (the store does not answer). No answer is cached
/// (`Cache-Control: no-store`).
///
/// **Audit**: every request past authentication is one [`AuditEvent`] on the server's audit
/// trail (`tracing` and the configured sink): the action (`key.list`, `key.create`,
/// `key.rotate`, `key.revoke`, `user.list`, `user.create`, `user.disable`, `user.enable`), the
/// actor (subject, credential kind, id and name, role, correlation id), the `target` (a key's
/// id, a user's name), the `outcome` (`succeeded`, `failed` with a `reason`, `denied`). A
/// secret or a password is never in an event, a log line or an error.
///
/// ```no_run
/// use mcp_server::auth::{ApiKeys, AuthorizationConfig, JsonlFileSink, KeyAdmin, Surface};
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let keys = ApiKeys::sqlite("data/auth.db")?;
/// let server = mcp_server::McpServer::builder("app")
///     .authorization(
///         AuthorizationConfig::builtin(keys.clone()).audit(JsonlFileSink::open("data/audit", 7)?),
///     )
///     .build()?
///     .http(mcp_server::HttpConfig::default());
/// let api = axum::Router::new()
///     .nest("/api", KeyAdmin::new(keys).router())
///     .layer(server.auth_layer(Surface::RestApi))
///     .layer(server.host_guard_layer());
/// let app = server.into_router().merge(api);
/// let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
/// axum::serve(tokio::net::TcpListener::bind("127.0.0.1:8000").await?, app).await?;
/// # Ok(()) }
/// ```
///
/// With other settings:
///
/// ```
/// use std::time::Duration;
/// use mcp_server::auth::{ApiKeys, KeyAdmin};
/// let admin = KeyAdmin::new(ApiKeys::in_memory())
///     .expiry_warning(Duration::from_secs(14 * 86_400))
///     .rotation_grace(Duration::from_secs(3600));
/// let routes: axum::Router = admin.router(); // put it behind `server.auth_layer(Surface::RestApi)`
/// # let _ = routes;
/// ```
#[derive(Clone, Debug)]
pub struct KeyAdmin {
    keys: ApiKeys,
    expiry_warning: Duration,
    default_grace: Duration,
    max_grace: Duration,
    max_body_bytes: usize,
    surfaces: BTreeSet<Surface>,
    /// Where the MCP tools record their events (the REST routes use the server's trail).
    tool_audit: Audit,
}

impl KeyAdmin {
    /// The default [`expiry_warning`](Self::expiry_warning) window: 7 days.
    pub const DEFAULT_EXPIRY_WARNING: Duration = Duration::from_secs(7 * 86_400);
    /// The default [`rotation_grace`](Self::rotation_grace): 24 hours.
    pub const DEFAULT_ROTATION_GRACE: Duration = Duration::from_secs(86_400);
    /// The default [`max_rotation_grace`](Self::max_rotation_grace): 7 days.
    pub const DEFAULT_MAX_ROTATION_GRACE: Duration = Duration::from_secs(7 * 86_400);
    /// The default [`max_body_bytes`](Self::max_body_bytes): 64 KiB.
    pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

    /// The administration of `keys` (and of their owners, `keys`' user store), with the
    /// defaults.
    pub fn new(keys: ApiKeys) -> Self {
        KeyAdmin {
            keys,
            expiry_warning: Self::DEFAULT_EXPIRY_WARNING,
            default_grace: Self::DEFAULT_ROTATION_GRACE,
            max_grace: Self::DEFAULT_MAX_ROTATION_GRACE,
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
            surfaces: Surface::legacy_default(),
            tool_audit: Audit::default(),
        }
    }

    /// Lists mark an active key expiring within `window` with an `expiry_warning`.
    #[must_use]
    pub fn expiry_warning(mut self, window: Duration) -> Self {
        self.expiry_warning = window;
        self
    }

    /// How long a rotated key's previous secret keeps working when the request names no
    /// `grace_seconds` (default 24 h; bounded by [`max_rotation_grace`](Self::max_rotation_grace)).
    #[must_use]
    pub fn rotation_grace(mut self, grace: Duration) -> Self {
        self.default_grace = grace;
        self
    }

    /// The longest grace period a rotation may ask for (default 7 days; at most
    /// [`ApiKeys::MAX_ROTATION_GRACE`]). Longer requests are refused with 400.
    #[must_use]
    pub fn max_rotation_grace(mut self, max: Duration) -> Self {
        self.max_grace = max.min(ApiKeys::MAX_ROTATION_GRACE);
        self
    }

    /// The largest request body read (default 64 KiB); larger ones get 413.
    #[must_use]
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }

    /// Accepts `surface` in new keys' `surfaces`, beside `mcp` and `rest_api` (a surface of the
    /// application's own). Other names are refused with 400, so that a typo never makes a key
    /// that works nowhere.
    #[must_use]
    pub fn surface(mut self, surface: Surface) -> Self {
        self.surfaces.insert(surface);
        self
    }

    /// Where the [MCP tools](Self::tools) record their admin events besides `tracing` (give
    /// them the server's sink: a tool does not see the server's configuration). The REST routes
    /// always use the trail of the layer they are behind.
    #[must_use]
    pub fn tool_audit_sink(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.tool_audit = Audit::shared(sink);
        self
    }

    /// The keys administered.
    pub fn keys(&self) -> &ApiKeys {
        &self.keys
    }

    /// The routes, relative (`/keys`, `/users`, ...): nest them where they belong and put them
    /// behind the server's [`AuthLayer`](super::AuthLayer) for `Surface::RestApi`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/keys", get(list_keys).post(create_key))
            .route("/keys/{id}", axum::routing::delete(delete_key))
            .route("/keys/{id}/rotate", post(rotate_key))
            .route("/keys/{id}/revoke", post(revoke_key))
            .route("/users", get(list_users).post(create_user))
            .route("/users/{name}/disable", post(disable_user))
            .route("/users/{name}/enable", post(enable_user))
            .with_state(Arc::new(self.clone()))
    }

    fn key_view(&self, k: &super::ApiKey) -> Value {
        key_json(k, now_secs(), self.expiry_warning)
    }

    fn user_store(&self) -> Result<&Arc<dyn super::UserStore>, AdminError> {
        self.keys.users().ok_or_else(|| {
            AdminError::store(super::StoreError::Unsupported(
                "this server keeps no users (the key store has no user store)".into(),
            ))
        })
    }
}

impl ApiKeys {
    /// The REST administration of these keys: [`KeyAdmin::new`] with the defaults.
    pub fn admin(&self) -> KeyAdmin {
        KeyAdmin::new(self.clone())
    }
}

type Admin = State<Arc<KeyAdmin>>;

/// What a handler produced: the status, the body and the target when it is known only now (a
/// created key's id).
struct Done {
    status: StatusCode,
    body: Value,
    target: Option<String>,
}

impl Done {
    fn ok(body: Value) -> Self {
        Done {
            status: StatusCode::OK,
            body,
            target: None,
        }
    }
}

/// One administrative request: its action, target and caller, for the authorization check and
/// the audit event.
struct Act<'a> {
    caller: &'a Caller,
    action: AuditAction,
    target: Option<String>,
}

/// The longest target recorded (a path segment a client chose).
const MAX_TARGET: usize = 128;

/// Whether `ctx` may administer: its own role and its effective role are the ladder's highest,
/// and it sees every workspace.
fn may_administer(ladder: &RoleLadder, ctx: &AuthContext) -> bool {
    let top = ladder.highest();
    ladder.allows(ctx.global_role.as_deref(), top)
        && ladder.allows(ctx.role.as_deref(), top)
        && ctx.workspaces.is_all()
}

/// The 403 of a caller that is not an administrator outside any workspace.
fn not_global_admin(ladder: &RoleLadder) -> AdminError {
    AdminError::Auth(AuthRejection::plain(
        RejectionKind::Forbidden,
        StatusCode::FORBIDDEN,
        "forbidden",
        "insufficient_role",
        format!(
            "key administration needs the role '{}' outside any workspace",
            ladder.highest()
        ),
    ))
}

impl<'a> Act<'a> {
    fn new(caller: &'a Caller, action: AuditAction, target: Option<&str>) -> Self {
        Act {
            caller,
            action,
            target: target.map(|t| t.chars().take(MAX_TARGET).collect()),
        }
    }

    /// The caller, when they may administer: the ladder's highest role, outside any workspace.
    fn authorize(&self) -> Result<&'a AuthContext, AdminError> {
        let Some(ctx) = self.caller.context() else {
            return Err(AdminError::Auth(AuthRejection::plain(
                RejectionKind::Forbidden,
                StatusCode::FORBIDDEN,
                "forbidden",
                "authorization_required",
                "key administration needs authorization to be on",
            )));
        };
        let ladder = self.caller.role_ladder();
        if may_administer(ladder, ctx) {
            return Ok(ctx);
        }
        // The refusal (and its `auth.denied` event) of the layer's own role check, when the
        // effective role is too low; a credential limited to workspaces otherwise.
        self.caller
            .require_role(ladder.highest())
            .map_err(AdminError::Auth)?;
        Err(not_global_admin(ladder))
    }

    fn record(&self, target: Option<&str>, outcome: &str, reason: Option<&str>) {
        let mut e = AuditEvent::new(self.action).caller(self.caller.context());
        e.surface = Some(self.caller.surface().as_str().to_owned());
        e.target = target.map(str::to_owned);
        e.outcome = Some(outcome.to_owned());
        e.reason = reason.map(str::to_owned);
        self.caller.audit().record(e);
    }

    /// Records how the request ended and answers it.
    fn finish(self, result: Result<Done, AdminError>) -> Response {
        match result {
            Ok(done) => {
                let target = done.target.as_deref().or(self.target.as_deref());
                self.record(target, "succeeded", None);
                json_response(done.status, &done.body)
            }
            Err(e) => {
                let outcome = match &e {
                    AdminError::Auth(_) => "denied",
                    AdminError::Plain { .. } => "failed",
                };
                self.record(self.target.as_deref(), outcome, Some(e.reason()));
                e.into_response()
            }
        }
    }

    /// Checks the caller, then runs `work` and answers.
    async fn run<F>(self, work: impl FnOnce(&'a AuthContext) -> F) -> Response
    where
        F: Future<Output = Result<Done, AdminError>>,
    {
        let result = match self.authorize() {
            Ok(ctx) => work(ctx).await,
            Err(e) => Err(e),
        };
        self.finish(result)
    }
}

impl KeyAdmin {
    /// The request's JSON object within [`max_body_bytes`](Self::max_body_bytes); an absent
    /// body (allowed when `optional`) is the empty object.
    async fn body(
        &self,
        headers: &HeaderMap,
        body: Body,
        optional: bool,
    ) -> Result<serde_json::Map<String, serde_json::Value>, AdminError> {
        let object = read_object(headers, body, self.max_body_bytes, optional).await?;
        Ok(object.unwrap_or_default())
    }
}

// ---------------------------------------------------------------------------------------------
// The routes: authorization, the body, the operation (`ops`), the audit event.

async fn list_keys(State(admin): Admin, caller: Caller) -> Response {
    Act::new(&caller, AuditAction::KeyList, None)
        .run(|_| admin.list_keys())
        .await
}

async fn create_key(
    State(admin): Admin,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Response {
    Act::new(&caller, AuditAction::KeyCreate, None)
        .run(|ctx| async move {
            let object = admin.body(&headers, body, false).await?;
            admin.create_key(object, ctx).await
        })
        .await
}

async fn rotate_key(
    State(admin): Admin,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    Act::new(&caller, AuditAction::KeyRotate, Some(&id))
        .run(|_| async {
            let object = admin.body(&headers, body, true).await?;
            admin.rotate_key(&id, object).await
        })
        .await
}

async fn revoke_key(
    State(admin): Admin,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    Act::new(&caller, AuditAction::KeyRevoke, Some(&id))
        .run(|_| async {
            // No member is defined: an empty body or `{}`.
            let object = admin.body(&headers, body, true).await?;
            parse::<serde::de::IgnoredAny>(object, &[], &[])?;
            admin.revoke_key(&id).await
        })
        .await
}

async fn delete_key(State(admin): Admin, caller: Caller, Path(id): Path<String>) -> Response {
    Act::new(&caller, AuditAction::KeyRevoke, Some(&id))
        .run(|_| admin.revoke_key(&id))
        .await
}

async fn list_users(State(admin): Admin, caller: Caller) -> Response {
    Act::new(&caller, AuditAction::UserList, None)
        .run(|_| admin.list_users())
        .await
}

async fn create_user(
    State(admin): Admin,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Response {
    Act::new(&caller, AuditAction::UserCreate, None)
        .run(|_| async move {
            let object = admin.body(&headers, body, false).await?;
            admin.create_user(object).await
        })
        .await
}

async fn disable_user(State(admin): Admin, caller: Caller, Path(name): Path<String>) -> Response {
    Act::new(&caller, AuditAction::UserDisable, Some(&name))
        .run(|_| admin.set_disabled(&name, true))
        .await
}

async fn enable_user(State(admin): Admin, caller: Caller, Path(name): Path<String>) -> Response {
    Act::new(&caller, AuditAction::UserEnable, Some(&name))
        .run(|_| admin.set_disabled(&name, false))
        .await
}
