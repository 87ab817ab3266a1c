//! W3C trace context in, from a request's `params._meta` (SEP-414) or its HTTP headers.

use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// `params._meta` as a carrier: its string members.
struct MetaCarrier<'a>(&'a serde_json::Map<String, serde_json::Value>);

impl Extractor for MetaCarrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(serde_json::Value::as_str)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// HTTP headers as a carrier.
#[cfg(feature = "http")]
struct HeaderCarrier<'a>(&'a http::HeaderMap);

#[cfg(feature = "http")]
impl Extractor for HeaderCarrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// Makes `span` continue the trace `carrier` names, when it names a valid one (a malformed
/// `traceparent` is ignored: the span keeps its local parent).
fn continue_trace(span: &tracing::Span, carrier: &dyn Extractor) {
    if carrier.get("traceparent").is_none() {
        return;
    }
    let context = TraceContextPropagator::new().extract(carrier);
    if context.span().span_context().is_valid() {
        // Fails only when no OpenTelemetry layer listens (nothing to continue then).
        let _ = span.set_parent(context);
    }
}

/// From `params._meta`.
pub(super) fn from_meta(span: &tracing::Span, meta: &serde_json::Value) {
    if let Some(meta) = meta.as_object() {
        continue_trace(span, &MetaCarrier(meta));
    }
}

/// From the HTTP headers.
#[cfg(feature = "http")]
pub(super) fn from_headers(span: &tracing::Span, headers: &http::HeaderMap) {
    continue_trace(span, &HeaderCarrier(headers));
}
