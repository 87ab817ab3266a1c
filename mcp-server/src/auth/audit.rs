//! Audit events for authorization decisions and tool calls, through `tracing` (target
//! `mcp::audit`). Never a token, never an argument value.

use super::context::AuthContext;

/// Logs an authorization decision.
pub(crate) fn decision(outcome: &str, reason: &str, ctx: Option<&AuthContext>) {
    tracing::info!(
        target: "mcp::audit",
        event = "authorization",
        outcome,
        reason,
        subject = ctx.and_then(|c| c.subject.as_deref()).unwrap_or(""),
        client_id = ctx.and_then(|c| c.client_id.as_deref()).unwrap_or(""),
        credential_id = ctx.and_then(|c| c.credential_id.as_deref()).unwrap_or(""),
        credential = ctx.map(|c| format!("{:?}", c.credential)).unwrap_or_default(),
    );
}

/// Logs a tool call refused for missing scopes.
pub(crate) fn tool_denied(tool: &str, missing: &[&str], ctx: Option<&AuthContext>) {
    tracing::info!(
        target: "mcp::audit",
        event = "tool.denied",
        tool,
        missing = ?missing,
        subject = ctx.and_then(|c| c.subject.as_deref()).unwrap_or(""),
        client_id = ctx.and_then(|c| c.client_id.as_deref()).unwrap_or(""),
    );
}
