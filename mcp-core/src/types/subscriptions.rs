//! Subscriptions (2026-07-28): `subscriptions/listen` opens a long-lived stream of server
//! notifications, replacing the HTTP GET stream and `resources/subscribe|unsubscribe`. The server
//! first sends `notifications/subscriptions/acknowledged`; every notification on the stream
//! carries `io.modelcontextprotocol/subscriptionId` (the listen request's id) in `_meta`.

use serde::{Deserialize, Serialize};

use super::{Meta, ResultType, set_subscription_id};
use crate::jsonrpc::RequestId;

/// The notifications a client opts in to (or that the server agreed to honour).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionFilter {
    /// Receive `notifications/tools/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools_list_changed: Option<bool>,
    /// Receive `notifications/prompts/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompts_list_changed: Option<bool>,
    /// Receive `notifications/resources/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources_list_changed: Option<bool>,
    /// Receive `notifications/resources/updated` for these resource URIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_subscriptions: Option<Vec<String>>,
}

impl SubscriptionFilter {
    /// Whether nothing is requested (every flag absent or false, no resource URIs).
    pub fn is_empty(&self) -> bool {
        self.tools_list_changed != Some(true)
            && self.prompts_list_changed != Some(true)
            && self.resources_list_changed != Some(true)
            && self
                .resource_subscriptions
                .as_ref()
                .is_none_or(Vec::is_empty)
    }
}

/// Parameters of `subscriptions/listen`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionsListenRequestParams {
    /// The notifications the client opts in to; the server must send no others.
    pub notifications: SubscriptionFilter,
    /// The request metadata (required on the wire).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Parameters of `notifications/subscriptions/acknowledged`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionsAcknowledgedNotificationParams {
    /// The subset of the requested notifications the server will send.
    pub notifications: SubscriptionFilter,
    /// Extra metadata (holds `io.modelcontextprotocol/subscriptionId`).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl SubscriptionsAcknowledgedNotificationParams {
    /// The acknowledgement of the subscription opened by request `subscription_id`.
    pub fn new(notifications: SubscriptionFilter, subscription_id: &RequestId) -> Self {
        let mut meta = None;
        set_subscription_id(&mut meta, subscription_id);
        SubscriptionsAcknowledgedNotificationParams {
            notifications,
            meta,
        }
    }
}

/// The result of `subscriptions/listen`, sent only when the server ends the stream gracefully.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionsListenResult {
    /// Always [`ResultType::Complete`].
    #[serde(default)]
    pub result_type: ResultType,
    /// Extra metadata (required on the wire: holds `io.modelcontextprotocol/subscriptionId`).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl SubscriptionsListenResult {
    /// The closing result of the subscription opened by request `subscription_id`.
    pub fn new(subscription_id: &RequestId) -> Self {
        let mut meta = None;
        set_subscription_id(&mut meta, subscription_id);
        SubscriptionsListenResult {
            result_type: ResultType::Complete,
            meta,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filter_is_camel_case_and_knows_when_empty() {
        let f = SubscriptionFilter {
            tools_list_changed: Some(true),
            resource_subscriptions: Some(vec!["file:///a".into()]),
            ..SubscriptionFilter::default()
        };
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            json!({"toolsListChanged": true, "resourceSubscriptions": ["file:///a"]})
        );
        assert!(!f.is_empty());
        assert!(SubscriptionFilter::default().is_empty());
        let off = SubscriptionFilter {
            prompts_list_changed: Some(false),
            resource_subscriptions: Some(vec![]),
            ..SubscriptionFilter::default()
        };
        assert!(off.is_empty());
    }

    #[test]
    fn constructors_carry_the_subscription_id() {
        let id = RequestId::from("listen-1");
        let ack =
            SubscriptionsAcknowledgedNotificationParams::new(SubscriptionFilter::default(), &id);
        assert_eq!(
            serde_json::to_value(&ack).unwrap(),
            json!({"notifications": {},
                   "_meta": {"io.modelcontextprotocol/subscriptionId": "listen-1"}})
        );
        assert_eq!(
            serde_json::to_value(SubscriptionsListenResult::new(&id)).unwrap(),
            json!({"resultType": "complete",
                   "_meta": {"io.modelcontextprotocol/subscriptionId": "listen-1"}})
        );
    }
}
