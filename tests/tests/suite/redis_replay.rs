//! The DPoP replay cache shared through Redis (DP-12 across instances): two servers behind one
//! public URL, as behind a load balancer, share a `RedisReplayCache`; a proof accepted by one is
//! a replay to the other. A replay cache that cannot answer refuses the proof (503), never
//! accepts it.
//!
//! Needs a Redis server: set `MCP_TEST_REDIS_URL` (for example `redis://127.0.0.1:6379/`).
//! Without it each test says so and passes without checking anything, except under `CI`, where
//! it fails; `.ci/run` starts a Redis on loopback and sets it.

use std::sync::Arc;

use mcp_server::BoxFuture;
use mcp_server::auth::{AuthorizationConfig, DpopConfig, JwtValidator, JwtValidatorConfig};
use mcp_server::store::{RedisReplayCache, ReplayCache, ReplayCacheError};
use mcp_server::testing::{DpopKey, TestIssuer, TestServer, spawn};
use mcp_server::{Context, McpServer, NoArgs, ToolDef};
use mcp_tests::{RawResponse, post, redis_prefix, redis_url};

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;
/// The URL clients see; both instances are configured with it, as behind a load balancer.
const PUBLIC: &str = "http://mcp.example.test/mcp";

async fn instance(issuer: &TestIssuer, cache: Arc<dyn ReplayCache>) -> TestServer {
    let validator = JwtValidator::new(JwtValidatorConfig::new(issuer.issuer(), "")).unwrap();
    let dpop = DpopConfig::required().replay_cache(cache);
    let auth = AuthorizationConfig::enabled()
        .authorization_server(issuer.issuer())
        .required_scopes(["read"])
        .resource(PUBLIC)
        .validator(validator)
        .dpop(dpop);
    let server = McpServer::builder("replay")
        .authorization(auth)
        .tool(ToolDef::from_fn("noop", |_: Context, _: NoArgs| async {
            "ok"
        }))
        .build()
        .unwrap();
    spawn(server).await.unwrap()
}

async fn call(srv: &TestServer, token: &str, proof: &str) -> RawResponse {
    let auth = format!("DPoP {token}");
    post(
        &srv.url(),
        &[("authorization", auth.as_str()), ("dpop", proof)],
        INIT,
    )
    .await
}

#[tokio::test]
async fn dp12_a_proof_accepted_by_one_instance_is_a_replay_to_the_other() {
    let Some(url) = redis_url() else { return };
    let prefix = redis_prefix();
    let cache = RedisReplayCache::connect(&url, prefix.clone())
        .await
        .unwrap();
    let issuer = TestIssuer::start().await.unwrap();
    let a = instance(&issuer, Arc::new(cache.clone())).await;
    let b = instance(&issuer, Arc::new(cache)).await;
    let key = DpopKey::generate().unwrap();
    let token = issuer
        .token(PUBLIC)
        .scope("read")
        .cnf_jkt(&key.thumbprint())
        .sign();

    let proof = key.proof("POST", PUBLIC, &token).sign();
    let first = call(&a, &token, &proof).await;
    assert_eq!(first.status, 200, "{} {}", first.challenges(), first.body);
    for srv in [&b, &a] {
        let again = call(srv, &token, &proof).await;
        assert_eq!(again.status, 401);
        let c = again.challenges();
        assert!(c.contains(r#"error="invalid_dpop_proof""#), "{c}");
        assert!(c.contains("already used"), "{c}");
    }
    // A fresh proof is fine on either instance.
    for srv in [&b, &a] {
        let fresh = key.proof("POST", PUBLIC, &token).sign();
        assert_eq!(call(srv, &token, &fresh).await.status, 200);
    }

    // What Redis holds: one key per accepted proof, each expiring with the iat window.
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(keys.len(), 3, "{keys:?}");
    for k in &keys {
        let ttl: i64 = redis::cmd("TTL")
            .arg(k)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!((1..=600).contains(&ttl), "{k}: ttl {ttl}");
    }
    // Neither the token nor the proof is stored.
    for k in &keys {
        assert!(!k.contains(&token) && !proof.contains(k.trim_start_matches(&prefix)));
        let v: String = redis::cmd("GET")
            .arg(k)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(v, "1");
    }
}

/// A replay cache whose store is down.
struct Unreachable;

impl ReplayCache for Unreachable {
    fn insert_fresh(&self, _: [u8; 32], _: u64) -> BoxFuture<'_, Result<bool, ReplayCacheError>> {
        Box::pin(async { Err(ReplayCacheError::Unavailable("connection refused".into())) })
    }
}

#[tokio::test]
async fn dp12_a_replay_cache_that_cannot_answer_refuses_with_503() {
    let issuer = TestIssuer::start().await.unwrap();
    let srv = instance(&issuer, Arc::new(Unreachable)).await;
    let key = DpopKey::generate().unwrap();
    let token = issuer
        .token(PUBLIC)
        .scope("read")
        .cnf_jkt(&key.thumbprint())
        .sign();
    let r = call(&srv, &token, &key.proof("POST", PUBLIC, &token).sign()).await;
    assert_eq!(r.status, 503);
    assert!(r.headers.contains_key("retry-after"));
    assert!(!r.body.contains(&token));
}

#[tokio::test]
async fn a_redis_that_is_not_there_is_an_error_not_a_panic() {
    // A port nothing listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis://:secret-password@127.0.0.1:{port}/");
    let err = RedisReplayCache::connect(&url, "x:").await.unwrap_err();
    assert!(!err.to_string().contains("secret-password"), "{err}");
    let err = RedisReplayCache::connect("not a url", "x:")
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("not a url"), "{err}");
}
