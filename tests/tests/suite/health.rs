//! Black-box tests of the probes an orchestrator polls (`HttpConfig::liveness_path`,
//! `HttpConfig::readiness_path`): real servers on 127.0.0.1:0, raw HTTP.
//!
//! - Liveness: 200 `{"status":"ok"}` while the process serves, for `GET` and `HEAD`; 405 with
//!   `Allow` otherwise; `Cache-Control: no-store`.
//! - Readiness: 200 `ready` with a check per dependency; 503 with `Retry-After` naming the
//!   failing check (a JWKS that cannot be fetched, an application check, a Redis that is gone)
//!   and 200 again once it is back; 503 `draining` from the moment shutdown starts while
//!   requests in flight finish and liveness stays 200.
//! - Both answer without a credential and whatever the `Host` (probes come with the pod's IP),
//!   and their bodies hold no secret (no URL, no password).
//! - Paths are configurable, can be turned off (404), and invalid ones are refused.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use mcp_server::auth::{AuthorizationConfig, JwtValidator, JwtValidatorConfig};
use mcp_server::store::NotReady;
use mcp_server::testing::{TestIssuer, TestListener, TestServer, spawn};
use mcp_server::transport::http::ServeError;
use mcp_server::{Context, HttpConfig, HttpConfigError, McpServer, NoArgs, ToolDef};
use mcp_tests::{RawResponse, Session, fixture, send};
use reqwest::Method;
use serde_json::{Value, json};

use crate::faults_auth::{FakeAs, Mode};

/// A hang detector's bound: generous, it only tells a bounded wait from a hang.
const HANG: Duration = Duration::from_secs(15);

async fn probe(method: Method, url: &str, headers: &[(&str, &str)]) -> RawResponse {
    send(method, url, headers, None).await
}

async fn get(url: &str) -> RawResponse {
    probe(Method::GET, url, &[]).await
}

fn assert_no_store(r: &RawResponse, what: &str) {
    assert_eq!(r.header("cache-control"), Some("no-store"), "{what}");
}

/// Polls `url` until it answers `status` (at most [`HANG`]), and returns that answer.
async fn until_status(url: &str, status: u16) -> RawResponse {
    let deadline = tokio::time::Instant::now() + HANG;
    loop {
        let r = get(url).await;
        if r.status == status {
            return r;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{url} never answered {status}: {} {}",
            r.status,
            r.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn liveness_answers_ok_to_get_and_head_only() {
    let srv = spawn(fixture()).await.unwrap();
    let url = format!("{}/healthz", srv.base_url());
    let r = get(&url).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!({"status": "ok"}));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_no_store(&r, "GET /healthz");
    let head = probe(Method::HEAD, &url, &[]).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_no_store(&head, "HEAD /healthz");
    for method in [Method::POST, Method::DELETE, Method::PUT] {
        let r = probe(method.clone(), &url, &[]).await;
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("GET, HEAD"), "{method}");
    }
    let r = probe(Method::POST, &format!("{}/readyz", srv.base_url()), &[]).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
}

/// A default server depends on its task and event stores (in memory: always ready).
#[tokio::test]
async fn readiness_lists_the_checks_of_a_default_server() {
    let srv = spawn(fixture()).await.unwrap();
    let url = format!("{}/readyz", srv.base_url());
    let r = get(&url).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json(),
        json!({"status": "ready", "checks": {"task_store": "ok", "event_store": "ok"}})
    );
    assert_no_store(&r, "GET /readyz");
    let head = probe(Method::HEAD, &url, &[]).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
}

/// A protected server whose endpoint only accepts `localhost`: the probes answer without a
/// credential and with the pod's IP as `Host`, while the MCP endpoint refuses both.
#[tokio::test]
async fn probes_need_no_credential_and_pass_the_host_guard() {
    let issuer = TestIssuer::start().await.unwrap();
    let listener = TestListener::bind().await.unwrap();
    let validator =
        JwtValidator::new(JwtValidatorConfig::new(issuer.issuer(), "").jwks_uri(issuer.jwks_uri()))
            .unwrap();
    let srv = spawn_protected(listener, issuer.issuer(), validator);
    let pod = [("host", "10.1.2.3:8080")];
    let mcp = send(Method::POST, &srv.url(), &pod, Some("{}")).await;
    assert_eq!(mcp.status, 403, "the guard refuses that Host: {}", mcp.body);
    let mcp = send(Method::POST, &srv.url(), &[], Some("{}")).await;
    assert_eq!(mcp.status, 401, "no credential: {}", mcp.body);

    let live = probe(Method::GET, &format!("{}/healthz", srv.base_url()), &pod).await;
    assert_eq!(live.status, 200, "{}", live.body);
    let ready = probe(Method::GET, &format!("{}/readyz", srv.base_url()), &pod).await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(ready.json()["status"], "ready");
    assert_eq!(ready.json()["checks"]["token_validator"], "ok");
}

/// A protected server whose JWKS is down is not ready (503, `Retry-After`, the check named,
/// no URL or password in the body); once the JWKS answers again, it is.
#[tokio::test]
async fn readiness_follows_the_jwks() {
    let issuer = TestIssuer::start().await.unwrap();
    let mut fake = FakeAs::start(Mode::Relay(issuer.jwks_uri())).await;
    fake.stop().await;
    let jwks = fake.url("/jwks");
    // A JWKS URL with credentials: they must never show.
    let jwks_with_password = jwks.replacen("http://", "http://probe:hunter2@", 1);
    let validator = JwtValidator::new(
        JwtValidatorConfig::new(issuer.issuer(), "")
            .jwks_uri(&jwks_with_password)
            .jwks_cache(Duration::from_secs(300), Duration::from_millis(200)),
    )
    .unwrap();
    let listener = TestListener::bind().await.unwrap();
    let srv = spawn_protected(listener, issuer.issuer(), validator);
    let url = format!("{}/readyz", srv.base_url());

    let down = get(&url).await;
    assert_eq!(down.status, 503, "{}", down.body);
    assert!(down.header("retry-after").is_some(), "no Retry-After");
    assert_no_store(&down, "503 /readyz");
    let body = down.json();
    assert_eq!(body["status"], "unavailable");
    let reason = body["checks"]["token_validator"].as_str().unwrap();
    assert!(reason.starts_with("unavailable: "), "{reason}");
    assert_eq!(body["checks"]["task_store"], "ok");
    let port = jwks.split(':').nth(2).unwrap().split('/').next().unwrap();
    for secret in ["hunter2", "probe:", "http", port, "/jwks"] {
        assert!(!down.body.contains(secret), "{secret:?} in {}", down.body);
    }

    fake.restart().await;
    let up = until_status(&url, 200).await;
    assert_eq!(up.json()["checks"]["token_validator"], "ok", "{}", up.body);
    let fetches = fake.requests();
    assert!(fetches >= 1);
    // Keys are cached now: more probes fetch nothing.
    for _ in 0..5 {
        assert_eq!(get(&url).await.status, 200);
    }
    assert_eq!(fake.requests(), fetches);
}

/// An application check that fails makes the server not ready, naming it with its reason;
/// when it passes again, the server is ready (after the 1 s cache at most).
#[tokio::test]
async fn a_failing_application_check_is_named() {
    let healthy = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&healthy);
    let config = HttpConfig::default().readiness_check("database", move || {
        let ok = flag.load(Ordering::SeqCst);
        async move {
            if ok {
                Ok(())
            } else {
                Err(NotReady::new("the database is migrating"))
            }
        }
    });
    let srv = spawn(fixture().http(config)).await.unwrap();
    let url = format!("{}/readyz", srv.base_url());
    let r = get(&url).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.header("retry-after").is_some());
    assert_eq!(
        r.json(),
        json!({"status": "unavailable", "checks": {
            "database": "unavailable: the database is migrating",
            "task_store": "ok",
            "event_store": "ok",
        }})
    );
    healthy.store(true, Ordering::SeqCst);
    let r = until_status(&url, 200).await;
    assert_eq!(r.json()["checks"]["database"], "ok");
}

/// A flood of unauthenticated probes is one round of checks per second at most: the answer
/// is reused, and probes arriving during a round wait for it.
#[tokio::test]
async fn a_flood_of_probes_is_one_round_of_checks() {
    let rounds = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = Arc::clone(&rounds);
    let config = HttpConfig::default().readiness_check("counted", move || {
        counted.fetch_add(1, Ordering::SeqCst);
        async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok(())
        }
    });
    let srv = spawn(fixture().http(config)).await.unwrap();
    let url = format!("{}/readyz", srv.base_url());
    let started = std::time::Instant::now();
    let probes: Vec<_> = (0..50)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { get(&url).await.status })
        })
        .collect();
    for p in probes {
        assert_eq!(p.await.unwrap(), 200);
    }
    // One round per started second of the flood (the cache lasts 1 s).
    let allowed = usize::try_from(started.elapsed().as_secs()).unwrap() + 1;
    let n = rounds.load(Ordering::SeqCst);
    assert!((1..=allowed).contains(&n), "{n} rounds for 50 probes");
}

/// A check that does not answer within `readiness_timeout` is unavailable; the probe answers
/// within the bound.
#[tokio::test]
async fn a_check_that_hangs_is_cut_at_the_timeout() {
    let config = HttpConfig::default()
        .readiness_timeout(Duration::from_millis(200))
        .readiness_check("hangs", std::future::pending);
    let srv = spawn(fixture().http(config)).await.unwrap();
    let url = format!("{}/readyz", srv.base_url());
    let r = tokio::time::timeout(HANG, get(&url))
        .await
        .expect("bounded");
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(
        r.json()["checks"]["hangs"],
        "unavailable: no answer within 200 ms"
    );
}

/// From the moment shutdown starts, readiness answers 503 `draining`; liveness stays 200 and a
/// request in flight finishes; the server then stops.
#[tokio::test]
async fn draining_is_not_ready_while_requests_in_flight_finish() {
    let release = Arc::new(tokio::sync::Notify::new());
    let gate = Arc::clone(&release);
    let server = McpServer::builder("drain")
        .tool(ToolDef::from_fn("slow", move |_: Context, NoArgs {}| {
            let gate = Arc::clone(&gate);
            async move {
                gate.notified().await;
                "finished in flight"
            }
        }))
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let http = server.http(
        HttpConfig::default()
            .shutdown_delay(Duration::from_secs(2))
            .shutdown_grace(Duration::from_secs(5)),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(http.serve_listener(listener, async move {
        let _ = stopped.await;
    }));
    let base = format!("http://{addr}");
    assert_eq!(get(&format!("{base}/readyz")).await.status, 200);
    let s = Session::open(&format!("{base}/mcp"), "2025-11-25", json!({})).await;
    let call = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow","arguments":{}}});
    let in_flight = tokio::spawn(async move { s.post(&call).await });
    tokio::time::sleep(Duration::from_millis(200)).await;

    stop.send(()).unwrap();
    let draining = until_status(&format!("{base}/readyz"), 503).await;
    assert_eq!(draining.json(), json!({"status": "draining"}));
    assert!(draining.header("retry-after").is_some());
    assert_no_store(&draining, "draining");
    let live = get(&format!("{base}/healthz")).await;
    assert_eq!(
        live.status, 200,
        "liveness stays up while the listener is open"
    );

    release.notify_one();
    let done = tokio::time::timeout(HANG, in_flight)
        .await
        .expect("the request in flight finishes")
        .unwrap();
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("finished in flight"), "{}", done.body);
    let finished = tokio::time::timeout(HANG, serving)
        .await
        .expect("the server stops after the delay");
    assert!(finished.unwrap().is_ok());
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn probe_paths_are_configurable_and_can_be_turned_off() {
    let config = HttpConfig::default()
        .liveness_path(Some("/ops/live"))
        .readiness_path(None);
    let srv: TestServer = spawn(fixture().http(config)).await.unwrap();
    let base = srv.base_url();
    assert_eq!(get(&format!("{base}/ops/live")).await.status, 200);
    assert_eq!(get(&format!("{base}/healthz")).await.status, 404);
    assert_eq!(get(&format!("{base}/readyz")).await.status, 404);

    let config = HttpConfig::default()
        .liveness_path(None)
        .readiness_path(Some("/ops/ready"));
    let srv = spawn(fixture().http(config)).await.unwrap();
    let base = srv.base_url();
    assert_eq!(get(&format!("{base}/ops/ready")).await.status, 200);
    assert_eq!(get(&format!("{base}/healthz")).await.status, 404);
}

/// A probe path that is not a plain absolute path, or that another route has, is refused:
/// `check` says why, `serve_listener` does not start, `router_at` serves the MCP endpoint
/// without the probes.
#[tokio::test]
async fn invalid_probe_settings_are_refused() {
    let taken = fixture().http(HttpConfig::default().readiness_path(Some("/mcp")));
    assert!(matches!(
        taken.check("/mcp"),
        Err(HttpConfigError::ProbePathTaken {
            probe: "readiness",
            ..
        })
    ));
    assert_eq!(taken.check("/other"), Ok(()));
    let relative = fixture().http(HttpConfig::default().liveness_path(Some("healthz")));
    assert!(matches!(
        relative.check("/mcp"),
        Err(HttpConfigError::InvalidProbePath {
            probe: "liveness",
            ..
        })
    ));
    let builtin_name =
        fixture().http(HttpConfig::default().readiness_check("task_store", || async { Ok(()) }));
    assert!(matches!(
        builtin_name.check("/mcp"),
        Err(HttpConfigError::InvalidCheckName { .. })
    ));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let refused = tokio::time::timeout(HANG, taken.clone().serve_listener(listener, async {}))
        .await
        .expect("refused at once");
    assert!(matches!(refused, Err(ServeError::Config(_))), "{refused:?}");

    // `router_at` does not panic on the conflict: the MCP endpoint is served, the probes not.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = taken.router_at("/mcp");
    tokio::spawn(async move { axum::serve(listener, app).await });
    assert_eq!(get(&format!("http://{addr}/healthz")).await.status, 404);
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;
    let r = mcp_tests::post(&format!("http://{addr}/mcp"), &[], init).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// The application's routes merged beside the router keep working, and the probes answer in
/// the merged app too.
#[tokio::test]
async fn probes_are_part_of_the_router() {
    let app = fixture()
        .into_router()
        .route("/app", axum::routing::get(|| async { "app" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    assert_eq!(get(&format!("http://{addr}/app")).await.body, "app");
    let r = get(&format!("http://{addr}/readyz")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body: Value = r.json();
    assert_eq!(body["status"], "ready");
}

// --- Redis -------------------------------------------------------------------------------------

/// A TCP relay to Redis that can be cut: the store under test connects through it, so that
/// "Redis is down" needs no control of the real server.
struct Relay {
    addr: std::net::SocketAddr,
    tasks: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Relay {
    async fn start(upstream: std::net::SocketAddr) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let tasks = Arc::new(std::sync::Mutex::new(Vec::new()));
        let spawned = Arc::clone(&tasks);
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let conn = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                spawned.lock().unwrap().push(conn);
            }
        });
        tasks.lock().unwrap().push(accept);
        Relay { addr, tasks }
    }

    /// Closes the listener and every relayed connection.
    fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

/// A Redis task store that stops answering makes the server not ready (`task_store`), with a
/// reason that does not repeat the URL; the check is a PING, bounded.
#[tokio::test]
async fn readiness_reports_a_redis_store_that_is_gone() {
    let Some(redis_url) = mcp_tests::redis_url() else {
        return;
    };
    // `redis://[user:password@]host:port[/db]`: connect through the relay instead.
    let (scheme, rest) = redis_url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), authority),
    };
    let upstream = tokio::net::lookup_host(hostport)
        .await
        .unwrap()
        .next()
        .unwrap();
    let relay = Relay::start(upstream).await;
    let relayed = format!("{scheme}://{userinfo}{}/{path}", relay.addr);
    let store = mcp_server::store::RedisTaskStore::connect(&relayed, mcp_tests::redis_prefix())
        .await
        .unwrap();
    let server = McpServer::builder("redis")
        .tasks(mcp_server::tasks::TaskConfig::default().store(Arc::new(store)))
        .build()
        .unwrap();
    let srv = spawn(server).await.unwrap();
    let url = format!("{}/readyz", srv.base_url());
    let r = get(&url).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["checks"]["task_store"], "ok");

    relay.cut();
    let r = tokio::time::timeout(HANG, until_status(&url, 503))
        .await
        .expect("bounded");
    let reason = r.json()["checks"]["task_store"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(reason.starts_with("unavailable: Redis"), "{reason}");
    assert!(
        !r.body.contains(&relay.addr.port().to_string()),
        "{}",
        r.body
    );
    assert!(!r.body.contains("redis://"), "{}", r.body);
}

/// A server whose endpoint takes tokens of `issuer` checked by `validator`.
fn spawn_protected(listener: TestListener, issuer: &str, validator: JwtValidator) -> TestServer {
    let server = McpServer::builder("protected")
        .authorization(
            AuthorizationConfig::enabled()
                .authorization_server(issuer)
                .resource(listener.url())
                .validator(validator),
        )
        .build()
        .unwrap();
    listener.spawn(server)
}
