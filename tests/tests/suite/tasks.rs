//! Black-box tests of the tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663) on the
//! 2026-07-28 wire: opt-in per request, flat `CreateTaskResult`, `tasks/get` / `tasks/update` /
//! `tasks/cancel`, MRTR inside tasks, and the errors (-32021, -32602, -32601, -32020).

use std::time::Duration;

use mcp_server::ClientRequestError;
use mcp_server::prelude::*;
use mcp_server::tasks::TaskSupport;
use mcp_server::testing::{TestServer, spawn};
use mcp_server::types::ElicitRequestParams;
use mcp_tests::{RawResponse, modern_post};
use serde_json::{Value, json};

const V: &str = "2026-07-28";
const EXT: &str = "io.modelcontextprotocol/tasks";

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Sleep {
    ms: u64,
}

fn ask(key: &'static str) -> ElicitRequestParams {
    let schema = json!({"type": "object", "properties": {"v": {"type": "string"}}});
    ElicitRequestParams::form(key, schema.as_object().cloned().unwrap_or_default())
}

async fn server() -> TestServer {
    let srv = McpServer::builder("tasks-test")
        .tool(ToolDef::from_fn("plain", |_c: Context, NoArgs {}| async {
            "plain"
        }))
        .tool(
            ToolDef::from_fn("sleep", |_c: Context, Sleep { ms }| async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                format!("slept {ms}")
            })
            .task_support(TaskSupport::Optional),
        )
        .tool(
            ToolDef::from_fn("must_task", |_c: Context, NoArgs {}| async {
                Err::<String, _>("tool error")
            })
            .task_support(TaskSupport::Required),
        )
        .tool(
            ToolDef::from_fn("crash", |_c: Context, NoArgs {}| async {
                #[allow(clippy::panic)]
                let crash = || -> String { panic!("crash on purpose") };
                crash()
            })
            .task_support(TaskSupport::Optional),
        )
        .tool(
            ToolDef::from_fn("two_questions", |ctx: Context, NoArgs {}| async move {
                let (a, b) =
                    tokio::join!(ctx.elicit_as("a", ask("a")), ctx.elicit_as("b", ask("b")));
                let (a, b) = (a?, b?);
                Ok::<_, ClientRequestError>(format!("a={:?} b={:?}", a.action, b.action))
            })
            .task_support(TaskSupport::Optional),
        )
        .tool(
            ToolDef::from_fn("input_then_task", |ctx: Context, NoArgs {}| async move {
                let who = ctx.elicit_as("who", ask("who")).await?;
                tokio::time::sleep(Duration::from_millis(400)).await;
                let name = who
                    .content
                    .and_then(|c| c.get("v").and_then(Value::as_str).map(str::to_owned))
                    .unwrap_or_default();
                Ok::<_, ClientRequestError>(format!("hi {name}"))
            })
            .task_support(TaskSupport::Optional)
            .task_after(Duration::from_millis(150)),
        )
        .build()
        .expect("server builds");
    spawn(srv).await.expect("server starts")
}

fn caps(tasks: bool) -> Value {
    if tasks {
        json!({"elicitation": {}, "extensions": {EXT: {}}})
    } else {
        json!({"elicitation": {}})
    }
}

/// A modern request; `name` goes into `Mcp-Name`.
async fn req(
    url: &str,
    method: &str,
    mut params: Value,
    name: Option<&str>,
    tasks: bool,
) -> RawResponse {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": V,
        "io.modelcontextprotocol/clientCapabilities": caps(tasks),
    });
    modern_post(url, method, params, name).await
}

async fn call(url: &str, tool: &str, args: Value, tasks: bool) -> RawResponse {
    req(
        url,
        "tools/call",
        json!({"name": tool, "arguments": args}),
        Some(tool),
        tasks,
    )
    .await
}

async fn get(url: &str, id: &str) -> Value {
    req(url, "tasks/get", json!({"taskId": id}), Some(id), true)
        .await
        .result()
}

async fn wait_for(url: &str, id: &str, status: &str) -> Value {
    for _ in 0..100 {
        let t = get(url, id).await;
        if t["status"] == status {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("task {id} never reached {status}");
}

#[tokio::test]
async fn discovery_and_tools_list_declare_task_support() {
    let srv = server().await;
    let d = req(&srv.url(), "server/discover", json!({}), None, false)
        .await
        .result();
    assert!(d["capabilities"]["extensions"][EXT].is_object(), "{d}");
    assert!(d["capabilities"].get("tasks").is_none());
    let list = req(&srv.url(), "tools/list", json!({}), None, false)
        .await
        .result();
    let support = |name: &str| {
        list["tools"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["name"] == name))
            .map(|t| t["execution"]["taskSupport"].clone())
    };
    assert_eq!(support("sleep"), Some(json!("optional")));
    assert_eq!(support("must_task"), Some(json!("required")));
    assert_eq!(support("plain"), Some(Value::Null));
}

#[tokio::test]
async fn without_the_extension_calls_are_sync_and_task_methods_are_refused() {
    let srv = server().await;
    let r = call(&srv.url(), "sleep", json!({"ms": 1}), false)
        .await
        .result();
    assert_eq!(r["resultType"], "complete");
    assert_eq!(r["content"][0]["text"], "slept 1");
    let r = call(&srv.url(), "must_task", json!({}), false).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), -32021);
    assert!(r.json()["error"]["data"]["requiredCapabilities"]["extensions"][EXT].is_object());
    for method in ["tasks/get", "tasks/cancel"] {
        let r = req(&srv.url(), method, json!({"taskId": "x"}), Some("x"), false).await;
        assert_eq!(r.error_code(), -32021, "{method}");
    }
    // A sync tool is never a task, even with the extension.
    let r = call(&srv.url(), "plain", json!({}), true).await.result();
    assert_eq!(r["resultType"], "complete");
    assert!(r.get("taskId").is_none());
}

#[tokio::test]
async fn a_task_runs_in_the_background_and_inlines_its_result() {
    let srv = server().await;
    let created = call(&srv.url(), "sleep", json!({"ms": 300}), true)
        .await
        .result();
    assert_eq!(created["resultType"], "task");
    assert_eq!(created["status"], "working");
    for field in ["createdAt", "lastUpdatedAt"] {
        assert!(
            created[field].as_str().is_some_and(|s| s.ends_with('Z')),
            "{created}"
        );
    }
    assert!(created["ttlMs"].as_u64().is_some_and(|t| t > 0));
    assert!(created["pollIntervalMs"].as_u64().is_some_and(|t| t > 0));
    for absent in [
        "task",
        "result",
        "error",
        "inputRequests",
        "requestState",
        "ttl",
    ] {
        assert!(created.get(absent).is_none(), "{absent} in {created}");
    }
    let id = created["taskId"].as_str().unwrap_or_default().to_owned();
    assert_eq!(id.len(), 32, "128-bit hex id");
    let now = get(&srv.url(), &id).await;
    assert_eq!(now["resultType"], "complete");
    assert_eq!(now["taskId"], id.as_str());
    let done = wait_for(&srv.url(), &id, "completed").await;
    assert_eq!(done["result"]["content"][0]["text"], "slept 300");
    // A tool error is `completed` with isError; a crash is `failed` with an error.
    let created = call(&srv.url(), "must_task", json!({}), true)
        .await
        .result();
    let id = created["taskId"].as_str().unwrap_or_default().to_owned();
    let done = wait_for(&srv.url(), &id, "completed").await;
    assert_eq!(done["result"]["isError"], true);
    let created = call(&srv.url(), "crash", json!({}), true).await.result();
    let id = created["taskId"].as_str().unwrap_or_default().to_owned();
    let failed = wait_for(&srv.url(), &id, "failed").await;
    assert_eq!(failed["error"]["code"], -32603);
    assert!(failed.get("result").is_none());
}

#[tokio::test]
async fn cancel_is_an_idempotent_empty_ack() {
    let srv = server().await;
    let created = call(&srv.url(), "sleep", json!({"ms": 60_000}), true)
        .await
        .result();
    let id = created["taskId"].as_str().unwrap_or_default().to_owned();
    for _ in 0..2 {
        let ack = req(
            &srv.url(),
            "tasks/cancel",
            json!({"taskId": id}),
            Some(&id),
            true,
        )
        .await
        .result();
        assert_eq!(ack["resultType"], "complete");
        assert!(ack.get("taskId").is_none() && ack.get("status").is_none());
    }
    assert_eq!(get(&srv.url(), &id).await["status"], "cancelled");
}

#[tokio::test]
async fn unknown_ids_removed_methods_and_header_mismatches() {
    let srv = server().await;
    let r = req(
        &srv.url(),
        "tasks/get",
        json!({"taskId": "nope"}),
        Some("nope"),
        true,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.error_code(), -32602);
    for method in ["tasks/result", "tasks/list"] {
        let r = req(&srv.url(), method, json!({"taskId": "nope"}), None, true).await;
        assert_eq!(r.status, 404, "{method}");
        assert_eq!(r.error_code(), -32601, "{method}");
    }
    let created = call(&srv.url(), "sleep", json!({"ms": 10}), true)
        .await
        .result();
    let id = created["taskId"].as_str().unwrap_or_default().to_owned();
    let r = req(
        &srv.url(),
        "tasks/get",
        json!({"taskId": id}),
        Some("other"),
        true,
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), -32020);
}

#[tokio::test]
async fn questions_park_the_task_until_every_answer_arrives() {
    let srv = server().await;
    let created = call(&srv.url(), "two_questions", json!({}), true)
        .await
        .result();
    let id = created["taskId"].as_str().unwrap_or_default().to_owned();
    let parked = wait_for(&srv.url(), &id, "input_required").await;
    let keys: Vec<_> = parked["inputRequests"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    assert_eq!(keys, ["a", "b"]);
    assert_eq!(parked["inputRequests"]["a"]["method"], "elicitation/create");
    let update = |answers: Value| {
        let url = srv.url();
        let id = id.clone();
        async move {
            let p = json!({"taskId": id, "inputResponses": answers});
            req(&url, "tasks/update", p, Some(&id), true).await.result()
        }
    };
    let ack = update(json!({"a": {"action": "accept", "content": {"v": "1"}}, "zzz": {}})).await;
    assert_eq!(ack["resultType"], "complete");
    let still = get(&srv.url(), &id).await;
    assert_eq!(still["status"], "input_required");
    assert!(still["inputRequests"].get("a").is_none());
    assert!(still["inputRequests"].get("b").is_some());
    update(json!({"b": {"action": "decline"}})).await;
    let done = wait_for(&srv.url(), &id, "completed").await;
    assert_eq!(done["result"]["content"][0]["text"], "a=Accept b=Decline");
}

#[tokio::test]
async fn input_first_then_a_task() {
    let srv = server().await;
    let round1 = call(&srv.url(), "input_then_task", json!({}), true)
        .await
        .result();
    assert_eq!(round1["resultType"], "input_required", "{round1}");
    assert!(round1.get("taskId").is_none());
    let p = json!({
        "name": "input_then_task",
        "arguments": {},
        "inputResponses": {"who": {"action": "accept", "content": {"v": "Ada"}}},
        "requestState": round1["requestState"],
    });
    let round2 = req(&srv.url(), "tools/call", p, Some("input_then_task"), true)
        .await
        .result();
    assert_eq!(round2["resultType"], "task", "{round2}");
    assert!(round2.get("requestState").is_none());
    let id = round2["taskId"].as_str().unwrap_or_default().to_owned();
    let done = wait_for(&srv.url(), &id, "completed").await;
    assert_eq!(done["result"]["content"][0]["text"], "hi Ada");
}
