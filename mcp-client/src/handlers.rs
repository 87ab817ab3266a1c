//! What the client answers when the server asks it something: elicitation (a question for the
//! user), sampling (a completion from the client's model) and roots. The same handlers serve
//! both eras: legacy servers send JSON-RPC requests over SSE or stdio, modern servers return
//! `input_required` results; the client routes either to these handlers.
//!
//! A handler is any `Fn(params) -> impl Future<Output = Result<R, ErrorObject>>`:
//!
//! ```
//! use mcp_client::McpClient;
//! use mcp_client::types::{ElicitRequestParams, ElicitResult, JsonObject};
//!
//! let builder = McpClient::builder().on_elicitation(|request: ElicitRequestParams| async move {
//!     println!("the server asks: {}", request.message());
//!     let mut answer = JsonObject::new();
//!     answer.insert("name".into(), "Ada".into());
//!     Ok(ElicitResult::accept(Some(answer)))
//! });
//! ```

use std::future::Future;
use std::sync::Arc;

use mcp_core::ErrorObject;
use mcp_core::types::{
    ClientCapabilities, CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams,
    ElicitResult, EmptyResult, JsonObject, ListRootsResult, Root, RootsCapability, methods,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::BoxFuture;

/// Answers `elicitation/create`.
pub trait ElicitationHandler: Send + Sync + 'static {
    /// Asks the user; `Err` becomes a JSON-RPC error for the server.
    fn elicit(
        &self,
        request: ElicitRequestParams,
    ) -> BoxFuture<'static, Result<ElicitResult, ErrorObject>>;
}

impl<F, Fut> ElicitationHandler for F
where
    F: Fn(ElicitRequestParams) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ElicitResult, ErrorObject>> + Send + 'static,
{
    fn elicit(
        &self,
        request: ElicitRequestParams,
    ) -> BoxFuture<'static, Result<ElicitResult, ErrorObject>> {
        Box::pin(self(request))
    }
}

/// Answers `sampling/createMessage`.
pub trait SamplingHandler: Send + Sync + 'static {
    /// Samples the client's model; `Err` becomes a JSON-RPC error for the server.
    fn create_message(
        &self,
        request: CreateMessageRequestParams,
    ) -> BoxFuture<'static, Result<CreateMessageResult, ErrorObject>>;
}

impl<F, Fut> SamplingHandler for F
where
    F: Fn(CreateMessageRequestParams) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<CreateMessageResult, ErrorObject>> + Send + 'static,
{
    fn create_message(
        &self,
        request: CreateMessageRequestParams,
    ) -> BoxFuture<'static, Result<CreateMessageResult, ErrorObject>> {
        Box::pin(self(request))
    }
}

/// The handlers a client was built with; they decide its declared capabilities.
#[derive(Clone, Default)]
pub(crate) struct Handlers {
    pub elicitation: Option<Arc<dyn ElicitationHandler>>,
    pub sampling: Option<Arc<dyn SamplingHandler>>,
    pub roots: Option<Arc<Vec<Root>>>,
}

impl Handlers {
    /// The capabilities to declare: one per handler.
    pub fn capabilities(&self) -> ClientCapabilities {
        ClientCapabilities {
            elicitation: self.elicitation.as_ref().map(|_| JsonObject::new()),
            sampling: self.sampling.as_ref().map(|_| JsonObject::new()),
            roots: self.roots.as_ref().map(|_| RootsCapability {
                list_changed: Some(false),
            }),
            ..ClientCapabilities::default()
        }
    }

    /// Answers one server request (or MRTR input request) of `method`.
    pub async fn answer(&self, method: &str, params: Option<Value>) -> Result<Value, ErrorObject> {
        match method {
            methods::ELICITATION_CREATE => {
                let handler = self
                    .elicitation
                    .clone()
                    .ok_or_else(|| ErrorObject::method_not_found(method))?;
                encode(handler.elicit(decode(params)?).await?)
            }
            methods::SAMPLING_CREATE_MESSAGE => {
                let handler = self
                    .sampling
                    .clone()
                    .ok_or_else(|| ErrorObject::method_not_found(method))?;
                encode(handler.create_message(decode(params)?).await?)
            }
            methods::ROOTS_LIST => {
                let roots = self
                    .roots
                    .as_ref()
                    .ok_or_else(|| ErrorObject::method_not_found(method))?;
                encode(ListRootsResult {
                    roots: roots.as_ref().clone(),
                    meta: None,
                })
            }
            methods::PING => encode(EmptyResult::default()),
            other => Err(ErrorObject::method_not_found(other)),
        }
    }
}

fn decode<T: DeserializeOwned>(params: Option<Value>) -> Result<T, ErrorObject> {
    let value = params.unwrap_or_else(|| Value::Object(JsonObject::new()));
    serde_json::from_value(value)
        .map_err(|e| ErrorObject::invalid_params(format!("Invalid params: {e}")))
}

fn encode<T: Serialize>(value: T) -> Result<Value, ErrorObject> {
    serde_json::to_value(value).map_err(|e| ErrorObject::internal_error(e.to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use mcp_core::ErrorCode;
    use serde_json::json;

    #[tokio::test]
    async fn routes_by_method_and_rejects_what_it_cannot_answer() {
        let handlers = Handlers {
            elicitation: Some(Arc::new(|_: ElicitRequestParams| async {
                Ok(ElicitResult::decline())
            })),
            roots: Some(Arc::new(vec![Root {
                uri: "file:///w".into(),
                name: None,
                meta: None,
            }])),
            ..Handlers::default()
        };
        let caps = handlers.capabilities();
        assert!(caps.elicitation.is_some() && caps.sampling.is_none() && caps.roots.is_some());
        let params = json!({"message": "Name?", "requestedSchema": {"type": "object"}});
        let v = handlers
            .answer(methods::ELICITATION_CREATE, Some(params))
            .await
            .unwrap();
        assert_eq!(v, json!({"action": "decline"}));
        let v = handlers.answer(methods::ROOTS_LIST, None).await.unwrap();
        assert_eq!(v["roots"][0]["uri"], "file:///w");
        let e = handlers
            .answer(methods::SAMPLING_CREATE_MESSAGE, None)
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::METHOD_NOT_FOUND);
        let e = handlers
            .answer(methods::ELICITATION_CREATE, Some(json!({"mode": 5})))
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
        assert_eq!(handlers.answer("ping", None).await.unwrap(), json!({}));
    }
}
