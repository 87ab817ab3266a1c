//! [`AuthorizationConfig`]: whether and how the HTTP endpoint is protected, in one of four
//! modes ([`AuthMode`]). The mode carries what it needs; what cannot be checked by the types is
//! checked by [`McpServerBuilder::build`](crate::McpServerBuilder::build), which refuses a
//! configuration it could not enforce with an [`AuthConfigError`] saying how to fix it.

use std::collections::BTreeSet;
use std::sync::Arc;
#[cfg(feature = "http")]
use std::sync::OnceLock;
use std::time::Duration;

use http::HeaderName;

#[cfg(feature = "builtin-auth")]
use super::apikey::ApiKeyStore;
#[cfg(feature = "builtin-auth")]
use super::apikey::ApiKeys;
use super::audit::{Audit, AuditSink};
#[cfg(feature = "builtin-auth")]
use super::basic::BasicLimits;
use super::context::AuthContext;
use super::danger::{Danger, is_remote_plain_http};
#[cfg(feature = "http")]
use super::dpop::DpopConfig;
#[cfg(feature = "oauth")]
use super::dpop::DpopMode;
#[cfg(feature = "oauth")]
use super::exchange::TokenExchanger;
#[cfg(feature = "http")]
use super::failures::{AuthFailureLimits, FailureGuard};
use super::roles::{RoleClaim, RoleLadder};
#[cfg(feature = "builtin-auth")]
use super::users::UserStore;
use super::validator::TokenValidator;
use super::workspace::{WorkspaceClaim, WorkspaceError};
#[cfg(feature = "http")]
use crate::store::{ReadinessFn, ReplayCache, readiness_of};

/// How callers prove who they are. One [`AuthContext`](super::AuthContext) comes out of every
/// mode.
///
/// | mode | credentials | client setup |
/// |---|---|---|
/// | `None` | none; every caller is let in. Local development only: logged loudly, and refused on a non-loopback bind | nothing |
/// | `OAuth` | `Authorization: Bearer <JWT>` (or `DPoP`) from the trusted authorization servers | the client's OAuth support (RFC 9728 discovery), or a token in the header |
/// | `Builtin` | API keys, as `Authorization: Bearer mcp_...` or `X-API-Key: mcp_...`; JWTs too when a validator is set | a header in the client's MCP server entry (see below) |
/// | `Basic` | `Authorization: Basic base64(user:password)` against a user store | clients with Basic support, or the header |
///
/// Header forms for common MCP clients (builtin mode; replace the key):
/// - Claude Code: `claude mcp add --transport http workflows http://host:8000/mcp --header "Authorization: Bearer mcp_..."`
/// - Codex (`~/.codex/config.toml`): `[mcp_servers.workflows]` with `url = "http://host:8000/mcp"` and
///   `http_headers = { Authorization = "Bearer mcp_..." }` (or `bearer_token_env_var`)
/// - Cursor / VS Code / Windsurf (`mcp.json`): `{"url": "http://host:8000/mcp", "headers": {"Authorization": "Bearer mcp_..."}}`
/// - `mcp-client`: `ApiKeyAuth::new(key)` (`X-API-Key`) or `ApiKeyAuth::new(key).bearer()`
/// - A client that cannot send headers: `http://host:8000/mcp?token=mcp_...`, only when the
///   server accepts [`Danger::QueryToken`]; prefer headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AuthMode {
    /// No authentication (the default).
    #[default]
    None,
    /// OAuth 2.1 resource server: access tokens checked by a [`TokenValidator`].
    OAuth,
    /// API keys, and JWTs too when a validator is configured. Order: a token starting with the
    /// key prefix (or sent in the API-key header) is checked as an API key only; any other
    /// bearer token is checked as a JWT.
    Builtin,
    /// HTTP Basic against a user store with Argon2id password hashes.
    Basic,
}

impl AuthMode {
    /// The name used in errors and logs: `none`, `oauth`, `builtin`, `basic`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::None => "none",
            AuthMode::OAuth => "oauth",
            AuthMode::Builtin => "builtin",
            AuthMode::Basic => "basic",
        }
    }
}

impl std::fmt::Display for AuthMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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

/// Why an [`AuthorizationConfig`] cannot be enforced as written. Each message says how to fix
/// it; [`McpServerBuilder::build`](crate::McpServerBuilder::build) returns it inside
/// [`BuildError::Authorization`](crate::BuildError::Authorization).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthConfigError {
    /// OAuth mode without a token validator.
    #[error(
        "OAuth mode checks access tokens but has no validator: add \
         `.validator(JwtValidator::new(JwtValidatorConfig::new(issuer, \"\"))?)` \
         (or an IntrospectionValidator)"
    )]
    MissingValidator,
    /// Tokens are checked but the resource (their audience) is not configured.
    #[error(
        "{mode} mode checks access tokens, whose audience must be this server's public URL, and \
         that URL is never guessed from a request: add `.resource(\"https://mcp.example.com/mcp\")` \
         with the URL clients connect to (behind a proxy, the public one)"
    )]
    MissingResource {
        /// The mode.
        mode: AuthMode,
    },
    /// The resource is not an absolute `http(s)` URL without query or fragment.
    #[error("the resource {url:?} is not usable: {reason}")]
    InvalidResource {
        /// The configured value.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// OAuth metadata must name an authorization server, and none is known.
    #[error(
        "OAuth mode publishes RFC 9728 metadata, which must name the authorization server that \
         issues tokens: add `.authorization_server(\"https://auth.example.com\")`"
    )]
    MissingAuthorizationServer,
    /// An authorization server on plain `http://` beyond loopback.
    #[error(
        "the authorization server {url:?} is plain http on a host other than loopback, so tokens \
         and keys would cross the network in clear: use https, or accept it with \
         `.dangerously_allow(Danger::PlainHttpAuthorizationServer)`"
    )]
    PlainHttpAuthorizationServer {
        /// The URL.
        url: String,
    },
    /// A setting that the mode does not use (it would silently do nothing).
    #[error("`.{setting}()` does not apply to {mode} mode{hint}")]
    NotInMode {
        /// The builder method.
        setting: &'static str,
        /// The mode.
        mode: AuthMode,
        /// How to get what was probably meant.
        hint: &'static str,
    },
    /// A danger accepted in a mode it does not concern.
    #[error("`Danger::{danger:?}` does not concern {mode} mode: remove it")]
    DangerNotInMode {
        /// The danger.
        danger: Danger,
        /// The mode.
        mode: AuthMode,
    },
    /// A tool needs a role, and nothing gives callers roles.
    #[error(
        "tool {tool:?} requires the role {role:?}, but {mode} mode has no source of roles, so the \
         requirement could not be enforced: add `.role_claim(RoleClaim::...)` to read roles from \
         tokens, or remove `min_role`"
    )]
    MinRoleWithoutRoles {
        /// The tool.
        tool: String,
        /// Its `min_role`.
        role: String,
        /// The mode.
        mode: AuthMode,
    },
    /// The metadata path does not start with `/`.
    #[error("the metadata path {0:?} must start with `/`")]
    InvalidMetadataPath(String),
    /// The failed-authentication limits cannot be enforced as set
    /// ([`AuthFailureLimits`](super::AuthFailureLimits)).
    #[error("the failed-authentication limits are not usable: {0}")]
    InvalidAuthFailureLimits(&'static str),
    /// A [`RoleClaim`] maps a value to a role that is not on the ladder.
    #[error(
        "the role claim maps a value to the role {0:?}, which is not on the role ladder, so it          would never match: fix the mapping or the ladder (`.roles(..)`)"
    )]
    UnknownClaimRole(String),
    /// A [`WorkspaceClaim`] grants what the ladder or the workspace names refuse.
    #[error("the workspace claim is not usable: {0}")]
    InvalidWorkspaceClaim(WorkspaceError),
}

/// The credentials of a mode: what it cannot work without.
#[derive(Clone)]
pub(crate) enum Mode {
    None,
    OAuth {
        validator: Option<Arc<dyn TokenValidator>>,
    },
    #[cfg(feature = "builtin-auth")]
    Builtin {
        keys: ApiKeys,
        /// JWTs beside the keys.
        validator: Option<Arc<dyn TokenValidator>>,
    },
    #[cfg(feature = "builtin-auth")]
    Basic {
        users: Arc<dyn UserStore>,
    },
}

/// How the HTTP endpoint is protected. Off by default; stdio is never protected.
///
/// The mode is chosen by the constructor ([`enabled`](Self::enabled) for OAuth,
/// [`builtin`](Self::builtin), [`basic`](Self::basic), [`none`](Self::none)) and carries what it
/// cannot work without; the rest is set with the builder methods. Settings that weaken
/// authorization are only reachable through [`dangerously_allow`](Self::dangerously_allow).
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
/// let server = mcp_server::McpServer::builder("protected").authorization(auth).build()?;
/// # let _ = server;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AuthorizationConfig {
    pub(crate) mode: Mode,
    pub(crate) authorization_servers: Vec<String>,
    pub(crate) required_scopes: Vec<String>,
    pub(crate) metadata_path: String,
    pub(crate) cache_ttl: Duration,
    pub(crate) resource: Option<String>,
    pub(crate) resource_name: Option<String>,
    pub(crate) scope_denial: ScopeDenial,
    pub(crate) filter_tools: bool,
    pub(crate) token_cache_capacity: usize,
    pub(crate) retry_after: Duration,
    #[cfg(feature = "http")]
    pub(crate) dpop: DpopConfig,
    pub(crate) roles: RoleLadder,
    pub(crate) role_claim: Option<RoleClaim>,
    pub(crate) workspace_claim: Option<WorkspaceClaim>,
    pub(crate) api_key_header: Option<HeaderName>,
    pub(crate) known_workspaces: Option<BTreeSet<String>>,
    pub(crate) realm: String,
    pub(crate) audit: Audit,
    pub(crate) dangers: BTreeSet<Danger>,
    #[cfg(feature = "builtin-auth")]
    pub(crate) basic_limits: BasicLimits,
    /// How failed authentications are rate limited.
    #[cfg(feature = "http")]
    pub(crate) auth_failure_limits: AuthFailureLimits,
    /// The budgets' state, made by the first authenticator built from this configuration and
    /// shared by every clone of it (the MCP endpoint and the application's routes spend the
    /// same budgets); a new one whenever the limits are set.
    #[cfg(feature = "http")]
    pub(crate) failure_guard: Arc<OnceLock<Option<Arc<FailureGuard>>>>,
    /// RFC 8693 token exchange for calls to upstream APIs on the caller's behalf.
    #[cfg(feature = "oauth")]
    pub(crate) token_exchange: Option<Arc<TokenExchanger>>,
    /// The first setting given to a mode that does not use it, reported by `check`.
    misuse: Option<AuthConfigError>,
}

impl std::fmt::Debug for AuthorizationConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut f = f.debug_struct("AuthorizationConfig");
        f.field("mode", &self.mode())
            .field("authorization_servers", &self.authorization_servers)
            .field("required_scopes", &self.required_scopes)
            .field("resource", &self.resource)
            .field("scope_denial", &self.scope_denial)
            .field("filter_tools", &self.filter_tools)
            .field("roles", &self.roles)
            .field("dangers", &self.dangers)
            .field("audit", &self.audit);
        #[cfg(feature = "http")]
        f.field("auth_failure_limits", &self.auth_failure_limits);
        f.finish_non_exhaustive()
    }
}

impl AuthorizationConfig {
    fn with_mode(mode: Mode) -> Self {
        AuthorizationConfig {
            mode,
            authorization_servers: Vec::new(),
            required_scopes: Vec::new(),
            metadata_path: "/.well-known/oauth-protected-resource".to_owned(),
            cache_ttl: Duration::from_secs(300),
            resource: None,
            resource_name: None,
            scope_denial: ScopeDenial::ToolError,
            filter_tools: false,
            token_cache_capacity: 10_000,
            retry_after: Duration::from_secs(5),
            #[cfg(feature = "http")]
            dpop: DpopConfig::default(),
            roles: RoleLadder::default(),
            role_claim: None,
            workspace_claim: None,
            api_key_header: Some(HeaderName::from_static("x-api-key")),
            known_workspaces: None,
            realm: "mcp".to_owned(),
            audit: Audit::default(),
            dangers: BTreeSet::new(),
            #[cfg(feature = "builtin-auth")]
            basic_limits: BasicLimits::default(),
            #[cfg(feature = "http")]
            auth_failure_limits: AuthFailureLimits::default(),
            #[cfg(feature = "http")]
            failure_guard: Arc::default(),
            #[cfg(feature = "oauth")]
            token_exchange: None,
            misuse: None,
        }
    }

    /// Authorization on, OAuth mode: an OAuth 2.1 resource server. It needs a
    /// [`validator`](Self::validator) and the public URL of the endpoint
    /// ([`resource`](Self::resource)); `build()` says so when either is missing.
    pub fn enabled() -> Self {
        Self::with_mode(Mode::OAuth { validator: None })
    }

    /// Mode `none`: nobody is asked for anything. For local development only: building an
    /// endpoint logs a warning, and serving it on an address other than loopback is refused
    /// unless [`Danger::UnprotectedNetworkBind`] is accepted.
    pub fn none() -> Self {
        Self::with_mode(Mode::None)
    }

    /// Builtin mode: API keys from `keys` (and JWTs once a [`validator`](Self::validator) is
    /// set). The role ladder is the keys'.
    ///
    /// ```
    /// use mcp_server::auth::{ApiKeys, AuthorizationConfig};
    /// let config = AuthorizationConfig::builtin(ApiKeys::in_memory()).required_scopes(["mcp"]);
    /// # let _ = config;
    /// ```
    #[cfg(feature = "builtin-auth")]
    pub fn builtin(keys: ApiKeys) -> Self {
        let mut config = Self::with_mode(Mode::Builtin {
            validator: None,
            keys: keys.clone(),
        });
        config.roles = keys.role_ladder().clone();
        config
    }

    /// Basic mode: users and Argon2id password hashes from `users`.
    #[cfg(feature = "builtin-auth")]
    pub fn basic(users: impl UserStore) -> Self {
        Self::basic_shared(Arc::new(users))
    }

    /// Basic mode with a shared user store.
    #[cfg(feature = "builtin-auth")]
    pub fn basic_shared(users: Arc<dyn UserStore>) -> Self {
        Self::with_mode(Mode::Basic { users })
    }

    /// The mode.
    pub fn mode(&self) -> AuthMode {
        match self.mode {
            Mode::None => AuthMode::None,
            Mode::OAuth { .. } => AuthMode::OAuth,
            #[cfg(feature = "builtin-auth")]
            Mode::Builtin { .. } => AuthMode::Builtin,
            #[cfg(feature = "builtin-auth")]
            Mode::Basic { .. } => AuthMode::Basic,
        }
    }

    /// Whether authorization is enforced (any mode but `none`).
    pub fn is_enabled(&self) -> bool {
        !matches!(self.mode, Mode::None)
    }

    /// Whether `danger` was accepted with [`dangerously_allow`](Self::dangerously_allow).
    pub fn allows(&self, danger: Danger) -> bool {
        self.dangers.contains(&danger)
    }

    /// Remembers the first setting given to a mode that ignores it.
    fn misused(&mut self, setting: &'static str, hint: &'static str) {
        if self.misuse.is_none() {
            self.misuse = Some(AuthConfigError::NotInMode {
                setting,
                mode: self.mode(),
                hint,
            });
        }
    }

    /// Sets the token validator: OAuth mode's access tokens, or builtin mode's JWTs beside the
    /// API keys.
    #[must_use]
    pub fn validator(self, validator: impl TokenValidator) -> Self {
        self.validator_shared(Arc::new(validator))
    }

    /// Sets a shared token validator.
    #[must_use]
    pub fn validator_shared(mut self, validator: Arc<dyn TokenValidator>) -> Self {
        match &mut self.mode {
            Mode::OAuth { validator: v } => *v = Some(validator),
            #[cfg(feature = "builtin-auth")]
            Mode::Builtin { validator: v, .. } => *v = Some(validator),
            _ => self.misused(
                "validator",
                ": use AuthorizationConfig::enabled() for OAuth",
            ),
        }
        self
    }

    /// The public URL of the MCP endpoint, exactly as clients reach it (behind a proxy, the
    /// public one): the resource identifier access tokens must name as their audience
    /// (RFC 8707), the `resource` of the RFC 9728 metadata, and the base of DPoP's `htu`.
    /// Required whenever tokens are checked; never taken from a request.
    #[must_use]
    pub fn resource(mut self, url: impl Into<String>) -> Self {
        self.resource = Some(url.into().trim_end_matches('/').to_owned());
        self
    }

    /// `resource_name` in the metadata (default: the server's name).
    #[must_use]
    pub fn resource_name(mut self, name: impl Into<String>) -> Self {
        self.resource_name = Some(name.into());
        self
    }

    /// Trusts another authorization server: its issuer URL is published in the metadata. When
    /// none is named, the validator's issuer is published.
    #[must_use]
    pub fn authorization_server(mut self, issuer: impl Into<String>) -> Self {
        self.authorization_servers.push(issuer.into());
        self
    }

    /// Sets the scopes every request needs (403 `insufficient_scope` without them).
    #[must_use]
    pub fn required_scopes<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        scopes: I,
    ) -> Self {
        self.required_scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Path of the RFC 9728 metadata (default `/.well-known/oauth-protected-resource`); it is
    /// served there and at that path followed by the endpoint's path.
    #[must_use]
    pub fn metadata_path(mut self, path: impl Into<String>) -> Self {
        self.metadata_path = path.into();
        self
    }

    /// `Cache-Control: max-age` of the metadata (default 300 s).
    #[must_use]
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    /// How many verified tokens are remembered until they expire (default 10 000).
    #[must_use]
    pub fn token_cache_capacity(mut self, capacity: usize) -> Self {
        self.token_cache_capacity = capacity;
        self
    }

    /// `Retry-After` of 503 answers (an unreachable authorization server, a store that does not
    /// answer, a saturated check; default 5 s).
    #[must_use]
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.retry_after = after;
        self
    }

    /// Sets how DPoP-bound tokens are accepted (OAuth mode, and builtin mode's JWTs).
    #[cfg(feature = "oauth")]
    #[must_use]
    pub fn dpop(mut self, dpop: DpopConfig) -> Self {
        if !self.takes_tokens() && dpop.mode != DpopMode::Off {
            self.misused(
                "dpop",
                ": DPoP binds access tokens, which this mode does not take",
            );
        }
        self.dpop = dpop;
        self
    }

    /// Lets tools call upstream APIs on behalf of the caller: handlers trade the caller's access
    /// token for one of the upstream's own at the authorization server (RFC 8693 token
    /// exchange) with [`Context::upstream_token`](crate::Context::upstream_token). Needs a mode
    /// that checks access tokens (OAuth, or builtin mode with a validator): `build()` refuses
    /// it elsewhere, and refuses a token endpoint on plain `http://` beyond loopback unless
    /// [`Danger::PlainHttpAuthorizationServer`] is accepted.
    ///
    /// ```
    /// use mcp_server::auth::{
    ///     AuthorizationConfig, JwtValidator, JwtValidatorConfig, TokenExchangeConfig,
    ///     TokenExchanger,
    /// };
    /// # fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = "https://auth.example.com";
    /// let exchange = TokenExchangeConfig::new(format!("{issuer}/token"), "mcp-front", "secret");
    /// let auth = AuthorizationConfig::enabled()
    ///     .authorization_server(issuer)
    ///     .resource("https://mcp.example.com/mcp")
    ///     .validator(JwtValidator::new(JwtValidatorConfig::new(issuer, ""))?)
    ///     .token_exchange(TokenExchanger::new(exchange)?);
    /// let server = mcp_server::McpServer::builder("front").authorization(auth).build()?;
    /// # let _ = server;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "oauth")]
    #[must_use]
    pub fn token_exchange(mut self, exchanger: TokenExchanger) -> Self {
        if !self.takes_tokens() {
            self.misused(
                "token_exchange",
                ": only OAuth access tokens can be exchanged (RFC 8693)",
            );
        }
        self.token_exchange = Some(Arc::new(exchanger));
        self
    }

    /// Accepts only DPoP-bound tokens (`dpop_required`): the same as
    /// `.dpop(DpopConfig::required())`.
    #[cfg(feature = "oauth")]
    #[must_use]
    pub fn dpop_required(self) -> Self {
        self.dpop(DpopConfig::required())
    }

    /// Answers missing tool scopes (or roles) with the step-up 403 instead of a tool error.
    #[must_use]
    pub fn step_up(mut self) -> Self {
        self.scope_denial = ScopeDenial::StepUp;
        self
    }

    /// Hides from `tools/list` the tools the caller cannot call, by scopes and role (lists
    /// become `private`).
    #[must_use]
    pub fn filter_tools(mut self) -> Self {
        self.filter_tools = true;
        self
    }

    /// Declares the role ladder `min_role` is checked against (the API keys' too, in builtin
    /// mode; default: Dagu's `viewer < operator < developer < manager < admin`).
    #[must_use]
    pub fn roles(mut self, roles: RoleLadder) -> Self {
        #[cfg(feature = "builtin-auth")]
        if let Mode::Builtin { keys, .. } = &mut self.mode {
            *keys = keys.clone().roles(roles.clone());
        }
        self.roles = roles;
        self
    }

    /// Where tokens (JWTs and introspection answers) carry their role. In OAuth mode this is
    /// the source of roles that `#[tool(min_role = ..)]` needs. Deny by default: a token that
    /// gives no role on the ladder (no claim, only unmapped values, a malformed claim) holds the
    /// **lowest** role, never more. Without it, builtin mode reads the `role` claim, and a token
    /// without one holds no role.
    ///
    /// ```
    /// use mcp_server::auth::{AuthorizationConfig, RoleClaim};
    /// let auth = AuthorizationConfig::enabled()
    ///     .role_claim(RoleClaim::keycloak_realm().map("mcp-operator", "operator"));
    /// # let _ = auth;
    /// ```
    #[must_use]
    pub fn role_claim(mut self, claim: RoleClaim) -> Self {
        if matches!(self.mode(), AuthMode::None | AuthMode::Basic) {
            self.misused("role_claim", ": only tokens carry role claims");
        }
        self.role_claim = Some(claim);
        self
    }

    /// Where tokens carry their workspaces (see [`WorkspaceClaim`]). Deny by default: a token
    /// sees only the workspaces its claim grants (none when it grants none), and outside them it
    /// holds its own role (from [`role_claim`](Self::role_claim), else the lowest role). Also a
    /// source of roles for `#[tool(min_role = ..)]` in OAuth mode.
    ///
    /// ```
    /// use mcp_server::auth::{AuthorizationConfig, RoleClaim, WorkspaceClaim};
    /// # fn f() -> Result<(), mcp_server::auth::WorkspaceError> {
    /// let auth = AuthorizationConfig::enabled()
    ///     .role_claim(RoleClaim::okta_groups().map("mcp-admins", "admin"))
    ///     .workspace_claim(WorkspaceClaim::new("groups").pattern("mcp:{workspace}:{role}")?);
    /// # let _ = auth; Ok(()) }
    /// ```
    #[must_use]
    pub fn workspace_claim(mut self, claim: WorkspaceClaim) -> Self {
        if matches!(self.mode(), AuthMode::None | AuthMode::Basic) {
            self.misused("workspace_claim", ": only tokens carry workspace claims");
        }
        self.workspace_claim = Some(claim);
        self
    }

    /// The header API keys may come in besides `Authorization: Bearer` (default `X-API-Key`;
    /// `None`: only `Authorization`). Builtin mode.
    #[must_use]
    pub fn api_key_header(mut self, name: Option<HeaderName>) -> Self {
        if self.mode() != AuthMode::Builtin {
            self.misused("api_key_header", ": API keys are builtin mode's");
        }
        self.api_key_header = name;
        self
    }

    /// Bounds the password checks of Basic mode (concurrent Argon2id checks, how long a request
    /// waits for a slot before 503, how many verified passwords are remembered; see
    /// [`BasicLimits`] for the defaults).
    #[cfg(feature = "builtin-auth")]
    #[must_use]
    pub fn basic_limits(mut self, limits: BasicLimits) -> Self {
        if !matches!(self.mode, Mode::Basic { .. }) {
            self.misused("basic_limits", ": passwords are Basic mode's");
        }
        self.basic_limits = limits;
        self
    }

    /// Sets how failed authentications are rate limited, per client address and per credential
    /// (on by default; see [`AuthFailureLimits`] for the semantics and the defaults). Over
    /// budget, requests get 429 with `Retry-After` before any expensive check. Turning it off
    /// takes [`AuthFailureLimits::disabled`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use mcp_server::auth::{AuthFailureLimits, AuthorizationConfig, MemoryStore};
    /// let config = AuthorizationConfig::basic(MemoryStore::new()).auth_failure_limits(
    ///     AuthFailureLimits::default().per_credential(5, Duration::from_secs(900)),
    /// );
    /// # let _ = config;
    /// ```
    #[cfg(feature = "http")]
    #[must_use]
    pub fn auth_failure_limits(mut self, limits: AuthFailureLimits) -> Self {
        if !self.is_enabled() {
            self.misused(
                "auth_failure_limits",
                ": mode `none` authenticates nobody, so no authentication can fail",
            );
        }
        self.auth_failure_limits = limits;
        self.failure_guard = Arc::default();
        self
    }

    /// Declares the workspaces that exist; selecting another one is "not found" for everyone.
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

    /// Accepts one setting that weakens authorization (see [`Danger`]). Each accepted danger is
    /// logged at WARN when an endpoint is built; one that does not concern the mode is refused
    /// by `build()`.
    ///
    /// ```
    /// use mcp_server::auth::{ApiKeys, AuthorizationConfig, Danger};
    /// // Clients that cannot send headers may put their key in `?token=`.
    /// let config = AuthorizationConfig::builtin(ApiKeys::in_memory())
    ///     .dangerously_allow(Danger::QueryToken);
    /// # let _ = config;
    /// ```
    #[must_use]
    pub fn dangerously_allow(mut self, danger: Danger) -> Self {
        self.dangers.insert(danger);
        self
    }

    // ----- what the rest of the crate reads -----

    /// The validator of access tokens, when this mode checks them.
    pub(crate) fn token_validator(&self) -> Option<&Arc<dyn TokenValidator>> {
        match &self.mode {
            Mode::OAuth { validator } => validator.as_ref(),
            #[cfg(feature = "builtin-auth")]
            Mode::Builtin { validator, .. } => validator.as_ref(),
            _ => None,
        }
    }

    /// Whether this mode can take access tokens (OAuth, and builtin mode's JWTs).
    #[cfg(feature = "oauth")]
    fn takes_tokens(&self) -> bool {
        matches!(self.mode(), AuthMode::OAuth | AuthMode::Builtin)
    }

    /// The token exchange of tools' upstream calls, when configured.
    #[cfg(feature = "oauth")]
    pub(crate) fn token_exchanger(&self) -> Option<&Arc<TokenExchanger>> {
        self.token_exchange.as_ref()
    }

    /// The API keys of builtin mode.
    #[cfg(feature = "builtin-auth")]
    pub(crate) fn api_keys(&self) -> Option<&ApiKeys> {
        match &self.mode {
            Mode::Builtin { keys, .. } => Some(keys),
            _ => None,
        }
    }

    /// Whether this mode checks access tokens (and so has a resource, metadata and challenges
    /// naming it).
    /// What requests depend on that can be down, as named readiness checks: the token
    /// validator, the built-in credential stores, the DPoP replay cache (when DPoP is on).
    #[cfg(feature = "http")]
    pub(crate) fn readiness_checks(&self) -> Vec<(&'static str, ReadinessFn)> {
        let mut checks: Vec<(&'static str, ReadinessFn)> = Vec::new();
        if let Some(validator) = self.token_validator() {
            checks.push((
                "token_validator",
                readiness_of(validator, <dyn TokenValidator>::readiness),
            ));
        }
        #[cfg(feature = "builtin-auth")]
        match &self.mode {
            Mode::Builtin { keys, .. } => {
                checks.push((
                    "api_keys",
                    readiness_of(keys.store(), <dyn ApiKeyStore>::readiness),
                ));
                if let Some(users) = keys.users() {
                    checks.push(("users", readiness_of(users, <dyn UserStore>::readiness)));
                }
            }
            Mode::Basic { users } => {
                checks.push(("users", readiness_of(users, <dyn UserStore>::readiness)));
            }
            _ => {}
        }
        if self.checks_tokens() && self.dpop.mode != super::dpop::DpopMode::Off {
            checks.push((
                "replay_cache",
                readiness_of(&self.dpop.replay_cache, <dyn ReplayCache>::readiness),
            ));
        }
        checks
    }

    pub(crate) fn checks_tokens(&self) -> bool {
        self.token_validator().is_some()
    }

    /// The authorization servers the metadata names: the configured ones, else the validator's
    /// issuer.
    pub(crate) fn published_authorization_servers(&self) -> Vec<String> {
        if !self.authorization_servers.is_empty() {
            return self.authorization_servers.clone();
        }
        self.token_validator()
            .and_then(|v| v.issuer())
            .map(|i| vec![i.to_owned()])
            .unwrap_or_default()
    }

    /// Whether `min_role` is enforced: builtin and Basic modes always (every credential has a
    /// role, or none and is refused); OAuth mode once a [`role_claim`](Self::role_claim) or a
    /// [`workspace_claim`](Self::workspace_claim) says where tokens carry roles.
    pub(crate) fn roles_in_use(&self) -> bool {
        match self.mode() {
            AuthMode::Builtin | AuthMode::Basic => true,
            AuthMode::OAuth => self.role_claim.is_some() || self.workspace_claim.is_some(),
            AuthMode::None => false,
        }
    }

    /// Sets the role and workspaces of a validated token from its claims: with a role or
    /// workspace claim configured, the claimed role or else the lowest (deny by default), and
    /// the workspaces the workspace claim grants; without, builtin mode's `role` claim if it
    /// names a role on the ladder.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn token_roles(&self, ctx: AuthContext) -> AuthContext {
        let configured = self.role_claim.is_some() || self.workspace_claim.is_some();
        let role = match (&self.role_claim, self.mode()) {
            (Some(c), _) => Some(c.role_or_lowest(&ctx.claims, &self.roles)),
            (None, _) if configured => Some(self.roles.lowest().to_owned()),
            (None, AuthMode::Builtin) => RoleClaim::default().role_of(&ctx.claims, &self.roles),
            (None, _) => None,
        };
        let Some(role) = role else {
            return ctx;
        };
        let workspaces = self
            .workspace_claim
            .as_ref()
            .map(|w| w.access_of(&ctx.claims, &role, &self.roles));
        let mut ctx = ctx.with_role(role);
        if let Some(workspaces) = workspaces {
            ctx.workspaces = workspaces;
        }
        ctx
    }

    /// Whether `fail_open` is on.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn fail_open(&self) -> bool {
        self.allows(Danger::FailOpen)
    }

    /// Whether `?token=` is accepted.
    #[cfg(feature = "builtin-auth")]
    pub(crate) fn query_token(&self) -> bool {
        self.allows(Danger::QueryToken)
    }

    /// Checks everything the types cannot: what `build()` refuses.
    pub(crate) fn check(&self) -> Result<(), AuthConfigError> {
        if let Some(e) = &self.misuse {
            return Err(e.clone());
        }
        let mode = self.mode();
        for danger in &self.dangers {
            let concerns = match danger {
                Danger::FailOpen | Danger::PlainHttpAuthorizationServer => self.checks_tokens(),
                Danger::QueryToken => mode == AuthMode::Builtin,
                Danger::UnprotectedNetworkBind => mode == AuthMode::None,
            };
            if !concerns {
                return Err(AuthConfigError::DangerNotInMode {
                    danger: *danger,
                    mode,
                });
            }
        }
        if !self.metadata_path.starts_with('/') {
            return Err(AuthConfigError::InvalidMetadataPath(
                self.metadata_path.clone(),
            ));
        }
        if let Mode::OAuth { validator: None } = self.mode {
            return Err(AuthConfigError::MissingValidator);
        }
        if let Some(unknown) = self
            .role_claim
            .as_ref()
            .and_then(|c| c.unknown_roles(&self.roles).first().copied())
        {
            return Err(AuthConfigError::UnknownClaimRole(unknown.to_owned()));
        }
        if let Some(w) = &self.workspace_claim {
            w.check(&self.roles)
                .map_err(AuthConfigError::InvalidWorkspaceClaim)?;
        }
        #[cfg(feature = "http")]
        self.auth_failure_limits
            .check()
            .map_err(AuthConfigError::InvalidAuthFailureLimits)?;
        #[cfg(feature = "oauth")]
        self.check_token_exchange()?;
        if !self.checks_tokens() {
            return Ok(());
        }
        match &self.resource {
            None => return Err(AuthConfigError::MissingResource { mode }),
            Some(url) => check_resource(url)?,
        }
        let servers = self.published_authorization_servers();
        if mode == AuthMode::OAuth && servers.is_empty() {
            return Err(AuthConfigError::MissingAuthorizationServer);
        }
        if !self.allows(Danger::PlainHttpAuthorizationServer) {
            if let Some(url) = servers.iter().find(|u| is_remote_plain_http(u)) {
                return Err(AuthConfigError::PlainHttpAuthorizationServer { url: url.clone() });
            }
        }
        Ok(())
    }

    /// Token exchange needs access tokens to exchange, and a token endpoint it may send them to.
    #[cfg(feature = "oauth")]
    fn check_token_exchange(&self) -> Result<(), AuthConfigError> {
        let Some(exchange) = &self.token_exchange else {
            return Ok(());
        };
        if !self.checks_tokens() {
            return Err(AuthConfigError::NotInMode {
                setting: "token_exchange",
                mode: self.mode(),
                hint: ", which checks no access tokens: add a JWT validator",
            });
        }
        let url = &exchange.config().token_endpoint;
        if is_remote_plain_http(url) && !self.allows(Danger::PlainHttpAuthorizationServer) {
            return Err(AuthConfigError::PlainHttpAuthorizationServer { url: url.clone() });
        }
        Ok(())
    }

    /// Checks that a tool's `min_role` can be enforced here.
    pub(crate) fn check_min_role(&self, tool: &str, role: &str) -> Result<(), AuthConfigError> {
        if self.is_enabled() && !self.roles_in_use() {
            return Err(AuthConfigError::MinRoleWithoutRoles {
                tool: tool.to_owned(),
                role: role.to_owned(),
                mode: self.mode(),
            });
        }
        Ok(())
    }

    /// Logs what weakens this configuration, once per endpoint built from it.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn warn_dangers(&self, path: &str) {
        if !self.is_enabled() {
            tracing::warn!(
                path,
                "authorization mode `none`: every request to this endpoint is accepted without \
                 credentials. Use it for local development only."
            );
        }
        for danger in &self.dangers {
            tracing::warn!(
                path,
                danger = danger.as_str(),
                "dangerous setting accepted: {}",
                danger.risk()
            );
        }
        #[cfg(feature = "http")]
        if self.is_enabled() && !self.auth_failure_limits.is_enabled() {
            tracing::warn!(
                path,
                "failed authentications are not rate limited (AuthFailureLimits::disabled()): \
                 passwords, keys and tokens can be guessed as fast as the server answers"
            );
        }
    }
}

impl Default for AuthorizationConfig {
    /// Mode `none`.
    fn default() -> Self {
        Self::none()
    }
}

/// An absolute `http(s)` URL with a host, no query and no fragment.
fn check_resource(url: &str) -> Result<(), AuthConfigError> {
    let invalid = |reason| AuthConfigError::InvalidResource {
        url: url.to_owned(),
        reason,
    };
    if url.contains(['?', '#']) {
        return Err(invalid("a resource has no query or fragment (RFC 8707 §2)"));
    }
    let uri: http::Uri = url.parse().map_err(|_| invalid("it is not a URL"))?;
    match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("https") || s.eq_ignore_ascii_case("http") => {}
        _ => return Err(invalid("it must be an absolute http or https URL")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(invalid("it must not carry user information"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_are_absolute_urls_without_query_or_fragment() {
        assert!(check_resource("https://mcp.example.com/mcp").is_ok());
        assert!(check_resource("http://127.0.0.1:8000/mcp").is_ok());
        for bad in [
            "mcp.example.com/mcp",
            "/mcp",
            "ftp://h/mcp",
            "https://h/mcp?x=1",
            "https://h/mcp#f",
            "https://user@h/mcp",
            "",
        ] {
            assert!(check_resource(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn settings_a_mode_ignores_are_refused() {
        let e = AuthorizationConfig::none()
            .role_claim(RoleClaim::default())
            .check();
        assert!(matches!(
            e,
            Err(AuthConfigError::NotInMode {
                setting: "role_claim",
                ..
            })
        ));
        let e = AuthorizationConfig::none()
            .dangerously_allow(Danger::FailOpen)
            .check();
        assert!(matches!(e, Err(AuthConfigError::DangerNotInMode { .. })));
        assert_eq!(
            AuthorizationConfig::enabled().check(),
            Err(AuthConfigError::MissingValidator)
        );
    }
}
