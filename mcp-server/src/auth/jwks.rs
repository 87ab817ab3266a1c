//! Fetching and caching an authorization server's signing keys (AZ-11a, AZ-11h): fetched once
//! and shared, refreshed single-flight when stale, refetched on an unknown `kid` at most once per
//! cooldown, last good keys kept while the server is unreachable. The JWKS URL can come from
//! RFC 8414 or OpenID Connect discovery on the issuer.
//!
//! Fetches are single-flight: one request fetches, every other request that needs keys awaits
//! that fetch's outcome (no lock is held across the network, and nobody fetches again right
//! after it). At most one fetch starts per cooldown: while no keys are cached, a failed fetch is
//! remembered for the cooldown, and requests in that window are refused at once
//! ([`TokenError::Unavailable`]) without a fetch. Only signature keys are used: a JWK with
//! `"use"` other than `"sig"`, or with `key_ops` lacking `"verify"`, is ignored (finding 14b).
//!
//! A fetch is bounded in time and size: the whole fetch, discovery included, ends within the
//! fetch timeout (`JwtValidatorConfig::http_timeout`), so a slow authorization server never holds
//! a request longer than that; and no answer is read past `max_response_bytes` (default 1 MiB),
//! so a huge body is refused, not buffered. Both fail closed like an unreachable server: the
//! last good keys stay in use, and without any the request is refused (503).
//!
//! Several keys under one `kid` (a JWKS that repeats a `kid`) are all kept: a token naming that
//! `kid` is accepted when any of them verifies it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyOperations, PublicKeyUse};

use super::algorithm::{Algorithm, KeyFamily};
use super::backend::read_bounded;
use tokio::sync::OnceCell;

use super::validator::TokenError;
use crate::store::NotReady;

/// One usable key.
#[derive(Clone)]
pub(crate) struct Key {
    pub decoding: DecodingKey,
    /// The key family, to refuse algorithm confusion (an RSA key never checks an ES256 token).
    pub family: KeyFamily,
    /// The `alg` the JWK is pinned to, if any.
    pub alg: Option<Algorithm>,
}

struct KeySet {
    /// Keys by `kid`; a `kid` the JWKS repeats has all of its keys here.
    by_kid: HashMap<String, Vec<Key>>,
    /// Keys without a `kid`, tried when a token names none.
    anonymous: Vec<Key>,
    fetched: Instant,
}

/// Where the keys come from.
#[derive(Debug, Clone)]
pub(crate) enum KeySource {
    Url(String),
    Discover { issuer: String },
}

/// The outcome of one fetch, shared by everyone who awaited it.
type Fetch = Arc<OnceCell<Result<(), String>>>;

/// When keys were last fetched, and the fetch in flight.
#[derive(Default)]
struct RefreshState {
    /// The fetch in flight: every request that needs keys awaits this one.
    flight: Option<Fetch>,
    /// When the last fetch ended, and how (`Err` while it failed): no fetch starts within the
    /// cooldown after it.
    last: Option<(Instant, Result<(), String>)>,
}

/// A shared, self-refreshing JWKS.
pub(crate) struct Jwks {
    source: KeySource,
    http: reqwest::Client,
    ttl: Duration,
    cooldown: Duration,
    /// The most time one fetch (discovery and JWKS together) may take.
    fetch_timeout: Duration,
    /// The largest answer read (a discovery document or a JWKS).
    max_bytes: usize,
    keys: ArcSwapOption<KeySet>,
    /// Held only to read or update the state, never across a fetch.
    state: Mutex<RefreshState>,
    resolved_url: ArcSwapOption<String>,
    /// How many fetches started (for tests).
    #[cfg(test)]
    fetches: std::sync::atomic::AtomicUsize,
}

/// Whether a JWK may verify signatures: no `use` or `"use": "sig"`, and `key_ops`, when
/// present, including `"verify"` (RFC 7517 §4.2, §4.3). An encryption key is never a
/// signature key here, whatever its type.
fn verifies_signatures(jwk: &Jwk) -> bool {
    let use_ok = matches!(
        jwk.common.public_key_use,
        None | Some(PublicKeyUse::Signature)
    );
    let ops_ok = jwk
        .common
        .key_operations
        .as_ref()
        .is_none_or(|ops| ops.contains(&KeyOperations::Verify));
    use_ok && ops_ok
}

/// The usable keys of a JWKS document. Each key is read on its own: one key this crate cannot
/// read (an unknown `kty`, a malformed member) does not hide the others.
fn parse_set(doc: &serde_json::Value) -> Option<KeySet> {
    let keys = doc.get("keys")?.as_array()?;
    let mut by_kid = HashMap::new();
    let mut anonymous = Vec::new();
    for jwk in keys
        .iter()
        .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
    {
        if !verifies_signatures(&jwk) {
            continue;
        }
        let family = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => KeyFamily::Rsa,
            AlgorithmParameters::EllipticCurve(_) => KeyFamily::Ec,
            AlgorithmParameters::OctetKeyPair(_) => KeyFamily::Okp,
            // Symmetric keys never verify tokens here (AZ-11c), nor do kinds unknown to us.
            _ => continue,
        };
        let Ok(decoding) = DecodingKey::from_jwk(&jwk) else {
            continue;
        };
        let alg = jwk
            .common
            .key_algorithm
            .and_then(|a| a.to_string().parse::<Algorithm>().ok());
        let key = Key {
            decoding,
            family,
            alg,
        };
        match &jwk.common.key_id {
            Some(kid) => by_kid.entry(kid.clone()).or_insert_with(Vec::new).push(key),
            None => anonymous.push(key),
        }
    }
    Some(KeySet {
        by_kid,
        anonymous,
        fetched: Instant::now(),
    })
}

/// The RFC 8414 and OpenID discovery URLs of an issuer (RFC 8414 §3.1: the well-known segment
/// goes between the host and the path).
pub(crate) fn discovery_urls(issuer: &str) -> Vec<String> {
    let trimmed = issuer.trim_end_matches('/');
    let (origin, path) = match trimmed.find("://").map(|i| i + 3) {
        Some(start) => match trimmed[start..].find('/') {
            Some(p) => trimmed.split_at(start + p),
            None => (trimmed, ""),
        },
        None => (trimmed, ""),
    };
    vec![
        format!("{origin}/.well-known/oauth-authorization-server{path}"),
        format!("{origin}/.well-known/openid-configuration{path}"),
        format!("{trimmed}/.well-known/openid-configuration"),
    ]
}

impl Jwks {
    pub fn new(
        source: KeySource,
        http: reqwest::Client,
        (ttl, cooldown): (Duration, Duration),
        fetch_timeout: Duration,
        max_bytes: usize,
    ) -> Self {
        Jwks {
            source,
            http,
            ttl,
            cooldown,
            fetch_timeout,
            max_bytes,
            keys: ArcSwapOption::empty(),
            state: Mutex::new(RefreshState::default()),
            resolved_url: ArcSwapOption::empty(),
            #[cfg(test)]
            fetches: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    async fn jwks_url(&self) -> Result<String, String> {
        if let Some(u) = self.resolved_url.load_full() {
            return Ok((*u).clone());
        }
        let url = match &self.source {
            KeySource::Url(u) => u.clone(),
            KeySource::Discover { issuer } => {
                let mut found = None;
                let mut last_error = String::from("no discovery document");
                for candidate in discovery_urls(issuer) {
                    match self.fetch_json(&candidate).await {
                        Ok(doc) => {
                            if let Some(u) = doc.get("jwks_uri").and_then(|v| v.as_str()) {
                                found = Some(u.to_owned());
                                break;
                            }
                            last_error = format!("{candidate} has no jwks_uri");
                        }
                        Err(e) => last_error = e,
                    }
                }
                found.ok_or(last_error)?
            }
        };
        self.resolved_url.store(Some(Arc::new(url.clone())));
        Ok(url)
    }

    async fn fetch_json(&self, url: &str) -> Result<serde_json::Value, String> {
        let resp = self
            .http
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| format!("GET {url}: {}", e.without_url()))?;
        if !resp.status().is_success() {
            return Err(format!("GET {url}: HTTP {}", resp.status()));
        }
        let body = read_bounded(resp, self.max_bytes)
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        serde_json::from_slice(&body).map_err(|e| format!("GET {url}: not JSON: {e}"))
    }

    /// Fetches and parses the keys (discovery first when needed).
    async fn fetch_keys(&self) -> Result<KeySet, String> {
        #[cfg(test)]
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let url = self.jwks_url().await?;
        let doc = self.fetch_json(&url).await?;
        let set = parse_set(&doc).ok_or_else(|| format!("{url}: not a JWKS"))?;
        tracing::debug!(%url, "JWKS fetched");
        Ok(set)
    }

    /// The body of a flight: fetch, store the keys, record the outcome, end the flight.
    async fn run_fetch(&self) -> Result<(), String> {
        let span = crate::telemetry::outgoing("jwks.fetch", None);
        let fetch = crate::telemetry::traced(span, self.fetch_keys());
        let fetched = tokio::time::timeout(self.fetch_timeout, fetch)
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "fetching the keys took longer than {} ms",
                    self.fetch_timeout.as_millis()
                ))
            });
        let outcome = fetched.map(|set| {
            self.keys.store(Some(Arc::new(set)));
        });
        if let Err(e) = &outcome {
            tracing::warn!(error = %e, "could not fetch the JWKS");
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.flight = None;
        state.last = Some((Instant::now(), outcome.clone()));
        outcome
    }

    /// The fetch to await now: the one in flight, a new one, or none (`Ok(None)`: use the
    /// cached keys) when the last one ended within the cooldown. `Err` when no keys are cached
    /// and the last fetch, within the cooldown, failed: refused at once, without a fetch.
    fn flight(&self, have_keys: bool) -> Result<Option<Fetch>, TokenError> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(flight) = &state.flight {
            return Ok(Some(Arc::clone(flight)));
        }
        if let Some((ended, outcome)) = &state.last {
            if ended.elapsed() < self.cooldown {
                return match (have_keys, outcome) {
                    (true, _) => Ok(None),
                    (false, Err(e)) => Err(TokenError::Unavailable(e.clone())),
                    // Keys were fetched and are gone: cannot happen; fetch again.
                    (false, Ok(())) => Ok(Some(self.start_flight(&mut state))),
                };
            }
        }
        Ok(Some(self.start_flight(&mut state)))
    }

    fn start_flight(&self, state: &mut RefreshState) -> Fetch {
        let flight = Fetch::default();
        state.flight = Some(Arc::clone(&flight));
        flight
    }

    /// Keys known in advance that are never fetched nor refreshed (fuzz builds and tests only):
    /// the token checks run against `doc` with no network. `None` when `doc` is not a JWKS.
    #[cfg(any(fuzzing, all(test, feature = "aws-lc")))]
    pub(crate) fn preloaded(doc: &serde_json::Value, http: reqwest::Client) -> Option<Self> {
        let set = parse_set(doc)?;
        // Stale never, and the last fetch "succeeded" within the cooldown: an unknown `kid`
        // is refused from the cache instead of starting a fetch.
        let forever = Duration::from_secs(100 * 365 * 24 * 3600);
        let jwks = Jwks::new(
            KeySource::Url(String::new()),
            http,
            (forever, forever),
            forever,
            super::backend::DEFAULT_MAX_RESPONSE_BYTES,
        );
        jwks.keys.store(Some(Arc::new(set)));
        if let Ok(mut state) = jwks.state.lock() {
            state.last = Some((Instant::now(), Ok(())));
        }
        Some(jwks)
    }

    /// Whether usable keys are cached (stale ones count: they are used while the server is
    /// unreachable).
    fn holds_keys(&self) -> bool {
        self.keys.load().as_ref().is_some_and(|set| {
            !set.anonymous.is_empty() || set.by_kid.values().any(|k| !k.is_empty())
        })
    }

    /// The readiness check: ready while usable keys are cached; otherwise joins or starts the
    /// one fetch (single-flight, within the cooldown and the fetch timeout like any token
    /// check) and is ready if it brought usable keys. The reason never names the URL.
    pub async fn readiness(&self) -> Result<(), NotReady> {
        if self.holds_keys() {
            return Ok(());
        }
        let fetched = match self.flight(self.keys.load().is_some()) {
            Ok(Some(flight)) => flight.get_or_init(|| self.run_fetch()).await.is_ok(),
            // A fetch ended within the cooldown: its keys (none usable) are all there is.
            Ok(None) => true,
            // The last fetch, within the cooldown, failed.
            Err(_) => false,
        };
        match (self.holds_keys(), fetched) {
            (true, _) => Ok(()),
            (false, true) => Err(NotReady::new("the JWKS holds no usable signing key")),
            (false, false) => Err(NotReady::new("the signing keys could not be fetched")),
        }
    }

    /// The key for `kid` (or the keys without a kid when the token names none).
    pub async fn key(&self, kid: Option<&str>) -> Result<Vec<Key>, TokenError> {
        let lookup = |set: &KeySet| -> Vec<Key> {
            match kid {
                Some(k) => set.by_kid.get(k).cloned().unwrap_or_default(),
                None => set
                    .anonymous
                    .iter()
                    .chain(set.by_kid.values().flatten())
                    .cloned()
                    .collect(),
            }
        };
        let current = self.keys.load_full();
        if let Some(set) = &current {
            let keys = lookup(set);
            if !keys.is_empty() && set.fetched.elapsed() < self.ttl {
                return Ok(keys);
            }
        }
        // Stale keys, an unknown `kid`, or no keys yet: join or start the one fetch, unless
        // the last one ended within the cooldown.
        let fetched = match self.flight(current.is_some())? {
            Some(flight) => flight.get_or_init(|| self.run_fetch()).await.clone(),
            None => Ok(()),
        };
        match self.keys.load_full() {
            // Last good keys are kept while the server is down.
            Some(set) => {
                let keys = lookup(&set);
                if keys.is_empty() {
                    Err(TokenError::Invalid("unknown signing key".into()))
                } else {
                    Ok(keys)
                }
            }
            None => Err(TokenError::Unavailable(
                fetched.err().unwrap_or_else(|| "no keys".into()),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::until;

    #[test]
    fn discovery_inserts_the_well_known_segment() {
        assert_eq!(
            discovery_urls("https://as.example.com/tenant1"),
            [
                "https://as.example.com/.well-known/oauth-authorization-server/tenant1",
                "https://as.example.com/.well-known/openid-configuration/tenant1",
                "https://as.example.com/tenant1/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            discovery_urls("http://127.0.0.1:9/")[0],
            "http://127.0.0.1:9/.well-known/oauth-authorization-server"
        );
    }

    /// The RFC 7517 A.1 P-256 public key, with `extra` members.
    fn ec_key(kid: &str, extra: serde_json::Value) -> serde_json::Value {
        let mut k = serde_json::json!({"kty": "EC", "crv": "P-256", "kid": kid,
            "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
            "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"});
        if let (Some(k), Some(extra)) = (k.as_object_mut(), extra.as_object()) {
            k.extend(extra.clone());
        }
        k
    }

    /// Finding 14b: a key for encryption (`use: enc`, an unknown `use`, `key_ops` without
    /// `verify`) never verifies a signature; a key this crate cannot read hides no other.
    #[test]
    fn only_signature_keys_verify_tokens() {
        use serde_json::json;
        let doc = json!({"keys": [
            ec_key("plain", json!({})),
            ec_key("sig", json!({"use": "sig"})),
            ec_key("enc", json!({"use": "enc"})),
            ec_key("other-use", json!({"use": "tls"})),
            ec_key("verify", json!({"key_ops": ["verify"]})),
            ec_key("sign-verify", json!({"key_ops": ["sign", "verify"]})),
            ec_key("encrypt", json!({"key_ops": ["encrypt", "wrapKey"]})),
            ec_key("no-ops", json!({"key_ops": []})),
            ec_key("enc-verify", json!({"use": "enc", "key_ops": ["verify"]})),
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "XYZ", "kid": "unknown-type"},
            {"kty": "EC", "kid": "broken", "crv": 5},
        ]});
        let set = parse_set(&doc).unwrap();
        let mut kids: Vec<_> = set.by_kid.keys().map(String::as_str).collect();
        kids.sort_unstable();
        assert_eq!(kids, ["plain", "sig", "sign-verify", "verify"]);
        assert!(set.anonymous.is_empty());
        assert!(parse_set(&json!({"keys": "none"})).is_none());
        assert!(parse_set(&json!([])).is_none());
    }

    /// AZ-11a: a `kid` the JWKS repeats keeps every key published under it, in order.
    #[test]
    fn a_repeated_kid_keeps_every_key() {
        use serde_json::json;
        let doc = json!({"keys": [
            ec_key("dup", json!({})),
            ec_key("dup", json!({"alg": "ES256"})),
            ec_key("solo", json!({})),
        ]});
        let set = parse_set(&doc).unwrap();
        assert_eq!(set.by_kid["dup"].len(), 2);
        assert_eq!(set.by_kid["dup"][1].alg, Some(Algorithm::ES256));
        assert_eq!(set.by_kid["solo"].len(), 1);
    }

    /// A JWKS endpoint on 127.0.0.1:0 answering `status` and `body`, counting requests,
    /// holding each answer until the gate opens.
    struct Stub {
        url: String,
        calls: Arc<std::sync::atomic::AtomicUsize>,
        gate: tokio::sync::watch::Sender<bool>,
    }

    async fn stub(status: u16, body: serde_json::Value, gated: bool) -> Stub {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let calls = Arc::new(AtomicUsize::new(0));
        let (gate, open) = tokio::sync::watch::channel(!gated);
        let c = Arc::clone(&calls);
        let handler = move || {
            let (c, mut open, body) = (c.clone(), open.clone(), body.clone());
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                let _ = open.wait_for(|o| *o).await;
                (
                    http::StatusCode::from_u16(status).unwrap(),
                    body.to_string(),
                )
            }
        };
        let app = axum::Router::new().route("/jwks", axum::routing::get(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Stub { url, calls, gate }
    }

    impl Stub {
        fn calls(&self) -> usize {
            self.calls.load(std::sync::atomic::Ordering::SeqCst)
        }
        fn jwks(&self, cooldown: Duration) -> Arc<Jwks> {
            let http = reqwest::Client::new();
            let source = KeySource::Url(self.url.clone());
            Arc::new(Jwks::new(
                source,
                http,
                (Duration::from_secs(300), cooldown),
                Duration::from_secs(5),
                crate::auth::backend::DEFAULT_MAX_RESPONSE_BYTES,
            ))
        }
    }

    /// Finding 4 (AZ-11h): while no keys are cached, a failed fetch is remembered for the
    /// cooldown: the requests in that window are refused at once, without a fetch.
    #[tokio::test]
    async fn az11h_a_down_jwks_endpoint_is_fetched_once_per_cooldown() {
        let s = stub(500, serde_json::json!({}), false).await;
        let jwks = s.jwks(Duration::from_secs(60));
        for _ in 0..5 {
            let r = jwks.key(Some("k")).await.map(|k| k.len());
            assert!(matches!(r, Err(TokenError::Unavailable(_))), "{r:?}");
        }
        assert_eq!(s.calls(), 1);
        // Without a cooldown, each request fetches (the control).
        let s = stub(500, serde_json::json!({}), false).await;
        let jwks = s.jwks(Duration::ZERO);
        for _ in 0..3 {
            let _ = jwks.key(Some("k")).await;
        }
        assert_eq!(s.calls(), 3);
    }

    /// Finding 4 (AZ-11h): concurrent requests needing keys share one fetch, and nobody fetches
    /// again after it, whether it fails or succeeds.
    #[tokio::test]
    async fn az11h_concurrent_refreshes_are_one_fetch() {
        let good = serde_json::json!({"keys": [ec_key("k", serde_json::json!({}))]});
        for (status, body) in [(500, serde_json::json!({})), (200, good)] {
            let s = stub(status, body, true).await;
            let jwks = s.jwks(Duration::from_secs(60));
            let tasks: Vec<_> = (0..8)
                .map(|_| {
                    let jwks = Arc::clone(&jwks);
                    tokio::spawn(async move { jwks.key(Some("k")).await.map(|k| k.len()) })
                })
                .collect();
            let waiting = |j: &Jwks| {
                j.state
                    .lock()
                    .unwrap()
                    .flight
                    .as_ref()
                    .map_or(0, |f| Arc::strong_count(f) - 1)
            };
            until(|| waiting(&jwks) == 8 && s.calls() == 1).await;
            s.gate.send_replace(true);
            for t in tasks {
                let r = t.await.unwrap();
                match status {
                    200 => assert_eq!(r, Ok(1)),
                    _ => assert!(matches!(r, Err(TokenError::Unavailable(_))), "{r:?}"),
                }
            }
            assert_eq!(s.calls(), 1, "HTTP {status}");
            assert_eq!(jwks.fetches.load(std::sync::atomic::Ordering::SeqCst), 1);
            // An unknown kid right after is not another fetch (cooldown).
            let _ = jwks.key(Some("other")).await;
            assert_eq!(s.calls(), 1, "HTTP {status}");
        }
    }

    /// Readiness: a JWKS that cannot be fetched is not ready, and asking again within the
    /// cooldown fetches nothing; usable keys make it ready with no fetch after the first; a
    /// JWKS without a usable key is not ready either. The reason never names the URL.
    #[tokio::test]
    async fn readiness_reuses_the_single_flight_fetch() {
        let s = stub(500, serde_json::json!({}), false).await;
        let jwks = s.jwks(Duration::from_secs(60));
        for _ in 0..3 {
            let e = jwks.readiness().await.unwrap_err();
            assert_eq!(e.reason(), "the signing keys could not be fetched");
        }
        assert_eq!(s.calls(), 1);

        let good = serde_json::json!({"keys": [ec_key("k", serde_json::json!({}))]});
        let s = stub(200, good, false).await;
        let jwks = s.jwks(Duration::from_secs(60));
        for _ in 0..3 {
            assert_eq!(jwks.readiness().await, Ok(()));
        }
        assert_eq!(s.calls(), 1);

        let only_enc =
            serde_json::json!({"keys": [ec_key("e", serde_json::json!({"use": "enc"}))]});
        let s = stub(200, only_enc, false).await;
        let jwks = s.jwks(Duration::from_secs(60));
        let e = jwks.readiness().await.unwrap_err();
        assert_eq!(e.reason(), "the JWKS holds no usable signing key");
        assert!(jwks.readiness().await.is_err());
        assert_eq!(s.calls(), 1);
    }
}
