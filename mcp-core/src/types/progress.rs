//! Progress: `notifications/progress`.

use serde::{Deserialize, Serialize};

use super::{Meta, ProgressToken};

/// Parameters of `notifications/progress`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgressNotificationParams {
    /// The token the request carried in `_meta.progressToken`.
    pub progress_token: ProgressToken,
    /// Progress so far; increases with every notification.
    pub progress: f64,
    /// The total, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<f64>,
    /// What is happening (2025-03-26).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Extra metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl ProgressNotificationParams {
    /// Progress without a total or a message.
    pub fn new(progress_token: ProgressToken, progress: f64) -> Self {
        ProgressNotificationParams {
            progress_token,
            progress,
            total: None,
            message: None,
            meta: None,
        }
    }
}

/// The `progressToken` of a request's `_meta`, if it has a valid one.
///
/// ```
/// use mcp_core::types::{progress_token, Meta};
/// use mcp_core::RequestId;
/// let meta: Meta = serde_json::from_str(r#"{"progressToken": "abc"}"#).unwrap();
/// assert_eq!(progress_token(Some(&meta)), Some(RequestId::String("abc".into())));
/// assert_eq!(progress_token(None), None);
/// ```
pub fn progress_token(meta: Option<&Meta>) -> Option<ProgressToken> {
    meta?
        .get("progressToken")
        .and_then(ProgressToken::from_value)
}
