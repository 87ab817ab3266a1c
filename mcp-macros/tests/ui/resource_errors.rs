use mcp_server::prelude::*;

#[resource]
fn no_uri() -> String {
    String::new()
}

#[resource(uri = "file:///{path")]
fn unclosed(path: String) -> String {
    path
}

#[resource(uri = "file:///{path}")]
fn wrong_name(file: String) -> String {
    file
}

#[resource(uri = "config://app")]
fn fixed_with_argument(key: String) -> String {
    key
}

#[resource(uri = "db://{table}/{id}", complete(idd = suggest))]
fn row(table: String, id: u64) -> String {
    format!("{table}/{id}")
}

#[resource(uri = "search://items{?q}")]
fn search(q: String) -> String {
    q
}

#[resource(uri = "db://{table}/{table}")]
fn twice(table: String) -> String {
    table
}

fn suggest(typed: &str) -> Vec<String> {
    vec![typed.to_owned()]
}

fn main() {}
