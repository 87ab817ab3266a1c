//! Turns the credentials of an HTTP request into an [`AuthContext`], or into the exact refusal
//! the specs prescribe. Used by the MCP endpoint (after the Host/Origin guard, before any
//! JSON-RPC work, AZ-21) and by [`require_auth`](super::require_auth) for other routes.

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use axum::response::Response;
use http::header::{AUTHORIZATION, HOST};
use http::{HeaderMap, HeaderName, Method};

use super::audit;
use super::challenge::{BearerError, Challenge, challenge_response, unavailable_response};
use super::config::AuthorizationConfig;
use super::context::{AuthContext, CredentialKind};
use super::dpop::{DpopMode, NonceIssuer, ProofError, VerifiedProof, verify_proof};
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

/// `DPoP`.
static DPOP: HeaderName = HeaderName::from_static("dpop");
/// `DPoP-Nonce`.
pub(crate) static DPOP_NONCE: HeaderName = HeaderName::from_static("dpop-nonce");

/// The scheme a request used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Bearer,
    Dpop,
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

    fn dpop_on(&self) -> bool {
        self.config.dpop.mode != DpopMode::Off
    }

    /// The challenges of this server, each naming the metadata (and `algs` for DPoP, DP-18).
    fn challenges(&self, resource: &str) -> Vec<Challenge> {
        let meta = self.metadata_url(resource);
        let dpop = || Challenge::dpop(meta.clone(), &self.config.dpop.alg_names());
        match self.config.dpop.mode {
            DpopMode::Off => vec![Challenge::bearer(meta.clone())],
            DpopMode::Allowed => vec![Challenge::bearer(meta.clone()), dpop()],
            DpopMode::Required => vec![dpop()],
        }
    }

    /// 403 `insufficient_scope` naming every scope in `needed` (AZ-14).
    pub fn insufficient_scope(
        &self,
        headers: &HeaderMap,
        needed: &[String],
        why: &str,
    ) -> Response {
        let resource = self.resource(headers);
        let c = self
            .challenges(&resource)
            .into_iter()
            .map(|c| c.error(BearerError::InsufficientScope, why).scope(needed));
        challenge_response(&c.collect::<Vec<_>>())
    }

    /// No credentials: say where to get some and which scopes, no error (AZ-09, BE-03).
    fn no_credentials(&self, resource: &str) -> Response {
        let c = self
            .challenges(resource)
            .into_iter()
            .map(|c| c.scope(&self.config.required_scopes));
        challenge_response(&c.collect::<Vec<_>>())
    }

    /// A refusal on the challenge of the scheme the client used.
    fn refuse(&self, resource: &str, scheme: Scheme, error: BearerError, why: &str) -> Response {
        let meta = self.metadata_url(resource);
        let c = match scheme {
            Scheme::Bearer if self.config.dpop.mode != DpopMode::Required => {
                Challenge::bearer(meta)
            }
            _ => Challenge::dpop(meta, &self.config.dpop.alg_names()),
        };
        challenge_response(&[c.error(error, why)])
    }

    /// Authenticates a request to `path` with `method`. `Ok(None)` when authorization is off.
    pub async fn authenticate(
        &self,
        method: &Method,
        path: &str,
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
            let why = "send one Authorization header";
            return Err(self.refuse(&resource, Scheme::Bearer, BearerError::InvalidRequest, why));
        }
        let Some(value) = first else {
            audit::decision("refused", "no credentials", None);
            return Err(self.no_credentials(&resource));
        };
        let value = value.to_str().unwrap_or("");
        let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
        let scheme = if scheme.eq_ignore_ascii_case("bearer") {
            Scheme::Bearer
        } else if scheme.eq_ignore_ascii_case("dpop") && self.dpop_on() {
            Scheme::Dpop
        } else {
            // Another scheme carries no usable token: the same answer as none (BE-03).
            audit::decision("refused", "unsupported authorization scheme", None);
            return Err(self.no_credentials(&resource));
        };
        let token = token.trim_start_matches(' ');
        if !is_b64token(token) {
            audit::decision("refused", "malformed access token", None);
            return Err(self.refuse(
                &resource,
                scheme,
                BearerError::InvalidToken,
                "the token is malformed",
            ));
        }
        if scheme == Scheme::Bearer && self.config.dpop.mode == DpopMode::Required {
            audit::decision("refused", "bearer token where DPoP is required", None);
            let why = "DPoP-bound tokens are required";
            return Err(self.refuse(&resource, scheme, BearerError::InvalidToken, why));
        }
        // The proof first: it is cheap to refuse and must be fresh on every request (DP-02).
        let proof = match scheme {
            Scheme::Dpop => Some(self.check_proof(method, path, headers, token, &resource)?),
            Scheme::Bearer => None,
        };
        let key = token_digest(token);
        let ctx = match self.cache.get(&key) {
            Some(ctx) => ctx,
            None => match self.validate(token, &resource).await {
                Ok(mut ctx) => {
                    if ctx.claims.get("cnf").and_then(|c| c.get("jkt")).is_some() {
                        ctx.credential = CredentialKind::Dpop;
                    }
                    let ctx = Arc::new(ctx);
                    self.cache.insert(key, Arc::clone(&ctx));
                    ctx
                }
                Err(TokenError::Invalid(why)) => {
                    audit::decision("refused", &why, None);
                    return Err(self.refuse(&resource, scheme, BearerError::InvalidToken, &why));
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
        let jkt = ctx
            .claims
            .get("cnf")
            .and_then(|c| c.get("jkt"))
            .and_then(|j| j.as_str());
        match (&proof, jkt) {
            // A bound token presented as Bearer is a downgrade (DP-15).
            (None, Some(_)) => {
                audit::decision("refused", "DPoP-bound token sent as Bearer", Some(&ctx));
                let why = "the token is bound to a DPoP key";
                return Err(self.refuse(&resource, scheme, BearerError::InvalidToken, why));
            }
            (Some(p), Some(bound)) if p.jkt != bound => {
                audit::decision("refused", "DPoP key binding mismatch", Some(&ctx));
                let why = "Invalid DPoP key binding";
                return Err(self.refuse(&resource, scheme, BearerError::InvalidToken, why));
            }
            (Some(_), None) if ctx.credential != CredentialKind::None => {
                audit::decision("refused", "DPoP proof for an unbound token", Some(&ctx));
                let why = "the token is not bound to a DPoP key";
                return Err(self.refuse(&resource, scheme, BearerError::InvalidToken, why));
            }
            _ => {}
        }
        let missing = ctx.missing_scopes(&self.config.required_scopes);
        if !missing.is_empty() {
            audit::decision("refused", "insufficient scope", Some(&ctx));
            return Err(self.insufficient_scope(
                headers,
                &self.config.required_scopes,
                "the token lacks a scope this server requires",
            ));
        }
        audit::decision("allowed", "valid credentials", Some(&ctx));
        Ok(Some(ctx))
    }

    fn check_proof(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        token: &str,
        resource: &str,
    ) -> Result<VerifiedProof, Response> {
        let mut proofs = headers.get_all(&DPOP).iter();
        let proof = proofs.next().and_then(|p| p.to_str().ok());
        let why = match (proof, proofs.next()) {
            (None, _) => Some("a DPoP proof is required"),
            (Some(_), Some(_)) => Some("send exactly one DPoP header"),
            (Some(p), None) if p.contains(',') => Some("send exactly one DPoP proof"),
            _ => None,
        };
        if let Some(why) = why {
            audit::decision("refused", why, None);
            return Err(self.refuse(resource, Scheme::Dpop, BearerError::InvalidDpopProof, why));
        }
        let (origin, _) = split_url(resource);
        let htu = format!("{origin}{path}");
        match verify_proof(
            &self.config.dpop,
            proof.unwrap_or(""),
            method.as_str(),
            &htu,
            token,
        ) {
            Ok(p) => Ok(p),
            Err(ProofError::Invalid(why)) => {
                audit::decision("refused", why, None);
                Err(self.refuse(resource, Scheme::Dpop, BearerError::InvalidDpopProof, why))
            }
            Err(ProofError::UseNonce) => {
                audit::decision("refused", "DPoP nonce required", None);
                let mut r = self.refuse(
                    resource,
                    Scheme::Dpop,
                    BearerError::UseDpopNonce,
                    "Authorization server requires nonce in DPoP proof",
                );
                if let Some(nonce) = self.config.dpop.nonces.as_ref().map(NonceIssuer::current) {
                    if let Ok(v) = http::HeaderValue::from_str(&nonce) {
                        r.headers_mut().insert(DPOP_NONCE.clone(), v);
                    }
                }
                Err(r)
            }
        }
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
