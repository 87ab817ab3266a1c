//! The tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663) on the 2026-07-28 wire.
//!
//! A tool opts in with [`ToolDef::task_support`](crate::ToolDef::task_support). When a
//! `tools/call` declares the extension in `_meta["io.modelcontextprotocol/clientCapabilities"]
//! .extensions` and the tool supports tasks, the handler runs in the background and the call
//! answers a flat `CreateTaskResult` (`resultType: "task"`, `taskId`, `status`, `createdAt`,
//! `lastUpdatedAt`, `ttlMs`, `pollIntervalMs`). The client then polls `tasks/get` (which inlines
//! `result`, `error` or `inputRequests`), answers questions with `tasks/update`, and stops the
//! work with `tasks/cancel`. `tasks/result` and `tasks/list` do not exist in this version.
//!
//! A handler inside a task asks the client through the usual [`Context`] calls
//! ([`elicit_as`](Context::elicit_as) ...): when it stops on a question, the task becomes
//! `input_required` with the questions as `inputRequests`; once every one is answered through
//! `tasks/update`, the handler runs again with the answers, like a stateless MRTR retry.
//! Progress and log messages of a task go nowhere (no request stream is open).
//!
//! Tasks are bound to the caller's principal when authorization is on: another caller gets
//! `-32602`, as for an unknown id. Records live in a [`TaskStore`] (bounded in memory by
//! default, see [`TaskConfig`]); a store that fails makes the request fail with `-32603`.
//!
//! With a store shared by several instances (the Redis one in `store`), any instance answers
//! `tasks/get` and `tasks/cancel`. A handler runs only in the instance that created its task: a
//! cancellation through another instance settles the record but the handler runs to its end,
//! and only the creating instance can resume a task with the answers of `tasks/update` (elsewhere
//! the update fails with `-32603`, so that no answer is silently lost; when task tools ask
//! questions, keep each client on one instance).

mod store;

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures_util::FutureExt;
use mcp_core::jsonrpc::{ErrorCode, ErrorObject, Notification, RequestId};
use mcp_core::types::{
    CallToolResult, ClientCapabilities, EmptyResult, JsonObject, Meta,
    MissingRequiredClientCapabilityData, TASKS_EXTENSION, meta_keys,
};
use mcp_core::version::{Era, ProtocolVersion};
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use store::{InMemoryTaskStore, TaskRecord, TaskStatus, TaskStore, TaskStoreError};

use crate::BoxFuture;
use crate::ToolDef;
use crate::auth::AuthContext;
use crate::client_state::ClientState;
use crate::context::{Context, ContextInner, Peer};
use crate::dispatch::shape::{Cache, encode, shape};
use crate::dispatch::{Outcome, RequestEnv, parse_params};
use crate::error::ClientRequestError;
use crate::mrtr::{InputRound, RoundOutcome};
use crate::server::ServerInner;

/// How a tool takes part in tasks (`execution.taskSupport` in `tools/list`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum TaskSupport {
    /// Never runs as a task (the default).
    #[default]
    Forbidden,
    /// Runs as a task when the client declares the tasks extension, synchronously otherwise.
    Optional,
    /// Only runs as a task: a call without the extension is `-32021`.
    Required,
}

impl TaskSupport {
    /// The wire name: `forbidden`, `optional`, `required`.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskSupport::Forbidden => "forbidden",
            TaskSupport::Optional => "optional",
            TaskSupport::Required => "required",
        }
    }

    /// Reads a wire name; anything unknown is `Forbidden`.
    pub fn parse(name: Option<&str>) -> Self {
        match name {
            Some("optional") => TaskSupport::Optional,
            Some("required") => TaskSupport::Required,
            _ => TaskSupport::Forbidden,
        }
    }
}

/// A server's task settings (see [`McpServerBuilder::tasks`](crate::McpServerBuilder::tasks)).
#[derive(Clone)]
pub struct TaskConfig {
    /// How long a task stays retrievable after its creation (`ttlMs`, default one hour).
    pub ttl: Duration,
    /// How often clients should poll (`pollIntervalMs`, default 500 ms).
    pub poll_interval: Duration,
    /// Where records live (default: [`InMemoryTaskStore`] of 10 000 records).
    pub store: Arc<dyn TaskStore>,
}

impl Default for TaskConfig {
    fn default() -> Self {
        TaskConfig {
            ttl: Duration::from_secs(3600),
            poll_interval: Duration::from_millis(500),
            store: Arc::new(InMemoryTaskStore::default()),
        }
    }
}

impl std::fmt::Debug for TaskConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskConfig")
            .field("ttl", &self.ttl)
            .field("poll_interval", &self.poll_interval)
            .finish_non_exhaustive()
    }
}

/// What the framework needs to run a task's handler again after `tasks/update`.
#[derive(Clone)]
struct Spec {
    tool: Arc<ToolDef>,
    arguments: Option<JsonObject>,
    request_id: RequestId,
    meta: Option<Meta>,
    version: ProtocolVersion,
    client: Option<Arc<ClientState>>,
    auth: Option<Arc<AuthContext>>,
    request_timeout: Option<Duration>,
}

/// A task whose handler may still run (or run again).
struct Live {
    token: CancellationToken,
    spec: Spec,
    /// Answers collected so far (kept while `input_required`).
    answers: JsonObject,
    /// Taken by each `tasks/update` of this task, so that deliveries happen one at a time.
    gate: Arc<tokio::sync::Mutex<()>>,
}

/// How a handler run ended.
enum Exit {
    Done(CallToolResult),
    Panicked,
    Cancelled,
}

/// The tasks of one server: the record store plus the handlers still running.
pub(crate) struct TaskManager {
    config: TaskConfig,
    live: Mutex<HashMap<String, Live>>,
}

impl TaskManager {
    pub(crate) fn new(config: TaskConfig) -> Self {
        TaskManager {
            config,
            live: Mutex::new(HashMap::new()),
        }
    }

    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<String, Live>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A peer for background handlers: no stream is open, so messages go nowhere and requests to
/// the client are impossible (questions go through the task's `inputRequests` instead).
struct NoPeer;

impl Peer for NoPeer {
    fn notify(&self, _notification: Notification) {}

    fn request(
        &self,
        _method: &'static str,
        _params: Value,
    ) -> BoxFuture<'_, Result<Value, ClientRequestError>> {
        Box::pin(std::future::ready(Err(ClientRequestError::NotSupported)))
    }
}

/// Whether this request declared the tasks extension in its client capabilities.
fn declares_extension(env: &RequestEnv) -> bool {
    env.version.era() == Era::Modern
        && env
            .client
            .as_ref()
            .and_then(|c| c.capabilities.extensions.as_ref())
            .is_some_and(|e| e.contains_key(TASKS_EXTENSION))
}

fn principal(env: &RequestEnv) -> Option<String> {
    env.auth.as_ref().map(|a| a.principal())
}

/// `-32021` naming the tasks extension.
fn missing_extension() -> ErrorObject {
    let mut extensions = JsonObject::new();
    extensions.insert(TASKS_EXTENSION.to_owned(), Value::Object(JsonObject::new()));
    let data = MissingRequiredClientCapabilityData {
        required_capabilities: ClientCapabilities {
            extensions: Some(extensions),
            ..Default::default()
        },
    };
    ErrorObject::new(
        ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
        "Missing required client capability: the io.modelcontextprotocol/tasks extension",
    )
    .with_data(serde_json::to_value(data).unwrap_or(Value::Null))
}

/// How `tools/call` runs a tool.
pub(crate) enum Route {
    /// As usual, answering on the request.
    Sync,
    /// As a task.
    Task,
}

/// Decides how a call of `tool` runs: a task when the tool supports tasks and the request
/// declared the extension; `-32021` for a tool that requires tasks without it.
pub(crate) fn route(tool: &ToolDef, env: &RequestEnv) -> Result<Route, ErrorObject> {
    match (tool.task_support_level(), declares_extension(env)) {
        (TaskSupport::Forbidden, _) | (TaskSupport::Optional, false) => Ok(Route::Sync),
        (TaskSupport::Required, false) if env.version.era() == Era::Legacy => Ok(Route::Sync),
        (TaskSupport::Required, false) => Err(missing_extension()),
        (_, true) => Ok(Route::Task),
    }
}

/// What [`start`] did with a task-routed call.
pub(crate) enum Started {
    /// The handler finished within the tool's [`task_after`](ToolDef::task_after) window:
    /// answer its result (or its MRTR questions) on the request.
    Finished(CallToolResult),
    /// A task was created; this is the `CreateTaskResult` (or the error creating it).
    Task(Outcome),
}

fn spawn_run(spec: &Spec, token: &CancellationToken, round: Arc<InputRound>) -> JoinHandle<Exit> {
    let ctx = Context::new(ContextInner {
        request_id: spec.request_id.clone(),
        meta: spec.meta.clone(),
        version: spec.version,
        cancellation: token.clone(),
        peer: Arc::new(NoPeer),
        client: spec.client.clone(),
        http: None,
        request_timeout: spec.request_timeout,
        round: Some(round),
        auth: spec.auth.clone(),
    });
    let run =
        AssertUnwindSafe(spec.tool.call_unguarded(ctx, spec.arguments.clone())).catch_unwind();
    let token = token.clone();
    tokio::spawn(async move {
        tokio::select! {
            biased;
            () = token.cancelled() => Exit::Cancelled,
            out = run => match out {
                Ok(result) => Exit::Done(result),
                Err(_) => Exit::Panicked,
            },
        }
    })
}

fn new_task_id() -> Result<String, ErrorObject> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|_| ErrorObject::internal_error("no randomness to create a task id"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Runs a task-routed `tools/call`: spawns the handler; if it ends within the tool's
/// `task_after` window the caller answers as usual, else a task is created and its
/// `CreateTaskResult` returned. `round` is the request's MRTR round (answers of earlier rounds).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn start(
    server: &ServerInner,
    tool: Arc<ToolDef>,
    id: RequestId,
    arguments: Option<JsonObject>,
    meta: Option<Meta>,
    env: RequestEnv,
    round: Arc<InputRound>,
) -> Started {
    let owner = principal(&env);
    let spec = Spec {
        tool,
        arguments,
        request_id: id,
        meta,
        version: env.version,
        client: env.client,
        auth: env.auth,
        request_timeout: server.client_request_timeout,
    };
    let token = CancellationToken::new();
    let mut handle = spawn_run(&spec, &token, Arc::clone(&round));
    let window = spec.tool.task_after;
    if !window.is_zero() {
        // A hang-up during the window stops the handler.
        let guard = token.clone().drop_guard();
        if let Ok(joined) = tokio::time::timeout(window, &mut handle).await {
            drop(guard);
            let name = spec.tool.name().to_owned();
            return Started::Finished(match joined {
                Ok(Exit::Done(result)) => result,
                _ => CallToolResult::error_text(format!("Tool \"{name}\" failed unexpectedly")),
            });
        }
        guard.disarm();
    }
    let manager = Arc::clone(&server.tasks);
    Started::Task(create(server, &manager, spec, owner, token, handle, round).await)
}

/// `-32603` for a store that failed. The cause goes to the log only: it may name the backend.
fn store_failed(error: &TaskStoreError) -> ErrorObject {
    tracing::error!(%error, "task store failed");
    ErrorObject::internal_error("The task store is unavailable")
}

async fn create(
    server: &ServerInner,
    manager: &Arc<TaskManager>,
    spec: Spec,
    owner: Option<String>,
    token: CancellationToken,
    handle: JoinHandle<Exit>,
    round: Arc<InputRound>,
) -> Outcome {
    let task_id = match new_task_id() {
        Ok(id) => id,
        Err(e) => {
            token.cancel();
            return Err(e);
        }
    };
    let now = SystemTime::now();
    let record = TaskRecord {
        task_id: task_id.clone(),
        owner,
        status: TaskStatus::Working,
        status_message: None,
        created_at: now,
        last_updated_at: now,
        ttl: manager.config.ttl,
        poll_interval: manager.config.poll_interval,
        result: None,
        error: None,
        input_requests: None,
    };
    // A hang-up while the record is written stops the handler: nobody learns the task's id.
    let guard = token.clone().drop_guard();
    let inserted = manager.config.store.insert(record.clone()).await;
    guard.disarm();
    if let Err(e) = inserted {
        token.cancel();
        return Err(match e {
            TaskStoreError::Backend(_) => store_failed(&e),
            TaskStoreError::Full | TaskStoreError::Duplicate => {
                ErrorObject::internal_error(format!("Could not create the task: {e}"))
            }
        });
    }
    manager.live().insert(
        task_id.clone(),
        Live {
            token,
            spec,
            answers: JsonObject::new(),
            gate: Arc::new(tokio::sync::Mutex::new(())),
        },
    );
    tokio::spawn(watch(Arc::clone(manager), task_id, handle, round));
    let mut body = task_fields(&record, false);
    body.insert("resultType".to_owned(), Value::from("task"));
    body.insert("_meta".to_owned(), server_meta(server));
    encode(&body)
}

fn server_meta(server: &ServerInner) -> Value {
    let mut meta = Map::new();
    meta.insert(
        meta_keys::SERVER_INFO.to_owned(),
        server.server_info_value.clone(),
    );
    Value::Object(meta)
}

/// Waits for a handler run of task `task_id` and records how it ended.
async fn watch(
    manager: Arc<TaskManager>,
    task_id: String,
    handle: JoinHandle<Exit>,
    round: Arc<InputRound>,
) {
    let exit = handle.await.unwrap_or(Exit::Panicked);
    let name = manager
        .live()
        .get(&task_id)
        .map(|l| l.spec.tool.name().to_owned())
        .unwrap_or_default();
    let mut parked = false;
    let mut change: Box<dyn FnMut(&mut TaskRecord) + Send> = match exit {
        Exit::Cancelled => Box::new(|r: &mut TaskRecord| {
            r.status = TaskStatus::Cancelled;
        }),
        Exit::Panicked => {
            tracing::error!(tool = %name, task = %task_id, "tool panicked in a task");
            let error = ErrorObject::internal_error(format!("Tool \"{name}\" failed unexpectedly"));
            Box::new(move |r: &mut TaskRecord| {
                r.status = TaskStatus::Failed;
                r.error = Some(error.clone());
            })
        }
        Exit::Done(result) => match round.outcome() {
            RoundOutcome::Complete => {
                let value = serde_json::to_value(&result).unwrap_or(Value::Null);
                Box::new(move |r: &mut TaskRecord| {
                    r.status = TaskStatus::Completed;
                    r.result = Some(value.clone());
                })
            }
            RoundOutcome::InputRequired { requests, answers } => {
                parked = true;
                // The answers must be in place before the record asks for more.
                if let Some(l) = manager.live().get_mut(&task_id) {
                    l.answers = answers;
                }
                Box::new(move |r: &mut TaskRecord| {
                    r.status = TaskStatus::InputRequired;
                    r.input_requests = Some(requests.clone());
                })
            }
            RoundOutcome::MissingCapabilities(required) => {
                let data = MissingRequiredClientCapabilityData {
                    required_capabilities: required,
                };
                let error = ErrorObject::new(
                    ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
                    "Missing required client capability",
                )
                .with_data(serde_json::to_value(data).unwrap_or(Value::Null));
                Box::new(move |r: &mut TaskRecord| {
                    r.status = TaskStatus::Failed;
                    r.error = Some(error.clone());
                })
            }
        },
    };
    let mut finish = |r: &mut TaskRecord| {
        // A cancellation recorded meanwhile (possibly through another instance) wins.
        if r.status.is_terminal() {
            return;
        }
        change(r);
        r.last_updated_at = SystemTime::now();
    };
    let stored = record_exit(&manager, &task_id, &mut finish).await;
    // The entry stays only while the record waits for answers that this instance will resume.
    let waiting = stored.is_some_and(|r| r.status == TaskStatus::InputRequired);
    if !(parked && waiting) {
        manager.live().remove(&task_id);
    }
}

/// Stores how a run ended, retrying a failing store a few times: no request waits for this, and
/// a lost write would leave the task `working` until it expires.
async fn record_exit(
    manager: &TaskManager,
    task_id: &str,
    finish: &mut (dyn FnMut(&mut TaskRecord) + Send),
) -> Option<TaskRecord> {
    let mut delay = Duration::from_millis(100);
    for attempt in 1..=3 {
        match manager.config.store.update(task_id, finish).await {
            Ok(stored) => return stored,
            Err(error) => {
                tracing::error!(task = %task_id, attempt, %error, "could not record how a task ended");
            }
        }
        tokio::time::sleep(delay).await;
        delay *= 2;
    }
    None
}

/// The task fields of a record; `detailed` adds `result` / `error` / `inputRequests`.
fn task_fields(record: &TaskRecord, detailed: bool) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("taskId".to_owned(), Value::from(record.task_id.clone()));
    m.insert("status".to_owned(), Value::from(record.status.as_str()));
    if let Some(msg) = &record.status_message {
        m.insert("statusMessage".to_owned(), Value::from(msg.clone()));
    }
    m.insert(
        "createdAt".to_owned(),
        Value::from(store::iso8601(record.created_at)),
    );
    m.insert(
        "lastUpdatedAt".to_owned(),
        Value::from(store::iso8601(record.last_updated_at)),
    );
    m.insert("ttlMs".to_owned(), Value::from(millis(record.ttl)));
    m.insert(
        "pollIntervalMs".to_owned(),
        Value::from(millis(record.poll_interval).max(1)),
    );
    if detailed {
        match record.status {
            TaskStatus::Completed => {
                if let Some(result) = &record.result {
                    m.insert("result".to_owned(), result.clone());
                }
            }
            TaskStatus::Failed => {
                if let Some(error) = &record.error {
                    m.insert(
                        "error".to_owned(),
                        serde_json::to_value(error).unwrap_or(Value::Null),
                    );
                }
            }
            TaskStatus::InputRequired => {
                if let Some(requests) = &record.input_requests {
                    m.insert(
                        "inputRequests".to_owned(),
                        serde_json::to_value(requests).unwrap_or(Value::Null),
                    );
                }
            }
            TaskStatus::Working | TaskStatus::Cancelled => {}
        }
    }
    m
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskIdParams {
    task_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateParams {
    task_id: String,
    input_responses: JsonObject,
}

fn unknown_task(task_id: &str) -> ErrorObject {
    ErrorObject::invalid_params(format!("Unknown task: {task_id}"))
}

/// The record, if it exists and belongs to this caller.
async fn lookup(
    manager: &TaskManager,
    task_id: &str,
    env: &RequestEnv,
) -> Result<TaskRecord, ErrorObject> {
    match manager.config.store.get(task_id).await {
        Ok(Some(record)) if record.owner == principal(env) => Ok(record),
        Ok(_) => Err(unknown_task(task_id)),
        Err(e) => Err(store_failed(&e)),
    }
}

fn ack(server: &ServerInner) -> Outcome {
    shape(server, Era::Modern, EmptyResult::default(), Cache::No)
}

/// Serves `tasks/get`, `tasks/update` and `tasks/cancel` (2026-07-28 only; `-32021` when the
/// request did not declare the extension).
pub(crate) async fn handle(
    server: &ServerInner,
    method: &str,
    params: Option<Value>,
    env: &RequestEnv,
) -> Outcome {
    if !declares_extension(env) {
        return Err(missing_extension());
    }
    let manager = &server.tasks;
    match method {
        mcp_core::types::methods::TASKS_GET => {
            let p: TaskIdParams = parse_params(params)?;
            let record = lookup(manager, &p.task_id, env).await?;
            let mut body = task_fields(&record, true);
            body.insert("resultType".to_owned(), Value::from("complete"));
            body.insert("_meta".to_owned(), server_meta(server));
            encode(&body)
        }
        mcp_core::types::methods::TASKS_CANCEL => {
            let p: TaskIdParams = parse_params(params)?;
            let record = lookup(manager, &p.task_id, env).await?;
            if !record.status.is_terminal() {
                let mut cancel = |r: &mut TaskRecord| {
                    if !r.status.is_terminal() {
                        r.status = TaskStatus::Cancelled;
                        r.input_requests = None;
                        r.last_updated_at = SystemTime::now();
                    }
                };
                manager
                    .config
                    .store
                    .update(&p.task_id, &mut cancel)
                    .await
                    .map_err(|e| store_failed(&e))?;
                // The handler runs here only if this instance started it.
                if let Some(l) = manager.live().remove(&p.task_id) {
                    l.token.cancel();
                }
            }
            ack(server)
        }
        mcp_core::types::methods::TASKS_UPDATE => {
            let p: UpdateParams = parse_params(params)?;
            let record = lookup(manager, &p.task_id, env).await?;
            // Answers can only resume a handler this instance runs; anywhere else they would
            // be lost, so the client hears so and may retry (another instance, or later).
            let here = manager.live().contains_key(&p.task_id);
            if record.status == TaskStatus::InputRequired && !here {
                return Err(ErrorObject::internal_error(
                    "The task waits in another server instance: its answers cannot be taken here",
                ));
            }
            // Spawned: a hang-up half-way must not leave a task `working` with nothing running.
            let delivery = tokio::spawn(deliver(Arc::clone(manager), p.task_id, p.input_responses));
            delivery
                .await
                .map_err(|_| ErrorObject::internal_error("Could not deliver the answers"))??;
            ack(server)
        }
        other => Err(ErrorObject::method_not_found(other)),
    }
}

/// Delivers answers to an `input_required` task; answers to unknown keys are ignored. Once no
/// question is pending the handler runs again with every answer. Only the instance running the
/// task's handler can resume it; elsewhere the answers are ignored.
async fn deliver(
    manager: Arc<TaskManager>,
    task_id: String,
    responses: JsonObject,
) -> Result<(), ErrorObject> {
    let Some(gate) = manager.live().get(&task_id).map(|l| Arc::clone(&l.gate)) else {
        return Ok(());
    };
    // One delivery at a time: the answers a delivery takes must reach the entry before another
    // delivery may find nothing pending and resume the handler.
    let _turn = gate.lock().await;
    let mut accepted: Vec<&String> = Vec::new();
    let mut resume = false;
    let mut take = |r: &mut TaskRecord| {
        // The store may run this more than once; the last run is the one stored.
        accepted.clear();
        resume = false;
        if r.status != TaskStatus::InputRequired {
            return;
        }
        let pending = r.input_requests.get_or_insert_with(Default::default);
        for key in responses.keys() {
            if pending.remove(key).is_some() {
                accepted.push(key);
            }
        }
        if pending.is_empty() {
            r.input_requests = None;
            r.status = TaskStatus::Working;
            resume = true;
        }
        r.last_updated_at = SystemTime::now();
    };
    manager
        .config
        .store
        .update(&task_id, &mut take)
        .await
        .map_err(|e| store_failed(&e))?;
    let mut live = manager.live();
    let Some(entry) = live.get_mut(&task_id) else {
        return Ok(());
    };
    for key in accepted {
        if let Some(answer) = responses.get(key) {
            entry.answers.insert(key.clone(), answer.clone());
        }
    }
    if !resume {
        return Ok(());
    }
    let round = Arc::new(InputRound::new(std::mem::take(&mut entry.answers)));
    let handle = spawn_run(&entry.spec, &entry.token, Arc::clone(&round));
    drop(live);
    tokio::spawn(watch(Arc::clone(&manager), task_id, handle, round));
    Ok(())
}

/// Whether any registered tool supports tasks (then `server/discover` declares the extension).
pub(crate) fn any_task_tool(server: &ServerInner) -> bool {
    server
        .registry
        .load()
        .tools
        .values()
        .any(|t| t.task_support_level() != TaskSupport::Forbidden)
}

/// Adds the extension to `capabilities.extensions` when a tool supports tasks.
pub(crate) fn declare(
    server: &ServerInner,
    capabilities: &mut mcp_core::types::ServerCapabilities,
) {
    if any_task_tool(server) {
        capabilities
            .extensions
            .get_or_insert_with(JsonObject::new)
            .insert(TASKS_EXTENSION.to_owned(), Value::Object(JsonObject::new()));
    }
}
