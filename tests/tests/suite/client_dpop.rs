//! `DpopAuth` and `ClientCredentialsAuth` of mcp-client against our own protected server.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mcp_client::McpClient;
use mcp_client::auth::{ClientCredentialsAuth, DpopAuth, DpopKey};
use mcp_server::auth::{AuthorizationConfig, DpopConfig, JwtValidator, JwtValidatorConfig};
use mcp_server::testing::{TestIssuer, TestListener, TestServer};
use mcp_server::{Context, McpServer, NoArgs, ToolDef};
use serde_json::Value;

async fn server(issuer: &TestIssuer, dpop: DpopConfig) -> TestServer {
    let listener = TestListener::bind().await.unwrap();
    let server = protected(issuer, &listener.url(), dpop);
    listener.spawn(server)
}

fn protected(issuer: &TestIssuer, resource: &str, dpop: DpopConfig) -> McpServer {
    let validator = JwtValidator::new(JwtValidatorConfig::new(issuer.issuer(), "")).unwrap();
    let auth = AuthorizationConfig::enabled()
        .authorization_server(issuer.issuer())
        .resource(resource)
        .required_scopes(["read"])
        .validator(validator)
        .dpop(dpop);
    McpServer::builder("dpop")
        .authorization(auth)
        .tool(ToolDef::from_fn(
            "whoami",
            |ctx: Context, _: NoArgs| async move { format!("{:?}", ctx.auth().map(|a| a.credential)) },
        ))
        .build()
        .unwrap()
}

/// One request that reached the server, and what the server answered.
#[derive(Debug)]
struct Seen {
    body: Bytes,
    /// The claims of the request's DPoP proof, if it carried one.
    proof: Option<Value>,
    status: StatusCode,
    /// `WWW-Authenticate` of the answer.
    challenge: Option<String>,
    /// `DPoP-Nonce` of the answer.
    nonce: Option<String>,
}

impl Seen {
    /// The `nonce` claim of the proof.
    fn proof_nonce(&self) -> Option<&str> {
        self.proof.as_ref()?.get("nonce")?.as_str()
    }
}

/// The claims of a compact JWS (the DPoP proof).
fn claims(jws: &str) -> Value {
    let payload = jws.split('.').nth(1).expect("a compact JWS");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON")
}

async fn record(
    State(seen): State<Arc<Mutex<Vec<Seen>>>>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let proof = parts
        .headers
        .get("dpop")
        .map(|p| claims(p.to_str().unwrap()));
    let response = next
        .run(Request::from_parts(parts, Body::from(body.clone())))
        .await;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let entry = Seen {
        body,
        proof,
        status: response.status(),
        challenge: header("www-authenticate"),
        nonce: header("dpop-nonce"),
    };
    seen.lock().unwrap().push(entry);
    response
}

/// [`server`] behind a middleware recording every request that reaches it, in order.
async fn recorded_server(
    issuer: &TestIssuer,
    dpop: DpopConfig,
) -> (String, Arc<Mutex<Vec<Seen>>>, tokio::task::JoinHandle<()>) {
    let listener = TestListener::bind().await.unwrap();
    let url = listener.url();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = protected(issuer, &url, dpop)
        .into_router()
        .layer(middleware::from_fn_with_state(Arc::clone(&seen), record));
    let tcp = listener.into_tcp_listener();
    let served = tokio::spawn(async move { axum::serve(tcp, app).await.unwrap() });
    (url, seen, served)
}

/// The first request has no nonce: the server refuses it (401 `use_dpop_nonce` with a nonce),
/// the client retries it once with that nonce, and every later request carries a nonce and is
/// accepted. Counted on the server, request by request.
#[tokio::test]
async fn dpop_auth_retries_once_with_the_server_nonce_and_keeps_it() {
    let issuer = TestIssuer::start().await.unwrap();
    let (url, seen, served) = recorded_server(
        &issuer,
        DpopConfig::allowed()
            .with_nonces(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60)),
    )
    .await;
    let key = DpopKey::generate().unwrap();
    let token = issuer
        .token(&url)
        .scope("read")
        .cnf_jkt(key.thumbprint())
        .sign();
    let client = McpClient::connect(&url, DpopAuth::new(token, key))
        .await
        .unwrap();
    for _ in 0..3 {
        let r = client
            .call_tool("whoami", serde_json::json!({}))
            .await
            .unwrap();
        assert_ne!(r.is_error, Some(true));
    }
    served.abort();

    let seen = std::mem::take(&mut *seen.lock().unwrap());
    assert_eq!(
        seen.len(),
        5,
        "server/discover refused, its retry, three calls: {seen:#?}"
    );
    assert!(
        seen.iter().all(|s| s.proof.is_some()),
        "every request carries a proof: {seen:#?}"
    );
    // Exactly one refused attempt: the first, without a nonce, answered with one.
    let refused: Vec<_> = seen.iter().filter(|s| !s.status.is_success()).collect();
    assert_eq!(refused.len(), 1, "one refusal: {seen:#?}");
    let (first, retry) = (&seen[0], &seen[1]);
    assert_eq!(first.status, StatusCode::UNAUTHORIZED, "{seen:#?}");
    assert_eq!(first.proof_nonce(), None, "{seen:#?}");
    assert!(
        first
            .challenge
            .as_deref()
            .is_some_and(|c| c.starts_with(r#"DPoP error="use_dpop_nonce""#)),
        "{seen:#?}"
    );
    let nonce = first.nonce.as_deref().expect("the refusal carries a nonce");
    // One accepted retry of the same request, carrying the nonce.
    assert!(retry.status.is_success(), "{seen:#?}");
    assert_eq!(retry.body, first.body, "the retry repeats the request");
    assert_eq!(retry.proof_nonce(), Some(nonce), "{seen:#?}");
    let jti = |s: &Seen| s.proof.as_ref().map(|p| p["jti"].clone());
    assert_ne!(jti(retry), jti(first), "the retry signs a fresh proof");
    // The nonce is kept: no later request goes without one (and none is refused).
    assert!(
        seen[1..].iter().all(|s| s.proof_nonce().is_some()),
        "{seen:#?}"
    );
}

#[tokio::test]
async fn client_credentials_discovers_from_the_401_and_gets_a_token() {
    let issuer = TestIssuer::start().await.unwrap();
    issuer.register_client("svc", "s3cret", "read");
    let srv = server(&issuer, DpopConfig::allowed()).await;
    let auth = ClientCredentialsAuth::new(issuer.issuer(), "svc", "s3cret").scopes(["read"]);
    let client = McpClient::connect(&srv.url(), auth).await.unwrap();
    let r = client
        .call_tool("whoami", serde_json::json!({}))
        .await
        .unwrap();
    assert_ne!(r.is_error, Some(true));
}

#[tokio::test]
async fn a_wrong_client_secret_fails_without_leaking_it() {
    let issuer = TestIssuer::start().await.unwrap();
    issuer.register_client("svc", "s3cret", "read");
    let srv = server(&issuer, DpopConfig::allowed()).await;
    let auth = ClientCredentialsAuth::new(issuer.issuer(), "svc", "wrong-secret-value");
    assert!(!format!("{auth:?}").contains("wrong-secret-value"));
    let err = McpClient::connect(&srv.url(), auth).await.err().unwrap();
    assert!(!format!("{err} {err:?}").contains("wrong-secret-value"));
}
