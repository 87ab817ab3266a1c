//! The probes an orchestrator polls ([`HttpConfig::liveness_path`],
//! [`HttpConfig::readiness_path`]): liveness answers 200 while the process serves; readiness
//! runs the checks of what the server depends on (token validator, stores, the application's
//! own checks) concurrently, each under a timeout, and keeps the combined answer for
//! [`READINESS_CACHE`], so that an unauthenticated flood of probes is at most one round of
//! checks per second. Both sit outside the authorization layer and the Host/Origin guard, and
//! their bodies name checks and short reasons only: no URL, no token, no configuration.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use futures_util::FutureExt;
use futures_util::future::join_all;
use http::header::{CACHE_CONTROL, RETRY_AFTER};
use http::{HeaderValue, Method, Request, StatusCode};
use serde_json::{Map, Value, json};

use super::HttpState;
use super::config::HttpConfig;
use super::respond;
use crate::server::ServerInner;
use crate::store::{NotReady, ReadinessFn, readiness_of};
use crate::transport::http::EventStore;

/// How long a readiness answer is reused.
pub(crate) const READINESS_CACHE: Duration = Duration::from_secs(1);

/// The `Retry-After` of a 503 readiness answer, in seconds.
const RETRY_AFTER_SECS: HeaderValue = HeaderValue::from_static("5");

/// The methods the probes answer.
const ALLOW: &str = "GET, HEAD";

/// One round's outcome: whether ready, and the body that says so.
#[derive(Clone)]
struct Verdict {
    ready: bool,
    body: Bytes,
}

/// The readiness state of one router: its checks, the last answer, and whether shutdown has
/// started.
pub(crate) struct Health {
    checks: Vec<(String, ReadinessFn)>,
    timeout: Duration,
    draining: AtomicBool,
    /// The last answer and when it was computed. Held across a round: probes arriving during a
    /// round wait for its answer instead of starting their own.
    last: tokio::sync::Mutex<Option<(Instant, Verdict)>>,
}

/// The names of the checks the server itself contributes, in order (the application's may not
/// reuse them).
pub(crate) fn builtin_checks(server: &ServerInner) -> Vec<(&'static str, ReadinessFn)> {
    let mut checks = server.auth.readiness_checks();
    checks.push((
        "task_store",
        readiness_of(
            &server.tasks.config.store,
            <dyn crate::store::TaskStore>::readiness,
        ),
    ));
    checks
}

impl Health {
    /// The checks of `server` under `config`: the built-in ones, the event store's, then the
    /// application's.
    pub(crate) fn new(server: &ServerInner, config: &HttpConfig) -> Self {
        let mut checks: Vec<(String, ReadinessFn)> = builtin_checks(server)
            .into_iter()
            .map(|(name, check)| (name.to_owned(), check))
            .collect();
        checks.push((
            "event_store".to_owned(),
            readiness_of(&config.event_store, <dyn EventStore>::readiness),
        ));
        checks.extend(config.readiness_checks.iter().cloned());
        Health {
            checks,
            timeout: config.readiness_timeout,
            draining: AtomicBool::new(false),
            last: tokio::sync::Mutex::new(None),
        }
    }

    /// From now on, readiness answers 503 `draining`.
    pub(crate) fn start_draining(&self) {
        if !self.draining.swap(true, Ordering::SeqCst) {
            tracing::info!("shutting down: the readiness probe answers 503 draining");
        }
    }

    fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// The current answer: the last one if it is recent enough, else a new round.
    async fn verdict(&self) -> Verdict {
        let mut last = self.last.lock().await;
        if let Some((at, verdict)) = last.as_ref() {
            if at.elapsed() < READINESS_CACHE {
                return verdict.clone();
            }
        }
        let verdict = self.round().await;
        *last = Some((Instant::now(), verdict.clone()));
        verdict
    }

    /// Runs every check concurrently, each within the timeout; a check that panics is
    /// unavailable.
    async fn round(&self) -> Verdict {
        let timeout = self.timeout;
        let outcomes = join_all(self.checks.iter().map(|(name, check)| async move {
            let run = AssertUnwindSafe(async { tokio::time::timeout(timeout, check()).await });
            let outcome = match run.catch_unwind().await {
                Ok(Ok(Ok(()))) => Ok(()),
                Ok(Ok(Err(not_ready))) => Err(not_ready),
                Ok(Err(_)) => Err(NotReady::new(format!(
                    "no answer within {} ms",
                    timeout.as_millis()
                ))),
                Err(_) => Err(NotReady::new("the check panicked")),
            };
            (name.as_str(), outcome)
        }))
        .await;
        let mut checks = Map::new();
        let mut failing = Vec::new();
        for (name, outcome) in outcomes {
            let status = match outcome {
                Ok(()) => "ok".to_owned(),
                Err(e) => {
                    failing.push(name);
                    format!("unavailable: {}", e.reason())
                }
            };
            checks.insert(name.to_owned(), Value::String(status));
        }
        let ready = failing.is_empty();
        if !ready {
            tracing::warn!(checks = ?failing, "not ready");
        }
        let status = if ready { "ready" } else { "unavailable" };
        let body = json!({"status": status, "checks": checks}).to_string();
        Verdict {
            ready,
            body: Bytes::from(body),
        }
    }
}

/// A probe's answer: JSON, never cached, no body for `HEAD`; 503s carry `Retry-After`.
fn probe_response(method: &Method, status: StatusCode, body: Bytes) -> Response {
    let body = if method == Method::HEAD {
        Bytes::new()
    } else {
        body
    };
    let mut r = respond::json(status, body);
    let headers = r.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        headers.insert(RETRY_AFTER, RETRY_AFTER_SECS);
    }
    r
}

/// Anything but `GET` and `HEAD`: 405 with `Allow`.
fn not_allowed() -> Response {
    let mut r = respond::method_not_allowed(ALLOW);
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The liveness probe: 200 `{"status":"ok"}` while the process serves.
pub(crate) async fn liveness(request: Request<Body>) -> Response {
    let method = request.method();
    if method != Method::GET && method != Method::HEAD {
        return not_allowed();
    }
    probe_response(
        method,
        StatusCode::OK,
        Bytes::from_static(br#"{"status":"ok"}"#),
    )
}

/// The readiness probe: 200 when every check passes, 503 naming the failing ones, 503
/// `draining` once shutdown has started.
pub(crate) async fn readiness(
    State(state): State<Arc<HttpState>>,
    request: Request<Body>,
) -> Response {
    let method = request.method();
    if method != Method::GET && method != Method::HEAD {
        return not_allowed();
    }
    if state.health.is_draining() {
        return probe_response(
            method,
            StatusCode::SERVICE_UNAVAILABLE,
            Bytes::from_static(br#"{"status":"draining"}"#),
        );
    }
    let verdict = state.health.verdict().await;
    // Shutdown may have started during the round.
    if state.health.is_draining() {
        return probe_response(
            method,
            StatusCode::SERVICE_UNAVAILABLE,
            Bytes::from_static(br#"{"status":"draining"}"#),
        );
    }
    let status = if verdict.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    probe_response(method, status, verdict.body)
}
