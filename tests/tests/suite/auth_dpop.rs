//! DPoP (RFC 9449) on the resource server: a valid proof is accepted, and each proof that differs
//! from it in exactly one respect is refused with the right status and challenge. Ids: DP-.

use std::time::Duration;

use mcp_server::auth::{
    Algorithm, AuthorizationConfig, DpopConfig, JwtValidator, JwtValidatorConfig,
};
use mcp_server::testing::{DpopKey, TestIssuer, TestListener, TestServer};
use mcp_server::{Context, McpServer, NoArgs, ToolDef};
use mcp_tests::{RawResponse, post, send};
use reqwest::Method;
use serde_json::{Value, json};

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;

async fn server(issuer: &TestIssuer, dpop: DpopConfig) -> TestServer {
    let listener = TestListener::bind().await.unwrap();
    let validator = JwtValidator::new(JwtValidatorConfig::new(issuer.issuer(), "")).unwrap();
    let auth = AuthorizationConfig::enabled()
        .authorization_server(issuer.issuer())
        .resource(listener.url())
        .required_scopes(["read"])
        .validator(validator)
        .dpop(dpop);
    let server =
        McpServer::builder("dpop")
            .authorization(auth)
            .tool(ToolDef::from_fn(
                "whoami",
                |ctx: Context, _: NoArgs| async move {
                    format!("{:?}", ctx.auth().map(|a| a.credential))
                },
            ))
            .build()
            .unwrap();
    listener.spawn(server)
}

async fn dpop_call(url: &str, token: &str, proofs: &[&str]) -> RawResponse {
    let auth = format!("DPoP {token}");
    let mut headers = vec![("authorization", auth.as_str())];
    headers.extend(proofs.iter().map(|p| ("dpop", *p)));
    post(url, &headers, INIT).await
}

struct Setup {
    issuer: TestIssuer,
    srv: TestServer,
    key: DpopKey,
    token: String,
}

async fn setup(dpop: DpopConfig) -> Setup {
    let issuer = TestIssuer::start().await.unwrap();
    let srv = server(&issuer, dpop).await;
    let key = DpopKey::generate().unwrap();
    let token = issuer
        .token(&srv.url())
        .scope("read")
        .cnf_jkt(&key.thumbprint())
        .sign();
    Setup {
        issuer,
        srv,
        key,
        token,
    }
}

#[tokio::test]
async fn dp02_a_valid_proof_is_accepted_and_the_credential_is_dpop() {
    let s = setup(DpopConfig::allowed()).await;
    let proof = s.key.proof("POST", &s.srv.url(), &s.token).sign();
    let r = dpop_call(&s.srv.url(), &s.token, &[&proof]).await;
    assert_eq!(r.status, 200, "{} {}", r.challenges(), r.body);
}

#[tokio::test]
async fn dp05_dp07_every_allowed_algorithm_is_verified_and_others_refused() {
    let issuer = TestIssuer::start().await.unwrap();
    let srv = server(&issuer, DpopConfig::allowed()).await;
    let es256_only = DpopConfig::allowed().algorithms([Algorithm::ES256]);
    let strict = server(&issuer, es256_only).await;
    for alg in ["ES256", "ES384", "EdDSA", "RS256", "PS256"] {
        let key = DpopKey::generate_for(alg).unwrap();
        let other = DpopKey::generate_for(alg).unwrap();
        for (srv, allowed) in [(&srv, true), (&strict, alg == "ES256")] {
            let url = srv.url();
            let token = issuer
                .token(&url)
                .scope("read")
                .cnf_jkt(&key.thumbprint())
                .sign();
            let good = key.proof("POST", &url, &token).sign();
            let r = dpop_call(&url, &token, &[&good]).await;
            if allowed {
                assert_eq!(r.status, 200, "{alg}: {} {}", r.challenges(), r.body);
            } else {
                assert_eq!(r.status, 401, "{alg} outside the allow-list");
                assert!(r.challenges().contains("not allowed"), "{}", r.challenges());
            }
            // DP-07: the same proof signed by another key of the same algorithm.
            let forged = key.proof("POST", &url, &token).signed_by(&other).sign();
            let r = dpop_call(&url, &token, &[&forged]).await;
            assert_eq!(r.status, 401, "{alg} forged");
            assert!(r.challenges().contains(r#"error="invalid_dpop_proof""#));
        }
    }
    // A P-256 key presented as an ES384 or RS256 proof does not fit the algorithm (DP-06).
    let key = DpopKey::generate().unwrap();
    let url = srv.url();
    let token = issuer
        .token(&url)
        .scope("read")
        .cnf_jkt(&key.thumbprint())
        .sign();
    for alg in ["ES384", "RS256", "EdDSA"] {
        let proof = key
            .proof("POST", &url, &token)
            .header("alg", json!(alg))
            .sign();
        let r = dpop_call(&url, &token, &[&proof]).await;
        assert_eq!(r.status, 401, "P-256 key as {alg}");
        assert!(
            r.challenges().contains("jwk is malformed"),
            "{}",
            r.challenges()
        );
    }
}

#[tokio::test]
async fn dp03_to_dp14_each_defect_is_refused_as_invalid_dpop_proof() {
    let s = setup(DpopConfig::allowed()).await;
    let url = s.srv.url();
    let other = DpopKey::generate().unwrap();
    let mut private_jwk = s.key.jwk().clone();
    private_jwk.insert("d".into(), json!("AAAA"));
    let defects: Vec<(&str, Vec<String>)> = vec![
        ("DP-02 no proof", vec![]),
        (
            "DP-03 two proofs",
            vec![
                s.key.proof("POST", &url, &s.token).sign(),
                s.key.proof("POST", &url, &s.token).sign(),
            ],
        ),
        ("DP-04 not a JWS", vec!["abc".into()]),
        (
            "DP-05 typ JWT",
            vec![
                s.key
                    .proof("POST", &url, &s.token)
                    .header("typ", json!("JWT"))
                    .sign(),
            ],
        ),
        (
            "DP-06 alg none",
            vec![
                s.key
                    .proof("POST", &url, &s.token)
                    .header("alg", json!("none"))
                    .sign(),
            ],
        ),
        (
            "DP-06 alg HS256",
            vec![
                s.key
                    .proof("POST", &url, &s.token)
                    .header("alg", json!("HS256"))
                    .sign(),
            ],
        ),
        (
            "DP-07 private jwk",
            vec![
                s.key
                    .proof("POST", &url, &s.token)
                    .header("jwk", Value::Object(private_jwk))
                    .sign(),
            ],
        ),
        (
            "DP-07 signed by another key",
            vec![s.key.proof("POST", &url, &s.token).signed_by(&other).sign()],
        ),
        (
            "DP-08 no jti",
            vec![
                s.key
                    .proof("POST", &url, &s.token)
                    .claim("jti", Value::Null)
                    .sign(),
            ],
        ),
        (
            "DP-08 no htm",
            vec![
                s.key
                    .proof("POST", &url, &s.token)
                    .claim("htm", Value::Null)
                    .sign(),
            ],
        ),
        (
            "DP-08 no htu",
            vec![
                s.key
                    .proof("POST", &url, &s.token)
                    .claim("htu", Value::Null)
                    .sign(),
            ],
        ),
        (
            "DP-08 no iat",
            vec![
                s.key
                    .proof("POST", &url, &s.token)
                    .claim("iat", Value::Null)
                    .sign(),
            ],
        ),
        (
            "DP-08 no ath",
            vec![
                s.key
                    .proof("POST", &url, &s.token)
                    .claim("ath", Value::Null)
                    .sign(),
            ],
        ),
        (
            "DP-09 wrong htm",
            vec![s.key.proof("GET", &url, &s.token).sign()],
        ),
        (
            "DP-10 wrong htu",
            vec![s.key.proof("POST", &format!("{url}2"), &s.token).sign()],
        ),
        (
            "DP-10 htu with query",
            vec![s.key.proof("POST", &format!("{url}?x=1"), &s.token).sign()],
        ),
        (
            "DP-11 iat too old",
            vec![s.key.proof("POST", &url, &s.token).iat_offset(-600).sign()],
        ),
        (
            "DP-11 iat in the future",
            vec![s.key.proof("POST", &url, &s.token).iat_offset(600).sign()],
        ),
        (
            // The largest iat JSON can carry: refused, never an overflow.
            "DP-11 iat at u64::MAX",
            vec![
                s.key
                    .proof("POST", &url, &s.token)
                    .claim("iat", json!(u64::MAX))
                    .sign(),
            ],
        ),
        (
            "DP-13 ath of another token",
            vec![s.key.proof("POST", &url, "another-token").sign()],
        ),
    ];
    for (what, proofs) in defects {
        let refs: Vec<&str> = proofs.iter().map(String::as_str).collect();
        let r = dpop_call(&url, &s.token, &refs).await;
        assert_eq!(r.status, 401, "{what}: {}", r.body);
        let c = r.challenges();
        assert!(
            c.starts_with(r#"DPoP error="invalid_dpop_proof""#),
            "{what}: {c}"
        );
        assert!(
            c.contains(r#"algs="ES256 ES384 EdDSA PS256 RS256""#),
            "{what}: {c}"
        );
        assert!(c.contains("resource_metadata="), "{what}");
    }
    // DP-10: the URL is normalised; the request's own query is ignored.
    let upper = url.replacen("http://127.0.0.1", "HTTP://127.0.0.1", 1);
    let proof = s.key.proof("POST", &upper, &s.token).sign();
    assert_eq!(dpop_call(&url, &s.token, &[&proof]).await.status, 200);
    let proof = s.key.proof("POST", &url, &s.token).sign();
    assert_eq!(
        dpop_call(&format!("{url}?x=1"), &s.token, &[&proof])
            .await
            .status,
        200
    );
    // DP-11: a little skew is fine.
    let proof = s.key.proof("POST", &url, &s.token).iat_offset(-60).sign();
    assert_eq!(dpop_call(&url, &s.token, &[&proof]).await.status, 200);
}

#[tokio::test]
async fn dp12_a_replayed_proof_is_refused() {
    let s = setup(DpopConfig::allowed()).await;
    let proof = s.key.proof("POST", &s.srv.url(), &s.token).sign();
    assert_eq!(
        dpop_call(&s.srv.url(), &s.token, &[&proof]).await.status,
        200
    );
    let r = dpop_call(&s.srv.url(), &s.token, &[&proof]).await;
    assert_eq!(r.status, 401);
    assert!(r.challenges().contains("invalid_dpop_proof"));
}

#[tokio::test]
async fn dp14_dp15_dp16_key_binding() {
    let s = setup(DpopConfig::allowed()).await;
    let url = s.srv.url();
    // A valid proof by another key for a token bound to ours.
    let other = DpopKey::generate().unwrap();
    let proof = other.proof("POST", &url, &s.token).sign();
    let r = dpop_call(&url, &s.token, &[&proof]).await;
    assert_eq!(r.status, 401);
    let c = r.challenges();
    assert!(
        c.starts_with(
            r#"DPoP error="invalid_token", error_description="Invalid DPoP key binding""#
        ),
        "{c}"
    );
    // A bound token sent as Bearer: a downgrade.
    let bearer = format!("Bearer {}", s.token);
    let r = post(&url, &[("authorization", &bearer)], INIT).await;
    assert_eq!(r.status, 401);
    assert!(r.challenges().contains(r#"error="invalid_token""#));
    // DPoP with an unbound token.
    let unbound = s.issuer.token(&url).scope("read").sign();
    let proof = s.key.proof("POST", &url, &unbound).sign();
    let r = dpop_call(&url, &unbound, &[&proof]).await;
    assert_eq!(r.status, 401);
    assert!(r.challenges().contains(r#"error="invalid_token""#));
    // DP-21: the usual token checks still apply.
    let expired = s
        .issuer
        .token(&url)
        .scope("read")
        .cnf_jkt(&s.key.thumbprint())
        .expires_in(-100)
        .sign();
    let proof = s.key.proof("POST", &url, &expired).sign();
    assert_eq!(dpop_call(&url, &expired, &[&proof]).await.status, 401);
}

#[tokio::test]
async fn dp17_dp18_challenges_and_required_mode() {
    let s = setup(DpopConfig::allowed()).await;
    let r = post(&s.srv.url(), &[], INIT).await;
    let c = r.challenges();
    assert!(
        c.contains("Bearer scope=") && c.contains("DPoP scope="),
        "both challenges: {c}"
    );
    assert!(!c.contains("error="));

    let required = setup(DpopConfig::required()).await;
    let url = required.srv.url();
    let r = post(&url, &[], INIT).await;
    let c = r.challenges();
    assert!(c.starts_with("DPoP ") && !c.contains("Bearer"), "{c}");
    let plain = required.issuer.token(&url).scope("read").sign();
    let bearer = format!("Bearer {plain}");
    let r = post(&url, &[("authorization", &bearer)], INIT).await;
    assert_eq!(r.status, 401);
    assert!(r.challenges().starts_with(r#"DPoP error="invalid_token""#));
    let proof = required.key.proof("POST", &url, &required.token).sign();
    assert_eq!(
        dpop_call(&url, &required.token, &[&proof]).await.status,
        200
    );
    // DP-01: the metadata says so.
    let meta = send(
        Method::GET,
        &format!(
            "{}/.well-known/oauth-protected-resource/mcp",
            required.srv.base_url()
        ),
        &[],
        None,
    )
    .await
    .json();
    assert_eq!(meta["dpop_bound_access_tokens_required"], true);
    assert!(
        meta["dpop_signing_alg_values_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("ES256"))
    );
}

#[tokio::test]
async fn dp19_nonces() {
    let s = setup(
        DpopConfig::allowed()
            .with_nonces(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60)),
    )
    .await;
    let url = s.srv.url();
    let proof = s.key.proof("POST", &url, &s.token).sign();
    let r = dpop_call(&url, &s.token, &[&proof]).await;
    assert_eq!(r.status, 401);
    assert!(r.challenges().starts_with(r#"DPoP error="use_dpop_nonce""#));
    let nonce = r.header("dpop-nonce").expect("a nonce").to_owned();
    let proof = s.key.proof("POST", &url, &s.token).nonce(&nonce).sign();
    assert_eq!(dpop_call(&url, &s.token, &[&proof]).await.status, 200);
    let proof = s.key.proof("POST", &url, &s.token).nonce("made-up").sign();
    let r = dpop_call(&url, &s.token, &[&proof]).await;
    assert_eq!(r.status, 401);
    assert!(r.header("dpop-nonce").is_some());
}
