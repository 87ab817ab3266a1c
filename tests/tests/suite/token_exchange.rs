//! Calling upstream APIs on behalf of the caller: OAuth 2.0 Token Exchange (RFC 8693, issue 17).
//! Real servers on 127.0.0.1:0 and the in-process issuer: a FRONT MCP server whose tools trade
//! the caller's token for one of an UPSTREAM API (a REST route behind the upstream server's own
//! authorization layer), and the issuer's grant on its own.
//!
//! AZ-13: the caller's token is never passed through; the upstream gets a token of its own,
//! naming it as the audience, the caller as the subject and the front server as the actor.
//! AZ-19: no token in what the tools answer, in errors, or in the issuer's refusals.

use std::time::{Duration, Instant};

use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mcp_client::auth::{ApiKeyAuth, BearerAuth};
use mcp_client::{Era, McpClient};
use mcp_server::auth::{
    ApiKeys, AuthConfigError, AuthorizationConfig, Caller, ExchangeError, ExchangeRequest,
    JwtValidator, JwtValidatorConfig, NewApiKey, Surface, TokenExchangeConfig, TokenExchanger,
};
use mcp_server::testing::{TestIssuer, TestListener, TestServer};
use mcp_server::{BuildError, Context, McpServer, ToolDef};
use serde_json::{Value, json};

const FRONT_ID: &str = "front-mcp";
const FRONT_SECRET: &str = "front-client-secret-7c1d9a0e4b";
const TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// What a tool asks the exchange for.
#[derive(serde::Deserialize, schemars::JsonSchema, Default)]
struct Target {
    /// `resource`; default: the upstream API.
    resource: Option<String>,
    /// `audience` instead.
    audience: Option<String>,
    /// Scopes.
    scope: Option<String>,
}

fn request(target: &Target, upstream: &str) -> ExchangeRequest {
    let r = match (&target.resource, &target.audience) {
        (_, Some(a)) => ExchangeRequest::audience(a),
        (Some(r), None) => ExchangeRequest::resource(r),
        (None, None) => ExchangeRequest::resource(upstream),
    };
    match &target.scope {
        Some(s) => r.scope(s),
        None => r,
    }
}

/// The claims of a JWT (not verified: what the tool got is shown, never the token).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap_or("");
    URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null)
}

/// The front server's tools: `upstream_whoami` (exchange, then call the upstream API with the
/// new token and return what it saw) and `exchanged_claims` (exchange, return the claims).
fn front_tools(builder: mcp_server::McpServerBuilder, upstream: &str) -> McpServer {
    let resource = upstream.to_owned();
    let api = format!("{}/api/whoami", upstream.trim_end_matches("/mcp"));
    let r2 = resource.clone();
    builder
        .tool(ToolDef::from_fn(
            "upstream_whoami",
            move |ctx: Context, target: Target| {
                let (api, resource) = (api.clone(), resource.clone());
                async move {
                    let token = ctx
                        .upstream_token(request(&target, &resource))
                        .await
                        .map_err(|e| e.to_string())?;
                    let http = reqwest::Client::builder()
                        .no_proxy()
                        .build()
                        .map_err(|e| e.to_string())?;
                    let answer = http
                        .get(&api)
                        .header(http::header::AUTHORIZATION, token.authorization_header())
                        .send()
                        .await
                        .map_err(|_| "the upstream cannot be reached".to_owned())?;
                    let status = answer.status().as_u16();
                    let seen: Value = answer.json().await.unwrap_or(Value::Null);
                    Ok::<_, String>(json!({"status": status, "seen": seen}))
                }
            },
        ))
        .tool(ToolDef::from_fn(
            "exchanged_claims",
            move |ctx: Context, target: Target| {
                let resource = r2.clone();
                async move {
                    let token = ctx.upstream_token(request(&target, &resource)).await?;
                    assert!(!format!("{token:?}").contains(token.expose()));
                    Ok::<_, ExchangeError>(json!({
                        "claims": claims(token.expose()),
                        "scope": token.scope(),
                        "issued_token_type": token.issued_token_type(),
                        "expires_in": token.expires_in().map(|d| d.as_secs()),
                    }))
                }
            },
        ))
        .tool(ToolDef::from_fn(
            "headers_seen",
            |ctx: Context, _: mcp_server::NoArgs| async move {
                let names: Vec<String> = ctx
                    .http()
                    .map(|h| h.headers.keys().map(|k| k.as_str().to_owned()).collect())
                    .unwrap_or_default();
                json!({ "headers": names })
            },
        ))
        .build()
        .unwrap()
}

/// The upstream: a protected MCP server whose REST route `/api/whoami` (behind its own
/// authorization layer, audience = its URL) answers with the claims of the token it got.
async fn upstream(issuer: &TestIssuer) -> (String, tokio::task::JoinHandle<()>) {
    let listener = TestListener::bind().await.unwrap();
    let url = listener.url();
    let server = McpServer::builder("upstream")
        .authorization(issuer.authorization(&url).unwrap())
        .build()
        .unwrap();
    let api = axum::Router::new()
        .route(
            "/api/whoami",
            get(|caller: Caller| async move {
                let c = caller
                    .context()
                    .map(|c| c.claims.clone())
                    .unwrap_or_default();
                Value::Object(c).to_string()
            }),
        )
        .layer(server.auth_layer(Surface::RestApi));
    let app = server
        .into_router()
        .merge(api)
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let tcp = listener.into_tcp_listener();
    let task = tokio::spawn(async move {
        let _ = axum::serve(tcp, app).await;
    });
    (url, task)
}

fn exchanger(issuer: &TestIssuer, secret: &str) -> TokenExchanger {
    TokenExchanger::new(TokenExchangeConfig::new(
        issuer.token_endpoint(),
        FRONT_ID,
        secret,
    ))
    .unwrap()
}

/// The front server, OAuth mode, exchanging with `exchange`.
async fn front(issuer: &TestIssuer, upstream: &str, exchange: TokenExchanger) -> TestServer {
    let listener = TestListener::bind().await.unwrap();
    let auth = issuer
        .authorization(listener.url())
        .unwrap()
        .required_scopes(["read"])
        .token_exchange(exchange);
    listener.spawn(front_tools(
        McpServer::builder("front").authorization(auth),
        upstream,
    ))
}

struct Rig {
    issuer: TestIssuer,
    upstream: String,
    front: TestServer,
    _upstream_task: tokio::task::JoinHandle<()>,
}

async fn rig() -> Rig {
    let issuer = TestIssuer::start().await.unwrap();
    issuer.register_client(FRONT_ID, FRONT_SECRET, "");
    let (upstream, task) = upstream(&issuer).await;
    let front = front(&issuer, &upstream, exchanger(&issuer, FRONT_SECRET)).await;
    Rig {
        issuer,
        upstream,
        front,
        _upstream_task: task,
    }
}

impl Rig {
    fn token(&self, subject: &str, scope: &str) -> String {
        self.issuer
            .token(&self.front.url())
            .subject(subject)
            .scope(scope)
            .sign()
    }

    async fn client(&self, token: &str, era: Era) -> McpClient {
        McpClient::builder()
            .auth(BearerAuth::new(token))
            .era(era)
            .connect(&self.front.url())
            .await
            .unwrap()
    }
}

/// The structured result of a tool that must succeed.
async fn call(client: &McpClient, tool: &str, args: Value) -> Value {
    let r = client.call_tool(tool, args).await.unwrap();
    assert!(!r.is_error(), "{tool}: {:?}", r.content);
    r.structured_content.unwrap_or(Value::Null)
}

/// The text of a tool error.
async fn tool_error(client: &McpClient, tool: &str, args: Value) -> String {
    let r = client.call_tool(tool, args).await.unwrap();
    assert!(r.is_error(), "{tool} was expected to fail");
    r.content
        .iter()
        .filter_map(|c| c.as_text())
        .collect::<Vec<_>>()
        .join(" ")
}

/// AZ-13: the upstream sees a token for itself (`aud`), of the original caller (`sub`), with
/// the front server as the actor (`act.sub`), the scope asked for, and not the caller's token;
/// on both eras.
#[tokio::test]
async fn az13_the_upstream_sees_itself_as_audience_the_caller_as_subject_and_the_front_as_actor() {
    let rig = rig().await;
    let token = rig.token("alice", "read write");
    for era in [Era::Modern, Era::Legacy] {
        let client = rig.client(&token, era).await;
        let out = call(&client, "upstream_whoami", json!({"scope": "read"})).await;
        assert_eq!(out["status"], 200, "{era:?}: {out}");
        let seen = &out["seen"];
        assert_eq!(seen["aud"], json!(rig.upstream), "{era:?}");
        assert_eq!(seen["sub"], "alice", "{era:?}");
        assert_eq!(seen["act"], json!({"sub": FRONT_ID}), "{era:?}");
        assert_eq!(seen["client_id"], FRONT_ID, "{era:?}");
        assert_eq!(seen["scope"], "read", "{era:?}");
        assert_eq!(seen["iss"], json!(rig.issuer.issuer()));
        client.close().await.unwrap();
    }
    // The caller's own token is refused by the upstream (it names the front server).
    let direct = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!(
            "{}/api/whoami",
            rig.upstream.trim_end_matches("/mcp")
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(direct.status().as_u16(), 401);
    // What the client got carries no token: neither its own nor the exchanged one.
    let client = rig.client(&token, Era::Modern).await;
    let r = client
        .call_tool("upstream_whoami", json!({"scope": "read"}))
        .await
        .unwrap();
    let text = serde_json::to_string(&r).unwrap();
    assert!(!text.contains(&token), "the caller's token came back");
    for issued in rig.issuer.issued_tokens() {
        assert!(!text.contains(&issued), "an exchanged token came back");
    }
    assert_eq!(
        rig.issuer.token_exchanges(),
        1,
        "one exchange, then the cache"
    );
    // Tools never see the caller's credential: the layer removed it once checked.
    let seen = call(&client, "headers_seen", json!({})).await;
    let names = seen["headers"].as_array().unwrap();
    assert!(names.iter().any(|n| n == "content-type"), "{seen}");
    assert!(!names.iter().any(|n| n == "authorization"), "{seen}");
}

/// The cache: the same caller and target get the same token (one exchange); another caller,
/// another target, other scopes get another; identical concurrent calls share one exchange.
#[tokio::test]
async fn exchanged_tokens_are_cached_per_caller_target_and_scope() {
    let rig = rig().await;
    let alice = rig
        .client(&rig.token("alice", "read write"), Era::Modern)
        .await;
    let jti = |v: &Value| v["claims"]["jti"].as_str().unwrap().to_owned();

    let first = call(&alice, "exchanged_claims", json!({"scope": "read"})).await;
    assert_eq!(first["issued_token_type"], TOKEN_TYPE);
    assert_eq!(first["scope"], "read");
    assert!(first["expires_in"].as_u64().unwrap() > 3000);
    let again = call(&alice, "exchanged_claims", json!({"scope": "read"})).await;
    assert_eq!(jti(&first), jti(&again), "the same token from the cache");
    assert_eq!(rig.issuer.token_exchanges(), 1);

    // Another target, other scopes: other tokens.
    let other = call(
        &alice,
        "exchanged_claims",
        json!({"resource": "https://reports.example.com", "scope": "read"}),
    )
    .await;
    assert_eq!(other["claims"]["aud"], "https://reports.example.com");
    assert_ne!(jti(&first), jti(&other));
    let by_audience = call(
        &alice,
        "exchanged_claims",
        json!({"audience": "reports", "scope": "read"}),
    )
    .await;
    assert_eq!(by_audience["claims"]["aud"], "reports");
    let wider = call(&alice, "exchanged_claims", json!({"scope": "read write"})).await;
    assert_eq!(wider["scope"], "read write");
    assert_ne!(jti(&first), jti(&wider));
    assert_eq!(rig.issuer.token_exchanges(), 4);

    // Another caller: another token, with its own subject.
    let bob = rig.client(&rig.token("bob", "read"), Era::Legacy).await;
    let bobs = call(&bob, "exchanged_claims", json!({"scope": "read"})).await;
    assert_eq!(bobs["claims"]["sub"], "bob");
    assert_ne!(jti(&first), jti(&bobs));
    assert_eq!(rig.issuer.token_exchanges(), 5);

    // Concurrent identical exchanges of a new caller: one call to the issuer.
    let carol = rig.client(&rig.token("carol", "read"), Era::Modern).await;
    let calls = (0..6).map(|_| call(&carol, "exchanged_claims", json!({"scope": "read"})));
    let outs = futures_util::future::join_all(calls).await;
    assert!(outs.iter().all(|o| jti(o) == jti(&outs[0])));
    assert_eq!(rig.issuer.token_exchanges(), 6);
}

/// A token is served from the cache until shortly before it expires (at most half its life
/// before), then exchanged again.
#[tokio::test]
async fn a_cached_token_is_renewed_before_it_expires() {
    let rig = rig().await;
    rig.issuer
        .set_client_token_lifetime(FRONT_ID, Duration::from_secs(2));
    let alice = rig.client(&rig.token("alice", "read"), Era::Modern).await;
    let first = call(&alice, "exchanged_claims", json!({})).await;
    assert!(first["expires_in"].as_u64().unwrap() <= 2);
    let _ = call(&alice, "exchanged_claims", json!({})).await;
    assert_eq!(rig.issuer.token_exchanges(), 1);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let renewed = call(&alice, "exchanged_claims", json!({})).await;
    assert_ne!(first["claims"]["jti"], renewed["claims"]["jti"]);
    assert_eq!(rig.issuer.token_exchanges(), 2);
}

/// Callers without an access token get the typed error as a tool error, never a panic: an API
/// key (builtin mode with JWTs and token exchange), an unprotected server's anonymous caller.
#[tokio::test]
async fn api_key_and_anonymous_callers_get_a_typed_tool_error() {
    let issuer = TestIssuer::start().await.unwrap();
    issuer.register_client(FRONT_ID, FRONT_SECRET, "");
    let (up, _task) = upstream(&issuer).await;
    let keys = ApiKeys::in_memory();
    let listener = TestListener::bind().await.unwrap();
    let url = listener.url();
    let auth = AuthorizationConfig::builtin(keys.clone())
        .authorization_server(issuer.issuer())
        .resource(&url)
        .validator(JwtValidator::new(JwtValidatorConfig::new(issuer.issuer(), "")).unwrap())
        .token_exchange(exchanger(&issuer, FRONT_SECRET));
    let srv = listener.spawn(front_tools(
        McpServer::builder("builtin").authorization(auth),
        &up,
    ));
    let key = keys
        .create(NewApiKey::new("ci", "operator").surface(Surface::Mcp))
        .await
        .unwrap();
    let client = McpClient::connect(&srv.url(), ApiKeyAuth::new(key.secret.expose()))
        .await
        .unwrap();
    let e = tool_error(&client, "exchanged_claims", json!({})).await;
    assert!(
        e.contains("api_key credentials, not an OAuth access token"),
        "{e}"
    );
    // A JWT beside the keys is exchanged.
    let jwt = issuer.token(&url).subject("dana").scope("read").sign();
    let client = McpClient::connect(&srv.url(), BearerAuth::new(&jwt))
        .await
        .unwrap();
    let out = call(&client, "upstream_whoami", json!({})).await;
    assert_eq!(out["seen"]["sub"], "dana");
    assert_eq!(issuer.token_exchanges(), 1);

    // Mode none: nobody to act for.
    let open = mcp_server::testing::spawn(front_tools(McpServer::builder("open"), &up))
        .await
        .unwrap();
    let client = McpClient::connect(&open.url(), mcp_client::auth::NoAuth)
        .await
        .unwrap();
    let e = tool_error(&client, "exchanged_claims", json!({})).await;
    assert_eq!(
        e,
        "there is no authenticated caller whose token could be exchanged"
    );

    // OAuth without token exchange configured.
    let listener = TestListener::bind().await.unwrap();
    let auth = issuer.authorization(listener.url()).unwrap();
    let plain = listener.spawn(front_tools(
        McpServer::builder("plain").authorization(auth),
        &up,
    ));
    let token = issuer.token(&plain.url()).sign();
    let client = McpClient::connect(&plain.url(), BearerAuth::new(&token))
        .await
        .unwrap();
    let e = tool_error(&client, "exchanged_claims", json!({})).await;
    assert_eq!(e, "token exchange is not configured on this server");
}

/// An unreachable authorization server, and one that never answers, are a bounded
/// `Unavailable` tool error.
#[tokio::test]
async fn an_unreachable_or_silent_authorization_server_is_a_bounded_error() {
    let issuer = TestIssuer::start().await.unwrap();
    let (up, _task) = upstream(&issuer).await;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed_url = format!("http://{}/token", closed.local_addr().unwrap());
    drop(closed);
    // Accepts connections, reads nothing, answers nothing.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}/token", silent.local_addr().unwrap());
    let _hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    for endpoint in [closed_url, silent_url] {
        let exchange = TokenExchanger::new(
            TokenExchangeConfig::new(endpoint, FRONT_ID, FRONT_SECRET)
                .http_timeout(Duration::from_millis(500)),
        )
        .unwrap();
        let srv = front(&issuer, &up, exchange).await;
        let token = issuer.token(&srv.url()).scope("read").sign();
        let client = McpClient::connect(&srv.url(), BearerAuth::new(&token))
            .await
            .unwrap();
        let started = Instant::now();
        let e = tool_error(&client, "exchanged_claims", json!({})).await;
        assert!(started.elapsed() < Duration::from_secs(3), "bounded");
        assert!(
            e.starts_with("the authorization server is unavailable for token exchange"),
            "{e}"
        );
        assert!(!e.contains(&token));
    }
}

/// A refused exchange is a typed error naming the authorization server's `error` code, with no
/// token in it: a wrong secret, an unknown client (`invalid_client`), a target the client may
/// not have (`invalid_target`), a scope the caller lacks (`invalid_scope`).
#[tokio::test]
async fn a_refused_exchange_names_the_oauth_error_and_no_token() {
    let rig = rig().await;
    rig.issuer
        .restrict_exchange_targets(FRONT_ID, &[rig.upstream.as_str()]);
    let token = rig.token("alice", "read");
    let client = rig.client(&token, Era::Modern).await;
    let e = tool_error(
        &client,
        "exchanged_claims",
        json!({"resource": "https://elsewhere.example"}),
    )
    .await;
    assert!(
        e.contains("refused the token exchange: invalid_target"),
        "{e}"
    );
    let e = tool_error(&client, "exchanged_claims", json!({"scope": "admin"})).await;
    assert!(e.contains("invalid_scope"), "{e}");
    assert!(!e.contains(&token));
    // The allowed target still works.
    let out = call(&client, "upstream_whoami", json!({})).await;
    assert_eq!(out["seen"]["sub"], "alice");

    for (id, secret) in [
        (FRONT_ID, "a-wrong-front-secret-000"),
        ("nobody", FRONT_SECRET),
    ] {
        let exchange = TokenExchanger::new(TokenExchangeConfig::new(
            rig.issuer.token_endpoint(),
            id,
            secret,
        ))
        .unwrap();
        let srv = front(&rig.issuer, &rig.upstream, exchange).await;
        let token = rig.issuer.token(&srv.url()).scope("read").sign();
        let client = McpClient::connect(&srv.url(), BearerAuth::new(&token))
            .await
            .unwrap();
        let e = tool_error(&client, "exchanged_claims", json!({})).await;
        assert!(
            e.contains("refused the token exchange: invalid_client"),
            "{e}"
        );
        assert!(!e.contains(&token) && !e.contains(secret) && !e.contains(FRONT_SECRET));
    }
}

/// `client_secret_post` works as well as HTTP Basic.
#[tokio::test]
async fn the_client_may_authenticate_in_the_body() {
    let issuer = TestIssuer::start().await.unwrap();
    issuer.register_client(FRONT_ID, FRONT_SECRET, "");
    let (up, _task) = upstream(&issuer).await;
    let exchange = TokenExchanger::new(
        TokenExchangeConfig::new(issuer.token_endpoint(), FRONT_ID, FRONT_SECRET)
            .client_secret_post(),
    )
    .unwrap();
    let srv = front(&issuer, &up, exchange).await;
    let token = issuer
        .token(&srv.url())
        .subject("erin")
        .scope("read")
        .sign();
    let client = McpClient::connect(&srv.url(), BearerAuth::new(&token))
        .await
        .unwrap();
    let out = call(&client, "upstream_whoami", json!({})).await;
    assert_eq!(out["seen"]["sub"], "erin");
    assert_eq!(out["seen"]["act"]["sub"], FRONT_ID);
}

/// `build()` refuses token exchange where no access token is checked, and a token endpoint on
/// plain http beyond loopback.
#[tokio::test]
async fn token_exchange_where_no_token_is_checked_is_refused_at_build() {
    let issuer = TestIssuer::start().await.unwrap();
    let refused =
        |auth: AuthorizationConfig| match McpServer::builder("x").authorization(auth).build() {
            Err(BuildError::Authorization(e)) => e,
            other => panic!("expected an authorization error, got {:?}", other.err()),
        };
    let e = refused(AuthorizationConfig::none().token_exchange(exchanger(&issuer, "s")));
    assert!(matches!(
        e,
        AuthConfigError::NotInMode {
            setting: "token_exchange",
            ..
        }
    ));
    let e = refused(
        AuthorizationConfig::builtin(ApiKeys::in_memory()).token_exchange(exchanger(&issuer, "s")),
    );
    assert!(matches!(
        e,
        AuthConfigError::NotInMode {
            setting: "token_exchange",
            ..
        }
    ));
    let remote = TokenExchanger::new(TokenExchangeConfig::new(
        "http://as.example.com/token",
        FRONT_ID,
        "s",
    ))
    .unwrap();
    let e = refused(
        issuer
            .authorization("http://127.0.0.1:1/mcp")
            .unwrap()
            .token_exchange(remote),
    );
    assert!(
        matches!(e, AuthConfigError::PlainHttpAuthorizationServer { .. }),
        "{e}"
    );
}

// ---------------------------------------------------------------------------------------------
// The issuer's grant, on its own.

async fn exchange_at(
    issuer: &TestIssuer,
    auth: (&str, &str),
    form: &[(&str, &str)],
) -> (u16, Value) {
    let body = form
        .iter()
        .map(|(k, v)| format!("{k}={}", url_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let r = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(issuer.token_endpoint())
        .basic_auth(auth.0, Some(auth.1))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn url_encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The testing issuer's RFC 8693 grant: a genuine subject token is exchanged (`aud`, `sub`,
/// nested `act`, scopes no wider than the subject's, `issued_token_type`); missing parameters
/// are `invalid_request`, a forged, expired or revoked subject token `invalid_grant`, a wrong
/// client secret `invalid_client` (401), a public client `unauthorized_client`; no refusal
/// echoes the token.
#[tokio::test]
async fn the_test_issuer_exchanges_genuine_tokens_and_refuses_the_rest() {
    let issuer = TestIssuer::start().await.unwrap();
    issuer.register_client(FRONT_ID, FRONT_SECRET, "");
    issuer.register_public_client("spa", "read");
    let me = (FRONT_ID, FRONT_SECRET);
    let subject = issuer
        .token("https://front.example/mcp")
        .subject("alice")
        .scope("read write")
        .claim("act", json!({"sub": "gateway"}))
        .sign();
    let full = |subject: &str, scope: &str| {
        vec![
            ("grant_type", GRANT.to_owned()),
            ("subject_token", subject.to_owned()),
            ("subject_token_type", TOKEN_TYPE.to_owned()),
            ("resource", "https://api.example.com".to_owned()),
            ("scope", scope.to_owned()),
        ]
    };
    let send = |form: Vec<(&'static str, String)>, auth: (&'static str, &'static str)| {
        let issuer = &issuer;
        async move {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            exchange_at(issuer, auth, &pairs).await
        }
    };

    let (status, body) = send(full(&subject, "read admin"), me).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["issued_token_type"], TOKEN_TYPE);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "read", "no wider than the subject's");
    assert!(body.get("refresh_token").is_none());
    let issued = claims(body["access_token"].as_str().unwrap());
    assert_eq!(issued["aud"], "https://api.example.com");
    assert_eq!(issued["sub"], "alice");
    assert_eq!(issued["client_id"], FRONT_ID);
    assert_eq!(
        issued["act"],
        json!({"sub": FRONT_ID, "act": {"sub": "gateway"}}),
        "the prior actor nested (RFC 8693 §4.1)"
    );
    // Several targets: an `aud` array; no scope asked: the subject's.
    let mut form = full(&subject, "");
    form.retain(|(k, _)| *k != "scope");
    form.push(("audience", "reports".to_owned()));
    let (status, body) = send(form, me).await;
    assert_eq!(status, 200, "{body}");
    let issued = claims(body["access_token"].as_str().unwrap());
    assert_eq!(issued["aud"], json!(["https://api.example.com", "reports"]));
    assert_eq!(body["scope"], "read write");

    // Missing or wrong parameters: invalid_request.
    for missing in ["subject_token", "subject_token_type", "resource"] {
        let mut form = full(&subject, "read");
        form.retain(|(k, _)| *k != missing);
        let (status, body) = send(form, me).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_request")),
            "{missing}"
        );
    }
    let mut form = full(&subject, "read");
    form.push(("actor_token", "x".to_owned()));
    assert_eq!(send(form, me).await.1["error"], "invalid_request");
    let mut form = full(&subject, "read");
    form.push((
        "requested_token_type",
        "urn:ietf:params:oauth:token-type:id_token".to_owned(),
    ));
    assert_eq!(send(form, me).await.1["error"], "invalid_request");
    let mut form = full(&subject, "read");
    form[3].1 = "api.example.com#frag".to_owned();
    assert_eq!(send(form, me).await.1["error"], "invalid_request");
    assert_eq!(
        send(full(&subject, "admin"), me).await.1["error"],
        "invalid_scope"
    );

    // Forged, expired, unsigned, foreign, revoked subject tokens: invalid_grant, token not echoed.
    let opaque = issuer
        .token("https://front.example/mcp")
        .scope("read")
        .opaque();
    let (status, _) = send(full(&opaque, "read"), me).await;
    assert_eq!(status, 200, "an opaque token the issuer minted is genuine");
    issuer.revoke(&opaque);
    let foreign = TestIssuer::start().await.unwrap();
    let bad = [
        issuer.token("https://front.example/mcp").tampered(),
        issuer
            .token("https://front.example/mcp")
            .expires_in(-60)
            .sign(),
        issuer.token("https://front.example/mcp").unsigned(),
        issuer
            .token("https://front.example/mcp")
            .hs256_with_public_key(),
        foreign.token("https://front.example/mcp").sign(),
        issuer
            .token("https://front.example/mcp")
            .claim("iss", json!("https://evil.example"))
            .sign(),
        opaque,
        "not-a-token".to_owned(),
    ];
    for (i, token) in bad.iter().enumerate() {
        let (status, body) = send(full(token, "read"), me).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "case {i}"
        );
        assert!(
            !body.to_string().contains(token.as_str()),
            "case {i}: echoed"
        );
    }

    // Client authentication.
    let (status, body) = send(full(&subject, "read"), (FRONT_ID, "wrong-secret")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let r = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(issuer.token_endpoint())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "client_id=spa&grant_type={}&subject_token={}&subject_token_type={}&resource=https%3A%2F%2Fa.example",
            url_encode(GRANT),
            url_encode(&subject),
            url_encode(TOKEN_TYPE)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized_client");

    // An allow list of targets.
    issuer.restrict_exchange_targets(FRONT_ID, &["https://api.example.com"]);
    assert_eq!(send(full(&subject, "read"), me).await.0, 200);
    let mut form = full(&subject, "read");
    form[3].1 = "https://other.example.com".to_owned();
    assert_eq!(send(form, me).await.1["error"], "invalid_target");

    // Never past the subject token's expiry.
    let short = issuer
        .token("https://front.example/mcp")
        .scope("read")
        .expires_in(30)
        .sign();
    let (_, body) = send(full(&short, "read"), me).await;
    assert!(
        body["expires_in"].as_u64().unwrap() <= 30,
        "{}",
        body["expires_in"]
    );
    assert!(issuer.token_exchanges() >= 20);
}
