//! What the token exchange client is configured with: the token endpoint, this server's client
//! credentials and how they are sent, and the bounds of each call, the cache and concurrency.

use std::sync::Arc;
use std::time::Duration;

/// `grant_type` of a token exchange (RFC 8693 §2.1).
pub const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// The token type of an OAuth 2.0 access token (RFC 8693 §3): the `subject_token_type` sent,
/// the `requested_token_type` asked for and the `issued_token_type` expected.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// A client secret. `Debug` prints `<redacted>`; there is no `Display`.
///
/// ```
/// use mcp_server::auth::ClientSecret;
/// let secret = ClientSecret::new("s3cr3t-value");
/// assert_eq!(format!("{secret:?}"), "ClientSecret(<redacted>)");
/// ```
#[derive(Clone)]
pub struct ClientSecret(Arc<str>);

impl ClientSecret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        ClientSecret(Arc::from(secret.into()))
    }

    /// The secret, for the request that carries it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret(<redacted>)")
    }
}

impl From<String> for ClientSecret {
    fn from(secret: String) -> Self {
        ClientSecret::new(secret)
    }
}

impl From<&str> for ClientSecret {
    fn from(secret: &str) -> Self {
        ClientSecret::new(secret)
    }
}

/// How this server authenticates to the token endpoint (RFC 6749 §2.3.1).
///
/// ```
/// use mcp_server::auth::{ClientAuthMethod, TokenExchangeConfig};
/// let config = TokenExchangeConfig::new("https://as.example/token", "front", "secret");
/// assert_eq!(config.client_auth, ClientAuthMethod::ClientSecretBasic);
/// assert_eq!(config.client_secret_post().client_auth, ClientAuthMethod::ClientSecretPost);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientAuthMethod {
    /// HTTP Basic with the client id and secret, each form-urlencoded first
    /// (`client_secret_basic`, the default).
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body (`client_secret_post`).
    ClientSecretPost,
}

/// Settings of a [`TokenExchanger`](super::TokenExchanger).
///
/// ```
/// use std::time::Duration;
/// use mcp_server::auth::TokenExchangeConfig;
/// let config = TokenExchangeConfig::new("https://auth.example.com/token", "mcp-front", "secret")
///     .http_timeout(Duration::from_secs(3))
///     .cache(1_000, Duration::from_secs(30));
/// assert!(!format!("{config:?}").contains("secret\""));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct TokenExchangeConfig {
    /// The token endpoint (`token_endpoint` of the authorization server's metadata).
    pub token_endpoint: String,
    /// The client id this server is registered under.
    pub client_id: String,
    /// Its secret.
    pub client_secret: ClientSecret,
    /// How the client authenticates (default HTTP Basic).
    pub client_auth: ClientAuthMethod,
    /// Timeout of each exchange, reading the answer included (default 5 s).
    pub http_timeout: Duration,
    /// The largest answer read (default 1 MiB); a larger one is refused unread past the bound.
    pub max_response_bytes: usize,
    /// How many exchanged tokens are remembered at most (default 10 000; zero caches none).
    pub cache_capacity: usize,
    /// How long before its expiry an exchanged token stops being served from the cache
    /// (default 30 s; at most half its lifetime). A token without `expires_in` is not cached.
    pub refresh_before: Duration,
    /// How many exchanges may be in flight at once (default 32, at least 1).
    pub max_concurrent: usize,
    /// How long an exchange waits for a free slot before it is refused as busy (default 1 s).
    pub max_wait: Duration,
}

impl std::fmt::Debug for TokenExchangeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenExchangeConfig")
            .field("token_endpoint", &self.token_endpoint)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("client_auth", &self.client_auth)
            .field("http_timeout", &self.http_timeout)
            .field("cache_capacity", &self.cache_capacity)
            .finish_non_exhaustive()
    }
}

impl TokenExchangeConfig {
    /// Exchanges at `token_endpoint`, authenticated as `client_id` with `client_secret` (HTTP
    /// Basic).
    pub fn new(
        token_endpoint: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<ClientSecret>,
    ) -> Self {
        TokenExchangeConfig {
            token_endpoint: token_endpoint.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            client_auth: ClientAuthMethod::ClientSecretBasic,
            http_timeout: Duration::from_secs(5),
            max_response_bytes: crate::auth::backend::DEFAULT_MAX_RESPONSE_BYTES,
            cache_capacity: 10_000,
            refresh_before: Duration::from_secs(30),
            max_concurrent: 32,
            max_wait: Duration::from_secs(1),
        }
    }

    /// Sends the client id and secret in the form body (`client_secret_post`) instead of HTTP
    /// Basic.
    #[must_use]
    pub fn client_secret_post(mut self) -> Self {
        self.client_auth = ClientAuthMethod::ClientSecretPost;
        self
    }

    /// Sets the timeout of each exchange (default 5 s).
    #[must_use]
    pub fn http_timeout(mut self, timeout: Duration) -> Self {
        self.http_timeout = timeout;
        self
    }

    /// Sets the largest answer read (default 1 MiB).
    #[must_use]
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Remembers at most `capacity` exchanged tokens, each until `refresh_before` its expiry
    /// (at most half its lifetime before); zero capacity caches nothing.
    #[must_use]
    pub fn cache(mut self, capacity: usize, refresh_before: Duration) -> Self {
        self.cache_capacity = capacity;
        self.refresh_before = refresh_before;
        self
    }

    /// Allows at most `max_concurrent` exchanges in flight; an exchange waits at most
    /// `max_wait` for a slot, then is refused as [`ExchangeError::Busy`](super::ExchangeError::Busy).
    #[must_use]
    pub fn concurrency(mut self, max_concurrent: usize, max_wait: Duration) -> Self {
        self.max_concurrent = max_concurrent.max(1);
        self.max_wait = max_wait;
        self
    }
}
