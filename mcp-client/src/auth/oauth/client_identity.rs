//! The client's identity at an authorization server: a configured client, a client ID metadata
//! document, or dynamic registration (RFC 7591), and how it authenticates at the token endpoint.

use reqwest::Url;
use serde_json::{Value, json};

use super::discovery::{Discovery, strings};
use super::engine::{Engine, Grant, State};
use super::error::{OAuthError, endpoint_error, err_discovery};
use super::token_endpoint::TokenEndpointAuth;
use crate::auth::AuthError;

/// A client ID with its secret (if any) and token endpoint authentication.
#[derive(Clone)]
pub(super) struct Client {
    pub(super) id: String,
    pub(super) secret: Option<String>,
    pub(super) method: TokenEndpointAuth,
}

impl Engine {
    fn supported_methods(d: &Discovery) -> Vec<String> {
        strings(d.metadata.get("token_endpoint_auth_methods_supported"))
    }

    /// Picks the token endpoint authentication of a client with (or without) a secret.
    fn pick_method(&self, d: &Discovery, has_secret: bool) -> TokenEndpointAuth {
        if let Some(m) = self.config.auth_method {
            return m;
        }
        if self.config.signing_key.is_some() {
            return TokenEndpointAuth::PrivateKeyJwt;
        }
        if !has_secret {
            return TokenEndpointAuth::None;
        }
        let supported = Self::supported_methods(d);
        if supported.is_empty() || supported.iter().any(|m| m == "client_secret_basic") {
            TokenEndpointAuth::SecretBasic
        } else if supported.iter().any(|m| m == "client_secret_post") {
            TokenEndpointAuth::SecretPost
        } else {
            TokenEndpointAuth::SecretBasic
        }
    }

    /// The client identity at this authorization server: configured (only at the issuer it is
    /// pinned to), a client ID metadata document, an earlier registration with the same
    /// authorization server, or a new registration.
    pub(super) async fn client(&self, st: &mut State, d: &Discovery) -> Result<Client, AuthError> {
        if let Some(id) = &self.config.client_id {
            self.check_pinned(&d.issuer)?;
            let secret = self.config.client_secret.clone();
            let method = self.pick_method(d, secret.is_some());
            return Ok(Client {
                id: id.clone(),
                secret,
                method,
            });
        }
        let Grant::AuthorizationCode {
            redirect_uri,
            client_metadata_url,
            client_name,
            ..
        } = &self.config.grant
        else {
            return Err(OAuthError::NoClient(d.issuer.clone()).into());
        };
        if let Some(url) = client_metadata_url {
            if d.metadata.get("client_id_metadata_document_supported") == Some(&Value::Bool(true)) {
                return Ok(Client {
                    id: url.clone(),
                    secret: None,
                    method: TokenEndpointAuth::None,
                });
            }
        }
        // Filed under where the metadata came from, not under the `issuer` it claims: a client
        // registered with one authorization server is never used with another's endpoints.
        if let Some(c) = st.clients.get(&d.authority) {
            return Ok(c.clone());
        }
        let endpoint = d
            .registration_endpoint
            .clone()
            .ok_or_else(|| OAuthError::NoClient(d.issuer.clone()))?;
        self.check_url(&endpoint)?;
        let supported = Self::supported_methods(d);
        let requested = ["client_secret_basic", "client_secret_post", "none"]
            .into_iter()
            .find(|m| supported.iter().any(|s| s == m))
            .unwrap_or("client_secret_basic");
        let mut body = json!({
            "client_name": client_name,
            "redirect_uris": [redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": requested,
            "application_type": application_type(redirect_uri),
        });
        if !self.config.scopes.is_empty() {
            body["scope"] = self.config.scopes.join(" ").into();
        }
        let response = self
            .config
            .http
            .post(endpoint.clone())
            .json(&body)
            .send()
            .await
            .map_err(|source| OAuthError::Http {
                url: endpoint.to_string(),
                source,
            })?;
        let status = response.status();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(endpoint_error("registration", status, &value).into());
        }
        let id = value
            .get("client_id")
            .and_then(Value::as_str)
            .ok_or_else(|| err_discovery("the registration response has no client_id"))?
            .to_owned();
        let secret = value
            .get("client_secret")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let method = value
            .get("token_endpoint_auth_method")
            .and_then(Value::as_str)
            .and_then(TokenEndpointAuth::parse)
            .or_else(|| TokenEndpointAuth::parse(requested))
            .unwrap_or(TokenEndpointAuth::SecretBasic);
        let method = if secret.is_none() && method != TokenEndpointAuth::PrivateKeyJwt {
            TokenEndpointAuth::None
        } else {
            method
        };
        let client = Client { id, secret, method };
        st.clients.insert(d.authority.clone(), client.clone());
        Ok(client)
    }
}

/// OpenID `application_type` of a registration: `native` for loopback or custom-scheme redirects.
fn application_type(redirect_uri: &str) -> &'static str {
    match Url::parse(redirect_uri) {
        Ok(u)
            if u.scheme() == "https"
                && !matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]")) =>
        {
            "web"
        }
        _ => "native",
    }
}
