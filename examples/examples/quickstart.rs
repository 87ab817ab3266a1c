//! The smallest useful MCP server: two tools written as plain functions with `#[tool]`, served
//! over Streamable HTTP. The doc comments become the descriptions the client's model reads, the
//! parameters become the tools' JSON Schema.
//!
//! Run: `cargo run --example quickstart` (binds `MCP_BIND`, default `127.0.0.1:8000`; the
//! endpoint is `/mcp`; Ctrl-C stops it), then try it, e.g. with the MCP Inspector
//! (`npx @modelcontextprotocol/inspector`) or with curl in stateless mode:
//!
//! ```sh
//! curl -s http://127.0.0.1:8000/mcp -H 'Content-Type: application/json' \
//!   -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2025-11-25' \
//!   -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3}}}'
//! ```

use mcp_server::prelude::*;

/// Add two integers.
#[tool(annotations(read_only, idempotent, open_world = false))]
fn add(
    /// The first addend.
    a: i64,
    /// The second addend.
    b: i64,
) -> Result<i64, String> {
    a.checked_add(b)
        .ok_or_else(|| "the sum overflows".to_owned())
}

/// Say hello to someone, politely or not.
#[tool]
async fn greet(
    /// Who to greet.
    name: String,
    /// Add a "please"? (default: no)
    polite: Option<bool>,
) -> String {
    if polite.unwrap_or(false) {
        format!("Hello, {name}, pleased to meet you.")
    } else {
        format!("Hi {name}!")
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bind = std::env::var("MCP_BIND").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    let server = McpServer::builder("quickstart")
        .tool(add)
        .tool(greet)
        .build()?
        .http(HttpConfig::default().stateless());
    eprintln!("quickstart: http://{bind}/mcp");
    server.serve(bind).await?;
    Ok(())
}
