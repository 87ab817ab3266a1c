//! The MCP endpoint in the legacy era (2025-11-25 and before): each input runs in a session
//! (`initialize`, `notifications/initialized`, then its requests with `Mcp-Session-Id`, then
//! `DELETE`), with single messages, batches, notifications, responses, GET streams and session
//! changes. Every response keeps the invariants of `mcp_fuzz::wire::check`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mcp_fuzz::runtime::block_on(mcp_fuzz::wire::run_legacy(data));
});
