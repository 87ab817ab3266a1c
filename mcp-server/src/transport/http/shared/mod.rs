//! Legacy sessions shared by several instances behind one URL: what a session's record holds,
//! the messages instances send each other, and the backend interface (Redis, feature `redis`).
//!
//! With a backend, every instance serves every session: a request through any instance loads
//! the session's record (version, capabilities, client, principal, log level, subscriptions)
//! and refreshes its expiry; changes are written through before the request that made them is
//! answered and announced to the other instances, which keep a working copy of the sessions
//! they serve. What cannot move (a running handler, a server→client request waiting for its
//! answer, a live SSE connection) stays where it is, and the messages reach it there:
//!
//! - an answer or `notifications/cancelled` arriving through another instance is handed on;
//! - `DELETE` through any instance ends the session everywhere;
//! - list changes and resource updates reach the clients of every instance;
//! - a stream resumed through another instance replays from the shared event store, then
//!   follows the stream's new events until the instance running it finishes it.

#[cfg(feature = "redis")]
mod redis;

#[cfg(feature = "redis")]
pub use self::redis::{RedisSessions, RedisSessionsError};

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use mcp_core::jsonrpc::{ErrorObject, RequestId};
use mcp_core::types::{ClientCapabilities, Implementation, LoggingLevel};
use mcp_core::version::ProtocolVersion;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::broadcast;

use super::event_store::EventStore;
use crate::BoxFuture;
use crate::auth::Principal;
use crate::client_state::StateChange;
use crate::server::Change;

/// What every instance needs to serve a session it did not create.
#[derive(Debug, Clone)]
pub(crate) struct SessionRecord {
    pub version: ProtocolVersion,
    pub capabilities: ClientCapabilities,
    pub client_info: Implementation,
    /// Who created the session; anyone else gets 404 for it (T-55).
    pub principal: Option<Principal>,
    pub log_level: Option<LoggingLevel>,
    pub subscriptions: HashSet<String>,
}

/// The shared store could not answer: the request that needed it fails with 503.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the shared session store is unavailable: {0}")]
pub(crate) struct Unavailable(pub String);

/// A list change, as instances tell each other of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ListChange {
    Tools,
    Prompts,
    Resources,
    ResourceUpdated(String),
}

impl From<&Change> for ListChange {
    fn from(change: &Change) -> Self {
        match change {
            Change::Tools => ListChange::Tools,
            Change::Prompts => ListChange::Prompts,
            Change::Resources => ListChange::Resources,
            Change::ResourceUpdated(uri) => ListChange::ResourceUpdated(uri.clone()),
        }
    }
}

impl From<ListChange> for Change {
    fn from(change: ListChange) -> Self {
        match change {
            ListChange::Tools => Change::Tools,
            ListChange::Prompts => Change::Prompts,
            ListChange::Resources => Change::Resources,
            ListChange::ResourceUpdated(uri) => Change::ResourceUpdated(uri),
        }
    }
}

/// What one instance tells the others. `s` is a session id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub(crate) enum Message {
    /// The session ended (`DELETE`); instances drop their copies.
    Ended { s: String },
    /// A change of the session's state, already in its record.
    State { s: String, change: StateChange },
    /// The client's answer to a server→client request, for the instance waiting for it.
    Answer {
        s: String,
        id: RequestId,
        answer: Result<Value, ErrorObject>,
    },
    /// `notifications/cancelled`, for the instance running the request.
    Cancel { s: String, id: RequestId },
    /// A list changed or a resource was updated.
    Change { change: ListChange },
    /// A stream has new events in the store, or finished: followers read the store again.
    Stream { s: String, stream: String },
}

/// A message and the instance that sent it.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Envelope {
    pub from: String,
    pub message: Message,
}

/// A backend sharing legacy sessions between instances.
pub(crate) trait SharedSessions: Send + Sync + 'static {
    /// This instance's tag: random, unique among the instances sharing the backend.
    fn instance(&self) -> &Arc<str>;

    /// Where the sessions' SSE events are kept, shared by the instances too.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    fn event_store(&self) -> Arc<dyn EventStore>;

    /// Stores the record of a new session, expiring after `ttl` without use.
    fn create<'a>(
        &'a self,
        id: &'a str,
        record: &'a SessionRecord,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), Unavailable>>;

    /// The record of a session, its expiry renewed to `ttl`; `None` when it ended or expired.
    fn load<'a>(
        &'a self,
        id: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<SessionRecord>, Unavailable>>;

    /// Writes `change` into the session's record and tells the other instances.
    fn record<'a>(
        &'a self,
        id: &'a str,
        change: &'a StateChange,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), Unavailable>>;

    /// Deletes the session's record and tells the other instances it ended.
    fn remove<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), Unavailable>>;

    /// Records that a POST stream of the session runs (`live`) or finished; a finished stream
    /// is announced to its followers.
    fn set_stream_live<'a>(
        &'a self,
        id: &'a str,
        stream: &'a str,
        live: bool,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), Unavailable>>;

    /// Whether a POST stream of the session still runs somewhere.
    fn is_stream_live<'a>(
        &'a self,
        id: &'a str,
        stream: &'a str,
    ) -> BoxFuture<'a, Result<bool, Unavailable>>;

    /// Tells the other instances `message`, without waiting (lost if the backend is down).
    fn publish(&self, message: Message);

    /// The messages of the other instances, in the order the backend received them.
    fn messages(&self) -> broadcast::Receiver<Arc<Message>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_as_json() {
        let messages = [
            Message::Ended { s: "a".into() },
            Message::State {
                s: "a".into(),
                change: StateChange::LogLevel(LoggingLevel::Warning),
            },
            Message::State {
                s: "a".into(),
                change: StateChange::Subscribed("file:///x".into()),
            },
            Message::Answer {
                s: "a".into(),
                id: RequestId::String("srv-i-1".into()),
                answer: Ok(serde_json::json!({"action": "accept"})),
            },
            Message::Answer {
                s: "a".into(),
                id: RequestId::Number(3),
                answer: Err(ErrorObject::invalid_params("no")),
            },
            Message::Cancel {
                s: "a".into(),
                id: RequestId::Number(7),
            },
            Message::Change {
                change: ListChange::ResourceUpdated("file:///y".into()),
            },
            Message::Stream {
                s: "a".into(),
                stream: "i-0".into(),
            },
        ];
        for m in messages {
            let envelope = Envelope {
                from: "i".into(),
                message: m.clone(),
            };
            let json = serde_json::to_string(&envelope).unwrap();
            let back: Envelope = serde_json::from_str(&json).unwrap();
            assert_eq!(back.message, m, "{json}");
        }
    }
}
