//! How the user gets through the authorization URL: the [`RedirectHandler`] trait, a loopback
//! listener for command-line apps ([`LoopbackRedirect`]) and a headless one for test servers
//! ([`headless_redirect`]).

use std::future::Future;
use std::sync::Arc;

use reqwest::Url;
use reqwest::header::LOCATION;
use tokio::sync::Mutex;

use super::error::OAuthError;
use crate::BoxFuture;
use crate::auth::AuthError;

/// Takes the user through the authorization URL and hands back the URL the authorization server
/// redirected to (with `code`, `state` and maybe `iss`). A closure `Fn(Url) -> Future` works.
pub trait RedirectHandler: Send + Sync + 'static {
    /// Opens `authorization_url` (a browser, a headless GET, ...) and returns the redirect URL.
    fn authorize(&self, authorization_url: Url) -> BoxFuture<'static, Result<Url, AuthError>>;
}

impl<F, Fut> RedirectHandler for F
where
    F: Fn(Url) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Url, AuthError>> + Send + 'static,
{
    fn authorize(&self, authorization_url: Url) -> BoxFuture<'static, Result<Url, AuthError>> {
        Box::pin(self(authorization_url))
    }
}

/// A [`RedirectHandler`] for command-line apps: listens on `127.0.0.1:<port>`, prints the
/// authorization URL on stderr for the user to open, and takes the first request to
/// `/callback` as the redirect.
#[derive(Debug, Clone)]
pub struct LoopbackRedirect {
    listener: Arc<Mutex<tokio::net::TcpListener>>,
    port: u16,
}

impl LoopbackRedirect {
    /// Binds `127.0.0.1:port` (0 = any free port).
    pub async fn bind(port: u16) -> Result<Self, AuthError> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| AuthError::Strategy(Box::new(e)))?;
        let port = listener
            .local_addr()
            .map_err(|e| AuthError::Strategy(Box::new(e)))?
            .port();
        Ok(LoopbackRedirect {
            listener: Arc::new(Mutex::new(listener)),
            port,
        })
    }

    /// `http://127.0.0.1:<port>/callback`.
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/callback", self.port)
    }
}

impl RedirectHandler for LoopbackRedirect {
    fn authorize(&self, authorization_url: Url) -> BoxFuture<'static, Result<Url, AuthError>> {
        let listener = self.listener.clone();
        let base = self.redirect_uri();
        Box::pin(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            eprintln!("Open this URL to authorize:\n{authorization_url}");
            let listener = listener.lock().await;
            loop {
                let (mut socket, _) = listener
                    .accept()
                    .await
                    .map_err(|e| AuthError::Strategy(Box::new(e)))?;
                let mut buf = vec![0u8; 8192];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                let target = head
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned();
                let page = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nAuthorization received; you may close this window.\n";
                let _ = socket.write_all(page.as_bytes()).await;
                if target.starts_with("/callback") {
                    let url = Url::parse(&base)
                        .and_then(|b| b.join(&target))
                        .map_err(|_| {
                            AuthError::from(OAuthError::AuthorizationResponse(
                                "unreadable callback".into(),
                            ))
                        })?;
                    return Ok(url);
                }
            }
        })
    }
}

/// A [`RedirectHandler`] that follows nothing: it GETs the authorization URL and returns the
/// `Location` of the answer. Only useful against authorization servers that redirect at once
/// (test servers, conformance mocks).
pub fn headless_redirect(
    http: reqwest::Client,
) -> impl Fn(Url) -> BoxFuture<'static, Result<Url, AuthError>> + Send + Sync + 'static {
    move |url: Url| {
        let http = http.clone();
        Box::pin(async move {
            let response =
                http.get(url.clone())
                    .send()
                    .await
                    .map_err(|source| OAuthError::Http {
                        url: url.origin().ascii_serialization(),
                        source,
                    })?;
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| {
                    OAuthError::AuthorizationResponse(format!(
                        "the authorization endpoint answered {} without a redirect",
                        response.status()
                    ))
                })?;
            url.join(location)
                .map_err(|_| OAuthError::AuthorizationResponse("unreadable redirect".into()).into())
        }) as BoxFuture<'static, Result<Url, AuthError>>
    }
}
