//! `DpopAuth` and `ClientCredentialsAuth` of mcp-client against our own protected server.

use std::time::Duration;

use mcp_client::McpClient;
use mcp_client::auth::{ClientCredentialsAuth, DpopAuth, DpopKey};
use mcp_server::auth::{AuthorizationConfig, DpopConfig, JwtValidator, JwtValidatorConfig};
use mcp_server::testing::{TestIssuer, TestListener, TestServer};
use mcp_server::{Context, McpServer, NoArgs, ToolDef};

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

#[tokio::test]
async fn dpop_auth_retries_once_with_the_server_nonce_and_keeps_it() {
    let issuer = TestIssuer::start().await.unwrap();
    let srv = server(
        &issuer,
        DpopConfig::allowed()
            .with_nonces(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60)),
    )
    .await;
    let key = DpopKey::generate().unwrap();
    let token = issuer
        .token(&srv.url())
        .scope("read")
        .cnf_jkt(key.thumbprint())
        .sign();
    let client = McpClient::connect(&srv.url(), DpopAuth::new(token, key))
        .await
        .unwrap();
    for _ in 0..3 {
        let r = client
            .call_tool("whoami", serde_json::json!({}))
            .await
            .unwrap();
        assert_ne!(r.is_error, Some(true));
    }
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
