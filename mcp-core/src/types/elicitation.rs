//! Elicitation: `elicitation/create` (server to client), form mode (2025-06-18) and URL mode
//! (2025-11-25).

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{JsonObject, Meta};

/// Parameters of `elicitation/create`: a form or (2025-11-25) a URL to visit.
///
/// Form mode serializes without `mode` (it is optional and the 2025-06-18 shape has none); URL
/// mode always carries `"mode": "url"`. Deserialization reads `mode`: absent or `"form"` is a
/// form, `"url"` is a URL.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ElicitRequestParams {
    /// Collect structured data through a form the client renders.
    Form(ElicitRequestFormParams),
    /// Send the user to a URL (for sensitive data that must not pass through the client).
    Url(ElicitRequestUrlParams),
}

impl ElicitRequestParams {
    /// A form-mode request.
    pub fn form(message: impl Into<String>, requested_schema: JsonObject) -> Self {
        ElicitRequestParams::Form(ElicitRequestFormParams {
            message: message.into(),
            requested_schema,
            meta: None,
        })
    }

    /// A URL-mode request.
    pub fn url(
        message: impl Into<String>,
        elicitation_id: impl Into<String>,
        url: impl Into<String>,
    ) -> Self {
        ElicitRequestParams::Url(ElicitRequestUrlParams {
            message: message.into(),
            elicitation_id: elicitation_id.into(),
            url: url.into(),
            meta: None,
        })
    }

    /// The message shown to the user.
    pub fn message(&self) -> &str {
        match self {
            ElicitRequestParams::Form(f) => &f.message,
            ElicitRequestParams::Url(u) => &u.message,
        }
    }
}

impl<'de> Deserialize<'de> for ElicitRequestParams {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = JsonObject::deserialize(d)?;
        let mode = match map.get("mode") {
            None => "form".to_owned(),
            Some(Value::String(m)) => m.clone(),
            Some(_) => return Err(de::Error::custom("elicitation mode must be a string")),
        };
        let value = Value::Object(map);
        match mode.as_str() {
            "form" => serde_json::from_value(value)
                .map(ElicitRequestParams::Form)
                .map_err(de::Error::custom),
            "url" => serde_json::from_value(value)
                .map(ElicitRequestParams::Url)
                .map_err(de::Error::custom),
            other => Err(de::Error::custom(format_args!(
                "unknown elicitation mode {other:?}"
            ))),
        }
    }
}

/// Parameters of a form-mode elicitation.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitRequestFormParams {
    /// What is asked, shown to the user.
    pub message: String,
    /// A flat JSON Schema (`type: object`, primitive `properties`) of the requested data.
    pub requested_schema: JsonObject,
    /// Extra metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Parameters of a URL-mode elicitation (2025-11-25). Serializes with `"mode": "url"`; on its own
/// it does not check `mode` when deserializing ([`ElicitRequestParams`] does).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "mode", rename = "url", rename_all = "camelCase")]
pub struct ElicitRequestUrlParams {
    /// Why the user should visit the URL.
    pub message: String,
    /// An id, unique within the server, that `notifications/elicitation/complete` repeats.
    pub elicitation_id: String,
    /// The URL to visit.
    pub url: String,
    /// Extra metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// The user's answer to an elicitation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitResult {
    /// What the user did.
    pub action: ElicitAction,
    /// The submitted data (form mode, `accept` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<JsonObject>,
    /// Extra metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl ElicitResult {
    /// The user accepted; `content` is the form data (`None` in URL mode).
    pub fn accept(content: Option<JsonObject>) -> Self {
        ElicitResult {
            action: ElicitAction::Accept,
            content,
            meta: None,
        }
    }

    /// The user declined.
    pub fn decline() -> Self {
        ElicitResult {
            action: ElicitAction::Decline,
            content: None,
            meta: None,
        }
    }

    /// The user dismissed the request.
    pub fn cancel() -> Self {
        ElicitResult {
            action: ElicitAction::Cancel,
            content: None,
            meta: None,
        }
    }
}

/// What the user did with an elicitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElicitAction {
    /// Submitted (form) or consented (URL).
    Accept,
    /// Explicitly refused.
    Decline,
    /// Dismissed without choosing.
    Cancel,
}

/// Parameters of `notifications/elicitation/complete` (2025-11-25).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitationCompleteNotificationParams {
    /// The id of the URL-mode elicitation that completed.
    pub elicitation_id: String,
}

/// The `data` of a `-32042` URL-elicitation-required error (2025-11-25).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UrlElicitationRequiredErrorData {
    /// The elicitations the user must complete before retrying.
    pub elicitations: Vec<ElicitRequestUrlParams>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn form_mode_omits_mode_and_url_mode_carries_it() {
        let form = ElicitRequestParams::form("Name?", JsonObject::new());
        assert_eq!(
            serde_json::to_value(&form).unwrap(),
            json!({"message": "Name?", "requestedSchema": {}})
        );
        let url = ElicitRequestParams::url("Log in", "e1", "https://example.com/x");
        let v = serde_json::to_value(&url).unwrap();
        assert_eq!(v["mode"], "url");
        assert_eq!(
            serde_json::from_value::<ElicitRequestParams>(v).unwrap(),
            url
        );
    }

    #[test]
    fn mode_selects_the_variant() {
        let explicit_form: ElicitRequestParams = serde_json::from_value(
            json!({"mode": "form", "message": "m", "requestedSchema": {"type": "object"}}),
        )
        .unwrap();
        assert!(matches!(explicit_form, ElicitRequestParams::Form(_)));
        let err =
            serde_json::from_value::<ElicitRequestParams>(json!({"mode": "sms", "message": "m"}))
                .unwrap_err();
        assert!(err.to_string().contains("sms"));
        let err = serde_json::from_value::<ElicitRequestParams>(
            json!({"mode": "url", "message": "m", "url": "https://x"}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("elicitationId"));
    }
}
