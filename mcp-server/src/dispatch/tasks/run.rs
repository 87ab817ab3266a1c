//! Creating a task from a `tools/call`, running its handler (again after `tasks/update`), and
//! recording how each run ended.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::FutureExt;
use mcp_core::jsonrpc::{ErrorCode, ErrorObject, Notification, RequestId};
use mcp_core::types::{CallToolResult, JsonObject, Meta, MissingRequiredClientCapabilityData};
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::wire::{server_meta, task_fields};
use super::{principal, spec};
use crate::BoxFuture;
use crate::ToolDef;
use crate::context::{Context, ContextInner, Peer};
use crate::dispatch::shape::encode;
use crate::dispatch::{Outcome, RequestEnv};
use crate::error::ClientRequestError;
use crate::mrtr::{InputRound, RoundOutcome};
use crate::server::ServerInner;
use crate::store::{TaskRecord, TaskStatus, TaskStoreError};
use crate::tasks::{Live, Slot, Spec, TaskManager, store_failed};

/// How a handler run ended.
pub(super) enum Exit {
    Done(CallToolResult),
    Panicked,
    Cancelled,
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

/// What [`start`] did with a task-routed call.
pub(crate) enum Started {
    /// The handler finished within the tool's [`task_after`](ToolDef::task_after) window:
    /// answer its result (or its MRTR questions) on the request.
    Finished(CallToolResult),
    /// A task was created; this is the `CreateTaskResult` (or the error creating it).
    Task(Outcome),
}

pub(super) fn spawn_run(
    spec: &Spec,
    token: &CancellationToken,
    round: Arc<InputRound>,
) -> JoinHandle<Exit> {
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
        delegation: spec.delegation.clone(),
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
    crate::crypto::random_hex::<16>()
        .map_err(|_| ErrorObject::internal_error("no randomness to create a task id"))
}

/// Runs a task-routed `tools/call`: spawns the handler; if it ends within the tool's
/// `task_after` window the caller answers as usual, else a task is created and its
/// `CreateTaskResult` returned; over a bound on live tasks, the error, and nothing runs.
/// `round` is the request's MRTR round (answers of earlier rounds).
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
    let manager = Arc::clone(&server.tasks);
    // The place is taken before the handler runs: over a bound, nothing runs at all.
    let slot = match manager.admit(owner.as_deref()) {
        Ok(slot) => slot,
        Err(e) => return Started::Task(Err(e.into())),
    };
    let spec = spec(
        tool,
        arguments,
        id,
        meta,
        &env,
        server.client_request_timeout,
    );
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
    let run = Run {
        spec,
        token,
        handle,
        round,
        slot,
    };
    Started::Task(create(server, &manager, owner, run).await)
}

/// A handler run on its way to becoming a task.
struct Run {
    spec: Spec,
    token: CancellationToken,
    handle: JoinHandle<Exit>,
    round: Arc<InputRound>,
    slot: Slot,
}

async fn create(
    server: &ServerInner,
    manager: &Arc<TaskManager>,
    owner: Option<String>,
    run: Run,
) -> Outcome {
    let Run {
        spec,
        token,
        handle,
        round,
        slot,
    } = run;
    let task_id = match new_task_id() {
        Ok(id) => id,
        Err(e) => {
            token.cancel();
            return Err(e.into());
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
        call: Some(spec.call()),
        answers: JsonObject::new(),
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
        }
        .into());
    }
    manager.metrics.task_status(TaskStatus::Working.as_str());
    manager.live().insert(
        task_id.clone(),
        Live {
            token,
            spec,
            gate: Arc::new(tokio::sync::Mutex::new(())),
            expires_at: record.created_at + record.ttl,
            _slot: slot,
        },
    );
    tokio::spawn(watch(Arc::clone(manager), task_id, handle, round));
    let mut body = task_fields(&record, false);
    body.insert("resultType".to_owned(), Value::from("task"));
    body.insert("_meta".to_owned(), server_meta(server));
    encode(&body)
}

/// Waits for a handler run of task `task_id` and records how it ended.
pub(super) async fn watch(
    manager: Arc<TaskManager>,
    task_id: String,
    handle: JoinHandle<Exit>,
    round: Arc<InputRound>,
) {
    let exit = run_to_end(&manager, &task_id, handle).await;
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
                // The answers so far go with the questions, so that whichever instance takes
                // the last answer can run the handler again with all of them.
                Box::new(move |r: &mut TaskRecord| {
                    r.status = TaskStatus::InputRequired;
                    r.input_requests = Some(requests.clone());
                    r.answers = answers.clone();
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
    let mut applied = false;
    let mut finish = |r: &mut TaskRecord| {
        // A cancellation recorded meanwhile (possibly through another instance) wins.
        if r.status.is_terminal() {
            return;
        }
        change(r);
        r.last_updated_at = SystemTime::now();
        applied = true;
    };
    let stored = record_exit(&manager, &task_id, &mut finish).await;
    if let (true, Some(r)) = (applied, &stored) {
        manager.metrics.task_status(r.status.as_str());
    }
    // The entry stays only while the record waits for answers that this instance will resume.
    let waiting = stored.is_some_and(|r| r.status == TaskStatus::InputRequired);
    if !(parked && waiting) {
        manager.live().remove(&task_id);
    }
}

/// Waits for a handler run, looking at the record every poll interval meanwhile: a
/// cancellation that reached the record through another instance (sharing the store) stops the
/// handler here too.
async fn run_to_end(manager: &TaskManager, task_id: &str, mut handle: JoinHandle<Exit>) -> Exit {
    let every = manager.config.poll_interval.max(Duration::from_millis(50));
    loop {
        tokio::select! {
            joined = &mut handle => return joined.unwrap_or(Exit::Panicked),
            () = tokio::time::sleep(every) => {
                let cancelled = matches!(
                    manager.config.store.get(task_id).await,
                    Ok(Some(r)) if r.status == TaskStatus::Cancelled
                );
                if cancelled {
                    if let Some(live) = manager.live().get(task_id) {
                        live.token.cancel();
                    }
                }
            }
        }
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
