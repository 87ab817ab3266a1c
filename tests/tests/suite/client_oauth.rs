//! Every OAuth strategy of mcp-client against our own resource server and our own
//! authorization server (`TestIssuer`), black-box: token caching, refresh after expiry, the
//! retry after a 401 (the issuer rotated its keys), 403 step-up (and its refusal), DPoP-bound
//! client-credentials tokens with resource-server and authorization-server nonces, the
//! authorization code grant with PKCE and refresh tokens, and the static Basic / API-key
//! strategies against the builtin modes.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mcp_client::auth::{
    ApiKeyAuth, AuthorizationCodeAuth, BasicAuth, BearerAuth, ClientCredentialsAuth, DpopAuth,
    DpopKey, headless_redirect, no_redirect_client,
};
use mcp_client::{Error, McpClient};
use mcp_server::auth::{
    ApiKeys, AuthorizationConfig, DpopConfig, JwtValidator, JwtValidatorConfig, MemoryStore,
    NewApiKey, Surface, User, UserStore, hash_password,
};
use mcp_server::testing::{TestIssuer, TestListener, TestServer, spawn};
use mcp_server::{Context, McpServer, NoArgs, ToolDef};
use serde_json::{Value, json};

const NONCE_KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

fn tools(builder: mcp_server::McpServerBuilder) -> mcp_server::McpServerBuilder {
    builder
        .tool(ToolDef::from_fn(
            "whoami",
            |ctx: Context, _: NoArgs| async move {
                let auth = ctx.auth();
                json!({
                    "subject": auth.and_then(|a| a.subject.clone()),
                    "credential": format!("{:?}", auth.map(|a| a.credential)),
                    "scopes": auth.map(|a| a.scopes.iter().cloned().collect::<Vec<_>>()),
                })
            },
        ))
        .tool(
            ToolDef::from_fn("delete_file", |_: Context, _: NoArgs| async { "deleted" })
                .required_scopes(["files:delete"]),
        )
}

/// A resource server trusting `issuer`, requiring `read`, with `config` applied on top.
async fn protected(
    issuer: &TestIssuer,
    config: impl FnOnce(AuthorizationConfig) -> AuthorizationConfig,
) -> TestServer {
    let listener = TestListener::bind().await.unwrap();
    let validator = JwtValidator::new(JwtValidatorConfig::new(issuer.issuer(), "")).unwrap();
    let auth = config(
        AuthorizationConfig::enabled()
            .authorization_server(issuer.issuer())
            .resource(listener.url())
            .required_scopes(["read"])
            .validator(validator),
    );
    let server = tools(McpServer::builder("oauth").authorization(auth))
        .build()
        .unwrap();
    listener.spawn(server)
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn whoami(client: &McpClient) -> Value {
    let r = client.call_tool("whoami", json!({})).await.unwrap();
    assert_ne!(r.is_error, Some(true), "{r:?}");
    let text = serde_json::to_value(&r.content).unwrap()[0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    serde_json::from_str(&text).unwrap()
}

// --- Client credentials ----------------------------------------------------------------------

/// One token request serves the connection and every later call while the token is fresh.
#[tokio::test]
async fn client_credentials_token_is_cached_across_calls() {
    let issuer = TestIssuer::start().await.unwrap();
    issuer.register_client("svc", "s3cret", "read");
    let srv = protected(&issuer, |c| c).await;
    let client = McpClient::connect(
        &srv.url(),
        ClientCredentialsAuth::new(issuer.issuer(), "svc", "s3cret"),
    )
    .await
    .unwrap();
    for _ in 0..5 {
        let who = whoami(&client).await;
        assert_eq!(who["subject"], "svc");
    }
    assert_eq!(issuer.token_requests(), 1, "{:?}", issuer.token_grants());
    let token = &issuer.issued_tokens()[0];
    assert_eq!(claims(token)["aud"], srv.url(), "RFC 8707 resource → aud");
}

/// A token that reaches its expiry (minus the refresh margin) is replaced before it is used:
/// a second client-credentials request, and the calls keep working.
#[tokio::test]
async fn client_credentials_token_is_renewed_after_expiry() {
    let issuer = TestIssuer::start().await.unwrap();
    issuer.register_client("svc", "s3cret", "read");
    issuer.set_client_token_lifetime("svc", Duration::from_secs(2));
    let srv = protected(&issuer, |c| c).await;
    let auth =
        ClientCredentialsAuth::new(issuer.issuer(), "svc", "s3cret").refresh_margin(Duration::ZERO);
    let client = McpClient::connect(&srv.url(), auth).await.unwrap();
    whoami(&client).await;
    whoami(&client).await;
    assert_eq!(issuer.token_requests(), 1);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    whoami(&client).await;
    assert_eq!(issuer.token_requests(), 2, "{:?}", issuer.token_grants());
    whoami(&client).await;
    assert_eq!(
        issuer.token_requests(),
        2,
        "the new token is cached in turn"
    );
    assert_eq!(
        issuer.token_grants(),
        ["client_credentials", "client_credentials"]
    );
    let issued = issuer.issued_tokens();
    assert_ne!(issued[0], issued[1]);
}

/// The refresh margin renews early: with a 60 s margin, a 30 s token is renewed on every call.
#[tokio::test]
async fn the_refresh_margin_renews_tokens_before_they_expire() {
    let issuer = TestIssuer::start().await.unwrap();
    issuer.register_client("svc", "s3cret", "read");
    issuer.set_token_lifetime(Duration::from_secs(30));
    let srv = protected(&issuer, |c| c).await;
    let auth = ClientCredentialsAuth::new(issuer.issuer(), "svc", "s3cret")
        .refresh_margin(Duration::from_secs(60));
    let client = McpClient::connect(&srv.url(), auth).await.unwrap();
    let after_connect = issuer.token_requests();
    whoami(&client).await;
    assert!(issuer.token_requests() > after_connect);
}

/// The issuer rotates its keys: the cached token's `kid` is unknown to the resource server
/// (which refetches the JWKS and still cannot verify it) → 401 `invalid_token` → the client
/// gets a new token and sends the request again, once, transparently.
#[tokio::test]
async fn a_401_for_a_cached_token_gets_a_new_token_and_one_retry() {
    let issuer = TestIssuer::start().await.unwrap();
    issuer.register_client("svc", "s3cret", "read");
    let validator = JwtValidator::new(
        JwtValidatorConfig::new(issuer.issuer(), "").jwks_cache(Duration::ZERO, Duration::ZERO),
    )
    .unwrap();
    let srv = protected(&issuer, |c| {
        // Re-verify every request against freshly fetched keys, so that the rotation is
        // visible at once.
        c.token_cache_capacity(0).validator(validator)
    })
    .await;
    let client = McpClient::connect(
        &srv.url(),
        ClientCredentialsAuth::new(issuer.issuer(), "svc", "s3cret"),
    )
    .await
    .unwrap();
    whoami(&client).await;
    assert_eq!(issuer.token_requests(), 1);

    issuer.rotate_keys().unwrap();
    let old = issuer.issued_tokens()[0].clone();
    // The old token is really refused now.
    let e = McpClient::connect(&srv.url(), BearerAuth::new(&old))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e:?}");
    assert_eq!(e.challenges()[0].error(), Some("invalid_token"), "{e}");

    let who = whoami(&client).await;
    assert_eq!(who["subject"], "svc");
    assert_eq!(issuer.token_requests(), 2, "{:?}", issuer.token_grants());
    let new = &issuer.issued_tokens()[1];
    assert_ne!(new, &old);
    whoami(&client).await;
    assert_eq!(issuer.token_requests(), 2);
}

/// 403 `insufficient_scope` with step-up: the client asked for `read` only, the tool needs
/// `files:delete`; it re-obtains a token with every scope of the challenge and retries.
#[tokio::test]
async fn a_403_insufficient_scope_steps_up_and_succeeds() {
    let issuer = TestIssuer::start().await.unwrap();
    issuer.register_client("svc", "s3cret", "read files:delete");
    let srv = protected(&issuer, AuthorizationConfig::step_up).await;
    let auth = ClientCredentialsAuth::new(issuer.issuer(), "svc", "s3cret").scopes(["read"]);
    let client = McpClient::connect(&srv.url(), auth).await.unwrap();
    let who = whoami(&client).await;
    assert_eq!(who["scopes"], json!(["read"]));
    assert_eq!(issuer.token_requests(), 1);

    let r = client.call_tool("delete_file", json!({})).await.unwrap();
    assert_ne!(r.is_error, Some(true), "{r:?}");
    assert_eq!(issuer.token_requests(), 2);
    let scopes = claims(&issuer.issued_tokens()[1])["scope"].clone();
    let scopes: Vec<&str> = scopes.as_str().unwrap().split(' ').collect();
    assert!(
        scopes.contains(&"read") && scopes.contains(&"files:delete"),
        "{scopes:?}"
    );
    // The stepped-up token is the one now cached.
    client.call_tool("delete_file", json!({})).await.unwrap();
    whoami(&client).await;
    assert_eq!(issuer.token_requests(), 2);
}

/// Step-up turned off: the 403 surfaces as `Forbidden` naming the missing scope, and no second
/// token is requested.
#[tokio::test]
async fn without_step_up_a_403_is_forbidden_with_the_missing_scopes() {
    let issuer = TestIssuer::start().await.unwrap();
    issuer.register_client("svc", "s3cret", "read files:delete");
    let srv = protected(&issuer, AuthorizationConfig::step_up).await;
    let auth = ClientCredentialsAuth::new(issuer.issuer(), "svc", "s3cret")
        .scopes(["read"])
        .step_up(false);
    let client = McpClient::connect(&srv.url(), auth).await.unwrap();
    let e = client
        .call_tool("delete_file", json!({}))
        .await
        .unwrap_err();
    let Error::Forbidden {
        missing_scopes,
        challenges,
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(challenges[0].error(), Some("insufficient_scope"));
    assert!(
        missing_scopes.iter().any(|s| s == "files:delete"),
        "{missing_scopes:?}"
    );
    assert_eq!(issuer.token_requests(), 1);
}

/// Step-up cannot exceed what the authorization server grants: the client is only allowed
/// `read`, so the re-obtained token still lacks the scope and the call ends `Forbidden`
/// (bounded retries, no loop).
#[tokio::test]
async fn step_up_beyond_the_clients_grant_ends_forbidden() {
    let issuer = TestIssuer::start().await.unwrap();
    issuer.register_client("svc", "s3cret", "read");
    let srv = protected(&issuer, AuthorizationConfig::step_up).await;
    let client = McpClient::connect(
        &srv.url(),
        ClientCredentialsAuth::new(issuer.issuer(), "svc", "s3cret"),
    )
    .await
    .unwrap();
    let e = client
        .call_tool("delete_file", json!({}))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e:?}");
    assert!(issuer.token_requests() <= 4, "{}", issuer.token_requests());
}

// --- DPoP-bound client credentials ----------------------------------------------------------

/// With `.dpop(key)` the token request carries a proof, the issuer binds the token to the key
/// (`token_type: DPoP`, `cnf.jkt`), and a `DpopConfig::required()` server accepts it with a
/// proof per request; the same token as a plain Bearer, or with another key's proofs, is
/// refused.
#[tokio::test]
async fn dpop_bound_client_credentials_against_a_dpop_required_server() {
    let issuer = TestIssuer::start().await.unwrap();
    issuer.register_client("svc", "s3cret", "read");
    let srv = protected(&issuer, |c| c.dpop(DpopConfig::required())).await;
    let key = DpopKey::generate().unwrap();
    let auth = ClientCredentialsAuth::new(issuer.issuer(), "svc", "s3cret").dpop(key.clone());
    let client = McpClient::connect(&srv.url(), auth).await.unwrap();
    for _ in 0..3 {
        let who = whoami(&client).await;
        assert!(
            who["credential"].as_str().unwrap().contains("Dpop"),
            "{who}"
        );
    }
    assert_eq!(issuer.token_requests(), 1);
    let token = issuer.issued_tokens()[0].clone();
    assert_eq!(claims(&token)["cnf"]["jkt"], key.thumbprint());

    let e = McpClient::connect(&srv.url(), BearerAuth::new(&token))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e:?}");
    let other = DpopKey::generate().unwrap();
    let e = McpClient::connect(&srv.url(), DpopAuth::new(&token, other))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e:?}");
    // The rightful key still works with a fresh client.
    let ok = McpClient::connect(&srv.url(), DpopAuth::new(&token, key))
        .await
        .unwrap();
    whoami(&ok).await;
}

/// DP-17: a server whose metadata says `dpop_bound_access_tokens_required` refuses Bearer
/// tokens, so a strategy without a DPoP key fails at once with a clear error instead of asking
/// the authorization server for a token it cannot use.
#[tokio::test]
async fn without_a_dpop_key_a_dpop_required_server_is_refused_before_any_token_request() {
    let issuer = TestIssuer::start().await.unwrap();
    issuer.register_client("svc", "s3cret", "read");
    let srv = protected(&issuer, |c| c.dpop(DpopConfig::required())).await;
    let e = McpClient::connect(
        &srv.url(),
        ClientCredentialsAuth::new(issuer.issuer(), "svc", "s3cret"),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("DPoP-bound"), "{e}");
    assert_eq!(issuer.token_requests(), 0, "{:?}", issuer.token_grants());
    // Where DPoP is merely allowed, the same strategy gets a Bearer token and works.
    let allowed = protected(&issuer, |c| c.dpop(DpopConfig::allowed())).await;
    let client = McpClient::connect(
        &allowed.url(),
        ClientCredentialsAuth::new(issuer.issuer(), "svc", "s3cret"),
    )
    .await
    .unwrap();
    whoami(&client).await;
}

/// Nonces on both sides: the authorization server answers the first token request 400
/// `use_dpop_nonce` (the client retries once with it), and the resource server demands its own
/// nonce (401 `use_dpop_nonce`, retried with it); calls keep working afterwards.
#[tokio::test]
async fn dpop_nonce_retries_at_the_token_endpoint_and_the_resource_server() {
    let issuer = TestIssuer::start().await.unwrap();
    issuer.register_client("svc", "s3cret", "read");
    issuer.require_dpop_nonce(true);
    let srv = protected(&issuer, |c| {
        c.dpop(DpopConfig::required().with_nonces(NONCE_KEY, Duration::from_secs(60)))
    })
    .await;
    let key = DpopKey::generate().unwrap();
    let auth = ClientCredentialsAuth::new(issuer.issuer(), "svc", "s3cret").dpop(key.clone());
    let client = McpClient::connect(&srv.url(), auth).await.unwrap();
    for _ in 0..3 {
        whoami(&client).await;
    }
    assert_eq!(
        issuer.token_requests(),
        2,
        "one refused for the nonce, one retried"
    );
    assert_eq!(issuer.issued_tokens().len(), 1);
    assert_eq!(
        claims(&issuer.issued_tokens()[0])["cnf"]["jkt"],
        key.thumbprint()
    );
}

/// A DPoP-bound token renewed after expiry is bound to the same key again.
#[tokio::test]
async fn dpop_bound_tokens_are_renewed_bound() {
    let issuer = TestIssuer::start().await.unwrap();
    issuer.register_client("svc", "s3cret", "read");
    issuer.set_token_lifetime(Duration::from_secs(2));
    let srv = protected(&issuer, |c| c.dpop(DpopConfig::required())).await;
    let key = DpopKey::generate().unwrap();
    let auth = ClientCredentialsAuth::new(issuer.issuer(), "svc", "s3cret")
        .dpop(key.clone())
        .refresh_margin(Duration::ZERO);
    let client = McpClient::connect(&srv.url(), auth).await.unwrap();
    whoami(&client).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    whoami(&client).await;
    let issued = issuer.issued_tokens();
    assert_eq!(issued.len(), 2);
    for t in &issued {
        assert_eq!(claims(t)["cnf"]["jkt"], key.thumbprint());
    }
}

/// `DpopAuth` with a pre-obtained bound token against a nonce-requiring server: the first
/// request is refused with a nonce, retried once, and the nonce is kept.
#[tokio::test]
async fn dpop_auth_follows_the_resource_server_nonce() {
    let issuer = TestIssuer::start().await.unwrap();
    let srv = protected(&issuer, |c| {
        c.dpop(DpopConfig::required().with_nonces(NONCE_KEY, Duration::from_secs(60)))
    })
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
        whoami(&client).await;
    }
}

// --- Authorization code + PKCE -------------------------------------------------------------

/// The authorization code grant with a headless redirect handler: discovery, `/authorize`
/// (PKCE S256, `state`, `resource`), the redirect with `code` and `iss`, the code exchange
/// (the issuer checks the verifier), then calls; after expiry the refresh token is used, not a
/// new authorization.
#[tokio::test]
async fn authorization_code_with_pkce_then_refresh_after_expiry() {
    let issuer = TestIssuer::start().await.unwrap();
    issuer.register_public_client("app", "read");
    issuer.set_token_lifetime(Duration::from_secs(2));
    let srv = protected(&issuer, |c| c).await;
    let auth = AuthorizationCodeAuth::new(
        "http://127.0.0.1:9/callback",
        headless_redirect(no_redirect_client()),
    )
    .client(issuer.issuer(), "app", None)
    .refresh_margin(Duration::ZERO);
    let client = McpClient::connect(&srv.url(), auth).await.unwrap();
    let who = whoami(&client).await;
    assert_eq!(who["subject"], "app");
    assert_eq!(issuer.token_grants(), ["authorization_code"]);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    whoami(&client).await;
    assert_eq!(
        issuer.token_grants(),
        ["authorization_code", "refresh_token"]
    );
    whoami(&client).await;
    assert_eq!(issuer.token_requests(), 2);
}

/// The authorization code grant with step-up: a new authorization with the larger scope.
#[tokio::test]
async fn authorization_code_steps_up_with_a_new_authorization() {
    let issuer = TestIssuer::start().await.unwrap();
    issuer.register_public_client("app", "read files:delete");
    let srv = protected(&issuer, AuthorizationConfig::step_up).await;
    let auth = AuthorizationCodeAuth::new(
        "http://127.0.0.1:9/callback",
        headless_redirect(no_redirect_client()),
    )
    .client(issuer.issuer(), "app", None)
    .scopes(["read"]);
    let client = McpClient::connect(&srv.url(), auth).await.unwrap();
    let r = client.call_tool("delete_file", json!({})).await.unwrap();
    assert_ne!(r.is_error, Some(true), "{r:?}");
    assert_eq!(
        issuer.token_grants(),
        ["authorization_code", "authorization_code"]
    );
}

// --- Static credentials against the builtin modes ------------------------------------------

#[tokio::test]
async fn api_key_auth_in_header_and_as_bearer_against_builtin_mode() {
    let keys = ApiKeys::in_memory();
    let srv = spawn(
        tools(
            McpServer::builder("builtin").authorization(AuthorizationConfig::builtin(keys.clone())),
        )
        .build()
        .unwrap(),
    )
    .await
    .unwrap();
    let created = keys
        .create(NewApiKey::new("ci", "admin").surface(Surface::Mcp))
        .await
        .unwrap();
    let secret = created.secret.expose().to_owned();
    for auth in [
        ApiKeyAuth::new(secret.clone()),
        ApiKeyAuth::new(secret).bearer(),
    ] {
        let client = McpClient::connect(&srv.url(), auth).await.unwrap();
        whoami(&client).await;
    }
    let e = McpClient::connect(&srv.url(), ApiKeyAuth::new("nope"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e:?}");
}

#[tokio::test]
async fn basic_auth_against_basic_mode() {
    let store = Arc::new(MemoryStore::new());
    store
        .put_user(User::new("ada", "admin").password_hash(hash_password("ada-pass-123").unwrap()))
        .await
        .unwrap();
    let srv = spawn(
        tools(
            McpServer::builder("basic")
                .authorization(AuthorizationConfig::basic(Arc::clone(&store))),
        )
        .build()
        .unwrap(),
    )
    .await
    .unwrap();
    let client = McpClient::connect(&srv.url(), BasicAuth::new("ada", "ada-pass-123"))
        .await
        .unwrap();
    let who = whoami(&client).await;
    assert_eq!(who["subject"], "ada");
    let e = McpClient::connect(&srv.url(), BasicAuth::new("ada", "wrong"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e:?}");
}
