//! Replay protection (DP-12): every accepted proof is remembered for as long as it could be
//! accepted, and a second use is refused.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use crate::BoxFuture;
use crate::clock::now_secs;
use crate::store::NotReady;

/// Why a replay cache could not answer. The proof is then refused with 503 and `Retry-After`,
/// never accepted: a replay check that cannot run fails closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayCacheError {
    /// The backing store did not answer (connection refused, timeout, error reply).
    #[error("the DPoP replay cache is unavailable: {0}")]
    Unavailable(String),
    /// Every slot holds a proof that could still be replayed: nothing is evicted early (that
    /// would make a captured proof replayable), so new proofs are refused until one expires.
    #[error("the DPoP replay cache is full")]
    Full,
}

/// Remembers accepted proof `jti`s for as long as the proof could be accepted (DP-12). One
/// cache serves every request of a server; share one store between instances (for example
/// `RedisReplayCache`, feature `redis`) so that a proof accepted by one is a replay to all.
pub trait ReplayCache: Send + Sync + 'static {
    /// Records `key` until `expires_at` (seconds since the epoch): `Ok(true)` when it is new,
    /// `Ok(false)` when it was already there (a replay).
    fn insert_fresh(
        &self,
        key: [u8; 32],
        expires_at: u64,
    ) -> BoxFuture<'_, Result<bool, ReplayCacheError>>;

    /// Whether the cache can serve now, for the HTTP transport's readiness endpoint (`/readyz`):
    /// `Err` with a short reason, free of secrets, when it cannot (a backend that does not
    /// answer). The endpoint calls it at most about once a second, bounded by
    /// `HttpConfig::readiness_timeout`. Default: ready (a store in memory always is).
    fn readiness(&self) -> BoxFuture<'_, Result<(), NotReady>> {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// The default replay cache: in memory, at most `capacity` entries. Expired entries leave first;
/// an entry that has not expired never leaves, since that would make its proof replayable (an
/// attacker with a key of their own could flush a captured proof out with a flood of fresh
/// ones). When every slot holds an unexpired entry, new proofs are refused with
/// [`ReplayCacheError::Full`] (503) until the oldest expires.
///
/// Size `capacity` for the proof rate the server must take: a proof stays for the `iat` window
/// (300 s by default), so a cache of `capacity` entries sustains `capacity / window` proofs per
/// second — [`DEFAULT_CAPACITY`](Self::DEFAULT_CAPACITY) (1 000 000 entries, under 100 MB when full)
/// sustains about 3 300 per second. Beyond that, raise it, shorten the window, or share a
/// store without such a bound between instances (`RedisReplayCache`, feature `redis`).
/// Only proofs that came with a valid token and binding take a place.
pub struct InMemoryReplayCache {
    capacity: usize,
    inner: Mutex<Seen>,
}

/// Proof digests (their first 128 bits: a collision among even 10^9 live proofs has a
/// probability below 10^-20) with their expiry, and the same grouped by expiry second (an entry
/// whose expiry no longer matches the map is stale and skipped).
type Seen = (HashMap<u128, u64>, BTreeMap<u64, Vec<u128>>);

/// The first 128 bits of a replay key.
fn short(key: &[u8; 32]) -> u128 {
    let mut half = [0u8; 16];
    half.copy_from_slice(&key[..16]);
    u128::from_be_bytes(half)
}

impl InMemoryReplayCache {
    /// The capacity of the cache of `DpopConfig::default()`.
    pub const DEFAULT_CAPACITY: usize = 1_000_000;

    /// A cache holding at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        InMemoryReplayCache {
            capacity: capacity.max(1),
            inner: Mutex::new((HashMap::new(), BTreeMap::new())),
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
        let fresh = self.insert_at(key, expires_at, now_secs());
        Box::pin(std::future::ready(fresh))
    }
}

impl InMemoryReplayCache {
    /// [`insert_fresh`](ReplayCache::insert_fresh) at time `now`. An entry is live while
    /// `now < expires_at`.
    fn insert_at(
        &self,
        key: [u8; 32],
        expires_at: u64,
        now: u64,
    ) -> Result<bool, ReplayCacheError> {
        let key = short(&key);
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (map, by_expiry) = &mut *guard;
        // Expired entries leave, and only they.
        while let Some(entry) = by_expiry.first_entry() {
            if *entry.key() > now {
                break;
            }
            let (exp, keys) = entry.remove_entry();
            for k in keys {
                if map.get(&k) == Some(&exp) {
                    map.remove(&k);
                }
            }
        }
        if map.get(&key).is_some_and(|&exp| exp > now) {
            return Ok(false);
        }
        if expires_at <= now {
            // Could not be accepted again anyway: no slot needed.
            return Ok(true);
        }
        if map.len() >= self.capacity {
            return Err(ReplayCacheError::Full);
        }
        map.insert(key, expires_at);
        by_expiry.entry(expires_at).or_default().push(key);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u32) -> [u8; 32] {
        let mut k = [0u8; 32];
        k[..4].copy_from_slice(&i.to_be_bytes());
        k[31] = 9;
        k
    }

    #[test]
    fn dp12_replays_are_refused_and_memory_stays_bounded() {
        let cache = InMemoryReplayCache::new(100);
        let now = 1_000_000;
        let far = now + 600;
        assert_eq!(cache.insert_at([1; 32], far, now), Ok(true));
        assert_eq!(cache.insert_at([1; 32], far, now), Ok(false));
        for i in 0..1000u32 {
            let _ = cache.insert_at(key(i), far, now);
        }
        assert!(cache.len() <= 100);
    }

    /// Finding 3 (DP-12): a flood of fresh proofs never evicts an unexpired entry; the cache
    /// refuses new ones instead, and the captured proof stays a replay.
    #[test]
    fn dp12_a_full_cache_refuses_new_proofs_instead_of_forgetting_live_ones() {
        let cache = InMemoryReplayCache::new(10);
        let now = 1_000_000;
        assert_eq!(cache.insert_at([1; 32], now + 600, now), Ok(true));
        let mut full = 0;
        for i in 0..1000u32 {
            match cache.insert_at(key(i), now + 600, now) {
                Ok(true) => {}
                Err(ReplayCacheError::Full) => full += 1,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(full, 1000 - 9);
        assert_eq!(cache.len(), 10);
        assert_eq!(
            cache.insert_at([1; 32], now + 600, now),
            Ok(false),
            "the captured proof is still a replay"
        );
    }

    /// Finding 3: expired entries still leave first, whatever their arrival order, so the cache
    /// takes new proofs again as soon as old ones expire.
    #[test]
    fn dp12_expired_entries_make_room_whatever_their_arrival_order() {
        let cache = InMemoryReplayCache::new(3);
        let now = 1_000_000;
        assert_eq!(cache.insert_at(key(1), now + 600, now), Ok(true));
        assert_eq!(cache.insert_at(key(2), now + 10, now), Ok(true));
        assert_eq!(cache.insert_at(key(3), now + 600, now), Ok(true));
        assert_eq!(
            cache.insert_at(key(4), now + 600, now),
            Err(ReplayCacheError::Full)
        );
        // key(2) expired (arrived second, expires first): its slot is free again.
        let later = now + 10;
        assert_eq!(cache.insert_at(key(4), later + 600, later), Ok(true));
        assert_eq!(cache.insert_at(key(1), later + 600, later), Ok(false));
        assert_eq!(
            cache.insert_at(key(2), later + 600, later),
            Err(ReplayCacheError::Full)
        );
        // An expired key is new again once it left.
        let much_later = now + 601;
        assert_eq!(
            cache.insert_at(key(1), much_later + 5, much_later),
            Ok(true)
        );
        assert_eq!(cache.len(), 2, "key(1) again and key(4)");
        // A proof that already expired needs no slot.
        let c = InMemoryReplayCache::new(1);
        assert_eq!(c.insert_at(key(1), now + 600, now), Ok(true));
        assert_eq!(c.insert_at(key(2), now, now), Ok(true));
        assert_eq!(c.len(), 1);
    }
}
