//! The wire encoding of task records (2026-07-28): the task fields of `CreateTaskResult` and
//! `tasks/get`, and the `_meta` that goes with them.

use std::time::Duration;

use mcp_core::types::meta_keys;
use serde_json::{Map, Value};

use crate::server::ServerInner;
use crate::store::{TaskRecord, TaskStatus, iso8601};

pub(super) fn server_meta(server: &ServerInner) -> Value {
    let mut meta = Map::new();
    meta.insert(
        meta_keys::SERVER_INFO.to_owned(),
        server.server_info_value.clone(),
    );
    Value::Object(meta)
}

/// The task fields of a record; `detailed` adds `result` / `error` / `inputRequests`.
pub(super) fn task_fields(record: &TaskRecord, detailed: bool) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("taskId".to_owned(), Value::from(record.task_id.clone()));
    m.insert("status".to_owned(), Value::from(record.status.as_str()));
    if let Some(msg) = &record.status_message {
        m.insert("statusMessage".to_owned(), Value::from(msg.clone()));
    }
    m.insert(
        "createdAt".to_owned(),
        Value::from(iso8601(record.created_at)),
    );
    m.insert(
        "lastUpdatedAt".to_owned(),
        Value::from(iso8601(record.last_updated_at)),
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
