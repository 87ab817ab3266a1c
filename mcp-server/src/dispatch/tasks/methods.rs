//! The methods of the extension, `tasks/get`, `tasks/update` and `tasks/cancel`, and the
//! delivery of `tasks/update` answers to a waiting task.

use std::sync::Arc;
use std::time::SystemTime;

use mcp_core::jsonrpc::ErrorObject;
use mcp_core::types::{EmptyResult, JsonObject};
use mcp_core::version::Era;
use serde::Deserialize;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::extension::{declares_extension, missing_extension};
use super::run::{spawn_run, watch};
use super::wire::{server_meta, task_fields};
use super::{principal, spec};
use crate::auth::{AuthContext, Delegation};
use crate::dispatch::shape::{Cache, encode, shape};
use crate::dispatch::{Outcome, RequestEnv, parse_params};
use crate::mrtr::InputRound;
use crate::server::ServerInner;
use crate::store::{TaskRecord, TaskStatus};
use crate::tasks::{Live, Spec, TaskManager, store_failed};

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

/// `-32603` for answers to a task that only another instance can run (its record keeps no
/// call, or the tool is not registered here).
fn elsewhere_error() -> ErrorObject {
    ErrorObject::internal_error(
        "The task waits in another server instance: its answers cannot be taken here",
    )
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
        return Err(missing_extension().into());
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
                let mut cancelled = false;
                let mut cancel = |r: &mut TaskRecord| {
                    if !r.status.is_terminal() {
                        r.status = TaskStatus::Cancelled;
                        r.input_requests = None;
                        r.last_updated_at = SystemTime::now();
                        cancelled = true;
                    }
                };
                manager
                    .config
                    .store
                    .update(&p.task_id, &mut cancel)
                    .await
                    .map_err(|e| store_failed(&e))?;
                if cancelled {
                    manager.metrics.task_status(TaskStatus::Cancelled.as_str());
                }
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
            // Answers may run the handler again: the caller must still be allowed to call the
            // tool now (a key revoked, a role lowered since the task started).
            let tool = match manager.live().get(&p.task_id) {
                Some(live) => Some(Arc::clone(&live.spec.tool)),
                None => record
                    .call
                    .as_ref()
                    .and_then(|call| server.registry.load().tools.get(&call.tool).cloned()),
            };
            if let Some(tool) = &tool {
                if let Err(denial) = server
                    .auth
                    .authorize_tool(tool.requirements(), env.auth.as_deref())
                {
                    server
                        .auth
                        .audit
                        .tool_call(tool.name(), None, env.auth.as_deref())
                        .denied(denial.reason());
                    return Err(ErrorObject::invalid_request(denial.tool_error_text()).into());
                }
            }
            // What it takes to run the handler here if another instance started it (or this
            // one, before a restart).
            let here = manager.live().contains_key(&p.task_id);
            let elsewhere = match (&record.call, here) {
                (Some(call), false) => {
                    let tool = server.registry.load().tools.get(&call.tool).cloned();
                    tool.map(|tool| {
                        let (arguments, id, meta) = (
                            call.arguments.clone(),
                            call.request_id.clone(),
                            call.meta.clone(),
                        );
                        spec(
                            tool,
                            arguments,
                            id,
                            meta,
                            env,
                            server.client_request_timeout,
                        )
                    })
                }
                _ => None,
            };
            // Spawned: a hang-up half-way must not leave a task `working` with nothing running.
            let delivery = tokio::spawn(deliver(
                Arc::clone(manager),
                p.task_id,
                p.input_responses,
                elsewhere,
                (env.auth.clone(), env.delegation.clone()),
            ));
            delivery
                .await
                .map_err(|_| ErrorObject::internal_error("Could not deliver the answers"))??;
            ack(server)
        }
        other => Err(ErrorObject::method_not_found(other).into()),
    }
}

/// Delivers answers to an `input_required` task; answers to unknown keys are ignored. The
/// answers are kept in the record; once no question is pending the handler runs again with every
/// answer: here if this instance runs the task, else from the task's stored call (`spec`), for
/// the caller of `tasks/update`.
async fn deliver(
    manager: Arc<TaskManager>,
    task_id: String,
    responses: JsonObject,
    spec: Option<Spec>,
    (caller, delegation): (Option<Arc<AuthContext>>, Option<Delegation>),
) -> Result<(), ErrorObject> {
    // One delivery at a time in this instance; between instances the store's update is the
    // referee: only the update that takes the last pending question resumes the handler.
    let gate = manager.live().get(&task_id).map(|l| Arc::clone(&l.gate));
    let _turn = match &gate {
        Some(gate) => Some(gate.lock().await),
        None => None,
    };
    let runnable = gate.is_some() || spec.is_some();
    let mut resume: Option<JsonObject> = None;
    let mut stranded = false;
    let mut expires_at = SystemTime::now();
    let mut take = |r: &mut TaskRecord| {
        // The store may run this more than once; the last run is the one stored.
        resume = None;
        stranded = false;
        expires_at = r.created_at + r.ttl;
        if r.status != TaskStatus::InputRequired {
            return;
        }
        if !runnable {
            // Taking the answers would lose them: nothing here can run the handler.
            stranded = true;
            return;
        }
        let pending = r.input_requests.get_or_insert_with(Default::default);
        for (key, answer) in &responses {
            if pending.remove(key).is_some() {
                r.answers.insert(key.clone(), answer.clone());
            }
        }
        if pending.is_empty() {
            r.input_requests = None;
            r.status = TaskStatus::Working;
            resume = Some(std::mem::take(&mut r.answers));
        }
        r.last_updated_at = SystemTime::now();
    };
    manager
        .config
        .store
        .update(&task_id, &mut take)
        .await
        .map_err(|e| store_failed(&e))?;
    if stranded {
        return Err(elsewhere_error());
    }
    let Some(answers) = resume else {
        return Ok(());
    };
    manager.metrics.task_status(TaskStatus::Working.as_str());
    let round = Arc::new(InputRound::new(answers));
    let mut live = manager.live();
    let handle = match (live.get_mut(&task_id), spec) {
        // The handler runs again on behalf of the caller who answered, as they are now.
        (Some(entry), _) => {
            entry.spec.auth = caller;
            entry.spec.delegation = delegation;
            spawn_run(&entry.spec, &entry.token, Arc::clone(&round))
        }
        (None, Some(spec)) => {
            let token = CancellationToken::new();
            let handle = spawn_run(&spec, &token, Arc::clone(&round));
            let gate = Arc::new(tokio::sync::Mutex::new(()));
            // Admitted by the instance that created it: counted here, never refused.
            let owner = spec.auth.as_ref().map(|a| a.principal());
            let owner = owner.as_ref().map(crate::auth::Principal::as_str);
            let entry = Live {
                token,
                spec,
                gate,
                expires_at,
                _slot: manager.readmit(owner),
            };
            live.insert(task_id.clone(), entry);
            handle
        }
        // Checked before the delivery; the record says `working` and nothing runs it.
        (None, None) => {
            drop(live);
            tracing::error!(task = %task_id, "a resumed task has nothing to run it");
            return Err(ErrorObject::internal_error("Could not resume the task"));
        }
    };
    drop(live);
    tokio::spawn(watch(Arc::clone(&manager), task_id, handle, round));
    Ok(())
}
