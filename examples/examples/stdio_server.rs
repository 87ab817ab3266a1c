//! An MCP server on stdio: newline-delimited JSON-RPC on stdin and stdout, logs on stderr.
//! It is the child process of the stdio client tests and a template for tools that a desktop
//! client starts itself.
//!
//! Tools: `add` {a, b}, `echo` {text}, `progress` {steps} (progress notifications),
//! `slow` {steps} (20 ms a step, stops when cancelled), `ask` (elicits a name from the user).
//!
//! Run: `cargo run --example stdio_server`, then type a request, e.g.
//!
//! ```text
//! {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"me","version":"0"}}}
//! {"jsonrpc":"2.0","method":"notifications/initialized"}
//! {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3}}}
//! ```
//!
//! or drive it with the client: `McpClient::spawn(Command::new("target/debug/examples/stdio_server"))`.

use std::time::Duration;

use mcp_server::prelude::*;
use mcp_server::types::{ElicitRequestParams, JsonObject};
use serde_json::json;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct AddArgs {
    /// The first addend.
    a: i64,
    /// The second addend.
    b: i64,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct EchoArgs {
    /// What to send back.
    text: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Steps {
    /// How many steps to take.
    steps: u32,
}

fn server() -> Result<McpServer, mcp_server::BuildError> {
    McpServer::builder("stdio-example")
        .tool(
            ToolDef::from_fn("add", |_: Context, AddArgs { a, b }| async move { a + b })
                .description("Add two integers"),
        )
        .tool(
            ToolDef::from_fn("echo", |_: Context, EchoArgs { text }| async move { text })
                .description("Send the text back"),
        )
        .tool(
            ToolDef::from_fn("progress", |ctx: Context, Steps { steps }| async move {
                for i in 1..=steps {
                    ctx.progress(f64::from(i), Some(f64::from(steps)), Some("working"));
                }
                "done"
            })
            .description("Report progress, then finish"),
        )
        .tool(
            ToolDef::from_fn("slow", |ctx: Context, Steps { steps }| async move {
                for i in 0..steps {
                    if ctx.is_cancelled() {
                        return format!("cancelled after {i}");
                    }
                    ctx.progress(f64::from(i + 1), None, None);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                "finished".to_owned()
            })
            .description("Take 20 ms a step; stops when cancelled"),
        )
        .tool(
            ToolDef::from_fn("ask", |ctx: Context, NoArgs {}| async move {
                let schema = json!({
                    "type": "object",
                    "properties": {"name": {"type": "string"}},
                    "required": ["name"]
                });
                let schema: JsonObject = schema.as_object().cloned().unwrap_or_default();
                match ctx
                    .elicit(ElicitRequestParams::form("Your name?", schema))
                    .await
                {
                    Ok(answer) => {
                        let name = answer
                            .content
                            .and_then(|c| c.get("name").and_then(|n| n.as_str()).map(str::to_owned))
                            .unwrap_or_default();
                        Ok(format!("hello {name}"))
                    }
                    Err(e) => Err(e.to_string()),
                }
            })
            .description("Ask the user for their name"),
        )
        .build()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    server()?.serve_stdio().await?;
    Ok(())
}
