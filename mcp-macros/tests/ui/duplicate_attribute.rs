use mcp_server::prelude::*;

#[tool(name = "a", description = "A", name = "b")]
fn twice() {}

#[tool(annotations(read_only, read_only = false))]
fn twice_annotated() {}

fn main() {}
