//! A small command-line MCP client over Streamable HTTP: list a server's tools or call one.
//! It negotiates the era itself (2026-07-28 first, the legacy `initialize` handshake as a
//! fallback) and authenticates with a bearer token, an API key, or OAuth client credentials.
//! Redirects are never followed, and credentials go over plain `http` only to loopback hosts.
//!
//! Run a server (e.g. `PORT=3001 cargo run --example conformance_server`), then:
//!
//! ```sh
//! cargo run --example client -- --url http://127.0.0.1:3001/mcp list
//! cargo run --example client -- --url http://127.0.0.1:3001/mcp call add '{"a": 2, "b": 3}'
//! cargo run --example client -- --token "$TOKEN" list            # Authorization: Bearer
//! cargo run --example client -- --api-key "$KEY" list            # X-API-Key
//! cargo run --example client -- --token "$TOKEN" --dpop-key key.pem list  # DPoP-bound token
//! cargo run --example client -- --era legacy list                # force the legacy era
//! # OAuth client credentials registered with https://auth.example.com, the rest discovered
//! # from the server's 401:
//! cargo run --example client -- --issuer https://auth.example.com --client-id svc \
//!     --client-secret s3cret --scope "read" list
//! # ... asking the token endpoint for a DPoP-bound token (RFC 9449) with a fresh key:
//! cargo run --example client -- --issuer https://auth.example.com --client-id svc \
//!     --client-secret s3cret --dpop-key generate list
//! ```
//!
//! Options:
//! - `--url URL` — the MCP endpoint (default `http://127.0.0.1:8000/mcp`).
//! - `--token TOKEN` — an access token, sent as `Authorization: Bearer` (or `DPoP` with
//!   `--dpop-key`).
//! - `--api-key KEY` [`--api-key-header NAME`] — an API key (default header `X-API-Key`).
//! - `--issuer URL --client-id ID --client-secret SECRET` [`--scope "a b"`] — the OAuth client
//!   credentials grant with a client registered at the authorization server `URL` (its issuer
//!   identifier): on the server's first 401 the client reads the protected-resource metadata and
//!   the authorization server's metadata, then requests a token for the server (RFC 8707
//!   `resource`) with these scopes (default: the challenge's `scope`, else the resource's
//!   `scopes_supported`). Tokens are renewed when they expire or are refused. The secret only
//!   ever goes to `--issuer`: a server whose metadata names another authorization server is
//!   refused. The issuer and its endpoints must be `https` (plain `http` only on loopback).
//! - `--dpop-key PEM|generate` — a DPoP key (a PKCS#8 PEM file, or `generate` for a fresh ES256
//!   key whose thumbprint is printed on stderr): with `--token`, the token is DPoP-bound to it;
//!   with `--client-id`, the token request carries a proof, so the token is bound to it.
//! - `--print-token` — after the command, prints the access token last sent to the server on
//!   stderr as `access token (SCHEME): TOKEN` (never printed otherwise). For tests: the token is
//!   a secret.
//! - `--era legacy|modern` — forces the era (default: negotiated).
//!
//! The credentials are exclusive: one of `--token`, `--api-key`, `--client-id`.
//!
//! Exit status: 0 on success, 1 when the tool reported an error (`isError`), 2 on a usage,
//! connection, authorization or protocol error (with the server's challenge when it sent one).

use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use mcp_client::BoxFuture;
use mcp_client::auth::{
    ApiKeyAuth, Auth, AuthDecision, AuthError, AuthRequest, AuthResponse, BearerAuth,
    ClientCredentialsAuth, DpopAuth, DpopKey, NoAuth,
};
use mcp_client::types::Content;
use mcp_client::{Era, Error, McpClient};
use serde_json::Value;

const USAGE: &str = "\
usage: client [--url URL]
              [--token TOKEN | --issuer URL --client-id ID --client-secret SECRET [--scope \"a b\"]]
              [--dpop-key PEM|generate]
              [--api-key KEY [--api-key-header NAME]] [--print-token] [--era legacy|modern] COMMAND

commands:
  list              list the server's tools
  call NAME [JSON]  call a tool with JSON arguments (default {})

--client-id: OAuth client credentials of a client registered with the authorization server
             --issuer (required; the secret is sent to no other), the rest discovered from the
             server's 401 (with --dpop-key: a DPoP-bound token)
--print-token: the access token sent, on stderr, after the command
defaults: --url http://127.0.0.1:8000/mcp, no credentials, era negotiated";

#[derive(Debug)]
enum Command {
    List,
    Call { name: String, arguments: Value },
}

#[derive(Debug)]
struct Args {
    url: String,
    token: Option<String>,
    api_key: Option<String>,
    api_key_header: Option<String>,
    dpop_key: Option<String>,
    issuer: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    scope: Option<String>,
    print_token: bool,
    era: Option<Era>,
    command: Command,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut url = "http://127.0.0.1:8000/mcp".to_owned();
    let (mut token, mut api_key, mut api_key_header, mut era) = (None, None, None, None);
    let mut dpop_key = None;
    let (mut issuer, mut client_id, mut client_secret, mut scope) = (None, None, None, None);
    let mut print_token = false;
    let mut rest = Vec::new();
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or(format!("{flag} needs a value"));
        match arg.as_str() {
            "--url" => url = value("--url")?,
            "--token" => token = Some(value("--token")?),
            "--api-key" => api_key = Some(value("--api-key")?),
            "--api-key-header" => api_key_header = Some(value("--api-key-header")?),
            "--dpop-key" => dpop_key = Some(value("--dpop-key")?),
            "--issuer" => issuer = Some(value("--issuer")?),
            "--client-id" => client_id = Some(value("--client-id")?),
            "--client-secret" => client_secret = Some(value("--client-secret")?),
            "--scope" => scope = Some(value("--scope")?),
            "--print-token" => print_token = true,
            "--era" => {
                era = Some(match value("--era")?.as_str() {
                    "legacy" => Era::Legacy,
                    "modern" => Era::Modern,
                    other => return Err(format!("unknown era {other:?}: use legacy or modern")),
                });
            }
            "-h" | "--help" => return Err(String::new()),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            _ => rest.push(arg),
        }
    }
    let kinds = [token.is_some(), api_key.is_some(), client_id.is_some()];
    if kinds.iter().filter(|k| **k).count() > 1 {
        return Err("use only one of --token, --api-key, --client-id".to_owned());
    }
    if client_id.is_some() != client_secret.is_some() {
        return Err("--client-id and --client-secret go together".to_owned());
    }
    if client_id.is_some() != issuer.is_some() {
        return Err(
            "--client-id needs --issuer (the authorization server the client is registered \
             with), and --issuer needs --client-id"
                .to_owned(),
        );
    }
    if scope.is_some() && client_id.is_none() {
        return Err("--scope needs --client-id (OAuth client credentials)".to_owned());
    }
    if dpop_key.is_some() && token.is_none() && client_id.is_none() {
        return Err(
            "--dpop-key needs --token (a DPoP-bound access token) or --client-id".to_owned(),
        );
    }
    if api_key_header.is_some() && api_key.is_none() {
        return Err("--api-key-header needs --api-key".to_owned());
    }
    let command = match rest.as_slice() {
        [c] if c == "list" => Command::List,
        [c, name] if c == "call" => Command::Call {
            name: name.clone(),
            arguments: Value::Object(Default::default()),
        },
        [c, name, json] if c == "call" => Command::Call {
            name: name.clone(),
            arguments: serde_json::from_str(json)
                .map_err(|e| format!("the arguments are not JSON: {e}"))?,
        },
        [] => return Err("a command is required".to_owned()),
        _ => return Err(format!("unknown command {:?}", rest.join(" "))),
    };
    Ok(Args {
        url,
        token,
        api_key,
        api_key_header,
        dpop_key,
        issuer,
        client_id,
        client_secret,
        scope,
        print_token,
        era,
        command,
    })
}

/// The DPoP key of `--dpop-key`: `generate` makes a fresh ES256 key (its thumbprint, printed, is
/// what the token must be bound to), anything else is a PKCS#8 PEM file.
fn dpop_key(arg: &str) -> Result<DpopKey, Error> {
    if arg == "generate" {
        let key = DpopKey::generate()?;
        eprintln!("DPoP key thumbprint (jkt): {}", key.thumbprint());
        return Ok(key);
    }
    let pem = std::fs::read_to_string(arg)
        .map_err(|e| AuthError::Strategy(format!("cannot read the DPoP key {arg}: {e}").into()))?;
    Ok(DpopKey::from_pkcs8_pem(&pem)?)
}

/// The last `Authorization` credentials a strategy put on a request: `(scheme, token)`.
type Seen = Arc<Mutex<Option<(String, String)>>>;

/// Wraps a strategy to remember the `Authorization` header it sets (for `--print-token`).
struct TokenTap {
    inner: Box<dyn Auth>,
    seen: Seen,
}

impl Auth for TokenTap {
    fn authorize<'a>(
        &'a self,
        request: &'a mut AuthRequest,
    ) -> BoxFuture<'a, Result<(), AuthError>> {
        Box::pin(async move {
            self.inner.authorize(request).await?;
            let header = request
                .headers()
                .get(reqwest::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            if let Some((scheme, token)) = header.and_then(|h| h.split_once(' ')) {
                if let Ok(mut seen) = self.seen.lock() {
                    *seen = Some((scheme.to_owned(), token.trim().to_owned()));
                }
            }
            Ok(())
        })
    }

    fn observe(&self, response: &AuthResponse<'_>) {
        self.inner.observe(response);
    }

    fn on_rejection<'a>(
        &'a self,
        response: &'a AuthResponse<'_>,
    ) -> BoxFuture<'a, Result<AuthDecision, AuthError>> {
        self.inner.on_rejection(response)
    }
}

fn auth(args: &Args) -> Result<Box<dyn Auth>, Error> {
    if let (Some(issuer), Some(id), Some(secret)) =
        (&args.issuer, &args.client_id, &args.client_secret)
    {
        let mut auth = ClientCredentialsAuth::new(issuer, id, secret);
        if let Some(scope) = &args.scope {
            auth = auth.scopes(scope.split_whitespace());
        }
        if let Some(k) = &args.dpop_key {
            auth = auth.dpop(dpop_key(k)?);
        }
        return Ok(Box::new(auth));
    }
    Ok(match (&args.token, &args.api_key) {
        (Some(token), _) => match &args.dpop_key {
            Some(k) => Box::new(DpopAuth::new(token, dpop_key(k)?)),
            None => Box::new(BearerAuth::new(token)),
        },
        (None, Some(key)) => {
            let auth = ApiKeyAuth::new(key);
            match &args.api_key_header {
                Some(header) => Box::new(auth.header(header)?),
                None => Box::new(auth),
            }
        }
        (None, None) => Box::new(NoAuth),
    })
}

fn print_content(content: &[Content]) {
    for block in content {
        match block.as_text() {
            Some(text) => println!("{text}"),
            None => println!("{}", serde_json::to_string(block).unwrap_or_default()),
        }
    }
}

async fn run(args: Args, seen: Seen) -> Result<ExitCode, Error> {
    let mut auth = auth(&args)?;
    if args.print_token {
        auth = Box::new(TokenTap { inner: auth, seen });
    }
    let mut builder = McpClient::builder().auth(auth);
    if let Some(era) = args.era {
        builder = builder.era(era);
    }
    let client = builder.connect(&args.url).await?;
    eprintln!(
        "connected: {} ({:?} era{})",
        client.protocol_version(),
        client.era(),
        client
            .server_info()
            .map(|i| format!(", server {} {}", i.name, i.version))
            .unwrap_or_default()
    );
    let status = match args.command {
        Command::List => {
            for tool in client.list_tools().await? {
                println!("{}\t{}", tool.name, tool.description.unwrap_or_default());
            }
            ExitCode::SUCCESS
        }
        Command::Call { name, arguments } => {
            let result = client.call_tool(&name, arguments).await?;
            print_content(&result.content);
            if let Some(structured) = &result.structured_content {
                let pretty = serde_json::to_string_pretty(structured).unwrap_or_default();
                eprintln!("structured content:\n{pretty}");
            }
            if result.is_error() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
    };
    client.close().await?;
    Ok(status)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(why) => {
            if !why.is_empty() {
                eprintln!("error: {why}\n");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let print_token = args.print_token;
    let seen = Seen::default();
    let status = match run(args, seen.clone()).await {
        Ok(status) => status,
        Err(e) => {
            eprintln!("error: {e}");
            for challenge in e.challenges() {
                eprintln!("  WWW-Authenticate: {challenge}");
            }
            ExitCode::from(2)
        }
    };
    if print_token {
        match seen.lock().ok().and_then(|s| s.clone()) {
            Some((scheme, token)) => eprintln!("access token ({scheme}): {token}"),
            None => eprintln!("access token: none was sent"),
        }
    }
    status
}
