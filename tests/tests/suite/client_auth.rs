//! The client's authentication strategies on the wire. Our server does not check credentials yet,
//! so each test puts an axum middleware in front of its router that records or checks them, and
//! answers 401/403 with `WWW-Authenticate` challenges the way an RFC 6750 / RFC 9449 resource
//! server does.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use mcp_client::auth::{
    ApiKeyAuth, Auth, AuthDecision, AuthError, AuthRequest, AuthResponse, BasicAuth, BearerAuth,
    MAX_AUTH_RETRIES, NoAuth,
};
use mcp_client::types::SubscriptionFilter;
use mcp_client::{BoxFuture, Era, Error, McpClient};
use mcp_tests::fixture;
use serde_json::json;

/// Serves `router` on 127.0.0.1:0; returns the MCP endpoint's URL.
async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}/mcp")
}

type Seen = Arc<Mutex<Vec<(Method, HeaderMap)>>>;

/// The fixture behind a middleware that records every request's method and headers.
async fn recording_server() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    let router =
        fixture()
            .into_router()
            .layer(middleware::from_fn(move |req: Request, next: Next| {
                let log = Arc::clone(&log);
                async move {
                    log.lock()
                        .unwrap()
                        .push((req.method().clone(), req.headers().clone()));
                    next.run(req).await
                }
            }));
    (serve(router).await, seen)
}

fn refuse(status: StatusCode, challenges: &[&str], extra: &[(&str, &str)]) -> Response {
    let mut r = (
        status,
        [("content-type", "application/json")],
        r#"{"error":"refused"}"#,
    )
        .into_response();
    for c in challenges {
        r.headers_mut()
            .append("www-authenticate", HeaderValue::from_str(c).unwrap());
    }
    for (k, v) in extra {
        r.headers_mut().insert(
            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    r
}

#[tokio::test]
async fn each_strategy_puts_its_credentials_on_every_request() {
    let (url, seen) = recording_server().await;
    let strategies: Vec<(Arc<dyn Auth>, &str, &str)> = vec![
        (
            Arc::new(BearerAuth::new("tok-123")),
            "authorization",
            "Bearer tok-123",
        ),
        (Arc::new(ApiKeyAuth::new("key-1")), "x-api-key", "key-1"),
        (
            Arc::new(ApiKeyAuth::new("key-2").header("X-Dagu-Key").unwrap()),
            "x-dagu-key",
            "key-2",
        ),
        (
            Arc::new(ApiKeyAuth::new("key-3").bearer()),
            "authorization",
            "Bearer key-3",
        ),
        (
            Arc::new(BasicAuth::new("ada", "pa:ss")),
            "authorization",
            "Basic YWRhOnBhOnNz",
        ),
    ];
    for (auth, header, expected) in strategies {
        for era in [Era::Modern, Era::Legacy] {
            seen.lock().unwrap().clear();
            let client = McpClient::builder()
                .auth(Arc::clone(&auth))
                .era(era)
                .on_elicitation(|_: mcp_client::types::ElicitRequestParams| async {
                    Ok(mcp_client::types::ElicitResult::decline())
                })
                .connect(&url)
                .await
                .unwrap();
            client.list_tools().await.unwrap();
            client
                .call_tool("add", json!({"a": 1, "b": 2}))
                .await
                .unwrap();
            // Legacy: the answer to the server's request, the GET stream and DELETE too.
            client.call_tool("ask", ()).await.unwrap();
            let feed = client
                .subscribe(SubscriptionFilter {
                    tools_list_changed: Some(true),
                    ..Default::default()
                })
                .await
                .unwrap();
            drop(feed);
            client.close().await.unwrap();
            let seen = seen.lock().unwrap();
            assert!(seen.len() >= 5, "{era:?}: {} requests", seen.len());
            for (method, headers) in seen.iter() {
                assert_eq!(
                    headers.get(header).and_then(|v| v.to_str().ok()),
                    Some(expected),
                    "{era:?} {method} {header}"
                );
            }
            if era == Era::Legacy {
                for m in [Method::GET, Method::DELETE] {
                    assert!(seen.iter().any(|(method, _)| *method == m), "{m} was sent");
                }
            }
        }
    }
    // No credentials: no Authorization header at all.
    seen.lock().unwrap().clear();
    McpClient::connect(&url, NoAuth).await.unwrap();
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .all(|(_, h)| h.get("authorization").is_none())
    );
}

#[tokio::test]
async fn a_401_is_unauthorized_with_the_parsed_challenges() {
    let metadata = Arc::new(Mutex::new(String::new()));
    let md = Arc::clone(&metadata);
    let router = fixture().into_router().layer(middleware::from_fn(
        move |req: Request, next: Next| {
            let md = md.lock().unwrap().clone();
            async move {
                match req.headers().get("authorization").and_then(|v| v.to_str().ok()) {
                    Some("Bearer good") => next.run(req).await,
                    None => {
                        let c = format!(r#"Bearer resource_metadata="{md}", scope="read write""#);
                        refuse(StatusCode::UNAUTHORIZED, &[&c], &[])
                    }
                    Some(_) => refuse(
                        StatusCode::UNAUTHORIZED,
                        &[r#"Bearer error="invalid_token", error_description="The token \"expired\"", DPoP algs="ES256 EdDSA""#, r#"Basic realm="fallback""#],
                        &[],
                    ),
                }
            }
        },
    ));
    let url = serve(router).await;
    let prm = url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp");
    *metadata.lock().unwrap() = prm.clone();

    let e = McpClient::connect(&url, NoAuth).await.unwrap_err();
    let Error::Unauthorized { challenges } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(challenges.len(), 1);
    assert!(challenges[0].is_scheme("bearer"));
    assert_eq!(challenges[0].resource_metadata(), Some(prm.as_str()));
    assert_eq!(challenges[0].scopes(), ["read", "write"]);
    assert_eq!(challenges[0].error(), None);

    for era in [Era::Modern, Era::Legacy] {
        let e = McpClient::builder()
            .auth(BearerAuth::new("stale"))
            .era(era)
            .connect(&url)
            .await
            .unwrap_err();
        let challenges = e.challenges();
        assert_eq!(challenges.len(), 3, "{e}");
        assert_eq!(challenges[0].error(), Some("invalid_token"));
        assert_eq!(
            challenges[0].error_description(),
            Some(r#"The token "expired""#)
        );
        assert_eq!(challenges[1].algs(), ["ES256", "EdDSA"]);
        assert_eq!(challenges[2].realm(), Some("fallback"));
        assert!(e.to_string().contains("invalid_token"), "{e}");
    }
    let ok = McpClient::connect(&url, BearerAuth::new("good"))
        .await
        .unwrap();
    assert_eq!(ok.era(), Era::Modern);
}

#[tokio::test]
async fn a_403_is_forbidden_with_the_missing_scopes() {
    let router = fixture().into_router().layer(middleware::from_fn(
        |req: Request, next: Next| async move {
            // Read the body to see which tool is called (the legacy wire has no Mcp-Name).
            let (parts, body) = req.into_parts();
            let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
            let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            if v["method"] == "tools/call" && v["params"]["name"] == "add" {
                return refuse(
                    StatusCode::FORBIDDEN,
                    &[r#"Bearer error="insufficient_scope", scope="tools:add admin", error_description="Need more""#],
                    &[],
                );
            }
            next.run(Request::from_parts(parts, Body::from(bytes))).await
        },
    ));
    let url = serve(router).await;
    for era in [Era::Modern, Era::Legacy] {
        let client = McpClient::builder()
            .auth(BearerAuth::new("t"))
            .era(era)
            .connect(&url)
            .await
            .unwrap();
        let e = client
            .call_tool("add", json!({"a": 1, "b": 1}))
            .await
            .unwrap_err();
        let Error::Forbidden {
            missing_scopes,
            challenges,
        } = &e
        else {
            panic!("{e:?}")
        };
        assert_eq!(missing_scopes, &["tools:add", "admin"], "{era:?}");
        assert_eq!(challenges[0].error_description(), Some("Need more"));
        // Other calls are fine.
        assert!(
            !client
                .call_tool("echo", json!({"text": "x"}))
                .await
                .unwrap()
                .is_error()
        );
    }
}

/// A DPoP-shaped strategy: keeps the server's `DPoP-Nonce` (from any response, through
/// `observe`) and retries once on `use_dpop_nonce` (through `on_rejection`).
#[derive(Default)]
struct NonceAuth {
    nonce: Mutex<Option<String>>,
    retries: AtomicUsize,
    urls: Mutex<Vec<String>>,
}

impl Auth for NonceAuth {
    fn authorize<'a>(
        &'a self,
        request: &'a mut AuthRequest,
    ) -> BoxFuture<'a, Result<(), AuthError>> {
        Box::pin(async move {
            self.urls
                .lock()
                .unwrap()
                .push(format!("{} {}", request.method(), request.url()));
            request.set_authorization("DPoP", "bound-token")?;
            let nonce = self.nonce.lock().unwrap().clone();
            if let Some(n) = nonce {
                request.set_secret(axum::http::HeaderName::from_static("x-proof-nonce"), &n)?;
            }
            Ok(())
        })
    }

    fn observe(&self, response: &AuthResponse<'_>) {
        if let Some(n) = response.dpop_nonce() {
            *self.nonce.lock().unwrap() = Some(n.to_owned());
        }
    }

    fn on_rejection<'a>(
        &'a self,
        response: &'a AuthResponse<'_>,
    ) -> BoxFuture<'a, Result<AuthDecision, AuthError>> {
        let retry = response.status() == 401
            && response.challenge("DPoP").and_then(|c| c.error()) == Some("use_dpop_nonce")
            && response.dpop_nonce().is_some();
        if retry {
            self.retries.fetch_add(1, Ordering::SeqCst);
        }
        Box::pin(std::future::ready(Ok(if retry {
            AuthDecision::Retry
        } else {
            AuthDecision::Fail
        })))
    }
}

#[tokio::test]
async fn a_strategy_can_retry_with_a_server_nonce_and_follow_its_rotation() {
    let served = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&served);
    let router = fixture().into_router().layer(middleware::from_fn(
        move |req: Request, next: Next| {
            let count = Arc::clone(&count);
            async move {
                // The nonce rotates every 3 accepted requests; the new one rides on the response.
                let n = count.load(Ordering::SeqCst);
                let current = format!("nonce-{}", n / 3);
                let given = req.headers().get("x-proof-nonce").and_then(|v| v.to_str().ok()).map(str::to_owned);
                if given.as_deref() != Some(current.as_str()) {
                    return refuse(
                        StatusCode::UNAUTHORIZED,
                        &[r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#],
                        &[("dpop-nonce", &current)],
                    );
                }
                let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                let mut response = next.run(req).await;
                response.headers_mut().insert("dpop-nonce", HeaderValue::from_str(&format!("nonce-{}", n / 3)).unwrap());
                response
            }
        },
    ));
    let url = serve(router).await;
    let auth = Arc::new(NonceAuth::default());
    let client = McpClient::connect(&url, Arc::clone(&auth)).await.unwrap();
    for i in 0..5 {
        let r = client
            .call_tool("add", json!({"a": i, "b": 1}))
            .await
            .unwrap();
        assert!(!r.is_error());
    }
    assert_eq!(
        auth.retries.load(Ordering::SeqCst),
        1,
        "only the very first request lacked the nonce"
    );
    let urls = auth.urls.lock().unwrap();
    assert!(urls.iter().all(|u| u == &format!("POST {url}")), "{urls:?}");
}

#[tokio::test]
async fn retries_are_capped_and_strategy_errors_surface() {
    struct Stubborn(AtomicUsize);
    impl Auth for Stubborn {
        fn authorize<'a>(
            &'a self,
            request: &'a mut AuthRequest,
        ) -> BoxFuture<'a, Result<(), AuthError>> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Box::pin(std::future::ready(
                request.set_authorization("Bearer", "nope"),
            ))
        }
        fn on_rejection<'a>(
            &'a self,
            _: &'a AuthResponse<'_>,
        ) -> BoxFuture<'a, Result<AuthDecision, AuthError>> {
            Box::pin(std::future::ready(Ok(AuthDecision::Retry)))
        }
    }
    let router = Router::new().route(
        "/mcp",
        axum::routing::any(|| async {
            refuse(
                StatusCode::UNAUTHORIZED,
                &[r#"Bearer error="invalid_token""#],
                &[],
            )
        }),
    );
    let url = serve(router).await;
    let auth = Arc::new(Stubborn(AtomicUsize::new(0)));
    let e = McpClient::connect(&url, Arc::clone(&auth))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e:?}");
    assert_eq!(
        auth.0.load(Ordering::SeqCst) as u32,
        MAX_AUTH_RETRIES + 1,
        "no fallback to initialize after a 401"
    );

    struct Broken;
    impl Auth for Broken {
        fn authorize<'a>(&'a self, _: &'a mut AuthRequest) -> BoxFuture<'a, Result<(), AuthError>> {
            Box::pin(std::future::ready(Err(AuthError::Strategy(
                "the token endpoint is down".into(),
            ))))
        }
    }
    let e = McpClient::connect(&url, Broken).await.unwrap_err();
    assert!(matches!(e, Error::Auth(AuthError::Strategy(_))), "{e:?}");
    let e = McpClient::connect(&url, BearerAuth::new("line\nbreak"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Auth(AuthError::InvalidHeaderValue { .. })),
        "{e:?}"
    );
}
