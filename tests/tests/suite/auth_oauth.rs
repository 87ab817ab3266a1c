//! The OAuth 2.1 resource server, black-box: a real server on 127.0.0.1:0, real tokens from the
//! in-process issuer, raw HTTP. Requirement ids refer to `tests/spec/CHECKLIST.md` (AZ-, BE-).

use std::time::Duration;

use mcp_server::auth::{AuthorizationConfig, Danger, JwtValidator, JwtValidatorConfig};
use mcp_server::testing::{TestIssuer, TestListener, TestServer};
use mcp_server::{Context, McpServer, NoArgs, ToolDef};
use mcp_tests::{JSON_AND_SSE, RawResponse, post, send};
use reqwest::Method;
use serde_json::{Value, json};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct PathArg {
    path: String,
}

fn tools(builder: mcp_server::McpServerBuilder) -> mcp_server::McpServerBuilder {
    builder
        .tool(
            ToolDef::from_fn("whoami", |ctx: Context, _: NoArgs| async move {
                let auth = ctx.auth();
                json!({
                    "subject": auth.and_then(|a| a.subject.clone()),
                    "scopes": auth.map(|a| a.scopes.iter().cloned().collect::<Vec<_>>()),
                    "client_id": auth.and_then(|a| a.client_id.clone()),
                })
            })
            .description("Who is calling"),
        )
        .tool(
            ToolDef::from_fn("delete_file", |_: Context, PathArg { path }| async move {
                format!("deleted {path}")
            })
            .description("Delete a file")
            .required_scopes(["files:delete"]),
        )
}

fn jwt(issuer: &TestIssuer) -> JwtValidator {
    JwtValidator::new(JwtValidatorConfig::new(issuer.issuer(), "")).expect("validator")
}

async fn protected(
    issuer: &TestIssuer,
    config: impl FnOnce(AuthorizationConfig) -> AuthorizationConfig,
) -> TestServer {
    let listener = TestListener::bind().await.unwrap();
    let auth = config(
        AuthorizationConfig::enabled()
            .authorization_server(issuer.issuer())
            .resource(listener.url())
            .required_scopes(["read"])
            .validator(jwt(issuer)),
    );
    let server = tools(McpServer::builder("protected").authorization(auth))
        .build()
        .unwrap();
    listener.spawn(server)
}

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;

async fn with_token(url: &str, token: &str, body: &str) -> RawResponse {
    let bearer = format!("Bearer {token}");
    post(url, &[("authorization", &bearer)], body).await
}

/// A stateless-style call: initialize, then call a tool in that session.
async fn call(url: &str, token: &str, tool: &str, args: Value) -> RawResponse {
    let init = with_token(url, token, INIT).await;
    assert_eq!(init.status, 200, "{}", init.body);
    let sid = init.header("mcp-session-id").unwrap().to_owned();
    let bearer = format!("Bearer {token}");
    let body = json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":tool,"arguments":args}}).to_string();
    post(
        url,
        &[
            ("authorization", &bearer),
            ("mcp-session-id", &sid),
            ("mcp-protocol-version", "2025-11-25"),
        ],
        &body,
    )
    .await
}

fn challenge(r: &RawResponse) -> String {
    r.header("www-authenticate")
        .unwrap_or_else(|| panic!("no challenge: {} {}", r.status, r.body))
        .to_owned()
}

#[tokio::test]
async fn az02_az07_protected_resource_metadata() {
    let issuer = TestIssuer::start().await.unwrap();
    let srv = protected(&issuer, |c| c).await;
    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ] {
        let r = send(Method::GET, &format!("{}{path}", srv.base_url()), &[], None).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        assert_eq!(r.header("cache-control"), Some("public, max-age=300"));
        let doc = r.json();
        assert_eq!(doc["resource"], srv.url(), "AZ-06: the exact endpoint URL");
        assert_eq!(doc["authorization_servers"], json!([issuer.issuer()]));
        assert_eq!(doc["scopes_supported"], json!(["read", "files:delete"]));
        assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
    }
    let r = send(
        Method::POST,
        &format!(
            "{}/.well-known/oauth-protected-resource/mcp",
            srv.base_url()
        ),
        &[],
        Some("{}"),
    )
    .await;
    assert_eq!(r.status, 405);
}

#[tokio::test]
async fn az08_az09_be03_no_credentials_get_a_challenge_without_error() {
    let issuer = TestIssuer::start().await.unwrap();
    let srv = protected(&issuer, |c| c).await;
    let meta = format!(
        "{}/.well-known/oauth-protected-resource/mcp",
        srv.base_url()
    );
    for extra in [vec![], vec![("authorization", "Basic dXNlcjpwYXNz")]] {
        let r = post(&srv.url(), &extra, INIT).await;
        assert_eq!(r.status, 401);
        assert_eq!(
            challenge(&r),
            format!(r#"Bearer scope="read", resource_metadata="{meta}""#)
        );
        assert_eq!(r.json()["error"], "unauthorized");
    }
    // AZ-12: a token in the query is ignored.
    let token = issuer.token(&srv.url()).scope("read").sign();
    let r = post(&format!("{}?access_token={token}", srv.url()), &[], INIT).await;
    assert_eq!(r.status, 401);
    assert!(!challenge(&r).contains("error="));
    // Every method is protected (AZ-10).
    let r = send(
        Method::GET,
        &srv.url(),
        &[("accept", "text/event-stream")],
        None,
    )
    .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn az11_bad_tokens_are_401_invalid_token_and_never_echoed() {
    let issuer = TestIssuer::start().await.unwrap();
    let srv = protected(&issuer, |c| c).await;
    let url = srv.url();
    let bad = [
        (
            "wrong audience",
            issuer
                .token("https://other.example/mcp")
                .scope("read")
                .sign(),
        ),
        (
            "expired",
            issuer.token(&url).scope("read").expires_in(-3600).sign(),
        ),
        (
            "not yet valid",
            issuer
                .token(&url)
                .scope("read")
                .claim("nbf", json!(4_000_000_000u64))
                .sign(),
        ),
        ("alg none", issuer.token(&url).scope("read").unsigned()),
        (
            "unknown kid",
            issuer.token(&url).scope("read").kid(Some("nope")).sign(),
        ),
        (
            "wrong issuer",
            issuer
                .token(&url)
                .scope("read")
                .claim("iss", json!("http://127.0.0.1:1"))
                .sign(),
        ),
        (
            "HS256 with the public key",
            issuer.token(&url).scope("read").hs256_with_public_key(),
        ),
        ("tampered", issuer.token(&url).scope("read").tampered()),
        (
            "no exp",
            issuer
                .token(&url)
                .scope("read")
                .claim("exp", Value::Null)
                .sign(),
        ),
        ("garbage", "not-a-jwt".to_owned()),
    ];
    for (what, token) in bad {
        let r = with_token(&url, &token, INIT).await;
        assert_eq!(r.status, 401, "{what}: {}", r.body);
        let c = challenge(&r);
        assert!(
            c.starts_with(r#"Bearer error="invalid_token""#),
            "{what}: {c}"
        );
        assert!(c.contains("resource_metadata="), "{what}");
        assert!(
            !c.contains(&token) && !r.body.contains(&token),
            "{what}: token echoed"
        );
        assert_eq!(r.json()["error"], "invalid_token");
    }
    for (what, token) in [
        ("ES256", issuer.token(&url).scope("read").sign()),
        ("RS256", issuer.token(&url).scope("read").rs256().sign()),
        (
            "audience list",
            issuer
                .token(&url)
                .scope("read")
                .claim("aud", json!(["https://other.example", url]))
                .sign(),
        ),
        (
            "scp array",
            issuer.token(&url).claim("scp", json!(["read"])).sign(),
        ),
    ] {
        let r = with_token(&url, &token, INIT).await;
        assert_eq!(r.status, 200, "{what}: {}", r.body);
    }
}

#[tokio::test]
async fn be04_be07_header_syntax() {
    let issuer = TestIssuer::start().await.unwrap();
    let srv = protected(&issuer, |c| c).await;
    let token = issuer.token(&srv.url()).scope("read").sign();
    let lower = format!("bearer {token}");
    assert_eq!(
        post(&srv.url(), &[("authorization", &lower)], INIT)
            .await
            .status,
        200,
        "BE-07: scheme ignores case"
    );
    let r = post(&srv.url(), &[("authorization", "Bearer a b")], INIT).await;
    assert_eq!(r.status, 401);
    let bearer = format!("Bearer {token}");
    let r = post(
        &srv.url(),
        &[("authorization", &bearer), ("authorization", &bearer)],
        INIT,
    )
    .await;
    assert_eq!(r.status, 400, "BE-04");
    assert!(challenge(&r).contains(r#"error="invalid_request""#));
}

#[tokio::test]
async fn az14_a_missing_server_scope_is_403_insufficient_scope() {
    let issuer = TestIssuer::start().await.unwrap();
    let srv = protected(&issuer, |c| c).await;
    let token = issuer.token(&srv.url()).scope("write").sign();
    let r = with_token(&srv.url(), &token, INIT).await;
    assert_eq!(r.status, 403);
    let c = challenge(&r);
    assert!(c.starts_with(r#"Bearer error="insufficient_scope""#), "{c}");
    assert!(c.contains(r#"scope="read""#), "{c}");
    assert_eq!(r.json()["error"], "insufficient_scope");
}

#[tokio::test]
async fn per_tool_scopes_default_to_the_documented_tool_error() {
    let issuer = TestIssuer::start().await.unwrap();
    let srv = protected(&issuer, |c| c).await;
    let read = issuer.token(&srv.url()).scope("read").sign();
    let r = call(&srv.url(), &read, "delete_file", json!({"path": "/tmp/x"})).await;
    let result = &r.json()["result"];
    assert_eq!(result["isError"], true);
    assert_eq!(
        result["content"][0]["text"],
        r#"Tool "delete_file" requires scopes: ['files:delete']. Missing: ['files:delete']"#
    );
    // AZ-15: the broader scope covers the narrower one.
    let files = issuer.token(&srv.url()).scope("read files").sign();
    let r = call(&srv.url(), &files, "delete_file", json!({"path": "/tmp/x"})).await;
    assert_eq!(r.json()["result"]["content"][0]["text"], "deleted /tmp/x");
    // The tool sees who calls.
    let r = call(&srv.url(), &files, "whoami", json!({})).await;
    let who: Value =
        serde_json::from_str(r.json()["result"]["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(who["subject"], "user-1");
    assert_eq!(who["client_id"], "test-client");
    assert_eq!(who["scopes"], json!(["files", "read"]));
}

#[tokio::test]
async fn az14_step_up_answers_403_with_every_scope_the_call_needs() {
    let issuer = TestIssuer::start().await.unwrap();
    let srv = protected(&issuer, |c| c.step_up()).await;
    let read = issuer.token(&srv.url()).scope("read").sign();
    let r = call(&srv.url(), &read, "delete_file", json!({"path": "/tmp/x"})).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let c = challenge(&r);
    assert!(c.contains(r#"error="insufficient_scope""#), "{c}");
    assert!(c.contains(r#"scope="read files:delete""#), "{c}");
}

#[tokio::test]
async fn az17_filtered_tool_lists_hide_uncallable_tools() {
    let issuer = TestIssuer::start().await.unwrap();
    let srv = protected(&issuer, |c| c.filter_tools()).await;
    let read = issuer.token(&srv.url()).scope("read").sign();
    let bearer = format!("Bearer {read}");
    let m = json!({"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}});
    let body =
        json!({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":m}}).to_string();
    let headers = [
        ("authorization", bearer.as_str()),
        ("content-type", "application/json"),
        ("accept", JSON_AND_SSE),
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/list"),
    ];
    let r = send(Method::POST, &srv.url(), &headers, Some(&body)).await;
    let result = &r.json()["result"];
    let names: Vec<_> = result["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    assert_eq!(names, [json!("whoami")]);
    assert_eq!(result["cacheScope"], "private");
}

#[tokio::test]
async fn az11h_twenty_cold_requests_fetch_the_keys_once() {
    let issuer = TestIssuer::start().await.unwrap();
    let srv = protected(&issuer, |c| c).await;
    let url = srv.url();
    let calls = (0..20).map(|i| {
        let token = issuer
            .token(&url)
            .scope("read")
            .subject(&format!("u{i}"))
            .sign();
        let url = url.clone();
        async move { with_token(&url, &token, INIT).await.status }
    });
    let statuses = futures_util::future::join_all(calls).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(issuer.jwks_fetches(), 1);
}

#[tokio::test]
async fn unreachable_keys_are_503_unless_fail_open_which_never_bypasses_scopes() {
    let issuer = TestIssuer::start().await.unwrap();
    issuer.set_available(false);
    let srv = protected(&issuer, |c| c).await;
    let token = issuer.token(&srv.url()).scope("read files:delete").sign();
    let r = with_token(&srv.url(), &token, INIT).await;
    assert_eq!(r.status, 503);
    assert!(r.header("retry-after").is_some());

    let open = TestIssuer::start().await.unwrap();
    open.set_available(false);
    let listener = TestListener::bind().await.unwrap();
    let auth = AuthorizationConfig::enabled()
        .authorization_server(open.issuer())
        .resource(listener.url())
        .validator(jwt(&open))
        .dangerously_allow(Danger::FailOpen);
    let srv = listener.spawn(
        tools(McpServer::builder("open").authorization(auth))
            .build()
            .unwrap(),
    );
    let token = open.token(&srv.url()).scope("files:delete").sign();
    let r = call(&srv.url(), &token, "delete_file", json!({"path": "/tmp/x"})).await;
    assert_eq!(
        r.json()["result"]["isError"],
        true,
        "fail_open grants no scopes: {}",
        r.body
    );
    // An invalid token stays invalid under fail_open once keys are known.
    open.set_available(true);
    let bad = open.token(&srv.url()).unsigned();
    assert_eq!(with_token(&srv.url(), &bad, INIT).await.status, 401);
}

#[tokio::test]
async fn the_last_good_keys_are_kept_while_the_issuer_is_down() {
    let issuer = TestIssuer::start().await.unwrap();
    let listener = TestListener::bind().await.unwrap();
    let auth = AuthorizationConfig::enabled()
        .authorization_server(issuer.issuer())
        .resource(listener.url())
        .validator(
            JwtValidator::new(
                JwtValidatorConfig::new(issuer.issuer(), "")
                    .jwks_cache(Duration::ZERO, Duration::ZERO),
            )
            .unwrap(),
        );
    let srv = listener.spawn(
        tools(McpServer::builder("p").authorization(auth))
            .build()
            .unwrap(),
    );
    let first = issuer.token(&srv.url()).sign();
    assert_eq!(with_token(&srv.url(), &first, INIT).await.status, 200);
    issuer.set_available(false);
    let second = issuer.token(&srv.url()).subject("other").sign();
    assert_eq!(with_token(&srv.url(), &second, INIT).await.status, 200);
}

#[tokio::test]
async fn t55_a_session_belongs_to_its_creator() {
    let issuer = TestIssuer::start().await.unwrap();
    let srv = protected(&issuer, |c| c).await;
    let alice = issuer
        .token(&srv.url())
        .scope("read")
        .subject("alice")
        .sign();
    let bob = issuer.token(&srv.url()).scope("read").subject("bob").sign();
    let init = with_token(&srv.url(), &alice, INIT).await;
    let sid = init.header("mcp-session-id").unwrap().to_owned();
    let list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    let as_bob = format!("Bearer {bob}");
    let r = post(
        &srv.url(),
        &[("authorization", &as_bob), ("mcp-session-id", &sid)],
        list,
    )
    .await;
    assert_eq!(r.status, 404, "another principal gets 404, never 401");
    let r = post(&srv.url(), &[("mcp-session-id", &sid)], list).await;
    assert_eq!(r.status, 401);
    let as_alice = format!("Bearer {alice}");
    let r = post(
        &srv.url(),
        &[("authorization", &as_alice), ("mcp-session-id", &sid)],
        list,
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn tool_denials_are_shaped_for_the_modern_wire() {
    let issuer = TestIssuer::start().await.unwrap();
    let srv = protected(&issuer, |c| c).await;
    let read = issuer.token(&srv.url()).scope("read").sign();
    let bearer = format!("Bearer {read}");
    let m = json!({"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}});
    let body = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_file","arguments":{"path":"/x"},"_meta":m}}).to_string();
    let headers = [
        ("authorization", bearer.as_str()),
        ("content-type", "application/json"),
        ("accept", JSON_AND_SSE),
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "delete_file"),
    ];
    let r = send(Method::POST, &srv.url(), &headers, Some(&body)).await;
    let result = &r.json()["result"];
    assert_eq!(result["isError"], true);
    assert_eq!(result["resultType"], "complete", "{}", r.body);
    assert!(result["_meta"]["io.modelcontextprotocol/serverInfo"].is_object());
}
