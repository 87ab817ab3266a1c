//! The client against our OAuth 2.1 resource server with real tokens from the in-process issuer:
//! the challenges of a 401 come back parsed, a bearer token gets in on both eras, and a missing
//! tool scope is a tool error by default or, with step-up, `Forbidden` naming every scope.

use mcp_client::auth::{BearerAuth, NoAuth};
use mcp_client::{Era, Error, McpClient};
use mcp_server::auth::{AuthorizationConfig, JwtValidator, JwtValidatorConfig};
use mcp_server::testing::{TestIssuer, TestListener, TestServer};
use mcp_server::{Context, McpServer, NoArgs, ToolDef};
use serde_json::json;

async fn protected(issuer: &TestIssuer, step_up: bool) -> TestServer {
    let listener = TestListener::bind().await.unwrap();
    let validator = JwtValidator::new(JwtValidatorConfig::new(issuer.issuer(), "")).unwrap();
    let mut auth = AuthorizationConfig::enabled()
        .authorization_server(issuer.issuer())
        .resource(listener.url())
        .required_scopes(["read"])
        .validator(validator);
    if step_up {
        auth = auth.step_up();
    }
    let server = McpServer::builder("protected")
        .authorization(auth)
        .tool(ToolDef::from_fn("hello", |_: Context, _: NoArgs| async {
            "hi"
        }))
        .tool(
            ToolDef::from_fn("delete_file", |_: Context, _: NoArgs| async { "deleted" })
                .required_scopes(["files:delete"]),
        )
        .build()
        .unwrap();
    listener.spawn(server)
}

#[tokio::test]
async fn bearer_tokens_against_the_resource_server() {
    let issuer = TestIssuer::start().await.unwrap();
    let srv = protected(&issuer, false).await;

    let e = McpClient::connect(&srv.url(), NoAuth).await.unwrap_err();
    let Error::Unauthorized { challenges } = &e else {
        panic!("{e:?}")
    };
    let bearer = &challenges[0];
    assert!(bearer.is_scheme("Bearer"));
    assert_eq!(bearer.scopes(), ["read"]);
    let metadata = bearer.resource_metadata().expect("resource_metadata");
    assert!(
        metadata.contains("/.well-known/oauth-protected-resource"),
        "{metadata}"
    );

    let e = McpClient::connect(&srv.url(), BearerAuth::new("not-a-jwt"))
        .await
        .unwrap_err();
    assert_eq!(e.challenges()[0].error(), Some("invalid_token"), "{e}");

    let read = issuer.token(&srv.url()).scope("read").sign();
    for era in [Era::Modern, Era::Legacy] {
        let client = McpClient::builder()
            .auth(BearerAuth::new(&read))
            .era(era)
            .connect(&srv.url())
            .await
            .unwrap();
        let hello = client.call_tool("hello", ()).await.unwrap();
        assert_eq!(hello.content[0].as_text(), Some("hi"), "{era:?}");
        // The default denial of a tool scope is a tool error, with the documented text.
        let e = client
            .call_tool_checked("delete_file", ())
            .await
            .unwrap_err();
        assert!(e.to_string().contains("requires scopes"), "{era:?}: {e}");
        client.close().await.unwrap();
    }
    let all = issuer.token(&srv.url()).scope("read files:delete").sign();
    let client = McpClient::connect(&srv.url(), BearerAuth::new(all))
        .await
        .unwrap();
    let r = client
        .call_tool_checked("delete_file", json!({}))
        .await
        .unwrap();
    assert_eq!(r.content[0].as_text(), Some("deleted"));
}

#[tokio::test]
async fn step_up_is_forbidden_with_every_needed_scope() {
    let issuer = TestIssuer::start().await.unwrap();
    let srv = protected(&issuer, true).await;
    let read = issuer.token(&srv.url()).scope("read").sign();
    for era in [Era::Modern, Era::Legacy] {
        let client = McpClient::builder()
            .auth(BearerAuth::new(&read))
            .era(era)
            .connect(&srv.url())
            .await
            .unwrap();
        let e = client.call_tool("delete_file", ()).await.unwrap_err();
        let Error::Forbidden {
            missing_scopes,
            challenges,
        } = &e
        else {
            panic!("{era:?}: {e:?}")
        };
        assert_eq!(challenges[0].error(), Some("insufficient_scope"));
        assert!(
            missing_scopes.iter().any(|s| s == "files:delete"),
            "{missing_scopes:?}"
        );
    }
}
