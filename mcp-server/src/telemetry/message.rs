//! The span of one JSON-RPC message and the operation metric recorded when it ends.

use std::cell::Cell;
use std::time::Instant;

use mcp_core::jsonrpc::RequestId;
use mcp_core::types::methods;
use sha2::{Digest, Sha256};
use tracing::Span;
use tracing::field::Empty;

use super::TARGET;
use super::metrics::{OperationLabels, ServerMetrics};

/// How the message arrived: `network.transport`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    /// Streamable HTTP.
    Http,
    /// stdio.
    Stdio,
}

impl Transport {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Transport::Http => "tcp",
            Transport::Stdio => "pipe",
        }
    }
}

/// What a request is about, when that is low-cardinality enough to name its span: a tool or
/// prompt the server has, and the resource URI (an attribute only, never in the name).
#[derive(Debug, Default)]
pub(crate) struct Target {
    /// `gen_ai.tool.name` of `tools/call`.
    pub tool: Option<String>,
    /// `gen_ai.prompt.name` of `prompts/get`.
    pub prompt: Option<String>,
    /// `mcp.resource.uri`.
    pub resource_uri: Option<String>,
}

tokio::task_local! {
    /// Set while a request runs when its result is a tool result with `isError`.
    static TOOL_ERROR: Cell<bool>;
}

/// Marks the request running on this task as ended by a tool error (`error.type = tool_error`).
/// Outside a request's scope it does nothing.
pub(crate) fn note_tool_error() {
    let _ = TOOL_ERROR.try_with(|flag| flag.set(true));
}

/// `mcp.session.id`: the first 16 hex digits of the session id's SHA-256. The id itself lets
/// whoever holds it use the session, so it never leaves the process.
fn session_hash(session_id: &str) -> String {
    let digest = Sha256::digest(session_id.as_bytes());
    hex::encode(&digest[..8])
}

/// The method as a span and metric name: one of the protocol's, else `_OTHER`.
fn known_method(method: &str) -> &'static str {
    const KNOWN: [&str; 35] = [
        methods::INITIALIZE,
        methods::PING,
        methods::TOOLS_LIST,
        methods::TOOLS_CALL,
        methods::RESOURCES_LIST,
        methods::RESOURCES_TEMPLATES_LIST,
        methods::RESOURCES_READ,
        methods::RESOURCES_SUBSCRIBE,
        methods::RESOURCES_UNSUBSCRIBE,
        methods::PROMPTS_LIST,
        methods::PROMPTS_GET,
        methods::COMPLETION_COMPLETE,
        methods::LOGGING_SET_LEVEL,
        methods::SAMPLING_CREATE_MESSAGE,
        methods::ELICITATION_CREATE,
        methods::ROOTS_LIST,
        methods::NOTIFICATION_INITIALIZED,
        methods::NOTIFICATION_CANCELLED,
        methods::NOTIFICATION_PROGRESS,
        methods::NOTIFICATION_MESSAGE,
        methods::NOTIFICATION_RESOURCES_UPDATED,
        methods::NOTIFICATION_RESOURCES_LIST_CHANGED,
        methods::NOTIFICATION_TOOLS_LIST_CHANGED,
        methods::NOTIFICATION_PROMPTS_LIST_CHANGED,
        methods::NOTIFICATION_ROOTS_LIST_CHANGED,
        methods::NOTIFICATION_ELICITATION_COMPLETE,
        methods::SERVER_DISCOVER,
        methods::SUBSCRIPTIONS_LISTEN,
        methods::NOTIFICATION_SUBSCRIPTIONS_ACKNOWLEDGED,
        methods::TASKS_GET,
        methods::TASKS_RESULT,
        methods::TASKS_CANCEL,
        methods::TASKS_LIST,
        methods::TASKS_UPDATE,
        methods::NOTIFICATION_TASKS_STATUS,
    ];
    KNOWN
        .iter()
        .find(|known| **known == method)
        .copied()
        .unwrap_or("_OTHER")
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// A result (a tool result with `isError` is told apart by [`note_tool_error`]).
    Result,
    /// A JSON-RPC error with this code.
    Error(i32),
    /// A step-up refusal (HTTP 403 `insufficient_scope`, or its tool error elsewhere).
    StepUp,
}

/// The span of one request (or notification), and the clock of its operation metric. Dropped
/// before [`finish`](Self::finish) (the client went away, the handler was cancelled), it ends as
/// `cancelled`.
pub(crate) struct MessageSpan {
    span: Span,
    started: Instant,
    labels: OperationLabels,
    metrics: ServerMetrics,
    finished: bool,
}

impl MessageSpan {
    /// Opens the span of a request. `meta` is the request's `params._meta`, whose
    /// `traceparent` (feature `otel`) the span continues.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn request(
        metrics: &ServerMetrics,
        method: &str,
        id: Option<&RequestId>,
        target: Target,
        version: Option<&'static str>,
        session_id: Option<&str>,
        transport: Transport,
        #[cfg_attr(not(feature = "otel"), allow(unused_variables))] meta: Option<
            &serde_json::Value,
        >,
    ) -> Self {
        let method = known_method(method);
        let span = tracing::info_span!(
            target: TARGET,
            "mcp.message",
            otel.name = match (&target.tool, &target.prompt) {
                (Some(name), _) | (None, Some(name)) => format!("{method} {name}"),
                (None, None) => method.to_owned(),
            },
            otel.kind = "server",
            otel.status_code = Empty,
            mcp.method.name = method,
            jsonrpc.request.id = id.map(tracing::field::display),
            jsonrpc.protocol.version = "2.0",
            mcp.protocol.version = version,
            mcp.session.id = session_id.map(session_hash),
            network.transport = transport.as_str(),
            gen_ai.operation.name = target.tool.as_ref().map(|_| "execute_tool"),
            gen_ai.tool.name = target.tool.as_deref(),
            gen_ai.prompt.name = target.prompt.as_deref(),
            mcp.resource.uri = target.resource_uri.as_deref(),
            error.type = Empty,
            rpc.response.status_code = Empty,
        );
        #[cfg(feature = "otel")]
        if let (Some(meta), false) = (meta, span.is_disabled()) {
            super::propagation::from_meta(&span, meta);
        }
        MessageSpan {
            span,
            started: Instant::now(),
            labels: OperationLabels {
                method,
                tool: target.tool,
                prompt: target.prompt,
                version,
                transport,
                error: None,
                status_code: None,
            },
            metrics: metrics.clone(),
            finished: false,
        }
    }

    /// The span, to run the handler in.
    pub(crate) fn span(&self) -> &Span {
        &self.span
    }

    /// Records the negotiated version (`initialize` learns it while it runs).
    pub(crate) fn set_version(&mut self, version: &'static str) {
        self.span.record("mcp.protocol.version", version);
        self.labels.version = Some(version);
    }

    /// Runs `work` inside the span, telling [`note_tool_error`] where to report.
    pub(crate) async fn run<T>(&self, work: impl Future<Output = T>) -> (T, bool) {
        use tracing::Instrument;
        TOOL_ERROR
            .scope(
                Cell::new(false),
                async {
                    let out = work.await;
                    (out, TOOL_ERROR.with(Cell::get))
                }
                .instrument(self.span.clone()),
            )
            .await
    }

    /// Ends the request: `error.type`, status and the operation metric.
    pub(crate) fn finish(mut self, ended: Ended, tool_error: bool) {
        let error = match ended {
            Ended::Result if tool_error => Some(ErrorType::Static("tool_error")),
            Ended::Result => None,
            Ended::Error(code) => Some(ErrorType::Code(code)),
            Ended::StepUp => Some(ErrorType::Static("insufficient_scope")),
        };
        self.end(error);
    }

    fn end(&mut self, error: Option<ErrorType>) {
        self.finished = true;
        if let Some(error) = error {
            let value = error.to_string();
            self.span.record("error.type", value.as_str());
            self.span.record("otel.status_code", "ERROR");
            if let ErrorType::Code(code) = error {
                self.span.record("rpc.response.status_code", value.as_str());
                self.labels.status_code = Some(code);
            }
            self.labels.error = Some(value);
        }
        self.metrics
            .operation(self.started.elapsed().as_secs_f64(), &self.labels);
    }
}

impl Drop for MessageSpan {
    fn drop(&mut self) {
        if !self.finished {
            self.end(Some(ErrorType::Static("cancelled")));
        }
    }
}

/// An `error.type` value.
enum ErrorType {
    Static(&'static str),
    Code(i32),
}

impl std::fmt::Display for ErrorType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ErrorType::Static(s) => f.write_str(s),
            ErrorType::Code(code) => write!(f, "{code}"),
        }
    }
}

/// The span of a notification from the client (it gets no answer: nothing to finish).
pub(crate) fn notification_span(method: &str, transport: Option<Transport>) -> Span {
    let method = known_method(method);
    tracing::info_span!(
        target: TARGET,
        "mcp.message",
        otel.name = method,
        otel.kind = "server",
        mcp.method.name = method,
        jsonrpc.protocol.version = "2.0",
        network.transport = transport.map(Transport::as_str),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_are_named_other() {
        assert_eq!(known_method("tools/call"), "tools/call");
        assert_eq!(known_method("tools/call2"), "_OTHER");
        assert_eq!(known_method(""), "_OTHER");
    }

    #[test]
    fn session_ids_are_hashed() {
        let hashed = session_hash("secret-session");
        assert_eq!(hashed.len(), 16);
        assert!(!hashed.contains("secret"));
        assert_eq!(hashed, session_hash("secret-session"));
        assert_ne!(hashed, session_hash("other-session"));
    }
}
