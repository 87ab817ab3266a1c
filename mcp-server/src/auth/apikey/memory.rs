//! [`MemoryStore`]: API keys and users in process memory, for tests and throwaway servers.

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

use super::model::{ApiKey, StoredApiKey};
use super::secret::KeyDigest;
use super::store::{ApiKeyStore, StoreError};
use crate::BoxFuture;
use crate::auth::users::{User, UserStore};

#[derive(Default)]
struct Keys {
    /// id → record, in insertion order of ids through `order`.
    by_id: HashMap<String, StoredApiKey>,
    by_digest: HashMap<KeyDigest, String>,
    order: Vec<String>,
    /// Previous digests kept by a rotation with a grace period: digest → id, and id → digest.
    by_previous: HashMap<KeyDigest, String>,
    previous_of: HashMap<String, KeyDigest>,
}

impl Keys {
    /// Replaces the digest of `id`, keeping the old one as its previous digest until
    /// `previous_until` (or dropping any previous digest with `None`); whether the key exists.
    fn replace(
        &mut self,
        id: &str,
        digest: KeyDigest,
        key_prefix: &str,
        at: u64,
        previous_until: Option<u64>,
    ) -> Result<bool, StoreError> {
        if self.by_digest.contains_key(&digest) || self.by_previous.contains_key(&digest) {
            return Err(StoreError::Conflict("key digest".into()));
        }
        let Some(s) = self.by_id.get_mut(id) else {
            return Ok(false);
        };
        let old = s.digest;
        s.digest = digest;
        s.key.key_prefix = key_prefix.to_owned();
        s.key.rotated_at = Some(at);
        s.key.previous_secret_expires_at = previous_until;
        self.by_digest.remove(&old);
        self.by_digest.insert(digest, id.to_owned());
        if let Some(earlier) = self.previous_of.remove(id) {
            self.by_previous.remove(&earlier);
        }
        if previous_until.is_some() {
            self.by_previous.insert(old, id.to_owned());
            self.previous_of.insert(id.to_owned(), old);
        }
        Ok(true)
    }
}

/// Keys and users in memory: O(1) digest lookups behind a read-write lock. Lost on exit.
///
/// ```
/// use mcp_server::auth::{ApiKeys, MemoryStore};
/// let keys = ApiKeys::new(MemoryStore::new());
/// # let _ = keys;
/// ```
#[derive(Default)]
pub struct MemoryStore {
    keys: RwLock<Keys>,
    users: RwLock<BTreeMap<String, User>>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Keys> {
        self.keys.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Keys> {
        self.keys.write().unwrap_or_else(|e| e.into_inner())
    }
}

fn ready<'a, T: Send + 'a>(v: T) -> BoxFuture<'a, T> {
    Box::pin(std::future::ready(v))
}

impl ApiKeyStore for MemoryStore {
    fn insert(&self, key: StoredApiKey) -> BoxFuture<'_, Result<(), StoreError>> {
        let mut k = self.write();
        let out = if k.by_id.contains_key(&key.key.id) {
            Err(StoreError::Conflict(format!("key id {}", key.key.id)))
        } else if k.by_id.values().any(|s| s.key.name == key.key.name) {
            Err(StoreError::Conflict(format!("key name {}", key.key.name)))
        } else if k.by_previous.contains_key(&key.digest) {
            Err(StoreError::Conflict("key digest".into()))
        } else {
            match k.by_digest.entry(key.digest) {
                std::collections::hash_map::Entry::Occupied(_) => {
                    Err(StoreError::Conflict("key digest".into()))
                }
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(key.key.id.clone());
                    k.order.push(key.key.id.clone());
                    k.by_id.insert(key.key.id.clone(), key);
                    Ok(())
                }
            }
        };
        ready(out)
    }

    fn find_by_digest<'a>(
        &'a self,
        digest: &'a KeyDigest,
    ) -> BoxFuture<'a, Result<Option<StoredApiKey>, StoreError>> {
        let k = self.read();
        let found = k
            .by_digest
            .get(digest)
            .and_then(|id| k.by_id.get(id))
            .cloned();
        ready(Ok(found))
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<ApiKey>, StoreError>> {
        ready(Ok(self.read().by_id.get(id).map(|s| s.key.clone())))
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<ApiKey>, StoreError>> {
        let k = self.read();
        let all = k
            .order
            .iter()
            .filter_map(|id| k.by_id.get(id))
            .map(|s| s.key.clone())
            .collect();
        ready(Ok(all))
    }

    fn revoke<'a>(&'a self, id: &'a str, at: u64) -> BoxFuture<'a, Result<bool, StoreError>> {
        let mut k = self.write();
        let found = match k.by_id.get_mut(id) {
            Some(s) => {
                s.key.revoked_at.get_or_insert(at);
                true
            }
            None => false,
        };
        ready(Ok(found))
    }

    fn replace_secret<'a>(
        &'a self,
        id: &'a str,
        digest: KeyDigest,
        key_prefix: &'a str,
        at: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        ready(self.write().replace(id, digest, key_prefix, at, None))
    }

    fn replace_secret_with_grace<'a>(
        &'a self,
        id: &'a str,
        digest: KeyDigest,
        key_prefix: &'a str,
        at: u64,
        previous_until: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        ready(
            self.write()
                .replace(id, digest, key_prefix, at, Some(previous_until)),
        )
    }

    fn find_by_previous_digest<'a>(
        &'a self,
        digest: &'a KeyDigest,
    ) -> BoxFuture<'a, Result<Option<StoredApiKey>, StoreError>> {
        let k = self.read();
        let found = k
            .by_previous
            .get(digest)
            .and_then(|id| k.by_id.get(id))
            .map(|s| StoredApiKey {
                key: s.key.clone(),
                digest: *digest,
            });
        ready(Ok(found))
    }

    fn touch<'a>(&'a self, id: &'a str, at: u64) -> BoxFuture<'a, Result<(), StoreError>> {
        if let Some(s) = self.write().by_id.get_mut(id) {
            s.key.last_used_at = Some(s.key.last_used_at.map_or(at, |t| t.max(at)));
        }
        ready(Ok(()))
    }
}

impl UserStore for MemoryStore {
    fn get_user<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<User>, StoreError>> {
        let users = self.users.read().unwrap_or_else(|e| e.into_inner());
        ready(Ok(users.get(name).cloned()))
    }

    fn put_user(&self, user: User) -> BoxFuture<'_, Result<(), StoreError>> {
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        users.insert(user.name.clone(), user);
        ready(Ok(()))
    }

    fn set_user_disabled<'a>(
        &'a self,
        name: &'a str,
        disabled: bool,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        let found = users.get_mut(name).map(|u| u.disabled = disabled).is_some();
        ready(Ok(found))
    }

    fn list_users(&self) -> BoxFuture<'_, Result<Vec<User>, StoreError>> {
        let users = self.users.read().unwrap_or_else(|e| e.into_inner());
        ready(Ok(users.values().cloned().collect()))
    }
}
