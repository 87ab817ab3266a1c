//! Multi-round-trip requests (2026-07-28): instead of sending sampling, elicitation or roots
//! requests, a modern server answers `tools/call`, `prompts/get` or `resources/read` with an
//! [`InputRequiredResult`]; the client retries the same request (new id) with `inputResponses`
//! (and the echoed `requestState`).
//!
//! ```
//! use mcp_core::types::{input_response, ElicitRequestParams, ElicitResult, InputRequest,
//!     InputRequests, InputRequiredResult, InputResponses, JsonObject};
//!
//! let requests = InputRequests::from([(
//!     "user_name".to_owned(),
//!     InputRequest::elicitation(ElicitRequestParams::form("Name?", JsonObject::new())),
//! )]);
//! let result = InputRequiredResult::new(requests, "opaque-state".to_owned());
//! assert_eq!(serde_json::to_value(&result).unwrap()["resultType"], "input_required");
//!
//! let responses: InputResponses =
//!     serde_json::from_str(r#"{"user_name": {"action": "decline"}}"#).unwrap();
//! let answer: ElicitResult = input_response(&responses, "user_name").unwrap().unwrap();
//! assert_eq!(answer, ElicitResult::decline());
//! ```

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    CreateMessageRequestParams, ElicitRequestParams, JsonObject, Meta, ResultType, methods,
};

/// A request the server needs the client to fulfil: `sampling/createMessage`, `roots/list` or
/// `elicitation/create`, without `jsonrpc` and `id`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InputRequest {
    /// The method, e.g. `"elicitation/create"`.
    pub method: String,
    /// The method's parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<JsonObject>,
}

impl InputRequest {
    /// An `elicitation/create` input request.
    pub fn elicitation(params: ElicitRequestParams) -> Self {
        Self::with_params(methods::ELICITATION_CREATE, &params)
    }

    /// A `sampling/createMessage` input request.
    pub fn sampling(params: CreateMessageRequestParams) -> Self {
        Self::with_params(methods::SAMPLING_CREATE_MESSAGE, &params)
    }

    /// A `roots/list` input request (no parameters).
    pub fn list_roots() -> Self {
        InputRequest {
            method: methods::ROOTS_LIST.into(),
            params: None,
        }
    }

    /// An input request of `method` whose parameters serialize to an object.
    fn with_params<P: Serialize>(method: &str, params: &P) -> Self {
        let params = match serde_json::to_value(params) {
            Ok(Value::Object(map)) => Some(map),
            _ => None,
        };
        InputRequest {
            method: method.into(),
            params,
        }
    }

    /// The parameters parsed as `P` (an absent `params` parses as `{}`).
    pub fn params_as<P: DeserializeOwned>(&self) -> Result<P, serde_json::Error> {
        let params = self.params.clone().unwrap_or_default();
        serde_json::from_value(Value::Object(params))
    }
}

/// The `inputRequests` of an [`InputRequiredResult`], by server-chosen key.
pub type InputRequests = BTreeMap<String, InputRequest>;

/// The `inputResponses` of a retried request, by the keys of the `inputRequests`: each value is a
/// `CreateMessageResult`, `ListRootsResult` or `ElicitResult`. Parse one with [`input_response`].
pub type InputResponses = JsonObject;

/// The response under `key` parsed as `R` (`ElicitResult`, `CreateMessageResult`,
/// `ListRootsResult`): `None` if there is none, `Some(Err)` if it has the wrong shape.
pub fn input_response<R: DeserializeOwned>(
    responses: &InputResponses,
    key: &str,
) -> Option<Result<R, serde_json::Error>> {
    responses.get(key).map(R::deserialize)
}

/// A result saying the server needs input before it can complete the request.
///
/// At least one of `inputRequests` and `requestState` must be present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputRequiredResult {
    /// Always [`ResultType::InputRequired`].
    pub result_type: ResultType,
    /// What the client must answer, by key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_requests: Option<InputRequests>,
    /// Opaque state the client echoes back verbatim on the retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    /// Extra metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl Default for InputRequiredResult {
    fn default() -> Self {
        InputRequiredResult {
            result_type: ResultType::InputRequired,
            input_requests: None,
            request_state: None,
            meta: None,
        }
    }
}

impl InputRequiredResult {
    /// An input-required result; both arguments accept a value or an `Option`.
    pub fn new(
        input_requests: impl Into<Option<InputRequests>>,
        request_state: impl Into<Option<String>>,
    ) -> Self {
        InputRequiredResult {
            input_requests: input_requests.into(),
            request_state: request_state.into(),
            ..InputRequiredResult::default()
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::types::{ElicitResult, ListRootsResult, SamplingMessage};
    use serde_json::json;

    #[test]
    fn input_request_constructors() {
        let e = InputRequest::elicitation(ElicitRequestParams::form("Name?", JsonObject::new()));
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"method": "elicitation/create",
                   "params": {"message": "Name?", "requestedSchema": {}}})
        );
        assert_eq!(
            e.params_as::<ElicitRequestParams>().unwrap().message(),
            "Name?"
        );
        let s = InputRequest::sampling(CreateMessageRequestParams::new(
            vec![SamplingMessage::user_text("hi")],
            10,
        ));
        assert_eq!(s.method, "sampling/createMessage");
        assert_eq!(s.params.as_ref().unwrap()["maxTokens"], 10);
        assert_eq!(
            serde_json::to_value(InputRequest::list_roots()).unwrap(),
            json!({"method": "roots/list"})
        );
    }

    #[test]
    fn input_required_result_new_and_default() {
        assert_eq!(
            serde_json::to_value(InputRequiredResult::default()).unwrap(),
            json!({"resultType": "input_required"})
        );
        let r = InputRequiredResult::new(None, "s".to_owned());
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"resultType": "input_required", "requestState": "s"})
        );
        let r = InputRequiredResult::new(Some(InputRequests::new()), None);
        assert_eq!(r.input_requests, Some(InputRequests::new()));
        assert_eq!(r.result_type, ResultType::InputRequired);
    }

    #[test]
    fn input_responses_parse_by_key() {
        let responses: InputResponses = serde_json::from_value(json!({
            "roots": {"roots": [{"uri": "file:///a"}]},
            "bad": 12345,
        }))
        .unwrap();
        let roots: ListRootsResult = input_response(&responses, "roots").unwrap().unwrap();
        assert_eq!(roots.roots.len(), 1);
        assert!(
            input_response::<ElicitResult>(&responses, "bad")
                .unwrap()
                .is_err()
        );
        assert!(input_response::<ElicitResult>(&responses, "missing").is_none());
    }
}
