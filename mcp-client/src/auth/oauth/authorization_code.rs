//! [`AuthorizationCodeAuth`]: the authorization code grant with PKCE (S256), the user sent to
//! the authorization URL through a [`RedirectHandler`] and the redirect checked (`state`, RFC 9207
//! `iss`).

use std::sync::Arc;

use reqwest::Url;
use serde_json::Value;

use super::discovery::Discovery;
use super::engine::{Engine, Grant, State, base_config};
use super::error::{OAuthError, err_discovery};
use super::redirect::RedirectHandler;
use super::strategy::oauth_strategy;
use super::token_endpoint::Token;
use crate::auth::AuthError;
use crate::auth::jose::{random_string, sha256_b64url};

/// The authorization code grant with PKCE (S256): after the same discovery, the client gets an
/// identity (a pre-registered client, a client ID metadata document URL when the server supports
/// it, or dynamic registration, RFC 7591, remembered per authorization server), sends the user to
/// the authorization URL through a [`RedirectHandler`], checks `state` and the RFC 9207 `iss` of
/// the redirect, and exchanges the code. Refresh tokens are used when the token expires or is
/// refused.
///
/// A pre-registered client ([`client`](Self::client)) is pinned to the authorization server it
/// is registered with, and only ever used there; a dynamically registered one only with the
/// authorization server that registered it. Authorization servers and their endpoints must be
/// `https` (plain `http` only on loopback, or with
/// [`dangerously_allow_http`](Self::dangerously_allow_http)).
///
/// ```no_run
/// use mcp_client::auth::{AuthorizationCodeAuth, LoopbackRedirect};
/// # async fn run() -> Result<(), mcp_client::Error> {
/// let redirect = LoopbackRedirect::bind(8765).await?;
/// let auth = AuthorizationCodeAuth::new(redirect.redirect_uri(), redirect);
/// let client = mcp_client::McpClient::connect("https://mcp.example.com/mcp", auth).await?;
/// # Ok(()) }
/// ```
pub struct AuthorizationCodeAuth {
    engine: Engine,
}

oauth_strategy!(AuthorizationCodeAuth);

impl AuthorizationCodeAuth {
    /// A client whose redirects go to `redirect_uri`, handled by `handler`.
    pub fn new(redirect_uri: impl Into<String>, handler: impl RedirectHandler) -> Self {
        AuthorizationCodeAuth {
            engine: Engine::new(base_config(Grant::AuthorizationCode {
                redirect_uri: redirect_uri.into(),
                handler: Arc::new(handler),
                client_metadata_url: None,
                client_name: "mcp-client".into(),
            })),
        }
    }

    /// Uses a client pre-registered with the authorization server `issuer` (no registration);
    /// `client_secret` for a confidential one. The client is only ever used with `issuer`: a
    /// server naming another authorization server is refused with
    /// [`OAuthError::UntrustedIssuer`](crate::auth::OAuthError::UntrustedIssuer).
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

    /// Uses this client ID metadata document URL as the client ID where the authorization
    /// server supports it (`client_id_metadata_document_supported`).
    #[must_use]
    pub fn client_metadata_url(mut self, url: impl Into<String>) -> Self {
        if let Grant::AuthorizationCode {
            client_metadata_url,
            ..
        } = &mut self.config_mut().grant
        {
            *client_metadata_url = Some(url.into());
        }
        self
    }

    /// The `client_name` sent in dynamic registration (default `mcp-client`).
    #[must_use]
    pub fn client_name(mut self, name: impl Into<String>) -> Self {
        if let Grant::AuthorizationCode { client_name, .. } = &mut self.config_mut().grant {
            *client_name = name.into();
        }
        self
    }
}

impl Engine {
    /// Sends the user to the authorization endpoint (PKCE S256, `state`, `scope`, `resource`)
    /// through `handler`, checks the redirect and exchanges the code.
    pub(super) async fn obtain_authorization_code(
        &self,
        st: &mut State,
        d: &Discovery,
        scope: String,
        redirect_uri: &str,
        handler: &dyn RedirectHandler,
    ) -> Result<Token, AuthError> {
        let mut params: Vec<(&str, String)> = Vec::new();
        let client = self.client(st, d).await?;
        let endpoint = d
            .authorization_endpoint
            .clone()
            .ok_or_else(|| err_discovery("no authorization_endpoint"))?;
        self.check_url(&endpoint)?;
        let verifier = random_string(32)?;
        let state = random_string(16)?;
        let mut url = endpoint;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &client.id)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("code_challenge", &sha256_b64url(&verifier))
                .append_pair("code_challenge_method", "S256")
                .append_pair("state", &state);
            if !scope.is_empty() {
                q.append_pair("scope", &scope);
            }
            q.append_pair("resource", &d.resource);
        }
        let callback = handler.authorize(url).await?;
        let code = check_redirect(&callback, &state, d)?;
        params.push(("grant_type", "authorization_code".into()));
        params.push(("code", code));
        params.push(("redirect_uri", redirect_uri.to_owned()));
        params.push(("code_verifier", verifier));
        params.push(("resource", d.resource.clone()));
        self.token_request(d, Some(&client), params).await
    }
}

/// Checks the authorization response: `error`, `state`, RFC 9207 `iss`; returns the `code`.
fn check_redirect(callback: &Url, state: &str, d: &Discovery) -> Result<String, AuthError> {
    let param = |name: &str| {
        callback
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let reject = |msg: String| -> AuthError { OAuthError::AuthorizationResponse(msg).into() };
    if let Some(error) = param("error") {
        return Err(reject(format!("the authorization server answered {error}")));
    }
    if param("state").as_deref() != Some(state) {
        return Err(reject("state does not match".into()));
    }
    let advertised = d
        .metadata
        .get("authorization_response_iss_parameter_supported")
        == Some(&Value::Bool(true));
    match param("iss") {
        Some(iss) if iss != d.issuer => {
            return Err(reject(format!(
                "iss {iss:?} is not the issuer {:?}",
                d.issuer
            )));
        }
        None if advertised => return Err(reject("iss is missing".into())),
        _ => {}
    }
    param("code").ok_or_else(|| reject("no code".into()))
}
