//! [`HostGuardLayer`]: the DNS-rebinding protection of the MCP endpoint (T-02..T-04) as a tower
//! layer, for the application's own routes too: a `Host` that is not allowed, or an `Origin`
//! that is present and not allowed, is refused with 403 before the inner service runs.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::response::Response;
use futures_util::future::{Either, Ready, ready};
use http::Request;
use tower::{Layer, Service};

use super::config::HttpConfig;
use super::guard::check_host_and_origin;
use super::respond;

/// Refuses requests whose `Host` or `Origin` the [`HttpConfig`] does not allow (loopback by
/// default, plus [`HttpConfig::allow_host`] and [`HttpConfig::allow_origin`]).
///
/// ```
/// use mcp_server::HttpConfig;
/// use mcp_server::transport::http::HostGuardLayer;
///
/// let guard = HostGuardLayer::new(&HttpConfig::default().allow_host("mcp.example.com"));
/// let app: axum::Router = axum::Router::new()
///     .route("/api/health", axum::routing::get(|| async { "ok" }))
///     .layer(guard);
/// # let _ = app;
/// ```
#[derive(Clone, Debug)]
pub struct HostGuardLayer {
    config: Arc<HttpConfig>,
}

impl HostGuardLayer {
    /// A guard allowing what `config` allows.
    pub fn new(config: &HttpConfig) -> Self {
        HostGuardLayer {
            config: Arc::new(config.clone()),
        }
    }
}

impl<S> Layer<S> for HostGuardLayer {
    type Service = HostGuard<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HostGuard {
            inner,
            config: Arc::clone(&self.config),
        }
    }
}

/// The service [`HostGuardLayer`] wraps around a route.
#[derive(Clone, Debug)]
pub struct HostGuard<S> {
    inner: S,
    config: Arc<HttpConfig>,
}

impl<S, B> Service<Request<B>> for HostGuard<S>
where
    S: Service<Request<B>, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        match check_host_and_origin(&self.config, request.headers()) {
            Ok(()) => Either::Right(self.inner.call(request)),
            Err(refusal) => Either::Left(ready(Ok(respond::refusal(refusal)))),
        }
    }
}
