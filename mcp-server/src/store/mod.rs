//! Where the state lives that outlives a request: the store traits, their in-memory defaults,
//! and the backends that several instances of a server share behind one load balancer.
//!
//! - [`ReplayCache`]: the DPoP proofs already accepted ([`InMemoryReplayCache`] by default).
//! - [`TaskStore`]: the records of the tasks extension ([`InMemoryTaskStore`] by default).
//!
//! Every store trait has a `readiness` method (default: ready) that the HTTP transport's
//! readiness endpoint calls; a store that can be down says so with a [`NotReady`].
//!
//! With the `redis` feature: `RedisReplayCache` (DPoP proofs accepted by one instance are
//! refused as replays by every other) and `RedisTaskStore` (a task created through one
//! instance can be polled, answered and cancelled through another). The Redis store of SSE
//! events (`transport::http::RedisEventStore`) lives with its trait in the transport, above
//! this module, and reuses the connection helpers here.
//!
//! The features that use a store depend on this module; the backends depend only on the
//! traits here.

mod ready;
#[cfg(feature = "redis")]
pub(crate) mod redis;
mod replay;
mod tasks;

pub use ready::NotReady;
#[cfg(feature = "http")]
#[cfg(feature = "http")]
pub(crate) use ready::{ReadinessFn, readiness_of};
pub use replay::{InMemoryReplayCache, ReplayCache, ReplayCacheError};
pub(crate) use tasks::iso8601;
pub use tasks::{InMemoryTaskStore, TaskCall, TaskRecord, TaskStatus, TaskStore, TaskStoreError};

#[cfg(feature = "redis")]
pub use self::redis::{RedisReplayCache, RedisTaskStore};
