//! Server notifications: the typed [`ServerNotification`], the stream of all of them
//! ([`NotificationStream`], from [`McpClient::notifications`](crate::McpClient::notifications)),
//! and the [`Subscription`] that keeps a change feed open
//! ([`McpClient::subscribe`](crate::McpClient::subscribe)).

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use mcp_core::jsonrpc::Notification;
use mcp_core::types::{
    CancelledNotificationParams, LoggingMessageNotificationParams, ProgressNotificationParams,
    ResourceUpdatedNotificationParams, SubscriptionFilter, methods,
};
use serde::de::DeserializeOwned;
use tokio::sync::broadcast;

/// A notification from the server.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ServerNotification {
    /// `notifications/progress`.
    Progress(ProgressNotificationParams),
    /// `notifications/message`: a log message.
    Log(LoggingMessageNotificationParams),
    /// `notifications/tools/list_changed`.
    ToolsListChanged,
    /// `notifications/prompts/list_changed`.
    PromptsListChanged,
    /// `notifications/resources/list_changed`.
    ResourcesListChanged,
    /// `notifications/resources/updated`.
    ResourceUpdated(ResourceUpdatedNotificationParams),
    /// `notifications/cancelled`: the server gave up on a request of the client.
    Cancelled(CancelledNotificationParams),
    /// Anything else, or a known notification whose parameters did not parse, as received.
    Other(Notification),
}

impl ServerNotification {
    /// Types a received notification.
    pub fn from_notification(n: Notification) -> Self {
        fn parse<T: DeserializeOwned>(n: &Notification) -> Option<T> {
            let params = n.params.clone().unwrap_or_else(|| serde_json::json!({}));
            serde_json::from_value(params).ok()
        }
        let typed = match n.method.as_str() {
            methods::NOTIFICATION_PROGRESS => parse(&n).map(ServerNotification::Progress),
            methods::NOTIFICATION_MESSAGE => parse(&n).map(ServerNotification::Log),
            methods::NOTIFICATION_TOOLS_LIST_CHANGED => Some(ServerNotification::ToolsListChanged),
            methods::NOTIFICATION_PROMPTS_LIST_CHANGED => {
                Some(ServerNotification::PromptsListChanged)
            }
            methods::NOTIFICATION_RESOURCES_LIST_CHANGED => {
                Some(ServerNotification::ResourcesListChanged)
            }
            methods::NOTIFICATION_RESOURCES_UPDATED => {
                parse(&n).map(ServerNotification::ResourceUpdated)
            }
            methods::NOTIFICATION_CANCELLED => parse(&n).map(ServerNotification::Cancelled),
            _ => None,
        };
        typed.unwrap_or(ServerNotification::Other(n))
    }

    /// Whether a subscription with `filter` asked for this notification.
    pub fn matches(&self, filter: &SubscriptionFilter) -> bool {
        match self {
            ServerNotification::ToolsListChanged => filter.tools_list_changed == Some(true),
            ServerNotification::PromptsListChanged => filter.prompts_list_changed == Some(true),
            ServerNotification::ResourcesListChanged => filter.resources_list_changed == Some(true),
            ServerNotification::ResourceUpdated(p) => filter
                .resource_subscriptions
                .as_ref()
                .is_some_and(|uris| uris.contains(&p.uri)),
            _ => false,
        }
    }
}

/// Every notification the client receives from now on, from any stream: response streams
/// (progress, logs), the legacy GET stream and modern `subscriptions/listen` streams.
///
/// A slow reader skips what it missed rather than holding the client up. The stream ends when
/// the client is gone. Use it as a [`Stream`] or with [`recv`](Self::recv).
pub struct NotificationStream {
    inner: BoxStream<'static, ServerNotification>,
}

impl NotificationStream {
    pub(crate) fn new(rx: broadcast::Receiver<ServerNotification>) -> Self {
        let inner = futures_util::stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(n) => return Some((n, rx)),
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::debug!(missed, "a notification reader lagged behind");
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        NotificationStream {
            inner: inner.boxed(),
        }
    }

    /// The next notification; `None` when the client is gone.
    pub async fn recv(&mut self) -> Option<ServerNotification> {
        self.inner.next().await
    }
}

impl std::fmt::Debug for NotificationStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationStream").finish_non_exhaustive()
    }
}

impl Stream for NotificationStream {
    type Item = ServerNotification;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}

/// Stops a background task when dropped.
pub(crate) struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// An open change feed: the notifications its filter asked for. Dropping it ends the feed
/// (closes the modern `subscriptions/listen` stream; lets go of the legacy GET stream).
pub struct Subscription {
    filter: SubscriptionFilter,
    stream: BoxStream<'static, ServerNotification>,
    _keep: Vec<Box<dyn Send + Sync>>,
}

impl Subscription {
    pub(crate) fn new(
        filter: SubscriptionFilter,
        rx: broadcast::Receiver<ServerNotification>,
        keep: Vec<Box<dyn Send + Sync>>,
    ) -> Self {
        let wanted = filter.clone();
        let stream = NotificationStream::new(rx)
            .filter(move |n| std::future::ready(n.matches(&wanted)))
            .boxed();
        Subscription {
            filter,
            stream,
            _keep: keep,
        }
    }

    /// What the server agreed to send (modern era), or what was asked for (legacy era).
    pub fn filter(&self) -> &SubscriptionFilter {
        &self.filter
    }

    /// The next notification of the feed; `None` when the client is gone.
    pub async fn recv(&mut self) -> Option<ServerNotification> {
        self.stream.next().await
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("filter", &self.filter)
            .finish_non_exhaustive()
    }
}

impl Stream for Subscription {
    type Item = ServerNotification;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.stream.poll_next_unpin(cx)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn typing_and_filters() {
        let n = ServerNotification::from_notification(Notification::new(
            "notifications/progress",
            Some(json!({"progressToken": 1, "progress": 0.5})),
        ));
        assert!(matches!(n, ServerNotification::Progress(p) if p.progress == 0.5));
        let bad = ServerNotification::from_notification(Notification::new(
            "notifications/progress",
            Some(json!({"progress": "x"})),
        ));
        assert!(matches!(bad, ServerNotification::Other(_)));
        let updated = ServerNotification::from_notification(Notification::new(
            "notifications/resources/updated",
            Some(json!({"uri": "file:///a"})),
        ));
        let filter = SubscriptionFilter {
            tools_list_changed: Some(true),
            resource_subscriptions: Some(vec!["file:///a".into()]),
            ..SubscriptionFilter::default()
        };
        assert!(updated.matches(&filter));
        assert!(ServerNotification::ToolsListChanged.matches(&filter));
        assert!(!ServerNotification::PromptsListChanged.matches(&filter));
    }
}
