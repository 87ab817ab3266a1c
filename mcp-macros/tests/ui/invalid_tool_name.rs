use mcp_server::prelude::*;

#[tool(name = "delete file!")]
fn delete_file() {}

#[tool(name = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")]
fn long_name() {}

#[tool]
fn grüße() {}

fn main() {}
