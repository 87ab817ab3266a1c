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
//! selects a workspace ([`WorkspaceAccess`]). Tokens get their role and workspaces from the
//! identity provider's claims ([`RoleClaim`], [`WorkspaceClaim`]: Keycloak, Entra ID, Okta,
//! Auth0; deny by default). `?token=<key>` is a [`Danger`] for clients that
//! cannot send headers. Every decision and tool call is an [`AuditEvent`] (to `tracing` and an
//! [`AuditSink`] such as [`JsonlFileSink`]). Tools read the caller with
//! [`Context::auth`](crate::Context::auth), and call upstream APIs on the caller's behalf with a
//! token of the upstream's own, from an RFC 8693 token exchange
//! (`AuthorizationConfig::token_exchange`, `Context::upstream_token`; feature `oauth`).
//!
//! The configuration cannot be built wrong: each mode carries what it needs, `build()` refuses
//! what it could not enforce ([`AuthConfigError`]: no validator, no public URL for the token
//! audience, `min_role` with no source of roles, a plain-http authorization server...), and the
//! settings that weaken authorization ([`Danger`]) must be named. The resource (token audience)
//! is the configured public URL, never taken from a request. Authentication is one tower layer,
//! [`AuthLayer`], in front of the MCP endpoint and of any application route; it refuses with a
//! typed [`AuthRejection`].
//!
//! API keys, with a REST route beside the MCP endpoint under the same keys:
//!
//! ```no_run
//! use mcp_server::auth::{ApiKeys, AuthorizationConfig, Caller, JsonlFileSink, Surface};
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
//!     .route("/api/runs", axum::routing::get(|caller: Caller| async move {
//!         format!("runs of {:?}", caller.context().and_then(|c| c.subject.clone()))
//!     }))
//!     .layer(server.auth_layer(Surface::RestApi));
//! let app = server.into_router().merge(api);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//! // The client address, for the failed-authentication limits.
//! let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
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
//!             .resource("https://mcp.example.com/mcp") // the public URL: the token audience
//!             .validator(JwtValidator::new(JwtValidatorConfig::new(issuer, ""))?),
//!     )
//!     .build()?;
//! server.serve("127.0.0.1:8000").await?;
//! # Ok(()) }
//! ```

// What every build has: the caller as the tools see it, the per-tool policy, the
// configuration (mode `none` at least), roles, workspaces, the audit trail.
mod attribution;
mod audit;
mod config;
mod context;
mod danger;
mod policy;
mod principal;
mod roles;
mod surface;
mod validator;
mod workspace;

// feature `http`: the layer in front of the endpoint and of application routes.
#[cfg(feature = "http")]
mod authenticator;
#[cfg(feature = "http")]
pub(crate) mod challenge;
#[cfg(feature = "http")]
mod failures;
#[cfg(feature = "http")]
mod layer;
#[cfg(feature = "http")]
mod metadata;
#[cfg(feature = "http")]
mod query;
#[cfg(feature = "http")]
mod rejection;
#[cfg(feature = "http")]
mod token_cache;

// feature `http` (the settings), `oauth` (the checks): signature algorithms and DPoP.
#[cfg(feature = "http")]
mod algorithm;
#[cfg(feature = "http")]
pub(crate) mod dpop;

// feature `oauth`: JWTs, JWKS, introspection, token exchange.
#[cfg(feature = "oauth")]
mod backend;
#[cfg(feature = "oauth")]
mod exchange;
#[cfg(feature = "oauth")]
mod flight;
#[cfg(feature = "oauth")]
mod introspection;
#[cfg(feature = "oauth")]
mod jwks;
#[cfg(feature = "oauth")]
mod jwt;

// feature `builtin-auth`: API keys, users and HTTP Basic, and their administration over REST.
#[cfg(feature = "builtin-auth")]
mod admin;
#[cfg(feature = "builtin-auth")]
mod apikey;
#[cfg(feature = "builtin-auth")]
mod basic;
#[cfg(feature = "builtin-auth")]
mod users;

pub use crate::crypto::RandomnessError;
pub use attribution::Attribution;
pub use audit::{Audit, AuditAction, AuditEvent, AuditSink, MemoryAuditSink};
pub use config::{AuthConfigError, AuthMode, AuthorizationConfig, ScopeDenial};
pub use context::{AuthContext, CredentialKind, scope_covered};
pub use danger::Danger;
pub use principal::Principal;
pub use roles::{
    DEFAULT_ROLES, MAX_CLAIM_VALUES, RoleClaim, RoleError, RoleLadder, is_valid_role_name,
};
pub use surface::Surface;
pub use validator::{TokenError, TokenValidator};
pub use workspace::{
    WorkspaceAccess, WorkspaceClaim, WorkspaceError, WorkspaceGrant, is_valid_workspace_name,
};

#[cfg(feature = "http")]
pub use authenticator::Authenticator;
#[cfg(feature = "http")]
pub use failures::AuthFailureLimits;
#[cfg(feature = "http")]
pub use layer::{AuthLayer, AuthService, Caller};
#[cfg(feature = "http")]
pub use metadata::ProtectedResourceMetadata;
#[cfg(feature = "http")]
pub(crate) use metadata::{document, respond as metadata_response};
#[cfg(feature = "http")]
pub use rejection::{AuthRejection, RejectionKind};

#[cfg(feature = "http")]
pub use algorithm::{Algorithm, UnknownAlgorithm};
#[cfg(feature = "oauth")]
pub use backend::ValidatorSetupError;
#[cfg(feature = "http")]
pub use dpop::{DpopConfig, DpopMode, NonceIssuer};
#[cfg(feature = "oauth")]
pub use exchange::{
    ACCESS_TOKEN_TYPE, ClientAuthMethod, ClientSecret, ExchangeError, ExchangeRequest,
    TOKEN_EXCHANGE_GRANT, TokenExchangeConfig, TokenExchanger, UpstreamToken,
};
#[cfg(feature = "oauth")]
pub(crate) use exchange::{Delegation, upstream_token};
/// What a request needs to exchange its caller's token; none in builds without `oauth`.
#[cfg(not(feature = "oauth"))]
#[derive(Clone, Debug)]
pub(crate) enum Delegation {}
#[cfg(feature = "oauth")]
pub use introspection::{IntrospectionAuth, IntrospectionConfig, IntrospectionValidator};
#[cfg(feature = "oauth")]
pub use jwt::{JwtValidator, JwtValidatorConfig};

#[cfg(feature = "builtin-auth")]
pub use admin::KeyAdmin;
#[cfg(feature = "builtin-auth")]
pub use apikey::SqliteStore;
#[cfg(feature = "builtin-auth")]
pub use apikey::{
    ApiKey, ApiKeyError, ApiKeySecret, ApiKeyStore, ApiKeys, CreatedApiKey, DEFAULT_PREFIX,
    DIGEST_VERSION, KeyDigest, KeyRejection, KeyStatus, MemoryStore, NewApiKey, StoreError,
    StoredApiKey,
};
#[cfg(feature = "postgres")]
pub use apikey::{PostgresOptions, PostgresStore};
#[cfg(feature = "builtin-auth")]
pub use audit::JsonlFileSink;
#[cfg(feature = "postgres")]
pub use audit::PostgresAuditSink;
#[cfg(feature = "builtin-auth")]
pub use basic::{BasicLimits, PasswordError, hash_password, verify_password};
#[cfg(feature = "builtin-auth")]
pub use users::{User, UserStore};

pub(crate) use policy::ToolRequirements;
