use mcp_server::prelude::*;

struct Report;

#[tool]
async fn report() -> Report {
    Report
}

fn main() {
    let _ = McpServer::builder("s").tool(report);
}
