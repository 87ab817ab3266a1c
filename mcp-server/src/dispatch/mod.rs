//! JSON-RPC method → handler. Knows nothing of HTTP: transports hand it parsed messages and a
//! [`RequestEnv`], and get serialized results or JSON-RPC errors back. The same handlers serve
//! both eras; [`shape`] dresses results for the wire.

mod calls;
pub(crate) mod listen;
mod lists;
pub(crate) mod meta;
pub(crate) mod shape;
pub(crate) mod tasks;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use mcp_core::jsonrpc::{ErrorObject, Notification, Request};
use mcp_core::types::{
    CancelledNotificationParams, DiscoverResult, EmptyResult, InitializeRequestParams,
    InitializeResult, SetLevelRequestParams, SubscribeRequestParams, UnsubscribeRequestParams,
    methods,
};
use mcp_core::version::{Era, ProtocolVersion, negotiate_initialize};
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::BoxFuture;
use crate::auth::{AuthContext, Delegation};
use crate::client_state::{ClientState, StateChange};
use crate::context::{HttpRequestParts, Peer};
use crate::server::ServerInner;
use crate::telemetry::{Ended, MessageSpan, Target, Transport};
pub(crate) use shape::encode;

/// A serialized result, or why there is none.
pub(crate) type Outcome = Result<Box<RawValue>, Failure>;

/// Why a request produced no ordinary result.
#[derive(Debug, Clone)]
pub(crate) enum Failure {
    /// A JSON-RPC error.
    Error(ErrorObject),
    /// The caller may not call the tool, and the server answers that with the step-up challenge
    /// (AZ-14): the HTTP transport sends 403 `insufficient_scope`. Where one HTTP status cannot
    /// speak for the answer (stdio, a batch), the tool error `fallback` is sent instead.
    StepUp(Box<StepUp>),
}

/// What the step-up challenge says.
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) struct StepUp {
    /// Every scope the call needs.
    pub scopes: Vec<String>,
    /// The challenge's `error_description`.
    pub description: String,
    /// The tool error result that reports the same denial.
    pub fallback: Box<RawValue>,
}

impl From<ErrorObject> for Failure {
    fn from(e: ErrorObject) -> Self {
        Failure::Error(e)
    }
}

/// Everything about a request that does not come from its JSON-RPC body.
pub(crate) struct RequestEnv {
    pub version: ProtocolVersion,
    pub peer: Arc<dyn Peer>,
    pub client: Option<Arc<ClientState>>,
    pub http: Option<HttpRequestParts>,
    /// The caller, when the endpoint is protected.
    pub auth: Option<Arc<AuthContext>>,
    /// What exchanging the caller's token for upstream calls takes, when it can be.
    pub delegation: Option<Delegation>,
}

impl RequestEnv {
    fn era(&self) -> Era {
        self.version.era()
    }

    /// Who is calling (bound into `requestState`, sessions and tasks); `None` without
    /// authentication.
    pub(crate) fn principal(&self) -> Option<crate::auth::Principal> {
        self.auth.as_ref().map(|a| a.principal())
    }
}

pub(crate) fn parse_params<T: DeserializeOwned>(params: Option<Value>) -> Result<T, ErrorObject> {
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

fn empty() -> Outcome {
    encode(&EmptyResult::default())
}

/// Answers `initialize` (L-10, L-11): the negotiated version, capabilities and server info,
/// plus the client state the transport keeps for the session.
pub(crate) fn initialize(
    server: &ServerInner,
    id: &mcp_core::jsonrpc::RequestId,
    params: Option<Value>,
    transport: Transport,
    headers: Option<&http::HeaderMap>,
) -> Result<(Outcome, ClientState), ErrorObject> {
    let meta = own_trace_context(params.as_ref(), headers);
    let mut telemetry = MessageSpan::request(
        &server.metrics,
        methods::INITIALIZE,
        Some(id),
        Target::default(),
        None,
        None,
        transport,
        meta,
    );
    let _entered = telemetry.span().clone().entered();
    let answer = negotiate(server, params);
    match &answer {
        Ok((_, state)) => {
            telemetry.set_version(state.version.as_str());
            telemetry.finish(Ended::Result, false);
        }
        Err(e) => telemetry.finish(Ended::Error(e.code.0), false),
    }
    answer
}

/// [`initialize`] without the span.
fn negotiate(
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
    let state = ClientState::new(version, params.capabilities, params.client_info)
        .with_max_pending(server.max_pending_client_requests);
    Ok((encode(&result), state))
}

/// Answers `server/discover` (L-20). The result type carries `resultType`, `ttlMs` and
/// `cacheScope` itself.
fn discover(server: &ServerInner) -> Outcome {
    let mut meta = mcp_core::types::Meta::new();
    meta.insert(
        mcp_core::types::meta_keys::SERVER_INFO.to_owned(),
        server.server_info_value.clone(),
    );
    let result = DiscoverResult {
        supported_versions: server
            .versions
            .iter()
            .map(|v| v.as_str().to_owned())
            .collect(),
        capabilities: {
            // Tasks extension: declared while a tool supports tasks.
            let mut capabilities = server.capabilities.clone();
            crate::dispatch::tasks::declare(server, &mut capabilities);
            capabilities
        },
        instructions: server.instructions.clone(),
        ttl_ms: server.cache_ttl_ms,
        meta: Some(meta),
        ..Default::default()
    };
    encode(&result)
}

/// Handles a notification from the client. Unknown notifications are ignored.
pub(crate) fn handle_notification(
    notification: Notification,
    client: Option<&ClientState>,
    transport: Transport,
) {
    let _span =
        crate::telemetry::notification_span(&notification.method, Some(transport)).entered();
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

/// Methods 2026-07-28 removed (L-23); a modern request for one is `-32601` (HTTP 404). Of
/// `tasks/*`, only the tasks extension's `tasks/get`, `tasks/update` and `tasks/cancel` exist.
pub(crate) fn removed_in_modern(method: &str) -> bool {
    matches!(
        method,
        methods::INITIALIZE
            | methods::PING
            | methods::LOGGING_SET_LEVEL
            | methods::RESOURCES_SUBSCRIBE
            | methods::RESOURCES_UNSUBSCRIBE
    ) || (method.starts_with("tasks/")
        && !matches!(
            method,
            methods::TASKS_GET | methods::TASKS_UPDATE | methods::TASKS_CANCEL
        ))
}

/// Handles a request (anything but `initialize`). The future owns what it needs.
///
/// A handler that panics (a tool, a prompt, a resource, a completion: any code under this
/// future) answers that request alone with `-32603` `Internal error`, on every transport; the
/// panic is logged at ERROR with its message, which never reaches the client. (A panicking tool
/// is caught one level down and answers the documented tool error result instead.) The
/// connection, the session and every other request go on.
///
/// The request runs inside its span (see [`crate::telemetry`]), which ends with its outcome.
pub(crate) fn handle_request(
    server: Arc<ServerInner>,
    request: Request,
    env: RequestEnv,
) -> BoxFuture<'static, Outcome> {
    let telemetry = request_span(&server, &request, &env);
    let method = request.method.clone();
    let work = std::panic::AssertUnwindSafe(dispatch_request(server, request, env));
    Box::pin(async move {
        let guarded = async {
            futures_util::FutureExt::catch_unwind(work)
                .await
                .unwrap_or_else(|payload| {
                    tracing::error!(
                        %method,
                        panic = crate::error::panic_message(payload.as_ref()),
                        "a request handler panicked"
                    );
                    Err(ErrorObject::internal_error("Internal error").into())
                })
        };
        let (outcome, tool_error) = telemetry.run(guarded).await;
        telemetry.finish(ended(&outcome), tool_error);
        outcome
    })
}

/// How `outcome` ended, for its span and metric.
pub(crate) fn ended(outcome: &Outcome) -> Ended {
    match outcome {
        Ok(_) => Ended::Result,
        Err(Failure::Error(e)) => Ended::Error(e.code.0),
        Err(Failure::StepUp(_)) => Ended::StepUp,
    }
}

/// The span of `request`: its target when the server has it (a tool or prompt name a client
/// made up never names a span), the session and the transport.
fn request_span(server: &ServerInner, request: &Request, env: &RequestEnv) -> MessageSpan {
    let params = request.params.as_ref();
    let named = |key: &str| {
        params
            .and_then(|p| p.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let mut target = Target::default();
    // Names are copied only for a span or a metric that will use them.
    let observed = server.metrics.is_recording()
        || tracing::enabled!(target: crate::telemetry::TARGET, tracing::Level::INFO);
    match request.method.as_str() {
        _ if !observed => {}
        methods::TOOLS_CALL => {
            target.tool = named("name").filter(|n| server.registry.load().tools.contains_key(n));
        }
        methods::PROMPTS_GET => {
            target.prompt =
                named("name").filter(|n| server.registry.load().prompts.contains_key(n));
        }
        methods::RESOURCES_READ | methods::RESOURCES_SUBSCRIBE | methods::RESOURCES_UNSUBSCRIBE => {
            target.resource_uri = named("uri");
        }
        _ => {}
    }
    let session = env
        .http
        .as_ref()
        .and_then(|h| h.headers.get("mcp-session-id"))
        .and_then(|v| v.to_str().ok());
    let transport = if env.http.is_some() {
        Transport::Http
    } else {
        Transport::Stdio
    };
    MessageSpan::request(
        &server.metrics,
        &request.method,
        Some(&request.id),
        target,
        Some(env.version.as_str()),
        session,
        transport,
        own_trace_context(params, env.http.as_ref().map(|h| &h.headers)),
    )
}

/// `params._meta` when its `traceparent` is the request's own: not when the HTTP headers
/// carry the same one (the message span then stays inside the HTTP request's span, which
/// continues it already).
fn own_trace_context<'a>(
    params: Option<&'a Value>,
    headers: Option<&http::HeaderMap>,
) -> Option<&'a Value> {
    let meta = params.and_then(|p| p.get("_meta"))?;
    let in_meta = meta.get("traceparent").and_then(Value::as_str)?;
    let in_headers = headers
        .and_then(|h| h.get("traceparent"))
        .and_then(|v| v.to_str().ok());
    (in_headers != Some(in_meta)).then_some(meta)
}

/// [`handle_request`] without the panic guard.
fn dispatch_request(
    server: Arc<ServerInner>,
    request: Request,
    env: RequestEnv,
) -> BoxFuture<'static, Outcome> {
    Box::pin(async move {
        let Request { id, method, params } = request;
        let era = env.era();
        if era == Era::Modern && removed_in_modern(&method) {
            return Err(ErrorObject::method_not_found(&method).into());
        }
        let timeout = server.request_timeout;
        match method.as_str() {
            methods::TOOLS_CALL => {
                bounded(timeout, calls::call_tool(&server, id, params, env)).await
            }
            methods::TOOLS_LIST => lists::tools(&server, era, params, env.auth.as_deref()),
            methods::RESOURCES_LIST => lists::resources(&server, era, params),
            methods::RESOURCES_TEMPLATES_LIST => lists::templates(&server, era, params),
            methods::RESOURCES_READ => {
                bounded(timeout, calls::read_resource(&server, id, params, env)).await
            }
            methods::PROMPTS_LIST => lists::prompts(&server, era, params),
            methods::PROMPTS_GET => {
                bounded(timeout, calls::get_prompt(&server, id, params, env)).await
            }
            methods::COMPLETION_COMPLETE => {
                bounded(timeout, calls::complete(&server, id, params, env)).await
            }
            methods::SERVER_DISCOVER if era == Era::Modern => discover(&server),
            // Tasks extension (SEP-2663), 2026-07-28 only.
            methods::TASKS_GET | methods::TASKS_UPDATE | methods::TASKS_CANCEL
                if era == Era::Modern =>
            {
                crate::dispatch::tasks::handle(&server, &method, params, &env).await
            }
            methods::PING => empty(),
            methods::RESOURCES_SUBSCRIBE => {
                let p: SubscribeRequestParams = parse_params(params)?;
                if let Some(c) = &env.client {
                    c.subscribe(p.uri.clone())?;
                    c.share(StateChange::Subscribed(p.uri)).await?;
                }
                empty()
            }
            methods::RESOURCES_UNSUBSCRIBE => {
                let p: UnsubscribeRequestParams = parse_params(params)?;
                if let Some(c) = &env.client {
                    c.unsubscribe(&p.uri);
                    c.share(StateChange::Unsubscribed(p.uri)).await?;
                }
                empty()
            }
            methods::LOGGING_SET_LEVEL => {
                let p: SetLevelRequestParams = parse_params(params)?;
                if let Some(c) = &env.client {
                    c.set_log_level(p.level);
                    c.share(StateChange::LogLevel(p.level)).await?;
                }
                empty()
            }
            methods::INITIALIZE => {
                Err(ErrorObject::invalid_request("the session is already initialized").into())
            }
            other => Err(ErrorObject::method_not_found(other).into()),
        }
    })
}

/// Runs a handler call within [`McpServerBuilder::request_timeout`](crate::McpServerBuilder::request_timeout):
/// past it the call is dropped and the request gets `-32603` naming the limit.
async fn bounded(timeout: Option<Duration>, call: impl Future<Output = Outcome>) -> Outcome {
    let Some(limit) = timeout else {
        return call.await;
    };
    match tokio::time::timeout(limit, call).await {
        Ok(outcome) => outcome,
        Err(_) => {
            tracing::warn!(
                limit_secs = limit.as_secs_f64(),
                "a handler ran past the request timeout; it was cancelled"
            );
            let error = ErrorObject::new(
                mcp_core::ErrorCode::INTERNAL_ERROR,
                format!("Request timed out after {} s", limit.as_secs_f64()),
            )
            .with_data(serde_json::json!({
                "limit": "request_timeout",
                "seconds": limit.as_secs_f64(),
            }));
            Err(error.into())
        }
    }
}

/// The JSON-RPC error used when a request was cancelled and the transport still has to answer
/// something (a cancelled request normally gets no response at all).
pub(crate) fn cancelled_error() -> ErrorObject {
    ErrorObject::new(mcp_core::ErrorCode::INTERNAL_ERROR, "Request cancelled")
}
