//! Turns the credentials of an HTTP request into an [`AuthContext`], or into the exact refusal
//! the specs prescribe ([`AuthRejection`]). The [`AuthLayer`](super::AuthLayer) runs it in front
//! of the MCP endpoint (after the Host/Origin guard, before any JSON-RPC work, AZ-21) and of any
//! application route.
//!
//! Order of checks: the credential (by mode, see [`AuthMode`](super::AuthMode)), then the
//! surface (API keys only: 403), then the server's scopes (403), then the selected workspace
//! (404 when the credential cannot see it). Each decision is an audit event.
//!
//! Failed authentications are budgeted per client address and per credential
//! ([`AuthFailureLimits`](super::AuthFailureLimits)): once a credential is found in a request
//! and before it is checked, a spent budget is refused with 429 (`gate`); a refusal that counts
//! is charged when the credential check returns (`settle`).
//!
//! The resource (the audience tokens must name, the base of the metadata URL and of DPoP's
//! `htu`) is the configured public URL, never anything a request says.

mod credentials;

use std::net::IpAddr;
use std::sync::Arc;

use http::{HeaderMap, Method, StatusCode};

use super::audit::{AuditAction, AuditEvent};
#[cfg(feature = "builtin-auth")]
use super::basic::BasicVerifier;
use super::challenge::{BearerError, Challenge};
use super::config::{AuthConfigError, AuthMode, AuthorizationConfig};
use super::context::{AuthContext, CredentialKind};
use super::dpop::DpopMode;
use super::failures::{AddressKey, CredentialKey, FailureGuard};
use super::query::QueryCredentials;
use super::rejection::{AuthRejection, Counted, RejectionKind};
use super::surface::Surface;
use super::token_cache::TokenCache;
use super::workspace::{WorkspaceAccess, is_valid_workspace_name};
use crate::telemetry::{self, AuthMetrics};

/// The request-time half of authorization, for one surface (the MCP endpoint, or REST routes).
/// Cheap to share (`Arc`); [`McpServer::auth_layer`](crate::McpServer::auth_layer) gives one
/// wrapped in a tower layer.
pub struct Authenticator {
    config: AuthorizationConfig,
    cache: TokenCache,
    /// Where requests arrive: API keys must allow it.
    surface: Surface,
    #[cfg(feature = "builtin-auth")]
    basic: Option<BasicVerifier>,
    /// The failure budgets (shared by every authenticator built from the same configuration);
    /// `None` when they are disabled.
    failures: Option<Arc<FailureGuard>>,
    /// Refusals and replayed proofs, counted (feature `otel`).
    metrics: AuthMetrics,
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
pub(super) fn split_url(url: &str) -> (&str, &str) {
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
    correlation_id: String,
    /// The client's address as budgeted, when the connection is known.
    peer: Option<AddressKey>,
}

/// A credential found in a request, as the failure budgets know it: what `gate` lets through
/// and `settle` charges. `key_of` computes its key (`None` when nothing identifies it: Basic
/// credentials that do not decode), only when a budget needs it: never on the success path of
/// an idle limiter.
#[derive(Clone, Copy)]
struct Presented<'k> {
    kind: CredentialKind,
    key_of: &'k (dyn Fn() -> Option<CredentialKey> + Sync),
}

/// The reason code of a refused replayed DPoP proof (counted in `mcp.server.dpop.replays`).
const DPOP_REPLAYED: &str = "dpop_proof_replayed";

/// A client-supplied `X-Correlation-Id` / `X-Request-Id` when it is a short token, else a new
/// random id (none when the OS has no randomness: the request is refused then).
fn correlation_id(headers: &HeaderMap) -> Result<String, crate::crypto::RandomnessError> {
    let supplied = ["x-correlation-id", "x-request-id"]
        .iter()
        .filter_map(|h| headers.get(*h))
        .filter_map(|v| v.to_str().ok())
        .find(|v| {
            (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        });
    match supplied {
        Some(id) => Ok(id.to_owned()),
        None => crate::crypto::random_hex::<12>(),
    }
}

impl Authenticator {
    /// An authenticator for the MCP endpoint (surface `mcp`), after checking `config` as
    /// [`McpServerBuilder::build`](crate::McpServerBuilder::build) does.
    pub fn new(config: AuthorizationConfig) -> Result<Self, AuthConfigError> {
        config.check()?;
        Ok(Self::from_checked(config))
    }

    /// An authenticator from a configuration `build()` already checked.
    pub(crate) fn from_checked(config: AuthorizationConfig) -> Self {
        #[cfg(feature = "builtin-auth")]
        let basic = match &config.mode {
            super::config::Mode::Basic { users } => Some(BasicVerifier::with_limits(
                Arc::clone(users),
                config.basic_limits,
            )),
            _ => None,
        };
        let failures = config
            .failure_guard
            .get_or_init(|| FailureGuard::new(&config.auth_failure_limits).map(Arc::new))
            .clone();
        Authenticator {
            cache: TokenCache::new(config.token_cache_capacity),
            config,
            surface: Surface::Mcp,
            #[cfg(feature = "builtin-auth")]
            basic,
            failures,
            metrics: AuthMetrics::from_global(),
        }
    }

    /// The same authenticator with `check` as Basic mode's password check (fuzz builds only).
    #[cfg(all(fuzzing, feature = "builtin-auth"))]
    pub(crate) fn with_password_check(mut self, check: fn(&str, &str) -> bool) -> Self {
        if let Some(basic) = &mut self.basic {
            basic.set_check(check);
        }
        self
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
        self.config.is_enabled()
    }

    /// Whether the RFC 9728 metadata is served: whenever access tokens are checked (OAuth mode,
    /// builtin mode with JWTs).
    pub fn publishes_metadata(&self) -> bool {
        self.config.checks_tokens()
    }

    /// The resource identifier: the configured public URL of the endpoint (`build()` refuses a
    /// configuration that checks tokens without one).
    pub fn resource(&self) -> &str {
        self.config.resource.as_deref().unwrap_or("")
    }

    /// The absolute URL of the resource's RFC 9728 metadata (path-suffixed form, AZ-05).
    pub fn metadata_url(&self) -> String {
        let (origin, path) = split_url(self.resource());
        format!("{origin}{}{path}", self.config.metadata_path)
    }

    fn dpop_on(&self) -> bool {
        self.config.dpop.mode != DpopMode::Off
    }

    /// The challenge for the scheme the client used (`dpop`) or the server's first one.
    fn base_challenge(&self, dpop: bool) -> Challenge {
        let algs = self.config.dpop.alg_names();
        let metadata = self.publishes_metadata();
        match (self.config.mode(), metadata, dpop) {
            (AuthMode::Basic, _, _) => Challenge::basic(&self.config.realm),
            (_, true, false) => Challenge::bearer(self.metadata_url()),
            (_, true, true) => Challenge::dpop(self.metadata_url(), &algs),
            (_, false, false) => Challenge::bearer_realm(&self.config.realm),
            (_, false, true) => Challenge::dpop_realm(&self.config.realm, &algs),
        }
    }

    /// The challenges of this server (and `algs` for DPoP, DP-18).
    fn challenges(&self) -> Vec<Challenge> {
        match (self.config.mode(), self.config.dpop.mode) {
            (AuthMode::Basic, _) | (_, DpopMode::Off) => vec![self.base_challenge(false)],
            (_, DpopMode::Allowed) => vec![self.base_challenge(false), self.base_challenge(true)],
            (_, DpopMode::Required) => vec![self.base_challenge(true)],
        }
    }

    /// 403 `insufficient_scope` naming every scope in `needed` (AZ-14).
    pub(crate) fn insufficient_scope(&self, needed: &[String], why: &str) -> AuthRejection {
        let c = self
            .challenges()
            .into_iter()
            .map(|c| c.error(BearerError::InsufficientScope, why).scope(needed));
        AuthRejection::challenge("insufficient_scope", c.collect())
    }

    /// 503 with `Retry-After`.
    fn unavailable(&self, reason: &'static str, why: &str) -> AuthRejection {
        AuthRejection::unavailable(reason, why, self.config.retry_after.as_secs().max(1))
    }

    /// Records a decision about `req`.
    fn audit(&self, req: &Req<'_>, action: AuditAction, reason: &str, ctx: Option<&AuthContext>) {
        telemetry::record_auth_decision(
            action == AuditAction::AuthAllowed,
            reason,
            ctx.map(|c| c.credential.as_str()),
            ctx.and_then(|c| c.subject.as_deref()),
        );
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
    fn deny(&self, req: &Req<'_>, ctx: Option<&AuthContext>, r: AuthRejection) -> AuthRejection {
        self.audit(req, AuditAction::AuthDenied, r.reason(), ctx);
        let kind = ctx.map(|c| c.credential.as_str());
        self.metrics.refusal(r.reason(), kind, r.status().as_u16());
        if r.reason() == DPOP_REPLAYED {
            self.metrics.dpop_replay();
        }
        r
    }

    /// Called once the request's credential is found and before anything checks it: refuses
    /// with 429 when the client address or the credential has spent its failure budget. The
    /// credential's key is computed and looked up only while some credential is tracked, so
    /// the success path of an idle limiter costs neither.
    fn gate(&self, req: &Req<'_>, presented: Presented<'_>) -> Result<(), AuthRejection> {
        let Some(guard) = &self.failures else {
            return Ok(());
        };
        let key = if guard.tracks_credentials() {
            (presented.key_of)()
        } else {
            None
        };
        let kind = presented.kind;
        match guard.check(req.peer, key) {
            None => Ok(()),
            Some(refusal) => {
                tracing::debug!(
                    target: "mcp::auth",
                    client_address = req.peer.map(|a| a.to_string()),
                    credential_kind = kind.as_str(),
                    bucket = refusal.bucket.as_str(),
                    "refused before checking: too many failed authentications"
                );
                let retry = refusal.retry_after_secs();
                Err(self.throttled(req, Some(kind), "too_many_failures", retry))
            }
        }
    }

    /// Charges a refusal that counts as a failed authentication to the failure budgets, once
    /// (the refusal is marked as charged): to the address, and to `presented` (the credential
    /// `gate` let through) when the credential itself was refused. A failure over budget
    /// (attempts that raced past `gate`, or a new key while the table is full) is answered 429
    /// instead.
    fn settle(
        &self,
        req: &Req<'_>,
        presented: Option<Presented<'_>>,
        mut r: AuthRejection,
    ) -> AuthRejection {
        let Some(counted) = r.take_counted() else {
            return r;
        };
        let Some(guard) = &self.failures else {
            return r;
        };
        let credential = match (counted, presented) {
            (Counted::AddressAndCredential, Some(p)) if guard.limits_credentials() => (p.key_of)(),
            _ => None,
        };
        let charged = guard.charge(req.peer, credential);
        let kind = presented.map_or("unknown", |p| p.kind.as_str());
        for bucket in charged.exhausted.into_iter().flatten() {
            tracing::warn!(
                target: "mcp::auth",
                client_address = req.peer.map(|a| a.to_string()),
                credential_kind = kind,
                bucket = bucket.as_str(),
                "failed-authentication budget spent: further attempts are refused with 429 \
                 until it refills"
            );
        }
        match charged.refusal {
            None => r,
            Some(refusal) => {
                let reason = if refusal.table_full {
                    "auth_failures_table_full"
                } else {
                    "too_many_failures"
                };
                let kind = presented.map(|p| p.kind);
                self.throttled(req, kind, reason, refusal.retry_after_secs())
            }
        }
    }

    /// The 429, audited with the client address (the /64 of IPv6) and the credential kind.
    fn throttled(
        &self,
        req: &Req<'_>,
        kind: Option<CredentialKind>,
        reason: &'static str,
        retry_after: u64,
    ) -> AuthRejection {
        let r = AuthRejection::too_many_failures(reason, retry_after);
        let kind_name = kind.map(CredentialKind::as_str);
        telemetry::record_auth_decision(false, reason, kind_name, None);
        self.metrics.refusal(reason, kind_name, r.status().as_u16());
        let audit = &self.config.audit;
        if audit.active() {
            let mut e = AuditEvent::new(AuditAction::AuthDenied).reason(reason);
            e.surface = Some(self.surface.as_str().to_owned());
            e.http_method = Some(req.method.as_str().to_owned());
            e.path = Some(req.path.to_owned());
            e.correlation_id = Some(req.correlation_id.clone());
            e.client_address = req.peer.map(|a| a.to_string());
            e.credential_kind = kind;
            audit.record(e);
        }
        r
    }

    /// Authenticates a request to `path` with `method`. `Ok(None)` when authorization is off.
    /// The client address is unknown here, so failed authentications are budgeted per
    /// credential only: prefer [`authenticate_from`](Self::authenticate_from).
    pub async fn authenticate(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> Result<Option<Arc<AuthContext>>, AuthRejection> {
        self.authenticate_request(method, path, headers, &QueryCredentials::default(), None)
            .await
    }

    /// Authenticates a request from the client at `peer` (the connection's address, never a
    /// header's): failed authentications are budgeted per address too
    /// ([`AuthFailureLimits`](super::AuthFailureLimits)).
    pub async fn authenticate_from(
        &self,
        peer: IpAddr,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> Result<Option<Arc<AuthContext>>, AuthRejection> {
        let query = QueryCredentials::default();
        self.authenticate_request(method, path, headers, &query, Some(peer))
            .await
    }

    /// Authenticates a request, with what its query says (`?token=`, `?workspace=`) and the
    /// client's address when known. `Ok(None)` when authorization is off.
    pub(crate) async fn authenticate_request(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        query: &QueryCredentials,
        peer: Option<IpAddr>,
    ) -> Result<Option<Arc<AuthContext>>, AuthRejection> {
        if !self.config.is_enabled() {
            return Ok(None);
        }
        if peer.is_none()
            && self
                .failures
                .as_ref()
                .is_some_and(|f| f.first_without_peer())
        {
            tracing::warn!(
                target: "mcp::auth",
                "requests reach the authorization layer without the client's address \
                 (ConnectInfo<SocketAddr>): failed authentications are limited per credential \
                 only. Serve the router with \
                 `into_make_service_with_connect_info::<SocketAddr>()`."
            );
        }
        let Ok(correlation_id) = correlation_id(headers) else {
            return Err(AuthRejection::unavailable(
                "no_randomness",
                "the server cannot draw random numbers",
                self.config.retry_after.as_secs(),
            ));
        };
        let req = Req {
            method,
            path,
            headers,
            correlation_id,
            peer: peer.map(AddressKey::of),
        };
        if query.ambiguous_workspace {
            let r = AuthRejection::plain(
                RejectionKind::InvalidRequest,
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "ambiguous_workspace",
                "select one workspace",
            );
            return Err(self.deny(&req, None, r));
        }
        let credential = match self.config.mode() {
            #[cfg(feature = "builtin-auth")]
            AuthMode::Basic => self.basic_credential(&req).await,
            _ => self.token_credential(&req, query.token.as_deref()).await,
        };
        // What was refused before a credential was found (a malformed token) is charged here;
        // the rest was charged where the credential was checked.
        let credential = credential.map_err(|r| self.settle(&req, None, r))?;
        if credential.credential == CredentialKind::ApiKey
            && !credential.surfaces.contains(&self.surface)
        {
            let why = format!(
                "this API key is not allowed on the {} surface",
                self.surface
            );
            let r = AuthRejection::plain(
                RejectionKind::Forbidden,
                StatusCode::FORBIDDEN,
                "forbidden",
                "api_key_surface_denied",
                why,
            );
            return Err(self.deny(&req, Some(&credential), r));
        }
        let missing = credential.missing_scopes(&self.config.required_scopes);
        if !missing.is_empty() {
            let r = self.insufficient_scope(
                &self.config.required_scopes,
                "the token lacks a scope this server requires",
            );
            return Err(self.deny(&req, Some(&credential), r));
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
                    let r = AuthRejection::plain(
                        RejectionKind::NotFound,
                        StatusCode::NOT_FOUND,
                        "not_found",
                        "workspace_not_found",
                        "no such workspace",
                    );
                    return Err(self.deny(&req, Some(&ctx), r));
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

    /// Checks that the caller's effective role is at least `min_role`; the refusal is a 403
    /// (`reason: insufficient_role`), audited. With authorization off everything is allowed.
    /// Application routes usually reach it through [`Caller::require_role`](super::Caller::require_role).
    pub fn require_role(
        &self,
        ctx: Option<&AuthContext>,
        min_role: &str,
    ) -> Result<(), AuthRejection> {
        if !self.config.is_enabled() {
            return Ok(());
        }
        let role = ctx.and_then(|c| c.role.as_deref());
        if self.config.roles_in_use() && self.config.roles.allows(role, min_role) {
            return Ok(());
        }
        let kind = ctx.map(|c| c.credential.as_str());
        telemetry::record_auth_decision(false, "insufficient_role", kind, None);
        self.metrics
            .refusal("insufficient_role", kind, StatusCode::FORBIDDEN.as_u16());
        if self.config.audit.active() {
            let mut e = AuditEvent::new(AuditAction::AuthDenied)
                .caller(ctx)
                .reason("insufficient_role");
            e.surface = Some(self.surface.as_str().to_owned());
            e.correlation_id = ctx.and_then(|c| c.correlation_id.clone());
            self.config.audit.record(e);
        }
        let why = format!(
            "requires role '{min_role}'; current role: '{}'",
            role.unwrap_or("none")
        );
        Err(AuthRejection::plain(
            RejectionKind::Forbidden,
            StatusCode::FORBIDDEN,
            "forbidden",
            "insufficient_role",
            why,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_urls_insert_the_well_known_segment() {
        assert_eq!(
            split_url("https://h.example/mcp"),
            ("https://h.example", "/mcp")
        );
        assert_eq!(split_url("http://127.0.0.1:9"), ("http://127.0.0.1:9", ""));
    }

    #[test]
    fn correlation_ids_are_taken_when_tame_and_drawn_otherwise() {
        let mut h = HeaderMap::new();
        h.insert("x-request-id", http::HeaderValue::from_static("req-123"));
        assert_eq!(correlation_id(&h).unwrap(), "req-123");
        h.insert("x-request-id", http::HeaderValue::from_static("bad id!"));
        let drawn = correlation_id(&h).unwrap();
        assert_eq!(drawn.len(), 24);
        assert_ne!(drawn, correlation_id(&h).unwrap());
    }
}
