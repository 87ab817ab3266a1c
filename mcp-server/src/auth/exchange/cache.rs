//! The bounded cache of exchanged tokens, keyed by caller, target and scopes.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Instant;

use super::UpstreamToken;
use crate::auth::flight::FlightKey;

/// Exchanged tokens by key until they are due for renewal, and the keys in arrival order.
/// Bounded: when full, expired entries go, then the oldest.
pub(super) struct ExchangeCache {
    pub(super) capacity: usize,
    pub(super) inner: Mutex<Cached>,
}

/// Tokens with until when they are served, and their keys in arrival order.
pub(super) type Cached = (
    HashMap<FlightKey, (Instant, UpstreamToken)>,
    VecDeque<FlightKey>,
);

impl ExchangeCache {
    pub(super) fn get(&self, key: &FlightKey) -> Option<UpstreamToken> {
        let guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (until, token) = guard.0.get(key)?;
        (Instant::now() < *until).then(|| token.clone())
    }

    pub(super) fn insert(&self, key: FlightKey, until: Instant, token: UpstreamToken) {
        if self.capacity == 0 {
            return;
        }
        let now = Instant::now();
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (map, order) = &mut *guard;
        if map.len() >= self.capacity && !map.contains_key(&key) {
            map.retain(|_, (u, _)| *u > now);
            order.retain(|k| map.contains_key(k));
            while map.len() >= self.capacity {
                let Some(oldest) = order.pop_front() else {
                    map.clear();
                    break;
                };
                map.remove(&oldest);
            }
        }
        if map.insert(key, (until, token)).is_none() {
            order.push_back(key);
        }
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.inner.lock().map_or(0, |g| g.0.len())
    }
}
