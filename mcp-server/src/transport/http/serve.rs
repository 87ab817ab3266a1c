//! The connection loop of [`HttpServer::serve_listener`](super::HttpServer::serve_listener):
//! HTTP/1.1 on hyper with the connection bounds of [`HttpConfig`] (how many connections, how
//! large and how slow a request head may be, how long a connection may idle) and a bounded
//! graceful shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::config::HttpConfig;

/// How long to pause accepting after an accept error (e.g. out of file descriptors), so the
/// loop does not spin while the condition lasts.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// What graceful shutdown does besides closing connections.
pub(super) struct Drain<C, A> {
    /// Closes the streams that only wait for events (they would hold their connections open
    /// until the grace period ends); runs once accepting has stopped.
    pub close_idle_streams: C,
    /// Runs once every connection has closed, or the grace period has ended.
    pub after: A,
}

/// Serves `router` on `listener` until `shutdown` completes; then stops accepting, closes idle
/// streams, lets in-flight requests finish within [`HttpConfig::shutdown_grace`], closes the
/// connections left and runs `drain.after`.
pub(super) async fn serve(
    listener: TcpListener,
    router: Router,
    config: &HttpConfig,
    shutdown: impl Future<Output = ()>,
    drain: Drain<impl Future<Output = ()>, impl FnOnce()>,
) {
    // One permit per connection: the bound on connections, and (all permits back) the sign that
    // every connection has closed.
    let max = config.max_connections.min(Semaphore::MAX_PERMITS);
    let permits = Arc::new(Semaphore::new(max));
    let graceful = CancellationToken::new();
    let force = CancellationToken::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .max_buf_size(config.max_header_bytes)
        .max_headers(config.max_headers);
    let builder = Arc::new(builder);

    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: http::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request)
        });
        let builder = Arc::clone(&builder);
        let graceful = graceful.clone();
        let force = force.clone();
        tokio::spawn(async move {
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => Some(result),
                () = graceful.cancelled() => None,
            };
            let result = match result {
                Some(r) => r,
                None => {
                    // Finish the request in flight, if any, then close.
                    connection.as_mut().graceful_shutdown();
                    tokio::select! {
                        result = connection.as_mut() => result,
                        () = force.cancelled() => Ok(()),
                    }
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    drain.close_idle_streams.await;
    graceful.cancel();
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    let grace = config.shutdown_grace;
    if tokio::time::timeout(grace, permits.acquire_many(all))
        .await
        .is_err()
    {
        let open = max - permits.available_permits();
        tracing::warn!(
            open,
            grace_secs = grace.as_secs_f64(),
            "connections still open after the shutdown grace period; closing them"
        );
        force.cancel();
        // Each connection task ends at its next poll; wait for them briefly.
        let _ = tokio::time::timeout(Duration::from_secs(1), permits.acquire_many(all)).await;
    }
    (drain.after)();
}
