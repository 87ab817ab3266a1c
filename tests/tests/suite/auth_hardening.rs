//! Regression tests of the security review's findings on the authorization modules, black-box:
//! real servers on 127.0.0.1:0, stub authorization-server endpoints (axum) that count their
//! calls, raw HTTP. No test measures time: each counts calls or reads statuses.
//!
//! Finding numbers are those of issue 12.
//! - Finding 3 (Basic): a wrong-password flood is bounded; beyond the bound, 503.
//! - Finding 5 (introspection, AZ-18): only outages are "unavailable"; a 400 or 429 is an
//!   invalid token even under `fail_open`; a repeated junk token costs one call; the calls in
//!   flight are bounded, and a check over the bound is 503, never let in by `fail_open`.
//! - Finding 7 (DPoP replay cache, DP-12): a full cache refuses new proofs (503) and never
//!   forgets a live one.
//! - Finding 8 (JWKS, AZ-11h): a JWKS endpoint that is down is fetched once per cooldown.
//! - Finding 14a (DP-14, DP-15): a token bound by another confirmation method is no Bearer.
//! - Finding 14b (AZ-11a): a JWKS key marked for encryption never verifies a token.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine;
use mcp_server::auth::{
    AuthorizationConfig, BasicLimits, Danger, DpopConfig, IntrospectionConfig,
    IntrospectionValidator, JwtValidator, JwtValidatorConfig, MemoryStore, User, UserStore,
    hash_password,
};
use mcp_server::store::InMemoryReplayCache;
use mcp_server::testing::{DpopKey, TestIssuer, TestListener, TestServer};
use mcp_server::{Context, McpServer, NoArgs, ToolDef};
use mcp_tests::{RawResponse, post, until};
use serde_json::{Value, json};
use tokio::sync::watch;

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;

// ---------------------------------------------------------------------------------------------
// Helpers

/// A stub endpoint on 127.0.0.1:0 (`GET` and `POST` on `/stub`): answers `status` with `body`,
/// counts its calls, and holds each answer until its gate is open.
struct Stub {
    url: String,
    calls: Arc<AtomicUsize>,
    gate: watch::Sender<bool>,
}

impl Stub {
    async fn start(status: u16, body: Value) -> Stub {
        Self::start_gated(status, body, false).await
    }

    async fn start_gated(status: u16, body: Value, gated: bool) -> Stub {
        let calls = Arc::new(AtomicUsize::new(0));
        let (gate, open) = watch::channel(!gated);
        let counter = Arc::clone(&calls);
        let handler = move || {
            let (counter, mut open, body) = (counter.clone(), open.clone(), body.clone());
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = open.wait_for(|o| *o).await;
                let status = http::StatusCode::from_u16(status).expect("a status");
                (
                    status,
                    [(http::header::CONTENT_TYPE, "application/json")],
                    body.to_string(),
                )
            }
        };
        let app =
            axum::Router::new().route("/stub", axum::routing::get(handler.clone()).post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/stub", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Stub { url, calls, gate }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn open(&self) {
        self.gate.send_replace(true);
    }
}

async fn serve(auth: AuthorizationConfig) -> TestServer {
    let listener = TestListener::bind().await.unwrap();
    let server = McpServer::builder("hardened")
        .authorization(auth.resource(listener.url()))
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

/// A server checking tokens at the introspection stub.
async fn introspected(
    stub: &Stub,
    fail_open: bool,
    tune: impl FnOnce(IntrospectionConfig) -> IntrospectionConfig,
) -> TestServer {
    let config = tune(IntrospectionConfig::new(&stub.url, "rs", "rs-secret"));
    let auth = AuthorizationConfig::enabled()
        .authorization_server("http://127.0.0.1:9")
        .validator(IntrospectionValidator::new(config).unwrap());
    serve(if fail_open {
        auth.dangerously_allow(Danger::FailOpen)
    } else {
        auth
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Finding 5: introspection

/// AZ-18, finding 5: a 400 (about this token) or a 429 from the introspection endpoint is not
/// an outage: the token is invalid (401), and `fail_open` does not let it in.
#[tokio::test]
async fn az18_introspection_400_and_429_are_invalid_tokens_even_with_fail_open() {
    for status in [400, 429] {
        let stub = Stub::start(status, json!({"error": "invalid_request"})).await;
        let srv = introspected(&stub, true, |c| c).await;
        let token = "opaque-SECRET-token-1";
        let r = bearer(&srv, token).await;
        assert_invalid_token(&r, &format!("HTTP {status}"));
        assert!(!r.body.contains(token) && !r.challenges().contains(token));
        assert_eq!(stub.calls(), 1);
    }
}

/// AZ-18, finding 5: a 5xx is an outage: 503 with `Retry-After` (fail closed), or an
/// unauthenticated request under `fail_open`.
#[tokio::test]
async fn az18_introspection_5xx_is_503_or_fail_open() {
    let stub = Stub::start(500, json!({})).await;
    let srv = introspected(&stub, false, |c| c).await;
    assert_503_retry_after(&bearer(&srv, "opaque-1").await, "fail closed");
    let srv = introspected(&stub, true, |c| c).await;
    let r = bearer(&srv, "opaque-1").await;
    assert_eq!(r.status, 200, "fail_open: {}", r.body);
}

/// Finding 5: a repeated junk token costs one outbound call, whether the endpoint says
/// `active: false` or refuses it with a 400.
#[tokio::test]
async fn a_repeated_junk_token_makes_one_introspection_call() {
    for (status, body) in [
        (200, json!({"active": false})),
        (400, json!({"error": "invalid_request"})),
    ] {
        let stub = Stub::start(status, body).await;
        let srv = introspected(&stub, false, |c| c).await;
        for _ in 0..5 {
            assert_invalid_token(&bearer(&srv, "junk-token").await, "junk");
        }
        assert_eq!(stub.calls(), 1, "HTTP {status}");
        // Another junk token is asked about once too.
        assert_invalid_token(&bearer(&srv, "junk-token-2").await, "junk 2");
        assert_eq!(stub.calls(), 2, "HTTP {status}");
    }
}

/// Finding 5: at most `max_concurrent` introspection calls are in flight; a check that finds no
/// slot is 503 with `Retry-After`, even under `fail_open` (a flood must not open the door).
#[tokio::test]
async fn introspection_calls_in_flight_are_bounded_and_busy_is_503_never_fail_open() {
    let active = json!({"active": true, "scope": "read", "sub": "u"});
    let stub = Stub::start_gated(200, active, true).await;
    let srv = introspected(&stub, true, |c| {
        c.allow_missing_audience().concurrency(1, Duration::ZERO)
    })
    .await;
    let url = srv.url();
    let first = tokio::spawn(async move {
        let auth = "Bearer token-1";
        post(&url, &[("authorization", auth)], INIT).await.status
    });
    until(|| stub.calls() == 1).await;
    for token in ["token-2", "token-3"] {
        assert_503_retry_after(&bearer(&srv, token).await, token);
    }
    assert_eq!(stub.calls(), 1, "the refused checks made no call");
    stub.open();
    assert_eq!(first.await.unwrap(), 200);
    // Busy was no verdict: once a slot is free, the token is checked.
    assert_eq!(bearer(&srv, "token-2").await.status, 200);
    assert_eq!(stub.calls(), 2);
}

// ---------------------------------------------------------------------------------------------
// Findings 8 and 14b: JWKS

fn jwt_server_config(issuer: &TestIssuer, jwks_uri: &str) -> AuthorizationConfig {
    let config = JwtValidatorConfig::new(issuer.issuer(), "")
        .jwks_uri(jwks_uri)
        .jwks_cache(Duration::from_secs(300), Duration::from_secs(60));
    AuthorizationConfig::enabled()
        .authorization_server(issuer.issuer())
        .validator(JwtValidator::new(config).unwrap())
}

/// AZ-11h, finding 8: while no keys are cached, a JWKS endpoint that is down is fetched once per
/// cooldown; the requests in between get 503 at once.
#[tokio::test]
async fn az11h_a_down_jwks_endpoint_is_fetched_once_within_the_cooldown() {
    let issuer = TestIssuer::start().await.unwrap();
    let stub = Stub::start(500, json!({})).await;
    let srv = serve(jwt_server_config(&issuer, &stub.url)).await;
    let token = issuer.token(&srv.url()).scope("read").sign();
    for _ in 0..5 {
        assert_503_retry_after(&bearer(&srv, &token).await, "JWKS down");
    }
    assert_eq!(stub.calls(), 1);
}

/// AZ-11h, finding 8: concurrent requests while no keys are cached share one fetch, and when
/// it fails nobody fetches again after it (each waiter used to refetch in turn).
#[tokio::test]
async fn az11h_concurrent_requests_without_keys_share_one_failed_jwks_fetch() {
    let issuer = TestIssuer::start().await.unwrap();
    let stub = Stub::start_gated(500, json!({}), true).await;
    let srv = serve(jwt_server_config(&issuer, &stub.url)).await;
    let token = issuer.token(&srv.url()).scope("read").sign();
    let requests: Vec<_> = (0..6)
        .map(|_| {
            let (url, auth) = (srv.url(), format!("Bearer {token}"));
            tokio::spawn(async move { post(&url, &[("authorization", &auth)], INIT).await })
        })
        .collect();
    until(|| stub.calls() >= 1).await;
    // Let the other requests arrive and wait on the fetch (were one late, the cooldown would
    // still answer it without a fetch: the count below holds either way).
    tokio::time::sleep(Duration::from_millis(300)).await;
    stub.open();
    for r in requests {
        assert_503_retry_after(&r.await.unwrap(), "JWKS down");
    }
    assert_eq!(stub.calls(), 1);
}

/// AZ-11a, finding 14b: the issuer's own key, published with `"use": "enc"` (or `key_ops`
/// without `verify`), never verifies a token; published as a signature key, it does.
#[tokio::test]
async fn az11a_a_jwks_key_marked_for_encryption_never_verifies_a_token() {
    let issuer = TestIssuer::start().await.unwrap();
    let jwks: Value = reqwest::get(issuer.jwks_uri())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let marked = |patch: Value| {
        let mut doc = jwks.clone();
        for key in doc["keys"].as_array_mut().unwrap() {
            let key = key.as_object_mut().unwrap();
            key.remove("use");
            key.extend(patch.as_object().unwrap().clone());
        }
        doc
    };
    let cases = [
        ("use: enc", marked(json!({"use": "enc"})), 401),
        (
            "key_ops: encrypt",
            marked(json!({"key_ops": ["encrypt"]})),
            401,
        ),
        ("use: sig", marked(json!({"use": "sig"})), 200),
        (
            "key_ops: verify",
            marked(json!({"key_ops": ["verify"]})),
            200,
        ),
    ];
    for (what, doc, expected) in cases {
        let stub = Stub::start(200, doc).await;
        let srv = serve(jwt_server_config(&issuer, &stub.url)).await;
        let token = issuer.token(&srv.url()).scope("read").sign();
        let r = bearer(&srv, &token).await;
        assert_eq!(r.status, expected, "{what}: {} {}", r.challenges(), r.body);
        if expected == 401 {
            assert_invalid_token(&r, what);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Finding 7: DPoP replay cache

/// DP-12, finding 7: when every slot of the replay cache holds a live proof, a new proof is
/// refused with 503 (not let in, not evicting), and the captured proof stays a replay.
#[tokio::test]
async fn dp12_a_full_replay_cache_refuses_new_proofs_and_never_forgets_a_live_one() {
    let issuer = TestIssuer::start().await.unwrap();
    let cache = Arc::new(InMemoryReplayCache::new(1));
    let dpop = DpopConfig::allowed().replay_cache(cache.clone());
    let config = JwtValidatorConfig::new(issuer.issuer(), "");
    let srv = serve(
        AuthorizationConfig::enabled()
            .authorization_server(issuer.issuer())
            .validator(JwtValidator::new(config).unwrap())
            .dpop(dpop),
    )
    .await;
    let key = DpopKey::generate().unwrap();
    let token = issuer
        .token(&srv.url())
        .scope("read")
        .cnf_jkt(&key.thumbprint())
        .sign();
    let auth = format!("DPoP {token}");
    let send = |proof: String| {
        let (url, auth) = (srv.url(), auth.clone());
        async move {
            post(
                &url,
                &[("authorization", auth.as_str()), ("dpop", proof.as_str())],
                INIT,
            )
            .await
        }
    };
    let captured = key.proof("POST", &srv.url(), &token).sign();
    assert_eq!(send(captured.clone()).await.status, 200);
    assert_eq!(cache.len(), 1);
    // The attacker's flood of fresh proofs: refused, nothing evicted.
    for _ in 0..3 {
        let fresh = key.proof("POST", &srv.url(), &token).sign();
        assert_503_retry_after(&send(fresh).await, "full replay cache");
    }
    let r = send(captured).await;
    assert_eq!(r.status, 401, "the captured proof is still a replay");
    assert!(
        r.challenges().contains("invalid_dpop_proof"),
        "{}",
        r.challenges()
    );
}

// ---------------------------------------------------------------------------------------------
// Finding 14a: cnf

/// DP-14, DP-15, finding 14a: a token bound by a confirmation method this server cannot check
/// (mTLS `x5t#S256`, `jwk`, `jku`), or with a malformed `cnf.jkt`, is not accepted as Bearer.
#[tokio::test]
async fn dp14_a_token_bound_by_an_unsupported_confirmation_method_is_refused() {
    let issuer = TestIssuer::start().await.unwrap();
    let config = JwtValidatorConfig::new(issuer.issuer(), "");
    let srv = serve(
        AuthorizationConfig::enabled()
            .authorization_server(issuer.issuer())
            .validator(JwtValidator::new(config).unwrap())
            .dpop(DpopConfig::allowed()),
    )
    .await;
    let cases = [
        (
            "x5t#S256",
            json!({"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}),
        ),
        (
            "jwk",
            json!({"jwk": {"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}}),
        ),
        (
            "jku",
            json!({"jku": "https://client.example/jwks", "kid": "k"}),
        ),
        ("jkt number", json!({"jkt": 42})),
        ("jkt empty", json!({"jkt": ""})),
        ("cnf string", json!("abc")),
        ("cnf empty", json!({})),
    ];
    for (what, cnf) in cases {
        let token = issuer
            .token(&srv.url())
            .scope("read")
            .claim("cnf", cnf)
            .sign();
        assert_invalid_token(&bearer(&srv, &token).await, what);
    }
    // The control: no cnf at all is a plain Bearer token.
    let token = issuer.token(&srv.url()).scope("read").sign();
    assert_eq!(bearer(&srv, &token).await.status, 200);
}

// ---------------------------------------------------------------------------------------------
// Finding 3: Basic

/// Finding 3: a flood of wrong passwords beyond the bound of concurrent Argon2id checks (the
/// default: one per CPU, 2 s wait) gets 503 with `Retry-After` instead of queueing the whole
/// flood (memory stays under `max_concurrent × 19 MiB`: the unit tests count the checks running
/// at once); the right password still works afterwards.
#[tokio::test]
async fn basic_wrong_password_flood_beyond_the_bound_gets_503_and_the_right_password_still_works() {
    let store = Arc::new(MemoryStore::new());
    store
        .put_user(User::new("ada", "admin").password_hash(hash_password("ada-pass-123").unwrap()))
        .await
        .unwrap();
    // One check at a time, no waiting for a slot.
    let srv = serve(
        AuthorizationConfig::basic(Arc::clone(&store))
            .basic_limits(BasicLimits::new(1, Duration::ZERO)),
    )
    .await;
    let basic = |u: &str, p: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
        )
    };
    let flood: Vec<_> = (0..16)
        .map(|i| {
            let url = srv.url();
            // Unknown users and wrong passwords alike.
            let auth = if i % 2 == 0 {
                basic("ada", &format!("wrong-{i}"))
            } else {
                basic(&format!("nobody-{i}"), "wrong")
            };
            tokio::spawn(async move { post(&url, &[("authorization", &auth)], INIT).await })
        })
        .collect();
    let (mut refused, mut busy) = (0, 0);
    for r in flood {
        let r = r.await.unwrap();
        match r.status {
            401 => refused += 1,
            503 => {
                assert!(r.headers.contains_key("retry-after"));
                busy += 1;
            }
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    assert!(busy >= 1, "beyond the bound, 503 ({refused} checked)");
    let r = post(
        &srv.url(),
        &[("authorization", &basic("ada", "ada-pass-123"))],
        INIT,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
}
