//! Fault tests of the authorization server as the resource server sees it: a JWKS and an
//! introspection endpoint on 127.0.0.1:0 whose behaviour each test sets (down, slow, garbage,
//! huge, rotating keys), real servers under test, raw HTTP. The hardening issue's rule: the
//! server keeps serving everyone else, loses nothing, and lets no one in, whatever arrives.
//! Requirement ids refer to `CHECKLIST.md` (AZ-11a keys from the JWKS by `kid`, AZ-11h cached,
//! refetched rate-limited on an unknown `kid`, fail closed; AZ-18 status mapping).
//!
//! The documented outcomes these tests hold the server to:
//!
//! - **JWKS down, slower than the fetch timeout, garbage, or larger than `max_response_bytes`**
//!   (all one case, "no usable answer"): a server with no keys cached answers 503 with
//!   `Retry-After`; a server with keys cached keeps using them, so tokens naming a cached `kid`
//!   are served and a token naming any other `kid` is 401 `invalid_token`. Nothing is accepted
//!   that the keys do not verify. A JWKS that parses but has no usable key (only `use: enc`,
//!   symmetric, unreadable or mislabelled keys) is "no such key": 401 `invalid_token`.
//! - **The fetch is bounded**: discovery and JWKS together end within
//!   `JwtValidatorConfig::http_timeout`; no answer is read past `max_response_bytes`.
//! - **Requests without credentials, and tokens whose keys are cached, never wait** for a key
//!   fetch in flight.
//! - **Rotation**: a token naming a new `kid` triggers one refetch, at most one per
//!   `jwks_refresh_cooldown` whatever the flood of unknown `kid`s; a token seen valid before the
//!   rotation stays valid from the token cache until its `exp`; an old-`kid` token never seen
//!   before is 401 once the keys were replaced.
//! - **Introspection down or slow**: 503 with `Retry-After`; **garbage or huge answer**: 401
//!   `invalid_token` (an unreadable answer proves nothing, and is no outage `fail_open` could
//!   use).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use mcp_server::auth::{
    AuthFailureLimits, AuthorizationConfig, IntrospectionConfig, IntrospectionValidator,
    JwtValidator, JwtValidatorConfig, TokenValidator,
};
use mcp_server::testing::{DpopKey, TestIssuer, TestListener, TestServer};
use mcp_server::{Context, McpServer, NoArgs, ToolDef};
use mcp_tests::{RawResponse, post, until};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;

/// A hang detector's margin past a documented bound: generous, since it only tells a bounded
/// wait from a hang.
const MARGIN: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------------------------------------
// The fake authorization server (also the JWKS of the readiness tests, `health`)

/// How the fake answers every request, whatever its path.
#[derive(Clone)]
pub(crate) enum Mode {
    /// The body at this URL (the issuer's JWKS), fetched anew for each request: rotation shows.
    Relay(String),
    /// Never answers: the request is held until the client gives up.
    Hang,
    /// 200 with this content type and body.
    Body(&'static str, String),
    /// 200 with a JSON-looking body of this many bytes, produced lazily in 64 KiB chunks (the
    /// fake never holds it); `announce` sends its `Content-Length`, else it is chunked.
    Huge { len: usize, announce: bool },
}

/// What the handler shares with the test.
struct FakeState {
    mode: Mutex<Mode>,
    /// Requests that arrived.
    requests: AtomicUsize,
    /// Requests held now ([`Mode::Hang`]).
    held: AtomicUsize,
    /// Bytes of huge bodies produced so far (what the client made the fake send).
    produced: Arc<AtomicUsize>,
}

/// Decrements a counter when the held request is dropped (the client gave up).
struct Held(Arc<FakeState>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.held.fetch_sub(1, Ordering::SeqCst);
    }
}

/// An authorization server's endpoint on 127.0.0.1 that can be stopped (connections refused)
/// and started again on the same port.
pub(crate) struct FakeAs {
    addr: SocketAddr,
    state: Arc<FakeState>,
    running: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
}

async fn answer(state: Arc<FakeState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    state.requests.fetch_add(1, Ordering::SeqCst);
    let mode = state.mode.lock().unwrap().clone();
    match mode {
        Mode::Relay(url) => {
            let r = reqwest::get(&url).await.expect("the issuer answers");
            let body = r.text().await.unwrap();
            ([(http::header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        Mode::Hang => {
            state.held.fetch_add(1, Ordering::SeqCst);
            let _held = Held(Arc::clone(&state));
            std::future::pending().await
        }
        Mode::Body(content_type, body) => {
            ([(http::header::CONTENT_TYPE, content_type)], body).into_response()
        }
        Mode::Huge { len, announce } => {
            const CHUNK: usize = 64 * 1024;
            let produced = Arc::clone(&state.produced);
            let chunks = futures_util::stream::unfold(0usize, move |sent| {
                let produced = Arc::clone(&produced);
                async move {
                    if sent >= len {
                        return None;
                    }
                    let n = CHUNK.min(len - sent);
                    let chunk = if sent == 0 {
                        let mut c = br#"{"keys":[{"active":true,"x":""#.to_vec();
                        c.resize(n, b'A');
                        c
                    } else {
                        vec![b'A'; n]
                    };
                    produced.fetch_add(n, Ordering::SeqCst);
                    Some((Ok::<_, Infallible>(Bytes::from(chunk)), sent + n))
                }
            });
            let mut response = axum::body::Body::from_stream(chunks).into_response();
            let headers = response.headers_mut();
            headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
            if announce {
                headers.insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(len));
            }
            response
        }
    }
}

impl FakeAs {
    pub(crate) async fn start(mode: Mode) -> FakeAs {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(FakeState {
            mode: Mutex::new(mode),
            requests: AtomicUsize::new(0),
            held: AtomicUsize::new(0),
            produced: Arc::new(AtomicUsize::new(0)),
        });
        let mut fake = FakeAs {
            addr,
            state,
            running: None,
        };
        fake.serve(listener);
        fake
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let state = Arc::clone(&self.state);
        let app = axum::Router::new().fallback(move || answer(Arc::clone(&state)));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        self.running = Some((stop, task));
    }

    /// Stops answering: the port is closed, connections are refused.
    pub(crate) async fn stop(&mut self) {
        if let Some((stop, task)) = self.running.take() {
            let _ = stop.send(());
            let _ = task.await;
        }
    }

    /// Listens again on the same port.
    pub(crate) async fn restart(&mut self) {
        for _ in 0..100 {
            if let Ok(listener) = tokio::net::TcpListener::bind(self.addr).await {
                self.serve(listener);
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the fake's port could not be bound again");
    }

    fn set(&self, mode: Mode) {
        *self.state.mode.lock().unwrap() = mode;
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    fn held(&self) -> usize {
        self.state.held.load(Ordering::SeqCst)
    }

    fn produced(&self) -> usize {
        self.state.produced.load(Ordering::SeqCst)
    }
}

// ---------------------------------------------------------------------------------------------
// The server under test

/// A JWT validator for `issuer`'s tokens with keys from `fake`'s `/jwks`.
fn jwt(
    issuer: &TestIssuer,
    fake: &FakeAs,
    tune: impl FnOnce(JwtValidatorConfig) -> JwtValidatorConfig,
) -> JwtValidator {
    let config = tune(JwtValidatorConfig::new(issuer.issuer(), "").jwks_uri(fake.url("/jwks")));
    JwtValidator::new(config).unwrap()
}

/// A protected server checking tokens with `validator`, published authorization server `as_url`.
/// These tests count fetches and refusals of many bad tokens from one address: the failure
/// budgets (tested in `auth_rate_limit`) would answer 429 first, so they are off here.
async fn protected(validator: impl TokenValidator, as_url: &str) -> TestServer {
    let listener = TestListener::bind().await.unwrap();
    let auth = AuthorizationConfig::enabled()
        .authorization_server(as_url)
        .resource(listener.url())
        .validator(validator)
        .auth_failure_limits(AuthFailureLimits::disabled());
    let server = McpServer::builder("faults")
        .authorization(auth)
        .tool(ToolDef::from_fn("noop", |_: Context, _: NoArgs| async {
            "ok"
        }))
        .build()
        .unwrap();
    listener.spawn(server)
}

async fn bearer(srv: &TestServer, token: &str) -> RawResponse {
    let auth = format!("Bearer {token}");
    post(&srv.url(), &[("authorization", auth.as_str())], INIT).await
}

/// A fresh token of `issuer` for `srv` (its random `jti` makes it new to the token cache).
fn token(issuer: &TestIssuer, srv: &TestServer) -> String {
    issuer.token(&srv.url()).sign()
}

/// A fresh token naming a `kid` the issuer never had.
fn unknown_kid_token(issuer: &TestIssuer, srv: &TestServer, n: usize) -> String {
    issuer
        .token(&srv.url())
        .subject(&format!("flood-{n}"))
        .kid(Some(&format!("unknown-kid-{n}")))
        .sign()
}

fn assert_invalid_token(r: &RawResponse, what: &str) {
    assert_eq!(r.status, 401, "{what}: {} {}", r.challenges(), r.body);
    assert!(
        r.challenges().contains(r#"error="invalid_token""#),
        "{what}: {}",
        r.challenges()
    );
}

fn assert_503_retry_after(r: &RawResponse, what: &str) {
    assert_eq!(r.status, 503, "{what}: {}", r.body);
    assert!(
        r.headers.contains_key("retry-after"),
        "{what}: no Retry-After"
    );
}

/// AZ-08: a request without credentials gets the bare challenge.
async fn assert_challenge_without_credentials(srv: &TestServer, what: &str) {
    let r = post(&srv.url(), &[], INIT).await;
    assert_eq!(r.status, 401, "{what}: {}", r.body);
    let challenge = r.challenges();
    assert!(
        challenge.starts_with("Bearer ") && !challenge.contains("error="),
        "{what}: {challenge}"
    );
}

/// The issuer's JWKS document.
async fn issuer_jwks(issuer: &TestIssuer) -> Value {
    reqwest::get(issuer.jwks_uri())
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The issuer's current ES256 JWK (the key its default tokens name).
async fn es_jwk(issuer: &TestIssuer) -> Value {
    let kid = issuer.current_kid();
    issuer_jwks(issuer).await["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .cloned()
        .unwrap()
}

fn with(mut jwk: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            jwk.as_object_mut().unwrap().remove(k);
        } else {
            jwk[k] = v.clone();
        }
    }
    jwk
}

// ---------------------------------------------------------------------------------------------
// JWKS down

/// AZ-11h (fail closed): a JWKS endpoint that goes down (connections refused). A server with
/// keys cached keeps serving tokens whose `kid` it holds and refuses any other `kid` with 401;
/// a server that never got keys answers 503 with `Retry-After`; nothing is accepted; a request
/// without credentials still gets its challenge; both recover when the endpoint returns.
#[tokio::test]
async fn az11h_a_jwks_endpoint_that_goes_down_fails_closed_and_recovers() {
    let issuer = TestIssuer::start().await.unwrap();
    let mut fake = FakeAs::start(Mode::Relay(issuer.jwks_uri())).await;
    // TTL and cooldown zero: every new token goes back to the endpoint, so each one meets the
    // outage (the strictest setting for "last good keys").
    let tune = |c: JwtValidatorConfig| c.jwks_cache(Duration::ZERO, Duration::ZERO);
    let warm = protected(jwt(&issuer, &fake, tune), issuer.issuer()).await;
    let cold = protected(jwt(&issuer, &fake, tune), issuer.issuer()).await;
    assert_eq!(bearer(&warm, &token(&issuer, &warm)).await.status, 200);

    fake.stop().await;
    let before = fake.requests();
    // Other clients keep being served with the last good keys.
    for _ in 0..3 {
        let r = bearer(&warm, &token(&issuer, &warm)).await;
        assert_eq!(r.status, 200, "cached kid while down: {}", r.body);
    }
    // Never accepted without keys: a server with none refuses with 503.
    let r = bearer(&cold, &token(&issuer, &cold)).await;
    assert_503_retry_after(&r, "no keys cached, JWKS down");
    // A kid the cached keys do not have is not verifiable: 401.
    issuer.rotate_keys().unwrap();
    let rotated_warm = token(&issuer, &warm);
    assert_invalid_token(&bearer(&warm, &rotated_warm).await, "new kid while down");
    // Forged tokens stay forged.
    let forged = issuer.token(&warm.url()).tampered();
    assert_invalid_token(&bearer(&warm, &forged).await, "tampered while down");
    for srv in [&warm, &cold] {
        assert_challenge_without_credentials(srv, "while down").await;
    }
    assert_eq!(
        fake.requests(),
        before,
        "the endpoint was down: nothing reached it"
    );

    // Recovery: the keys are fetched again, the new kid is accepted on both servers.
    fake.restart().await;
    let r = bearer(&warm, &rotated_warm).await;
    assert_eq!(r.status, 200, "warm after recovery: {}", r.body);
    let r = bearer(&cold, &token(&issuer, &cold)).await;
    assert_eq!(r.status, 200, "cold after recovery: {}", r.body);
    assert!(fake.requests() > before);
}

// ---------------------------------------------------------------------------------------------
// JWKS slow

/// AZ-11h: a JWKS endpoint slower than the fetch timeout. The waiting requests are answered
/// within the timeout (fail closed: 503 without keys, 401 for an unknown `kid` with keys), and
/// while the fetch hangs the server answers everything that needs no fetch: requests without
/// credentials get their challenge and tokens with a cached `kid` are served.
#[tokio::test]
async fn az11h_a_slow_jwks_endpoint_is_a_bounded_wait_and_others_are_served_meanwhile() {
    let issuer = TestIssuer::start().await.unwrap();
    let fake = FakeAs::start(Mode::Relay(issuer.jwks_uri())).await;
    let timeout = Duration::from_secs(6);
    let tune = |c: JwtValidatorConfig| {
        c.jwks_cache(Duration::from_secs(300), Duration::ZERO)
            .http_timeout(timeout)
    };
    let warm = protected(jwt(&issuer, &fake, tune), issuer.issuer()).await;
    let cold = protected(jwt(&issuer, &fake, tune), issuer.issuer()).await;
    assert_eq!(bearer(&warm, &token(&issuer, &warm)).await.status, 200);

    fake.set(Mode::Hang);
    let spawn_call = |srv: &TestServer, token: String| {
        let url = srv.url();
        tokio::spawn(async move {
            let auth = format!("Bearer {token}");
            tokio::time::timeout(
                timeout + MARGIN,
                post(&url, &[("authorization", auth.as_str())], INIT),
            )
            .await
        })
    };
    // Eight cold requests share one fetch; one warm request with an unknown kid makes another.
    let cold_calls: Vec<_> = (0..8)
        .map(|_| spawn_call(&cold, token(&issuer, &cold)))
        .collect();
    let warm_call = spawn_call(&warm, unknown_kid_token(&issuer, &warm, 0));
    until(|| fake.held() == 2).await;

    // Meanwhile: nothing that needs no fetch waits for the hanging one.
    for srv in [&warm, &cold] {
        assert_challenge_without_credentials(srv, "during a slow fetch").await;
    }
    let r = bearer(&warm, &token(&issuer, &warm)).await;
    assert_eq!(r.status, 200, "cached kid during a slow fetch: {}", r.body);
    assert_eq!(
        fake.held(),
        2,
        "the others were answered while both fetches still hung"
    );

    // The waiting requests end within the documented bound, refused.
    for call in cold_calls {
        let r = call.await.unwrap().expect("answered within http_timeout");
        assert_503_retry_after(&r, "cold, slow JWKS");
    }
    let r = warm_call
        .await
        .unwrap()
        .expect("answered within http_timeout");
    assert_invalid_token(&r, "unknown kid, slow JWKS");
    assert_eq!(fake.requests(), 3, "one warm-up fetch, then one per server");
}

/// AZ-11h: discovery is inside the bound too. An issuer whose metadata endpoints hang (keys by
/// RFC 8414 / OpenID discovery, three candidate URLs) answers within one `http_timeout`, not one
/// per candidate.
#[tokio::test]
async fn az11h_a_hanging_discovery_is_bounded_by_one_fetch_timeout() {
    let fake = FakeAs::start(Mode::Hang).await;
    let issuer = TestIssuer::start().await.unwrap();
    let timeout = Duration::from_secs(3);
    let as_url = fake.url("");
    let validator =
        JwtValidator::new(JwtValidatorConfig::new(&as_url, "").http_timeout(timeout)).unwrap();
    let srv = protected(validator, &as_url).await;
    // The token's issuer does not matter: no key is ever found.
    let t = token(&issuer, &srv);
    // Three discovery URLs each allowed `timeout` would take 3 × 3 s; the bound is one.
    let r = tokio::time::timeout(timeout + Duration::from_millis(2500), bearer(&srv, &t))
        .await
        .expect("answered within http_timeout (plus a margin), discovery included");
    assert_503_retry_after(&r, "hanging discovery");
    assert_eq!(
        fake.requests(),
        1,
        "the fetch ended during the first candidate"
    );
}

// ---------------------------------------------------------------------------------------------
// JWKS garbage and huge

/// AZ-11a, AZ-11h: whatever the JWKS endpoint answers, the server fails closed and keeps
/// answering. No JWKS (HTML, truncated or wrong JSON): 503, as when the endpoint is down. A JWKS
/// without a usable key for the token (encryption keys, symmetric keys, a wrong `kty`, an `alg`
/// the key cannot have, keys that do not verify the token): 401 `invalid_token`.
#[tokio::test]
async fn az11a_garbage_from_the_jwks_endpoint_fails_closed_without_panicking() {
    let issuer = TestIssuer::start().await.unwrap();
    let good = es_jwk(&issuer).await;
    let kid = issuer.current_kid();
    let mut stranger = DpopKey::generate().unwrap().jwk().clone();
    stranger.insert("kid".into(), json!(kid));
    let stranger = Value::Object(stranger);
    let keys = |keys: Vec<Value>| json!({ "keys": keys }).to_string();
    let cases: Vec<(&str, &'static str, String, u16)> = vec![
        (
            "HTML",
            "text/html",
            "<html><body>Sign in</body></html>".into(),
            503,
        ),
        (
            "truncated JSON",
            "application/json",
            r#"{"keys":[{"kty":"EC","crv":"P-2"#.into(),
            503,
        ),
        (
            "keys not an array",
            "application/json",
            r#"{"keys":"x"}"#.into(),
            503,
        ),
        ("an array", "application/json", "[]".into(), 503),
        ("empty", "application/json", String::new(), 503),
        ("no keys", "application/json", keys(vec![]), 401),
        (
            "use: enc",
            "application/json",
            keys(vec![with(good.clone(), json!({"use": "enc"}))]),
            401,
        ),
        (
            "key_ops without verify",
            "application/json",
            keys(vec![with(good.clone(), json!({"key_ops": ["encrypt"]}))]),
            401,
        ),
        (
            "wrong kty",
            "application/json",
            keys(vec![with(good.clone(), json!({"kty": "RSA"}))]),
            401,
        ),
        (
            "unknown kty",
            "application/json",
            keys(vec![with(good.clone(), json!({"kty": "XYZ"}))]),
            401,
        ),
        (
            "alg the key cannot have",
            "application/json",
            keys(vec![with(good.clone(), json!({"alg": "RS256"}))]),
            401,
        ),
        (
            "symmetric key",
            "application/json",
            keys(vec![json!({"kty": "oct", "kid": kid, "k": "c2VjcmV0"})]),
            401,
        ),
        (
            "another key under the kid",
            "application/json",
            keys(vec![stranger.clone()]),
            401,
        ),
        (
            "broken members",
            "application/json",
            keys(vec![with(good.clone(), json!({"x": 5, "crv": null}))]),
            401,
        ),
    ];
    for (what, content_type, body, status) in cases {
        let fake = FakeAs::start(Mode::Body(content_type, body)).await;
        let srv = protected(jwt(&issuer, &fake, |c| c), issuer.issuer()).await;
        let r = bearer(&srv, &token(&issuer, &srv)).await;
        match status {
            503 => assert_503_retry_after(&r, what),
            _ => assert_invalid_token(&r, what),
        }
        assert_challenge_without_credentials(&srv, what).await;
    }
}

/// AZ-11a: a JWKS that repeats a `kid` keeps every key under it: the token is accepted when one
/// of them verifies it, in either order; a forged token still is not.
#[tokio::test]
async fn az11a_a_repeated_kid_keeps_every_key() {
    let issuer = TestIssuer::start().await.unwrap();
    let good = es_jwk(&issuer).await;
    let mut stranger = DpopKey::generate().unwrap().jwk().clone();
    stranger.insert("kid".into(), json!(issuer.current_kid()));
    let stranger = Value::Object(stranger);
    for order in [
        vec![stranger.clone(), good.clone()],
        vec![good.clone(), stranger.clone()],
    ] {
        let body = json!({ "keys": order }).to_string();
        let fake = FakeAs::start(Mode::Body("application/json", body)).await;
        let srv = protected(jwt(&issuer, &fake, |c| c), issuer.issuer()).await;
        let r = bearer(&srv, &token(&issuer, &srv)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let forged = issuer.token(&srv.url()).tampered();
        assert_invalid_token(&bearer(&srv, &forged).await, "tampered");
    }
}

/// AZ-11h (the known gap "JWKS body size"): a huge JWKS is not buffered. The fetch stops reading
/// at `max_response_bytes`, fails closed (503 without keys), and the endpoint was made to send
/// a small part of the body at most, with or without a `Content-Length`.
#[tokio::test]
async fn az11h_a_huge_jwks_is_refused_unread_past_the_bound() {
    let issuer = TestIssuer::start().await.unwrap();
    let len = 256 * 1024 * 1024;
    for announce in [false, true] {
        let fake = FakeAs::start(Mode::Huge { len, announce }).await;
        let srv = protected(
            jwt(&issuer, &fake, |c| c.max_response_bytes(64 * 1024)),
            issuer.issuer(),
        )
        .await;
        let r = bearer(&srv, &token(&issuer, &srv)).await;
        assert_503_retry_after(&r, "huge JWKS");
        assert_eq!(fake.requests(), 1);
        // What the fake produced: the part read plus what socket buffers took, far below the body.
        assert!(
            fake.produced() < 32 * 1024 * 1024,
            "announce {announce}: {} bytes of {len} were produced",
            fake.produced()
        );
        assert_challenge_without_credentials(&srv, "after a huge JWKS").await;
    }
    // The default bound (1 MiB) holds a real JWKS.
    let fake = FakeAs::start(Mode::Relay(issuer.jwks_uri())).await;
    let srv = protected(jwt(&issuer, &fake, |c| c), issuer.issuer()).await;
    assert_eq!(bearer(&srv, &token(&issuer, &srv)).await.status, 200);
    assert_eq!(
        JwtValidatorConfig::new("i", "").max_response_bytes,
        JwtValidatorConfig::DEFAULT_MAX_RESPONSE_BYTES
    );
}

// ---------------------------------------------------------------------------------------------
// Rotation

/// AZ-11h: a flood of tokens naming unknown `kid`s cannot hammer the JWKS endpoint: within the
/// refetch cooldown it is not fetched at all, and each token is 401.
#[tokio::test]
async fn az11h_a_flood_of_unknown_kids_is_one_fetch_per_cooldown() {
    let issuer = TestIssuer::start().await.unwrap();
    let fake = FakeAs::start(Mode::Relay(issuer.jwks_uri())).await;
    let tune =
        |c: JwtValidatorConfig| c.jwks_cache(Duration::from_secs(300), Duration::from_secs(60));
    let srv = protected(jwt(&issuer, &fake, tune), issuer.issuer()).await;
    assert_eq!(bearer(&srv, &token(&issuer, &srv)).await.status, 200);
    assert_eq!(fake.requests(), 1);
    let url = srv.url();
    let calls = (0..100).map(|n| {
        let t = unknown_kid_token(&issuer, &srv, n);
        let url = url.clone();
        async move {
            let auth = format!("Bearer {t}");
            post(&url, &[("authorization", auth.as_str())], INIT).await
        }
    });
    for r in futures_util::future::join_all(calls).await {
        assert_invalid_token(&r, "unknown kid");
    }
    assert_eq!(fake.requests(), 1, "no fetch within the cooldown");
    // A rotated key inside the cooldown is the documented cost of the cooldown: refused (401)
    // until the cooldown has passed.
    issuer.rotate_keys().unwrap();
    assert_invalid_token(
        &bearer(&srv, &token(&issuer, &srv)).await,
        "rotated, cooldown",
    );
    assert_eq!(fake.requests(), 1);
}

/// AZ-11h: the issuer rotates to a new key. A token naming the new `kid` is accepted after the
/// one refetch the cooldown allows; a token accepted before the rotation stays accepted from the
/// token cache until it expires; an old-`kid` token never seen before is refused once the keys
/// were replaced; further floods of unknown `kid`s cost at most one fetch per cooldown.
#[tokio::test]
async fn az11h_rotated_keys_are_picked_up_by_one_refetch() {
    let issuer = TestIssuer::start().await.unwrap();
    let fake = FakeAs::start(Mode::Relay(issuer.jwks_uri())).await;
    let cooldown = Duration::from_secs(1);
    let tune = |c: JwtValidatorConfig| c.jwks_cache(Duration::from_secs(300), cooldown);
    let srv = protected(jwt(&issuer, &fake, tune), issuer.issuer()).await;
    let seen = token(&issuer, &srv);
    assert_eq!(bearer(&srv, &seen).await.status, 200);
    let unseen_old = token(&issuer, &srv);
    let old_kid = issuer.current_kid();

    issuer.rotate_keys().unwrap();
    assert_ne!(issuer.current_kid(), old_kid);
    let new = token(&issuer, &srv);
    // Refused until the cooldown since the last fetch has passed, then accepted.
    let mut accepted = false;
    for _ in 0..200 {
        if bearer(&srv, &new).await.status == 200 {
            accepted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(accepted, "the new kid was never accepted");
    assert_eq!(
        fake.requests(),
        2,
        "the warm-up, then one refetch for the new kid"
    );
    // Old kid: the token seen before is cached until its exp; the unseen one is unverifiable.
    assert_eq!(bearer(&srv, &seen).await.status, 200);
    assert_invalid_token(&bearer(&srv, &unseen_old).await, "old kid after rotation");
    // Tokens with the new kid keep working without fetches.
    for _ in 0..5 {
        assert_eq!(bearer(&srv, &token(&issuer, &srv)).await.status, 200);
    }
    let before = fake.requests();
    let started = std::time::Instant::now();
    for n in 0..50 {
        assert_invalid_token(
            &bearer(&srv, &unknown_kid_token(&issuer, &srv, n)).await,
            "unknown kid",
        );
    }
    // One fetch per cooldown at most: one when the cooldown since the last fetch is over, then
    // one more per cooldown the flood lasted.
    let cooldowns = started.elapsed().as_millis() / cooldown.as_millis();
    let allowed = 1 + usize::try_from(cooldowns).unwrap();
    assert!(
        fake.requests() - before <= allowed,
        "at most one fetch per cooldown: {} fetches in {cooldowns} cooldowns",
        fake.requests() - before
    );
}

// ---------------------------------------------------------------------------------------------
// Introspection

/// A server checking tokens by introspection at `fake`'s `/introspect`.
async fn introspected(
    fake: &FakeAs,
    tune: impl FnOnce(IntrospectionConfig) -> IntrospectionConfig,
) -> TestServer {
    let config = tune(
        IntrospectionConfig::new(fake.url("/introspect"), "rs", "rs-secret")
            .allow_missing_audience(),
    );
    protected(IntrospectionValidator::new(config).unwrap(), &fake.url("")).await
}

const ACTIVE: &str = r#"{"active":true,"sub":"u","scope":"read"}"#;

/// AZ-18: an introspection endpoint that is down or slower than `http_timeout` is an outage:
/// 503 with `Retry-After` within the timeout, the challenge still answered meanwhile, and the
/// server serves again once the endpoint is back.
#[tokio::test]
async fn az18_introspection_down_or_slow_is_503_and_recovers() {
    let mut fake = FakeAs::start(Mode::Body("application/json", ACTIVE.into())).await;
    let timeout = Duration::from_secs(5);
    let srv = introspected(&fake, |c| c.http_timeout(timeout)).await;
    assert_eq!(bearer(&srv, "opaque-up").await.status, 200);

    fake.stop().await;
    assert_503_retry_after(&bearer(&srv, "opaque-down").await, "down");
    assert_challenge_without_credentials(&srv, "introspection down").await;

    fake.restart().await;
    fake.set(Mode::Hang);
    let url = srv.url();
    let slow = tokio::spawn(async move {
        tokio::time::timeout(
            timeout + MARGIN,
            post(&url, &[("authorization", "Bearer opaque-slow")], INIT),
        )
        .await
    });
    until(|| fake.held() == 1).await;
    assert_challenge_without_credentials(&srv, "introspection slow").await;
    // A token checked before is served from the cache meanwhile.
    assert_eq!(bearer(&srv, "opaque-up").await.status, 200);
    assert_eq!(
        fake.held(),
        1,
        "answered while the introspection still hung"
    );
    let r = slow.await.unwrap().expect("answered within http_timeout");
    assert_503_retry_after(&r, "slow");

    // Back: the refused tokens were not remembered as invalid.
    fake.set(Mode::Body("application/json", ACTIVE.into()));
    assert_eq!(bearer(&srv, "opaque-down").await.status, 200);
    assert_eq!(bearer(&srv, "opaque-slow").await.status, 200);
}

/// AZ-18 (the known gap "introspection body size"): a garbage or huge introspection answer is
/// 401 `invalid_token` (it shows nothing valid, and is no outage), the huge one unread past
/// `max_response_bytes`.
#[tokio::test]
async fn az18_garbage_or_huge_introspection_answers_are_invalid_tokens() {
    for (what, content_type, body) in [
        ("HTML", "text/html", "<html>login</html>"),
        ("truncated", "application/json", r#"{"active":tr"#),
        ("an array", "application/json", r#"[{"active":true}]"#),
        ("a string", "application/json", r#""active""#),
        (
            "active as a string",
            "application/json",
            r#"{"active":"true"}"#,
        ),
    ] {
        let fake = FakeAs::start(Mode::Body(content_type, body.into())).await;
        let srv = introspected(&fake, |c| c).await;
        assert_invalid_token(&bearer(&srv, "opaque-garbage").await, what);
        assert_challenge_without_credentials(&srv, what).await;
    }
    for announce in [false, true] {
        let len = 256 * 1024 * 1024;
        let fake = FakeAs::start(Mode::Huge { len, announce }).await;
        let srv = introspected(&fake, |c| c.max_response_bytes(64 * 1024)).await;
        assert_invalid_token(&bearer(&srv, "opaque-huge").await, "huge");
        assert!(
            fake.produced() < 32 * 1024 * 1024,
            "announce {announce}: {} bytes were produced",
            fake.produced()
        );
    }
    assert_eq!(
        IntrospectionConfig::new("u", "c", "s").max_response_bytes,
        IntrospectionConfig::DEFAULT_MAX_RESPONSE_BYTES
    );
}
