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
use super::guard::{self, Refusal};
use super::post::session_not_found;
use super::respond::{self, LAST_EVENT_ID, MCP_PROTOCOL_VERSION, MCP_SESSION_ID, header};
use super::session::{STANDALONE_STREAM, Session};
use super::sse::{LiveBody, frame};
use crate::auth::AuthContext;

#[allow(clippy::result_large_err)] // the error is the response itself
fn session_for(state: &HttpState, parts: &Parts) -> Result<Arc<Session>, Response> {
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
    state
        .sessions
        .get(id, principal.as_ref())
        .ok_or_else(session_not_found)
}

/// GET: resume a stream after `Last-Event-ID`, or open the session's standalone stream.
pub(crate) async fn get(state: Arc<HttpState>, parts: Parts) -> Response {
    if !guard::accepts(&parts.headers).sse {
        return respond::refusal(Refusal::NotAcceptable(
            "Not Acceptable: Client must accept text/event-stream",
        ));
    }
    let session = match session_for(&state, &parts) {
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
    // A finished POST stream: replay what is left, then end.
    let (tx, rx) = mpsc::channel(replay.events.len().max(1));
    for e in replay.events.iter().filter(|e| !e.data.is_empty()) {
        let _ = tx.try_send(frame(Some(&e.id), None, &e.data));
    }
    Some(rx)
}

/// DELETE: ends the session (T-54); later requests with its id get 404.
pub(crate) async fn delete(state: Arc<HttpState>, parts: Parts) -> Response {
    let session = match session_for(&state, &parts) {
        Ok(s) => s,
        Err(r) => return r,
    };
    state.sessions.end(&session.id);
    respond::json(StatusCode::OK, "{}")
}
