//! Spans and metrics after the OpenTelemetry semantic conventions for MCP (status:
//! development), on [`tracing`].
//!
//! ## Spans
//!
//! Every span is a `tracing` span (target `mcp::server`, level `INFO`): a subscriber prints
//! them like any other, and with the `otel` feature and a
//! [`tracing-opentelemetry`](https://docs.rs/tracing-opentelemetry) layer they become
//! OpenTelemetry spans (the `otel.name`, `otel.kind` and `otel.status_code` fields set the
//! span's name, kind and status).
//!
//! - **One per HTTP request** (`POST /mcp`, `GET /mcp`, `DELETE /mcp`; kind `server`):
//!   `http.request.method`, `http.route`, `http.response.status_code`, `client.address`,
//!   `network.protocol.name`, `error.type` (the status code, for 4xx and 5xx) and the
//!   authorization decision: `mcp.auth.outcome` (`allowed`, `denied`), `mcp.auth.reason` (the
//!   audit trail's reason code, e.g. `token_expired`), `mcp.auth.credential` (`bearer`, `dpop`,
//!   `api_key`, `basic`, …) and `user.id` (the subject). Never a credential.
//! - **One per JSON-RPC message**, the handler running inside it (kind `server`), named
//!   `{mcp.method.name} {target}` (`tools/call add`, `prompts/get greet`; the method alone when
//!   there is no target): `mcp.method.name`, `jsonrpc.request.id`, `jsonrpc.protocol.version`,
//!   `mcp.protocol.version`, `mcp.session.id` (legacy sessions; the first 16 hex digits of the
//!   SHA-256 of the session id, which is itself a capability and is never exported),
//!   `network.transport` (`tcp`, `pipe`), `gen_ai.tool.name` and `gen_ai.operation.name =
//!   execute_tool` (`tools/call`), `gen_ai.prompt.name` (`prompts/get`), `mcp.resource.uri`
//!   (`resources/read`, `resources/subscribe`, `resources/unsubscribe`), and on failure
//!   `error.type` (the JSON-RPC error code such as `-32602`, `tool_error` for a result with
//!   `isError`, `insufficient_scope` for a step-up refusal, `cancelled`) with
//!   `rpc.response.status_code` (the JSON-RPC error code) and status `ERROR`. Methods the
//!   server does not know are named `_OTHER`, tools and prompts it does not have are left out
//!   of the name: clients cannot blow up the span names' cardinality.
//! - **Children** where time goes: `jwks.fetch`, `oauth.introspect` and `dpop.verify` (kind
//!   `client`/`internal`), the Redis stores' calls.
//!
//! With the `otel` feature the message span continues the caller's trace: the W3C
//! `traceparent`/`tracestate` in the request's `params._meta` (SEP-414), else those of the HTTP
//! request's headers (which the HTTP span continues).
//!
//! ## Cost
//!
//! Disabled spans (a subscriber filtering out `mcp::server` at `INFO`, or none) cost a level
//! check each. Enabled and exported, they are the price of `tracing-opentelemetry` and the SDK:
//! measured with `examples/load` (2026-07-28 `tools/call`, both spans exported over OTLP,
//! 2 cores shared with the load generator) about 25 µs of server CPU per request, the same
//! with `OTEL_TRACES_SAMPLER=traceidratio` (building the spans, not exporting them, is the
//! cost). Filter the targets out, or raise their level, where that matters.
//!
//! ## Metrics (feature `otel`)
//!
//! Recorded on the global meter provider as it is when the server (or the HTTP router) is
//! built: install yours first (`init_from_env` does).
//!
//! | Instrument | Kind | Unit | Attributes |
//! |---|---|---|---|
//! | `mcp.server.operation.duration` | histogram | s | `mcp.method.name`, `gen_ai.tool.name`, `gen_ai.prompt.name`, `mcp.protocol.version`, `network.transport`, `error.type`, `rpc.response.status_code` |
//! | `mcp.server.session.duration` | histogram | s | `mcp.protocol.version`, `network.transport` |
//! | `mcp.server.auth.refusals` | counter | `{refusal}` | `mcp.auth.reason`, `mcp.auth.credential`, `http.response.status_code` |
//! | `mcp.server.dpop.replays` | counter | `{proof}` | |
//! | `mcp.server.sessions.active` | up-down counter | `{session}` | `network.transport` |
//! | `mcp.server.streams.active` | up-down counter | `{stream}` | |
//! | `mcp.server.tasks` | counter | `{task}` | `mcp.task.status` (each status a task enters) |

#[cfg(feature = "otel")]
mod export;
mod message;
mod metrics;
#[cfg(feature = "otel")]
mod propagation;

#[cfg(feature = "otel")]
pub use export::{TelemetryError, TelemetryGuard, init_from_env};
pub(crate) use message::{
    Ended, MessageSpan, Target, Transport, note_tool_error, notification_span,
};
#[cfg(feature = "http")]
pub(crate) use metrics::AuthMetrics;
pub(crate) use metrics::ServerMetrics;

/// The `tracing` target of the framework's spans.
pub const TARGET: &str = "mcp::server";

#[cfg(feature = "http")]
/// Continues, on `span`, the trace of an HTTP request's W3C `traceparent`/`tracestate`
/// headers. Without the `otel` feature there is no trace to continue.
#[cfg_attr(not(feature = "otel"), allow(unused_variables))]
pub(crate) fn continue_from_headers(span: &tracing::Span, headers: &http::HeaderMap) {
    #[cfg(feature = "otel")]
    propagation::from_headers(span, headers);
}

#[cfg(feature = "http")]
/// Records an authorization decision on the current span (the HTTP request's, when the MCP
/// endpoint's own layer decides): outcome, reason code, credential kind and subject.
pub(crate) fn record_auth_decision(
    allowed: bool,
    reason: &str,
    credential: Option<&str>,
    subject: Option<&str>,
) {
    let span = tracing::Span::current();
    span.record(
        "mcp.auth.outcome",
        if allowed { "allowed" } else { "denied" },
    );
    span.record("mcp.auth.reason", reason);
    if let Some(kind) = credential {
        span.record("mcp.auth.credential", kind);
    }
    if let Some(subject) = subject {
        span.record("user.id", subject);
    }
}

#[cfg(any(feature = "oauth", feature = "redis"))]
/// The span of a call to another service (`jwks.fetch`, `oauth.introspect`, `redis SET`, …):
/// kind `client`, a child of the current span.
pub(crate) fn outgoing(name: &'static str, system: Option<&'static str>) -> tracing::Span {
    child(name, "client", system)
}

#[cfg(feature = "oauth")]
/// The span of costly work inside the server (`dpop.verify`): kind `internal`.
pub(crate) fn internal(name: &'static str) -> tracing::Span {
    child(name, "internal", None)
}

#[cfg(any(feature = "oauth", feature = "redis"))]
/// A child of the current span named `name`, of OpenTelemetry kind `kind`.
fn child(name: &'static str, kind: &'static str, system: Option<&'static str>) -> tracing::Span {
    tracing::info_span!(
        target: TARGET,
        "mcp.child",
        otel.name = name,
        otel.kind = kind,
        otel.status_code = tracing::field::Empty,
        db.system.name = system,
        error.type = tracing::field::Empty,
    )
}

#[cfg(any(feature = "oauth", feature = "redis"))]
/// Runs `work` inside `span`; an `Err` marks the span failed (`error.type = _OTHER`).
pub(crate) async fn traced<T, E>(
    span: tracing::Span,
    work: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    use tracing::Instrument;
    let out = work.instrument(span.clone()).await;
    if out.is_err() {
        failed(&span);
    }
    out
}

#[cfg(any(feature = "oauth", feature = "redis"))]
/// Marks `span` failed.
pub(crate) fn failed(span: &tracing::Span) {
    span.record("error.type", "_OTHER");
    span.record("otel.status_code", "ERROR");
}
