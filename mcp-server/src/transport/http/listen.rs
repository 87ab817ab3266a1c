//! `subscriptions/listen` (2026-07-28, L-80): a long-lived POST whose SSE stream carries the
//! change notifications the client opted in to, each tagged with the subscription id. The
//! acknowledgement comes first; closing the stream ends the subscription; at shutdown the server
//! ends it with a final result.

use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context as TaskContext, Poll};

use axum::response::Response;
use bytes::Bytes;
use futures_util::Stream;
use http::StatusCode;
use mcp_core::jsonrpc::{Request, RequestId};
use mcp_core::types::SubscriptionFilter;
use tokio::sync::mpsc;

use super::HttpState;
use super::guard::{Accepts, Refusal};
use super::respond;
use super::sse::{LiveBody, frame};
use crate::dispatch::listen;
use crate::server::{Change, ChangeListener};

const BUFFER: usize = 64;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One open subscription.
struct Subscription {
    id: RequestId,
    filter: SubscriptionFilter,
    tx: Mutex<Option<mpsc::Sender<Bytes>>>,
}

impl Subscription {
    fn send(&self, json: &str) -> bool {
        let tx = lock(&self.tx);
        tx.as_ref()
            .is_some_and(|tx| tx.try_send(frame(None, None, json)).is_ok())
    }
}

/// Every open subscription of one endpoint.
#[derive(Default)]
pub(crate) struct Subscriptions {
    open: Mutex<Vec<Weak<Subscription>>>,
}

impl Subscriptions {
    fn add(&self, s: &Arc<Subscription>) {
        let mut open = lock(&self.open);
        open.retain(|w| w.strong_count() > 0);
        open.push(Arc::downgrade(s));
    }

    fn live(&self) -> Vec<Arc<Subscription>> {
        lock(&self.open).iter().filter_map(Weak::upgrade).collect()
    }

    /// Ends every subscription with its final result (graceful shutdown).
    pub fn close_all(&self) {
        for s in self.live() {
            s.send(&listen::final_result(&s.id).to_string());
            lock(&s.tx).take();
        }
    }
}

impl ChangeListener for Subscriptions {
    fn on_change(&self, change: &Change) {
        for s in self.live() {
            if listen::wants(&s.filter, change) {
                if let Ok(json) = serde_json::to_string(&listen::notification(&s.id, change)) {
                    s.send(&json);
                }
            }
        }
    }
}

/// The stream body; holding the subscription keeps it registered until the client hangs up.
struct ListenBody {
    inner: LiveBody,
    _subscription: Arc<Subscription>,
}

impl Stream for ListenBody {
    type Item = Result<Bytes, std::convert::Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

/// Opens a subscription for a validated modern `subscriptions/listen` request.
pub(crate) fn listen(state: &HttpState, request: Request, accepts: Accepts) -> Response {
    if !accepts.sse {
        return respond::refusal(Refusal::NotAcceptable(
            "Not Acceptable: subscriptions/listen answers with text/event-stream",
        ));
    }
    let http = &state.config;
    let limits = (
        http.max_subscriptions_per_session,
        http.max_subscription_uri_bytes,
    );
    let honoured = match listen::honoured(request.params, limits.0, limits.1) {
        Ok(f) => f,
        Err(e) => return respond::rpc_error(StatusCode::BAD_REQUEST, Some(request.id), e),
    };
    let (tx, rx) = mpsc::channel(BUFFER);
    let subscription = Arc::new(Subscription {
        id: request.id,
        filter: honoured,
        tx: Mutex::new(Some(tx)),
    });
    let ack = listen::acknowledgement(&subscription.id, &subscription.filter);
    if let Ok(json) = serde_json::to_string(&ack) {
        subscription.send(&json);
    }
    state.subscriptions.add(&subscription);
    respond::sse(
        &state.server.metrics,
        ListenBody {
            inner: LiveBody::new(rx, state.config.sse_keep_alive),
            _subscription: subscription,
        },
    )
}
