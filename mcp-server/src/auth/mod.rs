//! Authorization: who may call the MCP endpoint (and the application's own routes), and which
//! tools they may call.
//!
//! Four modes ([`AuthMode`]), one [`AuthContext`] out of each (subject, scopes, claims,
//! credential kind and id, role, workspace, attribution, correlation id):
//! - `none`: nothing is checked (local development; logged loudly at start);
//! - `oauth`: an OAuth 2.1 resource server (JWT via JWKS, RFC 9728 metadata, RFC 6750
//!   challenges, DPoP);
//! - `builtin`: API keys ([`ApiKeys`]: prefixed secrets shown once, stored as SHA-256 digests,
//!   limited by [`Surface`], role and workspace, attributed to a user or a service account,
//!   expiring, revocable, rotatable; SQLite by default), and JWTs too when a validator is set;
//! - `basic`: HTTP Basic against a [`UserStore`] with Argon2id hashes.
//!
//! Per tool: `required_scopes` (with hierarchies) and `min_role` on a [`RoleLadder`]; a tool error
//! by default, the step-up 403 as an option, and `tools/list` filtering. `?workspace=<name>`
//! selects a workspace ([`WorkspaceAccess`]); `?token=<key>` is an opt-in for clients that
//! cannot send headers. Every decision and tool call is an [`AuditEvent`] (to `tracing` and an
//! [`AuditSink`] such as [`JsonlFileSink`]). Tools read the caller with
//! [`Context::auth`](crate::Context::auth).
//!
//! API keys, with a REST route beside the MCP endpoint under the same keys:
//!
//! ```no_run
//! use mcp_server::auth::{ApiKeys, AuthorizationConfig, JsonlFileSink, Surface, require_auth};
//! use mcp_server::prelude::*;
//!
//! /// Start a run.
//! #[tool(min_role = "operator")]
//! fn start_run(dag: String) -> String {
//!     format!("started {dag}")
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let keys = ApiKeys::sqlite("data/auth.db")?;
//! let server = McpServer::builder("workflows")
//!     .authorization(
//!         AuthorizationConfig::builtin(keys)
//!             .audit(JsonlFileSink::open("data/audit", 7)?),
//!     )
//!     .tool(start_run)
//!     .build()?;
//! let api = axum::Router::new()
//!     .route("/api/runs", axum::routing::get(|| async { "[]" }))
//!     .layer(axum::middleware::from_fn_with_state(
//!         server.authenticator(Surface::RestApi, "/api"),
//!         require_auth,
//!     ));
//! let app = server.into_router().merge(api);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! OAuth:
//!
//! ```no_run
//! use mcp_server::auth::{AuthorizationConfig, JwtValidator, JwtValidatorConfig};
//! use mcp_server::McpServer;
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let issuer = "https://auth.example.com";
//! let server = McpServer::builder("protected")
//!     .authorization(
//!         AuthorizationConfig::enabled()
//!             .authorization_server(issuer)
//!             .required_scopes(["read"])
//!             .validator(JwtValidator::new(JwtValidatorConfig::new(issuer, ""))?),
//!     )
//!     .build()?;
//! server.serve("127.0.0.1:8000").await?;
//! # Ok(()) }
//! ```

mod apikey;
mod audit;
mod authenticator;
mod basic;
pub mod challenge;
mod config;
mod context;
pub mod dpop;
mod introspection;
mod jwks;
mod jwt;
mod metadata;
mod query;
mod roles;
mod surface;
mod token_cache;
mod users;
mod validator;
mod workspace;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

#[cfg(feature = "sqlite")]
pub use apikey::SqliteStore;
pub use apikey::{
    ApiKey, ApiKeyError, ApiKeySecret, ApiKeyStore, ApiKeys, Attribution, CreatedApiKey,
    DEFAULT_PREFIX, DIGEST_VERSION, KeyDigest, KeyRejection, KeyStatus, MemoryStore, NewApiKey,
    RandomnessError, StoreError, StoredApiKey,
};
pub use audit::{Audit, AuditAction, AuditEvent, AuditSink, JsonlFileSink, MemoryAuditSink};
pub use authenticator::Authenticator;
pub use basic::{PasswordError, hash_password, verify_password};
pub use config::{AuthMode, AuthorizationConfig, ScopeDenial};
pub use context::{AuthContext, CredentialKind, scope_covered};
pub use dpop::{
    DpopConfig, DpopMode, InMemoryReplayCache, NonceIssuer, ReplayCache, ReplayCacheError,
};
pub use introspection::{IntrospectionAuth, IntrospectionConfig, IntrospectionValidator};
pub use jsonwebtoken::Algorithm;
pub use jwt::{JwtValidator, JwtValidatorConfig};
pub use metadata::ProtectedResourceMetadata;
pub use query::{QueryCredentials, take_query_credentials};
pub use roles::{DEFAULT_ROLES, RoleClaim, RoleError, RoleLadder, is_valid_role_name};
pub use surface::Surface;
pub use users::{User, UserStore};
pub use validator::{TokenError, TokenValidator};
pub use workspace::{WorkspaceAccess, WorkspaceError, WorkspaceGrant, is_valid_workspace_name};

pub(crate) use context::python_list;
pub(crate) use metadata::{document, respond as metadata_response};

/// axum middleware protecting any route with the same credentials, roles, workspaces and audit
/// as the MCP endpoint, on the authenticator's [`Surface`]: the [`AuthContext`] (and the
/// authenticator, for [`Authenticator::require_role`]) land in the request's extensions.
/// `?workspace=` selects a workspace here too; `?token=` is removed and never accepted.
///
/// ```no_run
/// # use std::sync::Arc;
/// # use mcp_server::auth::{ApiKeys, AuthorizationConfig, Surface, require_auth};
/// # use mcp_server::McpServer;
/// let server = McpServer::builder("app")
///     .authorization(AuthorizationConfig::builtin(ApiKeys::in_memory()))
///     .build()
///     .unwrap();
/// let api: axum::Router = axum::Router::new()
///     .route("/api/runs", axum::routing::get(|| async { "[]" }))
///     .layer(axum::middleware::from_fn_with_state(
///         server.authenticator(Surface::RestApi, "/api"),
///         require_auth,
///     ));
/// let app = server.into_router().merge(api);
/// # let _ = app;
/// ```
pub async fn require_auth(
    State(auth): State<Arc<Authenticator>>,
    mut request: Request,
    next: Next,
) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let mut uri = request.uri().clone();
    let query = take_query_credentials(&mut uri);
    *request.uri_mut() = uri;
    match auth
        .authenticate_request(&method, &path, request.headers(), &query)
        .await
    {
        Ok(ctx) => {
            if let Some(ctx) = ctx {
                request.extensions_mut().insert(ctx);
            }
            request.extensions_mut().insert(auth);
            next.run(request).await
        }
        Err(refusal) => refusal,
    }
}

impl crate::McpServer {
    /// An authenticator with this server's authorization settings, for the application's own
    /// routes on `surface` under `path` (use it with [`require_auth`]). It shares the server's
    /// API keys, users, roles and audit trail.
    pub fn authenticator(&self, surface: Surface, path: &str) -> Arc<Authenticator> {
        Arc::new(Authenticator::new(self.inner.auth.clone(), path).surface(surface))
    }

    /// The server's authorization settings.
    pub fn authorization_config(&self) -> &AuthorizationConfig {
        &self.inner.auth
    }
}
