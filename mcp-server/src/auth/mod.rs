//! Authorization: the MCP server as an OAuth 2.1 resource server (JWT via JWKS, RFC 9728
//! metadata, RFC 6750 challenges, server and per-tool scopes with hierarchies).
//!
//! Turn it on with [`McpServerBuilder::authorization`](crate::McpServerBuilder::authorization);
//! tools read the caller with [`Context::auth`](crate::Context::auth).
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

mod audit;
mod authenticator;
pub mod challenge;
mod config;
mod context;
pub mod dpop;
mod jwks;
mod jwt;
mod metadata;
mod token_cache;
mod validator;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

pub use authenticator::Authenticator;
pub use config::{AuthorizationConfig, ScopeDenial};
pub use context::{AuthContext, CredentialKind, scope_covered};
pub use dpop::{DpopConfig, DpopMode, InMemoryReplayCache, NonceIssuer, ReplayCache};
pub use jsonwebtoken::Algorithm;
pub use jwt::{JwtValidator, JwtValidatorConfig};
pub use metadata::ProtectedResourceMetadata;
pub use validator::{TokenError, TokenValidator};

pub(crate) use audit::tool_denied;
pub(crate) use context::python_list;
pub(crate) use metadata::{document, respond as metadata_response};

/// axum middleware protecting any route with the same credentials as the MCP endpoint: the
/// [`AuthContext`] lands in the request's extensions.
///
/// ```no_run
/// # use std::sync::Arc;
/// # use mcp_server::auth::{Authenticator, AuthorizationConfig, require_auth};
/// let auth = Arc::new(Authenticator::new(AuthorizationConfig::enabled(), "/api"));
/// let api: axum::Router = axum::Router::new()
///     .route("/api/runs", axum::routing::get(|| async { "[]" }))
///     .layer(axum::middleware::from_fn_with_state(auth, require_auth));
/// ```
pub async fn require_auth(
    State(auth): State<Arc<Authenticator>>,
    mut request: Request,
    next: Next,
) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    match auth.authenticate(&method, &path, request.headers()).await {
        Ok(ctx) => {
            if let Some(ctx) = ctx {
                request.extensions_mut().insert(ctx);
            }
            next.run(request).await
        }
        Err(refusal) => refusal,
    }
}
