//! Replay protection (DP-12): every accepted proof is remembered for as long as it could be
//! accepted, and a second use is refused.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::now_secs;
use crate::BoxFuture;

/// Why a replay cache could not answer. The proof is then refused with 503 and `Retry-After`,
/// never accepted: a replay check that cannot run fails closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayCacheError {
    /// The backing store did not answer (connection refused, timeout, error reply).
    #[error("the DPoP replay cache is unavailable: {0}")]
    Unavailable(String),
}

/// Remembers accepted proof `jti`s for as long as the proof could be accepted (DP-12). One
/// cache serves every request of a server; share one store between instances (for example
/// [`crate::store::RedisReplayCache`]) so that a proof accepted by one is a replay to all.
pub trait ReplayCache: Send + Sync + 'static {
    /// Records `key` until `expires_at` (seconds since the epoch): `Ok(true)` when it is new,
    /// `Ok(false)` when it was already there (a replay).
    fn insert_fresh(
        &self,
        key: [u8; 32],
        expires_at: u64,
    ) -> BoxFuture<'_, Result<bool, ReplayCacheError>>;
}

/// The default replay cache: in memory, at most `capacity` entries. Expired entries leave first;
/// under a flood of unique proofs the oldest entries leave early (memory stays flat), which only
/// matters to an attacker who could also outpace the flood within the `iat` window.
pub struct InMemoryReplayCache {
    capacity: usize,
    inner: Mutex<Seen>,
}

/// Proof digests with their expiry, and the same in arrival order (oldest first).
type Seen = (HashMap<[u8; 32], u64>, VecDeque<([u8; 32], u64)>);

impl InMemoryReplayCache {
    /// A cache holding at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        InMemoryReplayCache {
            capacity: capacity.max(1),
            inner: Mutex::new((HashMap::new(), VecDeque::new())),
        }
    }

    /// How many entries it holds now.
    pub fn len(&self) -> usize {
        self.inner.lock().map_or(0, |g| g.0.len())
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl ReplayCache for InMemoryReplayCache {
    fn insert_fresh(
        &self,
        key: [u8; 32],
        expires_at: u64,
    ) -> BoxFuture<'_, Result<bool, ReplayCacheError>> {
        let fresh = self.insert_now(key, expires_at);
        Box::pin(std::future::ready(Ok(fresh)))
    }
}

impl InMemoryReplayCache {
    fn insert_now(&self, key: [u8; 32], expires_at: u64) -> bool {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (map, order) = &mut *guard;
        let now = now_secs();
        while let Some(&(k, exp)) = order.front() {
            if exp > now && map.len() < self.capacity {
                break;
            }
            order.pop_front();
            if map.get(&k) == Some(&exp) {
                map.remove(&k);
            }
        }
        if map.get(&key).is_some_and(|&exp| exp > now) {
            return false;
        }
        map.insert(key, expires_at);
        order.push_back((key, expires_at));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dp12_replays_are_refused_and_memory_stays_bounded() {
        let cache = InMemoryReplayCache::new(100);
        let far = now_secs() + 600;
        assert!(cache.insert_now([1; 32], far));
        assert!(!cache.insert_now([1; 32], far));
        for i in 0..1000u32 {
            let mut k = [0u8; 32];
            k[..4].copy_from_slice(&i.to_be_bytes());
            k[31] = 9;
            cache.insert_now(k, far);
        }
        assert!(cache.len() <= 100);
    }
}
