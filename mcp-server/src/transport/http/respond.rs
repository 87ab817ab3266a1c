//! Building HTTP responses: JSON bodies, JSON-RPC errors with the right status, SSE streams.

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderName, HeaderValue, StatusCode};
use mcp_core::jsonrpc::{ErrorCode, ErrorObject, ErrorResponse, RequestId};

use super::guard::Refusal;
use crate::telemetry::ServerMetrics;

/// `Mcp-Session-Id`.
pub(crate) static MCP_SESSION_ID: HeaderName = HeaderName::from_static("mcp-session-id");
/// `MCP-Protocol-Version`.
pub(crate) static MCP_PROTOCOL_VERSION: HeaderName =
    HeaderName::from_static("mcp-protocol-version");
/// `Last-Event-ID`.
pub(crate) static LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

fn with_status(status: StatusCode, body: Body) -> Response {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    r
}

/// A JSON body.
pub(crate) fn json(status: StatusCode, body: impl Into<Bytes>) -> Response {
    let mut r = with_status(status, Body::from(body.into()));
    r.headers_mut().insert(CONTENT_TYPE, APPLICATION_JSON);
    r
}

/// A JSON-RPC error response with an HTTP status.
pub(crate) fn rpc_error(status: StatusCode, id: Option<RequestId>, error: ErrorObject) -> Response {
    let body = serde_json::to_vec(&ErrorResponse::new(id, error)).unwrap_or_default();
    json(status, body)
}

/// A transport-level error with no request id (`-32000` unless given).
pub(crate) fn transport_error(status: StatusCode, message: &str) -> Response {
    rpc_error(
        status,
        None,
        ErrorObject::new(ErrorCode::CONNECTION_ERROR, message),
    )
}

/// The response for a request refused by a guard.
pub(crate) fn refusal(r: Refusal) -> Response {
    match r {
        Refusal::Forbidden(m) => transport_error(StatusCode::FORBIDDEN, m),
        Refusal::NotAcceptable(m) => transport_error(StatusCode::NOT_ACCEPTABLE, m),
        Refusal::UnsupportedMediaType => transport_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type: Content-Type must be application/json",
        ),
    }
}

/// 202 with an empty body (T-13).
/// 503 with `Retry-After: 5`: something the request needs (the session store) does not answer.
pub(crate) fn unavailable(message: &str) -> Response {
    let mut r = transport_error(StatusCode::SERVICE_UNAVAILABLE, message);
    r.headers_mut().insert(
        http::header::RETRY_AFTER,
        http::HeaderValue::from_static("5"),
    );
    r
}

pub(crate) fn accepted() -> Response {
    with_status(StatusCode::ACCEPTED, Body::empty())
}

/// 405 naming the methods that are allowed.
pub(crate) fn method_not_allowed(allow: &'static str) -> Response {
    let mut r = transport_error(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    r.headers_mut()
        .insert(http::header::ALLOW, HeaderValue::from_static(allow));
    r
}

/// An SSE response around a stream of frames (T-15, T-23), counted in
/// `mcp.server.streams.active` while it is open.
pub(crate) fn sse<S>(metrics: &ServerMetrics, frames: S) -> Response
where
    S: futures_util::Stream<Item = Result<Bytes, std::convert::Infallible>> + Send + 'static,
{
    let gauge = metrics.stream_guard();
    let frames = futures_util::StreamExt::map(frames, move |frame| {
        let _open = &gauge;
        frame
    });
    sse_body(Body::from_stream(frames))
}

/// An SSE response with a body known in full.
pub(crate) fn sse_body(body: Body) -> Response {
    let mut r = with_status(StatusCode::OK, body);
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    );
    r
}

/// Adds `Mcp-Session-Id` to a response.
pub(crate) fn with_session(mut r: Response, session_id: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(session_id) {
        r.headers_mut().insert(MCP_SESSION_ID.clone(), v);
    }
    r
}

/// A header's value as text, if present and readable.
pub(crate) fn header<'a>(headers: &'a http::HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}
