use std::cell::Cell;

use mcp_server::prelude::*;

struct Counter {
    count: Cell<u64>,
}

#[tools]
impl Counter {
    #[tool]
    fn bump(&self) -> u64 {
        self.count.set(self.count.get() + 1);
        self.count.get()
    }
}

fn main() {}
