//! The smallest server to load-test or probe by hand: tools `add` {a, b} and `echo` {text}, no
//! authorization, stateless legacy Streamable HTTP (JSON answers, no sessions).
//!
//! Run: `cargo run --release --example bench_server` (binds `MCP_BIND`, default
//! `127.0.0.1:8000`; the endpoint is `/mcp`). Set `MCP_STATEFUL=1` for sessions.
//!
//! ```sh
//! curl -s http://127.0.0.1:8000/mcp -H 'Content-Type: application/json' \
//!   -H 'Accept: application/json, text/event-stream' \
//!   -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3}}}'
//! ```

use mcp_server::prelude::*;

/// Add two integers.
#[tool]
fn add(
    /// The first addend.
    a: i64,
    /// The second addend.
    b: i64,
) -> Result<String, &'static str> {
    a.checked_add(b)
        .map(|s| s.to_string())
        .ok_or("integer overflow")
}

/// Echo the text back.
#[tool]
fn echo(
    /// The text to send back.
    text: String,
) -> String {
    text
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // With an OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`), spans and metrics are exported too:
    // `examples/load` measures that against logs alone.
    let _telemetry = if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some() {
        Some(mcp_server::telemetry::init_from_env("bench-server")?)
    } else {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "warn".into()),
            )
            .init();
        None
    };
    let bind = std::env::var("MCP_BIND").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    let stateful = std::env::var("MCP_STATEFUL").is_ok_and(|v| v == "1");
    let http = if stateful {
        HttpConfig::default()
    } else {
        HttpConfig::default().stateless()
    };
    let server = McpServer::builder("bench-server")
        .tool(add)
        .tool(echo)
        .build()?
        .http(http);
    eprintln!("bench_server: http://{bind}/mcp");
    server.serve(bind).await?;
    Ok(())
}
