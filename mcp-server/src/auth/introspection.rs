//! [`IntrospectionValidator`]: opaque (or any) access tokens checked by asking the
//! authorization server (RFC 7662 token introspection). The answer must say `active`, name this
//! resource in `aud`, come from the configured issuer when it names one, and not be expired; its
//! members become the token's claims, so `scope`, `sub`, `client_id` and a DPoP binding
//! (`cnf.jkt`, RFC 9449 §6.2, DP-14) work as with JWTs.
//!
//! An answer is trusted for at most [`IntrospectionConfig::recheck_after`] (default 60 s), so a
//! revoked token stops working within that time without an introspection call per request.

use crate::clock::now_secs;
use std::time::Duration;

use serde_json::{Map, Value};

use super::context::{AuthContext, CredentialKind};
use super::jwt::scopes_of;
use super::validator::{TokenError, TokenValidator};
use crate::BoxFuture;
use crate::form::form_urlencode;

/// How this server authenticates itself to the introspection endpoint (RFC 7662 §2.1).
#[derive(Clone)]
#[non_exhaustive]
pub enum IntrospectionAuth {
    /// HTTP Basic with the server's client id and secret (`client_secret_basic`).
    ClientSecret {
        /// The client id registered for this resource server.
        client_id: String,
        /// Its secret.
        client_secret: String,
    },
    /// `Authorization: Bearer` with a token the authorization server issued for introspection.
    Bearer(String),
}

impl std::fmt::Debug for IntrospectionAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets never reach logs.
        match self {
            IntrospectionAuth::ClientSecret { client_id, .. } => f
                .debug_struct("ClientSecret")
                .field("client_id", client_id)
                .finish_non_exhaustive(),
            IntrospectionAuth::Bearer(_) => f.write_str("Bearer(..)"),
        }
    }
}

/// Settings of an [`IntrospectionValidator`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IntrospectionConfig {
    /// The introspection endpoint (`introspection_endpoint` of the AS metadata).
    pub endpoint: String,
    /// How this server authenticates to it.
    pub auth: IntrospectionAuth,
    /// The issuer; when the answer names one (`iss`), it must be this one exactly.
    pub issuer: Option<String>,
    /// Accepted audiences; one must appear in `aud`. Empty: the server's resource URL.
    pub audience: Vec<String>,
    /// Whether an answer without `aud` is refused (default true: MCP requires tokens issued for
    /// this resource; turn off only for an authorization server that issues tokens for this
    /// resource alone and omits `aud`).
    pub require_audience: bool,
    /// How long an answer is trusted before the token is introspected again (default 60 s).
    pub recheck_after: Duration,
    /// Clock leeway for `exp` and `nbf` (default 60 s).
    pub leeway: Duration,
    /// Timeout of each introspection request (default 5 s).
    pub http_timeout: Duration,
}

impl IntrospectionConfig {
    /// Introspection at `endpoint`, authenticated with a client id and secret.
    pub fn new(
        endpoint: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        IntrospectionConfig {
            endpoint: endpoint.into(),
            auth: IntrospectionAuth::ClientSecret {
                client_id: client_id.into(),
                client_secret: client_secret.into(),
            },
            issuer: None,
            audience: Vec::new(),
            require_audience: true,
            recheck_after: Duration::from_secs(60),
            leeway: Duration::from_secs(60),
            http_timeout: Duration::from_secs(5),
        }
    }

    /// Authenticates with a bearer token instead of a client secret.
    #[must_use]
    pub fn bearer(mut self, token: impl Into<String>) -> Self {
        self.auth = IntrospectionAuth::Bearer(token.into());
        self
    }

    /// Requires `iss`, when present, to be `issuer`.
    #[must_use]
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Accepts these audiences instead of the server's resource URL.
    #[must_use]
    pub fn audience<I: IntoIterator<Item = S>, S: Into<String>>(mut self, audience: I) -> Self {
        self.audience = audience.into_iter().map(Into::into).collect();
        self
    }

    /// Sets how long an answer is trusted.
    #[must_use]
    pub fn recheck_after(mut self, after: Duration) -> Self {
        self.recheck_after = after;
        self
    }

    /// Accepts answers without `aud`.
    #[must_use]
    pub fn allow_missing_audience(mut self) -> Self {
        self.require_audience = false;
        self
    }
}

/// Validates tokens by RFC 7662 introspection. Network failures, error statuses and
/// unreadable answers are [`TokenError::Unavailable`] (503, fail closed); an inactive,
/// expired or foreign token is [`TokenError::Invalid`] (401).
///
/// ```no_run
/// use mcp_server::auth::{AuthorizationConfig, IntrospectionConfig, IntrospectionValidator};
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let validator = IntrospectionValidator::new(
///     IntrospectionConfig::new("https://auth.example.com/introspect", "mcp-server", "secret")
///         .issuer("https://auth.example.com"),
/// )?;
/// let auth = AuthorizationConfig::enabled()
///     .authorization_server("https://auth.example.com")
///     .validator(validator);
/// # Ok(()) }
/// ```
pub struct IntrospectionValidator {
    config: IntrospectionConfig,
    http: reqwest::Client,
}

impl std::fmt::Debug for IntrospectionValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntrospectionValidator")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl IntrospectionValidator {
    /// A validator with its own HTTP client (no redirects followed).
    pub fn new(config: IntrospectionConfig) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(config.http_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(IntrospectionValidator { config, http })
    }

    /// The settings.
    pub fn config(&self) -> &IntrospectionConfig {
        &self.config
    }

    async fn introspect(&self, token: &str) -> Result<Map<String, Value>, TokenError> {
        let unavailable = |why: &str| TokenError::Unavailable(why.to_owned());
        let request = self
            .http
            .post(&self.config.endpoint)
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "token={}&token_type_hint=access_token",
                form_urlencode(token)
            ));
        let request = match &self.config.auth {
            IntrospectionAuth::ClientSecret {
                client_id,
                client_secret,
            } => {
                // RFC 6749 §2.3.1: both parts form-urlencoded before Basic encoding.
                request.basic_auth(
                    form_urlencode(client_id),
                    Some(form_urlencode(client_secret)),
                )
            }
            IntrospectionAuth::Bearer(t) => request.bearer_auth(t),
        };
        let response = request
            .send()
            .await
            .map_err(|_| unavailable("the introspection endpoint cannot be reached"))?;
        let status = response.status();
        if !status.is_success() {
            tracing::error!(status = status.as_u16(), "token introspection was refused");
            return Err(unavailable(
                "the introspection endpoint refused the request",
            ));
        }
        match response.json::<Value>().await {
            Ok(Value::Object(answer)) => Ok(answer),
            _ => Err(unavailable("the introspection answer is not a JSON object")),
        }
    }

    fn context(
        &self,
        answer: Map<String, Value>,
        resource: &str,
    ) -> Result<AuthContext, TokenError> {
        let invalid = |why: &str| Err(TokenError::Invalid(why.to_owned()));
        if answer.get("active") != Some(&Value::Bool(true)) {
            return invalid("the token is not active");
        }
        let now = now_secs();
        let leeway = self.config.leeway.as_secs();
        let exp = answer.get("exp").and_then(Value::as_u64);
        if exp.is_some_and(|e| e.saturating_add(leeway) <= now) {
            return invalid("the token has expired");
        }
        if answer
            .get("nbf")
            .and_then(Value::as_u64)
            .is_some_and(|n| n > now.saturating_add(leeway))
        {
            return invalid("the token is not valid yet");
        }
        let text = |k: &str| answer.get(k).and_then(Value::as_str).map(str::to_owned);
        if let (Some(expected), Some(iss)) = (&self.config.issuer, text("iss")) {
            if *expected != iss {
                return invalid("the token comes from an untrusted issuer");
            }
        }
        let audiences: Vec<&str> = match answer.get("aud") {
            Some(Value::String(a)) => vec![a.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let accepted: Vec<&str> = if self.config.audience.is_empty() {
            vec![resource]
        } else {
            self.config.audience.iter().map(String::as_str).collect()
        };
        let audience_ok = if audiences.is_empty() {
            !self.config.require_audience
        } else {
            audiences.iter().any(|a| accepted.contains(a))
        };
        if !audience_ok {
            return invalid("the token was not issued for this resource");
        }
        let mut ctx = AuthContext::new(CredentialKind::Bearer).with_scopes(scopes_of(&answer));
        ctx.subject = text("sub");
        ctx.issuer = text("iss");
        ctx.client_id = text("client_id");
        ctx.credential_id = text("jti");
        // Trusted until the token expires or the answer is due for a recheck, whichever is first.
        let recheck = now.saturating_add(self.config.recheck_after.as_secs());
        ctx.expires_at = Some(exp.map_or(recheck, |e| e.min(recheck)));
        ctx.claims = answer;
        Ok(ctx)
    }
}

impl TokenValidator for IntrospectionValidator {
    fn validate<'a>(
        &'a self,
        token: &'a str,
        resource: &'a str,
    ) -> BoxFuture<'a, Result<AuthContext, TokenError>> {
        Box::pin(async move {
            let answer = self.introspect(token).await?;
            self.context(answer, resource)
        })
    }

    fn issuer(&self) -> Option<&str> {
        self.config.issuer.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validator() -> IntrospectionValidator {
        IntrospectionValidator::new(
            IntrospectionConfig::new("http://127.0.0.1:9/introspect", "rs", "s")
                .issuer("https://as.example"),
        )
        .unwrap()
    }

    fn answer(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    const RESOURCE: &str = "https://mcp.example/mcp";

    #[test]
    fn only_active_unexpired_tokens_for_this_resource_from_this_issuer() {
        let v = validator();
        let far = now_secs() + 3600;
        let good = serde_json::json!({"active": true, "scope": "read write", "sub": "u",
            "aud": [RESOURCE, "other"], "iss": "https://as.example", "exp": far,
            "cnf": {"jkt": "abc"}});
        let ctx = v.context(answer(good.clone()), RESOURCE).unwrap();
        assert_eq!(ctx.subject.as_deref(), Some("u"));
        assert!(ctx.has_scope("write"));
        // Rechecked within a minute, whatever the token's own expiry.
        assert!(ctx.expires_at.unwrap() <= now_secs() + 60);
        assert_eq!(ctx.claims["cnf"]["jkt"], "abc");

        let refused = |patch: Value| {
            let mut a = answer(good.clone());
            for (k, val) in patch.as_object().unwrap() {
                if val.is_null() {
                    a.remove(k);
                } else {
                    a.insert(k.clone(), val.clone());
                }
            }
            v.context(a, RESOURCE).unwrap_err()
        };
        assert_eq!(
            refused(serde_json::json!({"active": false})),
            TokenError::Invalid("the token is not active".into())
        );
        assert!(matches!(
            refused(serde_json::json!({"active": "true"})),
            TokenError::Invalid(_)
        ));
        assert!(matches!(
            refused(serde_json::json!({"exp": 1})),
            TokenError::Invalid(_)
        ));
        assert!(matches!(
            refused(serde_json::json!({"aud": "https://other/mcp"})),
            TokenError::Invalid(_)
        ));
        assert!(matches!(
            refused(serde_json::json!({"aud": null})),
            TokenError::Invalid(_)
        ));
        assert!(matches!(
            refused(serde_json::json!({"iss": "https://evil.example"})),
            TokenError::Invalid(_)
        ));
    }

    #[test]
    fn secrets_stay_out_of_debug_output_and_are_form_encoded() {
        let c = IntrospectionConfig::new("https://as/introspect", "rs", "top-secret");
        assert!(!format!("{c:?}").contains("top-secret"));
        assert!(!format!("{:?}", c.bearer("tok-secret")).contains("tok-secret"));
        assert_eq!(form_urlencode("a b:c/é"), "a+b%3Ac%2F%C3%A9");
    }
}
