//! Turns the credentials of an HTTP request into an [`AuthContext`], or into the exact refusal
//! the specs prescribe. Used by the MCP endpoint (after the Host/Origin guard, before any
//! JSON-RPC work, AZ-21) and by [`require_auth`](super::require_auth) for other routes.

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use axum::response::Response;
use http::HeaderMap;
use http::header::{AUTHORIZATION, HOST};

use super::audit;
use super::challenge::{BearerError, Challenge, challenge_response, unavailable_response};
use super::config::AuthorizationConfig;
use super::context::AuthContext;
use super::token_cache::{TokenCache, token_digest};
use super::validator::TokenError;

/// The request-time half of authorization.
pub struct Authenticator {
    config: AuthorizationConfig,
    cache: TokenCache,
    /// The endpoint's path, e.g. `/mcp`.
    path: String,
    /// `http://<bound address><path>`, known once the server is bound.
    bound_resource: ArcSwapOption<String>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Splits `origin` and `path` of an absolute URL.
fn split_url(url: &str) -> (&str, &str) {
    match url.find("://").map(|i| i + 3) {
        Some(start) => match url[start..].find('/') {
            Some(p) => url.split_at(start + p),
            None => (url, ""),
        },
        None => (url, ""),
    }
}

/// RFC 6750 §2.1 `b64token`.
fn is_b64token(t: &str) -> bool {
    let body = t.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

impl Authenticator {
    /// An authenticator for an endpoint mounted at `path`.
    pub fn new(config: AuthorizationConfig, path: &str) -> Self {
        Authenticator {
            cache: TokenCache::new(config.token_cache_capacity),
            config,
            path: path.to_owned(),
            bound_resource: ArcSwapOption::empty(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &AuthorizationConfig {
        &self.config
    }

    /// Whether authorization is enforced.
    pub fn enabled(&self) -> bool {
        self.config.enabled
    }

    /// Records the address the server is bound to (the default resource URL).
    pub(crate) fn set_bound_address(&self, addr: std::net::SocketAddr) {
        self.bound_resource
            .store(Some(Arc::new(format!("http://{addr}{}", self.path))));
    }

    /// The resource identifier: the configured public URL, else the bound address, else the
    /// request's (already allow-listed) `Host`.
    pub fn resource(&self, headers: &HeaderMap) -> String {
        if let Some(r) = &self.config.resource {
            return r.clone();
        }
        if let Some(r) = self.bound_resource.load_full() {
            return (*r).clone();
        }
        let host = headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        format!("http://{host}{}", self.path)
    }

    /// The absolute URL of the resource's RFC 9728 metadata (path-suffixed form, AZ-05).
    pub fn metadata_url(&self, resource: &str) -> String {
        let (origin, path) = split_url(resource);
        format!("{origin}{}{path}", self.config.metadata_path)
    }

    fn challenge(&self, resource: &str) -> Challenge {
        Challenge::bearer(self.metadata_url(resource))
    }

    /// 403 `insufficient_scope` naming every scope in `needed` (AZ-14).
    pub fn insufficient_scope(
        &self,
        headers: &HeaderMap,
        needed: &[String],
        why: &str,
    ) -> Response {
        let resource = self.resource(headers);
        challenge_response(&[self
            .challenge(&resource)
            .error(BearerError::InsufficientScope, why)
            .scope(needed)])
    }

    fn refuse(&self, resource: &str, error: Option<(BearerError, &str)>) -> Response {
        let mut c = self.challenge(resource);
        match error {
            // No credentials: say where to get some and which scopes, no error (AZ-09, BE-03).
            None => c = c.scope(&self.config.required_scopes),
            Some((e, d)) => c = c.error(e, d),
        }
        challenge_response(&[c])
    }

    /// Authenticates a request. `Ok(None)` when authorization is off.
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
    ) -> Result<Option<Arc<AuthContext>>, Response> {
        if !self.config.enabled {
            return Ok(None);
        }
        let resource = self.resource(headers);
        let mut values = headers.get_all(AUTHORIZATION).iter();
        let first = values.next();
        if values.next().is_some() {
            audit::decision("refused", "several Authorization headers", None);
            let e = (BearerError::InvalidRequest, "send one Authorization header");
            return Err(self.refuse(&resource, Some(e)));
        }
        let Some(value) = first else {
            audit::decision("refused", "no credentials", None);
            return Err(self.refuse(&resource, None));
        };
        let value = value.to_str().unwrap_or("");
        let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
        if !scheme.eq_ignore_ascii_case("bearer") {
            // Another scheme carries no usable token: the same answer as none (BE-03).
            audit::decision("refused", "unsupported authorization scheme", None);
            return Err(self.refuse(&resource, None));
        }
        let token = token.trim_start_matches(' ');
        if !is_b64token(token) {
            audit::decision("refused", "malformed bearer token", None);
            let e = (BearerError::InvalidToken, "the token is malformed");
            return Err(self.refuse(&resource, Some(e)));
        }
        let key = token_digest(token);
        let ctx = match self.cache.get(&key) {
            Some(ctx) => ctx,
            None => match self.validate(token, &resource).await {
                Ok(ctx) => {
                    let ctx = Arc::new(ctx);
                    self.cache.insert(key, Arc::clone(&ctx));
                    ctx
                }
                Err(TokenError::Invalid(why)) => {
                    audit::decision("refused", &why, None);
                    return Err(self.refuse(&resource, Some((BearerError::InvalidToken, &why))));
                }
                Err(TokenError::Unavailable(why)) => {
                    if !self.config.fail_open {
                        audit::decision("unavailable", &why, None);
                        return Err(unavailable_response(self.config.retry_after));
                    }
                    audit::decision("fail_open", &why, None);
                    Arc::new(AuthContext::unauthenticated())
                }
            },
        };
        let missing = ctx.missing_scopes(&self.config.required_scopes);
        if !missing.is_empty() {
            audit::decision("refused", "insufficient scope", Some(&ctx));
            return Err(self.insufficient_scope(
                headers,
                &self.config.required_scopes,
                "the token lacks a scope this server requires",
            ));
        }
        audit::decision("allowed", "valid token", Some(&ctx));
        Ok(Some(ctx))
    }

    async fn validate(&self, token: &str, resource: &str) -> Result<AuthContext, TokenError> {
        match &self.config.validator {
            Some(v) => v.validate(token, resource).await,
            None => Err(TokenError::Invalid(
                "no token validator is configured".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_urls_insert_the_well_known_segment() {
        let a = Authenticator::new(AuthorizationConfig::enabled(), "/mcp");
        assert_eq!(
            a.metadata_url("https://h.example/mcp"),
            "https://h.example/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            a.metadata_url("http://127.0.0.1:9"),
            "http://127.0.0.1:9/.well-known/oauth-protected-resource"
        );
    }

    #[test]
    fn be07_token_syntax() {
        assert!(is_b64token("abc.DEF-ghi_~+/=="));
        assert!(!is_b64token("a b"));
        assert!(!is_b64token(""));
        assert!(!is_b64token("==="));
        assert!(!is_b64token("tok\"en"));
    }
}
