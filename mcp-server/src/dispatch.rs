//! JSON-RPC method → handler. Knows nothing of HTTP: transports hand it parsed messages and a
//! [`RequestEnv`], and get serialized results or JSON-RPC errors back.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mcp_core::jsonrpc::{ErrorObject, Notification, Request, RequestId};
use mcp_core::types::{
    CallToolRequestParams, CancelledNotificationParams, CompleteRequestParams, Cursor, EmptyResult,
    GetPromptRequestParams, InitializeRequestParams, InitializeResult, Meta,
    PaginatedRequestParams, Prompt, ReadResourceRequestParams, Resource, ResourceTemplate,
    SetLevelRequestParams, SubscribeRequestParams, Tool, UnsubscribeRequestParams, methods,
};
use mcp_core::version::{ProtocolVersion, negotiate_initialize};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;
use tokio_util::sync::CancellationToken;

use crate::BoxFuture;
use crate::client_state::ClientState;
use crate::context::{Context, ContextInner, HttpRequestParts, Peer};
use crate::registry::ResourceMatch;
use crate::server::ServerInner;

/// A serialized result, or the error to send instead.
pub(crate) type Outcome = Result<Box<RawValue>, ErrorObject>;

/// Everything about a request that does not come from its JSON-RPC body.
pub(crate) struct RequestEnv {
    pub version: ProtocolVersion,
    pub peer: Arc<dyn Peer>,
    pub client: Option<Arc<ClientState>>,
    pub http: Option<HttpRequestParts>,
}

fn parse_params<T: DeserializeOwned>(params: Option<Value>) -> Result<T, ErrorObject> {
    let value = params.unwrap_or_else(|| Value::Object(Default::default()));
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        ErrorObject::invalid_params(if path == "." {
            format!("Invalid params: {}", e.into_inner())
        } else {
            format!("Invalid params: `{path}`: {}", e.into_inner())
        })
    })
}

pub(crate) fn encode<T: Serialize>(value: &T) -> Outcome {
    serde_json::value::to_raw_value(value)
        .map_err(|e| ErrorObject::internal_error(format!("failed to serialize the result: {e}")))
}

fn empty() -> Outcome {
    encode(&EmptyResult::default())
}

/// Answers `initialize` (L-10, L-11): the negotiated version, capabilities and server info,
/// plus the client state the transport keeps for the session.
pub(crate) fn initialize(
    server: &ServerInner,
    params: Option<Value>,
) -> Result<(Outcome, ClientState), ErrorObject> {
    let params: InitializeRequestParams = parse_params(params)?;
    let version =
        negotiate_initialize(&params.protocol_version, &server.versions).ok_or_else(|| {
            ErrorObject::invalid_request("this server speaks no legacy protocol version")
        })?;
    let result = InitializeResult {
        protocol_version: version.as_str().to_owned(),
        capabilities: server.capabilities.clone(),
        server_info: server.info.clone(),
        instructions: server.instructions.clone(),
        meta: None,
    };
    let state = ClientState::new(version, params.capabilities, params.client_info);
    Ok((encode(&result), state))
}

/// Handles a notification from the client. Unknown notifications are ignored.
pub(crate) fn handle_notification(notification: Notification, client: Option<&ClientState>) {
    match notification.method.as_str() {
        methods::NOTIFICATION_INITIALIZED => {
            if let Some(c) = client {
                c.mark_initialized();
            }
        }
        methods::NOTIFICATION_CANCELLED => {
            // Malformed cancellations are ignored silently (L-40).
            let Ok(p) = parse_params::<CancelledNotificationParams>(notification.params) else {
                return;
            };
            if let (Some(c), Some(id)) = (client, p.request_id) {
                c.cancel(&id);
            }
        }
        other => tracing::debug!(method = other, "ignoring notification"),
    }
}

/// Handles a request (anything but `initialize`). The future owns what it needs.
pub(crate) fn handle_request(
    server: Arc<ServerInner>,
    request: Request,
    env: RequestEnv,
) -> BoxFuture<'static, Outcome> {
    Box::pin(async move {
        let Request { id, method, params } = request;
        match method.as_str() {
            methods::PING => empty(),
            methods::TOOLS_LIST => {
                let r = server.registry.load();
                list_page(
                    &server,
                    params,
                    r.tools.values().map(|t| &t.tool).collect(),
                    ToolsPage::new,
                )
            }
            methods::TOOLS_CALL => call_tool(&server, id, params, env).await,
            methods::RESOURCES_LIST => {
                let r = server.registry.load();
                list_page(
                    &server,
                    params,
                    r.resources.values().map(|d| &d.resource).collect(),
                    ResourcesPage::new,
                )
            }
            methods::RESOURCES_TEMPLATES_LIST => {
                let r = server.registry.load();
                list_page(
                    &server,
                    params,
                    r.templates.iter().map(|d| &d.template).collect(),
                    TemplatesPage::new,
                )
            }
            methods::RESOURCES_READ => read_resource(&server, id, params, env).await,
            methods::RESOURCES_SUBSCRIBE => {
                let p: SubscribeRequestParams = parse_params(params)?;
                if let Some(c) = &env.client {
                    c.subscribe(p.uri);
                }
                empty()
            }
            methods::RESOURCES_UNSUBSCRIBE => {
                let p: UnsubscribeRequestParams = parse_params(params)?;
                if let Some(c) = &env.client {
                    c.unsubscribe(&p.uri);
                }
                empty()
            }
            methods::PROMPTS_LIST => {
                let r = server.registry.load();
                list_page(
                    &server,
                    params,
                    r.prompts.values().map(|p| &p.prompt).collect(),
                    PromptsPage::new,
                )
            }
            methods::PROMPTS_GET => get_prompt(&server, id, params, env).await,
            methods::COMPLETION_COMPLETE => complete(&server, id, params, env).await,
            methods::LOGGING_SET_LEVEL => {
                let p: SetLevelRequestParams = parse_params(params)?;
                if let Some(c) = &env.client {
                    c.set_log_level(p.level);
                }
                empty()
            }
            methods::INITIALIZE => Err(ErrorObject::invalid_request(
                "the session is already initialized",
            )),
            other => Err(ErrorObject::method_not_found(other)),
        }
    })
}

fn context(
    server: &ServerInner,
    id: RequestId,
    meta: Option<Meta>,
    env: RequestEnv,
) -> (Context, CancellationToken) {
    let cancellation = match &env.client {
        Some(c) => c.closed.child_token(),
        None => CancellationToken::new(),
    };
    let ctx = Context::new(ContextInner {
        request_id: id,
        meta,
        version: env.version,
        cancellation: cancellation.clone(),
        peer: env.peer,
        client: env.client,
        http: env.http,
        request_timeout: server.client_request_timeout,
    });
    (ctx, cancellation)
}

/// Runs `work` with the request registered for cancellation in its client's in-flight table.
/// A cancelled request gets no response (L-40): the outcome is `None`.
async fn cancellable<F>(ctx: &Context, token: CancellationToken, work: F) -> Option<Outcome>
where
    F: std::future::Future<Output = Outcome>,
{
    let client = ctx.client_state();
    let _guard = client.map(|c| c.track(ctx.request_id().clone(), token.clone()));
    tokio::select! {
        biased;
        outcome = work => Some(outcome),
        () = token.cancelled() => None,
    }
}

/// The JSON-RPC error used when a request was cancelled and the transport still has to answer
/// something (a cancelled request normally gets no response at all).
pub(crate) fn cancelled_error() -> ErrorObject {
    ErrorObject::new(mcp_core::ErrorCode::INTERNAL_ERROR, "Request cancelled")
}

async fn call_tool(
    server: &ServerInner,
    id: RequestId,
    params: Option<Value>,
    env: RequestEnv,
) -> Outcome {
    let CallToolRequestParams {
        name,
        arguments,
        meta,
    } = parse_params(params)?;
    let Some(tool) = server.registry.load().tools.get(&name).cloned() else {
        return Err(ErrorObject::invalid_params(format!("Unknown tool: {name}")));
    };
    let (ctx, token) = context(server, id, meta, env);
    let call = tool.call(ctx.clone(), arguments);
    match cancellable(&ctx, token, async move { encode(&call.await) }).await {
        Some(outcome) => outcome,
        None => Err(cancelled_error()),
    }
}

async fn read_resource(
    server: &ServerInner,
    id: RequestId,
    params: Option<Value>,
    env: RequestEnv,
) -> Outcome {
    let ReadResourceRequestParams { uri, meta } = parse_params(params)?;
    let version = env.version;
    let registry = server.registry.load_full();
    let (ctx, token) = context(server, id, meta, env);
    let read = match registry.find_resource(&uri) {
        Some(ResourceMatch::Fixed(r)) => r.read(ctx.clone(), uri),
        Some(ResourceMatch::Template(t, vars)) => t.read(ctx.clone(), uri, vars),
        None => return Err(crate::McpError::resource_not_found(uri).to_error_object(version)),
    };
    let work = async move {
        read.await
            .map_err(|e| e.to_error_object(version))
            .and_then(|r| encode(&r))
    };
    cancellable(&ctx, token, work)
        .await
        .unwrap_or_else(|| Err(cancelled_error()))
}

async fn get_prompt(
    server: &ServerInner,
    id: RequestId,
    params: Option<Value>,
    env: RequestEnv,
) -> Outcome {
    let GetPromptRequestParams {
        name,
        arguments,
        meta,
    } = parse_params(params)?;
    let version = env.version;
    let Some(prompt) = server.registry.load().prompts.get(&name).cloned() else {
        return Err(ErrorObject::invalid_params(format!(
            "Unknown prompt: {name}"
        )));
    };
    let (ctx, token) = context(server, id, meta, env);
    let get = prompt.get(ctx.clone(), arguments.unwrap_or_default());
    let work = async move {
        get.await
            .map_err(|e| e.to_error_object(version))
            .and_then(|r| encode(&r))
    };
    cancellable(&ctx, token, work)
        .await
        .unwrap_or_else(|| Err(cancelled_error()))
}

async fn complete(
    server: &ServerInner,
    id: RequestId,
    params: Option<Value>,
    env: RequestEnv,
) -> Outcome {
    let Some(handler) = server.completion.clone() else {
        return Err(ErrorObject::method_not_found(methods::COMPLETION_COMPLETE));
    };
    let params: CompleteRequestParams = parse_params(params)?;
    if let mcp_core::types::Reference::Prompt(p) = &params.reference {
        if !server.registry.load().prompts.contains_key(&p.name) {
            return Err(ErrorObject::invalid_params(format!(
                "Unknown prompt: {}",
                p.name
            )));
        }
    }
    let version = env.version;
    let (ctx, token) = context(server, id, params.meta.clone(), env);
    let run = handler.complete(ctx.clone(), params);
    let work = async move {
        let mut result = run.await.map_err(|e| e.to_error_object(version))?;
        result.completion.values.truncate(100);
        encode(&result)
    };
    cancellable(&ctx, token, work)
        .await
        .unwrap_or_else(|| Err(cancelled_error()))
}

macro_rules! page {
    ($name:ident, $item:ty, $field:literal) => {
        #[derive(Serialize)]
        struct $name<'a> {
            #[serde(rename = $field)]
            items: Vec<&'a $item>,
            #[serde(rename = "nextCursor", skip_serializing_if = "Option::is_none")]
            next_cursor: Option<Cursor>,
        }
        impl<'a> $name<'a> {
            fn new(items: Vec<&'a $item>, next_cursor: Option<Cursor>) -> Self {
                $name { items, next_cursor }
            }
        }
    };
}
page!(ToolsPage, Tool, "tools");
page!(ResourcesPage, Resource, "resources");
page!(TemplatesPage, ResourceTemplate, "resourceTemplates");
page!(PromptsPage, Prompt, "prompts");

/// Cuts one page out of `all` (L-55): the server picks the size, cursors are opaque, an invalid
/// cursor is `-32602`, and `nextCursor` appears only when more items follow.
fn list_page<'r, T, P: Serialize>(
    server: &ServerInner,
    params: Option<Value>,
    all: Vec<&'r T>,
    page: fn(Vec<&'r T>, Option<Cursor>) -> P,
) -> Outcome {
    let p: PaginatedRequestParams = parse_params(params)?;
    let offset = match p.cursor.as_deref() {
        None => 0,
        Some(c) => decode_cursor(c)
            .filter(|&o| o <= all.len())
            .ok_or_else(|| ErrorObject::invalid_params("Invalid cursor"))?,
    };
    let end = offset.saturating_add(server.page_size).min(all.len());
    let next = (end < all.len()).then(|| encode_cursor(end));
    encode(&page(all[offset..end].to_vec(), next))
}

fn encode_cursor(offset: usize) -> Cursor {
    URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    std::str::from_utf8(&bytes)
        .ok()?
        .strip_prefix("o:")?
        .parse()
        .ok()
}
