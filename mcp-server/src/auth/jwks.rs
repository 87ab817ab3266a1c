//! Fetching and caching an authorization server's signing keys (AZ-11a, AZ-11h): fetched once
//! and shared, refreshed single-flight when stale, refetched on an unknown `kid` at most once per
//! cooldown, last good keys kept while the server is unreachable. The JWKS URL can come from
//! RFC 8414 or OpenID Connect discovery on the issuer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::sync::Mutex;

use super::validator::TokenError;

/// One usable key.
#[derive(Clone)]
pub(crate) struct Key {
    pub decoding: DecodingKey,
    /// The key family, to refuse algorithm confusion (an RSA key never checks an ES256 token).
    pub family: KeyFamily,
    /// The `alg` the JWK is pinned to, if any.
    pub alg: Option<Algorithm>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyFamily {
    Rsa,
    Ec,
    Okp,
}

impl KeyFamily {
    pub fn of(alg: Algorithm) -> Option<Self> {
        use Algorithm::*;
        match alg {
            RS256 | RS384 | RS512 | PS256 | PS384 | PS512 => Some(KeyFamily::Rsa),
            ES256 | ES384 => Some(KeyFamily::Ec),
            EdDSA => Some(KeyFamily::Okp),
            _ => None,
        }
    }
}

struct KeySet {
    by_kid: HashMap<String, Key>,
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

/// A shared, self-refreshing JWKS.
pub(crate) struct Jwks {
    source: KeySource,
    http: reqwest::Client,
    ttl: Duration,
    cooldown: Duration,
    keys: ArcSwapOption<KeySet>,
    refresh: Mutex<Option<Instant>>,
    resolved_url: ArcSwapOption<String>,
}

fn parse_set(set: JwkSet) -> KeySet {
    let mut by_kid = HashMap::new();
    let mut anonymous = Vec::new();
    for jwk in &set.keys {
        let family = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => KeyFamily::Rsa,
            AlgorithmParameters::EllipticCurve(_) => KeyFamily::Ec,
            AlgorithmParameters::OctetKeyPair(_) => KeyFamily::Okp,
            // Symmetric keys never verify tokens here (AZ-11c), nor do kinds unknown to us.
            _ => continue,
        };
        let Ok(decoding) = DecodingKey::from_jwk(jwk) else {
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
            Some(kid) => {
                by_kid.insert(kid.clone(), key);
            }
            None => anonymous.push(key),
        }
    }
    KeySet {
        by_kid,
        anonymous,
        fetched: Instant::now(),
    }
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
        ttl: Duration,
        cooldown: Duration,
    ) -> Self {
        Jwks {
            source,
            http,
            ttl,
            cooldown,
            keys: ArcSwapOption::empty(),
            refresh: Mutex::new(None),
            resolved_url: ArcSwapOption::empty(),
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
        resp.json()
            .await
            .map_err(|e| format!("GET {url}: {}", e.without_url()))
    }

    /// Refetches the keys unless another task just did (single flight) or the cooldown has not
    /// passed since the last attempt.
    async fn refresh(&self, seen: Option<Instant>) -> Result<(), String> {
        let mut last_attempt = self.refresh.lock().await;
        let current = self.keys.load_full();
        // Someone refreshed while we waited: use their keys.
        if current.as_ref().map(|k| k.fetched) != seen {
            return Ok(());
        }
        if let Some(t) = *last_attempt {
            if t.elapsed() < self.cooldown && current.is_some() {
                return Ok(());
            }
        }
        *last_attempt = Some(Instant::now());
        let url = self.jwks_url().await?;
        let doc = self.fetch_json(&url).await?;
        let set: JwkSet =
            serde_json::from_value(doc).map_err(|e| format!("{url}: not a JWKS: {e}"))?;
        self.keys.store(Some(Arc::new(parse_set(set))));
        tracing::debug!(%url, "JWKS fetched");
        Ok(())
    }

    /// The key for `kid` (or the keys without a kid when the token names none).
    pub async fn key(&self, kid: Option<&str>) -> Result<Vec<Key>, TokenError> {
        let lookup = |set: &KeySet| -> Vec<Key> {
            match kid {
                Some(k) => set.by_kid.get(k).cloned().into_iter().collect(),
                None => set
                    .anonymous
                    .iter()
                    .cloned()
                    .chain(set.by_kid.values().cloned())
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
        let seen = current.as_ref().map(|s| s.fetched);
        if let Err(e) = self.refresh(seen).await {
            tracing::warn!(error = %e, "could not refresh the JWKS");
            return match self.keys.load_full() {
                // Keep serving with the last good keys while the server is down.
                Some(set) => {
                    let keys = lookup(&set);
                    if keys.is_empty() {
                        Err(TokenError::Invalid("unknown signing key".into()))
                    } else {
                        Ok(keys)
                    }
                }
                None => Err(TokenError::Unavailable(e)),
            };
        }
        match self.keys.load_full() {
            Some(set) => {
                let keys = lookup(&set);
                if keys.is_empty() {
                    Err(TokenError::Invalid("unknown signing key".into()))
                } else {
                    Ok(keys)
                }
            }
            None => Err(TokenError::Unavailable("no keys".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
