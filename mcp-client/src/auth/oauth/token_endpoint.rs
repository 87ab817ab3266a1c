//! The token endpoint: client authentication (RFC 8414 methods), the form-encoded token request
//! with an optional DPoP proof (RFC 9449, with the authorization server's nonce), and the token
//! response.

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderMap};
use serde_json::{Map, Value, json};

use super::client_identity::Client;
use super::discovery::Discovery;
use super::engine::{Engine, get_nonce, set_nonce};
use super::error::{OAuthError, endpoint_error, err_discovery};
use crate::auth::AuthError;
use crate::auth::dpop::DPOP;
use crate::auth::jose::{now_secs, random_string};

/// How the client authenticates at the token endpoint (RFC 8414 `token_endpoint_auth_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenEndpointAuth {
    /// HTTP Basic with the client ID and secret (`client_secret_basic`).
    SecretBasic,
    /// ID and secret in the form body (`client_secret_post`).
    SecretPost,
    /// A public client: `client_id` in the body only (`none`).
    None,
    /// An ES256 client assertion (`private_key_jwt`, RFC 7523).
    PrivateKeyJwt,
}

impl TokenEndpointAuth {
    /// The RFC 8414 name of the method.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenEndpointAuth::SecretBasic => "client_secret_basic",
            TokenEndpointAuth::SecretPost => "client_secret_post",
            TokenEndpointAuth::None => "none",
            TokenEndpointAuth::PrivateKeyJwt => "private_key_jwt",
        }
    }

    pub(super) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "client_secret_basic" => TokenEndpointAuth::SecretBasic,
            "client_secret_post" => TokenEndpointAuth::SecretPost,
            "none" => TokenEndpointAuth::None,
            "private_key_jwt" => TokenEndpointAuth::PrivateKeyJwt,
            _ => return None,
        })
    }
}

/// The longest lifetime a token response is believed (`expires_in` beyond it is clamped): a
/// year, far beyond any real token, and small enough to add to any clock reading.
const MAX_TOKEN_LIFETIME: u64 = 365 * 24 * 60 * 60;

/// When a token with this `expires_in` (seconds, as the token endpoint sent it) expires: any
/// non-negative number is accepted, clamped to [`MAX_TOKEN_LIFETIME`]; anything else means no
/// known expiry. Never panics, whatever the server sent.
pub(super) fn expiry(expires_in: Option<&Value>) -> Option<Instant> {
    let v = expires_in?;
    let secs = match v.as_u64() {
        Some(s) => s,
        // `as` saturates: a float beyond u64 becomes u64::MAX, and is clamped below.
        None => v.as_f64().filter(|f| f.is_finite() && *f >= 0.0)? as u64,
    };
    Instant::now().checked_add(Duration::from_secs(secs.min(MAX_TOKEN_LIFETIME)))
}

/// An access token from the token endpoint, with what is known of it.
pub(super) struct Token {
    pub(super) access: String,
    pub(super) dpop: bool,
    pub(super) expires_at: Option<Instant>,
    pub(super) refresh: Option<String>,
}

impl Engine {
    /// POSTs a token request with client authentication and (optionally) a DPoP proof, retrying
    /// once with the authorization server's nonce.
    pub(super) async fn token_request(
        &self,
        d: &Discovery,
        client: Option<&Client>,
        params: Vec<(&str, String)>,
    ) -> Result<Token, AuthError> {
        // The last gate before anything leaves: the endpoint must be https (or loopback), and
        // client credentials only ever go to the issuer they are pinned to.
        self.check_url(&d.token_endpoint)?;
        if client.is_some() {
            self.check_pinned(&d.issuer)?;
        }
        let mut pairs: Vec<(&str, String)> = params;
        let mut headers = HeaderMap::new();
        if let Some(c) = client {
            match c.method {
                TokenEndpointAuth::SecretBasic => {
                    let creds = format!(
                        "{}:{}",
                        form_component(&c.id),
                        form_component(c.secret.as_deref().unwrap_or_default())
                    );
                    let mut v = reqwest::header::HeaderValue::from_str(&format!(
                        "Basic {}",
                        STANDARD.encode(creds)
                    ))
                    .map_err(|_| AuthError::InvalidHeaderValue {
                        header: "authorization".into(),
                    })?;
                    v.set_sensitive(true);
                    headers.insert(AUTHORIZATION, v);
                }
                TokenEndpointAuth::SecretPost => {
                    pairs.push(("client_id", c.id.clone()));
                    pairs.push(("client_secret", c.secret.clone().unwrap_or_default()));
                }
                TokenEndpointAuth::None => pairs.push(("client_id", c.id.clone())),
                TokenEndpointAuth::PrivateKeyJwt => {
                    let key = self
                        .config
                        .signing_key
                        .as_ref()
                        .ok_or(AuthError::Crypto("private_key_jwt needs a signing key"))?;
                    let now = now_secs();
                    let claims = json!({
                        "iss": c.id, "sub": c.id, "aud": d.issuer,
                        "iat": now, "exp": now + 300, "jti": random_string(18)?,
                    });
                    let mut header = Map::new();
                    header.insert("typ".into(), "JWT".into());
                    pairs.push(("client_id", c.id.clone()));
                    pairs.push((
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
                    ));
                    pairs.push(("client_assertion", key.sign_jwt(header, &claims)?));
                }
            }
        }
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        let mut tried_nonce = false;
        loop {
            let mut request = self
                .config
                .http
                .post(d.token_endpoint.clone())
                .headers(headers.clone())
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .body(body.clone());
            if let Some(key) = &self.config.dpop {
                let nonce = get_nonce(&self.as_nonce);
                let proof = key.proof(&Method::POST, &d.token_endpoint, None, nonce.as_deref())?;
                request = request.header(DPOP, proof);
            }
            let response = request.send().await.map_err(|source| OAuthError::Http {
                url: d.token_endpoint.to_string(),
                source,
            })?;
            let status = response.status();
            let nonce = response
                .headers()
                .get("dpop-nonce")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            if nonce.is_some() {
                set_nonce(&self.as_nonce, nonce.clone());
            }
            let value: Value = response.json().await.unwrap_or(Value::Null);
            if !status.is_success() {
                let use_nonce =
                    value.get("error").and_then(Value::as_str) == Some("use_dpop_nonce");
                if use_nonce && nonce.is_some() && !tried_nonce && self.config.dpop.is_some() {
                    tried_nonce = true;
                    continue;
                }
                return Err(endpoint_error("token", status, &value).into());
            }
            let access = value
                .get("access_token")
                .and_then(Value::as_str)
                .ok_or_else(|| err_discovery("the token response has no access_token"))?
                .to_owned();
            let dpop = self.config.dpop.is_some()
                && value
                    .get("token_type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.eq_ignore_ascii_case("dpop"));
            return Ok(Token {
                access,
                dpop,
                expires_at: expiry(value.get("expires_in")),
                refresh: value
                    .get("refresh_token")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            });
        }
    }
}

/// `application/x-www-form-urlencoded` encoding of one component (RFC 6749 §2.3.1): ASCII
/// letters, digits and `-._*` as they are, space as `+`, every other byte as `%XX`.
fn form_component(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding() {
        assert_eq!(form_component("a b:c"), "a+b%3Ac");
        assert_eq!(
            form_component("AZaz09-._*~!'()+/?#&=%é"),
            "AZaz09-._*%7E%21%27%28%29%2B%2F%3F%23%26%3D%25%C3%A9"
        );
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([("grant_type", "client_credentials"), ("scope", "a b")])
            .finish();
        assert_eq!(body, "grant_type=client_credentials&scope=a+b");
    }

    #[test]
    fn any_expires_in_is_clamped_and_never_panics() {
        let year = Duration::from_secs(MAX_TOKEN_LIFETIME);
        for v in [
            json!(u64::MAX),
            json!(1e300),
            json!(f64::MAX),
            json!(MAX_TOKEN_LIFETIME + 1),
        ] {
            let at = expiry(Some(&v)).unwrap_or_else(|| panic!("{v}"));
            assert!(at <= Instant::now() + year, "{v}");
        }
        let hour = expiry(Some(&json!(3600))).unwrap_or_else(|| panic!("3600"));
        assert!(hour > Instant::now() + Duration::from_secs(3500));
        assert!(expiry(Some(&json!(12.5))).is_some());
        for v in [
            json!(-1),
            json!(-1.5),
            json!("3600"),
            json!(null),
            json!({}),
        ] {
            assert!(expiry(Some(&v)).is_none(), "{v}");
        }
        assert!(expiry(None).is_none());
    }
}
