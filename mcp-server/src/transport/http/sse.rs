//! Server-sent event streams: framing, the logical stream that may outlive one HTTP connection
//! (stored events, resumption), and the body of a live connection.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use tokio::sync::{Mutex, mpsc};

use super::event_store::{EventStore, StoredEvent};
use super::shared::{Message, SharedSessions};

/// How many frames a slow client may lag behind before its connection is dropped (it can
/// resume from the store).
pub(crate) const LIVE_BUFFER: usize = 256;

/// One SSE frame.
pub(crate) fn frame(id: Option<&str>, retry: Option<Duration>, data: &str) -> Bytes {
    let mut s = String::with_capacity(data.len() + 48);
    if let Some(id) = id {
        s.push_str("id: ");
        s.push_str(id);
        s.push('\n');
    }
    if let Some(r) = retry {
        s.push_str("retry: ");
        s.push_str(&r.as_millis().to_string());
        s.push('\n');
    }
    s.push_str("data: ");
    s.push_str(data);
    s.push_str("\n\n");
    Bytes::from(s)
}

fn retry_frame(retry: Duration) -> Bytes {
    Bytes::from(format!("retry: {}\n\n", retry.as_millis()))
}

struct StreamState {
    live: Option<mpsc::Sender<Bytes>>,
    finished: bool,
}

/// Where a stream keeps its events for resumption.
pub(crate) struct Storage {
    pub store: Arc<dyn EventStore>,
    pub session_id: Arc<str>,
    /// With sessions shared between instances: where to announce events that no connection
    /// here took, for a follower resuming the stream through another instance.
    pub shared: Option<Arc<dyn SharedSessions>>,
}

/// A logical event stream: a POST's response stream or a session's standalone GET stream.
/// With storage, every event is stored before it is sent, so a client that lost the connection
/// resumes with `Last-Event-ID` and misses nothing.
pub(crate) struct SseStream {
    pub id: String,
    storage: Option<Storage>,
    retry: Duration,
    state: Mutex<StreamState>,
}

impl SseStream {
    /// A stream with a first live connection; returns the connection's receiving end.
    pub fn open(
        id: String,
        storage: Option<Storage>,
        retry: Duration,
    ) -> (Arc<Self>, mpsc::Receiver<Bytes>) {
        let (tx, rx) = mpsc::channel(LIVE_BUFFER);
        let stream = Arc::new(SseStream {
            id,
            storage,
            retry,
            state: Mutex::new(StreamState {
                live: Some(tx),
                finished: false,
            }),
        });
        (stream, rx)
    }

    /// A stream with no connection yet (the standalone stream before the first GET).
    pub fn detached(id: String, storage: Option<Storage>, retry: Duration) -> Arc<Self> {
        Arc::new(SseStream {
            id,
            storage,
            retry,
            state: Mutex::new(StreamState {
                live: None,
                finished: false,
            }),
        })
    }

    pub fn is_resumable(&self) -> bool {
        self.storage.is_some()
    }

    async fn store(&self, data: Arc<str>) -> Option<String> {
        let s = self.storage.as_ref()?;
        match s.store.append(&s.session_id, &self.id, data).await {
            Ok(id) => Some(id),
            Err(e) => {
                tracing::warn!(error = %e, "could not store an SSE event; it cannot be resumed");
                None
            }
        }
    }

    /// Sends `bytes` on the live connection; false when there is none (any more).
    fn deliver(state: &mut StreamState, bytes: Bytes) -> bool {
        let Some(live) = &state.live else {
            return false;
        };
        if live.try_send(bytes).is_err() {
            // Gone or too slow: drop the connection; the client may resume from the store.
            state.live = None;
            return false;
        }
        true
    }

    /// Tells the other instances that the stream has an event no connection here took.
    fn announce(&self) {
        if let Some(Storage {
            session_id,
            shared: Some(shared),
            ..
        }) = &self.storage
        {
            shared.publish(Message::Stream {
                s: session_id.to_string(),
                stream: self.id.clone(),
            });
        }
    }

    /// Sends the priming event (an id and empty data, with `retry`), so that the client can
    /// resume even before the first message (T-82). Only for resumable streams.
    pub async fn prime(&self) {
        let mut state = self.state.lock().await;
        if let Some(id) = self.store(Arc::from("")).await {
            Self::deliver(&mut state, frame(Some(&id), Some(self.retry), ""));
        }
    }

    /// Sends one JSON-RPC message.
    pub async fn send(&self, json: Arc<str>) {
        let mut state = self.state.lock().await;
        if state.finished {
            return;
        }
        let id = self.store(Arc::clone(&json)).await;
        if !Self::deliver(&mut state, frame(id.as_deref(), None, &json)) && id.is_some() {
            self.announce();
        }
    }

    /// Ends the stream: the live connection closes after what was sent.
    pub async fn finish(&self) {
        let mut state = self.state.lock().await;
        state.finished = true;
        state.live = None;
    }

    /// Closes the live connection but keeps the stream going (SEP-1699): a `retry:` hint first,
    /// then later events wait in the store for a GET with `Last-Event-ID`.
    pub async fn disconnect(&self) {
        let mut state = self.state.lock().await;
        if self.storage.is_some() {
            Self::deliver(&mut state, retry_frame(self.retry));
            state.live = None;
        }
    }

    /// Whether a connection is attached and open.
    pub async fn is_connected(&self) -> bool {
        let state = self.state.lock().await;
        state.live.as_ref().is_some_and(|l| !l.is_closed())
    }

    /// Attaches a new connection, first replaying `replayed` (read from the store under the
    /// stream's lock by `replay`, so nothing is lost or doubled). When the stream already
    /// finished, the connection ends after the replay.
    pub async fn attach<F>(&self, replay: F) -> mpsc::Receiver<Bytes>
    where
        F: AsyncFnOnce() -> Vec<StoredEvent>,
    {
        let mut state = self.state.lock().await;
        let events = replay().await;
        let (tx, rx) = mpsc::channel(LIVE_BUFFER.max(events.len() + 1));
        for e in &events {
            if !e.data.is_empty() {
                let _ = tx.try_send(frame(Some(&e.id), None, &e.data));
            }
        }
        if !state.finished {
            state.live = Some(tx);
        }
        rx
    }
}

/// The body of a live SSE connection: frames from a stream, plus keep-alive comments.
pub(crate) struct LiveBody {
    rx: mpsc::Receiver<Bytes>,
    keep_alive: Option<tokio::time::Interval>,
}

impl LiveBody {
    pub fn new(rx: mpsc::Receiver<Bytes>, keep_alive: Option<Duration>) -> Self {
        let keep_alive = keep_alive.map(|d| {
            let mut i = tokio::time::interval_at(tokio::time::Instant::now() + d, d);
            i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            i
        });
        LiveBody { rx, keep_alive }
    }
}

impl Stream for LiveBody {
    type Item = Result<Bytes, std::convert::Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(b)) => return Poll::Ready(Some(Ok(b))),
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => {}
        }
        if let Some(k) = self.keep_alive.as_mut() {
            if k.poll_tick(cx).is_ready() {
                return Poll::Ready(Some(Ok(Bytes::from_static(b": keep-alive\n\n"))));
            }
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::http::event_store::InMemoryEventStore;

    #[test]
    fn frames_are_well_formed() {
        let f = frame(Some("a.1"), Some(Duration::from_millis(500)), "{}");
        assert_eq!(&f[..], b"id: a.1\nretry: 500\ndata: {}\n\n");
    }

    #[tokio::test]
    async fn a_disconnected_stream_resumes_without_loss() {
        let store: Arc<dyn EventStore> = Arc::new(InMemoryEventStore::default());
        let storage = Storage {
            store: Arc::clone(&store),
            session_id: "s".into(),
            shared: None,
        };
        let (stream, mut rx) =
            SseStream::open("1".into(), Some(storage), Duration::from_millis(10));
        stream.prime().await;
        let priming = rx.recv().await.unwrap();
        let text = std::str::from_utf8(&priming).unwrap().to_owned();
        let last_id = text
            .lines()
            .next()
            .unwrap()
            .trim_start_matches("id: ")
            .to_owned();
        stream.disconnect().await;
        stream.send(r#"{"late":1}"#.into()).await;
        stream.finish().await;
        let mut rx2 = stream
            .attach(async || {
                store
                    .replay_after("s", &last_id)
                    .await
                    .unwrap()
                    .unwrap()
                    .events
            })
            .await;
        let replayed = rx2.recv().await.unwrap();
        assert!(
            std::str::from_utf8(&replayed)
                .unwrap()
                .contains(r#"{"late":1}"#)
        );
        assert!(
            rx2.recv().await.is_none(),
            "finished streams end after the replay"
        );
    }
}
