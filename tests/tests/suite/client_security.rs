//! Regression tests for the client security review, black-box: hand-written hostile servers on
//! 127.0.0.1:0 (axum), the real client, and a record of everything each hostile endpoint
//! received.
//!
//! 1. Client credentials only ever go to the issuer the user named (pinning), and only over
//!    https except on loopback (AZ-19) unless `dangerously_allow_http()`.
//! 2. No redirect is followed: API keys, `Mcp-Session-Id` and bodies stay with the configured URL.
//! 3. Any `expires_in` a token endpoint sends is survived (clamped), not a panic.
//! 4. Protected-resource metadata (AZ-06, RFC 9728 §3.3): a path-suffixed or `resource_metadata`
//!    document must name the server URL itself; a `resource_metadata` on another origin is
//!    refused and never fetched.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mcp_client::auth::{
    ApiKeyAuth, AuthError, AuthorizationCodeAuth, BearerAuth, ClientCredentialsAuth, OAuthError,
    headless_redirect, no_redirect_client,
};
use mcp_client::types::SubscriptionFilter;
use mcp_client::{Era, Error, McpClient};
use mcp_server::HttpConfig;
use mcp_server::testing::TestIssuer;
use mcp_tests::fixture;
use serde_json::{Value, json};

const PRM_PATH: &str = "/.well-known/oauth-protected-resource/mcp";
const PRM_ROOT: &str = "/.well-known/oauth-protected-resource";
const SECRET: &str = "s3cret-never-to-leak";

// --- Plumbing ------------------------------------------------------------------------------------

/// One request as a hostile endpoint saw it.
#[derive(Debug, Clone)]
struct Received {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: String,
}

impl Received {
    /// Whether `needle` appears anywhere in the request (headers, decoded Basic credentials,
    /// body).
    fn mentions(&self, needle: &str) -> bool {
        use base64::Engine;
        let basic = self
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        self.body.contains(needle)
            || basic.contains(needle)
            || self
                .headers
                .values()
                .any(|v| String::from_utf8_lossy(v.as_bytes()).contains(needle))
    }
}

/// Everything an endpoint received.
#[derive(Debug, Clone, Default)]
struct Inbox(Arc<Mutex<Vec<Received>>>);

impl Inbox {
    fn all(&self) -> Vec<Received> {
        self.0.lock().unwrap().clone()
    }

    fn is_empty(&self) -> bool {
        self.0.lock().unwrap().is_empty()
    }

    async fn record(&self, req: Request) -> Received {
        let (parts, body) = req.into_parts();
        let body = to_bytes(body, 1 << 20).await.unwrap_or_default();
        let r = Received {
            method: parts.method,
            path: parts.uri.path().to_owned(),
            headers: parts.headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        self.0.lock().unwrap().push(r.clone());
        r
    }
}

/// A listener on 127.0.0.1:0 and its base URL (`http://127.0.0.1:PORT`).
async fn bind() -> (tokio::net::TcpListener, SocketAddr, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr, format!("http://{addr}"))
}

fn serve(listener: tokio::net::TcpListener, router: Router) {
    tokio::spawn(async move { axum::serve(listener, router).await });
}

/// An endpoint that records every request and answers 404 (or `answer`'s response).
async fn recorder(
    answer: impl Fn(&Received) -> Response + Clone + Send + Sync + 'static,
) -> (String, Inbox) {
    let (listener, _, base) = bind().await;
    let inbox = Inbox::default();
    let log = inbox.clone();
    let router = Router::new().fallback(move |req: Request| {
        let (log, answer) = (log.clone(), answer.clone());
        async move { answer(&log.record(req).await) }
    });
    serve(listener, router);
    (base, inbox)
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn not_found() -> Response {
    StatusCode::NOT_FOUND.into_response()
}

/// What the protected MCP server publishes about itself.
#[derive(Clone, Default)]
struct Published {
    /// The `resource_metadata` of its 401 challenge.
    resource_metadata: Option<String>,
    /// The document at `/.well-known/oauth-protected-resource/mcp`.
    path_prm: Option<Value>,
    /// The document at `/.well-known/oauth-protected-resource`.
    root_prm: Option<Value>,
}

/// The fixture MCP server behind a gate that wants any `Authorization: Bearer` (it answers 401
/// with a challenge otherwise), publishing what `publish` returns for its base URL. Returns the
/// MCP endpoint URL.
async fn protected_mcp(publish: impl FnOnce(&str) -> Published) -> String {
    let (listener, _, base) = bind().await;
    let published = Arc::new(publish(&base));
    let challenge = match &published.resource_metadata {
        Some(u) => format!(r#"Bearer resource_metadata="{u}""#),
        None => "Bearer".to_owned(),
    };
    let gate = middleware::from_fn(move |req: Request, next: Next| {
        let challenge = challenge.clone();
        async move {
            let bearer = req
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("Bearer "));
            if bearer {
                next.run(req).await
            } else {
                (
                    StatusCode::UNAUTHORIZED,
                    [("www-authenticate", challenge)],
                    "",
                )
                    .into_response()
            }
        }
    });
    let (path_prm, root_prm) = (published.path_prm.clone(), published.root_prm.clone());
    let router = Router::new()
        .route(
            PRM_PATH,
            get(move || async move {
                path_prm.map_or_else(not_found, |d| json_response(StatusCode::OK, &d))
            }),
        )
        .route(
            PRM_ROOT,
            get(move || async move {
                root_prm.map_or_else(not_found, |d| json_response(StatusCode::OK, &d))
            }),
        )
        .merge(fixture().into_router().layer(gate));
    serve(listener, router);
    format!("{base}/mcp")
}

/// A protected MCP server whose path-suffixed metadata names `issuers` (and itself).
async fn mcp_naming(issuers: &[&str]) -> String {
    let issuers: Vec<String> = issuers.iter().map(|s| (*s).to_owned()).collect();
    protected_mcp(|base| Published {
        resource_metadata: Some(format!("{base}{PRM_PATH}")),
        path_prm: Some(
            json!({"resource": format!("{base}/mcp"), "authorization_servers": issuers}),
        ),
        root_prm: None,
    })
    .await
}

/// How a hand-written authorization server behaves.
#[derive(Clone)]
struct AsBehaviour {
    /// The `issuer` its metadata names (default: its own base URL).
    metadata_issuer: Option<String>,
    /// What its token endpoint answers.
    token_answer: Value,
}

impl Default for AsBehaviour {
    fn default() -> Self {
        AsBehaviour {
            metadata_issuer: None,
            token_answer: json!({"access_token": "tok-1", "token_type": "Bearer", "expires_in": 3600}),
        }
    }
}

/// A hand-written authorization server (RFC 8414 metadata, client credentials at `/token`)
/// recording every request. `public` is the base URL it is known by (default its loopback
/// address: `http://127.0.0.1:PORT`); it gets the port. Returns its issuer URL and inbox.
async fn hand_issuer(
    public: impl FnOnce(u16) -> Option<String>,
    behaviour: AsBehaviour,
) -> (String, Inbox) {
    let (listener, addr, base) = bind().await;
    let base = public(addr.port()).unwrap_or(base);
    let inbox = Inbox::default();
    let log = inbox.clone();
    let issuer = base.clone();
    let router = Router::new().fallback(move |req: Request| {
        let (log, issuer, behaviour) = (log.clone(), issuer.clone(), behaviour.clone());
        async move {
            let r = log.record(req).await;
            match (r.method.as_str(), r.path.as_str()) {
                ("GET", "/.well-known/oauth-authorization-server") => json_response(
                    StatusCode::OK,
                    &json!({
                        "issuer": behaviour.metadata_issuer.unwrap_or_else(|| issuer.clone()),
                        "token_endpoint": format!("{issuer}/token"),
                        "grant_types_supported": ["client_credentials"],
                        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                    }),
                ),
                ("POST", "/token") => json_response(StatusCode::OK, &behaviour.token_answer),
                _ => not_found(),
            }
        }
    });
    serve(listener, router);
    (base, inbox)
}

/// The OAuth error inside a client error (panics with the error otherwise).
fn oauth_error(e: &Error) -> &OAuthError {
    match e {
        Error::Auth(AuthError::OAuth(o)) => o,
        other => panic!("expected an OAuth error, got {other:?} ({other})"),
    }
}

async fn tools(client: &McpClient) -> Vec<String> {
    let tools = client.list_tools().await.unwrap();
    tools.into_iter().map(|t| t.name).collect()
}

// --- 1. Issuer pinning and https ---------------------------------------------------------------

/// Finding 1: the server's metadata names a foreign authorization server. The client is
/// registered with another one, named by the user: it refuses with `UntrustedIssuer` naming
/// both, and the foreign issuer receives nothing at all (no metadata request, no token request,
/// no secret).
#[tokio::test]
async fn client_credentials_are_never_sent_to_an_issuer_the_user_did_not_name() {
    let trusted = TestIssuer::start().await.unwrap();
    trusted.register_client("svc", SECRET, "read");
    let (foreign, foreign_inbox) = recorder(|_| not_found()).await;
    let url = mcp_naming(&[&foreign]).await;

    let auth = ClientCredentialsAuth::new(trusted.issuer(), "svc", SECRET);
    let e = McpClient::connect(&url, auth).await.unwrap_err();
    let OAuthError::UntrustedIssuer { pinned, discovered } = oauth_error(&e) else {
        panic!("{e:?}")
    };
    assert_eq!(pinned, trusted.issuer());
    assert_eq!(discovered, &foreign);
    let message = e.to_string();
    assert!(
        message.contains(trusted.issuer()) && message.contains(&foreign),
        "{message}"
    );
    assert!(!message.contains(SECRET) && !format!("{e:?}").contains(SECRET));
    assert!(
        foreign_inbox.is_empty(),
        "the foreign issuer was contacted: {:?}",
        foreign_inbox.all()
    );
    assert_eq!(trusted.token_requests(), 0);
}

/// Finding 1: the metadata at the named issuer's own well-known URL claims another `issuer`
/// (RFC 8414 §3.3): refused, and its token endpoint gets nothing.
#[tokio::test]
async fn an_issuer_whose_metadata_names_another_issuer_gets_no_credentials() {
    let behaviour = AsBehaviour {
        metadata_issuer: Some("https://someone-else.example".into()),
        ..AsBehaviour::default()
    };
    let (named, inbox) = hand_issuer(|_| None, behaviour).await;
    let url = mcp_naming(&[&named]).await;
    let e = McpClient::connect(&url, ClientCredentialsAuth::new(&named, "svc", SECRET))
        .await
        .unwrap_err();
    let OAuthError::UntrustedIssuer { pinned, discovered } = oauth_error(&e) else {
        panic!("{e:?}")
    };
    assert_eq!(
        (pinned.as_str(), discovered.as_str()),
        (named.as_str(), "https://someone-else.example")
    );
    let received = inbox.all();
    assert!(
        received
            .iter()
            .all(|r| r.method == Method::GET && !r.mentions(SECRET)),
        "only the metadata may have been read: {received:?}"
    );
}

/// Finding 1: when the metadata lists several authorization servers, the named one is used,
/// wherever it is in the list; the others are not contacted.
#[tokio::test]
async fn when_several_authorization_servers_are_listed_the_named_one_is_used() {
    let trusted = TestIssuer::start().await.unwrap();
    trusted.register_client("svc", SECRET, "read");
    let (foreign, foreign_inbox) = recorder(|_| not_found()).await;
    let url = mcp_naming(&[&foreign, trusted.issuer()]).await;
    let auth = ClientCredentialsAuth::new(trusted.issuer(), "svc", SECRET);
    let client = McpClient::builder()
        .auth(auth)
        .era(Era::Legacy)
        .connect(&url)
        .await
        .unwrap();
    assert!(tools(&client).await.contains(&"add".to_owned()));
    assert_eq!(trusted.token_requests(), 1, "{:?}", trusted.token_grants());
    assert!(foreign_inbox.is_empty(), "{:?}", foreign_inbox.all());
}

/// Finding 1 (AZ-19): an authorization server on plain http that is not loopback is refused
/// before anything is sent to it (no DNS lookup, no request), naming the URL.
#[tokio::test]
async fn a_plain_http_authorization_server_off_loopback_is_refused_before_any_request() {
    let issuer = "http://auth.example.com";
    let url = mcp_naming(&[issuer]).await;
    let e = McpClient::connect(&url, ClientCredentialsAuth::new(issuer, "svc", SECRET))
        .await
        .unwrap_err();
    let OAuthError::InsecureUrl { url: refused } = oauth_error(&e) else {
        panic!("{e:?}")
    };
    assert!(refused.starts_with(issuer), "{refused}");
    assert!(e.to_string().contains("http://auth.example.com"), "{e}");
}

/// Finding 1 (AZ-19): credentials are not sent over plain http to an MCP server that is not on
/// loopback; the error names the URL and nothing leaves the client.
#[tokio::test]
async fn credentials_are_never_sent_over_plain_http_to_a_host_that_is_not_loopback() {
    for url in ["http://mcp.example.com/mcp", "http://10.1.2.3:8000/mcp"] {
        for auth in [
            Box::new(ApiKeyAuth::new(SECRET)) as Box<dyn mcp_client::auth::Auth>,
            Box::new(BearerAuth::new(SECRET)),
        ] {
            let e = McpClient::builder()
                .auth(auth)
                .connect_timeout(Duration::from_millis(200))
                .connect(url)
                .await
                .unwrap_err();
            let Error::InsecureUrl { url: refused } = &e else {
                panic!("{url}: {e:?}")
            };
            assert_eq!(refused, url);
            assert!(!e.to_string().contains(SECRET));
        }
    }
    // Credentials in the URL itself count too, and their password is not repeated.
    let e = McpClient::connect(
        &format!("http://ada:{SECRET}@mcp.example.com/mcp"),
        mcp_client::auth::NoAuth,
    )
    .await
    .unwrap_err();
    let Error::InsecureUrl { url: refused } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(refused, "http://ada:***@mcp.example.com/mcp");
    assert!(!format!("{e} {e:?}").contains(SECRET));
}

/// Finding 1: `dangerously_allow_http()` is the visible opt-in. A host that is not loopback
/// (`mcp.test` / `as.test`, resolved to 127.0.0.1 by the HTTP client so that no traffic leaves
/// the machine) works over plain http only with it, on the client builder and on the strategy.
#[tokio::test]
async fn plain_http_off_loopback_works_only_with_dangerously_allow_http() {
    // The API key to an MCP server at http://mcp.test.
    let (listener, addr, _) = bind().await;
    serve(
        listener,
        fixture()
            .http(HttpConfig::default().allow_host("mcp.test"))
            .into_router(),
    );
    let resolving = || {
        mcp_client::reqwest::Client::builder()
            .redirect(mcp_client::reqwest::redirect::Policy::none())
            .resolve("mcp.test", addr)
            .build()
            .unwrap()
    };
    let url = format!("http://mcp.test:{}/mcp", addr.port());
    let e = McpClient::builder()
        .auth(ApiKeyAuth::new("k"))
        .http_client(resolving())
        .connect(&url)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InsecureUrl { .. }), "{e:?}");
    let client = McpClient::builder()
        .auth(ApiKeyAuth::new("k"))
        .http_client(resolving())
        .dangerously_allow_http()
        .connect(&url)
        .await
        .unwrap();
    assert!(tools(&client).await.contains(&"add".to_owned()));

    // Client credentials with an authorization server at http://as.test.
    let (issuer, inbox) = hand_issuer(
        |port| Some(format!("http://as.test:{port}")),
        AsBehaviour::default(),
    )
    .await;
    let as_port = issuer.rsplit(':').next().unwrap().parse::<u16>().unwrap();
    let as_addr = SocketAddr::from(([127, 0, 0, 1], as_port));
    let oauth_http = || {
        mcp_client::reqwest::Client::builder()
            .redirect(mcp_client::reqwest::redirect::Policy::none())
            .resolve("as.test", as_addr)
            .build()
            .unwrap()
    };
    let mcp = mcp_naming(&[&issuer]).await;
    let e = McpClient::connect(
        &mcp,
        ClientCredentialsAuth::new(&issuer, "svc", SECRET).http_client(oauth_http()),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(oauth_error(&e), OAuthError::InsecureUrl { url } if url.starts_with(&issuer)),
        "{e:?}"
    );
    assert!(inbox.is_empty(), "{:?}", inbox.all());
    let auth = ClientCredentialsAuth::new(&issuer, "svc", SECRET)
        .http_client(oauth_http())
        .dangerously_allow_http();
    let client = McpClient::builder()
        .auth(auth)
        .era(Era::Legacy)
        .connect(&mcp)
        .await
        .unwrap();
    assert!(tools(&client).await.contains(&"add".to_owned()));
    assert!(
        inbox
            .all()
            .iter()
            .any(|r| r.path == "/token" && r.mentions(SECRET))
    );
}

/// An authorization server with dynamic registration (RFC 7591) and a headless `/authorize`,
/// claiming `claimed` as its issuer, handing out `client_secret` to whoever registers; `/mcp`
/// (for a hostile MCP server that is its own authorization server) always answers 401.
fn registering_as(
    inbox: Inbox,
    own: String,
    claimed: String,
    client_secret: &'static str,
) -> Router {
    Router::new().fallback(move |req: Request| {
        let (inbox, own, claimed) = (inbox.clone(), own.clone(), claimed.clone());
        async move {
            let query = req.uri().query().unwrap_or_default().to_owned();
            let r = inbox.record(req).await;
            match (r.method.as_str(), r.path.as_str()) {
                ("GET", "/.well-known/oauth-authorization-server") => json_response(
                    StatusCode::OK,
                    &json!({
                        "issuer": claimed,
                        "authorization_endpoint": format!("{own}/authorize"),
                        "token_endpoint": format!("{own}/token"),
                        "registration_endpoint": format!("{own}/register"),
                        "token_endpoint_auth_methods_supported": ["client_secret_post"],
                        "code_challenge_methods_supported": ["S256"],
                    }),
                ),
                ("POST", "/register") => json_response(
                    StatusCode::CREATED,
                    &json!({
                        "client_id": format!("client-of-{}", own.rsplit(':').next().unwrap_or_default()),
                        "client_secret": client_secret,
                        "token_endpoint_auth_method": "client_secret_post",
                    }),
                ),
                ("GET", "/authorize") => {
                    let param = |name: &str| {
                        query
                            .split('&')
                            .filter_map(|kv| kv.split_once('='))
                            .find(|(k, _)| *k == name)
                            .map(|(_, v)| v.to_owned())
                            .unwrap_or_default()
                    };
                    let redirect = param("redirect_uri").replace("%3A", ":").replace("%2F", "/");
                    Response::builder()
                        .status(StatusCode::FOUND)
                        .header("location", format!("{redirect}?code=c0de&state={}", param("state")))
                        .body(Body::empty())
                        .unwrap()
                }
                ("POST", "/token") => json_response(
                    StatusCode::OK,
                    &json!({"access_token": "tok-dyn", "token_type": "Bearer", "expires_in": 3600}),
                ),
                ("POST", "/mcp") => (StatusCode::UNAUTHORIZED, [("www-authenticate", "Bearer")], "")
                    .into_response(),
                _ => not_found(),
            }
        }
    })
}

/// Finding 1, dynamic registration: one `AuthorizationCodeAuth` registers with authorization
/// server A for a server that names A. A hostile 2025-03-26-style server (no protected-resource
/// metadata) then serves, at its own origin, metadata that *claims* to be A with its own
/// endpoints: the client registered with A is not used there (the hostile server never sees A's
/// client secret); the client registers anew.
#[tokio::test]
async fn a_dynamically_registered_client_is_only_used_with_the_server_that_registered_it() {
    const A_SECRET: &str = "dyn-secret-issued-by-a";
    let (listener, _, a) = bind().await;
    let a_inbox = Inbox::default();
    serve(
        listener,
        registering_as(a_inbox.clone(), a.clone(), a.clone(), A_SECRET),
    );
    let honest = mcp_naming(&[&a]).await;

    let (listener, _, b) = bind().await;
    let b_inbox = Inbox::default();
    serve(
        listener,
        registering_as(b_inbox.clone(), b.clone(), a.clone(), "b-secret"),
    );

    let auth = Arc::new(AuthorizationCodeAuth::new(
        "http://127.0.0.1:9/callback",
        headless_redirect(no_redirect_client()),
    ));
    let client = McpClient::builder()
        .auth(Arc::clone(&auth))
        .era(Era::Legacy)
        .connect(&honest)
        .await
        .unwrap();
    assert!(tools(&client).await.contains(&"add".to_owned()));
    assert!(
        a_inbox
            .all()
            .iter()
            .any(|r| r.path == "/token" && r.mentions(A_SECRET))
    );

    let _ = McpClient::builder()
        .auth(Arc::clone(&auth))
        .era(Era::Legacy)
        .connect(&format!("{b}/mcp"))
        .await;
    let seen = b_inbox.all();
    assert!(
        seen.iter().all(|r| !r.mentions(A_SECRET)),
        "A's client secret reached the hostile server: {seen:?}"
    );
    assert!(
        seen.iter().any(|r| r.path == "/register"),
        "the client registers with the hostile server instead: {seen:?}"
    );
}

// --- 2. Redirects ------------------------------------------------------------------------------

/// A legacy-era server that opens a session and then answers every request (POST, GET stream,
/// DELETE) with `307` to `elsewhere`.
async fn redirecting_legacy_server(elsewhere: String) -> String {
    let (listener, _, base) = bind().await;
    let router = Router::new().fallback(move |req: Request| {
        let elsewhere = elsewhere.clone();
        async move {
            let method = req.method().clone();
            let body = to_bytes(req.into_body(), 1 << 20).await.unwrap_or_default();
            let message: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let rpc = message["method"].as_str().unwrap_or_default();
            if method == Method::POST && rpc == "initialize" {
                let result = json!({"jsonrpc": "2.0", "id": message["id"], "result": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": "redirector", "version": "1"},
                }});
                return Response::builder()
                    .header("content-type", "application/json")
                    .header("mcp-session-id", "session-id-not-to-leak")
                    .body(Body::from(result.to_string()))
                    .unwrap();
            }
            if method == Method::POST && rpc.starts_with("notifications/") {
                return StatusCode::ACCEPTED.into_response();
            }
            Response::builder()
                .status(StatusCode::TEMPORARY_REDIRECT)
                .header("location", format!("{elsewhere}/mcp"))
                .body(Body::empty())
                .unwrap()
        }
    });
    serve(listener, router);
    format!("{base}/mcp")
}

/// Finding 2: a 307 to another port. The POST (API key, session id, body), the GET stream and
/// the DELETE all fail with `Redirected` naming the status and the `Location`, and nothing at all
/// arrives at the other port.
#[tokio::test]
async fn api_keys_and_session_ids_never_follow_a_redirect() {
    let (elsewhere, inbox) = recorder(|_| not_found()).await;
    let url = redirecting_legacy_server(elsewhere.clone()).await;
    let client = McpClient::builder()
        .auth(ApiKeyAuth::new(SECRET))
        .era(Era::Legacy)
        .connect(&url)
        .await
        .unwrap();
    assert_eq!(
        client.session_id().as_deref(),
        Some("session-id-not-to-leak")
    );
    let location = format!("{elsewhere}/mcp");

    let e = client.list_tools().await.unwrap_err();
    let Error::Redirected {
        status,
        location: to,
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!((*status, to.as_deref()), (307, Some(location.as_str())));
    assert!(
        e.to_string().contains("307") && e.to_string().contains(&location),
        "{e}"
    );

    // The session's GET stream meets the same redirect and gives up.
    let _stream = client.subscribe(SubscriptionFilter::default()).await;
    let e = client.close().await.unwrap_err();
    assert!(
        matches!(&e, Error::Redirected { status: 307, location: Some(l) } if *l == location),
        "DELETE: {e:?}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received = inbox.all();
    assert!(
        received.is_empty(),
        "the redirect was followed: {received:?}"
    );
}

/// Finding 2: the very first request of a modern connection (a Bearer token) is redirected: the
/// connection fails with `Redirected`, and the token goes nowhere else.
#[tokio::test]
async fn a_bearer_token_does_not_follow_a_redirect_on_connect() {
    let (elsewhere, inbox) = recorder(|_| not_found()).await;
    let (target, moved) = (elsewhere.clone(), format!("{elsewhere}/moved"));
    let (redirector, _) = recorder(move |_| {
        Response::builder()
            .status(StatusCode::PERMANENT_REDIRECT)
            .header("location", format!("{target}/moved"))
            .body(Body::empty())
            .unwrap()
    })
    .await;
    let e = McpClient::connect(&format!("{redirector}/mcp"), BearerAuth::new(SECRET))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Redirected { status: 308, location: Some(l) } if *l == moved),
        "{e:?}"
    );
    assert!(inbox.is_empty(), "{:?}", inbox.all());
}

/// Finding 2 (verified, already so before the fix): the token request does not follow a
/// redirect either: the secret stays with the named issuer's token endpoint.
#[tokio::test]
async fn the_token_request_does_not_follow_a_redirect() {
    let (elsewhere, inbox) = recorder(|_| not_found()).await;
    let (listener, _, issuer) = bind().await;
    let (me, target) = (issuer.clone(), elsewhere.clone());
    let router = Router::new().fallback(move |req: Request| {
        let (me, target) = (me.clone(), target.clone());
        async move {
            if req.uri().path() == "/.well-known/oauth-authorization-server" {
                return json_response(
                    StatusCode::OK,
                    &json!({"issuer": me, "token_endpoint": format!("{me}/token")}),
                );
            }
            Response::builder()
                .status(StatusCode::TEMPORARY_REDIRECT)
                .header("location", format!("{target}/token"))
                .body(Body::empty())
                .unwrap()
        }
    });
    serve(listener, router);
    let url = mcp_naming(&[&issuer]).await;
    let e = McpClient::connect(&url, ClientCredentialsAuth::new(&issuer, "svc", SECRET))
        .await
        .unwrap_err();
    assert!(
        matches!(
            oauth_error(&e),
            OAuthError::Endpoint {
                endpoint: "token",
                status: 307,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(inbox.is_empty(), "{:?}", inbox.all());
}

// --- 3. Server-supplied numbers --------------------------------------------------------------

/// Finding 3: a token endpoint answering `expires_in: 18446744073709551615` (and other absurd
/// values) does not panic the client: the token is used, cached, and the calls work.
#[tokio::test]
async fn a_huge_expires_in_from_the_token_endpoint_does_not_panic() {
    for expires_in in [json!(u64::MAX), json!(1e300), json!(-5), json!("soon")] {
        let behaviour = AsBehaviour {
            token_answer: json!({"access_token": "tok-1", "token_type": "Bearer", "expires_in": expires_in}),
            ..AsBehaviour::default()
        };
        let (issuer, inbox) = hand_issuer(|_| None, behaviour).await;
        let url = mcp_naming(&[&issuer]).await;
        let client = McpClient::builder()
            .auth(ClientCredentialsAuth::new(&issuer, "svc", SECRET))
            .era(Era::Legacy)
            .connect(&url)
            .await
            .unwrap_or_else(|e| panic!("expires_in {expires_in}: {e}"));
        for _ in 0..3 {
            assert!(tools(&client).await.contains(&"add".to_owned()));
        }
        let token_requests = inbox.all().iter().filter(|r| r.path == "/token").count();
        assert_eq!(
            token_requests, 1,
            "expires_in {expires_in}: the token is cached"
        );
    }
}

// --- 4. Protected-resource metadata -----------------------------------------------------------

/// Finding 4 (AZ-06, RFC 9728 §3.3): the challenge's `resource_metadata` points to another
/// origin (another port). It is refused with `ForeignResourceMetadata` naming it, and never
/// fetched; no token is requested.
#[tokio::test]
async fn a_resource_metadata_url_on_another_origin_is_refused_and_never_fetched() {
    let trusted = TestIssuer::start().await.unwrap();
    trusted.register_client("svc", SECRET, "read");
    let (other, inbox) = recorder(|_| not_found()).await;
    let foreign_prm = format!("{other}{PRM_PATH}");
    let issuer = trusted.issuer().to_owned();
    let prm = foreign_prm.clone();
    let url = protected_mcp(move |base| Published {
        resource_metadata: Some(prm),
        path_prm: Some(
            json!({"resource": format!("{base}/mcp"), "authorization_servers": [issuer]}),
        ),
        root_prm: None,
    })
    .await;
    let e = McpClient::connect(
        &url,
        ClientCredentialsAuth::new(trusted.issuer(), "svc", SECRET),
    )
    .await
    .unwrap_err();
    let OAuthError::ForeignResourceMetadata {
        url: refused,
        server,
    } = oauth_error(&e)
    else {
        panic!("{e:?}")
    };
    assert_eq!((refused, server), (&foreign_prm, &url));
    assert!(
        inbox.is_empty(),
        "the foreign metadata was fetched: {:?}",
        inbox.all()
    );
    assert_eq!(trusted.token_requests(), 0);
}

/// Finding 4: path-suffixed metadata (found through the challenge, or by probing) names only the
/// origin as its `resource`: refused with `ResourceMismatch`, no token requested.
#[tokio::test]
async fn path_suffixed_metadata_naming_only_the_origin_is_refused() {
    let trusted = TestIssuer::start().await.unwrap();
    trusted.register_client("svc", SECRET, "read");
    for in_challenge in [true, false] {
        let issuer = trusted.issuer().to_owned();
        let url = protected_mcp(move |base| Published {
            resource_metadata: in_challenge.then(|| format!("{base}{PRM_PATH}")),
            path_prm: Some(json!({"resource": base, "authorization_servers": [issuer]})),
            root_prm: None,
        })
        .await;
        let origin = url.trim_end_matches("/mcp").to_owned();
        let e = McpClient::connect(
            &url,
            ClientCredentialsAuth::new(trusted.issuer(), "svc", SECRET),
        )
        .await
        .unwrap_err();
        let OAuthError::ResourceMismatch { resource, server } = oauth_error(&e) else {
            panic!("{e:?}")
        };
        assert_eq!(
            (resource, server),
            (&origin, &url),
            "in challenge: {in_challenge}"
        );
    }
    assert_eq!(trusted.token_requests(), 0);
}

/// Finding 4, the other side: metadata at the root well-known URL may still name the bare
/// origin (RFC 9728 §3.1), and the token is then requested for that resource.
#[tokio::test]
async fn root_metadata_may_name_the_bare_origin() {
    let trusted = TestIssuer::start().await.unwrap();
    trusted.register_client("svc", SECRET, "read");
    let issuer = trusted.issuer().to_owned();
    let url = protected_mcp(move |base| Published {
        resource_metadata: None,
        path_prm: None,
        root_prm: Some(json!({"resource": base, "authorization_servers": [issuer]})),
    })
    .await;
    let client = McpClient::builder()
        .auth(ClientCredentialsAuth::new(trusted.issuer(), "svc", SECRET))
        .era(Era::Legacy)
        .connect(&url)
        .await
        .unwrap();
    assert!(tools(&client).await.contains(&"add".to_owned()));
    assert_eq!(trusted.token_requests(), 1);
}
