//! Shared pieces of the fuzz targets in `fuzz_targets/`: the fixture server, the HTTP request
//! format and response invariants of the JSON-RPC targets, fixed signing keys, structure-aware
//! JSON, and the runtime. See `README.md` for how to run them.

#[cfg(fuzzing)]
pub mod auth;
pub mod fixture;
pub mod json;
pub mod keys;
pub mod runtime;
#[cfg(fuzzing)]
pub mod wire;

/// Whether `MCP_FUZZ_DEBUG` is set: the targets then print what they decided (statuses,
/// verdicts), to check by hand that a seed reaches the path it was made for.
pub fn debug() -> bool {
    static DEBUG: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *DEBUG.get_or_init(|| std::env::var_os("MCP_FUZZ_DEBUG").is_some())
}
