use mcp_server::prelude::*;

#[tool]
fn borrowed(path: &str) -> String {
    path.to_owned()
}

#[tool]
fn opaque(value: impl std::fmt::Display) -> String {
    value.to_string()
}

#[tool]
fn destructured((a, b): (i32, i32)) -> i32 {
    a + b
}

#[tool]
fn mutable_context(_ctx: &mut Context) {}

#[tool]
fn two_contexts(_a: &Context, _b: &Context) {}

#[tool]
fn generic<T: serde::de::DeserializeOwned>(_value: T) {}

fn main() {}
