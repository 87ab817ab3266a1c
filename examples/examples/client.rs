//! A small command-line MCP client over Streamable HTTP: list a server's tools or call one.
//! It negotiates the era itself (2026-07-28 first, the legacy `initialize` handshake as a
//! fallback) and authenticates with a bearer token or an API key.
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
//! ```
//!
//! Exit status: 0 on success, 1 when the tool reported an error (`isError`), 2 on a usage,
//! connection, authorization or protocol error (with the server's challenge when it sent one).

use std::process::ExitCode;

use mcp_client::auth::{ApiKeyAuth, Auth, BearerAuth, DpopAuth, DpopKey, NoAuth};
use mcp_client::types::Content;
use mcp_client::{Era, Error, McpClient};
use serde_json::Value;

const USAGE: &str = "\
usage: client [--url URL] [--token TOKEN [--dpop-key PEM|generate] | --api-key KEY [--api-key-header NAME]]
              [--era legacy|modern] COMMAND

commands:
  list              list the server's tools
  call NAME [JSON]  call a tool with JSON arguments (default {})

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
    era: Option<Era>,
    command: Command,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut url = "http://127.0.0.1:8000/mcp".to_owned();
    let (mut token, mut api_key, mut api_key_header, mut era) = (None, None, None, None);
    let mut dpop_key = None;
    let mut rest = Vec::new();
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or(format!("{flag} needs a value"));
        match arg.as_str() {
            "--url" => url = value("--url")?,
            "--token" => token = Some(value("--token")?),
            "--api-key" => api_key = Some(value("--api-key")?),
            "--api-key-header" => api_key_header = Some(value("--api-key-header")?),
            "--dpop-key" => dpop_key = Some(value("--dpop-key")?),
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
    if dpop_key.is_some() && token.is_none() {
        return Err("--dpop-key needs --token (the DPoP-bound access token)".to_owned());
    }
    if token.is_some() && api_key.is_some() {
        return Err("use either --token or --api-key".to_owned());
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
        era,
        command,
    })
}

fn auth(args: &Args) -> Result<Box<dyn Auth>, Error> {
    Ok(match (&args.token, &args.api_key) {
        (Some(token), _) => match &args.dpop_key {
            // `generate`: a fresh ES256 key (its thumbprint is what the token must be bound to).
            Some(k) if k == "generate" => {
                let key = DpopKey::generate()?;
                eprintln!("DPoP key thumbprint (jkt): {}", key.thumbprint());
                Box::new(DpopAuth::new(token, key))
            }
            Some(path) => {
                let pem = std::fs::read_to_string(path).map_err(|e| {
                    mcp_client::auth::AuthError::Strategy(
                        format!("cannot read the DPoP key {path}: {e}").into(),
                    )
                })?;
                Box::new(DpopAuth::new(token, DpopKey::from_pkcs8_pem(&pem)?))
            }
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

async fn run(args: Args) -> Result<ExitCode, Error> {
    let mut builder = McpClient::builder().auth(auth(&args)?);
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
    match run(args).await {
        Ok(status) => status,
        Err(e) => {
            eprintln!("error: {e}");
            for challenge in e.challenges() {
                eprintln!("  WWW-Authenticate: {challenge}");
            }
            ExitCode::from(2)
        }
    }
}
