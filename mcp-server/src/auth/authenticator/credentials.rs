//! Finding and checking the credential of a request: bearer tokens (JWT, DPoP-bound), API keys
//! (header, `X-API-Key`, `?token=`) and HTTP Basic.

use std::sync::Arc;

use axum::response::Response;
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderName};

use super::{Authenticator, Req};
use crate::auth::apikey::{ApiKey, KeyRejection};
use crate::auth::basic::BasicRejection;
use crate::auth::challenge::{
    BearerError, challenge_response, challenge_response_with, unavailable_response,
};
use crate::auth::config::AuthMode;
use crate::auth::context::{AuthContext, CredentialKind};
use crate::auth::dpop::{DpopMode, NonceIssuer, ProofError, VerifiedProof, verify_proof};
use crate::auth::token_cache::token_digest;
use crate::auth::validator::TokenError;

/// `DPoP`.
static DPOP: HeaderName = HeaderName::from_static("dpop");
/// `DPoP-Nonce`.
static DPOP_NONCE: HeaderName = HeaderName::from_static("dpop-nonce");

/// The scheme a request used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Bearer,
    Dpop,
}

/// RFC 6750 §2.1 `b64token`.
fn is_b64token(t: &str) -> bool {
    let body = t.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

/// The context of a verified API key: its own role, workspaces and scopes; the subject per its
/// attribution.
fn key_context(key: ApiKey) -> AuthContext {
    let surfaces = key.effective_surfaces();
    let mut ctx = AuthContext::new(CredentialKind::ApiKey)
        .with_role(key.role)
        .with_scopes(key.scopes);
    ctx.subject = Some(key.attribution.subject().to_owned());
    ctx.credential_id = Some(key.id);
    ctx.credential_name = Some(key.name);
    ctx.expires_at = key.expires_at;
    ctx.workspaces = key.workspaces;
    ctx.surfaces = surfaces;
    ctx.attribution = Some(key.attribution);
    ctx
}

/// At most one value of `name`: `Err` when there are several.
fn single<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Result<Option<&'h str>, ()> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(());
    }
    Ok(first.map(|v| v.to_str().unwrap_or("")))
}

impl Authenticator {
    /// A refusal on the challenge of the scheme the client used.
    fn refuse(&self, resource: &str, scheme: Scheme, error: BearerError, why: &str) -> Response {
        let dpop = match scheme {
            Scheme::Bearer => self.config.dpop.mode == DpopMode::Required,
            Scheme::Dpop => true,
        };
        challenge_response(&[self.base_challenge(resource, dpop).error(error, why)])
    }

    /// No credentials: say where to get some and which scopes, no error (AZ-09, BE-03).
    fn no_credentials(&self, req: &Req<'_>) -> Response {
        let c = self
            .challenges(&req.resource)
            .into_iter()
            .map(|c| c.scope(&self.config.required_scopes));
        let r = challenge_response(&c.collect::<Vec<_>>());
        self.deny(req, "no_credentials", None, r)
    }

    /// 400 `invalid_request` for a request carrying several credentials.
    fn several(&self, req: &Req<'_>, why: &str) -> Response {
        let r = self.refuse(
            &req.resource,
            Scheme::Bearer,
            BearerError::InvalidRequest,
            why,
        );
        self.deny(req, "several_credentials", None, r)
    }

    /// The credential of OAuth and builtin modes.
    pub(super) async fn token_credential(
        &self,
        req: &Req<'_>,
        query_token: Option<&str>,
    ) -> Result<Arc<AuthContext>, Response> {
        let Ok(authorization) = single(req.headers, &AUTHORIZATION) else {
            return Err(self.several(req, "send one Authorization header"));
        };
        let keys = self
            .config
            .api_keys
            .as_ref()
            .filter(|_| self.config.mode == AuthMode::Builtin);
        if let (Some(_), Some(header)) = (keys, &self.config.api_key_header) {
            match single(req.headers, header) {
                Err(()) => return Err(self.several(req, "send one API key")),
                Ok(Some(_)) if authorization.is_some() => {
                    return Err(self.several(req, "send one credential"));
                }
                Ok(Some(key)) => return self.api_key(req, key).await,
                Ok(None) => {}
            }
        }
        let Some(value) = authorization else {
            // `?token=`: API keys only, only when enabled, only without a credential header.
            let from_query = query_token.filter(|t| {
                self.config.query_token
                    && self.surface == crate::auth::Surface::Mcp
                    && keys.is_some_and(|k| k.looks_like_key(t))
            });
            return match from_query {
                Some(token) => self.api_key(req, token).await,
                None => Err(self.no_credentials(req)),
            };
        };
        let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
        let scheme = if scheme.eq_ignore_ascii_case("bearer") {
            Scheme::Bearer
        } else if scheme.eq_ignore_ascii_case("dpop") && self.dpop_on() {
            Scheme::Dpop
        } else {
            // Another scheme carries no usable token: the same answer as none (BE-03).
            return Err(self.no_credentials(req));
        };
        let token = token.trim_start_matches(' ');
        if !is_b64token(token) {
            let why = "the token is malformed";
            let r = self.refuse(&req.resource, scheme, BearerError::InvalidToken, why);
            return Err(self.deny(req, "malformed_token", None, r));
        }
        if let Some(keys) = keys {
            if scheme == Scheme::Bearer && keys.looks_like_key(token) {
                return self.api_key(req, token).await;
            }
        }
        self.jwt(req, scheme, token).await
    }

    /// Checks an API key.
    async fn api_key(&self, req: &Req<'_>, presented: &str) -> Result<Arc<AuthContext>, Response> {
        let Some(keys) = &self.config.api_keys else {
            return Err(self.no_credentials(req));
        };
        match keys.verify(presented).await {
            Ok(key) => Ok(Arc::new(key_context(key))),
            Err(KeyRejection::Unavailable(e)) => {
                tracing::error!(error = %e, "the API key store is unavailable");
                let r = unavailable_response(self.config.retry_after);
                Err(self.deny(req, "key_store_unavailable", None, r))
            }
            Err(rejection) => {
                let c = self
                    .base_challenge(&req.resource, false)
                    .error(BearerError::InvalidToken, &rejection.to_string());
                let r = challenge_response_with(&[c], Some(rejection.reason()), None);
                Err(self.deny(req, rejection.reason(), None, r))
            }
        }
    }

    /// Checks an OAuth access token (and its DPoP proof).
    async fn jwt(
        &self,
        req: &Req<'_>,
        scheme: Scheme,
        token: &str,
    ) -> Result<Arc<AuthContext>, Response> {
        let resource = req.resource.as_str();
        if scheme == Scheme::Bearer && self.config.dpop.mode == DpopMode::Required {
            let why = "DPoP-bound tokens are required";
            let r = self.refuse(resource, scheme, BearerError::InvalidToken, why);
            return Err(self.deny(req, "bearer_where_dpop_required", None, r));
        }
        // The proof first: it is cheap to refuse and must be fresh on every request (DP-02).
        let proof = match scheme {
            Scheme::Dpop => Some(self.check_proof(req, token).await?),
            Scheme::Bearer => None,
        };
        let key = token_digest(token);
        let ctx = match self.cache.get(&key) {
            Some(ctx) => ctx,
            None => match self.validate(token, resource).await {
                Ok(mut ctx) => {
                    if ctx.claims.get("cnf").and_then(|c| c.get("jkt")).is_some() {
                        ctx.credential = CredentialKind::Dpop;
                    }
                    let role = self
                        .config
                        .jwt_role_claim()
                        .and_then(|c| c.role_of(&ctx.claims, &self.config.roles));
                    if let Some(role) = role {
                        ctx = ctx.with_role(role);
                    }
                    let ctx = Arc::new(ctx);
                    self.cache.insert(key, Arc::clone(&ctx));
                    ctx
                }
                Err(TokenError::Invalid(why)) => {
                    let r = self.refuse(resource, scheme, BearerError::InvalidToken, &why);
                    return Err(self.deny(req, "invalid_token", None, r));
                }
                Err(TokenError::Unavailable(why)) => {
                    if !self.config.fail_open {
                        tracing::warn!(reason = %why, "the authorization server is unavailable");
                        let r = unavailable_response(self.config.retry_after);
                        return Err(self.deny(req, "authorization_server_unavailable", None, r));
                    }
                    Arc::new(AuthContext::unauthenticated())
                }
                // sec-modules: the smallest arm that keeps the crate compiling with the new
                // variant; integrator, keep or replace. Never fail_open: the token was not
                // checked.
                Err(TokenError::Busy(why)) => {
                    tracing::warn!(reason = %why, "too many token checks in flight");
                    let r = unavailable_response(self.config.retry_after);
                    return Err(self.deny(req, "token_checks_busy", None, r));
                }
            },
        };
        let jkt = ctx
            .claims
            .get("cnf")
            .and_then(|c| c.get("jkt"))
            .and_then(|j| j.as_str());
        let refusal = match (&proof, jkt) {
            // A bound token presented as Bearer is a downgrade (DP-15).
            (None, Some(_)) => Some((
                "dpop_bound_token_as_bearer",
                "the token is bound to a DPoP key",
            )),
            (Some(p), Some(bound)) if p.jkt != bound => {
                Some(("dpop_key_mismatch", "Invalid DPoP key binding"))
            }
            (Some(_), None) if ctx.credential != CredentialKind::None => Some((
                "dpop_proof_for_unbound_token",
                "the token is not bound to a DPoP key",
            )),
            _ => None,
        };
        if let Some((reason, why)) = refusal {
            let r = self.refuse(resource, scheme, BearerError::InvalidToken, why);
            return Err(self.deny(req, reason, Some(&ctx), r));
        }
        Ok(ctx)
    }

    // The refusal is the HTTP response itself, built once on a cold path: boxing buys nothing.
    #[allow(clippy::result_large_err)]
    async fn check_proof(&self, req: &Req<'_>, token: &str) -> Result<VerifiedProof, Response> {
        let resource = req.resource.as_str();
        let mut proofs = req.headers.get_all(&DPOP).iter();
        let proof = proofs.next().and_then(|p| p.to_str().ok());
        let why = match (proof, proofs.next()) {
            (None, _) => Some("a DPoP proof is required"),
            (Some(_), Some(_)) => Some("send exactly one DPoP header"),
            (Some(p), None) if p.contains(',') => Some("send exactly one DPoP proof"),
            _ => None,
        };
        if let Some(why) = why {
            let r = self.refuse(resource, Scheme::Dpop, BearerError::InvalidDpopProof, why);
            return Err(self.deny(req, "invalid_dpop_proof", None, r));
        }
        let (origin, _) = super::split_url(resource);
        let htu = format!("{origin}{}", req.path);
        match verify_proof(
            &self.config.dpop,
            proof.unwrap_or(""),
            req.method.as_str(),
            &htu,
            token,
        ) {
            Ok(p) => {
                let replay_cache = &self.config.dpop.replay_cache;
                match replay_cache
                    .insert_fresh(p.replay_key, p.replay_until)
                    .await
                {
                    Ok(true) => Ok(p),
                    Ok(false) => {
                        let why = "the DPoP proof was already used";
                        let r =
                            self.refuse(resource, Scheme::Dpop, BearerError::InvalidDpopProof, why);
                        Err(self.deny(req, "dpop_proof_replayed", None, r))
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "the DPoP replay cache is unavailable");
                        let r = unavailable_response(self.config.retry_after);
                        Err(self.deny(req, "replay_cache_unavailable", None, r))
                    }
                }
            }
            Err(ProofError::Invalid(why)) => {
                let r = self.refuse(resource, Scheme::Dpop, BearerError::InvalidDpopProof, why);
                Err(self.deny(req, "invalid_dpop_proof", None, r))
            }
            Err(ProofError::UseNonce) => {
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
                Err(self.deny(req, "dpop_nonce_required", None, r))
            }
        }
    }

    async fn validate(&self, token: &str, resource: &str) -> Result<AuthContext, TokenError> {
        match &self.config.validator {
            Some(v) => v.validate(token, resource).await,
            None => Err(TokenError::Invalid(match self.config.mode {
                AuthMode::Builtin => "the token is not an API key of this server".into(),
                _ => "no token validator is configured".into(),
            })),
        }
    }

    /// The credential of Basic mode.
    pub(super) async fn basic_credential(
        &self,
        req: &Req<'_>,
    ) -> Result<Arc<AuthContext>, Response> {
        let Ok(authorization) = single(req.headers, &AUTHORIZATION) else {
            return Err(self.several(req, "send one Authorization header"));
        };
        let encoded = authorization.and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then_some(rest)
        });
        let (Some(encoded), Some(verifier)) = (encoded, &self.basic) else {
            return Err(self.no_credentials(req));
        };
        match verifier.verify(encoded).await {
            Ok(user) => {
                let mut ctx = AuthContext::new(CredentialKind::Basic)
                    .with_subject(user.name)
                    .with_role(user.role);
                ctx.workspaces = user.workspaces;
                Ok(Arc::new(ctx))
            }
            Err(BasicRejection::Unavailable(e)) => {
                tracing::error!(error = %e, "the user store is unavailable");
                let r = unavailable_response(self.config.retry_after);
                Err(self.deny(req, "user_store_unavailable", None, r))
            }
            Err(rejection) => {
                let c = self.base_challenge(&req.resource, false);
                let r = challenge_response_with(
                    &[c],
                    Some(rejection.reason()),
                    Some(rejection.description()),
                );
                Err(self.deny(req, rejection.reason(), None, r))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn be07_token_syntax() {
        assert!(is_b64token("abc.DEF-ghi_~+/=="));
        assert!(!is_b64token("a b"));
        assert!(!is_b64token(""));
        assert!(!is_b64token("==="));
        assert!(!is_b64token("tok\"en"));
    }

    #[test]
    fn several_values_are_told_apart() {
        let mut h = HeaderMap::new();
        assert_eq!(single(&h, &AUTHORIZATION), Ok(None));
        h.append(AUTHORIZATION, http::HeaderValue::from_static("a"));
        assert_eq!(single(&h, &AUTHORIZATION), Ok(Some("a")));
        h.append(AUTHORIZATION, http::HeaderValue::from_static("b"));
        assert_eq!(single(&h, &AUTHORIZATION), Err(()));
    }
}
