use mcp_server::prelude::*;

fn suggest(typed: &str) -> Vec<String> {
    vec![typed.to_owned()]
}

#[prompt(complete(langauge = suggest))]
fn review(language: String) -> String {
    language
}

struct Opaque;

#[prompt]
fn opaque_argument(_value: Opaque) -> String {
    String::new()
}

#[prompt]
fn counts() -> u32 {
    3
}

fn main() {
    let _ = McpServer::builder("s").prompt(opaque_argument).prompt(counts);
}
