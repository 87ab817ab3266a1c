use mcp_server::prelude::*;

struct Point {
    x: i32,
    y: i32,
}

#[tool]
fn plot(point: Point) -> String {
    format!("{},{}", point.x, point.y)
}

fn main() {
    let _ = McpServer::builder("s").tool(plot);
}
