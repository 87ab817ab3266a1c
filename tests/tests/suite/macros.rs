//! The macros as a new user meets them: a server of a dozen tools written with `#[tool]` and
//! `#[tools]` (free functions, an impl with state, `Option`, defaults, renames, nested structs,
//! enums, `Json<T>` output, `Result`, `&Context`, `required_scopes`), a prompt with completions,
//! a fixed resource and a templated one; served for real and driven over HTTP. Requirement ids
//! refer to `tests/spec/CHECKLIST.md`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use mcp_server::prelude::*;
use mcp_server::testing::{TestServer, spawn};
use mcp_server::{IntoTool, IntoTools};
use mcp_tests::Session;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// The server, as the docs teach it.

/// Say hello to someone.
#[tool]
fn greet(
    /// Who to greet.
    name: String,
) -> String {
    format!("Hello, {name}!")
}

/// Add two integers.
#[tool(annotations(read_only, idempotent, open_world = false))]
async fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// One search hit.
#[derive(Serialize, JsonSchema)]
struct Hit {
    /// Where it was found.
    path: String,
    /// The score, higher is better.
    score: f64,
}

/// The hits of a search.
#[derive(Serialize, JsonSchema)]
struct Hits {
    hits: Vec<Hit>,
    page: u32,
}

/// Search the index.
#[tool(title = "Search")]
async fn search(
    /// What to look for.
    query: String,
    /// At most this many hits.
    limit: Option<u32>,
    /// The page to show.
    #[arg(default = 1)]
    page: u32,
    #[arg(rename = "caseSensitive", default, description = "Match case exactly.")]
    case_sensitive: bool,
) -> Json<Hits> {
    let n = limit.unwrap_or(2);
    let query = if case_sensitive {
        query
    } else {
        query.to_lowercase()
    };
    Json(Hits {
        hits: (0..n)
            .map(|i| Hit {
                path: format!("/{query}/{i}"),
                score: 1.0 / f64::from(i + 1),
            })
            .collect(),
        page,
    })
}

/// How urgent a contact is.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Priority {
    Low,
    High,
}

/// A postal address.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct Address {
    /// Street and number.
    street: String,
    city: String,
}

/// A contact as stored.
#[derive(Debug, Serialize, JsonSchema)]
struct Contact {
    id: u64,
    name: String,
    address: Address,
    priority: Priority,
    tags: Vec<String>,
}

/// Create a contact.
#[tool(name = "contacts.create")]
fn create_contact(
    name: String,
    address: Address,
    priority: Priority,
    tags: Vec<String>,
) -> Json<Contact> {
    Json(Contact {
        id: 7,
        name,
        address,
        priority,
        tags,
    })
}

/// Divide `a` by `b`.
#[tool]
fn divide(a: f64, b: f64) -> Result<f64, String> {
    if b == 0.0 {
        Err("division by zero".to_owned())
    } else {
        Ok(a / b)
    }
}

/// What a deletion did.
#[derive(Serialize, JsonSchema)]
struct Deleted {
    path: String,
    deleted: bool,
}

/// Delete a file.
#[tool(
    description = "Delete a file (for good)",
    required_scopes = ["files:delete", "files:read"],
    min_role = "operator",
    annotations(destructive),
    icons = ["https://example.com/trash.png"],
    meta(category = "files", "example.com/level" = 3),
)]
async fn delete_file(path: String) -> Result<Json<Deleted>, std::io::Error> {
    if path.starts_with("/etc") {
        return Err(std::io::Error::other(format!("{path} is protected")));
    }
    Ok(Json(Deleted {
        path,
        deleted: true,
    }))
}

/// Who is calling, as the server sees it.
#[tool]
fn whoami(ctx: &Context) -> Value {
    json!({
        "client": ctx.client_info().map(|c| c.name.clone()),
        "protocolVersion": ctx.protocol_version().as_str(),
    })
}

/// A tool with a bug.
#[tool]
async fn explode() -> String {
    if true {
        panic!("tool bug");
    }
    "unreachable".to_owned()
}

/// Return content blocks as they are.
#[tool]
fn pixels(ctx: Context) -> Vec<Content> {
    let _ = ctx.is_cancelled();
    vec![
        Content::text("a red dot"),
        Content::image("iVBORw0KGgo=", "image/png"),
    ]
}

/// A full result, built by hand.
#[tool]
fn raw() -> CallToolResult {
    CallToolResult::error_text("raw error")
}

/// A counter shared by its tools.
struct Counter {
    count: AtomicU64,
    label: String,
}

#[tools]
impl Counter {
    /// Add to the counter and return the new value.
    #[tool]
    async fn increment(
        &self,
        /// How much to add (default 1).
        by: Option<u64>,
    ) -> u64 {
        self.count.fetch_add(by.unwrap_or(1), Ordering::SeqCst) + by.unwrap_or(1)
    }

    /// The counter's value.
    #[tool(name = "counter.current", annotations(read_only))]
    fn current(&self) -> String {
        format!("{}={}", self.label, self.count.load(Ordering::SeqCst))
    }

    /// Reset it, from an `Arc` of the value.
    #[tool]
    fn reset(self: Arc<Self>, ctx: &Context) -> Result<String, String> {
        let _ = ctx.request_id();
        self.count.store(0, Ordering::SeqCst);
        Ok(self.helper())
    }

    /// Not a tool: left as it is.
    fn helper(&self) -> String {
        format!("{} reset", self.label)
    }
}

/// The languages `code_review` knows, for completion.
fn languages(typed: &str) -> Vec<String> {
    ["rust", "python", "ruby"]
        .into_iter()
        .filter(|l| l.starts_with(typed))
        .map(str::to_owned)
        .collect()
}

/// Ask for a code review.
#[prompt(title = "Code review", complete(language = languages))]
async fn code_review(
    /// The language of the code.
    language: String,
    /// The code.
    code: String,
    /// What to focus on.
    focus: Option<String>,
    /// How many findings at most.
    #[arg(default = 3)]
    max: u8,
) -> Vec<PromptMessage> {
    let focus = focus.map(|f| format!(" Focus on {f}.")).unwrap_or_default();
    vec![PromptMessage::user_text(format!(
        "Review this {language} code, at most {max} findings.{focus}\n{code}"
    ))]
}

/// Files under `/srv`, for completion.
async fn file_names(typed: String) -> Vec<&'static str> {
    ["notes.txt", "nested/deep.txt"]
        .into_iter()
        .filter(|f| f.starts_with(&typed))
        .collect()
}

/// A file of the server.
#[resource(uri = "file:///srv/{+path}", mime_type = "text/plain", complete(path = file_names))]
async fn srv_file(path: String, ctx: &Context) -> Result<String, McpError> {
    let _ = ctx.request_id();
    match path.as_str() {
        "notes.txt" => Ok("some notes".to_owned()),
        "nested/deep.txt" => Ok("deep".to_owned()),
        other => Err(McpError::resource_not_found(format!("file:///srv/{other}"))),
    }
}

#[derive(Serialize)]
struct Settings {
    debug: bool,
}

/// The application's settings.
#[resource(uri = "config://app", name = "settings")]
fn settings() -> Json<Settings> {
    Json(Settings { debug: true })
}

/// A page of a log, by number.
#[resource(uri = "log://{day}/{page}")]
fn log_page(day: String, page: u32) -> String {
    format!("{day} page {page}")
}

fn server() -> McpServer {
    McpServer::builder("macros")
        .tool(greet)
        .tool(add)
        .tool(search)
        .tool(create_contact)
        .tool(divide)
        .tool(delete_file)
        .tool(whoami)
        .tool(explode)
        .tool(pixels)
        .tool(raw)
        .tools(Counter {
            count: AtomicU64::new(0),
            label: "c".to_owned(),
        })
        .prompt(code_review)
        .resource(srv_file)
        .resource(settings)
        .resource_template(log_page)
        .build()
        .expect("the server builds")
}

async fn start() -> (TestServer, Session) {
    let srv = spawn(server()).await.expect("server starts");
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    (srv, s)
}

async fn request(s: &Session, id: i64, method: &str, params: Value) -> Value {
    let messages = s
        .post(&json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}))
        .await
        .messages();
    messages
        .into_iter()
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("no answer to {method}"))
}

async fn call(s: &Session, id: i64, tool: &str, args: Value) -> Value {
    let messages = s.call(id, tool, args).await;
    let m = messages
        .into_iter()
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("no answer to {tool}"));
    assert!(m.get("error").is_none(), "{tool}: {m}");
    m["result"].clone()
}

fn text(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap_or_default()
}

fn tool<'a>(tools: &'a [Value], name: &str) -> &'a Value {
    tools
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no tool {name}"))
}

// ---------------------------------------------------------------------------------------------
// tools/list

#[tokio::test]
async fn tools_list_shows_names_in_order_and_schemas_from_the_signatures() {
    let (_srv, s) = start().await;
    let list = request(&s, 1, "tools/list", json!({})).await;
    let tools = list["result"]["tools"].as_array().expect("tools").clone();
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "greet",
            "add",
            "search",
            "contacts.create",
            "divide",
            "delete_file",
            "whoami",
            "explode",
            "pixels",
            "raw",
            "increment",
            "counter.current",
            "reset"
        ]
    );

    // TL-03: every input schema is a 2020-12 object schema.
    for t in &tools {
        let schema = &t["inputSchema"];
        assert_eq!(schema["type"], "object", "{t}");
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{t}"
        );
        assert_eq!(schema["additionalProperties"], false, "{t}");
        assert!(schema.get("title").is_none(), "{t}");
    }

    // Doc comments become descriptions, of the tool and of its parameters.
    // (A `#[tool]` function's name is a unit struct: local bindings need other names.)
    let listed = tool(&tools, "greet");
    assert_eq!(listed["description"], "Say hello to someone.");
    assert_eq!(
        listed["inputSchema"]["properties"]["name"],
        json!({"type": "string", "description": "Who to greet."})
    );
    assert_eq!(listed["inputSchema"]["required"], json!(["name"]));
    assert!(listed.get("outputSchema").is_none());

    // Option is optional, defaults are shown, renames apply, `#[arg(description)]` applies.
    let listed = tool(&tools, "search");
    let input = &listed["inputSchema"];
    assert_eq!(listed["title"], "Search");
    assert_eq!(input["required"], json!(["query"]));
    assert_eq!(
        input["properties"]["limit"]["description"],
        "At most this many hits."
    );
    assert_eq!(input["properties"]["page"]["default"], 1);
    assert_eq!(input["properties"]["caseSensitive"]["type"], "boolean");
    assert_eq!(input["properties"]["caseSensitive"]["default"], false);
    assert_eq!(
        input["properties"]["caseSensitive"]["description"],
        "Match case exactly."
    );
    assert!(input["properties"].get("case_sensitive").is_none());
    // Json<T> gives an output schema derived from T.
    let output = &listed["outputSchema"];
    assert_eq!(output["type"], "object");
    assert_eq!(output["required"], json!(["hits", "page"]));
    assert!(output["$defs"]["Hit"]["properties"]["score"].is_object());

    // Nested structs and enums live in $defs.
    let contact = tool(&tools, "contacts.create");
    let input = &contact["inputSchema"];
    assert_eq!(
        input["required"],
        json!(["name", "address", "priority", "tags"])
    );
    assert_eq!(input["properties"]["address"]["$ref"], "#/$defs/Address");
    assert_eq!(
        input["$defs"]["Address"]["properties"]["street"]["description"],
        "Street and number."
    );
    assert_eq!(input["$defs"]["Priority"]["enum"], json!(["low", "high"]));
    assert_eq!(input["properties"]["tags"]["type"], "array");
    assert!(contact["outputSchema"]["properties"]["address"].is_object());

    // Result<Json<T>, E> keeps T's output schema; attributes reach the listing.
    let delete = tool(&tools, "delete_file");
    assert_eq!(delete["description"], "Delete a file (for good)");
    assert_eq!(delete["annotations"], json!({"destructiveHint": true}));
    assert_eq!(
        delete["icons"],
        json!([{"src": "https://example.com/trash.png"}])
    );
    assert_eq!(
        delete["_meta"],
        json!({"category": "files", "example.com/level": 3})
    );
    assert_eq!(
        delete["outputSchema"]["required"],
        json!(["path", "deleted"])
    );
    assert_eq!(
        tool(&tools, "add")["annotations"],
        json!({"readOnlyHint": true, "idempotentHint": true, "openWorldHint": false})
    );

    // Injected parameters are not arguments; no arguments means none are accepted.
    for name in [
        "whoami",
        "explode",
        "pixels",
        "raw",
        "counter.current",
        "reset",
    ] {
        let input = &tool(&tools, name)["inputSchema"];
        assert!(
            input.get("properties").is_none_or(|p| p == &json!({})),
            "{name}: {input}"
        );
    }
    // Methods: `&self` is not an argument; parameter docs are descriptions.
    let inc = tool(&tools, "increment");
    assert_eq!(
        inc["description"],
        "Add to the counter and return the new value."
    );
    assert_eq!(
        inc["inputSchema"]["properties"]["by"]["description"],
        "How much to add (default 1)."
    );
    assert!(
        inc["inputSchema"]
            .get("required")
            .is_none_or(|r| r == &json!([]))
    );
}

#[test]
fn schemas_are_stable_and_attributes_reach_the_tool_def() {
    let a = IntoTool::into_tool(create_contact);
    let b = IntoTool::into_tool(create_contact);
    assert_eq!(
        serde_json::to_string(&a.tool).unwrap(),
        serde_json::to_string(&b.tool).unwrap()
    );
    let delete = delete_file.into_tool();
    assert_eq!(delete.required_scopes, ["files:delete", "files:read"]);
    assert_eq!(delete.min_role.as_deref(), Some("operator"));
    assert!(greet.into_tool().required_scopes.is_empty());

    // `.tools(Arc<_>)` registers the same tools over a value the caller keeps.
    let counter = Arc::new(Counter {
        count: AtomicU64::new(5),
        label: "shared".to_owned(),
    });
    let tools = Arc::clone(&counter).into_tools();
    assert_eq!(tools.len(), 3);
    assert_eq!(counter.helper(), "shared reset");
}

#[tokio::test]
async fn the_function_stays_callable() {
    assert_eq!(greet::call("Ada".to_owned()), "Hello, Ada!");
    assert_eq!(add::call(2, 3).await, 5);
    assert_eq!(divide::call(1.0, 0.0), Err("division by zero".to_owned()));
    let Json(hits) = search::call("Q".to_owned(), Some(1), 4, true).await;
    assert_eq!(hits.page, 4);
    assert_eq!(hits.hits[0].path, "/Q/0");
}

// ---------------------------------------------------------------------------------------------
// tools/call

#[tokio::test]
async fn calls_convert_every_kind_of_return_value() {
    let (_srv, s) = start().await;
    let r = call(&s, 1, "greet", json!({"name": "Ada"})).await;
    assert_eq!(
        r,
        json!({"content": [{"type": "text", "text": "Hello, Ada!"}]})
    );
    assert_eq!(
        text(&call(&s, 2, "add", json!({"a": 2, "b": 40})).await),
        "42"
    );

    // Json<T>: structuredContent plus the same JSON as text; defaults and renames apply.
    let r = call(
        &s,
        3,
        "search",
        json!({"query": "Rust", "caseSensitive": true}),
    )
    .await;
    assert_eq!(r["structuredContent"]["page"], 1);
    assert_eq!(r["structuredContent"]["hits"][0]["path"], "/Rust/0");
    assert_eq!(
        r["structuredContent"]["hits"].as_array().map(Vec::len),
        Some(2)
    );
    let r = call(
        &s,
        4,
        "search",
        json!({"query": "Rust", "limit": 1, "page": 3}),
    )
    .await;
    assert_eq!(r["structuredContent"]["hits"][0]["path"], "/rust/0");
    assert_eq!(r["structuredContent"]["page"], 3);

    // Nested structs and enums in, structured content out.
    let r = call(
        &s,
        5,
        "contacts.create",
        json!({"name": "Ada", "address": {"street": "1 Loop", "city": "London"}, "priority": "high", "tags": ["x"]}),
    )
    .await;
    assert_eq!(r["structuredContent"]["address"]["city"], "London");
    assert_eq!(r["structuredContent"]["priority"], "high");
    assert!(r.get("isError").is_none());

    // Result: Ok is the value, Err is a tool execution error with the error's text.
    assert_eq!(
        text(&call(&s, 6, "divide", json!({"a": 1, "b": 4})).await),
        "0.25"
    );
    let r = call(&s, 7, "divide", json!({"a": 1, "b": 0})).await;
    assert_eq!(r["isError"], true);
    assert_eq!(text(&r), "division by zero");
    let r = call(&s, 8, "delete_file", json!({"path": "/etc/passwd"})).await;
    assert_eq!(r["isError"], true);
    assert_eq!(text(&r), "/etc/passwd is protected");
    let r = call(&s, 9, "delete_file", json!({"path": "/tmp/x"})).await;
    assert_eq!(
        r["structuredContent"],
        json!({"path": "/tmp/x", "deleted": true})
    );

    // &Context is injected.
    let r = call(&s, 10, "whoami", json!({})).await;
    assert_eq!(r["structuredContent"]["client"], "tests");
    assert_eq!(r["structuredContent"]["protocolVersion"], "2025-11-25");

    // Content, Vec<Content> and CallToolResult as they are.
    let r = call(&s, 11, "pixels", json!({})).await;
    assert_eq!(r["content"][1]["type"], "image");
    assert_eq!(r["content"][1]["mimeType"], "image/png");
    let r = call(&s, 12, "raw", json!({})).await;
    assert_eq!(r["isError"], true);
    assert_eq!(text(&r), "raw error");
}

#[tokio::test]
async fn methods_share_the_state_of_their_value() {
    let (_srv, s) = start().await;
    assert_eq!(text(&call(&s, 1, "increment", json!({})).await), "1");
    assert_eq!(
        text(&call(&s, 2, "increment", json!({"by": 10})).await),
        "11"
    );
    assert_eq!(
        text(&call(&s, 3, "counter.current", json!({})).await),
        "c=11"
    );
    assert_eq!(text(&call(&s, 4, "reset", json!({})).await), "c reset");
    assert_eq!(
        text(&call(&s, 5, "counter.current", json!({})).await),
        "c=0"
    );
}

#[tokio::test]
async fn tl08_bad_arguments_are_tool_errors_naming_the_field() {
    let (_srv, s) = start().await;
    for (tool, args, expected) in [
        ("greet", json!({"name": 5}), "`name`"),
        ("greet", json!({}), "missing field `name`"),
        (
            "greet",
            json!({"name": "x", "nmae": "y"}),
            "unknown field `nmae`",
        ),
        ("search", json!({"query": "q", "limit": -1}), "`limit`"),
        (
            "search",
            json!({"query": "q", "case_sensitive": true}),
            "unknown field `case_sensitive`",
        ),
        (
            "contacts.create",
            json!({"name": "A", "address": {"street": "s"}, "priority": "low", "tags": []}),
            "`address`",
        ),
        (
            "contacts.create",
            json!({"name": "A", "address": {"street": "s", "city": "c"}, "priority": "urgent", "tags": []}),
            "`priority`",
        ),
        ("whoami", json!({"x": 1}), "unknown field `x`"),
        ("increment", json!({"by": "two"}), "`by`"),
    ] {
        let r = call(&s, 1, tool, args.clone()).await;
        assert_eq!(r["isError"], true, "{tool} {args}: {r}");
        assert!(
            text(&r).contains(expected),
            "{tool} {args}: {:?} lacks {expected}",
            text(&r)
        );
    }
}

#[tokio::test]
async fn a_panicking_tool_is_an_error_result_and_the_server_keeps_serving() {
    let (_srv, s) = start().await;
    let r = call(&s, 1, "explode", json!({})).await;
    assert_eq!(r["isError"], true);
    assert!(text(&r).contains("explode"), "{r}");
    assert_eq!(
        text(&call(&s, 2, "add", json!({"a": 1, "b": 1})).await),
        "2"
    );
}

// ---------------------------------------------------------------------------------------------
// prompts, resources, completions

#[tokio::test]
async fn prompts_take_their_arguments_from_the_parameters() {
    let (_srv, s) = start().await;
    let list = request(&s, 1, "prompts/list", json!({})).await;
    assert_eq!(
        list["result"]["prompts"],
        json!([{
            "name": "code_review",
            "title": "Code review",
            "description": "Ask for a code review.",
            "arguments": [
                {"name": "language", "description": "The language of the code.", "required": true},
                {"name": "code", "description": "The code.", "required": true},
                {"name": "focus", "description": "What to focus on.", "required": false},
                {"name": "max", "description": "How many findings at most.", "required": false},
            ]
        }])
    );
    let r = request(
        &s,
        2,
        "prompts/get",
        json!({"name": "code_review", "arguments": {"language": "rust", "code": "fn main() {}", "focus": "safety"}}),
    )
    .await;
    assert_eq!(
        r["result"]["messages"][0]["content"]["text"],
        "Review this rust code, at most 3 findings. Focus on safety.\nfn main() {}"
    );
    let r = request(
        &s,
        3,
        "prompts/get",
        json!({"name": "code_review", "arguments": {"language": "go", "code": "x", "max": "9"}}),
    )
    .await;
    assert_eq!(
        r["result"]["messages"][0]["content"]["text"],
        "Review this go code, at most 9 findings.\nx"
    );
    // A missing required argument and an unparsable one are -32602 naming the argument.
    let r = request(
        &s,
        4,
        "prompts/get",
        json!({"name": "code_review", "arguments": {"code": "x"}}),
    )
    .await;
    assert_eq!(r["error"]["code"], -32602);
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("language")
    );
    let r = request(
        &s,
        5,
        "prompts/get",
        json!({"name": "code_review", "arguments": {"language": "go", "code": "x", "max": "many"}}),
    )
    .await;
    assert_eq!(r["error"]["code"], -32602);
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("`max`")
    );
}

#[tokio::test]
async fn resources_and_templates_bind_their_variables() {
    let (_srv, s) = start().await;
    let list = request(&s, 1, "resources/list", json!({})).await;
    assert_eq!(
        list["result"]["resources"],
        json!([{"uri": "config://app", "name": "settings", "description": "The application's settings."}])
    );
    let list = request(&s, 2, "resources/templates/list", json!({})).await;
    assert_eq!(
        list["result"]["resourceTemplates"],
        json!([
            {"uriTemplate": "file:///srv/{+path}", "name": "srv_file", "description": "A file of the server.", "mimeType": "text/plain"},
            {"uriTemplate": "log://{day}/{page}", "name": "log_page", "description": "A page of a log, by number."},
        ])
    );
    let r = request(
        &s,
        3,
        "resources/read",
        json!({"uri": "file:///srv/nested/deep.txt"}),
    )
    .await;
    assert_eq!(
        r["result"]["contents"],
        json!([{"uri": "file:///srv/nested/deep.txt", "mimeType": "text/plain", "text": "deep"}])
    );
    let r = request(&s, 4, "resources/read", json!({"uri": "config://app"})).await;
    assert_eq!(
        r["result"]["contents"],
        json!([{"uri": "config://app", "mimeType": "application/json", "text": "{\"debug\":true}"}])
    );
    let r = request(&s, 5, "resources/read", json!({"uri": "log://monday/2"})).await;
    assert_eq!(r["result"]["contents"][0]["text"], "monday page 2");
    // A variable that does not parse is -32602; an McpError from the function is kept.
    let r = request(&s, 6, "resources/read", json!({"uri": "log://monday/two"})).await;
    assert_eq!(r["error"]["code"], -32602);
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("`page`")
    );
    let r = request(
        &s,
        7,
        "resources/read",
        json!({"uri": "file:///srv/missing"}),
    )
    .await;
    assert_eq!(r["error"]["code"], -32002);
}

#[tokio::test]
async fn completions_answer_for_prompt_arguments_and_template_variables() {
    let (_srv, s) = start().await;
    let init = mcp_tests::post(
        &s.url,
        &[],
        &json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name":"t","version":"0"}}})
        .to_string(),
    )
    .await;
    assert!(init.json()["result"]["capabilities"]["completions"].is_object());

    let r = request(
        &s,
        1,
        "completion/complete",
        json!({"ref": {"type": "ref/prompt", "name": "code_review"}, "argument": {"name": "language", "value": "r"}}),
    )
    .await;
    assert_eq!(r["result"]["completion"]["values"], json!(["rust", "ruby"]));
    let r = request(
        &s,
        2,
        "completion/complete",
        json!({"ref": {"type": "ref/resource", "uri": "file:///srv/{+path}"}, "argument": {"name": "path", "value": "ne"}}),
    )
    .await;
    assert_eq!(
        r["result"]["completion"]["values"],
        json!(["nested/deep.txt"])
    );
    // An argument without a completer has no suggestions.
    let r = request(
        &s,
        3,
        "completion/complete",
        json!({"ref": {"type": "ref/prompt", "name": "code_review"}, "argument": {"name": "code", "value": ""}}),
    )
    .await;
    assert_eq!(r["result"]["completion"]["values"], json!([]));
}

// ---------------------------------------------------------------------------------------------
// required_scopes, enforced

/// Who is calling: the subject and scopes of the credential.
#[tool]
fn caller(ctx: &Context) -> Value {
    let auth = ctx.auth();
    json!({
        "subject": auth.and_then(|a| a.subject.clone()),
        "scopes": auth.map(|a| a.scopes.iter().cloned().collect::<Vec<_>>()),
    })
}

#[tokio::test]
async fn required_scopes_are_enforced_when_authorization_is_on() {
    use mcp_server::auth::{AuthorizationConfig, JwtValidator, JwtValidatorConfig};
    use mcp_server::testing::TestIssuer;

    let issuer = TestIssuer::start().await.expect("issuer");
    let validator =
        JwtValidator::new(JwtValidatorConfig::new(issuer.issuer(), "")).expect("validator");
    let listener = mcp_server::testing::TestListener::bind()
        .await
        .expect("a port");
    let server = McpServer::builder("protected-macros")
        .authorization(
            AuthorizationConfig::enabled()
                .authorization_server(issuer.issuer())
                .resource(listener.url())
                // `delete_file` needs a role too: tokens carry it in `role` (AZ-15 aside).
                .role_claim(mcp_server::auth::RoleClaim::default())
                .validator(validator),
        )
        .tool(delete_file)
        .tool(caller)
        .build()
        .expect("builds");
    let srv = listener.spawn(server);

    async fn call_with(url: &str, token: &str, tool: &str, args: Value) -> Value {
        let bearer = format!("Bearer {token}");
        let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
            "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}});
        let r = mcp_tests::post(url, &[("authorization", &bearer)], &init.to_string()).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let sid = r.header("mcp-session-id").expect("a session").to_owned();
        let body = json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":tool,"arguments":args}});
        let r = mcp_tests::post(
            url,
            &[
                ("authorization", &bearer),
                ("mcp-session-id", &sid),
                ("mcp-protocol-version", "2025-11-25"),
            ],
            &body.to_string(),
        )
        .await;
        r.messages()
            .into_iter()
            .find(|m| m["id"] == 2)
            .expect("an answer")
    }

    let read = issuer
        .token(&srv.url())
        .scope("files:read")
        .claim("role", json!("operator"))
        .sign();
    let r = call_with(&srv.url(), &read, "delete_file", json!({"path": "/tmp/x"})).await;
    assert_eq!(r["result"]["isError"], true, "{r}");
    assert!(text(&r["result"]).contains("files:delete"), "{r}");

    let both = issuer
        .token(&srv.url())
        .scope("files:read files:delete")
        .claim("role", json!("operator"))
        .sign();
    let r = call_with(&srv.url(), &both, "delete_file", json!({"path": "/tmp/x"})).await;
    assert_eq!(r["result"]["structuredContent"]["deleted"], true, "{r}");

    let r = call_with(&srv.url(), &both, "caller", json!({})).await;
    assert_eq!(
        r["result"]["structuredContent"]["scopes"],
        json!(["files:delete", "files:read"]),
        "{r}"
    );
}

// ---------------------------------------------------------------------------------------------
// Registration of hand-written definitions next to macro ones

#[tokio::test]
async fn hand_written_definitions_register_beside_macro_ones() {
    use mcp_server::BuildError;
    use mcp_server::types::{CompleteResult, Prompt, ResourceTemplate};

    // A template that does not parse fails `build()`, not the builder call.
    let bad = ResourceTemplateDef::new(ResourceTemplate::new("x://{a", "bad"), |_, uri, _| async {
        Ok(vec![ResourceContents::text(uri, None, "never")])
    });
    let err = McpServer::builder("bad").resource(bad).build().err();
    assert!(
        matches!(err, Some(BuildError::InvalidUriTemplate(_))),
        "{err:?}"
    );

    // A server-wide completion handler answers what no completer does.
    let server = McpServer::builder("mixed")
        .prompt(code_review)
        .prompt(
            PromptDef::new(Prompt::new("plain"), |_, _| async {
                Ok(vec![PromptMessage::user_text("plain")])
            })
            .argument("topic", "The topic", true),
        )
        .resource(srv_file)
        .completion(CompletionHandler::new(|_, params| async move {
            Ok(CompleteResult::new(vec![format!(
                "fallback:{}",
                params.argument.name
            )]))
        }))
        .build()
        .expect("builds");
    let srv = spawn(server).await.expect("starts");
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let r = request(
        &s,
        1,
        "completion/complete",
        json!({"ref": {"type": "ref/prompt", "name": "code_review"}, "argument": {"name": "language", "value": "py"}}),
    )
    .await;
    assert_eq!(r["result"]["completion"]["values"], json!(["python"]));
    let r = request(
        &s,
        2,
        "completion/complete",
        json!({"ref": {"type": "ref/prompt", "name": "plain"}, "argument": {"name": "topic", "value": ""}}),
    )
    .await;
    assert_eq!(
        r["result"]["completion"]["values"],
        json!(["fallback:topic"])
    );
    let r = request(
        &s,
        3,
        "prompts/get",
        json!({"name": "plain", "arguments": {"topic": "x"}}),
    )
    .await;
    assert_eq!(r["result"]["messages"][0]["content"]["text"], "plain");
}
