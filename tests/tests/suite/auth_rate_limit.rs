//! Rate limiting of failed authentications (`AuthFailureLimits`), black-box: real servers on
//! 127.0.0.1:0 (`testing::spawn`, `TestListener`), real API keys, real tokens from `TestIssuer`,
//! Argon2id passwords. Clients bind their sockets to other loopback addresses (127.0.0.2, ...,
//! all loopback on Linux) to be distinct clients. No test measures time: each counts statuses,
//! or waits for a refill by polling with a bound.
//!
//! Checklist ids: AZ-08 (a request without credentials is the plain 401 challenge, never
//! counted), AZ-10 / AZ-11 (every failed check is 401 `invalid_token` until the budget is spent),
//! AZ-14 (403 `insufficient_scope` is not a failed authentication), AZ-18 (429 is an addition to
//! the status mapping for clients over budget, never a 401/403 in disguise), AZ-19 / L-63 (no
//! token or key in a log line, an audit event or a response), AZ-21 (refused before any
//! JSON-RPC work), DP-19 (a `use_dpop_nonce` answer is a protocol step, not a failure).

use std::io::Write;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use mcp_server::auth::{
    ApiKeySecret, ApiKeys, AuditEvent, AuthFailureLimits, AuthorizationConfig, CredentialKind,
    DpopConfig, IntrospectionConfig, IntrospectionValidator, JwtValidator, JwtValidatorConfig,
    MemoryAuditSink, MemoryStore, NewApiKey, Surface, User, UserStore, hash_password,
};
use mcp_server::testing::{DpopKey, TestIssuer, TestListener, TestServer, spawn};
use mcp_server::{Context, McpServer, NoArgs, ToolDef};
use mcp_tests::{JSON_AND_SSE, RawResponse};
use serde_json::json;

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;

const MINUTE: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// Helpers

/// POSTs `body` to `url` from the loopback address `from`, with `extra` headers.
async fn post_from(from: &str, url: &str, extra: &[(&str, &str)], body: &str) -> RawResponse {
    let local: IpAddr = from.parse().expect("a loopback address");
    let client = reqwest::Client::builder()
        .local_address(local)
        .build()
        .expect("a client");
    let mut req = client
        .post(url)
        .header("content-type", "application/json")
        .header("accept", JSON_AND_SSE);
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let resp = req
        .body(body.to_owned())
        .send()
        .await
        .expect("the server answers");
    RawResponse {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: resp.text().await.unwrap_or_default(),
    }
}

/// An `initialize` of the legacy era (2025-11-25) with `Authorization: Bearer <token>`.
async fn bearer_from(from: &str, url: &str, token: &str) -> RawResponse {
    let auth = format!("Bearer {token}");
    post_from(from, url, &[("authorization", auth.as_str())], INIT).await
}

/// A `server/discover` of the modern era (2026-07-28) with `Authorization: Bearer <token>`.
async fn modern_from(from: &str, url: &str, token: &str) -> RawResponse {
    let auth = format!("Bearer {token}");
    let body = json!({
        "jsonrpc": "2.0", "id": 1, "method": "server/discover",
        "params": {"_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "0"},
        }}
    })
    .to_string();
    let headers = [
        ("authorization", auth.as_str()),
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "server/discover"),
    ];
    post_from(from, url, &headers, &body).await
}

/// The 429 of a spent budget: exact status, a `Retry-After` of whole seconds within `1..=max`,
/// the documented body, no challenge, and nothing of `secret`.
fn assert_throttled(r: &RawResponse, max_retry: u64, secret: &str, what: &str) -> u64 {
    assert_eq!(r.status, 429, "{what}: {} {}", r.challenges(), r.body);
    let retry: u64 = r
        .header("retry-after")
        .unwrap_or_else(|| panic!("{what}: no Retry-After"))
        .parse()
        .unwrap_or_else(|e| panic!("{what}: Retry-After is not whole seconds: {e}"));
    assert!(
        (1..=max_retry).contains(&retry),
        "{what}: Retry-After {retry}"
    );
    let body = r.json();
    assert_eq!(body["error"], "too_many_requests", "{what}: {}", r.body);
    assert!(
        body.get("reason").is_none(),
        "{what}: which budget is not said"
    );
    assert_eq!(r.challenges(), "", "{what}: a 429 carries no challenge");
    let all = format!("{:?} {}", r.headers, r.body);
    assert!(
        !secret.is_empty() && !all.contains(secret),
        "{what}: echoed"
    );
    retry
}

/// A server with a `noop` tool.
fn server(auth: AuthorizationConfig) -> McpServer {
    McpServer::builder("limited")
        .authorization(auth)
        .tool(ToolDef::from_fn("noop", |_: Context, _: NoArgs| async {
            "ok"
        }))
        .build()
        .expect("the server builds")
}

/// A builtin-mode server with `limits`, an audit sink, and one valid key for the MCP surface.
async fn builtin(limits: AuthFailureLimits) -> (TestServer, ApiKeys, MemoryAuditSink, String) {
    let keys = ApiKeys::in_memory();
    let audit = MemoryAuditSink::new();
    let config = AuthorizationConfig::builtin(keys.clone())
        .audit(audit.clone())
        .auth_failure_limits(limits);
    let srv = spawn(server(config)).await.unwrap();
    let valid = new_key(&keys, Surface::Mcp).await;
    (srv, keys, audit, valid)
}

async fn new_key(keys: &ApiKeys, surface: Surface) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = format!("k{}", NEXT.fetch_add(1, Ordering::Relaxed));
    keys.create(NewApiKey::new(name, "viewer").surface(surface))
        .await
        .unwrap()
        .secret
        .expose()
        .to_owned()
}

/// A well-formed key that no store knows.
fn unknown_key() -> String {
    ApiKeySecret::generate("mcp_").unwrap().expose().to_owned()
}

/// An OAuth server checking JWTs of `issuer`, needing scope `read`.
async fn oauth(issuer: &TestIssuer, limits: AuthFailureLimits, dpop: DpopConfig) -> TestServer {
    let listener = TestListener::bind().await.unwrap();
    let validator = JwtValidator::new(JwtValidatorConfig::new(issuer.issuer(), "")).unwrap();
    let config = AuthorizationConfig::enabled()
        .authorization_server(issuer.issuer())
        .resource(listener.url())
        .required_scopes(["read"])
        .validator(validator)
        .dpop(dpop)
        .auth_failure_limits(limits);
    listener.spawn(server(config))
}

/// Every event of every target at every level, emitted on the test's thread while it lives (a
/// `#[tokio::test]` runs the server on that thread too).
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn start(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

// ---------------------------------------------------------------------------------------------
// Per address

/// AZ-10, AZ-18, AZ-21: N failed API keys from one address are 401 each, then that address gets
/// 429 with `Retry-After` (before any key lookup), on both eras, even for a valid key; another
/// address keeps its own budget; a request without credentials is still the plain 401 (AZ-08).
#[tokio::test]
async fn failures_from_one_address_are_429_with_retry_after_on_both_eras() {
    let capture = Capture::default();
    let _logs = capture.start();
    let limits = AuthFailureLimits::default()
        .per_address(3, MINUTE)
        .without_per_credential();
    let (srv, _keys, audit, valid) = builtin(limits).await;
    let url = srv.url();
    let mut secrets = vec![valid.clone()];
    for i in 0..3 {
        let forged = unknown_key();
        let r = bearer_from("127.0.0.1", &url, &forged).await;
        assert_eq!(r.status, 401, "failure {i} is within budget: {}", r.body);
        assert!(r.challenges().contains(r#"error="invalid_token""#));
        secrets.push(forged);
    }
    let forged = unknown_key();
    let r = bearer_from("127.0.0.1", &url, &forged).await;
    // One failure comes back every 60 s / 3 = 20 s.
    assert_throttled(&r, 20, &forged, "the 4th failure");
    secrets.push(forged);
    // A valid key from the throttled address: refused too while it is over budget, on both eras.
    assert_throttled(
        &bearer_from("127.0.0.1", &url, &valid).await,
        20,
        &valid,
        "legacy",
    );
    assert_throttled(
        &modern_from("127.0.0.1", &url, &valid).await,
        20,
        &valid,
        "modern",
    );
    let by_header = post_from("127.0.0.1", &url, &[("x-api-key", valid.as_str())], INIT).await;
    assert_throttled(&by_header, 20, &valid, "X-API-Key");
    // AZ-08: without credentials, the plain challenge (no error), never 429.
    let r = post_from("127.0.0.1", &url, &[], INIT).await;
    assert_eq!(r.status, 401);
    assert!(!r.challenges().contains("error="), "{}", r.challenges());
    // Another address has its own budget.
    let r = bearer_from("127.0.0.2", &url, &valid).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = modern_from("127.0.0.2", &url, &valid).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let forged = unknown_key();
    assert_eq!(bearer_from("127.0.0.2", &url, &forged).await.status, 401);
    secrets.push(forged);

    // The 429s are audited with the address and the credential kind; nothing anywhere carries
    // a key (AZ-19, L-63).
    let events = audit.events();
    let throttled: Vec<&AuditEvent> = events
        .iter()
        .filter(|e| e.reason.as_deref() == Some("too_many_failures"))
        .collect();
    assert_eq!(throttled.len(), 4, "{events:#?}");
    for e in &throttled {
        assert_eq!(e.client_address.as_deref(), Some("127.0.0.1"));
        assert_eq!(e.credential_kind, Some(CredentialKind::ApiKey));
        assert_eq!(e.surface.as_deref(), Some("mcp"));
    }
    let logs = capture.text();
    assert!(
        logs.contains("failed-authentication budget spent") && logs.contains("127.0.0.1"),
        "the budget running out is a WARN with the address: {logs}"
    );
    let audit_json = serde_json::to_string(&events).unwrap();
    for s in &secrets {
        assert!(!logs.contains(s.as_str()), "a key in the logs");
        assert!(!audit_json.contains(s.as_str()), "a key in the audit trail");
    }
}

/// AZ-08: requests without credentials and successful ones never spend the budget; only
/// failures do.
#[tokio::test]
async fn missing_credentials_and_successes_are_not_counted() {
    let limits = AuthFailureLimits::default()
        .per_address(2, MINUTE)
        .per_credential(2, MINUTE);
    let (srv, _keys, _audit, valid) = builtin(limits).await;
    let url = srv.url();
    for _ in 0..10 {
        let r = post_from("127.0.0.1", &url, &[], INIT).await;
        assert_eq!(r.status, 401);
        let r = post_from(
            "127.0.0.1",
            &url,
            &[("authorization", "Basic Zm9vOmJhcg==")],
            INIT,
        )
        .await;
        assert_eq!(r.status, 401, "another scheme is no credential (BE-03)");
        let r = bearer_from("127.0.0.1", &url, &valid).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    // Two headers are a bad request, not a failed authentication.
    for _ in 0..5 {
        let r = post_from(
            "127.0.0.1",
            &url,
            &[("authorization", "Bearer a"), ("authorization", "Bearer b")],
            INIT,
        )
        .await;
        assert_eq!(r.status, 400);
    }
    // The whole budget is still there: two failures, then 429.
    for _ in 0..2 {
        assert_eq!(
            bearer_from("127.0.0.1", &url, &unknown_key()).await.status,
            401
        );
    }
    let forged = unknown_key();
    assert_throttled(
        &bearer_from("127.0.0.1", &url, &forged).await,
        30,
        &forged,
        "3rd failure",
    );
}

/// AZ-14: a 403 (scope, surface) comes after a successful authentication and is not counted.
#[tokio::test]
async fn refusals_after_authentication_are_not_counted() {
    let issuer = TestIssuer::start().await.unwrap();
    let limits = AuthFailureLimits::default()
        .per_address(2, MINUTE)
        .per_credential(2, MINUTE);
    let srv = oauth(&issuer, limits, DpopConfig::default()).await;
    let url = srv.url();
    let no_scope = issuer.token(&url).scope("other").sign();
    for _ in 0..8 {
        let r = bearer_from("127.0.0.1", &url, &no_scope).await;
        assert_eq!(r.status, 403, "{}", r.body);
        assert!(r.challenges().contains(r#"error="insufficient_scope""#));
    }
    let good = issuer.token(&url).scope("read").sign();
    assert_eq!(bearer_from("127.0.0.1", &url, &good).await.status, 200);

    // An API key on the wrong surface: 403, not counted either.
    let (srv, keys, _audit, valid) = builtin(
        AuthFailureLimits::default()
            .per_address(2, MINUTE)
            .per_credential(2, MINUTE),
    )
    .await;
    let rest_only = new_key(&keys, Surface::RestApi).await;
    for _ in 0..6 {
        let r = bearer_from("127.0.0.1", &srv.url(), &rest_only).await;
        assert_eq!(r.status, 403, "{}", r.body);
    }
    assert_eq!(
        bearer_from("127.0.0.1", &srv.url(), &valid).await.status,
        200
    );
}

// ---------------------------------------------------------------------------------------------
// Per credential

/// One revoked key hammered from many addresses is throttled by its own budget; other keys and
/// the addresses themselves are not.
#[tokio::test]
async fn one_revoked_key_from_many_addresses_is_throttled() {
    let limits = AuthFailureLimits::default()
        .per_address(100, MINUTE)
        .per_credential(3, MINUTE);
    let (srv, keys, _audit, valid) = builtin(limits).await;
    let url = srv.url();
    let created = keys
        .create(NewApiKey::new("leaked", "viewer").surface(Surface::Mcp))
        .await
        .unwrap();
    let leaked = created.secret.expose().to_owned();
    assert_eq!(bearer_from("127.0.0.9", &url, &leaked).await.status, 200);
    keys.revoke(&created.key.id).await.unwrap();
    for from in ["127.0.0.2", "127.0.0.3", "127.0.0.4"] {
        let r = bearer_from(from, &url, &leaked).await;
        assert_eq!(r.status, 401, "{from}: {}", r.body);
    }
    for from in ["127.0.0.5", "127.0.0.6"] {
        let r = post_from(from, &url, &[("x-api-key", leaked.as_str())], INIT).await;
        // 60 s / 3: one failure back every 20 s.
        assert_throttled(&r, 20, &leaked, from);
    }
    // The addresses are fine for other credentials.
    assert_eq!(
        bearer_from("127.0.0.5", &url, &unknown_key()).await.status,
        401
    );
    assert_eq!(bearer_from("127.0.0.5", &url, &valid).await.status, 200);
}

/// Forged and expired JWTs count against the token (by digest) and the address; the token's
/// budget follows it across addresses.
#[tokio::test]
async fn forged_tokens_are_throttled_per_token_and_per_address() {
    let issuer = TestIssuer::start().await.unwrap();
    let limits = AuthFailureLimits::default()
        .per_address(4, MINUTE)
        .per_credential(2, MINUTE);
    let srv = oauth(&issuer, limits, DpopConfig::default()).await;
    let url = srv.url();
    let forged = issuer.token(&url).scope("read").tampered();
    assert_eq!(bearer_from("127.0.0.2", &url, &forged).await.status, 401);
    assert_eq!(bearer_from("127.0.0.3", &url, &forged).await.status, 401);
    assert_throttled(
        &bearer_from("127.0.0.4", &url, &forged).await,
        30,
        &forged,
        "the forged token from a third address",
    );
    // Address budget: distinct expired tokens from one address.
    for i in 0..4 {
        let expired = issuer.token(&url).scope("read").expires_in(-600).sign();
        let r = bearer_from("127.0.0.5", &url, &expired).await;
        assert_eq!(r.status, 401, "expired token {i}");
    }
    let good = issuer.token(&url).scope("read").sign();
    assert_throttled(
        &bearer_from("127.0.0.5", &url, &good).await,
        15,
        &good,
        "a valid token from a throttled address",
    );
    assert_eq!(bearer_from("127.0.0.6", &url, &good).await.status, 200);
}

/// Over budget, the credential is not checked at all: no introspection call for the refused
/// requests (the expensive part of an opaque token).
#[tokio::test]
async fn a_throttled_request_costs_no_introspection() {
    let issuer = TestIssuer::start().await.unwrap();
    issuer.register_client("mcp-rs", "rs-secret", "");
    let listener = TestListener::bind().await.unwrap();
    let introspection =
        IntrospectionConfig::new(issuer.introspection_endpoint(), "mcp-rs", "rs-secret")
            .issuer(issuer.issuer());
    let config = AuthorizationConfig::enabled()
        .authorization_server(issuer.issuer())
        .resource(listener.url())
        .validator(IntrospectionValidator::new(introspection).unwrap())
        .auth_failure_limits(AuthFailureLimits::default().per_address(3, MINUTE));
    let srv = listener.spawn(server(config));
    let url = srv.url();
    for i in 0..3 {
        let junk = format!("junk-token-{i}");
        assert_eq!(bearer_from("127.0.0.1", &url, &junk).await.status, 401);
    }
    let calls = issuer.introspections();
    assert_eq!(calls, 3);
    for i in 3..10 {
        let junk = format!("junk-token-{i}");
        assert_throttled(
            &bearer_from("127.0.0.1", &url, &junk).await,
            20,
            &junk,
            "junk",
        );
    }
    assert_eq!(issuer.introspections(), calls, "nothing was introspected");
    let good = issuer.token(&url).opaque();
    assert_eq!(bearer_from("127.0.0.2", &url, &good).await.status, 200);
}

/// Basic: wrong passwords count against the user name from any address; over budget even the
/// right password waits (the documented lockout trade-off), other users do not.
#[tokio::test]
async fn basic_wrong_passwords_are_throttled_per_user() {
    let users = MemoryStore::new();
    for (name, pw) in [("ada", "ada-pw"), ("bob", "bob-pw")] {
        let phc = hash_password(pw).unwrap();
        users
            .put_user(User::new(name, "viewer").password_hash(phc))
            .await
            .unwrap();
    }
    let config = AuthorizationConfig::basic(users).auth_failure_limits(
        AuthFailureLimits::default()
            .per_address(50, MINUTE)
            .per_credential(2, MINUTE),
    );
    let srv = spawn(server(config)).await.unwrap();
    let url = srv.url();
    let basic = |user: &str, pw: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"))
        )
    };
    let wrong = basic("ada", "guess");
    for from in ["127.0.0.2", "127.0.0.3"] {
        let r = post_from(from, &url, &[("authorization", wrong.as_str())], INIT).await;
        assert_eq!(r.status, 401, "{}", r.body);
    }
    let right = basic("ada", "ada-pw");
    let r = post_from(
        "127.0.0.4",
        &url,
        &[("authorization", right.as_str())],
        INIT,
    )
    .await;
    assert_throttled(
        &r,
        30,
        "ada-pw",
        "ada's right password while ada is throttled",
    );
    let bob = basic("bob", "bob-pw");
    let r = post_from("127.0.0.4", &url, &[("authorization", bob.as_str())], INIT).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// DPoP: a bad proof for a valid bound token counts against the address only, so whoever stole
/// the token cannot lock its holder out; the nonce step (DP-19) is not counted at all.
#[tokio::test]
async fn bad_dpop_proofs_count_against_the_address_only_and_nonces_not_at_all() {
    let issuer = TestIssuer::start().await.unwrap();
    let limits = AuthFailureLimits::default()
        .per_address(2, MINUTE)
        .per_credential(1, MINUTE);
    let srv = oauth(&issuer, limits, DpopConfig::allowed()).await;
    let url = srv.url();
    let key = DpopKey::generate().unwrap();
    let thief = DpopKey::generate().unwrap();
    let token = issuer
        .token(&url)
        .scope("read")
        .cnf_jkt(&key.thumbprint())
        .sign();
    let auth = format!("DPoP {token}");
    for _ in 0..2 {
        let proof = thief.proof("POST", &url, &token).sign();
        let r = post_from(
            "127.0.0.2",
            &url,
            &[("authorization", auth.as_str()), ("dpop", proof.as_str())],
            INIT,
        )
        .await;
        assert_eq!(r.status, 401, "{}", r.challenges());
    }
    let proof = thief.proof("POST", &url, &token).sign();
    let r = post_from(
        "127.0.0.2",
        &url,
        &[("authorization", auth.as_str()), ("dpop", proof.as_str())],
        INIT,
    )
    .await;
    assert_throttled(&r, 30, &token, "the thief's address");
    // The holder, elsewhere, is not locked out.
    let proof = key.proof("POST", &url, &token).sign();
    let r = post_from(
        "127.0.0.3",
        &url,
        &[("authorization", auth.as_str()), ("dpop", proof.as_str())],
        INIT,
    )
    .await;
    assert_eq!(r.status, 200, "{} {}", r.challenges(), r.body);

    // DP-19: with server nonces, `use_dpop_nonce` answers are never counted.
    let nonces = DpopConfig::allowed()
        .with_nonces(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60));
    let srv = oauth(
        &issuer,
        AuthFailureLimits::default()
            .per_address(1, MINUTE)
            .per_credential(1, MINUTE),
        nonces,
    )
    .await;
    let url = srv.url();
    let token = issuer
        .token(&url)
        .scope("read")
        .cnf_jkt(&key.thumbprint())
        .sign();
    let auth = format!("DPoP {token}");
    let mut nonce = String::new();
    for _ in 0..5 {
        let proof = key.proof("POST", &url, &token).sign();
        let r = post_from(
            "127.0.0.1",
            &url,
            &[("authorization", auth.as_str()), ("dpop", proof.as_str())],
            INIT,
        )
        .await;
        assert_eq!(r.status, 401);
        assert!(
            r.challenges().contains("use_dpop_nonce"),
            "{}",
            r.challenges()
        );
        nonce = r.header("dpop-nonce").unwrap().to_owned();
    }
    let proof = key.proof("POST", &url, &token).nonce(&nonce).sign();
    let r = post_from(
        "127.0.0.1",
        &url,
        &[("authorization", auth.as_str()), ("dpop", proof.as_str())],
        INIT,
    )
    .await;
    assert_eq!(r.status, 200, "{} {}", r.challenges(), r.body);
}

// ---------------------------------------------------------------------------------------------
// Refill, bounds, and routers without the client address

/// The budget refills after the period: a throttled address is let in again (polled with a
/// valid key, which never spends the budget), and spends it again with new failures.
#[tokio::test]
async fn the_budget_refills_after_the_period() {
    let limits = AuthFailureLimits::default()
        .per_address(2, Duration::from_secs(2))
        .without_per_credential();
    let (srv, _keys, _audit, valid) = builtin(limits).await;
    let url = srv.url();
    for _ in 0..2 {
        assert_eq!(
            bearer_from("127.0.0.1", &url, &unknown_key()).await.status,
            401
        );
    }
    let r = bearer_from("127.0.0.1", &url, &valid).await;
    // One failure back every second.
    assert_throttled(&r, 1, &valid, "throttled");
    let mut refilled = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let r = bearer_from("127.0.0.1", &url, &valid).await;
        if r.status == 200 {
            refilled = true;
            break;
        }
        assert_eq!(r.status, 429, "{}", r.body);
    }
    assert!(refilled, "the budget never refilled");
    assert_eq!(
        bearer_from("127.0.0.1", &url, &unknown_key()).await.status,
        401
    );
    let mut again = false;
    for _ in 0..10 {
        if bearer_from("127.0.0.1", &url, &unknown_key()).await.status == 429 {
            again = true;
            break;
        }
    }
    assert!(again, "new failures spend the refilled budget");
}

/// The tables are bounded: with room for 3 credentials, a 4th new failing credential is
/// refused (429, fail closed: `Retry-After` is the period) and not tracked, tracked ones go on
/// as usual, and valid credentials are never refused for it. The same for addresses.
#[tokio::test]
async fn a_full_table_fails_closed_for_new_failures_only() {
    let limits = AuthFailureLimits::default()
        .without_per_address()
        .per_credential(5, MINUTE)
        .max_tracked(3);
    let (srv, _keys, audit, valid) = builtin(limits).await;
    let url = srv.url();
    let tracked: Vec<String> = (0..3).map(|_| unknown_key()).collect();
    for k in &tracked {
        assert_eq!(bearer_from("127.0.0.1", &url, k).await.status, 401);
    }
    for _ in 0..5 {
        let forged = unknown_key();
        let r = bearer_from("127.0.0.1", &url, &forged).await;
        assert_eq!(assert_throttled(&r, 60, &forged, "table full"), 60);
    }
    assert_eq!(
        bearer_from("127.0.0.1", &url, &tracked[0]).await.status,
        401
    );
    for _ in 0..3 {
        assert_eq!(bearer_from("127.0.0.1", &url, &valid).await.status, 200);
    }
    assert!(
        audit
            .events()
            .iter()
            .any(|e| e.reason.as_deref() == Some("auth_failures_table_full"))
    );

    let limits = AuthFailureLimits::default()
        .per_address(5, MINUTE)
        .without_per_credential()
        .max_tracked(2);
    let (srv, _keys, _audit, valid) = builtin(limits).await;
    let url = srv.url();
    for from in ["127.0.0.2", "127.0.0.3"] {
        assert_eq!(bearer_from(from, &url, &unknown_key()).await.status, 401);
    }
    let forged = unknown_key();
    assert_throttled(
        &bearer_from("127.0.0.4", &url, &forged).await,
        60,
        &forged,
        "a new address, table full",
    );
    assert_eq!(bearer_from("127.0.0.4", &url, &valid).await.status, 200);
    assert_eq!(
        bearer_from("127.0.0.2", &url, &unknown_key()).await.status,
        401
    );
}

/// A router served without `ConnectInfo` (the application's own `axum::serve`): the address
/// budget is skipped (logged once), the credential budget still applies.
#[tokio::test]
async fn without_the_client_address_only_credentials_are_budgeted() {
    let capture = Capture::default();
    let _logs = capture.start();
    let keys = ApiKeys::in_memory();
    let config = AuthorizationConfig::builtin(keys.clone()).auth_failure_limits(
        AuthFailureLimits::default()
            .per_address(2, MINUTE)
            .per_credential(2, MINUTE),
    );
    let app = server(config).into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    for _ in 0..6 {
        assert_eq!(
            bearer_from("127.0.0.1", &url, &unknown_key()).await.status,
            401
        );
    }
    let same = unknown_key();
    for _ in 0..2 {
        assert_eq!(bearer_from("127.0.0.1", &url, &same).await.status, 401);
    }
    assert_throttled(
        &bearer_from("127.0.0.1", &url, &same).await,
        30,
        &same,
        "per credential",
    );
    let logs = capture.text();
    assert_eq!(
        logs.matches("without the client's address").count(),
        1,
        "warned once: {logs}"
    );
}

/// Turning the limits off takes `AuthFailureLimits::disabled()`, and then nothing is throttled;
/// `build()` refuses unusable limits and limits in mode `none`.
#[tokio::test]
async fn the_limits_are_off_only_by_name_and_checked_by_build() {
    let (srv, _keys, _audit, valid) = builtin(AuthFailureLimits::disabled()).await;
    for _ in 0..40 {
        assert_eq!(
            bearer_from("127.0.0.1", &srv.url(), &unknown_key())
                .await
                .status,
            401
        );
    }
    assert_eq!(
        bearer_from("127.0.0.1", &srv.url(), &valid).await.status,
        200
    );

    let bad = AuthorizationConfig::builtin(ApiKeys::in_memory())
        .auth_failure_limits(AuthFailureLimits::default().per_address(0, MINUTE));
    let Err(e) = McpServer::builder("x").authorization(bad).build() else {
        panic!("a budget of 0 failures is refused");
    };
    assert!(
        e.to_string().contains("failed-authentication limits"),
        "{e}"
    );
    let none = AuthorizationConfig::none().auth_failure_limits(AuthFailureLimits::default());
    assert!(McpServer::builder("x").authorization(none).build().is_err());
}
