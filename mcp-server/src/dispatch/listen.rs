//! `subscriptions/listen` (2026-07-28, L-80) independent of the transport: which notifications
//! a subscription gets, the acknowledgement that opens it, each change notification tagged with
//! the subscription id, and the final result that closes it.

use mcp_core::jsonrpc::{ErrorObject, Notification, RequestId};
use mcp_core::types::{
    Meta, SubscriptionFilter, SubscriptionsAcknowledgedNotificationParams,
    SubscriptionsListenRequestParams, meta_keys, methods,
};
use serde_json::Value;

use super::parse_params;
use crate::client_state::{check_subscription_uri, too_many_subscriptions};
use crate::server::Change;

/// What a subscription receives: everything the client asked for is honoured (lists change
/// and resources update here), within the bounds on subscribed URIs: at most `max_uris` of
/// them, each of at most `max_uri_bytes` (`-32602` naming the limit).
pub(crate) fn honoured(
    params: Option<Value>,
    max_uris: usize,
    max_uri_bytes: usize,
) -> Result<SubscriptionFilter, ErrorObject> {
    let p: SubscriptionsListenRequestParams = parse_params(params)?;
    if let Some(uris) = &p.notifications.resource_subscriptions {
        if uris.len() > max_uris {
            return Err(too_many_subscriptions(max_uris));
        }
        for uri in uris {
            check_subscription_uri(uri, max_uri_bytes)?;
        }
    }
    Ok(SubscriptionFilter {
        tools_list_changed: p.notifications.tools_list_changed.filter(|&b| b),
        prompts_list_changed: p.notifications.prompts_list_changed.filter(|&b| b),
        resources_list_changed: p.notifications.resources_list_changed.filter(|&b| b),
        resource_subscriptions: p.notifications.resource_subscriptions,
    })
}

/// `_meta` naming the subscription (its request id).
pub(crate) fn meta(id: &RequestId) -> Meta {
    let mut meta = Meta::new();
    let id = serde_json::to_value(id).unwrap_or(Value::Null);
    meta.insert(meta_keys::SUBSCRIPTION_ID.to_owned(), id);
    meta
}

/// Whether a subscription with `filter` is told about `change`.
pub(crate) fn wants(filter: &SubscriptionFilter, change: &Change) -> bool {
    match change {
        Change::Tools => filter.tools_list_changed == Some(true),
        Change::Prompts => filter.prompts_list_changed == Some(true),
        Change::Resources => filter.resources_list_changed == Some(true),
        Change::ResourceUpdated(uri) => filter
            .resource_subscriptions
            .as_ref()
            .is_some_and(|uris| uris.iter().any(|u| u == uri)),
    }
}

/// The acknowledgement, sent first.
pub(crate) fn acknowledgement(id: &RequestId, filter: &SubscriptionFilter) -> Notification {
    let ack = SubscriptionsAcknowledgedNotificationParams {
        notifications: filter.clone(),
        meta: Some(meta(id)),
    };
    Notification::new(
        methods::NOTIFICATION_SUBSCRIPTIONS_ACKNOWLEDGED,
        serde_json::to_value(ack).ok(),
    )
}

/// The notification of `change` for subscription `id`.
pub(crate) fn notification(id: &RequestId, change: &Change) -> Notification {
    let mut params = serde_json::Map::new();
    if let Change::ResourceUpdated(uri) = change {
        params.insert("uri".to_owned(), Value::from(uri.as_str()));
    }
    params.insert("_meta".to_owned(), Value::Object(meta(id)));
    let method = match change {
        Change::Tools => methods::NOTIFICATION_TOOLS_LIST_CHANGED,
        Change::Prompts => methods::NOTIFICATION_PROMPTS_LIST_CHANGED,
        Change::Resources => methods::NOTIFICATION_RESOURCES_LIST_CHANGED,
        Change::ResourceUpdated(_) => methods::NOTIFICATION_RESOURCES_UPDATED,
    };
    Notification::new(method, Some(Value::Object(params)))
}

/// The final result that ends subscription `id` (at shutdown).
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) fn final_result(id: &RequestId) -> Value {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "result": {"resultType": "complete", "_meta": meta(id)},
    })
}
