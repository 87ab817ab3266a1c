//! Procedural macros for `mcp-server`. Their content arrives with the macros issue; the crate
//! exists so that the workspace has its final shape.
