//! The MCP endpoint in the 2026-07-28 era: stateless requests (single messages, batches,
//! notifications, responses) with their `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` and
//! `Mcp-Param-*` headers, derived from the body or written by the input, sent through the axum
//! router in process. Every response keeps the invariants of `mcp_fuzz::wire::check`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mcp_fuzz::runtime::block_on(mcp_fuzz::wire::run_modern(data));
});
