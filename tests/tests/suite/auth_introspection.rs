//! Opaque tokens checked by RFC 7662 introspection at a real (in-process) authorization
//! server: active tokens for this resource pass, inactive, revoked, expired and foreign ones get
//! 401 `invalid_token`, an introspection endpoint that is down or failing (5xx) gives 503 (fail
//! closed) and one that refuses the request gives 401, answers are reused until their recheck
//! time, and a DPoP binding (`cnf.jkt`) found by introspection is enforced like a JWT's (AZ-11,
//! AZ-18, DP-14, DP-15).

use std::time::Duration;

use mcp_server::auth::{
    AuthorizationConfig, DpopConfig, IntrospectionConfig, IntrospectionValidator,
};
use mcp_server::testing::{DpopKey, TestIssuer, TestListener, TestServer};
use mcp_server::{Context, McpServer, NoArgs, ToolDef};
use mcp_tests::{RawResponse, post};

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;

async fn server(issuer: &TestIssuer, config: IntrospectionConfig) -> TestServer {
    let listener = TestListener::bind().await.unwrap();
    let auth = AuthorizationConfig::enabled()
        .authorization_server(issuer.issuer())
        .resource(listener.url())
        .required_scopes(["read"])
        .validator(IntrospectionValidator::new(config).unwrap())
        .dpop(DpopConfig::allowed());
    let server = McpServer::builder("introspected")
        .authorization(auth)
        .tool(ToolDef::from_fn("noop", |_: Context, _: NoArgs| async {
            "ok"
        }))
        .build()
        .unwrap();
    listener.spawn(server)
}

fn config(issuer: &TestIssuer) -> IntrospectionConfig {
    IntrospectionConfig::new(issuer.introspection_endpoint(), "mcp-rs", "rs-secret")
        .issuer(issuer.issuer())
}

async fn setup(recheck: Duration) -> (TestIssuer, TestServer) {
    let issuer = TestIssuer::start().await.unwrap();
    issuer.register_client("mcp-rs", "rs-secret", "");
    let srv = server(&issuer, config(&issuer).recheck_after(recheck)).await;
    (issuer, srv)
}

async fn bearer(srv: &TestServer, token: &str) -> RawResponse {
    let auth = format!("Bearer {token}");
    post(&srv.url(), &[("authorization", auth.as_str())], INIT).await
}

#[tokio::test]
async fn az11_active_tokens_for_this_resource_pass_and_answers_are_reused() {
    let (issuer, srv) = setup(Duration::from_secs(60)).await;
    let token = issuer.token(&srv.url()).scope("read").opaque();
    for _ in 0..3 {
        let r = bearer(&srv, &token).await;
        assert_eq!(r.status, 200, "{} {}", r.challenges(), r.body);
    }
    assert_eq!(
        issuer.introspections(),
        1,
        "the answer is reused until its recheck time"
    );
}

#[tokio::test]
async fn az11_inactive_foreign_expired_and_unknown_tokens_are_invalid() {
    let (issuer, srv) = setup(Duration::from_secs(60)).await;
    let cases = [
        (
            "foreign audience",
            issuer
                .token("https://other.example/mcp")
                .scope("read")
                .opaque(),
        ),
        (
            "expired",
            issuer
                .token(&srv.url())
                .scope("read")
                .expires_in(-120)
                .opaque(),
        ),
        ("unknown", "opaque-never-issued".to_owned()),
        (
            "other issuer",
            issuer
                .token(&srv.url())
                .scope("read")
                .claim("iss", "https://evil.example".into())
                .opaque(),
        ),
        // A JWT the issuer signed but never handed out through its token endpoint is unknown
        // to its introspection endpoint.
        ("minted jwt", issuer.token(&srv.url()).scope("read").sign()),
    ];
    for (what, token) in cases {
        let r = bearer(&srv, &token).await;
        assert_eq!(r.status, 401, "{what}");
        assert!(
            r.challenges().contains(r#"error="invalid_token""#),
            "{what}: {}",
            r.challenges()
        );
        assert!(!r.body.contains(&token) && !r.challenges().contains(&token));
    }
    // A valid token without the server's scope is a 403, not a 401 (AZ-18).
    let token = issuer.token(&srv.url()).scope("write").opaque();
    assert_eq!(bearer(&srv, &token).await.status, 403);
}

#[tokio::test]
async fn a_revoked_token_stops_working_at_its_recheck() {
    let (issuer, srv) = setup(Duration::ZERO).await;
    let token = issuer.token(&srv.url()).scope("read").opaque();
    assert_eq!(bearer(&srv, &token).await.status, 200);
    issuer.revoke(&token);
    let r = bearer(&srv, &token).await;
    assert_eq!(r.status, 401);
    assert!(r.challenges().contains("not active"), "{}", r.challenges());
}

#[tokio::test]
async fn az18_an_introspection_endpoint_that_refuses_or_is_down_fails_closed() {
    let issuer = TestIssuer::start().await.unwrap();
    issuer.register_client("mcp-rs", "rs-secret", "");
    // Wrong credentials of the resource server itself: the endpoint answers (401), so this is
    // not an outage `fail_open` could excuse; the token is not shown valid (finding 2).
    let wrong = IntrospectionConfig::new(issuer.introspection_endpoint(), "mcp-rs", "nope");
    let srv = server(&issuer, wrong).await;
    let token = issuer.token(&srv.url()).scope("read").opaque();
    let r = bearer(&srv, &token).await;
    assert_eq!(r.status, 401);
    assert!(r.challenges().contains(r#"error="invalid_token""#));

    // The authorization server down.
    let srv = server(&issuer, config(&issuer)).await;
    let token = issuer.token(&srv.url()).scope("read").opaque();
    issuer.set_available(false);
    assert_eq!(bearer(&srv, &token).await.status, 503);
    issuer.set_available(true);
    assert_eq!(bearer(&srv, &token).await.status, 200);
}

#[tokio::test]
async fn dp14_dp15_a_binding_found_by_introspection_is_enforced() {
    let (issuer, srv) = setup(Duration::from_secs(60)).await;
    let key = DpopKey::generate().unwrap();
    let token = issuer
        .token(&srv.url())
        .scope("read")
        .cnf_jkt(&key.thumbprint())
        .opaque();
    let proof = key.proof("POST", &srv.url(), &token).sign();
    let auth = format!("DPoP {token}");
    let r = post(
        &srv.url(),
        &[("authorization", auth.as_str()), ("dpop", proof.as_str())],
        INIT,
    )
    .await;
    assert_eq!(r.status, 200, "{} {}", r.challenges(), r.body);
    // The same token as Bearer is a downgrade.
    assert_eq!(bearer(&srv, &token).await.status, 401);
    // A proof by another key does not match the binding.
    let other = DpopKey::generate().unwrap();
    let proof = other.proof("POST", &srv.url(), &token).sign();
    let r = post(
        &srv.url(),
        &[("authorization", auth.as_str()), ("dpop", proof.as_str())],
        INIT,
    )
    .await;
    assert_eq!(r.status, 401);
    assert!(r.headers.get_all("www-authenticate").iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.contains("Invalid DPoP key binding"))
    }));
}
