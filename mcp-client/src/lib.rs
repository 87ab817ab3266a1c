//! The companion MCP client. Its content arrives with the client issue; the crate exists so that
//! the workspace has its final shape.
