use mcp_server::prelude::*;

struct Counter(u64);

#[tools]
impl Counter {
    #[tool]
    fn bump(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }

    #[tool]
    fn consume(self) -> u64 {
        self.0
    }
}

struct Plain;

impl Plain {
    #[tool]
    fn not_in_tools(&self) {}
}

fn main() {}
