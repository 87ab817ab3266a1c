use mcp_server::prelude::*;

/// A typo in an attribute name.
#[tool(nmae = "greet")]
fn greet(name: String) -> String {
    name
}

/// An attribute that does not exist.
#[tool(timeout = 5)]
fn slow() {}

/// A typo in an annotation.
#[tool(annotations(readonly))]
fn look() {}

/// A typo in a parameter attribute.
#[tool]
fn page(#[arg(defualt = 1)] page: u32) -> u32 {
    page
}

fn main() {}
