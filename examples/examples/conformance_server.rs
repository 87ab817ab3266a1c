//! The fixture server for the official MCP conformance suite
//! (`@modelcontextprotocol/conformance` 0.1.16, server scenarios): every tool, resource,
//! resource template, prompt and completion the suite calls, with the texts, MIME types and
//! request parameters it checks (see `/work/shared/conformance/server-fixture.md`), plus the
//! tools `add` {a, b} and `echo` {text}.
//!
//! Streamable HTTP with sessions (the default [`HttpConfig`]): resumable SSE streams, DNS-rebinding
//! protection, no authorization. Logs go to stderr (`RUST_LOG`, default `warn`).
//!
//! Run: `PORT=3001 cargo run --example conformance_server` (binds `127.0.0.1:$PORT`, default
//! 3001; the endpoint is `/mcp`; Ctrl-C stops it gracefully), then the suite:
//!
//! ```sh
//! bash /work/shared/conformance/run-server-suite.sh http://127.0.0.1:3001/mcp --suite all
//! ```

use std::time::Duration;

use mcp_server::prelude::*;
use mcp_server::transport::http::shutdown_signal;
use mcp_server::types::{
    CompleteResult, Completion, CreateMessageRequestParams, ElicitRequestParams, JsonObject,
    LoggingLevel, Reference, Role, SamplingMessage,
};
use serde_json::{Value, json};

/// How long in-flight requests may run on after Ctrl-C / SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A 1×1 red RGBA PNG (70 bytes), base64.
const TEST_IMAGE_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP4z8DwHwAFAAH/VscvDQAAAABJRU5ErkJggg==";

/// A WAV file (RIFF, PCM, mono, 8 kHz, 16 bit) holding 8 samples of silence (60 bytes), base64.
const TEST_AUDIO_BASE64: &str =
    "UklGRjQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YRAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// Arguments of a tool that takes none (the suite calls some of them without `arguments`).
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct NoArgs {}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct SamplingArgs {
    /// The prompt to send to the client's model.
    prompt: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct ElicitationArgs {
    /// The message to show the user.
    message: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct AddArgs {
    /// The first addend.
    a: i64,
    /// The second addend.
    b: i64,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct EchoArgs {
    /// The text to send back.
    text: String,
}

/// A JSON object literal as a [`JsonObject`] (schemas, elicitation forms).
fn object(value: Value) -> JsonObject {
    match value {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    }
}

/// The input schema of the argument-less tools: `{"type":"object","properties":{}}`.
fn no_args_schema() -> JsonObject {
    object(json!({"type": "object", "properties": {}}))
}

/// `json_schema_2020_12_tool` (SEP-1613): `$schema`, `$defs` and `additionalProperties` must
/// reach the client unchanged.
fn json_schema_2020_12() -> JsonObject {
    object(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {
            "address": {
                "type": "object",
                "properties": {
                    "street": {"type": "string"},
                    "city": {"type": "string"}
                }
            }
        },
        "properties": {
            "name": {"type": "string"},
            "address": {"$ref": "#/$defs/address"}
        },
        "additionalProperties": false
    }))
}

/// The text of a tool result that reports what the client answered to an elicitation.
fn elicit_summary(result: &mcp_server::types::ElicitResult) -> String {
    let action = serde_json::to_value(result.action).unwrap_or(Value::Null);
    let content = Value::Object(result.content.clone().unwrap_or_default());
    format!(
        "User response: action={}, content={content}",
        action.as_str().unwrap_or("?")
    )
}

async fn elicit_tool(ctx: &Context, params: ElicitRequestParams) -> CallToolResult {
    match ctx.elicit(params).await {
        Ok(result) => CallToolResult::text(elicit_summary(&result)),
        Err(e) => CallToolResult::error_text(format!("Elicitation failed: {e}")),
    }
}

fn tools() -> Vec<ToolDef> {
    vec![
        ToolDef::from_fn("test_simple_text", |_ctx: Context, NoArgs {}| async {
            "This is a simple text response for testing."
        })
        .description("Tests simple text content response")
        .input_schema(no_args_schema()),
        ToolDef::from_fn("test_image_content", |_ctx: Context, NoArgs {}| async {
            Content::image(TEST_IMAGE_BASE64, "image/png")
        })
        .description("Tests image content response")
        .input_schema(no_args_schema()),
        ToolDef::from_fn("test_audio_content", |_ctx: Context, NoArgs {}| async {
            Content::audio(TEST_AUDIO_BASE64, "audio/wav")
        })
        .description("Tests audio content response")
        .input_schema(no_args_schema()),
        ToolDef::from_fn("test_embedded_resource", |_ctx: Context, NoArgs {}| async {
            Content::resource(ResourceContents::text(
                "test://embedded-resource",
                Some("text/plain".to_owned()),
                "This is an embedded resource content.",
            ))
        })
        .description("Tests embedded resource content response")
        .input_schema(no_args_schema()),
        ToolDef::from_fn(
            "test_multiple_content_types",
            |_ctx: Context, NoArgs {}| async {
                vec![
                    Content::text("Multiple content types test:"),
                    Content::image(TEST_IMAGE_BASE64, "image/png"),
                    Content::resource(ResourceContents::text(
                        "test://mixed-content-resource",
                        Some("application/json".to_owned()),
                        json!({"test": "data", "value": 123}).to_string(),
                    )),
                ]
            },
        )
        .description("Tests response with multiple content types (text, image, resource)")
        .input_schema(no_args_schema()),
        ToolDef::from_fn(
            "test_tool_with_logging",
            |ctx: Context, NoArgs {}| async move {
                ctx.log(LoggingLevel::Info, None, "Tool execution started");
                tokio::time::sleep(Duration::from_millis(50)).await;
                ctx.log(LoggingLevel::Info, None, "Tool processing data");
                tokio::time::sleep(Duration::from_millis(50)).await;
                ctx.log(LoggingLevel::Info, None, "Tool execution completed");
                "Tool with logging executed successfully"
            },
        )
        .description("Tests tool that emits log messages during execution")
        .input_schema(no_args_schema()),
        ToolDef::from_fn("test_error_handling", |_ctx: Context, NoArgs {}| async {
            CallToolResult::error_text("This tool intentionally returns an error for testing")
        })
        .description("Tests error response handling")
        .input_schema(no_args_schema()),
        ToolDef::from_fn(
            "test_tool_with_progress",
            |ctx: Context, NoArgs {}| async move {
                for (i, step) in [0.0, 50.0, 100.0].into_iter().enumerate() {
                    if i > 0 {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    let message = format!("Completed step {step} of 100");
                    ctx.progress(step, Some(100.0), Some(&message));
                }
                ctx.progress_token()
                    .map_or_else(|| "no progress token".to_owned(), |t| t.to_string())
            },
        )
        .description("Tests tool that reports progress notifications")
        .input_schema(no_args_schema()),
        ToolDef::from_fn(
            "test_sampling",
            |ctx: Context, SamplingArgs { prompt }| async move {
                let params =
                    CreateMessageRequestParams::new(vec![SamplingMessage::user_text(prompt)], 100);
                match ctx.sample(params).await {
                    Ok(result) => {
                        CallToolResult::text(format!("LLM response: {}", result.content.text()))
                    }
                    Err(e) => CallToolResult::error_text(format!("Sampling failed: {e}")),
                }
            },
        )
        .description("Tests server-initiated sampling (LLM completion request)"),
        ToolDef::from_fn(
            "test_elicitation",
            |ctx: Context, ElicitationArgs { message }| async move {
                let schema = object(json!({
                    "type": "object",
                    "properties": {
                        "username": {"type": "string", "description": "User's response"},
                        "email": {"type": "string", "description": "User's email address"}
                    },
                    "required": ["username", "email"]
                }));
                elicit_tool(&ctx, ElicitRequestParams::form(message, schema)).await
            },
        )
        .description("Tests server-initiated elicitation (user input request)"),
        ToolDef::from_fn(
            "test_elicitation_sep1034_defaults",
            |ctx: Context, NoArgs {}| async move {
                let schema = object(json!({
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "description": "User name", "default": "John Doe"},
                        "age": {"type": "integer", "description": "User age", "default": 30},
                        "score": {"type": "number", "description": "User score", "default": 95.5},
                        "status": {
                            "type": "string",
                            "description": "User status",
                            "enum": ["active", "inactive", "pending"],
                            "default": "active"
                        },
                        "verified": {"type": "boolean", "description": "Verification status", "default": true}
                    },
                    "required": []
                }));
                let message = "Please review and update the form fields with defaults";
                elicit_tool(&ctx, ElicitRequestParams::form(message, schema)).await
            },
        )
        .description("Tests elicitation with default values per SEP-1034")
        .input_schema(no_args_schema()),
        ToolDef::from_fn(
            "test_elicitation_sep1330_enums",
            |ctx: Context, NoArgs {}| async move {
                let schema = object(json!({
                    "type": "object",
                    "properties": {
                        "untitledSingle": {
                            "type": "string",
                            "description": "Select one option",
                            "enum": ["option1", "option2", "option3"]
                        },
                        "titledSingle": {
                            "type": "string",
                            "description": "Select one option with titles",
                            "oneOf": [
                                {"const": "value1", "title": "First Option"},
                                {"const": "value2", "title": "Second Option"},
                                {"const": "value3", "title": "Third Option"}
                            ]
                        },
                        "legacyEnum": {
                            "type": "string",
                            "description": "Select one option (legacy)",
                            "enum": ["opt1", "opt2", "opt3"],
                            "enumNames": ["Option One", "Option Two", "Option Three"]
                        },
                        "untitledMulti": {
                            "type": "array",
                            "description": "Select multiple options",
                            "minItems": 1,
                            "maxItems": 3,
                            "items": {"type": "string", "enum": ["option1", "option2", "option3"]}
                        },
                        "titledMulti": {
                            "type": "array",
                            "description": "Select multiple options with titles",
                            "minItems": 1,
                            "maxItems": 3,
                            "items": {
                                "anyOf": [
                                    {"const": "value1", "title": "First Choice"},
                                    {"const": "value2", "title": "Second Choice"},
                                    {"const": "value3", "title": "Third Choice"}
                                ]
                            }
                        }
                    },
                    "required": []
                }));
                let message = "Please select options from the enum fields";
                elicit_tool(&ctx, ElicitRequestParams::form(message, schema)).await
            },
        )
        .description("Tests elicitation with enum schema improvements per SEP-1330")
        .input_schema(no_args_schema()),
        // Listed with a hand-written 2020-12 schema; the arguments are read as a plain object.
        ToolDef::from_fn(
            "json_schema_2020_12_tool",
            |_ctx: Context, args: serde_json::Map<String, Value>| async move {
                format!(
                    "JSON Schema 2020-12 tool called with: {}",
                    Value::Object(args)
                )
            },
        )
        .description("Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)")
        .input_schema(json_schema_2020_12()),
        ToolDef::from_fn("test_reconnection", |ctx: Context, NoArgs {}| async move {
            // SEP-1699: end the POST's event stream after its priming event; the client resumes
            // with GET + Last-Event-ID and gets the result from the event store.
            ctx.close_sse_stream();
            tokio::time::sleep(Duration::from_millis(150)).await;
            "Reconnection test completed successfully. If you received this, the client \
             properly reconnected after stream closure."
        })
        .description(
            "Tests SSE stream disconnection and client reconnection (SEP-1699): the server \
             closes the stream mid-call and the result arrives after the client reconnects",
        )
        .input_schema(no_args_schema()),
        ToolDef::from_fn("add", |_ctx: Context, AddArgs { a, b }| async move {
            a.checked_add(b)
                .map(|s| s.to_string())
                .ok_or("integer overflow")
        })
        .description("Add two integers"),
        ToolDef::from_fn(
            "echo",
            |_ctx: Context, EchoArgs { text }| async move { text },
        )
        .description("Echo the text back"),
    ]
}

fn resources() -> Vec<ResourceDef> {
    vec![
        ResourceDef::new(
            Resource {
                uri: "test://static-text".to_owned(),
                name: "static-text".to_owned(),
                title: Some("Static Text Resource".to_owned()),
                description: Some("A static text resource for testing".to_owned()),
                mime_type: Some("text/plain".to_owned()),
                ..Resource::default()
            },
            |_ctx, uri| async move {
                Ok(ResourceContents::text(
                    uri,
                    Some("text/plain".to_owned()),
                    "This is the content of the static text resource.",
                ))
            },
        ),
        ResourceDef::new(
            Resource {
                uri: "test://static-binary".to_owned(),
                name: "static-binary".to_owned(),
                title: Some("Static Binary Resource".to_owned()),
                description: Some("A static binary resource (image) for testing".to_owned()),
                mime_type: Some("image/png".to_owned()),
                ..Resource::default()
            },
            |_ctx, uri| async move { Ok(ResourceContents::blob(uri, "image/png", TEST_IMAGE_BASE64)) },
        ),
        ResourceDef::new(
            Resource {
                uri: "test://watched-resource".to_owned(),
                name: "watched-resource".to_owned(),
                title: Some("Watched Resource".to_owned()),
                description: Some("A resource clients may subscribe to".to_owned()),
                mime_type: Some("text/plain".to_owned()),
                ..Resource::default()
            },
            |_ctx, uri| async move {
                Ok(ResourceContents::text(
                    uri,
                    Some("text/plain".to_owned()),
                    "Watched resource content",
                ))
            },
        ),
    ]
}

fn template() -> Result<ResourceTemplateDef, Box<dyn std::error::Error>> {
    let template = ResourceTemplate {
        uri_template: "test://template/{id}/data".to_owned(),
        name: "template".to_owned(),
        title: Some("Resource Template".to_owned()),
        description: Some("A resource template with parameter substitution".to_owned()),
        mime_type: Some("application/json".to_owned()),
        ..ResourceTemplate::default()
    };
    let def = ResourceTemplateDef::new(template, |_ctx, uri, vars| async move {
        let id = vars.get("id").cloned().unwrap_or_default();
        let body = json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")});
        Ok(ResourceContents::text(
            uri,
            Some("application/json".to_owned()),
            body.to_string(),
        ))
    })?;
    Ok(def)
}

fn prompt(name: &str, title: &str, description: &str) -> Prompt {
    Prompt {
        name: name.to_owned(),
        title: Some(title.to_owned()),
        description: Some(description.to_owned()),
        ..Prompt::default()
    }
}

fn prompts() -> Vec<PromptDef> {
    vec![
        PromptDef::new(
            prompt(
                "test_simple_prompt",
                "Simple Test Prompt",
                "A simple prompt without arguments",
            ),
            |_ctx, _args| async {
                Ok(vec![PromptMessage::user_text(
                    "This is a simple prompt for testing.",
                )])
            },
        ),
        PromptDef::new(
            prompt(
                "test_prompt_with_arguments",
                "Prompt With Arguments",
                "A prompt with required arguments",
            ),
            |_ctx, args| async move {
                let arg = |name: &str| args.get(name).cloned().unwrap_or_default();
                Ok(vec![PromptMessage::user_text(format!(
                    "Prompt with arguments: arg1='{}', arg2='{}'",
                    arg("arg1"),
                    arg("arg2")
                ))])
            },
        )
        .argument("arg1", "First test argument", true)
        .argument("arg2", "Second test argument", true),
        PromptDef::new(
            prompt(
                "test_prompt_with_embedded_resource",
                "Prompt With Embedded Resource",
                "A prompt that includes an embedded resource",
            ),
            |_ctx, args| async move {
                let uri = args.get("resourceUri").cloned().unwrap_or_default();
                Ok(vec![
                    PromptMessage::new(
                        Role::User,
                        Content::resource(ResourceContents::text(
                            uri,
                            Some("text/plain".to_owned()),
                            "Embedded resource content for testing.",
                        )),
                    ),
                    PromptMessage::user_text("Please process the embedded resource above."),
                ])
            },
        )
        .argument("resourceUri", "URI of the resource to embed", true),
        PromptDef::new(
            prompt(
                "test_prompt_with_image",
                "Prompt With Image",
                "A prompt that includes image content",
            ),
            |_ctx, _args| async {
                Ok(vec![
                    PromptMessage::new(Role::User, Content::image(TEST_IMAGE_BASE64, "image/png")),
                    PromptMessage::user_text("Please analyze the image above."),
                ])
            },
        ),
    ]
}

/// `completion/complete`: suggestions for the arguments of `test_prompt_with_arguments` that
/// start with what the user typed; nothing for anything else.
fn completion() -> CompletionHandler {
    CompletionHandler::new(|_ctx, params| async move {
        let candidates: &[&str] = match (&params.reference, params.argument.name.as_str()) {
            (Reference::Prompt(p), "arg1") if p.name == "test_prompt_with_arguments" => {
                &["testValue1", "testAlpha", "testBeta"]
            }
            (Reference::Prompt(p), "arg2") if p.name == "test_prompt_with_arguments" => {
                &["testValue2", "testGamma"]
            }
            _ => &[],
        };
        let values: Vec<String> = candidates
            .iter()
            .filter(|c| c.starts_with(params.argument.value.as_str()))
            .map(|c| (*c).to_owned())
            .collect();
        Ok(CompleteResult {
            completion: Completion {
                total: Some(values.len() as u64),
                has_more: Some(false),
                values,
            },
            meta: None,
        })
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p.parse().map_err(|e| format!("PORT={p:?}: {e}"))?,
        Err(_) => 3001,
    };

    let mut builder = McpServer::builder("mcp-conformance-test-server")
        .version("1.0.0")
        .http(HttpConfig::default())
        .tools(tools())
        .resource_template(template()?)
        .completion(completion());
    for r in resources() {
        builder = builder.resource(r);
    }
    for p in prompts() {
        builder = builder.prompt(p);
    }
    let server = builder.build()?;

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!(
        "conformance_server: http://{}/mcp (Ctrl-C to stop)",
        listener.local_addr()?
    );
    // Graceful shutdown waits for every connection to end, and a client's standalone GET event
    // stream never ends by itself: give in-flight requests SHUTDOWN_GRACE after the signal, then
    // exit anyway.
    let serve = server.serve_listener(listener, shutdown_signal());
    let deadline = async {
        shutdown_signal().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        served = serve => served?,
        () = deadline => eprintln!(
            "conformance_server: connections still open {SHUTDOWN_GRACE:?} after the signal; exiting"
        ),
    }
    Ok(())
}
