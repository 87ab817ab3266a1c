//! [`IntrospectionValidator`]: opaque (or any) access tokens checked by asking the
//! authorization server (RFC 7662 token introspection). The answer must say `active`, name this
//! resource in `aud`, come from the configured issuer when it names one, and not be expired; its
//! members become the token's claims, so `scope`, `sub`, `client_id` and a DPoP binding
//! (`cnf.jkt`, RFC 9449 §6.2, DP-14) work as with JWTs.
//!
//! An answer is trusted for at most [`IntrospectionConfig::recheck_after`] (default 60 s), so a
//! revoked token stops working within that time without an introspection call per request.
//!
//! What the outbound calls cost is bounded, since anyone can present a token:
//! - an invalid token is remembered as invalid for
//!   [`negative_cache_ttl`](IntrospectionConfig::negative_cache_ttl) (default 30 s; by a SHA-256
//!   digest of the token and the resource, never the token; at most
//!   [`negative_cache_capacity`](IntrospectionConfig::negative_cache_capacity) entries), so
//!   repeating it costs no call;
//! - identical concurrent checks of one token share one call (single flight);
//! - at most [`max_concurrent`](IntrospectionConfig::max_concurrent) calls are in flight; a check
//!   that finds no slot within [`max_wait`](IntrospectionConfig::max_wait) is
//!   [`TokenError::Busy`] (503, never let in by `fail_open`).
//!
//! Only a network failure, a timeout or a 5xx answer means the authorization server is
//! unavailable ([`TokenError::Unavailable`]); any other refusal (a 400 about this token, a 429,
//! a 401 about this server's own credentials) or an unreadable answer (not a JSON object, or
//! larger than [`max_response_bytes`](IntrospectionConfig::max_response_bytes), which is never
//! read past that bound) is [`TokenError::Invalid`], so `fail_open` never lets such a token in.

use crate::clock::now_secs;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use tokio::sync::Semaphore;

use super::backend::{BodyError, read_bounded};
use super::context::{AuthContext, CredentialKind};
use super::flight::{FlightTicket, Flights};
use super::jwt::scopes_of;
use super::token_cache::token_digest;
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
    /// Timeout of each introspection request, reading the answer included (default 5 s).
    pub http_timeout: Duration,
    /// The largest introspection answer read (default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`](Self::DEFAULT_MAX_RESPONSE_BYTES), 1 MiB); a larger one is
    /// not read further, and the token is refused as invalid (401).
    pub max_response_bytes: usize,
    /// How long an invalid token is remembered as invalid, answered without a call (default
    /// 30 s; zero remembers nothing).
    pub negative_cache_ttl: Duration,
    /// How many invalid tokens are remembered at most (default 10,000); the oldest is forgotten
    /// first.
    pub negative_cache_capacity: usize,
    /// How many introspection requests may be in flight at once (default 32, at least 1).
    pub max_concurrent: usize,
    /// How long a check waits for a free slot before it is refused as busy (default 1 s).
    pub max_wait: Duration,
}

impl IntrospectionConfig {
    /// The default [`max_response_bytes`](Self::max_response_bytes): 1 MiB.
    pub const DEFAULT_MAX_RESPONSE_BYTES: usize = super::backend::DEFAULT_MAX_RESPONSE_BYTES;

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
            max_response_bytes: Self::DEFAULT_MAX_RESPONSE_BYTES,
            negative_cache_ttl: Duration::from_secs(30),
            negative_cache_capacity: 10_000,
            max_concurrent: 32,
            max_wait: Duration::from_secs(1),
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

    /// Sets the timeout of each introspection request (default 5 s).
    #[must_use]
    pub fn http_timeout(mut self, timeout: Duration) -> Self {
        self.http_timeout = timeout;
        self
    }

    /// Sets the largest introspection answer read (default 1 MiB).
    #[must_use]
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Remembers invalid tokens for `ttl`, at most `capacity` of them (zero for either turns
    /// the negative cache off).
    #[must_use]
    pub fn negative_cache(mut self, ttl: Duration, capacity: usize) -> Self {
        self.negative_cache_ttl = ttl;
        self.negative_cache_capacity = capacity;
        self
    }

    /// Allows at most `max_concurrent` introspection requests in flight; a check waits at most
    /// `max_wait` for a slot, then is refused as busy.
    #[must_use]
    pub fn concurrency(mut self, max_concurrent: usize, max_wait: Duration) -> Self {
        self.max_concurrent = max_concurrent.max(1);
        self.max_wait = max_wait;
        self
    }
}

/// A SHA-256 digest.
type Digest = [u8; 32];

/// What one introspection call established: the answer, or why there is none.
type Introspected = Result<Map<String, Value>, TokenError>;

/// Why a token was refused, refusals that may change soon (`nbf`) excepted from the negative
/// cache.
const NOT_YET_VALID: &str = "the token is not valid yet";

/// Refused tokens with until when and why, and the same in arrival order (oldest first).
type Refused = (
    HashMap<Digest, (Instant, TokenError)>,
    VecDeque<(Digest, Instant)>,
);

/// Invalid tokens (by digest) until when they are answered as invalid without a call. Bounded:
/// expired entries leave first, then the oldest (forgetting one costs one more call, nothing
/// else). Entries all live `ttl`, so arrival order is expiry order.
struct NegativeCache {
    ttl: Duration,
    capacity: usize,
    inner: Mutex<Refused>,
}

impl NegativeCache {
    fn new(ttl: Duration, capacity: usize) -> Self {
        NegativeCache {
            ttl,
            capacity,
            inner: Mutex::new((HashMap::new(), VecDeque::new())),
        }
    }

    /// Why `key` was refused, if it was less than `ttl` ago.
    fn get(&self, key: &Digest) -> Option<TokenError> {
        let guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (until, why) = guard.0.get(key)?;
        (Instant::now() < *until).then(|| why.clone())
    }

    fn insert(&self, key: Digest, why: TokenError) {
        if self.ttl.is_zero() || self.capacity == 0 {
            return;
        }
        let now = Instant::now();
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (map, order) = &mut *guard;
        if map.get(&key).is_some_and(|(until, _)| now < *until) {
            return;
        }
        while let Some(&(k, until)) = order.front() {
            if until > now && map.len() < self.capacity {
                break;
            }
            order.pop_front();
            if map.get(&k).is_some_and(|(u, _)| *u == until) {
                map.remove(&k);
            }
        }
        let until = now + self.ttl;
        map.insert(key, (until, why));
        order.push_back((key, until));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.lock().map_or(0, |g| g.0.len())
    }
}

/// The negative-cache key: the token and the resource it was presented to (the audience check
/// depends on it), domain-separated and length-prefixed.
fn negative_key(token: &str, resource: &str) -> Digest {
    let mut ctx = crate::crypto::Sha256::new();
    for part in [
        b"mcp-introspection-negative:v1".as_slice(),
        token.as_bytes(),
        resource.as_bytes(),
    ] {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part);
    }
    ctx.finish()
}

/// Introspections in flight, by token digest: a second check of the same token awaits the
/// first one's answer instead of making its own call.
type InFlight = Flights<Introspected>;

/// Validates tokens by RFC 7662 introspection. Network failures, timeouts and 5xx answers are
/// [`TokenError::Unavailable`] (503, fail closed); too many checks in flight is
/// [`TokenError::Busy`] (503); an inactive, expired or foreign token, any other refusal of the
/// introspection endpoint and an unreadable answer are [`TokenError::Invalid`] (401).
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
    /// One permit per introspection request allowed in flight.
    permits: Semaphore,
    negative: NegativeCache,
    flights: InFlight,
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
    pub fn new(config: IntrospectionConfig) -> Result<Self, super::backend::ValidatorSetupError> {
        let http = super::backend::http_client(config.http_timeout)?;
        Ok(IntrospectionValidator {
            permits: Semaphore::new(config.max_concurrent.max(1)),
            negative: NegativeCache::new(config.negative_cache_ttl, config.negative_cache_capacity),
            flights: Mutex::new(HashMap::new()),
            config,
            http,
        })
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
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), "token introspection failed");
            return Err(unavailable("the introspection endpoint failed"));
        }
        if !status.is_success() {
            // About this token (400), this server's credentials (401, 403) or its pace (429):
            // the token is not shown valid, and no outage lets it in under `fail_open`.
            tracing::warn!(status = status.as_u16(), "token introspection was refused");
            return Err(TokenError::Invalid(
                "the authorization server refused to introspect the token".to_owned(),
            ));
        }
        let body = match read_bounded(response, self.config.max_response_bytes).await {
            Ok(body) => body,
            Err(BodyError::TooLarge(limit)) => {
                tracing::warn!(limit, "the introspection answer is too large; not read");
                return Err(TokenError::Invalid(
                    "the introspection answer is too large".to_owned(),
                ));
            }
            Err(BodyError::Read(_)) => {
                return Err(unavailable("the introspection answer could not be read"));
            }
        };
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(answer)) => Ok(answer),
            _ => {
                tracing::warn!("the introspection answer is not a JSON object");
                Err(TokenError::Invalid(
                    "the introspection answer is not a JSON object".to_owned(),
                ))
            }
        }
    }

    /// [`introspect`](Self::introspect) once a slot is free: `Busy` when none frees up within
    /// `max_wait`.
    async fn introspect_bounded(&self, token: &str) -> Introspected {
        let permit = tokio::time::timeout(self.config.max_wait, self.permits.acquire()).await;
        let Ok(Ok(_permit)) = permit else {
            tracing::warn!("too many token introspections in flight");
            return Err(TokenError::Busy(
                "too many token checks are in progress".to_owned(),
            ));
        };
        use tracing::Instrument;
        let span = crate::telemetry::outgoing("oauth.introspect", None);
        let answer = self.introspect(token).instrument(span.clone()).await;
        // A refused token is an answer, not a failed call.
        if matches!(
            answer,
            Err(TokenError::Unavailable(_) | TokenError::Busy(_))
        ) {
            crate::telemetry::failed(&span);
        }
        answer
    }

    /// The introspection answer for `token`, sharing the call of a concurrent check of the same
    /// token.
    async fn introspect_shared(&self, token: &str) -> Introspected {
        let ticket = FlightTicket::join(&self.flights, token_digest(token));
        match ticket.cell() {
            Some(cell) => cell
                .get_or_init(|| self.introspect_bounded(token))
                .await
                .clone(),
            None => self.introspect_bounded(token).await,
        }
    }

    /// The whole check: the negative cache, then one (shared, bounded) call.
    async fn check(&self, token: &str, resource: &str) -> Result<AuthContext, TokenError> {
        let negative = negative_key(token, resource);
        if let Some(why) = self.negative.get(&negative) {
            return Err(why);
        }
        let result = self
            .introspect_shared(token)
            .await
            .and_then(|answer| self.context(answer, resource));
        if let Err(e @ TokenError::Invalid(why)) = &result {
            if why != NOT_YET_VALID {
                self.negative.insert(negative, e.clone());
            }
        }
        result
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
            return invalid(NOT_YET_VALID);
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
        Box::pin(self.check(token, resource))
    }

    fn issuer(&self) -> Option<&str> {
        self.config.issuer.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::until;
    use std::sync::Arc;

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

    /// An introspection endpoint on 127.0.0.1:0 answering `status` and `body`, counting calls
    /// and the most in flight at once, holding each answer until the gate opens.
    struct Stub {
        url: String,
        calls: Arc<std::sync::atomic::AtomicUsize>,
        peak: Arc<std::sync::atomic::AtomicUsize>,
        gate: tokio::sync::watch::Sender<bool>,
    }

    async fn stub(status: u16, body: Value, gated: bool) -> Stub {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let calls = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let running = Arc::new(AtomicUsize::new(0));
        let (gate, open) = tokio::sync::watch::channel(!gated);
        let (c, p) = (Arc::clone(&calls), Arc::clone(&peak));
        let handler = move || {
            let (c, p, r, mut open) = (c.clone(), p.clone(), running.clone(), open.clone());
            let body = body.clone();
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                p.fetch_max(r.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                let _ = open.wait_for(|o| *o).await;
                r.fetch_sub(1, Ordering::SeqCst);
                let status = http::StatusCode::from_u16(status).unwrap();
                (status, body.to_string())
            }
        };
        let app = axum::Router::new().route("/introspect", axum::routing::post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/introspect", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Stub {
            url,
            calls,
            peak,
            gate,
        }
    }

    impl Stub {
        fn calls(&self) -> usize {
            self.calls.load(std::sync::atomic::Ordering::SeqCst)
        }
        fn validator(
            &self,
            tune: impl FnOnce(IntrospectionConfig) -> IntrospectionConfig,
        ) -> Arc<IntrospectionValidator> {
            let config =
                IntrospectionConfig::new(&self.url, "rs", "s").issuer("https://as.example");
            Arc::new(IntrospectionValidator::new(tune(config)).unwrap())
        }
    }

    fn active() -> Value {
        serde_json::json!({"active": true, "aud": RESOURCE, "iss": "https://as.example",
            "scope": "read", "exp": now_secs() + 3600})
    }

    /// Finding 2 (AZ-18): only a network failure, a timeout or a 5xx is "unavailable" (which
    /// `fail_open` may let in); a 400, 401, 403 or 429 and an unreadable answer are invalid.
    #[tokio::test]
    async fn az18_only_network_failures_and_5xx_are_unavailable_other_refusals_are_invalid() {
        for status in [400, 401, 403, 404, 429] {
            let s = stub(status, serde_json::json!({"error": "x"}), false).await;
            let r = s.validator(|c| c).validate("tok", RESOURCE).await;
            assert!(matches!(r, Err(TokenError::Invalid(_))), "{status}: {r:?}");
        }
        for status in [500, 502, 503] {
            let s = stub(status, serde_json::json!({}), false).await;
            let r = s.validator(|c| c).validate("tok", RESOURCE).await;
            assert!(
                matches!(r, Err(TokenError::Unavailable(_))),
                "{status}: {r:?}"
            );
        }
        let s = stub(200, serde_json::json!(["not", "an", "object"]), false).await;
        let r = s.validator(|c| c).validate("tok", RESOURCE).await;
        assert!(matches!(r, Err(TokenError::Invalid(_))), "{r:?}");
        // Nothing listens there any more: unreachable.
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/introspect", closed.local_addr().unwrap());
        drop(closed);
        let v = IntrospectionValidator::new(IntrospectionConfig::new(url, "rs", "s")).unwrap();
        let r = v.validate("tok-SECRET-4242", RESOURCE).await;
        assert!(matches!(r, Err(TokenError::Unavailable(_))), "{r:?}");
        // The token never shows in what the refusal says.
        assert!(!format!("{r:?}").contains("SECRET-4242"));
    }

    /// Finding 2: a repeated invalid token costs one outbound call, whether the endpoint said
    /// `active: false` or refused it; an outage (5xx) is never remembered.
    #[tokio::test]
    async fn a_repeated_invalid_token_costs_one_introspection_call() {
        let s = stub(200, serde_json::json!({"active": false}), false).await;
        let v = s.validator(|c| c);
        for _ in 0..5 {
            let r = v.validate("junk", RESOURCE).await;
            assert_eq!(
                r,
                Err(TokenError::Invalid("the token is not active".into()))
            );
        }
        assert_eq!(s.calls(), 1);
        // Another token, or the same one for another resource, is asked about.
        let _ = v.validate("junk2", RESOURCE).await;
        let _ = v.validate("junk", "https://other.example/mcp").await;
        assert_eq!(s.calls(), 3);

        let s = stub(400, serde_json::json!({"error": "invalid_request"}), false).await;
        let v = s.validator(|c| c);
        for _ in 0..5 {
            assert!(matches!(
                v.validate("junk", RESOURCE).await,
                Err(TokenError::Invalid(_))
            ));
        }
        assert_eq!(s.calls(), 1);

        let s = stub(500, serde_json::json!({}), false).await;
        let v = s.validator(|c| c);
        for _ in 0..3 {
            let _ = v.validate("junk", RESOURCE).await;
        }
        assert_eq!(s.calls(), 3, "an outage is not a verdict about the token");

        // Turned off: every check asks.
        let s = stub(200, serde_json::json!({"active": false}), false).await;
        let v = s.validator(|c| c.negative_cache(Duration::ZERO, 10));
        for _ in 0..3 {
            let _ = v.validate("junk", RESOURCE).await;
        }
        assert_eq!(s.calls(), 3);
    }

    /// Finding 2: the negative cache never holds more than its capacity; the newest stays.
    #[test]
    fn the_negative_cache_stays_bounded() {
        let cache = NegativeCache::new(Duration::from_secs(60), 3);
        let why = TokenError::Invalid("the token is not active".into());
        for i in 0..100u8 {
            cache.insert([i; 32], why.clone());
            assert!(cache.len() <= 3);
        }
        assert_eq!(cache.get(&[99; 32]), Some(why));
        assert_eq!(cache.get(&[0; 32]), None);
        assert!(cache.inner.lock().unwrap().1.len() <= 3);
    }

    /// Finding 2: identical concurrent checks of one token make one call; the flight table
    /// empties afterwards, also when a waiting check is cancelled.
    #[tokio::test]
    async fn identical_concurrent_introspections_share_one_call() {
        let s = stub(200, active(), true).await;
        let v = s.validator(|c| c);
        let tasks: Vec<_> = (0..5)
            .map(|_| {
                let v = Arc::clone(&v);
                tokio::spawn(async move { v.validate("same", RESOURCE).await })
            })
            .collect();
        let key = token_digest("same");
        let sharers = |v: &IntrospectionValidator| {
            v.flights
                .lock()
                .unwrap()
                .get(&key)
                .map_or(0, |c| Arc::strong_count(c) - 1)
        };
        until(|| sharers(&v) == 5 && s.calls() == 1).await;
        s.gate.send_replace(true);
        for t in tasks {
            assert!(t.await.unwrap().is_ok());
        }
        assert_eq!(s.calls(), 1);
        assert!(v.flights.lock().unwrap().is_empty());

        // A leader cancelled mid-call leaves no flight behind.
        s.gate.send_replace(false);
        let leader = {
            let v = Arc::clone(&v);
            tokio::spawn(async move { v.validate("other", RESOURCE).await })
        };
        until(|| s.calls() == 2).await;
        leader.abort();
        let _ = leader.await;
        assert!(v.flights.lock().unwrap().is_empty());
        s.gate.send_replace(true);
    }

    /// Finding 2: at most `max_concurrent` calls are in flight; a check that finds no slot is
    /// `Busy` (never `Unavailable`, which `fail_open` would let in) and is not remembered.
    #[tokio::test]
    async fn introspections_in_flight_are_bounded_and_the_rest_is_busy() {
        let s = stub(200, active(), true).await;
        let v = s.validator(|c| c.concurrency(2, Duration::ZERO));
        let first: Vec<_> = (0..2)
            .map(|i| {
                let v = Arc::clone(&v);
                tokio::spawn(async move { v.validate(&format!("t{i}"), RESOURCE).await })
            })
            .collect();
        until(|| s.calls() == 2).await;
        for i in 2..6 {
            let r = v.validate(&format!("t{i}"), RESOURCE).await;
            assert!(matches!(r, Err(TokenError::Busy(_))), "{r:?}");
        }
        s.gate.send_replace(true);
        for t in first {
            assert!(t.await.unwrap().is_ok());
        }
        assert_eq!(s.calls(), 2);
        assert_eq!(s.peak.load(std::sync::atomic::Ordering::SeqCst), 2);
        // Busy was not a verdict: the same token is checked once a slot is free.
        assert!(v.validate("t2", RESOURCE).await.is_ok());
        assert_eq!(s.calls(), 3);
    }

    #[test]
    fn secrets_stay_out_of_debug_output_and_are_form_encoded() {
        let c = IntrospectionConfig::new("https://as/introspect", "rs", "top-secret");
        assert!(!format!("{c:?}").contains("top-secret"));
        assert!(!format!("{:?}", c.bearer("tok-secret")).contains("tok-secret"));
        assert_eq!(form_urlencode("a b:c/é"), "a+b%3Ac%2F%C3%A9");
    }
}
