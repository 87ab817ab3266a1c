//! [`AuthorizationConfig`]: whether and how the HTTP endpoint is protected.

use std::sync::Arc;
use std::time::Duration;

use super::dpop::DpopConfig;
use super::validator::TokenValidator;

/// What happens when a caller lacks a scope one tool needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ScopeDenial {
    /// A tool error (`isError: true`) with the documented text:
    /// `Tool "delete_file" requires scopes: ['files:delete']. Missing: ['files:delete']`.
    #[default]
    ToolError,
    /// The spec's step-up challenge: HTTP 403 `insufficient_scope` naming every scope the call
    /// needs, for clients that can re-authorize (AZ-14).
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
    /// How a missing tool scope is reported.
    pub scope_denial: ScopeDenial,
    /// Hide from `tools/list` the tools the caller cannot call (lists become `private`).
    pub filter_tools: bool,
    /// How many verified tokens are remembered until they expire (default 10 000).
    pub token_cache_capacity: usize,
    /// Seconds suggested in `Retry-After` when the authorization server is down (default 5).
    pub retry_after: u64,
    /// Checks access tokens.
    pub validator: Option<Arc<dyn TokenValidator>>,
    /// DPoP (RFC 9449): off, allowed or required, and how proofs are checked.
    pub dpop: DpopConfig,
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
        }
    }
}

impl AuthorizationConfig {
    /// Authorization on. Without a validator every request is refused (fail closed).
    pub fn enabled() -> Self {
        AuthorizationConfig {
            enabled: true,
            ..Default::default()
        }
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
