//! GET (the standalone stream and resumption, T-70..T-81) and DELETE (ending a session, T-54)
//! on the endpoint, legacy era.

use std::sync::Arc;

use axum::response::Response;
use http::StatusCode;
use http::request::Parts;
use mcp_core::version::{Era, ProtocolVersion};
use tokio::sync::mpsc;

use super::HttpState;
use super::config::SessionMode;
use super::event_store::{EventStore, Replay, StoredEvent};
use super::guard::{self, Refusal};
use super::post::{session_not_found, store_unavailable};
use super::respond::{self, LAST_EVENT_ID, MCP_PROTOCOL_VERSION, MCP_SESSION_ID, header};
use super::session::{STANDALONE_STREAM, Session};
use super::shared::{Message, SharedSessions};
use super::sse::{LIVE_BUFFER, LiveBody, frame};
use crate::auth::AuthContext;
use std::time::Duration;

#[allow(clippy::result_large_err)] // the error is the response itself
async fn session_for(state: &HttpState, parts: &Parts) -> Result<Arc<Session>, Response> {
    if state.config.session_mode == SessionMode::Stateless {
        return Err(respond::method_not_allowed("POST"));
    }
    if let Some(v) = header(&parts.headers, &MCP_PROTOCOL_VERSION) {
        let ok = ProtocolVersion::parse(v)
            .is_some_and(|p| p.era() == Era::Legacy && state.server.supports(p));
        if !ok {
            return Err(respond::transport_error(
                StatusCode::BAD_REQUEST,
                &format!("Bad Request: Unsupported protocol version: {v}"),
            ));
        }
    }
    // Without a legacy session there is no stream to open or end: 405, as a modern-era server
    // answers GET and DELETE (T-41, VERSIONS §3 rule 1).
    let Some(id) = header(&parts.headers, &MCP_SESSION_ID) else {
        return Err(respond::method_not_allowed("POST"));
    };
    let principal = parts
        .extensions
        .get::<Arc<AuthContext>>()
        .map(|a| a.principal());
    match state.sessions.get(id, principal.as_ref()).await {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(session_not_found()),
        Err(e) => Err(store_unavailable(&e)),
    }
}

/// GET: resume a stream after `Last-Event-ID`, or open the session's standalone stream.
pub(crate) async fn get(state: Arc<HttpState>, parts: Parts) -> Response {
    if !guard::accepts(&parts.headers).sse {
        return respond::refusal(Refusal::NotAcceptable(
            "Not Acceptable: Client must accept text/event-stream",
        ));
    }
    let session = match session_for(&state, &parts).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let keep_alive = state.config.sse_keep_alive;
    if let Some(last) = header(&parts.headers, &LAST_EVENT_ID) {
        return match resume(&session, last).await {
            Some(rx) => respond::sse(&state.server.metrics, LiveBody::new(rx, keep_alive)),
            // Not 404 (that would read as an ended session): the events are gone, the client
            // must ask again rather than wait on a stream that cannot bring them back.
            None => respond::transport_error(
                StatusCode::BAD_REQUEST,
                "Bad Request: Last-Event-ID is unknown or its events have expired",
            ),
        };
    }
    let standalone = session.standalone();
    if standalone.is_connected().await {
        return respond::transport_error(
            StatusCode::CONFLICT,
            "Conflict: Only one SSE stream is allowed per session",
        );
    }
    let rx = standalone.attach(async || Vec::new()).await;
    respond::sse(&state.server.metrics, LiveBody::new(rx, keep_alive))
}

/// Replays the events of the stream `last` belongs to, then continues it if it is still live
/// (T-81: never another stream's events). `None` when the id is unknown.
async fn resume(session: &Session, last: &str) -> Option<mpsc::Receiver<bytes::Bytes>> {
    let store = Arc::clone(session.store());
    let replay = store.replay_after(&session.id, last).await.ok()??;
    if let Some(stream) = session.stream(&replay.stream_id) {
        let sid = Arc::clone(&session.id);
        let rx = stream
            .attach(async || {
                store
                    .replay_after(&sid, last)
                    .await
                    .ok()
                    .flatten()
                    .map(|r| r.events)
                    .unwrap_or_default()
            })
            .await;
        return Some(rx);
    }
    if replay.stream_id == STANDALONE_STREAM {
        // The standalone stream is recreated on demand; treat as a fresh GET after the replay.
        let stream = session.standalone();
        let events = replay.events;
        return Some(stream.attach(async move || events).await);
    }
    if let Some((shared, idle)) = session.shared() {
        // Maybe running in another instance: follow it there.
        let shared = Arc::clone(shared);
        return Some(follow(shared, store, Arc::clone(&session.id), replay, last, idle).await);
    }
    // A finished POST stream: replay what is left, then end.
    let (tx, rx) = mpsc::channel(replay.events.len().max(1));
    for e in replay.events.iter().filter(|e| !e.data.is_empty()) {
        let _ = tx.try_send(frame(Some(&e.id), None, &e.data));
    }
    Some(rx)
}

/// How often a follower reads the store when no message announced news (messages can be lost).
const FOLLOW_POLL: Duration = Duration::from_secs(1);

/// Resumes a POST stream of a shared session that does not run here: replays what the store
/// has after `last`, then, while the stream runs in another instance, reads the store again
/// whenever that instance announces news (and every [`FOLLOW_POLL`]), until the stream
/// finishes, the client goes, the session ends, or nothing new comes for the session idle
/// timeout. Each event is sent once, in order.
async fn follow(
    shared: Arc<dyn SharedSessions>,
    store: Arc<dyn EventStore>,
    session_id: Arc<str>,
    replay: Replay,
    last: &str,
    idle: Duration,
) -> mpsc::Receiver<bytes::Bytes> {
    // Listen before looking: news sent from here on is not missed.
    let mut news = shared.messages();
    let stream_id = replay.stream_id;
    let live = shared
        .is_stream_live(&session_id, &stream_id)
        .await
        .unwrap_or(false);
    let (tx, rx) = mpsc::channel(LIVE_BUFFER.max(replay.events.len() + 1));
    let mut last = last.to_owned();
    send_events(&tx, replay.events, &mut last);
    tokio::spawn(async move {
        let mut running = live;
        let mut quiet_since = tokio::time::Instant::now();
        loop {
            // Read what came since (also once more after the stream finished).
            match store.replay_after(&session_id, &last).await {
                Ok(Some(r)) => {
                    if !r.events.is_empty() {
                        quiet_since = tokio::time::Instant::now();
                    }
                    if !send_events(&tx, r.events, &mut last) {
                        return;
                    }
                }
                // Evicted meanwhile: nothing more can be sent in order.
                Ok(None) => return,
                Err(e) => {
                    tracing::debug!(error = %e, "a followed stream's events could not be read")
                }
            }
            if !running || quiet_since.elapsed() > idle {
                return;
            }
            tokio::select! {
                () = tx.closed() => return,
                () = tokio::time::sleep(FOLLOW_POLL) => {}
                ended = wait_for_news(&mut news, &session_id, &stream_id) => if ended { return },
            }
            running = shared
                .is_stream_live(&session_id, &stream_id)
                .await
                .unwrap_or(true);
        }
    });
    rx
}

/// Waits for a message about this stream; true when the session ended.
async fn wait_for_news(
    news: &mut tokio::sync::broadcast::Receiver<Arc<Message>>,
    session_id: &str,
    stream_id: &str,
) -> bool {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match news.recv().await {
            Ok(m) => match &*m {
                Message::Stream { s, stream } if s == session_id && stream == stream_id => {
                    return false;
                }
                Message::Ended { s } if s == session_id => return true,
                _ => {}
            },
            // Missed some: read the store anyway.
            Err(RecvError::Lagged(_)) => return false,
            Err(RecvError::Closed) => std::future::pending::<()>().await,
        }
    }
}

/// Sends stored events as frames (priming events only move `last`); false when the client
/// went away or is too slow (it can resume again).
fn send_events(
    tx: &mpsc::Sender<bytes::Bytes>,
    events: Vec<StoredEvent>,
    last: &mut String,
) -> bool {
    for e in events {
        if !e.data.is_empty() && tx.try_send(frame(Some(&e.id), None, &e.data)).is_err() {
            return false;
        }
        *last = e.id;
    }
    true
}

/// DELETE: ends the session (T-54); later requests with its id get 404.
pub(crate) async fn delete(state: Arc<HttpState>, parts: Parts) -> Response {
    let session = match session_for(&state, &parts).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match state.sessions.end_everywhere(&session.id).await {
        Ok(()) => respond::json(StatusCode::OK, "{}"),
        Err(e) => store_unavailable(&e),
    }
}
