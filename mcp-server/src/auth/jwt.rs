//! [`JwtValidator`]: JWT access tokens checked against an authorization server's published keys
//! (AZ-11): algorithm allow-list (no `none`, no HMAC against public keys), exact issuer, audience
//! containing this resource (RFC 8707), `exp`/`nbf`/`iat` with a small leeway, optional `typ`,
//! scopes from `scope` (string) or `scp` (array).

use crate::clock::now_secs;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Validation, decode, decode_header};

use super::algorithm::Algorithm;
use super::backend::{ValidatorSetupError, http_client, select_jwt_backend};
use serde_json::{Map, Value};

use super::context::{AuthContext, CredentialKind};
use super::jwks::{Jwks, KeySource};
use super::validator::{TokenError, TokenValidator};
use crate::BoxFuture;
use crate::store::NotReady;

/// Settings of a [`JwtValidator`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JwtValidatorConfig {
    /// The issuer (`iss`), exactly as the authorization server writes it.
    pub issuer: String,
    /// Accepted audiences; one must appear in `aud`. Empty: the server's resource URL is used.
    pub audience: Vec<String>,
    /// Where the keys are; `None` discovers it from the issuer (RFC 8414, then OpenID).
    pub jwks_uri: Option<String>,
    /// Accepted signature algorithms (default RS256, PS256, ES256, EdDSA).
    pub algorithms: Vec<Algorithm>,
    /// Clock leeway for `exp`, `nbf` and `iat` (default 60 s).
    pub leeway: Duration,
    /// Accepted `typ` header values (case-insensitive), e.g. `at+jwt`; `None` accepts any.
    pub required_typ: Option<Vec<String>>,
    /// How long fetched keys are used before a refresh (default 5 minutes).
    pub jwks_ttl: Duration,
    /// The least time between two key fetches (for unknown `kid`s, stale keys, or while no keys
    /// could be fetched: requests in that window are then refused at once) (default 10 s).
    pub jwks_refresh_cooldown: Duration,
    /// The most time one key fetch may take, discovery included (default 5 s): a request that
    /// needs keys waits for them at most this long, then is refused like one made while the
    /// authorization server is down (the last good keys are used if there are any, else 503).
    pub http_timeout: Duration,
    /// The largest answer read from the authorization server, a discovery document or a JWKS
    /// (default [`DEFAULT_MAX_RESPONSE_BYTES`](Self::DEFAULT_MAX_RESPONSE_BYTES), 1 MiB). A
    /// larger one is not read further and the fetch fails (fail closed, as above).
    pub max_response_bytes: usize,
}

impl JwtValidatorConfig {
    /// The default [`max_response_bytes`](Self::max_response_bytes): 1 MiB.
    pub const DEFAULT_MAX_RESPONSE_BYTES: usize = super::backend::DEFAULT_MAX_RESPONSE_BYTES;

    /// Tokens from `issuer` for `audience` (empty string: the server's resource URL), keys by
    /// discovery.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        let audience: String = audience.into();
        JwtValidatorConfig {
            issuer: issuer.into(),
            audience: if audience.is_empty() {
                Vec::new()
            } else {
                vec![audience]
            },
            jwks_uri: None,
            algorithms: vec![
                Algorithm::RS256,
                Algorithm::PS256,
                Algorithm::ES256,
                Algorithm::EdDSA,
            ],
            leeway: Duration::from_secs(60),
            required_typ: None,
            jwks_ttl: Duration::from_secs(300),
            jwks_refresh_cooldown: Duration::from_secs(10),
            http_timeout: Duration::from_secs(5),
            max_response_bytes: Self::DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// Sets the JWKS URL instead of discovering it.
    #[must_use]
    pub fn jwks_uri(mut self, uri: impl Into<String>) -> Self {
        self.jwks_uri = Some(uri.into());
        self
    }

    /// Replaces the algorithm allow-list (public-key algorithms only: HMAC cannot be named).
    #[must_use]
    pub fn algorithms(mut self, algs: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algs.into_iter().collect();
        self
    }

    /// Sets the clock leeway.
    #[must_use]
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Requires the RFC 9068 `typ` (`at+jwt` or `application/at+jwt`).
    #[must_use]
    pub fn require_at_jwt(mut self) -> Self {
        self.required_typ = Some(vec!["at+jwt".into(), "application/at+jwt".into()]);
        self
    }

    /// Sets how long keys are cached and the refetch cooldown.
    #[must_use]
    pub fn jwks_cache(mut self, ttl: Duration, refresh_cooldown: Duration) -> Self {
        self.jwks_ttl = ttl;
        self.jwks_refresh_cooldown = refresh_cooldown;
        self
    }

    /// Sets how long one key fetch may take, discovery included (default 5 s).
    #[must_use]
    pub fn http_timeout(mut self, timeout: Duration) -> Self {
        self.http_timeout = timeout;
        self
    }

    /// Sets the largest answer read from the authorization server (default 1 MiB).
    #[must_use]
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Auth0: `https://<domain>/` issuer, keys at `/.well-known/jwks.json`.
    pub fn auth0(domain: &str, audience: &str) -> Self {
        Self::new(format!("https://{domain}/"), audience)
            .jwks_uri(format!("https://{domain}/.well-known/jwks.json"))
    }

    /// Okta custom authorization server (`default` for the default one).
    pub fn okta(domain: &str, server_id: &str, audience: &str) -> Self {
        let issuer = format!("https://{domain}/oauth2/{server_id}");
        let jwks = format!("{issuer}/v1/keys");
        Self::new(issuer, audience).jwks_uri(jwks)
    }

    /// Keycloak realm at `base_url` (e.g. `https://keycloak.example.com`).
    pub fn keycloak(base_url: &str, realm: &str, audience: &str) -> Self {
        let issuer = format!("{}/realms/{realm}", base_url.trim_end_matches('/'));
        let jwks = format!("{issuer}/protocol/openid-connect/certs");
        Self::new(issuer, audience).jwks_uri(jwks)
    }

    /// Microsoft Entra ID (v2.0 tokens) of `tenant_id`.
    pub fn entra(tenant_id: &str, audience: &str) -> Self {
        Self::new(
            format!("https://login.microsoftonline.com/{tenant_id}/v2.0"),
            audience,
        )
        .jwks_uri(format!(
            "https://login.microsoftonline.com/{tenant_id}/discovery/v2.0/keys"
        ))
    }
}

/// Validates JWT access tokens. Share one per issuer: it owns the key cache.
pub struct JwtValidator {
    config: JwtValidatorConfig,
    jwks: Jwks,
}

impl std::fmt::Debug for JwtValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtValidator")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn describe(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ExpiredSignature => "the token has expired",
        ErrorKind::ImmatureSignature => "the token is not valid yet",
        ErrorKind::InvalidAudience => "the token was not issued for this resource",
        ErrorKind::InvalidIssuer => "the token comes from an untrusted issuer",
        ErrorKind::InvalidSignature => "the token signature is invalid",
        ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim",
        ErrorKind::InvalidAlgorithm => "the token algorithm is not allowed",
        _ => "the token is malformed",
    }
}

/// Whether the `alg` of a token's header is written as a string, as RFC 7515 §4.1.1 requires.
/// The JOSE library's header type reads more: `{"alg": {"EdDSA": null}}` is EdDSA to it (serde's
/// map form of an enum), so a header no other JOSE implementation would accept could pass.
fn alg_is_a_string(token: &str) -> bool {
    let Some(segment) = token.split('.').next() else {
        return false;
    };
    URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Map<String, Value>>(&bytes).ok())
        .is_some_and(|header| header.get("alg").is_some_and(Value::is_string))
}

/// Scopes from `scope` (space-separated) or `scp` (array or string).
pub(crate) fn scopes_of(claims: &Map<String, Value>) -> Vec<String> {
    let split = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    match (claims.get("scope"), claims.get("scp")) {
        (Some(Value::String(s)), _) => split(s),
        (_, Some(Value::Array(a))) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        (_, Some(Value::String(s))) => split(s),
        _ => Vec::new(),
    }
}

impl JwtValidator {
    /// A validator. With no audience in the config, tokens must name the server's resource URL.
    pub fn new(config: JwtValidatorConfig) -> Result<Self, ValidatorSetupError> {
        select_jwt_backend();
        let http = http_client(config.http_timeout)?;
        let source = match &config.jwks_uri {
            Some(u) => KeySource::Url(u.clone()),
            None => KeySource::Discover {
                issuer: config.issuer.clone(),
            },
        };
        let jwks = Jwks::new(
            source,
            http,
            (config.jwks_ttl, config.jwks_refresh_cooldown),
            config.http_timeout,
            config.max_response_bytes,
        );
        Ok(JwtValidator { config, jwks })
    }

    /// A validator whose keys are `jwks`, fixed: never fetched, never refreshed (fuzz builds
    /// and tests only). `None` when `jwks` is not a JWKS or the HTTP client cannot be built.
    #[cfg(any(fuzzing, all(test, feature = "aws-lc")))]
    pub(crate) fn with_keys(config: JwtValidatorConfig, jwks: &Value) -> Option<Self> {
        select_jwt_backend();
        let http = http_client(config.http_timeout).ok()?;
        let jwks = Jwks::preloaded(jwks, http)?;
        Some(JwtValidator { config, jwks })
    }

    /// The settings.
    pub fn config(&self) -> &JwtValidatorConfig {
        &self.config
    }

    async fn check(&self, token: &str, resource: &str) -> Result<AuthContext, TokenError> {
        let invalid = |m: &str| TokenError::Invalid(m.to_owned());
        let header = decode_header(token).map_err(|_| invalid("the token is malformed"))?;
        if !alg_is_a_string(token) {
            return Err(invalid("the token is malformed"));
        }
        let alg = Algorithm::from_jwt(header.alg)
            .filter(|a| self.config.algorithms.contains(a))
            .ok_or_else(|| invalid("the token algorithm is not allowed"))?;
        let family = alg.family();
        if let Some(allowed) = &self.config.required_typ {
            let typ = header.typ.as_deref().unwrap_or("");
            if !allowed.iter().any(|t| t.eq_ignore_ascii_case(typ)) {
                return Err(invalid("the token type is not an access token"));
            }
        }
        let keys = self.jwks.key(header.kid.as_deref()).await?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.config.issuer]);
        if self.config.audience.is_empty() {
            validation.set_audience(&[resource]);
        } else {
            validation.set_audience(&self.config.audience);
        }
        validation.leeway = self.config.leeway.as_secs();
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let mut last = invalid("unknown signing key");
        for key in keys
            .iter()
            .filter(|k| k.family == family && k.alg.is_none_or(|a| a == alg))
        {
            match decode::<Map<String, Value>>(token, &key.decoding, &validation) {
                Ok(data) => return self.context(data.claims),
                Err(e) if matches!(e.kind(), ErrorKind::InvalidSignature) => {
                    last = invalid(describe(e.kind()));
                }
                Err(e) => return Err(invalid(describe(e.kind()))),
            }
        }
        Err(last)
    }

    fn context(&self, claims: Map<String, Value>) -> Result<AuthContext, TokenError> {
        if let Some(iat) = claims.get("iat").and_then(Value::as_u64) {
            if iat > now_secs().saturating_add(self.config.leeway.as_secs()) {
                return Err(TokenError::Invalid(
                    "the token was issued in the future".into(),
                ));
            }
        }
        let text = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_owned);
        let mut ctx = AuthContext::new(CredentialKind::Bearer).with_scopes(scopes_of(&claims));
        ctx.subject = text("sub");
        ctx.issuer = text("iss");
        ctx.client_id = text("client_id").or_else(|| text("azp"));
        ctx.credential_id = text("jti");
        ctx.expires_at = claims.get("exp").and_then(Value::as_u64);
        ctx.claims = claims;
        Ok(ctx)
    }
}

impl TokenValidator for JwtValidator {
    fn validate<'a>(
        &'a self,
        token: &'a str,
        resource: &'a str,
    ) -> BoxFuture<'a, Result<AuthContext, TokenError>> {
        Box::pin(self.check(token, resource))
    }

    fn issuer(&self) -> Option<&str> {
        Some(&self.config.issuer)
    }

    /// Ready while signing keys are cached; otherwise one key fetch decides (the fetch token
    /// checks share: single-flight, at most one per `jwks_refresh_cooldown`, bounded by
    /// `http_timeout`).
    fn readiness(&self) -> BoxFuture<'_, Result<(), NotReady>> {
        Box::pin(self.jwks.readiness())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_come_from_scope_or_scp() {
        let m = |v: Value| v.as_object().cloned().unwrap();
        assert_eq!(
            scopes_of(&m(serde_json::json!({"scope": "a b"}))),
            ["a", "b"]
        );
        assert_eq!(
            scopes_of(&m(serde_json::json!({"scp": ["x", "y"]}))),
            ["x", "y"]
        );
        assert!(scopes_of(&m(serde_json::json!({}))).is_empty());
    }

    /// Fuzzing finding (fuzz/regressions/jwt/alg-object): a header whose `alg` is the map form
    /// of the enum, `{"EdDSA": null}`, was read as EdDSA and the token accepted. RFC 7515 makes
    /// `alg` a string: such a token is malformed, however well signed.
    #[cfg(feature = "aws-lc")]
    #[tokio::test]
    async fn alg_must_be_a_string() {
        use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
        let key = Ed25519KeyPair::from_seed_unchecked(&[7; 32]).unwrap();
        let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
        let jwks = serde_json::json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k",
            "x": b64(key.public_key().as_ref())}]});
        let config = JwtValidatorConfig::new("https://issuer.example", "https://rs.example/mcp");
        let validator = JwtValidator::with_keys(config, &jwks).unwrap();
        let claims = serde_json::json!({"iss": "https://issuer.example",
            "aud": "https://rs.example/mcp", "exp": now_secs() + 600});
        let token = |header: Value| {
            let input = format!(
                "{}.{}",
                b64(header.to_string().as_bytes()),
                b64(claims.to_string().as_bytes())
            );
            let sig = key.sign(input.as_bytes());
            format!("{input}.{}", b64(sig.as_ref()))
        };
        let good = token(serde_json::json!({"alg": "EdDSA", "kid": "k"}));
        assert!(validator.validate(&good, "").await.is_ok());
        for alg in [
            serde_json::json!({"EdDSA": null}),
            serde_json::json!(["EdDSA"]),
        ] {
            let bad = token(serde_json::json!({"alg": alg, "kid": "k"}));
            assert!(
                matches!(
                    validator.validate(&bad, "").await,
                    Err(TokenError::Invalid(_))
                ),
                "alg {alg} accepted"
            );
        }
    }

    #[test]
    fn hmac_is_never_allowed() {
        let c = JwtValidatorConfig::new("i", "a").algorithms([Algorithm::ES256]);
        assert_eq!(c.algorithms, [Algorithm::ES256]);
    }
}
