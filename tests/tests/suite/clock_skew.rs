//! Clock skew between the authorization server, the client and this server: time claims within
//! the documented leeway are accepted, beyond it refused. Requirement ids refer to
//! `CHECKLIST.md`: AZ-11f (JWT `exp`, `nbf`, `iat` with a small leeway: `JwtValidatorConfig`'s
//! `leeway`, default 60 s; introspection answers the same with `IntrospectionConfig`'s), DP-11
//! (DPoP proof `iat` within ±`DpopConfig::iat_window`, default 300 s).
//!
//! Every offset is at least 20 s away from its bound, so the seconds a test takes never decide
//! its outcome.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mcp_server::auth::{
    AuthorizationConfig, DpopConfig, IntrospectionConfig, IntrospectionValidator, JwtValidator,
    JwtValidatorConfig, TokenValidator,
};
use mcp_server::testing::{DpopKey, TestIssuer, TestListener, TestServer};
use mcp_server::{Context, McpServer, NoArgs, ToolDef};
use mcp_tests::{RawResponse, post};
use serde_json::{Value, json};

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;

fn now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    i64::try_from(secs).unwrap()
}

async fn protected(
    validator: impl TokenValidator,
    as_url: &str,
    dpop: Option<DpopConfig>,
) -> TestServer {
    let listener = TestListener::bind().await.unwrap();
    let mut auth = AuthorizationConfig::enabled()
        .authorization_server(as_url)
        .resource(listener.url())
        .validator(validator);
    if let Some(d) = dpop {
        auth = auth.dpop(d);
    }
    let server = McpServer::builder("skew")
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

fn assert_refused(r: &RawResponse, error: &str, what: &str) {
    assert_eq!(r.status, 401, "{what}: {}", r.body);
    assert!(
        r.challenges().contains(&format!(r#"error="{error}""#)),
        "{what}: {}",
        r.challenges()
    );
}

/// The claims a token gets, relative to now: `(claim, offset in seconds)`.
type Skew = (&'static str, i64);

/// AZ-11f: with the default leeway (60 s), `iat` and `nbf` 30 s in the future and `exp` 30 s
/// past are accepted; 90 s beyond is refused with `invalid_token`.
#[tokio::test]
async fn az11f_jwt_time_claims_within_the_default_leeway_are_accepted() {
    let issuer = TestIssuer::start().await.unwrap();
    let validator = JwtValidator::new(JwtValidatorConfig::new(issuer.issuer(), "")).unwrap();
    let srv = protected(validator, issuer.issuer(), None).await;
    let accepted: [Skew; 4] = [("iat", 30), ("nbf", 30), ("exp", -30), ("exp", 30)];
    let refused: [Skew; 4] = [("iat", 90), ("nbf", 90), ("exp", -90), ("exp", -3600)];
    for (claim, offset) in accepted {
        let token = issuer
            .token(&srv.url())
            .claim(claim, json!(now() + offset))
            .sign();
        let r = bearer(&srv, &token).await;
        assert_eq!(r.status, 200, "{claim} {offset:+}: {}", r.body);
    }
    for (claim, offset) in refused {
        let token = issuer
            .token(&srv.url())
            .claim(claim, json!(now() + offset))
            .sign();
        let r = bearer(&srv, &token).await;
        assert_refused(&r, "invalid_token", &format!("{claim} {offset:+}"));
    }
}

/// AZ-11f: the leeway is a setting: with 5 s, 30 s of skew is refused either way.
#[tokio::test]
async fn az11f_a_smaller_leeway_refuses_what_the_default_accepts() {
    let issuer = TestIssuer::start().await.unwrap();
    let config = JwtValidatorConfig::new(issuer.issuer(), "").leeway(Duration::from_secs(5));
    let srv = protected(JwtValidator::new(config).unwrap(), issuer.issuer(), None).await;
    for (claim, offset) in [("iat", 30), ("nbf", 30), ("exp", -30)] {
        let token = issuer
            .token(&srv.url())
            .claim(claim, json!(now() + offset))
            .sign();
        let r = bearer(&srv, &token).await;
        assert_refused(
            &r,
            "invalid_token",
            &format!("leeway 5 s, {claim} {offset:+}"),
        );
    }
    let token = issuer.token(&srv.url()).sign();
    assert_eq!(bearer(&srv, &token).await.status, 200);
}

/// An introspection endpoint on 127.0.0.1:0 answering the JSON the test sets, by token.
struct Introspection {
    url: String,
    answers: Arc<std::sync::Mutex<std::collections::HashMap<String, Value>>>,
    calls: Arc<AtomicUsize>,
}

async fn introspection() -> Introspection {
    let answers = Arc::new(std::sync::Mutex::new(std::collections::HashMap::<
        String,
        Value,
    >::new()));
    let calls = Arc::new(AtomicUsize::new(0));
    let (a, c) = (Arc::clone(&answers), Arc::clone(&calls));
    let handler = move |body: String| {
        let (a, c) = (Arc::clone(&a), Arc::clone(&c));
        async move {
            c.fetch_add(1, Ordering::SeqCst);
            let token = body
                .split('&')
                .find_map(|p| p.strip_prefix("token="))
                .unwrap_or_default()
                .to_owned();
            let answer = a
                .lock()
                .unwrap()
                .get(&token)
                .cloned()
                .unwrap_or(json!({"active": false}));
            (
                [(http::header::CONTENT_TYPE, "application/json")],
                answer.to_string(),
            )
        }
    };
    let app = axum::Router::new().route("/introspect", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/introspect", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Introspection {
        url,
        answers,
        calls,
    }
}

/// AZ-11f for introspection answers: `exp` up to the leeway past and `nbf` up to the leeway
/// ahead are accepted (default 60 s), beyond refused with `invalid_token`.
#[tokio::test]
async fn az11f_introspected_time_claims_within_the_leeway_are_accepted() {
    let endpoint = introspection().await;
    let config = IntrospectionConfig::new(&endpoint.url, "rs", "secret").allow_missing_audience();
    let srv = protected(
        IntrospectionValidator::new(config).unwrap(),
        "http://127.0.0.1:9",
        None,
    )
    .await;
    let cases: [(Skew, u16); 6] = [
        (("exp", -30), 200),
        (("nbf", 30), 200),
        (("exp", 3600), 200),
        (("exp", -90), 401),
        (("nbf", 90), 401),
        (("exp", -3600), 401),
    ];
    for (i, ((claim, offset), status)) in cases.into_iter().enumerate() {
        let token = format!("opaque-skew-{i}");
        let answer = json!({"active": true, "sub": "u", claim: now() + offset});
        endpoint
            .answers
            .lock()
            .unwrap()
            .insert(token.clone(), answer);
        let r = bearer(&srv, &token).await;
        match status {
            200 => assert_eq!(r.status, 200, "{claim} {offset:+}: {}", r.body),
            _ => assert_refused(&r, "invalid_token", &format!("{claim} {offset:+}")),
        }
    }
    assert_eq!(endpoint.calls.load(Ordering::SeqCst), cases.len());
}

async fn dpop_call(srv: &TestServer, token: &str, proof: &str) -> RawResponse {
    let auth = format!("DPoP {token}");
    post(
        &srv.url(),
        &[("authorization", auth.as_str()), ("dpop", proof)],
        INIT,
    )
    .await
}

/// DP-11: a DPoP proof's `iat` within the window either way is accepted, beyond it refused
/// with `invalid_dpop_proof`: the default window (300 s) and a configured one (30 s).
#[tokio::test]
async fn dp11_proof_iat_within_the_window_is_accepted_beyond_refused() {
    let issuer = TestIssuer::start().await.unwrap();
    for (window, inside, outside) in [(None, 270, 330), (Some(30), 10, 50)] {
        let mut config = DpopConfig::allowed();
        if let Some(w) = window {
            config = config.iat_window(Duration::from_secs(w));
        }
        let validator = JwtValidator::new(JwtValidatorConfig::new(issuer.issuer(), "")).unwrap();
        let srv = protected(validator, issuer.issuer(), Some(config)).await;
        let key = DpopKey::generate().unwrap();
        let token = issuer.token(&srv.url()).cnf_jkt(&key.thumbprint()).sign();
        for offset in [-inside, inside] {
            let proof = key
                .proof("POST", &srv.url(), &token)
                .iat_offset(offset)
                .sign();
            let r = dpop_call(&srv, &token, &proof).await;
            assert_eq!(
                r.status, 200,
                "window {window:?}, iat {offset:+}: {}",
                r.body
            );
        }
        for offset in [-outside, outside] {
            let proof = key
                .proof("POST", &srv.url(), &token)
                .iat_offset(offset)
                .sign();
            let r = dpop_call(&srv, &token, &proof).await;
            assert_refused(
                &r,
                "invalid_dpop_proof",
                &format!("window {window:?}, iat {offset:+}"),
            );
        }
    }
}
