//! [`ApiKeyStore`]: where API keys live. The embedded default is
//! [`SqliteStore`](super::SqliteStore); [`MemoryStore`](super::MemoryStore) serves tests.

use super::model::{ApiKey, StoredApiKey};
use super::secret::KeyDigest;
use crate::BoxFuture;
use crate::store::NotReady;

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A unique field (name, id or digest) is taken.
    #[error("already exists: {0}")]
    Conflict(String),
    /// The backend failed (I/O, locked database, ...). Authentication answers 503, never "allowed".
    #[error("store unavailable: {0}")]
    Backend(String),
    /// A stored record cannot be read back.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// The store does not offer this operation (a store of the application's own that keeps no
    /// previous secret, asked for a rotation with a grace period).
    #[error("not supported by this store: {0}")]
    Unsupported(String),
}

/// Persistence of API keys. Every method is one atomic operation; implementations must be safe
/// under concurrent calls. Only digests are stored, never secrets.
///
/// Writes touch the fields they name only: recording a use never undoes a revocation, and a
/// revocation never loses a use.
pub trait ApiKeyStore: Send + Sync + 'static {
    /// Adds a key. [`StoreError::Conflict`] when its id, name or digest is taken.
    fn insert(&self, key: StoredApiKey) -> BoxFuture<'_, Result<(), StoreError>>;

    /// The key with this digest (an O(1) lookup), with its stored digest for the constant-time
    /// comparison.
    fn find_by_digest<'a>(
        &'a self,
        digest: &'a KeyDigest,
    ) -> BoxFuture<'a, Result<Option<StoredApiKey>, StoreError>>;

    /// The key with this id.
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<ApiKey>, StoreError>>;

    /// Every key, oldest first.
    fn list(&self) -> BoxFuture<'_, Result<Vec<ApiKey>, StoreError>>;

    /// Marks the key revoked at `at` (unless it already is); whether the key exists.
    fn revoke<'a>(&'a self, id: &'a str, at: u64) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Replaces the secret's digest and display prefix (rotation); whether the key exists. The
    /// old secret stops working at once, and so does a previous secret kept by
    /// [`replace_secret_with_grace`](Self::replace_secret_with_grace).
    fn replace_secret<'a>(
        &'a self,
        id: &'a str,
        digest: KeyDigest,
        key_prefix: &'a str,
        at: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Replaces the secret's digest and display prefix, keeping the current digest as the
    /// previous one, accepted until `previous_until` (the record's
    /// [`previous_secret_expires_at`](ApiKey::previous_secret_expires_at)); whether the key
    /// exists. One previous secret at most: an earlier one is dropped. One atomic operation.
    ///
    /// Default: [`StoreError::Unsupported`] (a store that keeps no previous secret); the
    /// built-in stores implement it.
    fn replace_secret_with_grace<'a>(
        &'a self,
        id: &'a str,
        digest: KeyDigest,
        key_prefix: &'a str,
        at: u64,
        previous_until: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let _ = (id, digest, key_prefix, at, previous_until);
        Box::pin(std::future::ready(Err(StoreError::Unsupported(
            "this key store keeps no previous secret: rotate without a grace period".into(),
        ))))
    }

    /// The key whose previous secret (kept by
    /// [`replace_secret_with_grace`](Self::replace_secret_with_grace)) has this digest, with
    /// that previous digest as `digest`, for the constant-time comparison; whether the grace
    /// period is over is the caller's to check. Asked only when
    /// [`find_by_digest`](Self::find_by_digest) found nothing. Default: none.
    fn find_by_previous_digest<'a>(
        &'a self,
        digest: &'a KeyDigest,
    ) -> BoxFuture<'a, Result<Option<StoredApiKey>, StoreError>> {
        let _ = digest;
        Box::pin(std::future::ready(Ok(None)))
    }

    /// Records a use at `at`: `last_used_at` becomes the later of its value and `at`.
    fn touch<'a>(&'a self, id: &'a str, at: u64) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Whether the store can serve now, for the HTTP transport's readiness endpoint (`/readyz`):
    /// `Err` with a short reason, free of secrets, when it cannot (a backend that does not
    /// answer). The endpoint calls it at most about once a second, bounded by
    /// `HttpConfig::readiness_timeout`. Default: ready (a store in memory always is;
    /// `SqliteStore` runs a trivial query).
    fn readiness(&self) -> BoxFuture<'_, Result<(), NotReady>> {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// A shared store is a store: keep a handle (for maintenance) and give one to
/// [`ApiKeys`](super::ApiKeys).
impl<T: ApiKeyStore + ?Sized> ApiKeyStore for std::sync::Arc<T> {
    fn insert(&self, key: StoredApiKey) -> BoxFuture<'_, Result<(), StoreError>> {
        (**self).insert(key)
    }
    fn find_by_digest<'a>(
        &'a self,
        digest: &'a KeyDigest,
    ) -> BoxFuture<'a, Result<Option<StoredApiKey>, StoreError>> {
        (**self).find_by_digest(digest)
    }
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<ApiKey>, StoreError>> {
        (**self).get(id)
    }
    fn list(&self) -> BoxFuture<'_, Result<Vec<ApiKey>, StoreError>> {
        (**self).list()
    }
    fn revoke<'a>(&'a self, id: &'a str, at: u64) -> BoxFuture<'a, Result<bool, StoreError>> {
        (**self).revoke(id, at)
    }
    fn replace_secret<'a>(
        &'a self,
        id: &'a str,
        digest: KeyDigest,
        key_prefix: &'a str,
        at: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        (**self).replace_secret(id, digest, key_prefix, at)
    }
    fn replace_secret_with_grace<'a>(
        &'a self,
        id: &'a str,
        digest: KeyDigest,
        key_prefix: &'a str,
        at: u64,
        previous_until: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        (**self).replace_secret_with_grace(id, digest, key_prefix, at, previous_until)
    }
    fn find_by_previous_digest<'a>(
        &'a self,
        digest: &'a KeyDigest,
    ) -> BoxFuture<'a, Result<Option<StoredApiKey>, StoreError>> {
        (**self).find_by_previous_digest(digest)
    }
    fn touch<'a>(&'a self, id: &'a str, at: u64) -> BoxFuture<'a, Result<(), StoreError>> {
        (**self).touch(id, at)
    }
    fn readiness(&self) -> BoxFuture<'_, Result<(), NotReady>> {
        (**self).readiness()
    }
}
