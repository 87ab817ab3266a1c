//! The client's span of each request (OpenTelemetry MCP conventions, kind `client`), the W3C
//! trace context it sends in `params._meta` (feature `otel`), and
//! `mcp.client.operation.duration`.
//!
//! The span is a `tracing` span (target `mcp::client`, level `INFO`) named
//! `{mcp.method.name} {target}` (`tools/call add`), with `mcp.method.name`,
//! `mcp.protocol.version`, `network.transport` (`tcp`, `pipe`), `gen_ai.tool.name` and
//! `gen_ai.operation.name` (`tools/call`), `gen_ai.prompt.name` (`prompts/get`),
//! `mcp.resource.uri` (`resources/read`), and on failure `error.type` (the JSON-RPC error code,
//! `tool_error`, `timeout`, the HTTP status, `transport`, `_OTHER`).
//!
//! With the `otel` feature and a `tracing-opentelemetry` layer installed, every request carries
//! the span's context as `traceparent` (and `tracestate`) in `params._meta` (SEP-414): the
//! server's span of the request continues the same trace.

use std::time::Instant;

#[cfg(feature = "otel")]
use mcp_core::types::JsonObject;
use mcp_core::types::methods;
use serde_json::Value;
use tracing::Span;
use tracing::field::Empty;

use crate::error::Error;

/// The span of a request about to be sent.
pub(crate) fn request_span(
    method: &str,
    params: Option<&Value>,
    version: &'static str,
    transport: &'static str,
) -> Span {
    let name = |key: &str| params.and_then(|p| p.get(key)).and_then(Value::as_str);
    let tool = (method == methods::TOOLS_CALL)
        .then(|| name("name"))
        .flatten();
    let prompt = (method == methods::PROMPTS_GET)
        .then(|| name("name"))
        .flatten();
    let uri = matches!(
        method,
        methods::RESOURCES_READ | methods::RESOURCES_SUBSCRIBE | methods::RESOURCES_UNSUBSCRIBE
    )
    .then(|| name("uri"))
    .flatten();
    tracing::info_span!(
        target: "mcp::client",
        "mcp.request",
        otel.name = match tool.or(prompt) {
            Some(target) => format!("{method} {target}"),
            None => method.to_owned(),
        },
        otel.kind = "client",
        otel.status_code = Empty,
        mcp.method.name = method,
        jsonrpc.protocol.version = "2.0",
        mcp.protocol.version = version,
        network.transport = transport,
        gen_ai.operation.name = tool.map(|_| "execute_tool"),
        gen_ai.tool.name = tool,
        gen_ai.prompt.name = prompt,
        mcp.resource.uri = uri,
        error.type = Empty,
        rpc.response.status_code = Empty,
    )
}

/// Puts the current span's trace context into `_meta` (`traceparent`, `tracestate`), unless
/// the caller set them. With no OpenTelemetry layer installed, nothing.
#[cfg(feature = "otel")]
pub(crate) fn inject(meta: &mut JsonObject) {
    use opentelemetry::propagation::{Injector, TextMapPropagator};
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    struct MetaCarrier<'a>(&'a mut JsonObject);
    impl Injector for MetaCarrier<'_> {
        fn set(&mut self, key: &str, value: String) {
            self.0.entry(key).or_insert(Value::String(value));
        }
    }

    let context = Span::current().context();
    if context.span().span_context().is_valid() {
        opentelemetry_sdk::propagation::TraceContextPropagator::new()
            .inject_context(&context, &mut MetaCarrier(meta));
    }
}

/// `error.type` of a failed request.
fn error_type(error: &Error) -> String {
    match error {
        Error::Protocol(e) => e.code.0.to_string(),
        Error::ToolError { .. } => "tool_error".to_owned(),
        Error::Timeout(_) => "timeout".to_owned(),
        #[cfg(feature = "http")]
        Error::Unauthorized { .. } => "401".to_owned(),
        #[cfg(feature = "http")]
        Error::Forbidden { .. } => "403".to_owned(),
        #[cfg(feature = "http")]
        Error::HttpStatus { status, .. } => status.to_string(),
        Error::Transport(_) | Error::Closed => "transport".to_owned(),
        _ => "_OTHER".to_owned(),
    }
}

/// Records how the request ended on `span` and in `mcp.client.operation.duration`.
pub(crate) fn finish(
    span: &Span,
    started: Instant,
    method: &str,
    version: &'static str,
    transport: &'static str,
    outcome: Result<&Value, &Error>,
) {
    let error = match outcome {
        Ok(result) if result.get("isError").and_then(Value::as_bool) == Some(true) => {
            Some("tool_error".to_owned())
        }
        Ok(_) => None,
        Err(e) => Some(error_type(e)),
    };
    if let Some(error) = &error {
        span.record("error.type", error.as_str());
        span.record("otel.status_code", "ERROR");
        if let Err(Error::Protocol(e)) = outcome {
            span.record("rpc.response.status_code", e.code.0.to_string().as_str());
        }
    }
    #[cfg(feature = "otel")]
    metrics::operation(
        started.elapsed().as_secs_f64(),
        method,
        version,
        transport,
        error,
    );
    #[cfg(not(feature = "otel"))]
    let _ = (started, method, version, transport);
}

#[cfg(feature = "otel")]
mod metrics {
    use std::sync::OnceLock;

    use opentelemetry::KeyValue;
    use opentelemetry::metrics::Histogram;

    /// Created on first use, from the global meter provider of that time.
    static OPERATION: OnceLock<Histogram<f64>> = OnceLock::new();

    pub(super) fn operation(
        seconds: f64,
        method: &str,
        version: &'static str,
        transport: &'static str,
        error: Option<String>,
    ) {
        let histogram = OPERATION.get_or_init(|| {
            let scope = opentelemetry::InstrumentationScope::builder("mcp-client")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build();
            opentelemetry::global::meter_with_scope(scope)
                .f64_histogram("mcp.client.operation.duration")
                .with_unit("s")
                .with_description(
                    "The duration of the MCP request or notification as observed on the sender \
                     from the time it was sent until the response or ack is received",
                )
                .with_boundaries(vec![
                    0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
                ])
                .build()
        });
        let mut attributes = vec![
            KeyValue::new("mcp.method.name", method.to_owned()),
            KeyValue::new("mcp.protocol.version", version),
            KeyValue::new("network.transport", transport),
        ];
        if let Some(e) = error {
            attributes.push(KeyValue::new("error.type", e));
        }
        histogram.record(seconds, &attributes);
    }
}
