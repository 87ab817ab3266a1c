//! [`AuthLayer`]: authorization as a tower layer. It authenticates every request of the routes it
//! wraps (the MCP endpoint, or the application's own) into an [`AuthContext`] in the request's
//! extensions, or answers with the typed [`AuthRejection`] before the inner service runs.
//! [`Caller`] reads the outcome in an axum handler.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{Request, StatusCode};
use tower::{Layer, Service};

use super::authenticator::Authenticator;
use super::context::AuthContext;
use super::query::take_query_credentials;
use super::rejection::{AuthRejection, RejectionKind};
use super::surface::Surface;

/// Authenticates every request of the routes it wraps, with the same credentials, roles,
/// workspaces and audit trail as the MCP endpoint, on its [`Surface`](super::Surface). On
/// success the request carries an `Arc<AuthContext>` (read it with [`Caller`]); otherwise the
/// [`AuthRejection`] is the answer and the inner service never runs. `?token=` is removed from
/// the URI before anything else sees it (and accepted only on the MCP endpoint with
/// [`Danger::QueryToken`](super::Danger::QueryToken)); `?workspace=` selects a workspace. On
/// the MCP surface, the credential headers (`Authorization`, `DPoP`, the API-key header) are
/// removed once checked, so that tools never see them.
///
/// Failed authentications are budgeted per credential and per client address
/// ([`AuthFailureLimits`](super::AuthFailureLimits)); the address is axum's
/// `ConnectInfo<SocketAddr>`, which `McpServer::serve` provides; serve an app of your own with
/// `into_make_service_with_connect_info::<SocketAddr>()` to keep the address budget (headers
/// such as `X-Forwarded-For` are never trusted for it).
///
/// ```no_run
/// use axum::routing::{get, post};
/// use mcp_server::auth::{ApiKeys, AuthRejection, AuthorizationConfig, Caller, Surface};
/// use mcp_server::McpServer;
///
/// async fn list_runs(caller: Caller) -> String {
///     format!("runs visible to {:?}", caller.context().and_then(|c| c.subject.clone()))
/// }
///
/// async fn start_run(caller: Caller) -> Result<&'static str, AuthRejection> {
///     caller.require_role("operator")?;
///     Ok("started")
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let server = McpServer::builder("app")
///     .authorization(AuthorizationConfig::builtin(ApiKeys::in_memory()))
///     .build()?;
/// let api = axum::Router::new()
///     .route("/api/runs", get(list_runs).post(start_run))
///     .layer(server.auth_layer(Surface::RestApi));
/// let app = server.into_router().merge(api);
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
/// // The client address, for the failed-authentication limits.
/// let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
/// axum::serve(listener, app).await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct AuthLayer {
    auth: Arc<Authenticator>,
}

impl AuthLayer {
    /// A layer running `auth`.
    pub fn new(auth: Arc<Authenticator>) -> Self {
        AuthLayer { auth }
    }

    /// The authenticator it runs.
    pub fn authenticator(&self) -> &Arc<Authenticator> {
        &self.auth
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            auth: Arc::clone(&self.auth),
        }
    }
}

/// The service [`AuthLayer`] wraps around a route.
#[derive(Clone, Debug)]
pub struct AuthService<S> {
    inner: S,
    auth: Arc<Authenticator>,
}

impl<S, B> Service<Request<B>> for AuthService<S>
where
    S: Service<Request<B>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The clone that was polled ready serves this request; the fresh one waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let auth = Arc::clone(&self.auth);
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            // `?token=` leaves the URI here, before anything can see or log it.
            let query = take_query_credentials(&mut parts.uri);
            // The connection's address (never a header's), when the server provides it.
            let peer = parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip());
            let outcome = auth
                .authenticate_request(
                    &parts.method,
                    parts.uri.path(),
                    &parts.headers,
                    &query,
                    peer,
                )
                .await;
            match outcome {
                Ok(ctx) => {
                    #[cfg(feature = "oauth")]
                    if let Some(d) = delegation(&auth, &parts.headers, ctx.as_deref()) {
                        parts.extensions.insert(d);
                    }
                    if ctx.is_some() && *auth.guarded_surface() == Surface::Mcp {
                        remove_credentials(&mut parts.headers, &auth);
                    }
                    if let Some(ctx) = ctx {
                        parts.extensions.insert(ctx);
                    }
                    parts.extensions.insert(CallerPolicy(auth));
                    inner.call(Request::from_parts(parts, body)).await
                }
                Err(rejection) => Ok(rejection.into_response()),
            }
        })
    }
}

/// Removes the credential the layer consumed from a request to the MCP endpoint (the
/// `Authorization` header, the DPoP proof, the API-key header), as `?token=` is cut from its URI:
/// tools never see the caller's secret in [`Context::http`](crate::Context::http), so none can
/// pass it through (AZ-13); upstream calls exchange it instead
/// ([`Context::upstream_token`](crate::Context::upstream_token)).
fn remove_credentials(headers: &mut http::HeaderMap, auth: &Authenticator) {
    headers.remove(http::header::AUTHORIZATION);
    headers.remove("dpop");
    if let Some(name) = &auth.config().api_key_header {
        headers.remove(name);
    }
}

/// What a handler needs to exchange the caller's access token (RFC 8693): with token exchange
/// configured, for a caller authenticated by an access token (`Bearer` or `DPoP`; never an API
/// key, Basic credentials, or `fail_open`'s anonymous caller). The token is the one the
/// authenticator just accepted from the `Authorization` header.
#[cfg(feature = "oauth")]
fn delegation(
    auth: &Authenticator,
    headers: &http::HeaderMap,
    ctx: Option<&AuthContext>,
) -> Option<super::exchange::Delegation> {
    use super::context::CredentialKind;
    let exchanger = auth.config().token_exchanger()?;
    if !matches!(
        ctx?.credential,
        CredentialKind::Bearer | CredentialKind::Dpop
    ) {
        return None;
    }
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !(scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("dpop")) {
        return None;
    }
    let token = token.trim_start_matches(' ');
    Some(super::exchange::Delegation::new(
        Arc::clone(exchanger),
        super::exchange::SubjectToken::new(token),
    ))
}

/// The authenticator of the layer a request passed, kept for [`Caller::require_role`].
#[derive(Clone)]
struct CallerPolicy(Arc<Authenticator>);

/// The caller of an application route behind an [`AuthLayer`]: who they are
/// ([`context`](Self::context)) and the role check of the server's ladder
/// ([`require_role`](Self::require_role)). Extracting it on a route without the layer is refused
/// with 500: a route meant to be guarded is never served unguarded.
#[derive(Clone)]
pub struct Caller {
    context: Option<Arc<AuthContext>>,
    policy: Arc<Authenticator>,
    #[cfg(feature = "oauth")]
    delegation: Option<super::exchange::Delegation>,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

impl Caller {
    /// The authenticated caller; `None` only when authorization is off (mode `none`).
    pub fn context(&self) -> Option<&AuthContext> {
        self.context.as_deref()
    }

    /// The context as the layer stored it.
    pub fn shared_context(&self) -> Option<&Arc<AuthContext>> {
        self.context.as_ref()
    }

    /// `Ok` when the caller's effective role (in the selected workspace) is at least
    /// `min_role`; else a 403 `insufficient_role`, audited. Always `Ok` with authorization off.
    pub fn require_role(&self, min_role: &str) -> Result<(), AuthRejection> {
        self.policy.require_role(self.context(), min_role)
    }

    /// The role ladder [`require_role`](Self::require_role) checks against.
    pub fn role_ladder(&self) -> &super::RoleLadder {
        &self.policy.config().roles
    }

    /// The server's audit trail (`tracing` and the configured sink), for the application's own
    /// events about this request (fill them with [`AuditEvent::caller`](super::AuditEvent::caller)).
    pub fn audit(&self) -> &super::Audit {
        &self.policy.config().audit
    }

    /// The surface of the layer the request passed (`rest_api` for application routes, as a
    /// rule).
    pub fn surface(&self) -> &super::Surface {
        self.policy.guarded_surface()
    }

    /// Whether authorization is on (any mode but `none`).
    pub fn authorization_enabled(&self) -> bool {
        self.policy.enabled()
    }

    /// An access token for an upstream API, on behalf of this caller: the caller's token
    /// exchanged at the authorization server (RFC 8693), as
    /// [`Context::upstream_token`](crate::Context::upstream_token) does for tools.
    ///
    /// ```no_run
    /// use mcp_server::auth::{Caller, ExchangeRequest};
    ///
    /// async fn reports(caller: Caller) -> Result<String, String> {
    ///     let request = ExchangeRequest::resource("https://reports.example.com");
    ///     let token = caller.upstream_token(request).await.map_err(|e| e.to_string())?;
    ///     // ... call the reports API with `token.authorization_header()`
    ///     Ok(format!("{token:?}"))
    /// }
    /// ```
    #[cfg(feature = "oauth")]
    pub async fn upstream_token(
        &self,
        request: super::ExchangeRequest,
    ) -> Result<super::UpstreamToken, super::ExchangeError> {
        super::exchange::upstream_token(self.context(), self.delegation.as_ref(), &request).await
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(CallerPolicy(policy)) = parts.extensions.get::<CallerPolicy>().cloned() else {
            tracing::error!(
                path = parts.uri.path(),
                "a handler asks for the Caller, but its route is not behind an AuthLayer"
            );
            return Err(AuthRejection::plain(
                RejectionKind::Misconfigured,
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "route_not_guarded",
                "this route is not configured for authorization",
            ));
        };
        Ok(Caller {
            context: parts.extensions.get::<Arc<AuthContext>>().cloned(),
            policy,
            #[cfg(feature = "oauth")]
            delegation: parts
                .extensions
                .get::<super::exchange::Delegation>()
                .cloned(),
        })
    }
}
