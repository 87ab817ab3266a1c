use mcp_server::prelude::*;

#[tool(required_scopes = ["files read"])]
fn spaced() {}

#[tool(required_scopes = [""])]
fn empty() {}

fn main() {}
