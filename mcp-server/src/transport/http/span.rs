//! The span of each HTTP request to the MCP endpoint (see [`crate::telemetry`]): outermost,
//! so that the Host guard's and the authorization layer's decisions are recorded on it.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{Method, Request};
use tracing::Instrument;
use tracing::field::Empty;

use crate::telemetry::{self, TARGET};

/// The values of `http.request.method`.
const METHODS: [&str; 8] = [
    "GET", "POST", "DELETE", "HEAD", "OPTIONS", "PUT", "PATCH", "_OTHER",
];

/// The endpoint's route and the span name of each method on it (`POST /mcp`), formatted once
/// rather than per request.
pub(crate) struct Route {
    path: Box<str>,
    names: [Box<str>; METHODS.len()],
}

impl Route {
    pub(crate) fn new(path: &str) -> Self {
        Route {
            path: path.into(),
            names: METHODS.map(|m| format!("{m} {path}").into()),
        }
    }

    fn span_name(&self, method: &str) -> &str {
        METHODS
            .iter()
            .position(|m| *m == method)
            .and_then(|i| self.names.get(i))
            .map_or("", |n| n)
    }
}

/// `http.request.method`: the standard methods by name, any other as `_OTHER`.
fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        _ => "_OTHER",
    }
}

/// Runs the request inside its span and records the response status.
pub(crate) async fn trace_request(
    State(route): State<Arc<Route>>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let method = method_name(request.method());
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let span = tracing::info_span!(
        target: TARGET,
        "http.request",
        otel.name = route.span_name(method),
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = method,
        http.route = &*route.path,
        http.response.status_code = Empty,
        network.protocol.name = "http",
        client.address = peer.map(tracing::field::display),
        error.type = Empty,
        mcp.auth.outcome = Empty,
        mcp.auth.reason = Empty,
        mcp.auth.credential = Empty,
        user.id = Empty,
    );
    if !span.is_disabled() {
        telemetry::continue_from_headers(&span, request.headers());
    }
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status();
    // As i64: the OpenTelemetry layer would record a u64 as text.
    span.record("http.response.status_code", i64::from(status.as_u16()));
    if status.is_client_error() || status.is_server_error() {
        span.record("error.type", status.as_str());
    }
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
    response
}
