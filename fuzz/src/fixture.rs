//! The server the HTTP targets drive: a few `#[tool]`s (plain, talkative, with a header
//! parameter), typed tools whose arguments cover numbers, strings, enums, options, lists, maps and
//! nested structs, two resource templates, a prompt with completion. Built once per process.
//!
//! Each typed tool echoes what it received as structured content. Its arguments struct is
//! mirrored here ([`NumbersArgs`], ...), with the attributes the macro gives the struct it
//! generates (`deny_unknown_fields`, renames, defaults): `tool_arguments` checks that a call
//! succeeds exactly when plain serde accepts the arguments, and echoes what serde read.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::Router;
use mcp_server::prelude::*;
use mcp_server::types::LoggingLevel;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The name the server reports.
pub const SERVER_NAME: &str = "fuzz-fixture";

/// Add two integers (fails on overflow, as a tool error).
#[tool(annotations(read_only))]
fn add(
    /// The first addend.
    a: i64,
    /// The second addend.
    b: i64,
) -> Result<i64, String> {
    a.checked_add(b)
        .ok_or_else(|| "the sum overflows".to_owned())
}

/// Echo a text.
#[tool]
fn echo(
    /// The text.
    text: String,
) -> String {
    text
}

/// Report progress and log lines, then answer: its answers go out on an SSE stream.
#[tool]
async fn progress(
    /// How many steps (at most 4 are reported).
    steps: u8,
    ctx: &Context,
) -> String {
    let steps = steps.min(4);
    for i in 1..=steps {
        ctx.progress(f64::from(i), Some(f64::from(steps)), Some("working"));
        ctx.log(LoggingLevel::Info, Some("fuzz"), json!(format!("step {i}")));
    }
    format!("{steps} steps")
}

/// Which shape (an externally tagged enum).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// A circle.
    Circle {
        /// Its radius.
        radius: f64,
    },
    /// A square, by side.
    Square(u32),
    /// A point.
    Point,
}

/// A colour (a unit-only enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Color {
    /// Red.
    Red,
    /// Green.
    Green,
}

/// A postal address (a nested struct).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Address {
    /// The street.
    pub street: String,
    /// The postal code.
    pub zip: Option<u32>,
    /// Free tags.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// What `numbers` received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NumbersArgs {
    /// A byte.
    pub small: u8,
    /// A 32-bit signed integer.
    pub signed: i32,
    /// A 64-bit unsigned integer.
    pub big: u64,
    /// A float.
    pub ratio: f64,
    /// A flag.
    pub flag: bool,
}

/// Echo numbers of several widths.
#[tool]
fn numbers(
    /// A byte.
    small: u8,
    /// A 32-bit signed integer.
    signed: i32,
    /// A 64-bit unsigned integer.
    big: u64,
    /// A float.
    ratio: f64,
    /// A flag.
    flag: bool,
) -> Json<NumbersArgs> {
    Json(NumbersArgs {
        small,
        signed,
        big,
        ratio,
        flag,
    })
}

fn three() -> u32 {
    3
}

/// What `texts` received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TextsArgs {
    /// A name.
    pub name: String,
    /// Optional, renamed on the wire.
    #[serde(rename = "caseSensitive")]
    pub case_sensitive: Option<bool>,
    /// Defaults to 3.
    #[serde(default = "three")]
    pub repeat: u32,
    /// Single characters.
    pub letters: Vec<char>,
}

/// Echo strings, an optional renamed flag, a defaulted count and characters.
#[tool]
fn texts(
    /// A name.
    name: String,
    /// Optional, renamed on the wire.
    #[arg(rename = "caseSensitive")]
    case_sensitive: Option<bool>,
    /// Defaults to 3.
    #[arg(default = 3)]
    repeat: u32,
    /// Single characters.
    letters: Vec<char>,
) -> Json<TextsArgs> {
    Json(TextsArgs {
        name,
        case_sensitive,
        repeat,
        letters,
    })
}

/// What `shapes` received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShapesArgs {
    /// One shape.
    pub shape: Shape,
    /// More shapes.
    pub more: Vec<Shape>,
    /// An optional colour.
    pub color: Option<Color>,
}

/// Echo enums: tagged, in a list, optional.
#[tool]
fn shapes(
    /// One shape.
    shape: Shape,
    /// More shapes.
    more: Vec<Shape>,
    /// An optional colour.
    color: Option<Color>,
) -> Json<ShapesArgs> {
    Json(ShapesArgs { shape, more, color })
}

/// What `nested` received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NestedArgs {
    /// An address.
    pub address: Address,
    /// More addresses, optional.
    pub extra: Option<Vec<Address>>,
    /// Labels to small numbers.
    pub labels: BTreeMap<String, i16>,
}

/// Echo a nested struct, an optional list of them and a map.
#[tool]
fn nested(
    /// An address.
    address: Address,
    /// More addresses, optional.
    extra: Option<Vec<Address>>,
    /// Labels to small numbers.
    labels: BTreeMap<String, i16>,
) -> Json<NestedArgs> {
    Json(NestedArgs {
        address,
        extra,
        labels,
    })
}

/// What `nothing` received: nothing, and no unknown field either.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NothingArgs {}

/// Take no arguments.
#[tool]
fn nothing() -> Json<NothingArgs> {
    Json(NothingArgs {})
}

/// The typed tools, in the order `tool_arguments` picks them by index.
pub const TYPED_TOOLS: [&str; 5] = ["numbers", "texts", "shapes", "nested", "nothing"];

/// Whether plain serde reads `arguments` as the arguments of the typed tool `tool`, and what
/// it reads (as JSON): what the tool must echo.
pub fn expected_echo(tool: &str, arguments: &Value) -> Option<Result<Value, String>> {
    fn read<T: serde::de::DeserializeOwned + Serialize>(v: &Value) -> Result<Value, String> {
        let typed = serde_json::from_value::<T>(v.clone()).map_err(|e| e.to_string())?;
        serde_json::to_value(typed).map_err(|e| e.to_string())
    }
    Some(match tool {
        "numbers" => read::<NumbersArgs>(arguments),
        "texts" => read::<TextsArgs>(arguments),
        "shapes" => read::<ShapesArgs>(arguments),
        "nested" => read::<NestedArgs>(arguments),
        "nothing" => read::<NothingArgs>(arguments),
        _ => return None,
    })
}

/// A file under `/srv` (a `{+path}` template).
#[resource(uri = "file:///srv/{+path}", mime_type = "text/plain")]
fn srv_file(path: String) -> Result<String, McpError> {
    match path.as_str() {
        "notes.txt" => Ok("some notes".to_owned()),
        other => Err(McpError::resource_not_found(format!("file:///srv/{other}"))),
    }
}

/// A page of a log (two `{var}` variables, one parsed as a number).
#[resource(uri = "log://{day}/{page}")]
fn log_page(day: String, page: u32) -> String {
    format!("{day} page {page}")
}

/// A fixed resource.
#[resource(uri = "config://app", name = "settings")]
fn settings() -> String {
    "debug=true".to_owned()
}

/// Languages, for completion.
fn languages(typed: &str) -> Vec<String> {
    ["rust", "python", "ruby"]
        .into_iter()
        .filter(|l| l.starts_with(typed))
        .map(str::to_owned)
        .collect()
}

/// Ask for a code review.
#[prompt(title = "Code review", complete(language = languages))]
fn code_review(
    /// The language of the code.
    language: String,
    /// The code.
    code: String,
    /// How many findings at most.
    #[arg(default = 3)]
    max: u8,
) -> Vec<PromptMessage> {
    vec![PromptMessage::user_text(format!(
        "Review this {language} code, at most {max} findings.\n{code}"
    ))]
}

/// The arguments of `region`.
#[derive(Debug, Deserialize, JsonSchema)]
struct RegionArgs {
    region: String,
    limit: Option<i64>,
}

/// A tool whose `region` argument is mirrored in `Mcp-Param-Region` (2026-07-28, T-35).
fn region_tool() -> ToolDef {
    let schema = json!({
        "type": "object",
        "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "limit": {"type": "integer", "x-mcp-header": "Limit"}
        },
        "required": ["region"]
    });
    ToolDef::from_fn("region", |_: Context, a: RegionArgs| async move {
        format!("{} {:?}", a.region, a.limit)
    })
    .description("Answers for a region")
    .input_schema(schema.as_object().cloned().unwrap_or_default())
}

/// A fresh fixture server.
pub fn server() -> McpServer {
    McpServer::builder(SERVER_NAME)
        .tool(add)
        .tool(echo)
        .tool(progress)
        .tool(numbers)
        .tool(texts)
        .tool(shapes)
        .tool(nested)
        .tool(nothing)
        .tool(region_tool())
        .resource(srv_file)
        .resource(log_page)
        .resource(settings)
        .prompt(code_review)
        .build()
        .expect("the fixture server builds")
}

/// The fixture's Streamable HTTP router (`/mcp`, default settings), built once per process.
pub fn router() -> Router {
    static ROUTER: OnceLock<Router> = OnceLock::new();
    ROUTER
        .get_or_init(|| {
            // Sessions start their sweeper on the runtime the targets run on.
            let _runtime = crate::runtime::runtime().enter();
            server().http(HttpConfig::default()).into_router()
        })
        .clone()
}
