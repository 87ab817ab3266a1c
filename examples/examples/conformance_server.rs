//! The fixture server for the official MCP conformance suite
//! (`@modelcontextprotocol/conformance` 0.1.16 and 0.2.0-alpha.12, server scenarios): every tool,
//! resource, resource template, prompt and completion the suite calls, with the texts, MIME types
//! and request parameters it checks (see `tests/conformance/server-fixture.md` and
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
//! Tools, prompts and resources are written with `#[tool]`, `#[prompt]` and `#[resource]`; what
//! the attributes cannot say (a hand-written input schema, task support) is set on the `ToolDef`
//! a macro generates, and `json_schema_2020_12_tool` and the completion fallback are built by hand
//! (see their comments).
//!
//! Run: `PORT=3001 cargo run --example conformance_server` (binds `127.0.0.1:$PORT`, default
//! 3001; the endpoint is `/mcp`; Ctrl-C stops it gracefully), then the suite:
//!
//! ```sh
//! bash tests/conformance/run-server-suite.sh http://127.0.0.1:3001/mcp --suite all
//! bash tests/conformance/run-server-suite-0.2.sh http://127.0.0.1:3001/mcp --requirements 2026-07-28
//! bash tests/conformance/run-server-suite-0.2.sh http://127.0.0.1:3001/mcp --requirements 2025-11-25
//! ```

use std::sync::OnceLock;
use std::time::Duration;

use mcp_server::core::version::Era;
use mcp_server::prelude::*;
use mcp_server::transport::http::shutdown_signal;
use mcp_server::types::{
    CompleteResult, Completion, CreateMessageRequestParams, ElicitRequestParams, ElicitResult,
    JsonObject, ListRootsResult, LoggingLevel, Role, SamplingMessage,
};
use mcp_server::{ClientRequestError, IntoTool};
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

/// An argument-less `#[tool]`, listed with the schema the reference server lists,
/// `{"type":"object","properties":{}}`. The macro derives the schema from the parameters (here
/// `{"$schema":..,"type":"object","additionalProperties":false}`) and has no attribute to replace
/// it, so the schema is set on the `ToolDef` the macro generates.
fn bare(tool: impl IntoTool) -> ToolDef {
    tool.into_tool().input_schema(no_args_schema())
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

// --- the diagnostic tools of the 2026-07-28 `server-stateless` scenario ---

/// Requires the client's sampling capability (answers -32021 without it)
#[tool]
async fn test_missing_capability(ctx: &Context) -> Result<String, ClientRequestError> {
    // Asks for sampling whatever the client declared: without the capability the framework
    // answers 400 / -32021 naming it (requiredCapabilities: {sampling: {}}).
    let answer = ctx.sample(sampling_question("Say something.", 50)).await?;
    Ok(format!("Sampled: {}", answer.content.text()))
}

/// Asks the user for input during a call (input_required on 2026-07-28)
#[tool]
async fn test_streaming_elicitation(ctx: &Context) -> Result<String, ClientRequestError> {
    // On the stateless wire the question goes back as an input_required result on the
    // response stream, never as a request frame.
    ctx.log(LoggingLevel::Info, None, "Asking the user for a value");
    let answer = ctx
        .elicit_as(
            "streamed_value",
            ask_string("Please enter a value", "value"),
        )
        .await?;
    Ok(format!(
        "Received: {}",
        form_string(&answer, "value").unwrap_or_default()
    ))
}

/// Emits log messages (only sent when the client asked for a log level)
#[tool]
fn test_logging_tool(ctx: &Context) -> &'static str {
    // The framework drops these unless the request's _meta sets a logLevel (2026-07-28) or the
    // session set one (legacy).
    ctx.log(LoggingLevel::Info, None, "Logging tool: first message");
    ctx.log(LoggingLevel::Warning, None, "Logging tool: second message");
    "Logging tool executed"
}

/// Adds or removes a dummy tool (sends notifications/tools/list_changed)
#[tool]
fn test_trigger_tool_change() -> Result<String, String> {
    let Some(server) = SERVER.get() else {
        return Err("the server is not running yet".to_owned());
    };
    // Toggle a dummy tool: either way, clients get notifications/tools/list_changed.
    if server.remove_tool(DYNAMIC_TOOL) {
        Ok(format!("Removed tool {DYNAMIC_TOOL}"))
    } else {
        server
            .add_tool(bare(test_dynamic_tool))
            .map_err(|e| e.to_string())?;
        Ok(format!("Added tool {DYNAMIC_TOOL}"))
    }
}

/// Registers a dummy prompt (sends notifications/prompts/list_changed)
#[tool]
fn test_trigger_prompt_change() -> Result<String, String> {
    let Some(server) = SERVER.get() else {
        return Err("the server is not running yet".to_owned());
    };
    // (Re)registers a dummy prompt: clients get notifications/prompts/list_changed.
    server.add_prompt(test_dynamic_prompt);
    Ok(format!("Registered prompt {DYNAMIC_PROMPT}"))
}

/// Tool whose `region` argument is mirrored into the Mcp-Param-Region header
#[tool]
fn test_x_mcp_header(
    /// The region to act in.
    region: String,
) -> String {
    // SEP-2243: the framework checks Mcp-Param-Region against `region` (400 / -32020).
    format!("Region: {region}")
}

/// The diagnostic tools of the 2026-07-28 `server-stateless` scenario.
fn diagnostic_tools() -> Vec<ToolDef> {
    vec![
        bare(test_missing_capability),
        bare(test_streaming_elicitation),
        bare(test_logging_tool),
        bare(test_trigger_tool_change),
        bare(test_trigger_prompt_change),
        // The `x-mcp-header` keyword is not something the macro can put into the derived
        // schema: the schema is set on the generated `ToolDef` instead.
        test_x_mcp_header
            .into_tool()
            .input_schema(x_mcp_header_schema()),
    ]
}

/// The tool `test_trigger_tool_change` adds and removes.
const DYNAMIC_TOOL: &str = "test_dynamic_tool";

/// A tool added at run time by test_trigger_tool_change
#[tool]
fn test_dynamic_tool() -> &'static str {
    "This tool was added at run time."
}

/// The prompt `test_trigger_prompt_change` registers.
const DYNAMIC_PROMPT: &str = "test_dynamic_prompt";

/// A prompt registered at run time by test_trigger_prompt_change
#[prompt(title = "Dynamic Prompt")]
fn test_dynamic_prompt() -> Vec<PromptMessage> {
    vec![PromptMessage::user_text(
        "This prompt was registered at run time.",
    )]
}

// --- the multi-round-trip (MRTR) tools (SEP-2322) ---
//
// On the 2026-07-28 wire each question first comes back to the client in an `input_required`
// result (propagated with `?`); the client retries with the answers and the handler runs again,
// this time getting them. In the legacy era the same calls are requests to the client on the
// response stream.

/// What one question of `test_input_required_result_capabilities` got: a summary, or nothing
/// when the client cannot be asked that way.
type Asked = Result<Option<String>, ClientRequestError>;

/// Asks the user's name (input_required with an elicitation/create request)
#[tool]
async fn test_input_required_result_elicitation(
    ctx: &Context,
) -> Result<String, ClientRequestError> {
    let answer = ctx
        .elicit_as("user_name", ask_string("What is your name?", "name"))
        .await?;
    let name = form_string(&answer, "name").unwrap_or_else(|| "stranger".to_owned());
    Ok(format!("Hello, {name}!"))
}

/// Asks the client's model a question (input_required with sampling/createMessage)
#[tool]
async fn test_input_required_result_sampling(ctx: &Context) -> Result<String, ClientRequestError> {
    let answer = ctx
        .sample_as(
            "capital_question",
            sampling_question("What is the capital of France?", 100),
        )
        .await?;
    Ok(format!("The model answered: {}", answer.content.text()))
}

/// Asks the client for its roots (input_required with roots/list)
#[tool]
async fn test_input_required_result_list_roots(
    ctx: &Context,
) -> Result<String, ClientRequestError> {
    let roots = ctx.list_roots_as("client_roots").await?;
    Ok(format!("Client roots: {}", roots_summary(&roots)))
}

/// Asks for a confirmation; the retry carries the signed requestState back
#[tool]
async fn test_input_required_result_request_state(
    ctx: &Context,
) -> Result<String, ClientRequestError> {
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
    Ok(format!("state-ok: confirmed={ok}"))
}

/// Asks for a name, a sampled greeting and the roots in a single round
#[tool]
async fn test_input_required_result_multiple_inputs(
    ctx: &Context,
) -> Result<String, ClientRequestError> {
    // Start all three questions before failing on any, so they go out in one round.
    let (name, greeting, roots) = tokio::join!(
        ctx.elicit_as("user_name", ask_string("What is your name?", "name")),
        ctx.sample_as("greeting", sampling_question("Generate a greeting", 50)),
        ctx.list_roots_as("client_roots"),
    );
    let (name, greeting, roots) = (name?, greeting?, roots?);
    Ok(format!(
        "Name: {}; greeting: {}; roots: {}",
        form_string(&name, "name").unwrap_or_default(),
        greeting.content.text(),
        roots_summary(&roots)
    ))
}

/// Asks two questions in two successive rounds
#[tool]
async fn test_input_required_result_multi_round(
    ctx: &Context,
) -> Result<String, ClientRequestError> {
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
    Ok(format!(
        "Name: {}, favorite color: {}",
        form_string(&step1, "name").unwrap_or_default(),
        form_string(&step2, "color").unwrap_or_default()
    ))
}

/// Asks for a confirmation; a tampered requestState is refused
#[tool]
async fn test_input_required_result_tampered_state(
    ctx: &Context,
) -> Result<&'static str, ClientRequestError> {
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
    Ok("state-ok")
}

/// Asks only through the capabilities the client declared
#[tool]
async fn test_input_required_result_capabilities(
    ctx: &Context,
) -> Result<String, ClientRequestError> {
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
    Ok(if parts.is_empty() {
        "The client declared no capability to ask through".to_owned()
    } else {
        parts.join("; ")
    })
}

/// The multi-round-trip tools (SEP-2322).
fn mrtr_tools() -> Vec<ToolDef> {
    vec![
        bare(test_input_required_result_elicitation),
        bare(test_input_required_result_sampling),
        bare(test_input_required_result_list_roots),
        bare(test_input_required_result_request_state),
        bare(test_input_required_result_multiple_inputs),
        bare(test_input_required_result_multi_round),
        bare(test_input_required_result_tampered_state),
        bare(test_input_required_result_capabilities),
    ]
}

// --- the tools of the 0.1.16 scenarios ---

/// Tests simple text content response
#[tool]
fn test_simple_text() -> &'static str {
    "This is a simple text response for testing."
}

/// Tests image content response
#[tool]
fn test_image_content() -> Content {
    Content::image(TEST_IMAGE_BASE64, "image/png")
}

/// Tests audio content response
#[tool]
fn test_audio_content() -> Content {
    Content::audio(TEST_AUDIO_BASE64, "audio/wav")
}

/// Tests embedded resource content response
#[tool]
fn test_embedded_resource() -> Content {
    Content::resource(ResourceContents::text(
        "test://embedded-resource",
        Some("text/plain".to_owned()),
        "This is an embedded resource content.",
    ))
}

/// Tests response with multiple content types (text, image, resource)
#[tool]
fn test_multiple_content_types() -> Vec<Content> {
    vec![
        Content::text("Multiple content types test:"),
        Content::image(TEST_IMAGE_BASE64, "image/png"),
        Content::resource(ResourceContents::text(
            "test://mixed-content-resource",
            Some("application/json".to_owned()),
            json!({"test": "data", "value": 123}).to_string(),
        )),
    ]
}

/// Tests tool that emits log messages during execution
#[tool]
async fn test_tool_with_logging(ctx: &Context) -> &'static str {
    ctx.log(LoggingLevel::Info, None, "Tool execution started");
    tokio::time::sleep(Duration::from_millis(50)).await;
    ctx.log(LoggingLevel::Info, None, "Tool processing data");
    tokio::time::sleep(Duration::from_millis(50)).await;
    ctx.log(LoggingLevel::Info, None, "Tool execution completed");
    "Tool with logging executed successfully"
}

/// Tests error response handling
#[tool]
fn test_error_handling() -> CallToolResult {
    CallToolResult::error_text("This tool intentionally returns an error for testing")
}

/// Tests tool that reports progress notifications
#[tool]
async fn test_tool_with_progress(ctx: &Context) -> String {
    for (i, step) in [0.0, 50.0, 100.0].into_iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let message = format!("Completed step {step} of 100");
        ctx.progress(step, Some(100.0), Some(&message));
    }
    ctx.progress_token()
        .map_or_else(|| "no progress token".to_owned(), |t| t.to_string())
}

/// Tests server-initiated sampling (LLM completion request)
#[tool]
async fn test_sampling(
    /// The prompt to send to the client's model.
    prompt: String,
    ctx: &Context,
) -> CallToolResult {
    let params = CreateMessageRequestParams::new(vec![SamplingMessage::user_text(prompt)], 100);
    match ctx.sample(params).await {
        Ok(result) => CallToolResult::text(format!("LLM response: {}", result.content.text())),
        Err(e) => CallToolResult::error_text(format!("Sampling failed: {e}")),
    }
}

/// Tests server-initiated elicitation (user input request)
#[tool]
async fn test_elicitation(
    /// The message to show the user.
    message: String,
    ctx: &Context,
) -> CallToolResult {
    let schema = object(json!({
        "type": "object",
        "properties": {
            "username": {"type": "string", "description": "User's response"},
            "email": {"type": "string", "description": "User's email address"}
        },
        "required": ["username", "email"]
    }));
    elicit_tool(ctx, ElicitRequestParams::form(message, schema)).await
}

/// Tests elicitation with default values per SEP-1034
#[tool]
async fn test_elicitation_sep1034_defaults(ctx: &Context) -> CallToolResult {
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
    elicit_tool(ctx, ElicitRequestParams::form(message, schema)).await
}

/// Tests elicitation with enum schema improvements per SEP-1330
#[tool]
async fn test_elicitation_sep1330_enums(ctx: &Context) -> CallToolResult {
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
    elicit_tool(ctx, ElicitRequestParams::form(message, schema)).await
}

/// `json_schema_2020_12_tool`. Not a `#[tool]`: a macro tool's arguments are its parameters,
/// one field each, whereas this one reads the whole arguments object as it came (to echo it
/// back) and is listed with a hand-written 2020-12 schema (`$defs`, `$anchor`, `allOf`,
/// `if`/`then`/`else`) that no parameter list derives.
fn json_schema_2020_12_tool() -> ToolDef {
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
    .input_schema(json_schema_2020_12())
}

// `description = ..` rather than a doc comment: a doc comment of several lines would keep its
// line breaks, and the description is one line.
#[tool(
    description = "Tests SSE stream disconnection and client reconnection (SEP-1699): the \
                      server closes the stream mid-call and the result arrives after the client \
                      reconnects"
)]
async fn test_reconnection(ctx: &Context) -> &'static str {
    // SEP-1699: end the POST's event stream after its priming event; the client resumes with
    // GET + Last-Event-ID and gets the result from the event store.
    ctx.close_sse_stream();
    tokio::time::sleep(Duration::from_millis(150)).await;
    "Reconnection test completed successfully. If you received this, the client \
     properly reconnected after stream closure."
}

/// Add two integers
#[tool]
fn add(
    /// The first addend.
    a: i64,
    /// The second addend.
    b: i64,
) -> Result<String, &'static str> {
    a.checked_add(b)
        .map(|s| s.to_string())
        .ok_or("integer overflow")
}

/// Echo the text back
#[tool]
fn echo(
    /// The text to send back.
    text: String,
) -> String {
    text
}

fn tools() -> Vec<ToolDef> {
    vec![
        bare(test_simple_text),
        bare(test_image_content),
        bare(test_audio_content),
        bare(test_embedded_resource),
        bare(test_multiple_content_types),
        bare(test_tool_with_logging),
        bare(test_error_handling),
        bare(test_tool_with_progress),
        test_sampling.into_tool(),
        test_elicitation.into_tool(),
        bare(test_elicitation_sep1034_defaults),
        bare(test_elicitation_sep1330_enums),
        json_schema_2020_12_tool(),
        bare(test_reconnection),
        add.into_tool(),
        echo.into_tool(),
    ]
}

// --- resources ---

/// A static text resource for testing
#[resource(
    uri = "test://static-text",
    name = "static-text",
    title = "Static Text Resource",
    mime_type = "text/plain"
)]
fn static_text() -> &'static str {
    "This is the content of the static text resource."
}

/// A static binary resource (image) for testing
#[resource(
    uri = "test://static-binary",
    name = "static-binary",
    title = "Static Binary Resource",
    mime_type = "image/png"
)]
fn static_binary() -> ResourceContents {
    // The PNG is kept base64 (what goes on the wire) rather than decoded to return `Vec<u8>`.
    ResourceContents::blob("test://static-binary", "image/png", TEST_IMAGE_BASE64)
}

/// A resource clients may subscribe to
#[resource(
    uri = "test://watched-resource",
    name = "watched-resource",
    title = "Watched Resource",
    mime_type = "text/plain"
)]
fn watched_resource() -> &'static str {
    "Watched resource content"
}

/// A resource template with parameter substitution
#[resource(
    uri = "test://template/{id}/data",
    name = "template",
    title = "Resource Template",
    mime_type = "application/json"
)]
fn template(id: String) -> String {
    json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")}).to_string()
}

// --- prompts ---

/// A simple prompt without arguments
#[prompt(title = "Simple Test Prompt")]
fn test_simple_prompt() -> Vec<PromptMessage> {
    vec![PromptMessage::user_text(
        "This is a simple prompt for testing.",
    )]
}

/// A prompt with required arguments
#[prompt(
    title = "Prompt With Arguments",
    complete(arg1 = complete_arg1, arg2 = complete_arg2)
)]
fn test_prompt_with_arguments(
    /// First test argument
    arg1: String,
    /// Second test argument
    arg2: String,
) -> Vec<PromptMessage> {
    vec![PromptMessage::user_text(format!(
        "Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"
    ))]
}

/// A prompt that includes an embedded resource
#[prompt(title = "Prompt With Embedded Resource")]
fn test_prompt_with_embedded_resource(
    /// URI of the resource to embed
    #[arg(rename = "resourceUri")]
    resource_uri: String,
) -> Vec<PromptMessage> {
    vec![
        PromptMessage::new(
            Role::User,
            Content::resource(ResourceContents::text(
                resource_uri,
                Some("text/plain".to_owned()),
                "Embedded resource content for testing.",
            )),
        ),
        PromptMessage::user_text("Please process the embedded resource above."),
    ]
}

/// A prompt that asks the user for context first (input_required on 2026-07-28)
#[prompt(title = "Prompt Requiring Input")]
async fn test_input_required_result_prompt(ctx: &Context) -> Result<Vec<PromptMessage>, McpError> {
    let asked = ctx
        .elicit_as(
            "user_context",
            ask_string("What context should the prompt use?", "context"),
        )
        .await;
    let answer = match asked {
        Ok(answer) => answer,
        // 2026-07-28: the framework answers input_required (or -32021) from what the handler
        // asked, whatever it returns. Returning Ok here rather than propagating the error with
        // `?`: prompts/get's error path reads the round's outcome twice
        // (mcp-server/src/dispatch/calls.rs, get_prompt), and the second read finds the
        // questions gone: an empty complete result (or -32021 with empty requiredCapabilities)
        // instead.
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
}

/// A prompt that includes image content
#[prompt(title = "Prompt With Image")]
fn test_prompt_with_image() -> Vec<PromptMessage> {
    vec![
        PromptMessage::new(Role::User, Content::image(TEST_IMAGE_BASE64, "image/png")),
        PromptMessage::user_text("Please analyze the image above."),
    ]
}

// --- completions ---

/// The `candidates` that start with what the user typed, with `total` and `hasMore` set.
fn suggest(candidates: &[&str], typed: &str) -> CompleteResult {
    let values: Vec<String> = candidates
        .iter()
        .filter(|c| c.starts_with(typed))
        .map(|c| (*c).to_owned())
        .collect();
    CompleteResult {
        completion: Completion {
            total: Some(values.len() as u64),
            has_more: Some(false),
            values,
        },
        meta: None,
    }
}

/// `completion/complete` for `arg1` of `test_prompt_with_arguments`.
fn complete_arg1(typed: &str) -> CompleteResult {
    suggest(&["testValue1", "testAlpha", "testBeta"], typed)
}

/// `completion/complete` for `arg2` of `test_prompt_with_arguments`.
fn complete_arg2(typed: &str) -> CompleteResult {
    suggest(&["testValue2", "testGamma"], typed)
}

/// `completion/complete` for every other reference: no suggestions, `total: 0`,
/// `hasMore: false`. Not macro-written: `complete(..)` attaches a completer to one argument of
/// one prompt or template; a server-wide fallback is a `CompletionHandler`.
fn no_completion() -> CompletionHandler {
    CompletionHandler::new(|_ctx, _params| async { Ok(suggest(&[], "")) })
}

// --- tasks extension fixture (SEP-2663, `tasks-*` scenarios) ---

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

/// Greets someone (synchronous only)
#[tool]
fn greet(
    /// Who to greet.
    name: String,
) -> String {
    format!("Hello, {name}!")
}

/// Works for `seconds` seconds, then answers (task-capable)
#[tool]
async fn slow_compute(
    /// How long to work, in seconds (0 = at once).
    #[arg(default)]
    seconds: f64,
    /// A label echoed in the result.
    #[arg(default)]
    label: String,
    ctx: &Context,
) -> Result<String, String> {
    let wait = Duration::try_from_secs_f64(seconds.max(0.0)).unwrap_or(Duration::ZERO);
    tokio::select! {
        () = tokio::time::sleep(wait) => {}
        () = ctx.cancellation().cancelled() => return Err("cancelled".to_owned()),
    }
    Ok(format!("Computed {label} after {seconds}s"))
}

/// Fails with a tool execution error after about a second (tasks required)
#[tool]
async fn failing_job() -> Result<String, &'static str> {
    tokio::time::sleep(Duration::from_secs(1)).await;
    Err("the job failed")
}

/// Crashes; as a task it ends `failed` with an error (task-capable)
#[tool]
async fn protocol_error_job() -> String {
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A crash: inside a task it surfaces as `failed` with a JSON-RPC error.
    #[allow(clippy::panic)]
    let crash = || -> String { panic!("protocol_error_job crashed on purpose") };
    crash()
}

/// Asks for a confirmation, then (pretends to) delete a file (task-capable)
#[tool]
async fn confirm_delete(
    /// The file to (pretend to) delete.
    filename: String,
    ctx: &Context,
) -> Result<String, ClientRequestError> {
    let answer = ctx
        .elicit_as("confirm", ask_confirm(&format!("Delete {filename}?")))
        .await?;
    Ok(if confirmed(&answer) {
        format!("Deleted {filename}")
    } else {
        format!("Kept {filename}")
    })
}

/// Asks two questions at once (task-capable)
#[tool]
async fn multi_input(ctx: &Context) -> Result<String, ClientRequestError> {
    // Both questions go out in one round: two pending keys at once.
    let (name, confirm) = tokio::join!(
        ctx.elicit_as("name", ask_string("What is your name?", "name")),
        ctx.elicit_as("confirm", ask_confirm("Proceed?")),
    );
    let (name, confirm) = (name?, confirm?);
    Ok(format!(
        "name={}; confirmed={}",
        form_string(&name, "name").unwrap_or_default(),
        confirmed(&confirm)
    ))
}

/// Asks a name (input_required), then finishes as a task
#[tool]
async fn test_tool_with_task(ctx: &Context) -> Result<String, ClientRequestError> {
    // Gathered synchronously (MRTR) within the task_after window...
    let answer = ctx
        .elicit_as("user_name", ask_string("What is your name?", "name"))
        .await?;
    let name = form_string(&answer, "name").unwrap_or_else(|| "stranger".to_owned());
    // ...then the long part outlives the window and becomes a task.
    tokio::time::sleep(Duration::from_secs(1)).await;
    Ok(format!("Hello, {name}! (from a task)"))
}

/// The tools of the tasks fixture (`tasks-*` scenarios of 0.2.0-alpha.12): a sync `greet`, and
/// task-capable tools that run in the background when the request declares the
/// `io.modelcontextprotocol/tasks` extension. The task settings (`task_support`, `task_after`)
/// have no `#[tool(..)]` attribute: they are set on the generated `ToolDef`s.
fn task_tools() -> Vec<ToolDef> {
    use mcp_server::tasks::TaskSupport;
    vec![
        greet.into_tool(),
        slow_compute.into_tool().task_support(TaskSupport::Optional),
        bare(failing_job).task_support(TaskSupport::Required),
        bare(protocol_error_job).task_support(TaskSupport::Optional),
        confirm_delete
            .into_tool()
            .task_support(TaskSupport::Optional),
        bare(multi_input).task_support(TaskSupport::Optional),
        bare(test_tool_with_task)
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

    let server = McpServer::builder("mcp-conformance-test-server")
        .version("1.0.0")
        .tools(tools())
        .tools(diagnostic_tools())
        .tools(mrtr_tools())
        .tools(task_tools())
        .resource(static_text)
        .resource(static_binary)
        .resource(watched_resource)
        .resource(template)
        .prompt(test_simple_prompt)
        .prompt(test_prompt_with_arguments)
        .prompt(test_prompt_with_embedded_resource)
        .prompt(test_input_required_result_prompt)
        .prompt(test_prompt_with_image)
        .completion(no_completion())
        .build()?;
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
