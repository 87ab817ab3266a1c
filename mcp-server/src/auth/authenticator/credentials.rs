//! Finding and checking the credential of a request: bearer tokens (JWT, DPoP-bound), API keys
//! (header, `X-API-Key`, `?token=`) and HTTP Basic.

use std::sync::Arc;

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderName};

use super::{Authenticator, Presented, Req};
#[cfg(feature = "builtin-auth")]
use crate::auth::apikey::{ApiKey, KeyRejection};
#[cfg(feature = "builtin-auth")]
use crate::auth::basic::{BasicRejection, user_name};
use crate::auth::challenge::BearerError;
use crate::auth::context::{AuthContext, CredentialKind};
use crate::auth::dpop::{DpopMode, key_binding};
#[cfg(feature = "oauth")]
use crate::auth::dpop::{NonceIssuer, ProofError, VerifiedProof, verify_proof};
use crate::auth::failures::CredentialKey;
use crate::auth::rejection::{AuthRejection, Counted};
use crate::auth::token_cache::token_digest;
use crate::auth::validator::TokenError;
#[cfg(feature = "oauth")]
use crate::store::ReplayCacheError;

#[cfg(feature = "oauth")]
/// `DPoP`.
static DPOP: HeaderName = HeaderName::from_static("dpop");

/// What a proof established, in builds that check none.
#[cfg(not(feature = "oauth"))]
struct NoProof {
    jkt: String,
}

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
#[cfg(feature = "builtin-auth")]
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
    /// A refusal on the challenge of the scheme the client used. An `invalid_token` or
    /// `invalid_dpop_proof` counts as a failed authentication of the client address (the
    /// callers whose credential itself is invalid count it against the credential too);
    /// `invalid_request` and `use_dpop_nonce` do not count.
    fn refuse(
        &self,
        reason: &'static str,
        scheme: Scheme,
        error: BearerError,
        why: &str,
    ) -> AuthRejection {
        let dpop = match scheme {
            Scheme::Bearer => self.config.dpop.mode == DpopMode::Required,
            Scheme::Dpop => true,
        };
        let r = AuthRejection::challenge(reason, vec![self.base_challenge(dpop).error(error, why)]);
        match error {
            BearerError::InvalidToken | BearerError::InvalidDpopProof => {
                r.counted(Counted::Address)
            }
            BearerError::InvalidRequest
            | BearerError::InsufficientScope
            | BearerError::UseDpopNonce => r,
        }
    }

    /// No credentials: say where to get some and which scopes, no error (AZ-09, BE-03).
    fn no_credentials(&self, req: &Req<'_>) -> AuthRejection {
        let c = self
            .challenges()
            .into_iter()
            .map(|c| c.scope(&self.config.required_scopes));
        self.deny(
            req,
            None,
            AuthRejection::challenge("no_credentials", c.collect()),
        )
    }

    /// 400 `invalid_request` for a request carrying several credentials.
    fn several(&self, req: &Req<'_>, why: &str) -> AuthRejection {
        let r = self.refuse(
            "several_credentials",
            Scheme::Bearer,
            BearerError::InvalidRequest,
            why,
        );
        self.deny(req, None, r)
    }

    /// The credential of OAuth and builtin modes.
    pub(super) async fn token_credential(
        &self,
        req: &Req<'_>,
        query_token: Option<&str>,
    ) -> Result<Arc<AuthContext>, AuthRejection> {
        let Ok(authorization) = single(req.headers, &AUTHORIZATION) else {
            return Err(self.several(req, "send one Authorization header"));
        };
        #[cfg(feature = "builtin-auth")]
        let keys = self.config.api_keys();
        #[cfg(feature = "builtin-auth")]
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
            // `?token=`: API keys only, only when accepted, only without a credential header.
            #[cfg(feature = "builtin-auth")]
            if let Some(token) = query_token.filter(|t| {
                self.config.query_token()
                    && self.surface == crate::auth::Surface::Mcp
                    && keys.is_some_and(|k| k.looks_like_key(t))
            }) {
                return self.api_key(req, token).await;
            }
            #[cfg(not(feature = "builtin-auth"))]
            let _ = query_token;
            return Err(self.no_credentials(req));
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
            let r = self.refuse("malformed_token", scheme, BearerError::InvalidToken, why);
            return Err(self.deny(req, None, r));
        }
        #[cfg(feature = "builtin-auth")]
        if let Some(keys) = keys {
            if scheme == Scheme::Bearer && keys.looks_like_key(token) {
                return self.api_key(req, token).await;
            }
        }
        self.jwt(req, scheme, token).await
    }

    /// Checks an API key.
    #[cfg(feature = "builtin-auth")]
    async fn api_key(
        &self,
        req: &Req<'_>,
        presented: &str,
    ) -> Result<Arc<AuthContext>, AuthRejection> {
        let Some(keys) = self.config.api_keys() else {
            return Err(self.no_credentials(req));
        };
        let key_of = || Some(CredentialKey::of(CredentialKind::ApiKey, presented));
        let attempt = Presented {
            kind: CredentialKind::ApiKey,
            key_of: &key_of,
        };
        self.gate(req, attempt)?;
        let outcome = match keys.verify(presented).await {
            Ok(key) => Ok(Arc::new(key_context(key))),
            Err(KeyRejection::Unavailable(e)) => {
                tracing::error!(error = %e, "the API key store is unavailable");
                let r = self.unavailable("key_store_unavailable", "the key store is unavailable");
                Err(self.deny(req, None, r))
            }
            Err(rejection) => {
                let c = self
                    .base_challenge(false)
                    .error(BearerError::InvalidToken, &rejection.to_string());
                let r = AuthRejection::challenge(rejection.reason(), vec![c])
                    .with_reason_in_body()
                    .counted(Counted::AddressAndCredential);
                Err(self.deny(req, None, r))
            }
        };
        outcome.map_err(|r| self.settle(req, Some(attempt), r))
    }

    /// Checks an OAuth access token and, for `DPoP`, its proof (RFC 9449 §4.3, §7.1), within
    /// the failure budgets.
    async fn jwt(
        &self,
        req: &Req<'_>,
        scheme: Scheme,
        token: &str,
    ) -> Result<Arc<AuthContext>, AuthRejection> {
        // Once per request: the verified-token cache's key and the token's failure budget.
        let digest = token_digest(token);
        let kind = match scheme {
            Scheme::Bearer => CredentialKind::Bearer,
            Scheme::Dpop => CredentialKind::Dpop,
        };
        let key_of = || Some(CredentialKey::of_token_digest(digest));
        let attempt = Presented {
            kind,
            key_of: &key_of,
        };
        self.gate(req, attempt)?;
        self.token_and_proof(req, scheme, token, digest)
            .await
            .map_err(|r| self.settle(req, Some(attempt), r))
    }

    /// Checks an OAuth access token (whose [`token_digest`] is `digest`) and, for `DPoP`, its
    /// proof.
    async fn token_and_proof(
        &self,
        req: &Req<'_>,
        scheme: Scheme,
        token: &str,
        digest: [u8; 32],
    ) -> Result<Arc<AuthContext>, AuthRejection> {
        if scheme == Scheme::Bearer && self.config.dpop.mode == DpopMode::Required {
            let why = "DPoP-bound tokens are required";
            let r = self.refuse(
                "bearer_where_dpop_required",
                scheme,
                BearerError::InvalidToken,
                why,
            );
            return Err(self.deny(req, None, r));
        }
        // The proof first: it is cheap to refuse and must be fresh on every request (DP-02).
        // Its `jti` is recorded only once the token and the binding are known good, so that
        // proofs riding on invalid tokens never take a place in the replay cache.
        #[cfg(feature = "oauth")]
        let proof = match scheme {
            Scheme::Dpop => {
                let span = crate::telemetry::internal("dpop.verify");
                let checked = span.in_scope(|| self.check_proof(req, token));
                if checked.is_err() {
                    crate::telemetry::failed(&span);
                }
                Some(checked?)
            }
            Scheme::Bearer => None,
        };
        // Without proof checks, `DPoP` is never offered, so no request uses it.
        #[cfg(not(feature = "oauth"))]
        let proof: Option<NoProof> = None;
        let ctx = self.token_context(req, scheme, token, digest).await?;
        let jkt = match key_binding(&ctx.claims) {
            Ok(jkt) => jkt,
            Err(e) => {
                let why = e.to_string();
                let r = self.refuse(
                    "unsupported_token_binding",
                    scheme,
                    BearerError::InvalidToken,
                    &why,
                );
                return Err(self.deny(req, Some(&ctx), r));
            }
        };
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
            let r = self.refuse(reason, scheme, BearerError::InvalidToken, why);
            return Err(self.deny(req, Some(&ctx), r));
        }
        #[cfg(feature = "oauth")]
        if let Some(p) = &proof {
            use tracing::Instrument;
            let span = crate::telemetry::outgoing("dpop.replay_check", None);
            self.record_proof(req, p).instrument(span).await?;
        }
        Ok(ctx)
    }

    /// The context of a token (whose [`token_digest`] is `key`): from the cache, else from the
    /// validator (then cached).
    async fn token_context(
        &self,
        req: &Req<'_>,
        scheme: Scheme,
        token: &str,
        key: [u8; 32],
    ) -> Result<Arc<AuthContext>, AuthRejection> {
        if let Some(ctx) = self.cache.get(&key) {
            return Ok(ctx);
        }
        match self.validate(token).await {
            Ok(mut ctx) => {
                if matches!(key_binding(&ctx.claims), Ok(Some(_))) {
                    ctx.credential = CredentialKind::Dpop;
                }
                // Role and workspaces from the claims (deny by default when configured).
                let ctx = self.config.token_roles(ctx);
                let ctx = Arc::new(ctx);
                self.cache.insert(key, Arc::clone(&ctx));
                Ok(ctx)
            }
            Err(TokenError::Invalid(why)) => {
                let r = self
                    .refuse("invalid_token", scheme, BearerError::InvalidToken, &why)
                    .counted(Counted::AddressAndCredential);
                Err(self.deny(req, None, r))
            }
            Err(TokenError::Unavailable(why)) => {
                if self.config.fail_open() {
                    return Ok(Arc::new(AuthContext::unauthenticated()));
                }
                tracing::warn!(reason = %why, "the authorization server is unavailable");
                let r = self.unavailable(
                    "authorization_server_unavailable",
                    "the authorization server cannot be reached",
                );
                Err(self.deny(req, None, r))
            }
            // Too many checks in flight: the token was not checked, so never fail_open.
            Err(TokenError::Busy(why)) => {
                tracing::warn!(reason = %why, "too many token checks in flight");
                let r = self.unavailable("token_checks_busy", "too many token checks in flight");
                Err(self.deny(req, None, r))
            }
        }
    }

    /// Every check of a DPoP proof but the replay cache (RFC 9449 §4.3).
    #[cfg(feature = "oauth")]
    fn check_proof(&self, req: &Req<'_>, token: &str) -> Result<VerifiedProof, AuthRejection> {
        let mut proofs = req.headers.get_all(&DPOP).iter();
        let proof = proofs.next().and_then(|p| p.to_str().ok());
        let why = match (proof, proofs.next()) {
            (None, _) => Some("a DPoP proof is required"),
            (Some(_), Some(_)) => Some("send exactly one DPoP header"),
            (Some(p), None) if p.contains(',') => Some("send exactly one DPoP proof"),
            _ => None,
        };
        let invalid = |why: &str| {
            let r = self.refuse(
                "invalid_dpop_proof",
                Scheme::Dpop,
                BearerError::InvalidDpopProof,
                why,
            );
            self.deny(req, None, r)
        };
        if let Some(why) = why {
            return Err(invalid(why));
        }
        let (origin, _) = super::split_url(self.resource());
        let htu = format!("{origin}{}", req.path);
        match verify_proof(
            &self.config.dpop,
            proof.unwrap_or(""),
            req.method.as_str(),
            &htu,
            token,
        ) {
            Ok(p) => Ok(p),
            Err(ProofError::Invalid(why)) => Err(invalid(why)),
            Err(ProofError::UseNonce) => {
                let mut r = self.refuse(
                    "dpop_nonce_required",
                    Scheme::Dpop,
                    BearerError::UseDpopNonce,
                    "Authorization server requires nonce in DPoP proof",
                );
                if let Some(nonce) = self.config.dpop.nonces.as_ref().map(NonceIssuer::current) {
                    r = r.with_dpop_nonce(nonce);
                }
                Err(self.deny(req, None, r))
            }
        }
    }

    #[cfg(feature = "oauth")]
    /// Records an accepted proof's `jti` (DP-12): a second use is a replay; a cache that cannot
    /// answer refuses (fail closed).
    async fn record_proof(&self, req: &Req<'_>, p: &VerifiedProof) -> Result<(), AuthRejection> {
        match self
            .config
            .dpop
            .replay_cache
            .insert_fresh(p.replay_key, p.replay_until)
            .await
        {
            Ok(true) => Ok(()),
            Ok(false) => {
                let why = "the DPoP proof was already used";
                let r = self.refuse(
                    super::DPOP_REPLAYED,
                    Scheme::Dpop,
                    BearerError::InvalidDpopProof,
                    why,
                );
                Err(self.deny(req, None, r))
            }
            Err(ReplayCacheError::Full) => {
                tracing::warn!("the DPoP replay cache is full of unexpired proofs");
                let r = self.unavailable("replay_cache_full", "too many DPoP proofs in flight");
                Err(self.deny(req, None, r))
            }
            Err(e) => {
                tracing::error!(error = %e, "the DPoP replay cache is unavailable");
                let r = self.unavailable(
                    "replay_cache_unavailable",
                    "the DPoP replay cache is unavailable",
                );
                Err(self.deny(req, None, r))
            }
        }
    }

    async fn validate(&self, token: &str) -> Result<AuthContext, TokenError> {
        match self.config.token_validator() {
            Some(v) => v.validate(token, self.resource()).await,
            None => Err(TokenError::Invalid(
                "the token is not an API key of this server".into(),
            )),
        }
    }

    /// The credential of Basic mode.
    #[cfg(feature = "builtin-auth")]
    pub(super) async fn basic_credential(
        &self,
        req: &Req<'_>,
    ) -> Result<Arc<AuthContext>, AuthRejection> {
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
        let key_of =
            || user_name(encoded).map(|name| CredentialKey::of(CredentialKind::Basic, &name));
        let attempt = Presented {
            kind: CredentialKind::Basic,
            key_of: &key_of,
        };
        self.gate(req, attempt)?;
        let outcome = match verifier.verify(encoded).await {
            Ok(user) => {
                let mut ctx = AuthContext::new(CredentialKind::Basic)
                    .with_subject(user.name)
                    .with_role(user.role);
                ctx.workspaces = user.workspaces;
                Ok(Arc::new(ctx))
            }
            Err(BasicRejection::Busy) => {
                let r = self.unavailable("basic_busy", "too many password checks in flight");
                Err(self.deny(req, None, r))
            }
            Err(BasicRejection::Unavailable(e)) => {
                tracing::error!(error = %e, "the user store is unavailable");
                let r = self.unavailable("user_store_unavailable", "the user store is unavailable");
                Err(self.deny(req, None, r))
            }
            Err(rejection) => {
                // A wrong password (or an unknown or disabled user) counts against the user
                // name too; credentials that do not decode name no one.
                let counted = match rejection {
                    BasicRejection::Malformed => Counted::Address,
                    _ => Counted::AddressAndCredential,
                };
                let r =
                    AuthRejection::challenge(rejection.reason(), vec![self.base_challenge(false)])
                        .with_reason_in_body()
                        .with_description(rejection.description())
                        .counted(counted);
                Err(self.deny(req, None, r))
            }
        };
        outcome.map_err(|r| self.settle(req, Some(attempt), r))
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
