//! [`ApiKeys`]: checking a presented key (constant-time, coalesced last-used), and the admin API
//! over a store (create, list, revoke, rotate).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::model::{ApiKey, CreatedApiKey, KeyStatus, NewApiKey, new_id, now_secs};
use super::secret::{self, ApiKeySecret, KeyDigest, RandomnessError};
use super::store::{ApiKeyStore, StoreError};
use crate::auth::Attribution;
use crate::auth::roles::{RoleError, RoleLadder};
use crate::auth::users::UserStore;
use crate::auth::workspace::{WorkspaceAccess, WorkspaceError};

/// The default key prefix.
pub const DEFAULT_PREFIX: &str = "mcp_";

/// Why a presented key was not accepted. Every case but `Unavailable` is a 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyRejection {
    /// Not shaped like a key of this server.
    #[error("the API key is malformed")]
    Malformed,
    /// No such key.
    #[error("the API key is not valid")]
    Unknown,
    /// The key is past its expiry.
    #[error("the API key has expired")]
    Expired,
    /// The key was revoked.
    #[error("the API key has been revoked")]
    Revoked,
    /// A previous secret of the key, presented after the grace period of its rotation.
    #[error("the API key has been replaced by a newer secret")]
    Rotated,
    /// The key is user-owned and its owner is disabled or gone.
    #[error("the API key's owner is disabled")]
    OwnerDisabled,
    /// The store could not be asked: 503, never "allowed".
    #[error("the key store is unavailable")]
    Unavailable(StoreError),
}

impl KeyRejection {
    /// The machine-readable reason, as JSON error bodies and audit events carry it.
    pub fn reason(&self) -> &'static str {
        match self {
            KeyRejection::Malformed => "api_key_malformed",
            KeyRejection::Unknown => "api_key_unknown",
            KeyRejection::Expired => "api_key_expired",
            KeyRejection::Revoked => "api_key_revoked",
            KeyRejection::Rotated => "api_key_rotated",
            KeyRejection::OwnerDisabled => "api_key_owner_disabled",
            KeyRejection::Unavailable(_) => "key_store_unavailable",
        }
    }
}

/// Why an admin operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiKeyError {
    /// A name outside `[A-Za-z0-9_.-]{1,64}`.
    #[error("invalid key name {0:?}: use 1 to 64 characters of A-Z a-z 0-9 _ . -")]
    InvalidName(String),
    /// A prefix outside `[A-Za-z0-9_]{1,16}`.
    #[error("invalid key prefix {0:?}: use 1 to 16 characters of A-Z a-z 0-9 _")]
    InvalidPrefix(String),
    /// Another key has this name.
    #[error("a key named {0:?} exists")]
    NameTaken(String),
    /// No key has this id.
    #[error("no key has the id {0:?}")]
    NotFound(String),
    /// The role is not on the ladder.
    #[error(transparent)]
    Role(#[from] RoleError),
    /// Bad workspace grants.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// A key must be accepted somewhere.
    #[error("a key needs at least one surface")]
    NoSurfaces,
    /// A key limited to workspaces holds the lowest role outside them.
    #[error("a key limited to workspaces must have the role {lowest:?} outside them")]
    ScopedRole {
        /// The lowest role of the ladder.
        lowest: String,
    },
    /// The expiry is not in the future.
    #[error("the expiry is in the past")]
    ExpiryInPast,
    /// A user-owned key's owner does not exist (or no user store is configured).
    #[error("unknown owner {0:?}")]
    UnknownOwner(String),
    /// A scope with spaces or quotes, or an empty service-account id or name.
    #[error("invalid field: {0}")]
    InvalidField(&'static str),
    /// A revoked key cannot be rotated.
    #[error("the key {0:?} is revoked")]
    Revoked(String),
    /// A rotation's grace period is longer than [`ApiKeys::MAX_ROTATION_GRACE`].
    #[error("the grace period is longer than {max_secs} seconds")]
    GraceTooLong {
        /// The longest grace period, in seconds.
        max_secs: u64,
    },
    /// No randomness.
    #[error(transparent)]
    Randomness(#[from] RandomnessError),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

/// API keys: verification on every request, and the admin API.
///
/// Cheap to clone; clones share the store and the last-used bookkeeping, so the MCP endpoint
/// and REST routes given the same `ApiKeys` write `last_used_at` at most once a minute per key
/// between them.
///
/// ```
/// use mcp_server::auth::{ApiKeys, KeyRejection, NewApiKey, Surface};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let keys = ApiKeys::in_memory();
/// let ci = keys.create(NewApiKey::new("ci", "operator").surface(Surface::Mcp)).await?;
/// let key = keys.verify(ci.secret.expose()).await?;
/// assert_eq!(key.role, "operator");
/// keys.revoke(&key.id).await?;
/// assert_eq!(keys.verify(ci.secret.expose()).await, Err(KeyRejection::Revoked));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ApiKeys {
    store: Arc<dyn ApiKeyStore>,
    users: Option<Arc<dyn UserStore>>,
    prefix: Arc<str>,
    roles: RoleLadder,
    last_used_interval: Duration,
    touched: Arc<Mutex<HashMap<String, u64>>>,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeys")
            .field("prefix", &self.prefix)
            .field("roles", &self.roles)
            .field("last_used_interval", &self.last_used_interval)
            .field("users", &self.users.is_some())
            .finish_non_exhaustive()
    }
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

impl ApiKeys {
    /// Keys and their owners in one store (both [`SqliteStore`](super::SqliteStore) and
    /// [`MemoryStore`](super::MemoryStore) are both).
    pub fn new<S: ApiKeyStore + UserStore>(store: S) -> Self {
        let store = Arc::new(store);
        let users: Arc<dyn UserStore> = store.clone();
        Self::with_stores(store, Some(users))
    }

    /// Keys in `keys`, owners in `users`. Without a user store, user-owned keys cannot be
    /// created and are refused if found (their owner cannot be checked).
    pub fn with_stores(keys: Arc<dyn ApiKeyStore>, users: Option<Arc<dyn UserStore>>) -> Self {
        ApiKeys {
            store: keys,
            users,
            prefix: Arc::from(DEFAULT_PREFIX),
            roles: RoleLadder::default(),
            last_used_interval: Duration::from_secs(60),
            touched: Arc::default(),
        }
    }

    /// Keys in memory, for tests.
    pub fn in_memory() -> Self {
        Self::new(super::MemoryStore::new())
    }

    /// Keys in the SQLite file at `path` (created and migrated as needed).
    pub fn sqlite(path: impl AsRef<std::path::Path>) -> Result<Self, StoreError> {
        super::SqliteStore::open(path).map(Self::new)
    }

    /// Sets the prefix of new keys (default `mcp_`). Only keys with this prefix are accepted.
    pub fn prefix(mut self, prefix: &str) -> Result<Self, ApiKeyError> {
        let ok = (1..=16).contains(&prefix.len())
            && prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !ok {
            return Err(ApiKeyError::InvalidPrefix(prefix.to_owned()));
        }
        self.prefix = Arc::from(prefix);
        Ok(self)
    }

    /// Sets the role ladder keys are checked against (default: Dagu's).
    #[must_use]
    pub fn roles(mut self, roles: RoleLadder) -> Self {
        self.roles = roles;
        self
    }

    /// How often `last_used_at` is written per key at most (default one minute).
    #[must_use]
    pub fn last_used_interval(mut self, every: Duration) -> Self {
        self.last_used_interval = every;
        self
    }

    /// The key prefix.
    pub fn key_prefix(&self) -> &str {
        &self.prefix
    }

    /// The role ladder.
    pub fn role_ladder(&self) -> &RoleLadder {
        &self.roles
    }

    /// The key store.
    pub fn store(&self) -> &Arc<dyn ApiKeyStore> {
        &self.store
    }

    /// The user store, if any.
    pub fn users(&self) -> Option<&Arc<dyn UserStore>> {
        self.users.as_ref()
    }

    /// Whether `token` claims to be one of these keys (it starts with the prefix). Such a token
    /// is only ever checked as a key.
    pub fn looks_like_key(&self, token: &str) -> bool {
        token.starts_with(&*self.prefix)
    }

    /// Checks a presented key: its shape, the digest lookup and constant-time comparison, then
    /// revocation, expiry and the owner. Records the use (at most once per interval). Surfaces
    /// are the caller's to check: a key on the wrong surface is a 403, not a 401.
    pub async fn verify(&self, presented: &str) -> Result<ApiKey, KeyRejection> {
        if !secret::is_well_formed(presented, &self.prefix) {
            return Err(KeyRejection::Malformed);
        }
        let digest = KeyDigest::of(presented);
        let now = now_secs();
        let found = self
            .store
            .find_by_digest(&digest)
            .await
            .map_err(KeyRejection::Unavailable)?;
        let stored = match found {
            Some(stored) => stored,
            // Not a current secret: perhaps the previous one of a rotation with a grace period.
            None => {
                let previous = self
                    .store
                    .find_by_previous_digest(&digest)
                    .await
                    .map_err(KeyRejection::Unavailable)?
                    .ok_or(KeyRejection::Unknown)?;
                if !previous.digest.matches(&digest) {
                    return Err(KeyRejection::Unknown);
                }
                if !previous.key.previous_secret_active(now) {
                    return Err(KeyRejection::Rotated);
                }
                previous
            }
        };
        if !stored.digest.matches(&digest) {
            return Err(KeyRejection::Unknown);
        }
        let key = stored.key;
        match key.status(now) {
            KeyStatus::Active => {}
            KeyStatus::Expired => return Err(KeyRejection::Expired),
            KeyStatus::Revoked => return Err(KeyRejection::Revoked),
        }
        if let Attribution::UserOwned { owner } = &key.attribution {
            let users = self.users.as_ref().ok_or(KeyRejection::OwnerDisabled)?;
            let user = users
                .get_user(owner)
                .await
                .map_err(KeyRejection::Unavailable)?;
            if user.is_none_or(|u| u.disabled) {
                return Err(KeyRejection::OwnerDisabled);
            }
        }
        self.record_use(&key.id, now).await;
        Ok(key)
    }

    /// Writes `last_used_at` when this key's last write is older than the interval. A failed
    /// write is logged and retried on the next use; it never fails the request.
    async fn record_use(&self, id: &str, now: u64) {
        let every = self.last_used_interval.as_secs();
        {
            let mut touched = self.touched.lock().unwrap_or_else(|e| e.into_inner());
            if touched
                .get(id)
                .is_some_and(|t| now < t.saturating_add(every))
            {
                return;
            }
            if touched.len() >= 100_000 {
                touched.retain(|_, t| now < t.saturating_add(every));
            }
            touched.insert(id.to_owned(), now);
        }
        if let Err(e) = self.store.touch(id, now).await {
            tracing::warn!(key_id = id, error = %e, "could not record an API key's last use");
            let mut touched = self.touched.lock().unwrap_or_else(|e| e.into_inner());
            touched.remove(id);
        }
    }

    /// Creates a key and returns it with its secret, which is shown this once.
    pub async fn create(&self, new: NewApiKey) -> Result<CreatedApiKey, ApiKeyError> {
        if !valid_name(&new.name) {
            return Err(ApiKeyError::InvalidName(new.name));
        }
        self.roles.check(&new.role)?;
        if new.surfaces.is_empty() {
            return Err(ApiKeyError::NoSurfaces);
        }
        new.workspaces.validate(&self.roles)?;
        if matches!(new.workspaces, WorkspaceAccess::Grants(_)) && new.role != self.roles.lowest() {
            return Err(ApiKeyError::ScopedRole {
                lowest: self.roles.lowest().to_owned(),
            });
        }
        let now = now_secs();
        if new.expires_at.is_some_and(|e| e <= now) {
            return Err(ApiKeyError::ExpiryInPast);
        }
        if !new
            .scopes
            .iter()
            .all(|s| mcp_core::rules::scope::is_valid(s))
        {
            return Err(ApiKeyError::InvalidField("scopes"));
        }
        if new.description.as_ref().is_some_and(|d| d.len() > 1024) {
            return Err(ApiKeyError::InvalidField(
                "description (at most 1024 bytes)",
            ));
        }
        let id = new_id()?;
        let attribution = match new.attribution {
            None => Attribution::default_for(&id, &new.name),
            Some(Attribution::ServiceAccount { id: sa, name }) => {
                if sa.is_empty() || name.is_empty() {
                    return Err(ApiKeyError::InvalidField("service account id and name"));
                }
                Attribution::ServiceAccount { id: sa, name }
            }
            Some(Attribution::UserOwned { owner }) => {
                let known = match &self.users {
                    Some(u) => u.get_user(&owner).await.map_err(ApiKeyError::Store)?,
                    None => None,
                };
                if known.is_none() {
                    return Err(ApiKeyError::UnknownOwner(owner));
                }
                Attribution::UserOwned { owner }
            }
        };
        let secret = ApiKeySecret::generate(&self.prefix)?;
        let key = ApiKey {
            id,
            name: new.name,
            description: new.description,
            role: new.role,
            scopes: new.scopes,
            surfaces: new.surfaces,
            workspaces: new.workspaces,
            attribution,
            key_prefix: secret.display_prefix(&self.prefix),
            created_by: new.created_by,
            created_at: now,
            last_used_at: None,
            expires_at: new.expires_at,
            revoked_at: None,
            rotated_at: None,
            previous_secret_expires_at: None,
        };
        let stored = super::model::StoredApiKey {
            key: key.clone(),
            digest: secret.digest(),
        };
        match self.store.insert(stored).await {
            Ok(()) => Ok(CreatedApiKey { key, secret }),
            Err(StoreError::Conflict(_)) => Err(ApiKeyError::NameTaken(key.name)),
            Err(e) => Err(ApiKeyError::Store(e)),
        }
    }

    /// Every key (never a secret).
    pub async fn list(&self) -> Result<Vec<ApiKey>, ApiKeyError> {
        self.store.list().await.map_err(ApiKeyError::Store)
    }

    /// One key.
    pub async fn get(&self, id: &str) -> Result<ApiKey, ApiKeyError> {
        self.store
            .get(id)
            .await
            .map_err(ApiKeyError::Store)?
            .ok_or_else(|| ApiKeyError::NotFound(id.to_owned()))
    }

    /// Revokes a key: it is refused from the next request on.
    pub async fn revoke(&self, id: &str) -> Result<(), ApiKeyError> {
        match self.store.revoke(id, now_secs()).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(ApiKeyError::NotFound(id.to_owned())),
            Err(e) => Err(ApiKeyError::Store(e)),
        }
    }

    /// Gives a key a new secret (shown once); the old one stops working at once (and so does a
    /// previous secret still in its grace period). Everything else about the key stays.
    pub async fn rotate(&self, id: &str) -> Result<CreatedApiKey, ApiKeyError> {
        self.rotate_with_grace(id, Duration::ZERO).await
    }

    /// The longest grace period of a rotation: 30 days.
    pub const MAX_ROTATION_GRACE: Duration = Duration::from_secs(30 * 86_400);

    /// Gives a key a new secret (shown once) and keeps accepting the current one for `grace`
    /// (whole seconds; zero: it stops at once, as [`rotate`](Self::rotate)), so that the
    /// clients holding it can move to the new one. One previous secret at most: rotating again
    /// drops the earlier one. Revoking the key stops both. The record's
    /// [`previous_secret_expires_at`](ApiKey::previous_secret_expires_at) says until when the
    /// previous secret works; presented after that, it is refused with
    /// [`KeyRejection::Rotated`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use mcp_server::auth::{ApiKeys, NewApiKey, Surface};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let keys = ApiKeys::in_memory();
    /// let old = keys.create(NewApiKey::new("ci", "operator").surface(Surface::Mcp)).await?;
    /// let new = keys.rotate_with_grace(&old.key.id, Duration::from_secs(3600)).await?;
    /// assert!(keys.verify(old.secret.expose()).await.is_ok()); // for an hour
    /// assert!(keys.verify(new.secret.expose()).await.is_ok());
    /// # Ok(()) }
    /// ```
    pub async fn rotate_with_grace(
        &self,
        id: &str,
        grace: Duration,
    ) -> Result<CreatedApiKey, ApiKeyError> {
        if grace > Self::MAX_ROTATION_GRACE {
            return Err(ApiKeyError::GraceTooLong {
                max_secs: Self::MAX_ROTATION_GRACE.as_secs(),
            });
        }
        let key = self.get(id).await?;
        if key.revoked_at.is_some() {
            return Err(ApiKeyError::Revoked(id.to_owned()));
        }
        let secret = ApiKeySecret::generate(&self.prefix)?;
        let prefix = secret.display_prefix(&self.prefix);
        let now = now_secs();
        let replaced = if grace.as_secs() == 0 {
            self.store
                .replace_secret(id, secret.digest(), &prefix, now)
                .await
        } else {
            let until = now.saturating_add(grace.as_secs());
            self.store
                .replace_secret_with_grace(id, secret.digest(), &prefix, now, until)
                .await
        };
        match replaced {
            Ok(true) => Ok(CreatedApiKey {
                key: self.get(id).await?,
                secret,
            }),
            Ok(false) => Err(ApiKeyError::NotFound(id.to_owned())),
            Err(e) => Err(ApiKeyError::Store(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::surface::Surface;
    use crate::auth::users::User;

    fn ci() -> NewApiKey {
        NewApiKey::new("ci", "operator").surface(Surface::Mcp)
    }

    #[tokio::test]
    async fn create_verify_rotate_revoke() {
        let keys = ApiKeys::in_memory();
        let c = keys.create(ci()).await.unwrap();
        assert!(c.secret.expose().starts_with("mcp_"));
        assert_eq!(keys.verify(c.secret.expose()).await.unwrap().id, c.key.id);
        assert!(matches!(
            keys.create(ci()).await,
            Err(ApiKeyError::NameTaken(_))
        ));
        let r = keys.rotate(&c.key.id).await.unwrap();
        assert_eq!(
            keys.verify(c.secret.expose()).await,
            Err(KeyRejection::Unknown)
        );
        assert!(keys.verify(r.secret.expose()).await.is_ok());
        keys.revoke(&c.key.id).await.unwrap();
        assert_eq!(
            keys.verify(r.secret.expose()).await,
            Err(KeyRejection::Revoked)
        );
        assert!(matches!(
            keys.rotate(&c.key.id).await,
            Err(ApiKeyError::Revoked(_))
        ));
        assert_eq!(keys.verify("mcp_x").await, Err(KeyRejection::Malformed));
        assert_eq!(
            keys.verify(&format!("mcp_{}", "A".repeat(43))).await,
            Err(KeyRejection::Unknown)
        );
    }

    #[tokio::test]
    async fn rotation_with_grace_keeps_the_previous_secret_until_it_ends() {
        let keys = ApiKeys::in_memory();
        let c = keys.create(ci()).await.unwrap();
        let id = c.key.id.clone();
        let r1 = keys
            .rotate_with_grace(&id, Duration::from_secs(60))
            .await
            .unwrap();
        let until = r1.key.previous_secret_expires_at.unwrap();
        assert!(until > now_secs() + 50);
        assert!(keys.verify(c.secret.expose()).await.is_ok());
        assert!(keys.verify(r1.secret.expose()).await.is_ok());

        // One previous secret at most.
        let r2 = keys
            .rotate_with_grace(&id, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(
            keys.verify(c.secret.expose()).await,
            Err(KeyRejection::Unknown)
        );
        assert!(keys.verify(r1.secret.expose()).await.is_ok());
        assert!(keys.verify(r2.secret.expose()).await.is_ok());

        // A grace period that is over.
        let r3 = ApiKeySecret::generate("mcp_").unwrap();
        let now = now_secs();
        assert!(
            keys.store()
                .replace_secret_with_grace(&id, r3.digest(), "mcp_xxxx", now, now - 1)
                .await
                .unwrap()
        );
        assert_eq!(
            keys.verify(r2.secret.expose()).await,
            Err(KeyRejection::Rotated)
        );
        assert!(keys.verify(r3.expose()).await.is_ok());

        // An immediate rotation drops the previous secret.
        keys.rotate_with_grace(&id, Duration::from_secs(60))
            .await
            .unwrap();
        let r5 = keys.rotate(&id).await.unwrap();
        assert_eq!(r5.key.previous_secret_expires_at, None);
        assert_eq!(keys.verify(r3.expose()).await, Err(KeyRejection::Unknown));

        // Revocation stops both secrets.
        let r6 = keys
            .rotate_with_grace(&id, Duration::from_secs(60))
            .await
            .unwrap();
        keys.revoke(&id).await.unwrap();
        assert_eq!(
            keys.verify(r5.secret.expose()).await,
            Err(KeyRejection::Revoked)
        );
        assert_eq!(
            keys.verify(r6.secret.expose()).await,
            Err(KeyRejection::Revoked)
        );

        let other = keys
            .create(NewApiKey::new("other", "viewer").surface(Surface::Mcp))
            .await
            .unwrap();
        assert!(matches!(
            keys.rotate_with_grace(&other.key.id, ApiKeys::MAX_ROTATION_GRACE * 2)
                .await,
            Err(ApiKeyError::GraceTooLong { .. })
        ));
        assert!(matches!(
            keys.rotate_with_grace("nope", Duration::from_secs(1)).await,
            Err(ApiKeyError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn creation_rules() {
        let keys = ApiKeys::in_memory();
        let e = |k| {
            let keys = keys.clone();
            async move { keys.create(k).await.unwrap_err() }
        };
        assert!(matches!(
            e(NewApiKey::new("x", "viewer")).await,
            ApiKeyError::NoSurfaces
        ));
        assert!(matches!(
            e(NewApiKey::new("bad name", "viewer").surface(Surface::Mcp)).await,
            ApiKeyError::InvalidName(_)
        ));
        assert!(matches!(
            e(NewApiKey::new("x", "root").surface(Surface::Mcp)).await,
            ApiKeyError::Role(_)
        ));
        assert!(matches!(
            e(NewApiKey::new("x", "operator")
                .surface(Surface::Mcp)
                .workspace("ops", "operator"))
            .await,
            ApiKeyError::ScopedRole { .. }
        ));
        assert!(matches!(
            e(NewApiKey::new("x", "viewer")
                .surface(Surface::Mcp)
                .expires_at(1))
            .await,
            ApiKeyError::ExpiryInPast
        ));
        assert!(matches!(
            e(NewApiKey::new("x", "viewer")
                .surface(Surface::Mcp)
                .user_owned("nobody"))
            .await,
            ApiKeyError::UnknownOwner(_)
        ));
    }

    #[tokio::test]
    async fn disabled_owners_disable_their_keys() {
        let keys = ApiKeys::in_memory();
        let users = keys.users().unwrap().clone();
        users
            .put_user(User::new("alice", "developer"))
            .await
            .unwrap();
        let k = keys
            .create(
                NewApiKey::new("a", "developer")
                    .surface(Surface::Mcp)
                    .user_owned("alice"),
            )
            .await
            .unwrap();
        assert!(keys.verify(k.secret.expose()).await.is_ok());
        users.set_user_disabled("alice", true).await.unwrap();
        assert_eq!(
            keys.verify(k.secret.expose()).await,
            Err(KeyRejection::OwnerDisabled)
        );
    }
}
