//! `crate = ".."`: the macros work through a re-export of `mcp_server`.

mod framework {
    pub use mcp_server;
}

use framework::mcp_server::{Context, McpServer};

/// Echo.
#[framework::mcp_server::tool(crate = "framework::mcp_server")]
async fn echo(text: String, _ctx: &Context) -> String {
    text
}

struct State;

#[framework::mcp_server::tools(crate = "framework::mcp_server")]
impl State {
    /// Ping.
    #[tool]
    fn ping(&self) -> &'static str {
        "pong"
    }
}

/// Hello.
#[framework::mcp_server::prompt(crate = "framework::mcp_server")]
fn hello(name: Option<String>) -> String {
    format!("Hello {}", name.unwrap_or_default())
}

/// A file.
#[framework::mcp_server::resource(uri = "file:///{name}", crate = "framework::mcp_server")]
fn file(name: String) -> String {
    name
}

fn main() {
    let server = McpServer::builder("s")
        .tool(echo)
        .tools(State)
        .prompt(hello)
        .resource(file)
        .build();
    assert!(server.is_ok());
}
