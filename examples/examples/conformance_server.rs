//! The fixture server for the official MCP conformance suite
//! (`@modelcontextprotocol/conformance` 0.1.16 and 0.2.0-alpha.12, server scenarios): every tool,
//! resource, resource template, prompt and completion the suite calls, with the texts, MIME types
//! and request parameters it checks (see `/work/shared/conformance/server-fixture.md` and
//! `server-fixture-0.2.md`), plus the tools `add` {a, b} and `echo` {text}.
//!
//! Both protocol eras on one endpoint: the 2025 initialize/session wire (resumable SSE streams)
//! and the stateless 2026-07-28 wire, for which it adds the diagnostic tools of `server-stateless`
//! (`test_missing_capability`, `test_streaming_elicitation`, `test_logging_tool`,
//! `test_trigger_tool_change`, `test_trigger_prompt_change`), the multi-round-trip (MRTR) tools
//! `test_input_required_result_*` with the prompt `test_input_required_result_prompt`, and a tool
//! whose `region` argument is mirrored into the `Mcp-Param-Region` header (`test_x_mcp_header`).
//! DNS-rebinding protection, no authorization. Logs go to stderr (`RUST_LOG`, default `warn`).
//!
//! Run: `PORT=3001 cargo run --example conformance_server` (binds `127.0.0.1:$PORT`, default
//! 3001; the endpoint is `/mcp`; Ctrl-C stops it gracefully), then the suite:
//!
//! ```sh
//! bash /work/shared/conformance/run-server-suite.sh http://127.0.0.1:3001/mcp --suite all
//! bash /work/shared/conformance/run-server-suite-0.2.sh http://127.0.0.1:3001/mcp --requirements 2026-07-28
//! bash /work/shared/conformance/run-server-suite-0.2.sh http://127.0.0.1:3001/mcp --requirements 2025-11-25
//! ```

use std::sync::OnceLock;
use std::time::Duration;

use mcp_server::ClientRequestError;
use mcp_server::core::version::Era;
use mcp_server::prelude::*;
use mcp_server::transport::http::shutdown_signal;
use mcp_server::types::{
    CompleteResult, Completion, CreateMessageRequestParams, ElicitRequestParams, ElicitResult,
    JsonObject, ListRootsResult, LoggingLevel, Reference, Role, SamplingMessage,
};
use serde_json::{Value, json};

/// The running server, for the tools that change what it offers (`test_trigger_*_change`).
static SERVER: OnceLock<McpServer> = OnceLock::new();

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

/// `json_schema_2020_12_tool` (SEP-1613, SEP-2106): `$schema`, `$defs` (with an `$anchor`),
/// `additionalProperties`, `allOf`/`anyOf` and `if`/`then`/`else` must reach the client unchanged.
fn json_schema_2020_12() -> JsonObject {
    object(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {
            "address": {
                "$anchor": "addressDef",
                "type": "object",
                "properties": {
                    "street": {"type": "string"},
                    "city": {"type": "string"}
                }
            }
        },
        "properties": {
            "name": {"type": "string"},
            "address": {"$ref": "#/$defs/address"},
            "contactMethod": {"type": "string", "enum": ["phone", "email"]},
            "phone": {"type": "string"},
            "email": {"type": "string"}
        },
        "allOf": [
            {"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}
        ],
        "if": {
            "properties": {"contactMethod": {"const": "phone"}},
            "required": ["contactMethod"]
        },
        "then": {"required": ["phone"]},
        "else": {"required": ["email"]},
        "additionalProperties": false
    }))
}

/// The input schema of `test_x_mcp_header`: `region` is mirrored into `Mcp-Param-Region`
/// (SEP-2243), which the framework checks against the body on the 2026-07-28 wire.
fn x_mcp_header_schema() -> JsonObject {
    object(json!({
        "type": "object",
        "properties": {
            "region": {
                "type": "string",
                "description": "The region to act in (sent as the Mcp-Param-Region header too)",
                "x-mcp-header": "Region"
            }
        },
        "required": ["region"]
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

/// An elicitation form asking for one string field `field`.
fn ask_string(message: &str, field: &str) -> ElicitRequestParams {
    let schema = object(json!({
        "type": "object",
        "properties": {field: {"type": "string"}},
        "required": [field]
    }));
    ElicitRequestParams::form(message, schema)
}

/// The string the user typed into `field` of an accepted form, if any.
fn form_string(result: &ElicitResult, field: &str) -> Option<String> {
    result
        .content
        .as_ref()?
        .get(field)?
        .as_str()
        .map(str::to_owned)
}

/// A one-message sampling request.
fn sampling_question(text: &str, max_tokens: u32) -> CreateMessageRequestParams {
    CreateMessageRequestParams::new(vec![SamplingMessage::user_text(text)], max_tokens.into())
}

/// The roots of a `roots/list` answer, for a tool result.
fn roots_summary(roots: &ListRootsResult) -> String {
    if roots.roots.is_empty() {
        return "no roots".to_owned();
    }
    roots
        .roots
        .iter()
        .map(|r| match &r.name {
            Some(name) => format!("{name} ({})", r.uri),
            None => r.uri.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct RegionArgs {
    /// The region to act in.
    region: String,
}

/// The diagnostic tools of the 2026-07-28 `server-stateless` scenario.
fn diagnostic_tools() -> Vec<ToolDef> {
    vec![
        // Asks for sampling whatever the client declared: without the capability the framework
        // answers 400 / -32021 naming it (requiredCapabilities: {sampling: {}}).
        ToolDef::from_fn(
            "test_missing_capability",
            |ctx: Context, NoArgs {}| async move {
                let answer = ctx.sample(sampling_question("Say something.", 50)).await?;
                Ok::<_, ClientRequestError>(format!("Sampled: {}", answer.content.text()))
            },
        )
        .description("Requires the client's sampling capability (answers -32021 without it)")
        .input_schema(no_args_schema()),
        // On the stateless wire the question goes back as an input_required result on the
        // response stream, never as a request frame.
        ToolDef::from_fn(
            "test_streaming_elicitation",
            |ctx: Context, NoArgs {}| async move {
                ctx.log(LoggingLevel::Info, None, "Asking the user for a value");
                let answer = ctx
                    .elicit_as(
                        "streamed_value",
                        ask_string("Please enter a value", "value"),
                    )
                    .await?;
                Ok::<_, ClientRequestError>(format!(
                    "Received: {}",
                    form_string(&answer, "value").unwrap_or_default()
                ))
            },
        )
        .description("Asks the user for input during a call (input_required on 2026-07-28)")
        .input_schema(no_args_schema()),
        // The framework drops these unless the request's _meta sets a logLevel (2026-07-28) or
        // the session set one (legacy).
        ToolDef::from_fn("test_logging_tool", |ctx: Context, NoArgs {}| async move {
            ctx.log(LoggingLevel::Info, None, "Logging tool: first message");
            ctx.log(LoggingLevel::Warning, None, "Logging tool: second message");
            "Logging tool executed"
        })
        .description("Emits log messages (only sent when the client asked for a log level)")
        .input_schema(no_args_schema()),
        ToolDef::from_fn(
            "test_trigger_tool_change",
            |_ctx: Context, NoArgs {}| async move {
                let Some(server) = SERVER.get() else {
                    return Err("the server is not running yet".to_owned());
                };
                // Toggle a dummy tool: either way, clients get notifications/tools/list_changed.
                if server.remove_tool(DYNAMIC_TOOL) {
                    Ok(format!("Removed tool {DYNAMIC_TOOL}"))
                } else {
                    server.add_tool(dynamic_tool()).map_err(|e| e.to_string())?;
                    Ok(format!("Added tool {DYNAMIC_TOOL}"))
                }
            },
        )
        .description("Adds or removes a dummy tool (sends notifications/tools/list_changed)")
        .input_schema(no_args_schema()),
        ToolDef::from_fn(
            "test_trigger_prompt_change",
            |_ctx: Context, NoArgs {}| async move {
                let Some(server) = SERVER.get() else {
                    return Err("the server is not running yet".to_owned());
                };
                // (Re)registers a dummy prompt: clients get notifications/prompts/list_changed.
                server.add_prompt(dynamic_prompt());
                Ok(format!("Registered prompt {DYNAMIC_PROMPT}"))
            },
        )
        .description("Registers a dummy prompt (sends notifications/prompts/list_changed)")
        .input_schema(no_args_schema()),
        // SEP-2243: the framework checks Mcp-Param-Region against `region` (400 / -32020).
        ToolDef::from_fn(
            "test_x_mcp_header",
            |_ctx: Context, RegionArgs { region }| async move { format!("Region: {region}") },
        )
        .description("Tool whose `region` argument is mirrored into the Mcp-Param-Region header")
        .input_schema(x_mcp_header_schema()),
    ]
}

/// The tool `test_trigger_tool_change` adds and removes.
const DYNAMIC_TOOL: &str = "test_dynamic_tool";

fn dynamic_tool() -> ToolDef {
    ToolDef::from_fn(DYNAMIC_TOOL, |_ctx: Context, NoArgs {}| async {
        "This tool was added at run time."
    })
    .description("A tool added at run time by test_trigger_tool_change")
    .input_schema(no_args_schema())
}

/// The prompt `test_trigger_prompt_change` registers.
const DYNAMIC_PROMPT: &str = "test_dynamic_prompt";

fn dynamic_prompt() -> PromptDef {
    PromptDef::new(
        prompt(
            DYNAMIC_PROMPT,
            "Dynamic Prompt",
            "A prompt registered at run time by test_trigger_prompt_change",
        ),
        |_ctx, _args| async {
            Ok(vec![PromptMessage::user_text(
                "This prompt was registered at run time.",
            )])
        },
    )
}

/// What one question of `test_input_required_result_capabilities` got: a summary, or nothing
/// when the client cannot be asked that way.
type Asked = Result<Option<String>, ClientRequestError>;

/// The multi-round-trip tools (SEP-2322). On the 2026-07-28 wire each question first comes back
/// to the client in an `input_required` result (propagated with `?`); the client retries with the
/// answers and the handler runs again, this time getting them. In the legacy era the same calls
/// are requests to the client on the response stream.
fn mrtr_tools() -> Vec<ToolDef> {
    vec![
        ToolDef::from_fn(
            "test_input_required_result_elicitation",
            |ctx: Context, NoArgs {}| async move {
                let answer = ctx
                    .elicit_as("user_name", ask_string("What is your name?", "name"))
                    .await?;
                let name = form_string(&answer, "name").unwrap_or_else(|| "stranger".to_owned());
                Ok::<_, ClientRequestError>(format!("Hello, {name}!"))
            },
        )
        .description("Asks the user's name (input_required with an elicitation/create request)")
        .input_schema(no_args_schema()),
        ToolDef::from_fn(
            "test_input_required_result_sampling",
            |ctx: Context, NoArgs {}| async move {
                let answer = ctx
                    .sample_as(
                        "capital_question",
                        sampling_question("What is the capital of France?", 100),
                    )
                    .await?;
                Ok::<_, ClientRequestError>(format!(
                    "The model answered: {}",
                    answer.content.text()
                ))
            },
        )
        .description(
            "Asks the client's model a question (input_required with sampling/createMessage)",
        )
        .input_schema(no_args_schema()),
        ToolDef::from_fn(
            "test_input_required_result_list_roots",
            |ctx: Context, NoArgs {}| async move {
                let roots = ctx.list_roots_as("client_roots").await?;
                Ok::<_, ClientRequestError>(format!("Client roots: {}", roots_summary(&roots)))
            },
        )
        .description("Asks the client for its roots (input_required with roots/list)")
        .input_schema(no_args_schema()),
        ToolDef::from_fn(
            "test_input_required_result_request_state",
            |ctx: Context, NoArgs {}| async move {
                let schema = object(json!({
                    "type": "object",
                    "properties": {"ok": {"type": "boolean"}},
                    "required": ["ok"]
                }));
                let answer = ctx
                    .elicit_as(
                        "confirm",
                        ElicitRequestParams::form("Please confirm", schema),
                    )
                    .await?;
                let ok = answer
                    .content
                    .as_ref()
                    .and_then(|c| c.get("ok"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                // The answer reached us through a verified requestState round trip.
                Ok::<_, ClientRequestError>(format!("state-ok: confirmed={ok}"))
            },
        )
        .description("Asks for a confirmation; the retry carries the signed requestState back")
        .input_schema(no_args_schema()),
        ToolDef::from_fn(
            "test_input_required_result_multiple_inputs",
            |ctx: Context, NoArgs {}| async move {
                // Start all three questions before failing on any, so they go out in one round.
                let (name, greeting, roots) = tokio::join!(
                    ctx.elicit_as("user_name", ask_string("What is your name?", "name")),
                    ctx.sample_as("greeting", sampling_question("Generate a greeting", 50)),
                    ctx.list_roots_as("client_roots"),
                );
                let (name, greeting, roots) = (name?, greeting?, roots?);
                Ok::<_, ClientRequestError>(format!(
                    "Name: {}; greeting: {}; roots: {}",
                    form_string(&name, "name").unwrap_or_default(),
                    greeting.content.text(),
                    roots_summary(&roots)
                ))
            },
        )
        .description("Asks for a name, a sampled greeting and the roots in a single round")
        .input_schema(no_args_schema()),
        ToolDef::from_fn(
            "test_input_required_result_multi_round",
            |ctx: Context, NoArgs {}| async move {
                // Round 1 asks step1; round 2 (step1 answered) asks step2; round 3 completes.
                let step1 = ctx
                    .elicit_as("step1", ask_string("Step 1: What is your name?", "name"))
                    .await?;
                let step2 = ctx
                    .elicit_as(
                        "step2",
                        ask_string("Step 2: What is your favorite color?", "color"),
                    )
                    .await?;
                Ok::<_, ClientRequestError>(format!(
                    "Name: {}, favorite color: {}",
                    form_string(&step1, "name").unwrap_or_default(),
                    form_string(&step2, "color").unwrap_or_default()
                ))
            },
        )
        .description("Asks two questions in two successive rounds")
        .input_schema(no_args_schema()),
        ToolDef::from_fn(
            "test_input_required_result_tampered_state",
            |ctx: Context, NoArgs {}| async move {
                let schema = object(json!({
                    "type": "object",
                    "properties": {"ok": {"type": "boolean"}},
                    "required": ["ok"]
                }));
                ctx.elicit_as(
                    "confirm",
                    ElicitRequestParams::form("Please confirm", schema),
                )
                .await?;
                Ok::<_, ClientRequestError>("state-ok")
            },
        )
        .description("Asks for a confirmation; a tampered requestState is refused")
        .input_schema(no_args_schema()),
        ToolDef::from_fn(
            "test_input_required_result_capabilities",
            |ctx: Context, NoArgs {}| async move {
                // Ask only through what the request declared.
                let caps = ctx.client_capabilities().cloned().unwrap_or_default();
                let elicit = async {
                    match caps.elicitation {
                        Some(_) => {
                            let answer = ctx
                                .elicit_as("user_name", ask_string("What is your name?", "name"))
                                .await?;
                            Ok(Some(format!(
                                "name: {}",
                                form_string(&answer, "name").unwrap_or_default()
                            )))
                        }
                        None => Ok(None),
                    }
                };
                let sample = async {
                    match caps.sampling {
                        Some(_) => {
                            let answer = ctx
                                .sample_as("capital_question", {
                                    sampling_question("What is the capital of France?", 100)
                                })
                                .await?;
                            Ok(Some(format!("model: {}", answer.content.text())))
                        }
                        None => Ok(None),
                    }
                };
                let roots = async {
                    match caps.roots {
                        Some(_) => {
                            let roots = ctx.list_roots_as("client_roots").await?;
                            Ok(Some(format!("roots: {}", roots_summary(&roots))))
                        }
                        None => Ok(None),
                    }
                };
                let (e, s, r): (Asked, Asked, Asked) = tokio::join!(elicit, sample, roots);
                let parts: Vec<String> = [e?, s?, r?].into_iter().flatten().collect();
                Ok::<_, ClientRequestError>(if parts.is_empty() {
                    "The client declared no capability to ask through".to_owned()
                } else {
                    parts.join("; ")
                })
            },
        )
        .description("Asks only through the capabilities the client declared")
        .input_schema(no_args_schema()),
    ]
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
                "test_input_required_result_prompt",
                "Prompt Requiring Input",
                "A prompt that asks the user for context first (input_required on 2026-07-28)",
            ),
            |ctx, _args| async move {
                let asked = ctx
                    .elicit_as(
                        "user_context",
                        ask_string("What context should the prompt use?", "context"),
                    )
                    .await;
                let answer = match asked {
                    Ok(answer) => answer,
                    // 2026-07-28: the framework answers input_required (or -32021) from what
                    // the handler asked, whatever it returns. Returning Ok here rather than
                    // propagating the error with `?`: prompts/get's error path reads the round's
                    // outcome twice (mcp-server/src/dispatch/calls.rs, get_prompt), and the
                    // second read finds the questions gone: an empty complete result (or -32021
                    // with empty requiredCapabilities) instead.
                    Err(ClientRequestError::InputRequired) => {
                        return Ok(vec![PromptMessage::user_text("Waiting for the context.")]);
                    }
                    Err(ClientRequestError::CapabilityMissing(_))
                        if ctx.protocol_version().era() == Era::Modern =>
                    {
                        return Ok(vec![PromptMessage::user_text(
                            "Elicitation is unavailable.",
                        )]);
                    }
                    Err(e) => return Err(e.into()),
                };
                let context = form_string(&answer, "context").unwrap_or_default();
                Ok(vec![PromptMessage::user_text(format!(
                    "Answer with this context in mind: {context}"
                ))])
            },
        ),
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

// --- tasks extension fixture (SEP-2663, `tasks-*` scenarios) ---

/// Arguments of `greet`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct GreetArgs {
    /// Who to greet.
    name: String,
}

/// Arguments of `slow_compute`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct SlowComputeArgs {
    /// How long to work, in seconds (0 = at once).
    #[serde(default)]
    seconds: f64,
    /// A label echoed in the result.
    #[serde(default)]
    label: String,
}

/// Arguments of `confirm_delete`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct ConfirmDeleteArgs {
    /// The file to (pretend to) delete.
    filename: String,
}

/// A form asking for a boolean `confirm`.
fn ask_confirm(message: &str) -> ElicitRequestParams {
    let schema = object(json!({
        "type": "object",
        "properties": {"confirm": {"type": "boolean", "description": "Confirm"}},
        "required": ["confirm"]
    }));
    ElicitRequestParams::form(message, schema)
}

/// Whether an elicitation answer accepted with `confirm: true`.
fn confirmed(answer: &ElicitResult) -> bool {
    answer
        .content
        .as_ref()
        .and_then(|c| c.get("confirm"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// The tools of the tasks fixture (`tasks-*` scenarios of 0.2.0-alpha.12): a sync `greet`, and
/// task-capable tools that run in the background when the request declares the
/// `io.modelcontextprotocol/tasks` extension.
fn task_tools() -> Vec<ToolDef> {
    use mcp_server::tasks::TaskSupport;
    vec![
        ToolDef::from_fn("greet", |_ctx: Context, GreetArgs { name }| async move {
            format!("Hello, {name}!")
        })
        .description("Greets someone (synchronous only)"),
        ToolDef::from_fn(
            "slow_compute",
            |ctx: Context, SlowComputeArgs { seconds, label }| async move {
                let wait = Duration::try_from_secs_f64(seconds.max(0.0)).unwrap_or(Duration::ZERO);
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = ctx.cancellation().cancelled() => return Err("cancelled".to_owned()),
                }
                Ok(format!("Computed {label} after {seconds}s"))
            },
        )
        .description("Works for `seconds` seconds, then answers (task-capable)")
        .task_support(TaskSupport::Optional),
        ToolDef::from_fn("failing_job", |_ctx: Context, NoArgs {}| async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Err::<String, _>("the job failed")
        })
        .description("Fails with a tool execution error after about a second (tasks required)")
        .input_schema(no_args_schema())
        .task_support(TaskSupport::Required),
        ToolDef::from_fn(
            "protocol_error_job",
            |_ctx: Context, NoArgs {}| async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                // A crash: inside a task it surfaces as `failed` with a JSON-RPC error.
                #[allow(clippy::panic)]
                let crash = || -> String { panic!("protocol_error_job crashed on purpose") };
                crash()
            },
        )
        .description("Crashes; as a task it ends `failed` with an error (task-capable)")
        .input_schema(no_args_schema())
        .task_support(TaskSupport::Optional),
        ToolDef::from_fn(
            "confirm_delete",
            |ctx: Context, ConfirmDeleteArgs { filename }| async move {
                let answer = ctx
                    .elicit_as("confirm", ask_confirm(&format!("Delete {filename}?")))
                    .await?;
                Ok::<_, ClientRequestError>(if confirmed(&answer) {
                    format!("Deleted {filename}")
                } else {
                    format!("Kept {filename}")
                })
            },
        )
        .description("Asks for a confirmation, then (pretends to) delete a file (task-capable)")
        .task_support(TaskSupport::Optional),
        ToolDef::from_fn("multi_input", |ctx: Context, NoArgs {}| async move {
            // Both questions go out in one round: two pending keys at once.
            let (name, confirm) = tokio::join!(
                ctx.elicit_as("name", ask_string("What is your name?", "name")),
                ctx.elicit_as("confirm", ask_confirm("Proceed?")),
            );
            let (name, confirm) = (name?, confirm?);
            Ok::<_, ClientRequestError>(format!(
                "name={}; confirmed={}",
                form_string(&name, "name").unwrap_or_default(),
                confirmed(&confirm)
            ))
        })
        .description("Asks two questions at once (task-capable)")
        .input_schema(no_args_schema())
        .task_support(TaskSupport::Optional),
        ToolDef::from_fn(
            "test_tool_with_task",
            |ctx: Context, NoArgs {}| async move {
                // Gathered synchronously (MRTR) within the task_after window...
                let answer = ctx
                    .elicit_as("user_name", ask_string("What is your name?", "name"))
                    .await?;
                let name = form_string(&answer, "name").unwrap_or_else(|| "stranger".to_owned());
                // ...then the long part outlives the window and becomes a task.
                tokio::time::sleep(Duration::from_secs(1)).await;
                Ok::<_, ClientRequestError>(format!("Hello, {name}! (from a task)"))
            },
        )
        .description("Asks a name (input_required), then finishes as a task")
        .input_schema(no_args_schema())
        .task_support(TaskSupport::Optional)
        .task_after(Duration::from_millis(300)),
    ]
}

// --- end tasks extension fixture ---

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
        .tools(diagnostic_tools())
        .tools(mrtr_tools())
        .tools(task_tools())
        .resource_template(template()?)
        .completion(completion());
    for r in resources() {
        builder = builder.resource(r);
    }
    for p in prompts() {
        builder = builder.prompt(p);
    }
    let server = builder.build()?;
    let _ = SERVER.set(server.clone());

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
