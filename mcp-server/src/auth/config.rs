//! [`AuthorizationConfig`]: whether and how the HTTP endpoint is protected, in one of four
//! modes ([`AuthMode`]).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use super::apikey::ApiKeys;
use super::audit::{Audit, AuditSink};
use super::dpop::DpopConfig;
use super::roles::{RoleClaim, RoleLadder};
use super::users::UserStore;
use super::validator::TokenValidator;

/// How callers prove who they are. One [`AuthContext`](super::AuthContext) comes out of every
/// mode.
///
/// | mode | credentials | client setup |
/// |---|---|---|
/// | `None` | none; every caller is let in. Local development only: logged loudly at start | nothing |
/// | `OAuth` | `Authorization: Bearer <JWT>` (or `DPoP`) from the trusted authorization servers | the client's OAuth support (RFC 9728 discovery), or a token in the header |
/// | `Builtin` | API keys, as `Authorization: Bearer mcp_...` or `X-API-Key: mcp_...` (and `?token=` when enabled); JWTs too when a validator is set | a header in the client's MCP server entry (see below) |
/// | `Basic` | `Authorization: Basic base64(user:password)` against a user store | clients with Basic support, or the header |
///
/// Header forms for common MCP clients (builtin mode; replace the key):
/// - Claude Code: `claude mcp add --transport http workflows http://host:8000/mcp --header "Authorization: Bearer mcp_..."`
/// - Codex (`~/.codex/config.toml`): `[mcp_servers.workflows]` with `url = "http://host:8000/mcp"` and
///   `http_headers = { Authorization = "Bearer mcp_..." }` (or `bearer_token_env_var`)
/// - Cursor / VS Code / Windsurf (`mcp.json`): `{"url": "http://host:8000/mcp", "headers": {"Authorization": "Bearer mcp_..."}}`
/// - `mcp-client`: `ApiKeyAuth::new(key)` (`X-API-Key`) or `ApiKeyAuth::new(key).bearer()`
/// - A client that cannot send headers: `http://host:8000/mcp?token=mcp_...` when the server
///   enables [`query_token`](AuthorizationConfig::query_token); prefer headers behind proxies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AuthMode {
    /// No authentication (the default). Loudly logged when an HTTP endpoint is built.
    #[default]
    None,
    /// OAuth 2.1 resource server: JWT access tokens.
    OAuth,
    /// API keys, and JWTs too when a validator is configured. Order: a token starting with the
    /// key prefix (or sent in the API-key header or `?token=`) is checked as an API key only;
    /// any other bearer token is checked as a JWT.
    Builtin,
    /// HTTP Basic against a user store with Argon2id password hashes.
    Basic,
}

/// What happens when a caller lacks a scope (or the role) one tool needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ScopeDenial {
    /// A tool error (`isError: true`) with the documented text:
    /// `Tool "delete_file" requires scopes: ['files:delete']. Missing: ['files:delete']`.
    #[default]
    ToolError,
    /// The spec's step-up challenge: HTTP 403 `insufficient_scope` naming every scope the call
    /// needs (and, for a role, the role in the description), for clients that can re-authorize
    /// (AZ-14).
    StepUp,
}

/// How the MCP endpoint is protected. Off by default; stdio is never protected.
///
/// ```
/// use mcp_server::auth::{AuthorizationConfig, JwtValidator, JwtValidatorConfig};
/// # fn f() -> Result<(), Box<dyn std::error::Error>> {
/// let jwt = JwtValidator::new(JwtValidatorConfig::new("https://auth.example.com", ""))?;
/// let auth = AuthorizationConfig::enabled()
///     .authorization_server("https://auth.example.com")
///     .required_scopes(["read"])
///     .resource("https://mcp.example.com/mcp")
///     .validator(jwt);
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct AuthorizationConfig {
    /// Whether authorization is enforced.
    pub enabled: bool,
    /// Issuer URLs of the trusted authorization servers (published in the metadata).
    pub authorization_servers: Vec<String>,
    /// Scopes every request needs.
    pub required_scopes: Vec<String>,
    /// Path of the RFC 9728 metadata (default `/.well-known/oauth-protected-resource`); it is
    /// served there and at that path followed by the endpoint's path.
    pub metadata_path: String,
    /// `Cache-Control: max-age` of the metadata (default 300 s).
    pub cache_ttl: Duration,
    /// When the authorization server cannot be reached and no key is cached, let requests in
    /// with no identity and no scopes (audited) instead of answering 503. Invalid tokens are
    /// always refused.
    pub fail_open: bool,
    /// The public URL of the MCP endpoint: the resource identifier tokens must name. Default:
    /// `http://<bound address><path>`, or the request's `Host` when mounted in your own app.
    pub resource: Option<String>,
    /// `resource_name` in the metadata.
    pub resource_name: Option<String>,
    /// How a missing tool scope or role is reported.
    pub scope_denial: ScopeDenial,
    /// Hide from `tools/list` the tools the caller cannot call, by scopes and role (lists become
    /// `private`).
    pub filter_tools: bool,
    /// How many verified tokens are remembered until they expire (default 10 000).
    pub token_cache_capacity: usize,
    /// Seconds suggested in `Retry-After` when the authorization server is down (default 5).
    pub retry_after: u64,
    /// Checks access tokens.
    pub validator: Option<Arc<dyn TokenValidator>>,
    /// DPoP (RFC 9449): off, allowed or required, and how proofs are checked.
    pub dpop: DpopConfig,
    /// The mode.
    pub mode: AuthMode,
    /// The API keys of builtin mode.
    pub api_keys: Option<ApiKeys>,
    /// The users of Basic mode.
    pub users: Option<Arc<dyn UserStore>>,
    /// The role ladder `min_role` is checked against (default: Dagu's).
    pub roles: RoleLadder,
    /// Where JWTs carry their role. In OAuth mode, setting it turns roles on (`min_role` is then
    /// enforced); builtin mode reads the `role` claim when it is not set.
    pub role_claim: Option<RoleClaim>,
    /// Accept an API key in `?token=` on the MCP endpoint when no credential header is present
    /// (builtin mode only; off by default). The parameter is always removed from the request
    /// before anything else sees it.
    pub query_token: bool,
    /// The header API keys may also come in (default `X-API-Key`; `None`: only `Authorization`).
    pub api_key_header: Option<HeaderName>,
    /// The workspaces that exist; when set, selecting another one is "not found" for everyone.
    pub known_workspaces: Option<BTreeSet<String>>,
    /// The realm of `Bearer` challenges without RFC 9728 metadata, and of `Basic` ones.
    pub realm: String,
    /// Where audit events go (always `tracing`, plus this sink).
    pub audit: Audit,
}

impl std::fmt::Debug for AuthorizationConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationConfig")
            .field("enabled", &self.enabled)
            .field("authorization_servers", &self.authorization_servers)
            .field("required_scopes", &self.required_scopes)
            .field("resource", &self.resource)
            .field("fail_open", &self.fail_open)
            .field("scope_denial", &self.scope_denial)
            .field("filter_tools", &self.filter_tools)
            .field("validator", &self.validator.is_some())
            .field("dpop", &self.dpop)
            .field("mode", &self.mode)
            .field("api_keys", &self.api_keys)
            .field("users", &self.users.is_some())
            .field("roles", &self.roles)
            .field("query_token", &self.query_token)
            .field("audit", &self.audit)
            .finish_non_exhaustive()
    }
}

impl Default for AuthorizationConfig {
    fn default() -> Self {
        AuthorizationConfig {
            enabled: false,
            authorization_servers: Vec::new(),
            required_scopes: Vec::new(),
            metadata_path: "/.well-known/oauth-protected-resource".to_owned(),
            cache_ttl: Duration::from_secs(300),
            fail_open: false,
            resource: None,
            resource_name: None,
            scope_denial: ScopeDenial::ToolError,
            filter_tools: false,
            token_cache_capacity: 10_000,
            retry_after: 5,
            validator: None,
            dpop: DpopConfig::default(),
            mode: AuthMode::None,
            api_keys: None,
            users: None,
            roles: RoleLadder::default(),
            role_claim: None,
            query_token: false,
            api_key_header: Some(HeaderName::from_static("x-api-key")),
            known_workspaces: None,
            realm: "mcp".to_owned(),
            audit: Audit::default(),
        }
    }
}

impl AuthorizationConfig {
    /// Authorization on, OAuth mode. Without a validator every request is refused (fail
    /// closed).
    pub fn enabled() -> Self {
        AuthorizationConfig {
            enabled: true,
            mode: AuthMode::OAuth,
            ..Default::default()
        }
    }

    /// OAuth mode: the same as [`enabled`](Self::enabled).
    pub fn oauth() -> Self {
        Self::enabled()
    }

    /// Mode `none`: nobody is asked for anything. For local development only; serving it logs
    /// a warning.
    pub fn none() -> Self {
        Self::default()
    }

    /// Builtin mode: API keys from `keys` (and JWTs once a [`validator`](Self::validator) is
    /// set). The role ladder is the keys'.
    ///
    /// ```
    /// use mcp_server::auth::{ApiKeys, AuthorizationConfig};
    /// let config = AuthorizationConfig::builtin(ApiKeys::in_memory()).query_token(true);
    /// # let _ = config;
    /// ```
    pub fn builtin(keys: ApiKeys) -> Self {
        AuthorizationConfig {
            enabled: true,
            mode: AuthMode::Builtin,
            roles: keys.role_ladder().clone(),
            api_keys: Some(keys),
            ..Default::default()
        }
    }

    /// Basic mode: users and Argon2id password hashes from `users`.
    pub fn basic(users: impl UserStore) -> Self {
        Self::basic_shared(Arc::new(users))
    }

    /// Basic mode with a shared user store.
    pub fn basic_shared(users: Arc<dyn UserStore>) -> Self {
        AuthorizationConfig {
            enabled: true,
            mode: AuthMode::Basic,
            users: Some(users),
            ..Default::default()
        }
    }

    /// Declares the role ladder (the API keys' too, in builtin mode).
    #[must_use]
    pub fn roles(mut self, roles: RoleLadder) -> Self {
        self.api_keys = self.api_keys.map(|k| k.roles(roles.clone()));
        self.roles = roles;
        self
    }

    /// Where JWTs carry their role; in OAuth mode this turns roles on.
    #[must_use]
    pub fn role_claim(mut self, claim: RoleClaim) -> Self {
        self.role_claim = Some(claim);
        self
    }

    /// Whether `min_role` is enforced: builtin and Basic modes always (every credential has a
    /// role, or none and is refused); OAuth mode once a [`role_claim`](Self::role_claim) says
    /// where tokens carry roles. Without one, OAuth servers authorize tools by scopes only.
    pub fn roles_in_use(&self) -> bool {
        self.enabled
            && (matches!(self.mode, AuthMode::Builtin | AuthMode::Basic)
                || self.role_claim.is_some())
    }

    /// The claim JWT roles come from, if any.
    pub(crate) fn jwt_role_claim(&self) -> Option<std::borrow::Cow<'_, RoleClaim>> {
        match (&self.role_claim, self.mode) {
            (Some(c), _) => Some(std::borrow::Cow::Borrowed(c)),
            (None, AuthMode::Builtin) => Some(std::borrow::Cow::Owned(RoleClaim::default())),
            _ => None,
        }
    }

    /// Accepts API keys in `?token=` (builtin mode, MCP endpoint, no credential header).
    #[must_use]
    pub fn query_token(mut self, on: bool) -> Self {
        self.query_token = on;
        self
    }

    /// The header API keys may come in besides `Authorization: Bearer`; `None` turns it off.
    #[must_use]
    pub fn api_key_header(mut self, name: Option<HeaderName>) -> Self {
        self.api_key_header = name;
        self
    }

    /// Declares the workspaces that exist.
    #[must_use]
    pub fn known_workspaces<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        names: I,
    ) -> Self {
        self.known_workspaces = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Sends audit events to `sink` as well as `tracing`.
    #[must_use]
    pub fn audit(mut self, sink: impl AuditSink) -> Self {
        self.audit = Audit::new(sink);
        self
    }

    /// Sends audit events to a shared sink as well as `tracing`.
    #[must_use]
    pub fn audit_shared(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.audit = Audit::shared(sink);
        self
    }

    /// Sets the realm of `Basic` challenges and of `Bearer` ones without metadata.
    #[must_use]
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    /// Trusts another authorization server.
    #[must_use]
    pub fn authorization_server(mut self, issuer: impl Into<String>) -> Self {
        self.authorization_servers.push(issuer.into());
        self
    }

    /// Sets the scopes every request needs.
    #[must_use]
    pub fn required_scopes<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        scopes: I,
    ) -> Self {
        self.required_scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the token validator.
    #[must_use]
    pub fn validator(mut self, validator: impl TokenValidator) -> Self {
        self.validator = Some(Arc::new(validator));
        self
    }

    /// Sets the public URL of the MCP endpoint (behind a proxy, say).
    #[must_use]
    pub fn resource(mut self, url: impl Into<String>) -> Self {
        self.resource = Some(url.into().trim_end_matches('/').to_owned());
        self
    }

    /// Sets `fail_open`.
    #[must_use]
    pub fn fail_open(mut self, on: bool) -> Self {
        self.fail_open = on;
        self
    }

    /// Answers missing tool scopes with the step-up 403 instead of a tool error.
    #[must_use]
    pub fn step_up(mut self) -> Self {
        self.scope_denial = ScopeDenial::StepUp;
        self
    }

    /// Hides uncallable tools from `tools/list`.
    #[must_use]
    pub fn filter_tools(mut self) -> Self {
        self.filter_tools = true;
        self
    }

    /// Sets how DPoP-bound tokens are accepted.
    #[must_use]
    pub fn dpop(mut self, dpop: DpopConfig) -> Self {
        self.dpop = dpop;
        self
    }

    /// Sets the metadata's `Cache-Control: max-age`.
    #[must_use]
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }
}
