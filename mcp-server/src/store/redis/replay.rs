//! The DPoP replay cache on Redis: one `SET key 1 NX EXAT expiry` per accepted proof, so that
//! every instance sharing the Redis refuses a proof any of them accepted (DP-12).

use ::redis::aio::ConnectionManager;
use ::redis::{ExistenceCheck, SetExpiry, SetOptions};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::BoxFuture;
use crate::store::{NotReady, ReplayCache, ReplayCacheError};

/// A [`ReplayCache`] on Redis, shared by every instance that uses the same server and prefix.
/// Entries expire by themselves when the proof could no longer be accepted, so the keyspace
/// stays as small as the traffic of one `iat` window. When Redis does not answer, proofs are
/// refused with 503 (fail closed).
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use mcp_server::auth::DpopConfig;
/// use mcp_server::store::RedisReplayCache;
///
/// let cache = RedisReplayCache::connect("redis://127.0.0.1:6379/", "mcp:dpop:").await?;
/// let dpop = DpopConfig::required().replay_cache(Arc::new(cache));
/// # let _ = dpop;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisReplayCache {
    connection: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisReplayCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisReplayCache")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisReplayCache {
    /// A cache on an existing connection; every key starts with `prefix`.
    pub fn new(connection: ConnectionManager, prefix: impl Into<String>) -> Self {
        RedisReplayCache {
            connection,
            prefix: prefix.into(),
        }
    }

    /// Connects to `url` (`redis://host:port/db`); every key starts with `prefix`.
    pub async fn connect(url: &str, prefix: impl Into<String>) -> Result<Self, ReplayCacheError> {
        let (_, connection) = super::connect(url)
            .await
            .map_err(ReplayCacheError::Unavailable)?;
        Ok(Self::new(connection, prefix))
    }
}

impl ReplayCache for RedisReplayCache {
    fn insert_fresh(
        &self,
        key: [u8; 32],
        expires_at: u64,
    ) -> BoxFuture<'_, Result<bool, ReplayCacheError>> {
        let span = crate::telemetry::outgoing("redis SET", Some("redis"));
        Box::pin(crate::telemetry::traced(span, async move {
            let name = format!("{}{}", self.prefix, URL_SAFE_NO_PAD.encode(key));
            let options = SetOptions::default()
                .conditional_set(ExistenceCheck::NX)
                .with_expiration(SetExpiry::EXAT(expires_at));
            // The connection manager is a cheap handle on one multiplexed connection.
            let mut connection = self.connection.clone();
            let reply: Option<String> = ::redis::cmd("SET")
                .arg(&name)
                .arg(1)
                .arg(options)
                .query_async(&mut connection)
                .await
                .map_err(|e| ReplayCacheError::Unavailable(e.to_string()))?;
            // `OK` when the key was new; nil when it was there already.
            Ok(reply.is_some())
        }))
    }

    /// A `PING`, answered within 1 s.
    fn readiness(&self) -> BoxFuture<'_, Result<(), NotReady>> {
        Box::pin(super::ping(&self.connection))
    }
}
