use std::rc::Rc;

use mcp_server::prelude::*;

async fn tick() {}

#[tool]
async fn holds_rc() -> String {
    let shared = Rc::new(1);
    tick().await;
    shared.to_string()
}

fn main() {}
