//! `subscriptions/listen` (2026-07-28, L-80): a long-lived POST whose SSE stream carries the
//! change notifications the client opted in to, each tagged with the subscription id. The
//! acknowledgement comes first; closing the stream ends the subscription; at shutdown the server
//! ends it with a final result.

use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context as TaskContext, Poll};

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use futures_util::Stream;
use http::StatusCode;
use mcp_core::jsonrpc::{Notification, Request, RequestId};
use mcp_core::types::{
    Meta, SubscriptionFilter, SubscriptionsAcknowledgedNotificationParams,
    SubscriptionsListenRequestParams, meta_keys, methods,
};
use serde_json::Value;
use tokio::sync::mpsc;

use super::HttpState;
use super::guard::{Accepts, Refusal};
use super::respond;
use super::sse::{LiveBody, frame};
use crate::dispatch::parse_params;
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
    fn meta(&self) -> Meta {
        let mut meta = Meta::new();
        let id = serde_json::to_value(&self.id).unwrap_or(Value::Null);
        meta.insert(meta_keys::SUBSCRIPTION_ID.to_owned(), id);
        meta
    }

    fn wants(&self, change: &Change) -> bool {
        let f = &self.filter;
        match change {
            Change::Tools => f.tools_list_changed == Some(true),
            Change::Prompts => f.prompts_list_changed == Some(true),
            Change::Resources => f.resources_list_changed == Some(true),
            Change::ResourceUpdated(uri) => f
                .resource_subscriptions
                .as_ref()
                .is_some_and(|uris| uris.iter().any(|u| u == uri)),
        }
    }

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
            let result = serde_json::json!({
                "jsonrpc": "2.0",
                "id": s.id,
                "result": {"resultType": "complete", "_meta": s.meta()},
            });
            s.send(&result.to_string());
            lock(&s.tx).take();
        }
    }
}

impl ChangeListener for Subscriptions {
    fn on_change(&self, change: &Change) {
        for s in self.live().into_iter().filter(|s| s.wants(change)) {
            let mut params = serde_json::Map::new();
            if let Change::ResourceUpdated(uri) = change {
                params.insert("uri".to_owned(), Value::from(uri.as_str()));
            }
            params.insert("_meta".to_owned(), Value::Object(s.meta()));
            let method = match change {
                Change::Tools => methods::NOTIFICATION_TOOLS_LIST_CHANGED,
                Change::Prompts => methods::NOTIFICATION_PROMPTS_LIST_CHANGED,
                Change::Resources => methods::NOTIFICATION_RESOURCES_LIST_CHANGED,
                Change::ResourceUpdated(_) => methods::NOTIFICATION_RESOURCES_UPDATED,
            };
            let n = Notification::new(method, Some(Value::Object(params)));
            if let Ok(json) = serde_json::to_string(&n) {
                s.send(&json);
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
    let params: SubscriptionsListenRequestParams = match parse_params(request.params) {
        Ok(p) => p,
        Err(e) => return respond::rpc_error(StatusCode::BAD_REQUEST, Some(request.id), e),
    };
    // Everything a client may ask for is honoured: lists change and resources update here.
    let honoured = SubscriptionFilter {
        tools_list_changed: params.notifications.tools_list_changed.filter(|&b| b),
        prompts_list_changed: params.notifications.prompts_list_changed.filter(|&b| b),
        resources_list_changed: params.notifications.resources_list_changed.filter(|&b| b),
        resource_subscriptions: params.notifications.resource_subscriptions.clone(),
    };
    let (tx, rx) = mpsc::channel(BUFFER);
    let subscription = Arc::new(Subscription {
        id: request.id,
        filter: honoured.clone(),
        tx: Mutex::new(Some(tx)),
    });
    let ack = SubscriptionsAcknowledgedNotificationParams {
        notifications: honoured,
        meta: Some(subscription.meta()),
    };
    let ack = Notification::new(
        methods::NOTIFICATION_SUBSCRIPTIONS_ACKNOWLEDGED,
        serde_json::to_value(ack).ok(),
    );
    if let Ok(json) = serde_json::to_string(&ack) {
        subscription.send(&json);
    }
    state.subscriptions.add(&subscription);
    respond::sse(Body::from_stream(ListenBody {
        inner: LiveBody::new(rx, state.server.http.sse_keep_alive),
        _subscription: subscription,
    }))
}
