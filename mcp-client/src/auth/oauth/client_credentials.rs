//! [`ClientCredentialsAuth`]: the OAuth client credentials grant, for a client acting on its
//! own behalf.

use super::discovery::Discovery;
use super::engine::{Engine, Grant, State, base_config};
use super::strategy::oauth_strategy;
use super::token_endpoint::Token;
use crate::auth::AuthError;
use crate::auth::jose::DpopKey;

/// The OAuth client credentials grant with everything discovered from the server's first 401:
/// protected-resource metadata, authorization-server metadata, then `POST token_endpoint` with
/// `grant_type=client_credentials`, `resource` (RFC 8707) and the scopes, authenticated with the
/// client secret (Basic or in the body, as the metadata allows) or a `private_key_jwt`
/// assertion. The token is cached until shortly before it expires.
///
/// The credentials belong to one authorization server, named with them: they are only ever sent
/// to that issuer. A server whose metadata names another authorization server gets
/// [`OAuthError::UntrustedIssuer`](crate::auth::OAuthError::UntrustedIssuer), and nothing is sent
/// to it; when it lists several, the named one is used. The issuer, its metadata and its token
/// endpoint must be `https` (plain `http` only on loopback, or with
/// [`dangerously_allow_http`](Self::dangerously_allow_http)).
///
/// ```no_run
/// use mcp_client::auth::ClientCredentialsAuth;
/// # async fn run() -> Result<(), mcp_client::Error> {
/// let auth = ClientCredentialsAuth::new("https://auth.example.com", "my-service", "s3cret")
///     .scopes(["tools:call"]);
/// let client = mcp_client::McpClient::connect("https://mcp.example.com/mcp", auth).await?;
/// # Ok(()) }
/// ```
pub struct ClientCredentialsAuth {
    engine: Engine,
}

oauth_strategy!(ClientCredentialsAuth);

impl ClientCredentialsAuth {
    /// A confidential client with `client_id` and `client_secret`, registered with the
    /// authorization server `issuer` (its issuer identifier, e.g. `https://auth.example.com`).
    pub fn new(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        let mut config = base_config(Grant::ClientCredentials);
        config.issuer = Some(issuer.into());
        config.client_id = Some(client_id.into());
        config.client_secret = Some(client_secret.into());
        ClientCredentialsAuth {
            engine: Engine::new(config),
        }
    }

    /// A client registered with the authorization server `issuer`, authenticating with an ES256
    /// `private_key_jwt` assertion (RFC 7523) signed by `key` (`iss` = `sub` = `client_id`,
    /// `aud` = the issuer).
    pub fn private_key_jwt(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        key: DpopKey,
    ) -> Self {
        let mut config = base_config(Grant::ClientCredentials);
        config.issuer = Some(issuer.into());
        config.client_id = Some(client_id.into());
        config.signing_key = Some(key);
        ClientCredentialsAuth {
            engine: Engine::new(config),
        }
    }
}

impl Engine {
    /// `grant_type=client_credentials` with `scope` and `resource`, as the configured client.
    pub(super) async fn obtain_client_credentials(
        &self,
        st: &mut State,
        d: &Discovery,
        scope: String,
    ) -> Result<Token, AuthError> {
        let mut params: Vec<(&str, String)> = Vec::new();
        let client = self.client(st, d).await?;
        params.push(("grant_type", "client_credentials".into()));
        if !scope.is_empty() {
            params.push(("scope", scope));
        }
        params.push(("resource", d.resource.clone()));
        self.token_request(d, Some(&client), params).await
    }
}
