//! Verified tokens, remembered by their SHA-256 until they expire, so that repeated calls do not
//! verify signatures again. Bounded: expired entries go first, then everything when still full.

use crate::clock::now_secs;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::context::AuthContext;

type Digest = [u8; 32];

pub(crate) struct TokenCache {
    capacity: usize,
    entries: RwLock<HashMap<Digest, Arc<AuthContext>>>,
}

/// The cache key of a token (the token itself is never stored).
pub(crate) fn token_digest(token: &str) -> Digest {
    crate::crypto::sha256(token.as_bytes())
}

impl TokenCache {
    pub fn new(capacity: usize) -> Self {
        TokenCache {
            capacity,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// A still-valid context for this token.
    pub fn get(&self, key: &Digest) -> Option<Arc<AuthContext>> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let ctx = entries.get(key)?;
        match ctx.expires_at {
            Some(exp) if exp <= now_secs() => None,
            _ => Some(Arc::clone(ctx)),
        }
    }

    /// Remembers a verified token until it expires (tokens without `exp` are not cached).
    pub fn insert(&self, key: Digest, ctx: Arc<AuthContext>) {
        if self.capacity == 0 || ctx.expires_at.is_none() {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.capacity {
            let now = now_secs();
            entries.retain(|_, c| c.expires_at.is_some_and(|e| e > now));
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, ctx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::CredentialKind;

    fn ctx(exp: u64) -> Arc<AuthContext> {
        let mut c = AuthContext::new(CredentialKind::Bearer);
        c.expires_at = Some(exp);
        Arc::new(c)
    }

    #[test]
    fn expired_entries_are_not_served_and_the_cache_stays_bounded() {
        let cache = TokenCache::new(2);
        let now = now_secs();
        cache.insert(token_digest("a"), ctx(now + 60));
        cache.insert(token_digest("b"), ctx(now - 1));
        assert!(cache.get(&token_digest("a")).is_some());
        assert!(cache.get(&token_digest("b")).is_none());
        cache.insert(token_digest("c"), ctx(now + 60));
        cache.insert(token_digest("d"), ctx(now + 60));
        assert!(cache.entries.read().unwrap().len() <= 2);
    }
}
