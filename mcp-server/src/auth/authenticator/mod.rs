//! Turns the credentials of an HTTP request into an [`AuthContext`], or into the exact refusal
//! the specs prescribe. Used by the MCP endpoint (after the Host/Origin guard, before any
//! JSON-RPC work, AZ-21) and by [`require_auth`](super::require_auth) for other routes.
//!
//! Order of checks: the credential (by mode, see [`AuthMode`]), then the surface (API keys
//! only: 403), then the server's scopes (403), then the selected workspace (404 when the
//! credential cannot see it). Each decision is an audit event.

mod credentials;

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use axum::response::Response;
use http::header::HOST;
use http::{HeaderMap, Method, StatusCode};

use super::audit::{AuditAction, AuditEvent};
use super::basic::BasicVerifier;
use super::challenge::{BearerError, Challenge, challenge_response, json_error};
use super::config::{AuthMode, AuthorizationConfig};
use super::context::{AuthContext, CredentialKind};
use super::dpop::DpopMode;
use super::query::QueryCredentials;
use super::surface::Surface;
use super::token_cache::TokenCache;
use super::workspace::{WorkspaceAccess, is_valid_workspace_name};

/// The request-time half of authorization, for one surface (the MCP endpoint, or REST routes).
pub struct Authenticator {
    config: AuthorizationConfig,
    cache: TokenCache,
    /// The endpoint's path, e.g. `/mcp`.
    path: String,
    /// Where requests arrive: API keys must allow it.
    surface: Surface,
    /// `http://<bound address><path>`, known once the server is bound.
    bound_resource: ArcSwapOption<String>,
    basic: Option<BasicVerifier>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("config", &self.config)
            .field("surface", &self.surface)
            .finish_non_exhaustive()
    }
}

/// Splits `origin` and `path` of an absolute URL.
fn split_url(url: &str) -> (&str, &str) {
    match url.find("://").map(|i| i + 3) {
        Some(start) => match url[start..].find('/') {
            Some(p) => url.split_at(start + p),
            None => (url, ""),
        },
        None => (url, ""),
    }
}

/// What every decision about one request needs to know.
struct Req<'a> {
    method: &'a Method,
    path: &'a str,
    headers: &'a HeaderMap,
    resource: String,
    correlation_id: String,
}

/// A client-supplied `X-Correlation-Id` / `X-Request-Id` when it is a short token, else a new
/// random id.
fn correlation_id(headers: &HeaderMap) -> String {
    let supplied = ["x-correlation-id", "x-request-id"]
        .iter()
        .filter_map(|h| headers.get(*h))
        .filter_map(|v| v.to_str().ok())
        .find(|v| {
            (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        });
    if let Some(id) = supplied {
        return id.to_owned();
    }
    let mut b = [0u8; 12];
    if getrandom::fill(&mut b).is_err() {
        let n = super::audit::now_millis();
        b[..8].copy_from_slice(&n.to_be_bytes());
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Authenticator {
    /// An authenticator for the MCP endpoint mounted at `path` (surface `mcp`).
    ///
    /// In mode `none` this logs a warning: nothing is protected.
    pub fn new(config: AuthorizationConfig, path: &str) -> Self {
        if !config.enabled {
            tracing::warn!(
                path,
                "authorization mode `none`: every request to this endpoint is accepted without \
                 credentials. Use it for local development only."
            );
        }
        let basic = match (&config.mode, &config.users) {
            (AuthMode::Basic, Some(users)) => Some(BasicVerifier::new(Arc::clone(users))),
            _ => None,
        };
        Authenticator {
            cache: TokenCache::new(config.token_cache_capacity),
            config,
            path: path.to_owned(),
            surface: Surface::Mcp,
            bound_resource: ArcSwapOption::empty(),
            basic,
        }
    }

    /// The same authenticator for another surface (e.g. [`Surface::RestApi`] for the
    /// application's own routes).
    #[must_use]
    pub fn surface(mut self, surface: Surface) -> Self {
        self.surface = surface;
        self
    }

    /// The surface this authenticator guards.
    pub fn guarded_surface(&self) -> &Surface {
        &self.surface
    }

    /// The configuration.
    pub fn config(&self) -> &AuthorizationConfig {
        &self.config
    }

    /// Whether authorization is enforced.
    pub fn enabled(&self) -> bool {
        self.config.enabled
    }

    /// Whether the RFC 9728 metadata is served: OAuth mode, or builtin mode with JWTs from
    /// named authorization servers.
    pub fn publishes_metadata(&self) -> bool {
        self.config.enabled
            && match self.config.mode {
                AuthMode::OAuth => true,
                AuthMode::Builtin => {
                    self.config.validator.is_some() && !self.config.authorization_servers.is_empty()
                }
                _ => false,
            }
    }

    /// Records the address the server is bound to (the default resource URL).
    pub(crate) fn set_bound_address(&self, addr: std::net::SocketAddr) {
        self.bound_resource
            .store(Some(Arc::new(format!("http://{addr}{}", self.path))));
    }

    /// The resource identifier: the configured public URL, else the bound address, else the
    /// request's (already allow-listed) `Host`.
    pub fn resource(&self, headers: &HeaderMap) -> String {
        if let Some(r) = &self.config.resource {
            return r.clone();
        }
        if let Some(r) = self.bound_resource.load_full() {
            return (*r).clone();
        }
        let host = headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        format!("http://{host}{}", self.path)
    }

    /// The absolute URL of the resource's RFC 9728 metadata (path-suffixed form, AZ-05).
    pub fn metadata_url(&self, resource: &str) -> String {
        let (origin, path) = split_url(resource);
        format!("{origin}{}{path}", self.config.metadata_path)
    }

    fn dpop_on(&self) -> bool {
        self.config.dpop.mode != DpopMode::Off
    }

    /// The challenge for the scheme the client used (`dpop`) or the server's first one.
    fn base_challenge(&self, resource: &str, dpop: bool) -> Challenge {
        let algs = self.config.dpop.alg_names();
        match (self.config.mode, self.publishes_metadata(), dpop) {
            (AuthMode::Basic, _, _) => Challenge::basic(&self.config.realm),
            (_, true, false) => Challenge::bearer(self.metadata_url(resource)),
            (_, true, true) => Challenge::dpop(self.metadata_url(resource), &algs),
            (_, false, false) => Challenge::bearer_realm(&self.config.realm),
            (_, false, true) => Challenge::dpop_realm(&self.config.realm, &algs),
        }
    }

    /// The challenges of this server (and `algs` for DPoP, DP-18).
    fn challenges(&self, resource: &str) -> Vec<Challenge> {
        match (self.config.mode, self.config.dpop.mode) {
            (AuthMode::Basic, _) | (_, DpopMode::Off) => vec![self.base_challenge(resource, false)],
            (_, DpopMode::Allowed) => vec![
                self.base_challenge(resource, false),
                self.base_challenge(resource, true),
            ],
            (_, DpopMode::Required) => vec![self.base_challenge(resource, true)],
        }
    }

    /// 403 `insufficient_scope` naming every scope in `needed` (AZ-14).
    pub fn insufficient_scope(
        &self,
        headers: &HeaderMap,
        needed: &[String],
        why: &str,
    ) -> Response {
        let resource = self.resource(headers);
        let c = self
            .challenges(&resource)
            .into_iter()
            .map(|c| c.error(BearerError::InsufficientScope, why).scope(needed));
        challenge_response(&c.collect::<Vec<_>>())
    }

    /// Records a decision about `req`.
    fn audit(&self, req: &Req<'_>, action: AuditAction, reason: &str, ctx: Option<&AuthContext>) {
        let audit = &self.config.audit;
        if !audit.active() {
            return;
        }
        let mut e = AuditEvent::new(action).caller(ctx).reason(reason);
        e.surface = Some(self.surface.as_str().to_owned());
        e.http_method = Some(req.method.as_str().to_owned());
        e.path = Some(req.path.to_owned());
        e.correlation_id = Some(req.correlation_id.clone());
        audit.record(e);
    }

    /// Audits a refusal and returns it.
    fn deny(
        &self,
        req: &Req<'_>,
        reason: &str,
        ctx: Option<&AuthContext>,
        response: Response,
    ) -> Response {
        self.audit(req, AuditAction::AuthDenied, reason, ctx);
        response
    }

    /// Authenticates a request to `path` with `method`. `Ok(None)` when authorization is off.
    pub async fn authenticate(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> Result<Option<Arc<AuthContext>>, Response> {
        self.authenticate_request(method, path, headers, &QueryCredentials::default())
            .await
    }

    /// Authenticates a request, with what its query says (`?token=`, `?workspace=`; see
    /// [`take_query_credentials`](super::take_query_credentials)). `Ok(None)` when
    /// authorization is off.
    pub async fn authenticate_request(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        query: &QueryCredentials,
    ) -> Result<Option<Arc<AuthContext>>, Response> {
        if !self.config.enabled {
            return Ok(None);
        }
        let req = Req {
            method,
            path,
            headers,
            resource: self.resource(headers),
            correlation_id: correlation_id(headers),
        };
        if query.ambiguous_workspace {
            let r = json_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "select one workspace",
                Some("ambiguous_workspace"),
            );
            return Err(self.deny(&req, "ambiguous_workspace", None, r));
        }
        let credential = match self.config.mode {
            AuthMode::Basic => self.basic_credential(&req).await?,
            _ => self.token_credential(&req, query.token.as_deref()).await?,
        };
        if credential.credential == CredentialKind::ApiKey
            && !credential.surfaces.contains(&self.surface)
        {
            let why = format!(
                "this API key is not allowed on the {} surface",
                self.surface
            );
            let r = json_error(
                StatusCode::FORBIDDEN,
                "forbidden",
                &why,
                Some("api_key_surface_denied"),
            );
            return Err(self.deny(&req, "api_key_surface_denied", Some(&credential), r));
        }
        let missing = credential.missing_scopes(&self.config.required_scopes);
        if !missing.is_empty() {
            let r = self.insufficient_scope(
                headers,
                &self.config.required_scopes,
                "the token lacks a scope this server requires",
            );
            return Err(self.deny(&req, "insufficient_scope", Some(&credential), r));
        }
        let mut ctx = AuthContext::clone(&credential);
        ctx.correlation_id = Some(req.correlation_id.clone());
        if let Some(ws) = query.workspace.as_deref() {
            match self.role_in_workspace(&ctx, ws) {
                Some(role) => {
                    ctx.role = role;
                    ctx.workspace = Some(ws.to_owned());
                }
                None => {
                    // Invisible and nonexistent workspaces look the same (no existence oracle).
                    let r = json_error(
                        StatusCode::NOT_FOUND,
                        "not_found",
                        "no such workspace",
                        Some("workspace_not_found"),
                    );
                    return Err(self.deny(&req, "workspace_not_found", Some(&ctx), r));
                }
            }
        }
        let reason = if ctx.credential == CredentialKind::None {
            "fail_open"
        } else {
            "valid_credentials"
        };
        self.audit(&req, AuditAction::AuthAllowed, reason, Some(&ctx));
        Ok(Some(Arc::new(ctx)))
    }

    /// The effective role in `workspace` (`Some(None)`: visible, but the credential has no
    /// role), or `None` when the workspace is invisible or does not exist.
    fn role_in_workspace(&self, ctx: &AuthContext, workspace: &str) -> Option<Option<String>> {
        if !is_valid_workspace_name(workspace) {
            return None;
        }
        if let Some(known) = &self.config.known_workspaces {
            if !known.contains(workspace) {
                return None;
            }
        }
        match &ctx.workspaces {
            WorkspaceAccess::All => Some(ctx.global_role.clone()),
            WorkspaceAccess::Grants(_) => ctx.role_in(workspace).map(|r| Some(r.to_owned())),
        }
    }

    /// Checks that the caller's effective role is at least `min_role`, for the application's own
    /// routes; the refusal is a 403 JSON error (`reason: insufficient_role`), audited.
    ///
    /// ```
    /// use axum::Extension;
    /// use axum::response::{IntoResponse, Response};
    /// use std::sync::Arc;
    /// use mcp_server::auth::{AuthContext, Authenticator};
    ///
    /// async fn start_run(
    ///     Extension(auth): Extension<Arc<Authenticator>>,
    ///     ctx: Option<Extension<Arc<AuthContext>>>,
    /// ) -> Response {
    ///     if let Err(refusal) = auth.require_role(ctx.as_deref().map(|c| &**c), "operator") {
    ///         return refusal;
    ///     }
    ///     "started".into_response()
    /// }
    /// ```
    // axum handlers return the refusal as is (`Err(r) => return r`): a `Response` error is the
    // idiom there.
    #[allow(clippy::result_large_err)]
    pub fn require_role(&self, ctx: Option<&AuthContext>, min_role: &str) -> Result<(), Response> {
        if !self.config.enabled {
            return Ok(());
        }
        let role = ctx.and_then(|c| c.role.as_deref());
        if self.config.roles.allows(role, min_role) {
            return Ok(());
        }
        if self.config.audit.active() {
            let mut e = AuditEvent::new(AuditAction::AuthDenied)
                .caller(ctx)
                .reason("insufficient_role");
            e.surface = Some(self.surface.as_str().to_owned());
            self.config.audit.record(e);
        }
        let why = format!(
            "requires role '{min_role}'; current role: '{}'",
            role.unwrap_or("none")
        );
        Err(json_error(
            StatusCode::FORBIDDEN,
            "forbidden",
            &why,
            Some("insufficient_role"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_urls_insert_the_well_known_segment() {
        let a = Authenticator::new(AuthorizationConfig::enabled(), "/mcp");
        assert_eq!(
            a.metadata_url("https://h.example/mcp"),
            "https://h.example/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            a.metadata_url("http://127.0.0.1:9"),
            "http://127.0.0.1:9/.well-known/oauth-protected-resource"
        );
    }

    #[test]
    fn correlation_ids_are_taken_when_tame_and_drawn_otherwise() {
        let mut h = HeaderMap::new();
        h.insert("x-request-id", http::HeaderValue::from_static("req-123"));
        assert_eq!(correlation_id(&h), "req-123");
        h.insert("x-request-id", http::HeaderValue::from_static("bad id!"));
        let drawn = correlation_id(&h);
        assert_eq!(drawn.len(), 24);
        assert_ne!(drawn, correlation_id(&h));
    }
}
