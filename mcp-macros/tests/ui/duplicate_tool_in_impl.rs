use mcp_server::prelude::*;

struct Runs;

#[tools]
impl Runs {
    #[tool]
    fn start(&self) {}

    #[tool(name = "start")]
    fn start_again(&self) {}
}

fn main() {}
