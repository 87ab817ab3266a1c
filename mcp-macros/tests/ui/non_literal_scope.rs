use mcp_server::prelude::*;

const DELETE: &str = "files:delete";
const SCOPES: [&str; 1] = ["files:read"];

#[tool(required_scopes = ["files:read", DELETE])]
fn delete_file(path: String) -> String {
    path
}

#[tool(required_scopes = SCOPES)]
fn read_file(path: String) -> String {
    path
}

#[tool(min_role = ROLE)]
fn admin() {}

const ROLE: &str = "admin";

fn main() {}
