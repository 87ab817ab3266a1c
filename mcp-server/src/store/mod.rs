//! Backends for the state that several instances of a server share when they run behind one
//! load balancer. The in-memory defaults live beside the features they serve
//! ([`crate::auth::InMemoryReplayCache`], [`crate::tasks::InMemoryTaskStore`], …); this module
//! holds the shared ones.
//!
//! With the `redis` feature: [`RedisReplayCache`] (DPoP proofs accepted by one instance are
//! refused as replays by every other) and [`RedisTaskStore`] (a task created through one
//! instance can be polled, answered and cancelled through another).

#[cfg(feature = "redis")]
mod redis;

#[cfg(feature = "redis")]
pub use self::redis::*;
