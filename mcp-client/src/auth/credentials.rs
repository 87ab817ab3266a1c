//! Static credentials: a bearer token, an API key, HTTP Basic, or nothing. Their `Debug` output
//! never shows the secret.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{AUTHORIZATION, HeaderName};

use super::{Auth, AuthError, AuthRequest, Redacted};
use crate::BoxFuture;

fn ready<'a, T: Send + 'a>(value: T) -> BoxFuture<'a, T> {
    Box::pin(std::future::ready(value))
}

/// No credentials.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAuth;

impl Auth for NoAuth {
    fn authorize<'a>(&'a self, _: &'a mut AuthRequest) -> BoxFuture<'a, Result<(), AuthError>> {
        ready(Ok(()))
    }
}

/// An OAuth 2.0 bearer token (RFC 6750): `Authorization: Bearer <access_token>`.
#[derive(Clone)]
pub struct BearerAuth {
    access_token: String,
}

impl BearerAuth {
    /// Sends `access_token` with every request.
    pub fn new(access_token: impl Into<String>) -> Self {
        BearerAuth {
            access_token: access_token.into(),
        }
    }

    /// The token.
    pub fn access_token(&self) -> &str {
        &self.access_token
    }
}

impl fmt::Debug for BearerAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerAuth")
            .field("access_token", &Redacted(&self.access_token))
            .finish()
    }
}

impl Auth for BearerAuth {
    fn authorize<'a>(
        &'a self,
        request: &'a mut AuthRequest,
    ) -> BoxFuture<'a, Result<(), AuthError>> {
        ready(request.set_authorization("Bearer", &self.access_token))
    }
}

/// Where an API key goes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiKeyPlacement {
    /// In a header of its own (`X-API-Key` by default).
    Header(HeaderName),
    /// As a bearer token: `Authorization: Bearer <key>`.
    Bearer,
}

/// An API key, in `X-API-Key` (default), another header, or `Authorization: Bearer`.
///
/// ```
/// use mcp_client::auth::ApiKeyAuth;
///
/// let default = ApiKeyAuth::new("mcp_live_...");          // X-API-Key: mcp_live_...
/// let custom = ApiKeyAuth::new("k").header("X-Dagu-Key")?; // X-Dagu-Key: k
/// let bearer = ApiKeyAuth::new("k").bearer();             // Authorization: Bearer k
/// # Ok::<(), mcp_client::auth::AuthError>(())
/// ```
#[derive(Clone)]
pub struct ApiKeyAuth {
    key: String,
    placement: ApiKeyPlacement,
}

impl ApiKeyAuth {
    /// The default header.
    pub const DEFAULT_HEADER: &'static str = "x-api-key";

    /// Sends `key` in `X-API-Key`.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKeyAuth {
            key: key.into(),
            placement: ApiKeyPlacement::Header(HeaderName::from_static(Self::DEFAULT_HEADER)),
        }
    }

    /// Sends the key in the header `name` instead.
    pub fn header(mut self, name: &str) -> Result<Self, AuthError> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| AuthError::InvalidHeaderName(name.to_owned()))?;
        self.placement = ApiKeyPlacement::Header(name);
        Ok(self)
    }

    /// Sends the key as `Authorization: Bearer <key>` instead.
    #[must_use]
    pub fn bearer(mut self) -> Self {
        self.placement = ApiKeyPlacement::Bearer;
        self
    }

    /// Where the key goes.
    pub fn placement(&self) -> &ApiKeyPlacement {
        &self.placement
    }
}

impl fmt::Debug for ApiKeyAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyAuth")
            .field("key", &Redacted(&self.key))
            .field("placement", &self.placement)
            .finish()
    }
}

impl Auth for ApiKeyAuth {
    fn authorize<'a>(
        &'a self,
        request: &'a mut AuthRequest,
    ) -> BoxFuture<'a, Result<(), AuthError>> {
        ready(match &self.placement {
            ApiKeyPlacement::Header(name) => request.set_secret(name.clone(), &self.key),
            ApiKeyPlacement::Bearer => request.set_authorization("Bearer", &self.key),
        })
    }
}

/// HTTP Basic (RFC 7617): `Authorization: Basic base64(user:password)`.
#[derive(Clone)]
pub struct BasicAuth {
    username: String,
    password: String,
}

impl BasicAuth {
    /// Sends `username` and `password` with every request.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        BasicAuth {
            username: username.into(),
            password: password.into(),
        }
    }

    /// The user name.
    pub fn username(&self) -> &str {
        &self.username
    }
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuth")
            .field("username", &self.username)
            .field("password", &Redacted(&self.password))
            .finish()
    }
}

impl Auth for BasicAuth {
    fn authorize<'a>(
        &'a self,
        request: &'a mut AuthRequest,
    ) -> BoxFuture<'a, Result<(), AuthError>> {
        let pair = STANDARD.encode(format!("{}:{}", self.username, self.password));
        ready(request.set_authorization("Basic", &pair).map_err(|_| {
            AuthError::InvalidHeaderValue {
                header: AUTHORIZATION.as_str().to_owned(),
            }
        }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use reqwest::Method;
    use reqwest::header::HeaderMap;

    async fn headers(auth: &dyn Auth) -> Result<HeaderMap, AuthError> {
        let url = reqwest::Url::parse("http://127.0.0.1/mcp").unwrap();
        let mut req = AuthRequest::new(Method::POST, url, HeaderMap::new());
        auth.authorize(&mut req).await?;
        Ok(req.into_headers())
    }

    #[tokio::test]
    async fn each_strategy_sets_its_header() {
        let h = headers(&BearerAuth::new("tok")).await.unwrap();
        assert_eq!(h["authorization"], "Bearer tok");
        assert!(h["authorization"].is_sensitive());
        let h = headers(&ApiKeyAuth::new("k1")).await.unwrap();
        assert_eq!(h["x-api-key"], "k1");
        let h = headers(&ApiKeyAuth::new("k2").header("X-Other").unwrap())
            .await
            .unwrap();
        assert_eq!(h["x-other"], "k2");
        let h = headers(&ApiKeyAuth::new("k3").bearer()).await.unwrap();
        assert_eq!(h["authorization"], "Bearer k3");
        let h = headers(&BasicAuth::new("ada", "s3cr:t")).await.unwrap();
        assert_eq!(h["authorization"], "Basic YWRhOnMzY3I6dA==");
        assert!(headers(&NoAuth).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn bad_credentials_are_errors_not_panics() {
        assert!(matches!(
            headers(&BearerAuth::new("a\nb")).await,
            Err(AuthError::InvalidHeaderValue { .. })
        ));
        assert!(matches!(
            ApiKeyAuth::new("k").header("bad header"),
            Err(AuthError::InvalidHeaderName(_))
        ));
    }

    #[test]
    fn debug_hides_secrets() {
        let text = format!(
            "{:?} {:?} {:?}",
            BearerAuth::new("SECRET1"),
            ApiKeyAuth::new("SECRET2"),
            BasicAuth::new("u", "SECRET3")
        );
        assert!(!text.contains("SECRET"), "{text}");
    }
}
