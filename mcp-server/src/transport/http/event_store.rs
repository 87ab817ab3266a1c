//! Keeping SSE events so that a client can resume a stream with `Last-Event-ID` (T-80, T-81).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use crate::BoxFuture;

/// One stored event: its id and the JSON-RPC message it carried (empty for priming events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// The SSE `id:`.
    pub id: String,
    /// The `data:` payload.
    pub data: Arc<str>,
}

/// The events of one stream that came after a given event id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    /// The stream the id belongs to.
    pub stream_id: String,
    /// The events after it, oldest first.
    pub events: Vec<StoredEvent>,
}

/// Why the store failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event store: {0}")]
pub struct EventStoreError(pub String);

/// Stores SSE events per session and stream. Event ids must be unique across the session's
/// streams and must name their stream, so that a resumption never replays another stream's
/// events. Implement it over Redis or a database to resume across instances.
pub trait EventStore: Send + Sync + 'static {
    /// Appends an event to a stream and returns its id.
    fn append<'a>(
        &'a self,
        session_id: &'a str,
        stream_id: &'a str,
        data: Arc<str>,
    ) -> BoxFuture<'a, Result<String, EventStoreError>>;

    /// The events of the stream that `last_event_id` belongs to, after it; `None` when the id is
    /// unknown (never issued, or already evicted).
    fn replay_after<'a>(
        &'a self,
        session_id: &'a str,
        last_event_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Replay>, EventStoreError>>;

    /// Forgets a session's events.
    fn remove_session<'a>(&'a self, session_id: &'a str) -> BoxFuture<'a, ()>;
}

/// The default store: in memory, the newest `max_events_per_session` events of each session.
#[derive(Debug)]
pub struct InMemoryEventStore {
    max_events_per_session: usize,
    sessions: Mutex<HashMap<String, SessionEvents>>,
}

#[derive(Debug, Default)]
struct SessionEvents {
    next_seq: u64,
    events: VecDeque<(String, u64, StoredEvent)>,
}

impl Default for InMemoryEventStore {
    fn default() -> Self {
        Self::new(1024)
    }
}

impl InMemoryEventStore {
    /// A store keeping at most `max_events_per_session` events per session.
    pub fn new(max_events_per_session: usize) -> Self {
        InMemoryEventStore {
            max_events_per_session: max_events_per_session.max(1),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, SessionEvents>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Event ids look like `<stream>.<seq>`; stream ids never contain a dot.
fn split_event_id(id: &str) -> Option<(&str, u64)> {
    let (stream, seq) = id.rsplit_once('.')?;
    Some((stream, seq.parse().ok()?))
}

impl EventStore for InMemoryEventStore {
    fn append<'a>(
        &'a self,
        session_id: &'a str,
        stream_id: &'a str,
        data: Arc<str>,
    ) -> BoxFuture<'a, Result<String, EventStoreError>> {
        let mut sessions = self.lock();
        let s = sessions.entry(session_id.to_owned()).or_default();
        let seq = s.next_seq;
        s.next_seq += 1;
        let id = format!("{stream_id}.{seq}");
        s.events.push_back((
            stream_id.to_owned(),
            seq,
            StoredEvent {
                id: id.clone(),
                data,
            },
        ));
        while s.events.len() > self.max_events_per_session {
            s.events.pop_front();
        }
        Box::pin(std::future::ready(Ok(id)))
    }

    fn replay_after<'a>(
        &'a self,
        session_id: &'a str,
        last_event_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Replay>, EventStoreError>> {
        let result = split_event_id(last_event_id).and_then(|(stream, seq)| {
            let sessions = self.lock();
            let s = sessions.get(session_id)?;
            // The id must still be known, or events after it may be lost.
            s.events
                .iter()
                .any(|(st, sq, _)| st == stream && *sq == seq)
                .then(|| Replay {
                    stream_id: stream.to_owned(),
                    events: s
                        .events
                        .iter()
                        .filter(|(st, sq, _)| st == stream && *sq > seq)
                        .map(|(_, _, e)| e.clone())
                        .collect(),
                })
        });
        Box::pin(std::future::ready(Ok(result)))
    }

    fn remove_session<'a>(&'a self, session_id: &'a str) -> BoxFuture<'a, ()> {
        self.lock().remove(session_id);
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn replay_returns_only_later_events_of_the_same_stream() {
        let store = InMemoryEventStore::new(10);
        let a0 = store.append("s", "a", "".into()).await.unwrap();
        let _b0 = store.append("s", "b", "b0".into()).await.unwrap();
        store.append("s", "a", "a1".into()).await.unwrap();
        let r = store.replay_after("s", &a0).await.unwrap().unwrap();
        assert_eq!(r.stream_id, "a");
        assert_eq!(
            r.events.iter().map(|e| &*e.data).collect::<Vec<_>>(),
            ["a1"]
        );
        assert!(store.replay_after("s", "zz.9").await.unwrap().is_none());
        assert!(store.replay_after("other", &a0).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn old_events_are_evicted() {
        let store = InMemoryEventStore::new(2);
        let first = store.append("s", "a", "1".into()).await.unwrap();
        store.append("s", "a", "2".into()).await.unwrap();
        store.append("s", "a", "3".into()).await.unwrap();
        assert!(store.replay_after("s", &first).await.unwrap().is_none());
        store.remove_session("s").await;
        assert!(store.lock().is_empty());
    }
}
