use mcp_server::prelude::*;

#[tool]
struct NotAFunction;

trait Describe {
    fn describe(&self) -> String;
}

struct Thing;

#[tools]
impl Describe for Thing {
    fn describe(&self) -> String {
        String::new()
    }
}

struct Empty;

#[tools]
impl Empty {
    fn helper(&self) {}
}

fn main() {}
