//! Keeping SSE events so that a client can resume a stream with `Last-Event-ID` (T-80, T-81).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use crate::BoxFuture;
use crate::store::NotReady;

#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "redis")]
pub use self::redis::RedisEventStore;

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

    /// Whether the store can serve now, for the HTTP transport's readiness endpoint (`/readyz`):
    /// `Err` with a short reason, free of secrets, when it cannot (a backend that does not
    /// answer). The endpoint calls it at most about once a second, bounded by
    /// `HttpConfig::readiness_timeout`. Default: ready (a store in memory always is).
    fn readiness(&self) -> BoxFuture<'_, Result<(), NotReady>> {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// The default store: in memory, bounded three ways, always by evicting the oldest events first:
///
/// - events per session (set by [`new`](Self::new), default
///   [1024](Self::DEFAULT_MAX_EVENTS_PER_SESSION));
/// - bytes per stream ([`max_stream_bytes`](Self::max_stream_bytes), default
///   [8 MiB](Self::DEFAULT_MAX_STREAM_BYTES));
/// - bytes in all ([`max_total_bytes`](Self::max_total_bytes), default
///   [128 MiB](Self::DEFAULT_MAX_TOTAL_BYTES)), across every session.
///
/// An event counts the bytes of its `data:` payload and of its id, plus
/// [`EVENT_OVERHEAD`](Self::EVENT_OVERHEAD) for its bookkeeping. An event larger than the
/// stream bound is not kept (nor is anything older of its stream, which could not be replayed
/// without it), but still gets its id. Resuming with the id of an evicted event is answered
/// like an unknown id: `replay_after` gives `None`, and the GET gets 400 (the client must ask
/// again rather than wait for events that cannot come back).
///
/// ```
/// use mcp_server::transport::http::InMemoryEventStore;
/// let store = InMemoryEventStore::new(256)
///     .max_stream_bytes(1024 * 1024)
///     .max_total_bytes(32 * 1024 * 1024);
/// assert_eq!(store.limits(), (256, 1024 * 1024, 32 * 1024 * 1024));
/// ```
#[derive(Debug)]
pub struct InMemoryEventStore {
    max_events_per_session: usize,
    max_stream_bytes: usize,
    max_total_bytes: usize,
    inner: Mutex<Inner>,
}

/// Every stored event, by session and stream, with the global age order used for eviction.
#[derive(Debug, Default)]
struct Inner {
    sessions: HashMap<Arc<str>, SessionEvents>,
    /// Every stored event by age (a counter across sessions): session and stream.
    order: BTreeMap<u64, (Arc<str>, Arc<str>)>,
    next_age: u64,
    total_bytes: usize,
}

#[derive(Debug, Default)]
struct SessionEvents {
    /// The next event's sequence number: never reused while the session lives, so ids stay
    /// unique even after eviction.
    next_seq: u64,
    /// The session's stored events by age: their stream.
    order: BTreeMap<u64, Arc<str>>,
    streams: HashMap<Arc<str>, StreamEvents>,
}

#[derive(Debug, Default)]
struct StreamEvents {
    bytes: usize,
    /// Oldest first.
    events: VecDeque<Entry>,
}

#[derive(Debug)]
struct Entry {
    age: u64,
    seq: u64,
    bytes: usize,
    event: StoredEvent,
}

impl Default for InMemoryEventStore {
    fn default() -> Self {
        Self::new(Self::DEFAULT_MAX_EVENTS_PER_SESSION)
    }
}

impl InMemoryEventStore {
    /// The default bound on events per session: 1024.
    pub const DEFAULT_MAX_EVENTS_PER_SESSION: usize = 1024;
    /// The default [`max_stream_bytes`](Self::max_stream_bytes): 8 MiB.
    pub const DEFAULT_MAX_STREAM_BYTES: usize = 8 * 1024 * 1024;
    /// The default [`max_total_bytes`](Self::max_total_bytes): 128 MiB.
    pub const DEFAULT_MAX_TOTAL_BYTES: usize = 128 * 1024 * 1024;
    /// What every kept event counts besides its data and id (its indexes), in bytes, so that
    /// many tiny events are bounded too.
    pub const EVENT_OVERHEAD: usize = 128;

    /// A store keeping at most `max_events_per_session` events per session (at least 1), with
    /// the default byte bounds.
    pub fn new(max_events_per_session: usize) -> Self {
        InMemoryEventStore {
            max_events_per_session: max_events_per_session.max(1),
            max_stream_bytes: Self::DEFAULT_MAX_STREAM_BYTES,
            max_total_bytes: Self::DEFAULT_MAX_TOTAL_BYTES,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Sets the bytes kept per stream (default 8 MiB); older events of the stream are evicted
    /// beyond it, and a larger event is not kept at all.
    #[must_use]
    pub fn max_stream_bytes(mut self, bytes: usize) -> Self {
        self.max_stream_bytes = bytes;
        self
    }

    /// Sets the bytes kept across every session (default 128 MiB); the oldest events of any
    /// session are evicted beyond it.
    #[must_use]
    pub fn max_total_bytes(mut self, bytes: usize) -> Self {
        self.max_total_bytes = bytes;
        self
    }

    /// The bounds: events per session, bytes per stream, bytes in all.
    pub fn limits(&self) -> (usize, usize, usize) {
        (
            self.max_events_per_session,
            self.max_stream_bytes,
            self.max_total_bytes,
        )
    }

    /// The bytes kept now, across every session.
    pub fn total_bytes(&self) -> usize {
        self.lock().total_bytes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn append_now(&self, session_id: &str, stream_id: &str, data: Arc<str>) -> String {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let age = inner.next_age;
        inner.next_age += 1;
        let session_key = match inner.sessions.get_key_value(session_id) {
            Some((k, _)) => Arc::clone(k),
            None => Arc::from(session_id),
        };
        let session = inner.sessions.entry(Arc::clone(&session_key)).or_default();
        let seq = session.next_seq;
        session.next_seq += 1;
        let id = format!("{stream_id}.{seq}");
        let bytes = data.len() + id.len() + Self::EVENT_OVERHEAD;
        let stream_key = match session.streams.get_key_value(stream_id) {
            Some((k, _)) => Arc::clone(k),
            None => Arc::from(stream_id),
        };
        let stream = session.streams.entry(Arc::clone(&stream_key)).or_default();
        stream.bytes += bytes;
        stream.events.push_back(Entry {
            age,
            seq,
            bytes,
            event: StoredEvent {
                id: id.clone(),
                data,
            },
        });
        session.order.insert(age, Arc::clone(&stream_key));
        inner
            .order
            .insert(age, (Arc::clone(&session_key), Arc::clone(&stream_key)));
        inner.total_bytes += bytes;
        self.evict(inner, &session_key, &stream_key);
        id
    }

    /// Evicts oldest-first until every bound holds again after an append to `stream`.
    fn evict(&self, inner: &mut Inner, session_id: &Arc<str>, stream_id: &Arc<str>) {
        while inner
            .sessions
            .get(session_id)
            .and_then(|s| s.streams.get(stream_id))
            .is_some_and(|st| st.bytes > self.max_stream_bytes)
        {
            if !inner.pop_oldest(session_id, stream_id) {
                break;
            }
        }
        while let Some(s) = inner.sessions.get(session_id) {
            if s.order.len() <= self.max_events_per_session {
                break;
            }
            let Some(oldest) = s.order.values().next().cloned() else {
                break;
            };
            if !inner.pop_oldest(session_id, &oldest) {
                break;
            }
        }
        while inner.total_bytes > self.max_total_bytes {
            let Some((session, stream)) = inner.order.values().next().cloned() else {
                break;
            };
            if !inner.pop_oldest(&session, &stream) {
                break;
            }
        }
    }
}

impl Inner {
    /// Removes the oldest event of a stream from every index; false when there is none.
    fn pop_oldest(&mut self, session_id: &Arc<str>, stream_id: &Arc<str>) -> bool {
        let Some(session) = self.sessions.get_mut(session_id) else {
            return false;
        };
        let Some(stream) = session.streams.get_mut(stream_id) else {
            return false;
        };
        let Some(entry) = stream.events.pop_front() else {
            return false;
        };
        stream.bytes = stream.bytes.saturating_sub(entry.bytes);
        if stream.events.is_empty() {
            session.streams.remove(stream_id);
        }
        session.order.remove(&entry.age);
        self.order.remove(&entry.age);
        self.total_bytes = self.total_bytes.saturating_sub(entry.bytes);
        true
    }

    fn replay(&self, session_id: &str, last_event_id: &str) -> Option<Replay> {
        let (stream_id, seq) = split_event_id(last_event_id)?;
        let stream = self.sessions.get(session_id)?.streams.get(stream_id)?;
        // The id itself must still be kept, or events after it may be lost.
        let at = stream.events.iter().position(|e| e.seq == seq)?;
        Some(Replay {
            stream_id: stream_id.to_owned(),
            events: stream
                .events
                .iter()
                .skip(at + 1)
                .map(|e| e.event.clone())
                .collect(),
        })
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
        let id = self.append_now(session_id, stream_id, data);
        Box::pin(std::future::ready(Ok(id)))
    }

    fn replay_after<'a>(
        &'a self,
        session_id: &'a str,
        last_event_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Replay>, EventStoreError>> {
        let result = self.lock().replay(session_id, last_event_id);
        Box::pin(std::future::ready(Ok(result)))
    }

    fn remove_session<'a>(&'a self, session_id: &'a str) -> BoxFuture<'a, ()> {
        let mut inner = self.lock();
        if let Some(session) = inner.sessions.remove(session_id) {
            for stream in session.streams.values() {
                for e in &stream.events {
                    inner.order.remove(&e.age);
                }
                inner.total_bytes = inner.total_bytes.saturating_sub(stream.bytes);
            }
        }
        drop(inner);
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
        let inner = store.lock();
        assert!(inner.sessions.is_empty() && inner.order.is_empty());
        assert_eq!(inner.total_bytes, 0);
    }

    /// The bytes an event counts: its data, its id and the fixed overhead.
    fn cost(id: &str, data: &str) -> usize {
        id.len() + data.len() + InMemoryEventStore::EVENT_OVERHEAD
    }

    /// Finding 13: a stream keeps at most `max_stream_bytes`, evicting its oldest events first;
    /// resuming from an evicted id is answered like an unknown id (`None`, a 400 for the GET).
    #[tokio::test]
    async fn a_stream_keeps_at_most_its_byte_bound_evicting_oldest_first() {
        let data = "x".repeat(100);
        let per_event = cost("a.0", &data);
        let store = InMemoryEventStore::new(1000).max_stream_bytes(3 * per_event);
        let mut ids = Vec::new();
        for _ in 0..5 {
            ids.push(store.append("s", "a", data.as_str().into()).await.unwrap());
        }
        // Another stream of the same session is not touched by stream a's bound.
        let b0 = store.append("s", "b", data.as_str().into()).await.unwrap();
        assert_eq!(store.total_bytes(), 4 * per_event);
        for evicted in &ids[..2] {
            assert_eq!(store.replay_after("s", evicted).await, Ok(None));
        }
        let r = store.replay_after("s", &ids[2]).await.unwrap().unwrap();
        assert_eq!(
            r.events.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
            [ids[3].as_str(), ids[4].as_str()]
        );
        assert!(store.replay_after("s", &b0).await.unwrap().is_some());
    }

    /// An event larger than the stream bound is not kept, and neither is anything older of its
    /// stream (a replay would silently skip it); later events are kept again.
    #[tokio::test]
    async fn an_event_larger_than_the_stream_bound_is_not_kept_nor_what_precedes_it() {
        let store = InMemoryEventStore::new(1000).max_stream_bytes(300);
        let before = store.append("s", "a", "small".into()).await.unwrap();
        let huge = store
            .append("s", "a", "y".repeat(1000).into())
            .await
            .unwrap();
        assert_eq!(huge, "a.1", "the event still gets its id");
        assert_eq!(store.replay_after("s", &before).await, Ok(None));
        assert_eq!(store.replay_after("s", &huge).await, Ok(None));
        assert_eq!(store.total_bytes(), 0);
        let after = store.append("s", "a", "ok".into()).await.unwrap();
        assert_eq!(after, "a.2", "ids are never reused");
        let next = store.append("s", "a", "ok2".into()).await.unwrap();
        let r = store.replay_after("s", &after).await.unwrap().unwrap();
        assert_eq!(r.events.len(), 1);
        assert_eq!(r.events[0].id, next);
    }

    /// Finding 13: all sessions together keep at most `max_total_bytes`; the oldest events of
    /// any session go first.
    #[tokio::test]
    async fn all_sessions_together_keep_at_most_the_total_bound_oldest_first() {
        let data = "z".repeat(200);
        let per_event = cost("a.0", &data);
        let store = InMemoryEventStore::new(1000).max_total_bytes(4 * per_event);
        let s1_first = store.append("s1", "a", data.as_str().into()).await.unwrap();
        let s2_first = store.append("s2", "a", data.as_str().into()).await.unwrap();
        for _ in 0..3 {
            store.append("s1", "a", data.as_str().into()).await.unwrap();
        }
        assert_eq!(store.total_bytes(), 4 * per_event);
        assert_eq!(store.replay_after("s1", &s1_first).await, Ok(None));
        assert!(store.replay_after("s2", &s2_first).await.unwrap().is_some());
        // Another session's flood evicts everything older, whichever session it belongs to.
        for _ in 0..100 {
            store.append("s3", "b", data.as_str().into()).await.unwrap();
        }
        assert!(store.total_bytes() <= 4 * per_event);
        assert_eq!(store.replay_after("s2", &s2_first).await, Ok(None));
        let inner = store.lock();
        let kept: Vec<&str> = inner
            .sessions
            .iter()
            .filter(|(_, s)| !s.streams.is_empty())
            .map(|(id, _)| &**id)
            .collect();
        assert_eq!(kept, ["s3"]);
        assert_eq!(
            inner.order.len(),
            inner.sessions["s3"].streams["b"].events.len()
        );
    }

    #[test]
    fn the_defaults_are_documented_values() {
        assert_eq!(
            InMemoryEventStore::default().limits(),
            (1024, 8 * 1024 * 1024, 128 * 1024 * 1024)
        );
    }
}
