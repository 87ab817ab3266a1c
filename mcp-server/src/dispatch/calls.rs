//! The calls that run user handlers: `tools/call`, `resources/read`, `prompts/get`,
//! `completion/complete`. On 2026-07-28 the first three may answer `input_required` (MRTR).

use std::sync::Arc;

use mcp_core::jsonrpc::{ErrorCode, ErrorObject, RequestId};
use mcp_core::types::{
    CallToolRequestParams, CompleteRequestParams, GetPromptRequestParams, InputRequiredResult,
    JsonObject, Meta, MissingRequiredClientCapabilityData, ReadResourceRequestParams, Reference,
    meta_keys, methods,
};
use mcp_core::version::Era;
use serde::Serialize;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::shape::{Cache, WithMeta, encode, shape};
use super::{Failure, Outcome, RequestEnv, StepUp, cancelled_error, parse_params};
use crate::McpError;
use crate::ToolDef;
use crate::auth::{AuthContext, Principal, ScopeDenial};
use crate::context::{Context, ContextInner};
use crate::mrtr::{InputRound, RoundOutcome, merge_answers, request_digest};
use crate::registry::ResourceMatch;
use crate::server::ServerInner;
use crate::telemetry::note_tool_error;

/// The MRTR side of a modern call: the round the handler runs in, and the digest and caller
/// that bind its `requestState` to this request.
struct Mrtr {
    round: Arc<InputRound>,
    digest: String,
    caller: Option<Arc<AuthContext>>,
}

/// Opens the round of a modern call: verifies `requestState` (L-76) and gathers the answers.
fn open_round<A: Serialize>(
    server: &ServerInner,
    env: &RequestEnv,
    method: &str,
    target: &str,
    arguments: Option<&A>,
    responses: Option<JsonObject>,
    state: Option<String>,
) -> Result<Option<Mrtr>, ErrorObject> {
    if env.version.era() != Era::Modern {
        return Ok(None);
    }
    let digest = request_digest(method, target, arguments);
    let from_state = match state {
        None => JsonObject::new(),
        Some(s) => {
            let principal = env.principal();
            server
                .state_codec
                .open(&s, &digest, principal.as_ref().map(Principal::as_str))
                .map_err(|e| ErrorObject::invalid_params(format!("Invalid requestState: {e}")))?
        }
    };
    Ok(Some(Mrtr {
        round: Arc::new(InputRound::new(merge_answers(from_state, responses))),
        digest,
        caller: env.auth.clone(),
    }))
}

fn context(
    server: &ServerInner,
    id: RequestId,
    meta: Option<Meta>,
    env: RequestEnv,
    mrtr: Option<&Mrtr>,
) -> (Context, CancellationToken) {
    let cancellation = match &env.client {
        Some(c) => c.closed.child_token(),
        None => CancellationToken::new(),
    };
    let ctx = Context::new(ContextInner {
        auth: env.auth.clone(),
        delegation: env.delegation,
        request_id: id,
        meta,
        version: env.version,
        cancellation: cancellation.clone(),
        peer: env.peer,
        client: env.client,
        http: env.http,
        request_timeout: server.client_request_timeout,
        round: mrtr.map(|m| Arc::clone(&m.round)),
    });
    (ctx, cancellation)
}

/// Runs `work` with the request registered for cancellation in its client's in-flight table.
/// A cancelled request gets no response (L-40). Dropping the future (a modern client hung up,
/// T-25) cancels the token too.
async fn cancellable<T, F>(
    ctx: &Context,
    token: CancellationToken,
    work: F,
) -> Result<T, ErrorObject>
where
    F: std::future::Future<Output = T>,
{
    let _guard = ctx
        .client_state()
        .and_then(|c| c.track(ctx.request_id().clone(), token.clone()));
    let _cancel_on_drop = token.clone().drop_guard();
    tokio::select! {
        biased;
        out = work => Ok(out),
        () = token.cancelled() => Err(cancelled_error()),
    }
}

/// Turns a handler's result into the answer: itself, `input_required`, or `-32021`.
fn finish<T: Serialize + WithMeta>(
    server: &ServerInner,
    era: Era,
    mrtr: Option<Mrtr>,
    result: T,
    cache: Cache,
) -> Outcome {
    let Some(mrtr) = mrtr else {
        return shape(server, era, result, cache);
    };
    match mrtr.round.outcome() {
        RoundOutcome::Complete => shape(server, era, result, cache),
        RoundOutcome::InputRequired { requests, answers } => {
            let principal = mrtr.caller.as_deref().map(AuthContext::principal);
            let state = server.state_codec.seal(
                &mrtr.digest,
                principal.as_ref().map(Principal::as_str),
                answers,
            );
            let mut result = InputRequiredResult::new(Some(requests), Some(state));
            let mut meta = Meta::new();
            meta.insert(
                meta_keys::SERVER_INFO.to_owned(),
                server.server_info_value.clone(),
            );
            result.meta = Some(meta);
            encode(&result)
        }
        RoundOutcome::MissingCapabilities(required) => {
            let data = MissingRequiredClientCapabilityData {
                required_capabilities: required,
            };
            Err(ErrorObject::new(
                ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
                "Missing required client capability",
            )
            .with_data(serde_json::to_value(data).unwrap_or(Value::Null))
            .into())
        }
    }
}

/// The per-tool policy (scopes with hierarchies AZ-15, `min_role`), checked before the tool
/// runs: `None` when the call may go on, else the audit reason and the answer, the documented
/// tool error or the step-up challenge (AZ-14).
fn check_tool_access(
    server: &ServerInner,
    era: Era,
    tool: &ToolDef,
    caller: Option<&AuthContext>,
) -> Option<(&'static str, Outcome)> {
    let denial = server
        .auth
        .authorize_tool(tool.requirements(), caller)
        .err()?;
    let error = mcp_core::types::CallToolResult::error_text(denial.tool_error_text());
    let reported = shape(server, era, error, Cache::No);
    let outcome = match (server.auth.scope_denial, reported) {
        (ScopeDenial::StepUp, Ok(fallback)) => Err(Failure::StepUp(Box::new(StepUp {
            scopes: denial.step_up_scopes(&server.auth),
            description: denial.step_up_description(),
            fallback,
        }))),
        (_, reported) => reported,
    };
    Some((denial.reason(), outcome))
}

pub(super) async fn call_tool(
    server: &ServerInner,
    id: RequestId,
    params: Option<Value>,
    env: RequestEnv,
) -> Outcome {
    let CallToolRequestParams {
        name,
        arguments,
        meta,
        input_responses,
        request_state,
    } = parse_params(params)?;
    let Some(tool) = server.registry.load().tools.get(&name).cloned() else {
        return Err(ErrorObject::invalid_params(format!("Unknown tool: {name}")).into());
    };
    let era = env.version.era();
    let audit = server
        .auth
        .audit
        .tool_call(&name, arguments.as_ref(), env.auth.as_deref());
    if let Some((reason, outcome)) = check_tool_access(server, era, &tool, env.auth.as_deref()) {
        audit.denied(reason);
        note_tool_error();
        return outcome;
    }
    let mrtr = match open_round(
        server,
        &env,
        methods::TOOLS_CALL,
        &name,
        arguments.as_ref(),
        input_responses,
        request_state,
    ) {
        Ok(m) => m,
        Err(e) => {
            audit.finished(true, Some("invalid_request_state"));
            return Err(e.into());
        }
    };
    // --- tasks extension (SEP-2663), see `crate::tasks` ---
    let route = match crate::dispatch::tasks::route(&tool, &env) {
        Ok(r) => r,
        Err(e) => {
            audit.finished(true, Some("missing_capability"));
            return Err(e.into());
        }
    };
    if let (crate::dispatch::tasks::Route::Task, Some(m)) = (route, mrtr.as_ref()) {
        let round = Arc::clone(&m.round);
        let started = crate::dispatch::tasks::start(
            server,
            Arc::clone(&tool),
            id,
            arguments,
            meta,
            env,
            round,
        )
        .await;
        return match started {
            crate::dispatch::tasks::Started::Task(created) => {
                audit.finished(created.is_err(), Some("task"));
                created
            }
            crate::dispatch::tasks::Started::Finished(result) => {
                audit.finished(result.is_error(), None);
                if result.is_error() {
                    note_tool_error();
                }
                finish(server, era, mrtr, result, Cache::No)
            }
        };
    }
    // --- end tasks extension ---
    let (ctx, token) = context(server, id, meta, env, mrtr.as_ref());
    let call = tool.call(ctx.clone(), arguments);
    let result = match cancellable(&ctx, token, call).await {
        Ok(r) => r,
        Err(e) => {
            audit.finished(true, Some("cancelled"));
            return Err(e.into());
        }
    };
    audit.finished(result.is_error(), None);
    if result.is_error() {
        note_tool_error();
    }
    finish(server, era, mrtr, result, Cache::No)
}

pub(super) async fn read_resource(
    server: &ServerInner,
    id: RequestId,
    params: Option<Value>,
    env: RequestEnv,
) -> Outcome {
    let ReadResourceRequestParams {
        uri,
        meta,
        input_responses,
        request_state,
    } = parse_params(params)?;
    let version = env.version;
    let registry = server.registry.load_full();
    let mrtr = open_round::<()>(
        server,
        &env,
        methods::RESOURCES_READ,
        &uri,
        None,
        input_responses,
        request_state,
    )?;
    // What an authenticated caller reads may be theirs alone: never for shared caches.
    let cache = if env.auth.is_some() {
        Cache::Private
    } else {
        Cache::Public
    };
    let (ctx, token) = context(server, id, meta, env, mrtr.as_ref());
    let read = match registry.find_resource(&uri) {
        Some(ResourceMatch::Fixed(r)) => r.read(ctx.clone(), uri),
        Some(ResourceMatch::Template(t, vars)) => t.read(ctx.clone(), uri, vars),
        None => {
            return Err(McpError::resource_not_found(uri)
                .to_error_object(version)
                .into());
        }
    };
    let result = cancellable(&ctx, token, read).await?;
    match result {
        Ok(r) => finish(server, version.era(), mrtr, r, cache),
        // The handler stopped to ask the client something (its error is that): ask.
        Err(_) if mrtr.as_ref().is_some_and(|m| m.round.is_pending()) => {
            let placeholder = mcp_core::types::ReadResourceResult::default();
            finish(server, version.era(), mrtr, placeholder, cache)
        }
        Err(e) => Err(e.to_error_object(version).into()),
    }
}

pub(super) async fn get_prompt(
    server: &ServerInner,
    id: RequestId,
    params: Option<Value>,
    env: RequestEnv,
) -> Outcome {
    let GetPromptRequestParams {
        name,
        arguments,
        meta,
        input_responses,
        request_state,
    } = parse_params(params)?;
    let version = env.version;
    let Some(prompt) = server.registry.load().prompts.get(&name).cloned() else {
        return Err(ErrorObject::invalid_params(format!("Unknown prompt: {name}")).into());
    };
    let mrtr = open_round(
        server,
        &env,
        methods::PROMPTS_GET,
        &name,
        arguments.as_ref(),
        input_responses,
        request_state,
    )?;
    let (ctx, token) = context(server, id, meta, env, mrtr.as_ref());
    let get = prompt.get(ctx.clone(), arguments.unwrap_or_default());
    let result = cancellable(&ctx, token, get).await?;
    match result {
        Ok(r) => finish(server, version.era(), mrtr, r, Cache::No),
        Err(_) if mrtr.as_ref().is_some_and(|m| m.round.is_pending()) => {
            let placeholder = mcp_core::types::GetPromptResult::default();
            finish(server, version.era(), mrtr, placeholder, Cache::No)
        }
        Err(e) => Err(e.to_error_object(version).into()),
    }
}

pub(super) async fn complete(
    server: &ServerInner,
    id: RequestId,
    params: Option<Value>,
    env: RequestEnv,
) -> Outcome {
    let Some(handler) = server.completion.clone() else {
        return Err(ErrorObject::method_not_found(methods::COMPLETION_COMPLETE).into());
    };
    let params: CompleteRequestParams = parse_params(params)?;
    if let Reference::Prompt(p) = &params.reference {
        if !server.registry.load().prompts.contains_key(&p.name) {
            return Err(ErrorObject::invalid_params(format!("Unknown prompt: {}", p.name)).into());
        }
    }
    let version = env.version;
    let (ctx, token) = context(server, id, params.meta.clone(), env, None);
    let run = handler.complete(ctx.clone(), params);
    let mut result = cancellable(&ctx, token, run)
        .await?
        .map_err(|e| e.to_error_object(version))?;
    result.completion.values.truncate(100);
    shape(server, version.era(), result, Cache::No)
}
