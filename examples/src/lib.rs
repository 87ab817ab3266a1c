//! Runnable examples of the MCP framework. Run one with `cargo run --example NAME` from the
//! workspace root; each file under `examples/` opens with what it shows and how to run it.
