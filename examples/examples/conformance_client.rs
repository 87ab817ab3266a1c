//! The client under test for the official MCP conformance client suites
//! (`@modelcontextprotocol/conformance`, `conformance client --command ...`).
//!
//! The harness runs `conformance_client <server-url>` with `MCP_CONFORMANCE_SCENARIO` (the
//! scenario name), `MCP_CONFORMANCE_PROTOCOL_VERSION` (the wire version to speak, 0.2 suites) and,
//! for some auth scenarios, `MCP_CONFORMANCE_CONTEXT` (JSON credentials). The client picks an
//! authentication strategy from the scenario, connects, lists the tools (dropping those with an
//! invalid `x-mcp-header`), calls each of them (arguments from the context, or made up from the
//! input schema), answers elicitations with the schema's defaults, and exits 0 on success.
//!
//! Pre-registered credentials are pinned to their authorization server in mcp-client, and the
//! harness does not say which one that is: this client looks it up from the server first
//! ([`discover_issuer`]), a deliberate choice of a test harness that trusts the server under
//! test. A real client names the issuer its credentials are registered with.
//!
//! ```sh
//! cargo build --example conformance_client
//! tests/conformance/run-client-suite.sh "$PWD/target/debug/examples/conformance_client" --suite all
//! ```

use std::process::ExitCode;

use mcp_client::auth::{
    AssertionContext, Auth, AuthError, AuthorizationCodeAuth, ClientCredentialsAuth, DpopKey,
    JwtBearerAuth, NoAuth, OAuthError, headless_redirect, no_redirect_client,
};
use mcp_client::challenge::parse_www_authenticate;
use mcp_client::reqwest::Url;
use mcp_client::types::{ElicitRequestParams, ElicitResult, SubscriptionFilter, Tool};
use mcp_client::{Era, ErrorObject, McpClient, ProtocolVersion};
use serde_json::{Map, Value, json};

/// What the reference client uses as its client ID metadata document URL.
const CIMD_URL: &str = "https://conformance-test.local/client-metadata.json";
const REDIRECT_URI: &str = "http://localhost:3000/callback";

fn context() -> Map<String, Value> {
    std::env::var("MCP_CONFORMANCE_CONTEXT")
        .ok()
        .and_then(|c| serde_json::from_str::<Value>(&c).ok())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
}

fn ctx_str(ctx: &Map<String, Value>, key: &str) -> Option<String> {
    ctx.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn missing(key: &str) -> AuthError {
    AuthError::Strategy(format!("MCP_CONFORMANCE_CONTEXT has no {key}").into())
}

/// RFC 8693 token exchange at the enterprise IdP: the ID token becomes an ID-JAG for the
/// authorization server (SEP-990).
async fn id_jag(ctx: Map<String, Value>, target: AssertionContext) -> Result<String, AuthError> {
    let endpoint =
        ctx_str(&ctx, "idp_token_endpoint").ok_or_else(|| missing("idp_token_endpoint"))?;
    let mut form = vec![
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange".to_owned(),
        ),
        (
            "requested_token_type",
            "urn:ietf:params:oauth:token-type:id-jag".to_owned(),
        ),
        (
            "subject_token",
            ctx_str(&ctx, "idp_id_token").ok_or_else(|| missing("idp_id_token"))?,
        ),
        (
            "subject_token_type",
            "urn:ietf:params:oauth:token-type:id_token".to_owned(),
        ),
        ("audience", target.issuer.clone()),
        ("resource", target.resource.clone()),
    ];
    if let Some(id) = ctx_str(&ctx, "idp_client_id") {
        form.push(("client_id", id));
    }
    if !target.scopes.is_empty() {
        form.push(("scope", target.scopes.join(" ")));
    }
    let body = form
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let response = target
        .http
        .post(&endpoint)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map_err(|e| AuthError::Strategy(Box::new(e)))?;
    let status = response.status();
    let value: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(AuthError::Strategy(
            format!("the IdP token exchange answered {status}").into(),
        ));
    }
    value
        .get("access_token")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| AuthError::Strategy("the IdP answer has no access_token".into()))
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn harness_error(what: String) -> AuthError {
    AuthError::Strategy(what.into())
}

/// The authorization server of the MCP server at `url`, looked up the way the library's
/// discovery does (the 401 challenge's `resource_metadata`, else the path-suffixed then the root
/// RFC 9728 well-known URL; the first of `authorization_servers`), so that pre-registered
/// credentials can be pinned to it.
///
/// Test-harness only: the conformance context carries credentials but no issuer. Pinning what
/// the server under test names is a deliberate choice of this harness client; it trusts exactly
/// what pinning exists to distrust, and a real client must name its issuer instead.
async fn discover_issuer(url: &str) -> Result<String, AuthError> {
    let http = no_redirect_client();
    let server = Url::parse(url).map_err(|e| harness_error(format!("bad URL {url}: {e}")))?;
    let fail = |e: mcp_client::reqwest::Error| harness_error(format!("issuer lookup: {e}"));
    let probe = http
        .post(server.clone())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc":"2.0","id":0,"method":"ping"}"#)
        .send()
        .await
        .map_err(fail)?;
    let values: Vec<String> = probe
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    let mut candidates: Vec<Url> = parse_www_authenticate(values.iter().map(String::as_str))
        .iter()
        .filter_map(|c| c.resource_metadata())
        .filter_map(|u| server.join(u).ok())
        .collect();
    let path = server.path().trim_end_matches('/');
    for well_known in [
        format!("/.well-known/oauth-protected-resource{path}"),
        "/.well-known/oauth-protected-resource".to_owned(),
    ] {
        if let Ok(u) = server.join(&well_known) {
            candidates.push(u);
        }
    }
    for candidate in candidates {
        let response = http.get(candidate).send().await.map_err(fail)?;
        if !response.status().is_success() {
            continue;
        }
        let prm: Value = response.json().await.unwrap_or(Value::Null);
        if let Some(issuer) = prm
            .pointer("/authorization_servers/0")
            .and_then(Value::as_str)
        {
            return Ok(issuer.to_owned());
        }
    }
    // A 2025-03-26 server without protected-resource metadata: its own origin.
    Ok(server.origin().ascii_serialization())
}

async fn strategy(
    scenario: &str,
    ctx: &Map<String, Value>,
    url: &str,
) -> Result<Box<dyn Auth>, AuthError> {
    let id = ctx_str(ctx, "client_id");
    let secret = ctx_str(ctx, "client_secret");
    Ok(match scenario {
        "auth/client-credentials-basic" => Box::new(ClientCredentialsAuth::new(
            discover_issuer(url).await?,
            id.ok_or_else(|| missing("client_id"))?,
            secret.ok_or_else(|| missing("client_secret"))?,
        )),
        "auth/client-credentials-jwt" => {
            let pem = ctx_str(ctx, "private_key_pem").ok_or_else(|| missing("private_key_pem"))?;
            Box::new(ClientCredentialsAuth::private_key_jwt(
                discover_issuer(url).await?,
                id.ok_or_else(|| missing("client_id"))?,
                DpopKey::from_pkcs8_pem(&pem)?,
            ))
        }
        "auth/cross-app-access-complete-flow" | "auth/enterprise-managed-authorization" => {
            let idp = ctx.clone();
            let auth = JwtBearerAuth::new(move |target| id_jag(idp.clone(), target));
            Box::new(auth.client(
                discover_issuer(url).await?,
                id.ok_or_else(|| missing("client_id"))?,
                secret,
            ))
        }
        "auth/wif-jwt-bearer" => {
            let jwt = ctx_str(ctx, "valid_jwt").ok_or_else(|| missing("valid_jwt"))?;
            let auth = JwtBearerAuth::new(move |_| std::future::ready(Ok(jwt.clone())));
            Box::new(match id {
                Some(id) => auth.client(discover_issuer(url).await?, id, None),
                None => auth,
            })
        }
        s if s.starts_with("auth/") => {
            let mut auth =
                AuthorizationCodeAuth::new(REDIRECT_URI, headless_redirect(no_redirect_client()))
                    .client_metadata_url(CIMD_URL)
                    .client_name("mcp-rs conformance client");
            if let Some(id) = id {
                auth = auth.client(discover_issuer(url).await?, id, secret);
            }
            if s.starts_with("auth/dpop") {
                auth = auth.dpop(DpopKey::generate()?);
            }
            Box::new(auth)
        }
        _ => Box::new(NoAuth),
    })
}

/// Accepts an elicitation with every default of the requested schema (SEP-1034).
async fn elicit(request: ElicitRequestParams) -> Result<ElicitResult, ErrorObject> {
    let request = serde_json::to_value(&request).unwrap_or_default();
    let mut content = Map::new();
    if let Some(props) = request
        .pointer("/requestedSchema/properties")
        .and_then(Value::as_object)
    {
        for (name, schema) in props {
            let value = match schema.get("default") {
                Some(d) => d.clone(),
                None => match schema.get("type").and_then(Value::as_str) {
                    Some("boolean") => Value::Bool(true),
                    Some("string") => schema
                        .get("enum")
                        .and_then(|e| e.get(0))
                        .cloned()
                        .unwrap_or_else(|| "test".into()),
                    Some("integer" | "number") => json!(1),
                    _ => continue,
                },
            };
            content.insert(name.clone(), value);
        }
    }
    Ok(ElicitResult::accept(Some(content)))
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// A tool whose `x-mcp-header` annotations are invalid must not be used (SEP-2243).
fn valid_headers(tool: &Tool) -> bool {
    let schema = serde_json::to_value(&tool.input_schema).unwrap_or_default();
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return true;
    };
    let mut seen: Vec<String> = Vec::new();
    for prop in props.values() {
        let Some(header) = prop.get("x-mcp-header") else {
            continue;
        };
        let Some(name) = header.as_str() else {
            return false;
        };
        if name.is_empty() || !name.chars().all(is_tchar) {
            return false;
        }
        let primitive = matches!(
            prop.get("type").and_then(Value::as_str),
            Some("string" | "integer" | "boolean")
        );
        if !primitive {
            return false;
        }
        let lower = name.to_ascii_lowercase();
        if seen.contains(&lower) {
            return false;
        }
        seen.push(lower);
    }
    true
}

/// Arguments for a tool: a value for every required property.
fn arguments_for(tool: &Tool) -> Value {
    let schema = serde_json::to_value(&tool.input_schema).unwrap_or_default();
    let mut args = Map::new();
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for name in required {
        let prop = schema
            .pointer(&format!("/properties/{name}"))
            .cloned()
            .unwrap_or_default();
        let value = match prop.get("type").and_then(Value::as_str) {
            Some("number" | "integer") => json!(1),
            Some("boolean") => json!(true),
            Some("object") => json!({}),
            Some("array") => json!([]),
            _ => prop
                .get("enum")
                .and_then(|e| e.get(0))
                .cloned()
                .unwrap_or_else(|| "test".into()),
        };
        args.insert(name.to_owned(), value);
    }
    Value::Object(args)
}

async fn run(url: &str) -> Result<(), mcp_client::Error> {
    let scenario = std::env::var("MCP_CONFORMANCE_SCENARIO").unwrap_or_default();
    let ctx = context();
    let mut builder = McpClient::builder()
        .auth(strategy(&scenario, &ctx, url).await?)
        .on_elicitation(elicit);
    if let Some(v) = std::env::var("MCP_CONFORMANCE_PROTOCOL_VERSION")
        .ok()
        .and_then(|v| ProtocolVersion::parse(&v))
    {
        builder = builder.protocol_version(v);
    }
    let client = builder.connect(url).await?;
    // Legacy era: keep the session's GET stream open, where a server sends the requests that
    // belong to no POST (elicitation, sampling).
    let _stream = match client.era() {
        Era::Legacy => client.subscribe(SubscriptionFilter::default()).await.ok(),
        Era::Modern => None,
    };
    let tools = client.list_tools().await?;
    if let Some(calls) = ctx.get("toolCalls").and_then(Value::as_array) {
        for call in calls {
            let name = call.get("name").and_then(Value::as_str).unwrap_or_default();
            let args = call.get("arguments").cloned().unwrap_or_else(|| json!({}));
            client.call_tool(name, args).await?;
        }
    } else {
        let schema_echo = tools
            .iter()
            .find(|t| arguments_for(t).get("schema").is_some());
        for tool in tools.iter().filter(|t| valid_headers(t)) {
            let mut args = arguments_for(tool);
            if let (Some(echo), Some(obj)) = (schema_echo, args.as_object_mut()) {
                // json-schema-2020-12-preservation: round-trip the other tool's schema.
                if echo.name == tool.name {
                    if let Some(focal) = tools.iter().find(|t| t.name != echo.name) {
                        obj.insert(
                            "schema".into(),
                            serde_json::to_value(&focal.input_schema).unwrap_or_default(),
                        );
                    }
                }
            }
            match client.call_tool(&tool.name, args).await {
                // A tool the scenario only lists (its server may not even route tools/call).
                Err(mcp_client::Error::Protocol(e)) => eprintln!("{}: {}", tool.name, e.message),
                other => {
                    other?;
                }
            }
        }
    }
    client.close().await
}

#[tokio::main]
async fn main() -> ExitCode {
    let Some(url) = std::env::args().skip(1).last() else {
        eprintln!("usage: conformance_client <server-url>");
        return ExitCode::from(2);
    };
    match run(&url).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("conformance client: {e}");
            if let mcp_client::Error::Auth(AuthError::OAuth(inner)) = &e {
                if let OAuthError::Endpoint { .. } = **inner {
                    eprintln!("(token or registration endpoint refused the request)");
                }
            }
            ExitCode::FAILURE
        }
    }
}
