//! Calling an upstream API on behalf of the caller: OAuth 2.0 Token Exchange (RFC 8693).
//!
//! One command starts three things on loopback and checks them end to end:
//! - an embedded authorization server (`mcp_server::testing::TestIssuer`) that issues the
//!   caller's token and exchanges it;
//! - the UPSTREAM: a protected MCP server whose tokens must name its own URL (`aud`), with a
//!   tool `whoami` that reports the token it was called with (its claims, never the token);
//! - the FRONT: a protected MCP server with token exchange configured and a tool
//!   `upstream_whoami` that trades the caller's token for one of the upstream's
//!   (`ctx.upstream_token(..)`) and calls the upstream's `whoami` with it.
//!
//! Then, as the user `alice` (a token for the front server, scope `read`), it calls the front's
//! `upstream_whoami` with the companion client and prints what the upstream saw: `aud` = the
//! upstream itself, `sub` = alice, `act.sub` = the front server's client id. It checks that a
//! second call is served from the exchange cache, and that the upstream refuses alice's own
//! token (it was issued for the front server: tokens are never passed through). No token or
//! secret is printed. The last line is `token_exchange: OK`, and the exit code is 0; anything off
//! exits with 1 and says what.
//!
//! ```sh
//! cargo run --example token_exchange
//! ```
//!
//! With a real authorization server, the front server's configuration is the same with its
//! token endpoint, client id and secret (see the README, "Calling upstream APIs on behalf of the
//! caller").

use std::process::ExitCode;

use mcp_client::McpClient;
use mcp_client::auth::BearerAuth;
use mcp_server::auth::{ExchangeRequest, TokenExchangeConfig, TokenExchanger};
use mcp_server::testing::{TestIssuer, TestListener, TestServer};
use mcp_server::{Context, McpServer, NoArgs, ToolDef};
use serde_json::{Value, json};

/// The front server's client id at the authorization server.
const FRONT_CLIENT_ID: &str = "front-mcp";
/// Its secret (an example's: never printed).
const FRONT_CLIENT_SECRET: &str = "front-mcp-example-secret-4f9a2c";

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The upstream: tokens must name `listener`'s URL and hold `read`; `whoami` reports the
/// caller as its token describes it.
fn upstream(issuer: &TestIssuer, listener: TestListener) -> Result<TestServer, Error> {
    let auth = issuer
        .authorization(listener.url())?
        .required_scopes(["read"]);
    let whoami = ToolDef::from_fn("whoami", |ctx: Context, _: NoArgs| async move {
        let claims = ctx.auth().map(|a| a.claims.clone()).unwrap_or_default();
        let pick = |k: &str| claims.get(k).cloned().unwrap_or(Value::Null);
        json!({
            "aud": pick("aud"),
            "sub": pick("sub"),
            "act": pick("act"),
            "client_id": pick("client_id"),
            "scope": pick("scope"),
        })
    })
    .description("Who called, as the token says (its claims, never the token)");
    let server = McpServer::builder("upstream")
        .authorization(auth)
        .tool(whoami)
        .build()?;
    Ok(listener.spawn(server))
}

/// The front: exchanges the caller's token at the issuer for one of `upstream_url`, and calls
/// the upstream's `whoami` with it.
fn front(
    issuer: &TestIssuer,
    listener: TestListener,
    upstream_url: String,
) -> Result<TestServer, Error> {
    let exchange = TokenExchanger::new(TokenExchangeConfig::new(
        issuer.token_endpoint(),
        FRONT_CLIENT_ID,
        FRONT_CLIENT_SECRET,
    ))?;
    let auth = issuer
        .authorization(listener.url())?
        .required_scopes(["read"])
        .token_exchange(exchange);
    let tool = ToolDef::from_fn("upstream_whoami", move |ctx: Context, _: NoArgs| {
        let upstream_url = upstream_url.clone();
        async move {
            // A token for the upstream, on behalf of the caller: never the caller's own.
            let request = ExchangeRequest::resource(&upstream_url).scope("read");
            let token = ctx
                .upstream_token(request)
                .await
                .map_err(|e| e.to_string())?;
            let client = McpClient::connect(&upstream_url, BearerAuth::new(token.expose()))
                .await
                .map_err(|e| format!("the upstream refused the connection: {e}"))?;
            let seen = client
                .call_tool_checked("whoami", ())
                .await
                .map_err(|e| format!("the upstream's whoami failed: {e}"))?;
            let _ = client.close().await;
            Ok::<_, String>(seen.structured_content.unwrap_or(Value::Null))
        }
    })
    .description("Calls the upstream's whoami on behalf of the caller (RFC 8693 token exchange)");
    let server = McpServer::builder("front")
        .authorization(auth)
        .tool(tool)
        .build()?;
    Ok(listener.spawn(server))
}

/// `Err` naming what differs.
fn expect(what: &str, got: &Value, want: &str) -> Result<(), Error> {
    if got.as_str() == Some(want) {
        Ok(())
    } else {
        Err(format!("{what}: expected {want:?}, got {got}").into())
    }
}

async fn run() -> Result<(), Error> {
    let issuer = TestIssuer::start().await?;
    issuer.register_client(FRONT_CLIENT_ID, FRONT_CLIENT_SECRET, "");
    let upstream_listener = TestListener::bind().await?;
    let upstream_url = upstream_listener.url();
    let upstream = upstream(&issuer, upstream_listener)?;
    let front_listener = TestListener::bind().await?;
    let front = front(&issuer, front_listener, upstream_url.clone())?;
    println!("authorization server: {}", issuer.issuer());
    println!("upstream MCP server:  {upstream_url} (its tokens must name it)");
    println!(
        "front MCP server:     {} (client id {FRONT_CLIENT_ID})",
        front.url()
    );

    // Alice's token is for the front server.
    let alice = issuer
        .token(&front.url())
        .subject("alice")
        .scope("read")
        .sign();
    let client = McpClient::connect(front.url(), BearerAuth::new(&alice)).await?;
    let result = client.call_tool_checked("upstream_whoami", ()).await?;
    let seen = result
        .structured_content
        .ok_or("upstream_whoami returned no structured content")?;
    println!("alice called the front's upstream_whoami; the upstream saw:");
    for (name, value) in [
        ("aud", &seen["aud"]),
        ("sub", &seen["sub"]),
        ("act.sub", &seen["act"]["sub"]),
        ("client_id", &seen["client_id"]),
        ("scope", &seen["scope"]),
    ] {
        println!("  {name:<9} = {value}");
    }
    expect("aud (the upstream itself)", &seen["aud"], &upstream_url)?;
    expect("sub (the original caller)", &seen["sub"], "alice")?;
    expect(
        "act.sub (the front server)",
        &seen["act"]["sub"],
        FRONT_CLIENT_ID,
    )?;
    expect("client_id", &seen["client_id"], FRONT_CLIENT_ID)?;
    expect("scope", &seen["scope"], "read")?;

    // Once more: the exchanged token comes from the cache.
    client.call_tool_checked("upstream_whoami", ()).await?;
    let exchanges = issuer.token_exchanges();
    println!("a second call: {exchanges} token exchange(s) at the authorization server in all");
    if exchanges != 1 {
        return Err(format!("expected 1 exchange (then the cache), got {exchanges}").into());
    }
    client.close().await?;

    // Alice's own token does not open the upstream: it names the front server.
    match McpClient::connect(&upstream_url, BearerAuth::new(&alice)).await {
        Err(mcp_client::Error::Unauthorized { .. }) => {
            println!("alice's own token at the upstream: refused (401), as it must be");
        }
        Err(e) => return Err(format!("alice's own token at the upstream: {e}").into()),
        Ok(_) => return Err("the upstream accepted a token issued for the front server".into()),
    }

    front.shutdown().await;
    upstream.shutdown().await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    match run().await {
        Ok(()) => {
            println!("token_exchange: OK");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("token_exchange: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}
