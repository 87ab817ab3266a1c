//! Multi-round-trip requests (2026-07-28): a server that needs input answers `tools/call`,
//! `prompts/get` or `resources/read` with `resultType: "input_required"`; the client answers each
//! input request with its handlers and sends the same request again (new id) with
//! `inputResponses` and the echoed `requestState`.

use mcp_core::types::{InputRequiredResult, JsonObject};
use serde_json::Value;

use crate::error::{Error, Malformed};
use crate::handlers::Handlers;

/// Answers `asked` with `handlers` and rewrites `params` for the retry.
pub(super) async fn answer(
    handlers: &Handlers,
    asked: InputRequiredResult,
    method: &str,
    params: &mut JsonObject,
) -> Result<(), Error> {
    if asked.input_requests.is_none() && asked.request_state.is_none() {
        return Err(Malformed::InputRequired(method.to_owned()).into());
    }
    let mut responses = JsonObject::new();
    for (key, request) in asked.input_requests.unwrap_or_default() {
        let value = handlers
            .answer(&request.method, request.params.map(Value::Object))
            .await
            .map_err(|error| Error::Handler {
                method: request.method.clone(),
                error,
            })?;
        responses.insert(key, value);
    }
    if responses.is_empty() {
        params.remove("inputResponses");
    } else {
        params.insert("inputResponses".into(), Value::Object(responses));
    }
    match asked.request_state {
        Some(state) => params.insert("requestState".into(), Value::String(state)),
        None => params.remove("requestState"),
    };
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use mcp_core::types::{
        ElicitRequestParams, ElicitResult, InputRequest, InputRequests, JsonObject,
    };
    use serde_json::json;

    #[tokio::test]
    async fn answers_become_input_responses_with_the_state() {
        let handlers = Handlers {
            elicitation: Some(Arc::new(|_: ElicitRequestParams| async {
                Ok(ElicitResult::accept(None))
            })),
            ..Handlers::default()
        };
        let asked = InputRequiredResult::new(
            InputRequests::from([(
                "k".to_owned(),
                InputRequest::elicitation(ElicitRequestParams::form("?", JsonObject::new())),
            )]),
            "state".to_owned(),
        );
        let mut params = json!({"name": "t"}).as_object().cloned().unwrap();
        answer(&handlers, asked, "tools/call", &mut params)
            .await
            .unwrap();
        assert_eq!(params["inputResponses"], json!({"k": {"action": "accept"}}));
        assert_eq!(params["requestState"], "state");

        let roots = InputRequiredResult::new(
            InputRequests::from([("r".to_owned(), InputRequest::list_roots())]),
            None,
        );
        let e = answer(&handlers, roots, "tools/call", &mut params)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Handler { method, .. } if method == "roots/list"));
        let empty = InputRequiredResult::new(None, None);
        assert!(
            answer(&handlers, empty, "tools/call", &mut params)
                .await
                .is_err()
        );
    }
}
