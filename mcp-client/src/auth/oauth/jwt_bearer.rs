//! [`JwtBearerAuth`]: the RFC 7523 JWT-bearer grant, with the assertion from an
//! [`AssertionProvider`].

use std::future::Future;
use std::sync::Arc;

use super::discovery::Discovery;
use super::engine::{Engine, Grant, State, base_config};
use super::strategy::oauth_strategy;
use super::token_endpoint::Token;
use crate::BoxFuture;
use crate::auth::AuthError;

/// What a JWT-bearer assertion is for: handed to an [`AssertionProvider`].
#[derive(Debug, Clone)]
pub struct AssertionContext {
    /// The authorization server's issuer (the assertion's audience).
    pub issuer: String,
    /// The RFC 8707 resource the token is for.
    pub resource: String,
    /// The scopes about to be requested.
    pub scopes: Vec<String>,
    /// The HTTP client of the flow (no redirects followed).
    pub http: reqwest::Client,
}

/// Produces the assertion of an RFC 7523 JWT-bearer grant (a workload identity token, an
/// identity assertion from an enterprise IdP, ...). A closure `Fn(AssertionContext) -> Future`
/// works.
pub trait AssertionProvider: Send + Sync + 'static {
    /// The assertion (a JWT) for `context`.
    fn assertion(&self, context: AssertionContext)
    -> BoxFuture<'static, Result<String, AuthError>>;
}

impl<F, Fut> AssertionProvider for F
where
    F: Fn(AssertionContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<String, AuthError>> + Send + 'static,
{
    fn assertion(
        &self,
        context: AssertionContext,
    ) -> BoxFuture<'static, Result<String, AuthError>> {
        Box::pin(self(context))
    }
}

/// The RFC 7523 JWT-bearer grant, with the same discovery as [`ClientCredentialsAuth`]: the
/// assertion comes from an [`AssertionProvider`] (a workload identity token, an identity
/// assertion exchanged at an enterprise IdP, ...).
///
/// The provider is told the issuer the assertion is for ([`AssertionContext::issuer`]); a
/// provider whose assertions only suit one authorization server should refuse any other. With a
/// [`client`](Self::client) the strategy is pinned to that client's authorization server.
///
/// [`ClientCredentialsAuth`]: super::ClientCredentialsAuth
pub struct JwtBearerAuth {
    engine: Engine,
}

oauth_strategy!(JwtBearerAuth);

impl JwtBearerAuth {
    /// Assertions from `provider`; the client does not authenticate itself unless
    /// [`client`](Self::client) is set.
    pub fn new(provider: impl AssertionProvider) -> Self {
        JwtBearerAuth {
            engine: Engine::new(base_config(Grant::JwtBearer(Arc::new(provider)))),
        }
    }

    /// Authenticates the client at the token endpoint too (`client_secret` optional), as a client
    /// registered with the authorization server `issuer`: the strategy then only ever talks to
    /// `issuer` (another one is refused with
    /// [`OAuthError::UntrustedIssuer`](crate::auth::OAuthError::UntrustedIssuer)).
    #[must_use]
    pub fn client(
        mut self,
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: Option<String>,
    ) -> Self {
        let c = self.config_mut();
        c.issuer = Some(issuer.into());
        c.client_id = Some(client_id.into());
        c.client_secret = client_secret;
        self
    }
}

impl Engine {
    /// `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` with the provider's assertion,
    /// `scope` and `resource`; the client authenticates only when one is configured.
    pub(super) async fn obtain_jwt_bearer(
        &self,
        st: &mut State,
        d: &Discovery,
        scope: String,
        provider: &dyn AssertionProvider,
    ) -> Result<Token, AuthError> {
        let mut params: Vec<(&str, String)> = Vec::new();
        let assertion = provider
            .assertion(AssertionContext {
                issuer: d.issuer.clone(),
                resource: d.resource.clone(),
                scopes: st.scopes.clone(),
                http: self.config.http.clone(),
            })
            .await?;
        let client = match &self.config.client_id {
            Some(_) => Some(self.client(st, d).await?),
            None => None,
        };
        params.push((
            "grant_type",
            "urn:ietf:params:oauth:grant-type:jwt-bearer".into(),
        ));
        params.push(("assertion", assertion));
        if !scope.is_empty() {
            params.push(("scope", scope));
        }
        params.push(("resource", d.resource.clone()));
        self.token_request(d, client.as_ref(), params).await
    }
}
