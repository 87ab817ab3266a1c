//! The methods of the extension, `tasks/get`, `tasks/update` and `tasks/cancel`, and the
//! delivery of `tasks/update` answers to a waiting task.

use std::sync::Arc;
use std::time::SystemTime;

use mcp_core::jsonrpc::ErrorObject;
use mcp_core::types::{EmptyResult, JsonObject};
use mcp_core::version::Era;
use serde::Deserialize;
use serde_json::Value;

use super::extension::{declares_extension, missing_extension};
use super::manager::{TaskManager, principal, store_failed};
use super::run::{spawn_run, watch};
use super::wire::{server_meta, task_fields};
use super::{TaskRecord, TaskStatus};
use crate::dispatch::shape::{Cache, encode, shape};
use crate::dispatch::{Outcome, RequestEnv, parse_params};
use crate::mrtr::InputRound;
use crate::server::ServerInner;

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
