//! Procedural macros of `mcp-server`: write MCP tools, prompts and resources as plain Rust
//! functions. Use them through `mcp_server` (`use mcp_server::prelude::*;` brings all four).
//!
//! ```no_run
//! use mcp_server::prelude::*;
//! use std::sync::atomic::{AtomicU64, Ordering};
//!
//! /// List the files of a directory.
//! #[tool(annotations(read_only))]
//! async fn list_files(
//!     /// The directory to list.
//!     path: String,
//!     /// At most this many entries (default: all).
//!     limit: Option<usize>,
//! ) -> Result<Json<Vec<String>>, std::io::Error> {
//!     let mut names = Vec::new();
//!     for entry in std::fs::read_dir(path)? {
//!         names.push(entry?.file_name().to_string_lossy().into_owned());
//!     }
//!     names.truncate(limit.unwrap_or(usize::MAX));
//!     Ok(Json(names))
//! }
//!
//! #[derive(serde::Serialize, schemars::JsonSchema)]
//! struct Deleted {
//!     path: String,
//! }
//!
//! /// Delete a file.
//! #[tool(required_scopes = ["files:delete"], annotations(destructive))]
//! async fn delete_file(path: String) -> Result<Json<Deleted>, std::io::Error> {
//!     std::fs::remove_file(&path)?;
//!     Ok(Json(Deleted { path }))
//! }
//!
//! /// State shared by the tools of an impl block.
//! struct Runs {
//!     started: AtomicU64,
//! }
//!
//! #[tools]
//! impl Runs {
//!     /// Start a run of a workflow.
//!     #[tool(min_role = "operator")]
//!     async fn start_run(&self, dag: String, ctx: &Context) -> String {
//!         ctx.progress(0.0, None, Some("starting"));
//!         let n = self.started.fetch_add(1, Ordering::SeqCst);
//!         format!("run {n} of {dag}")
//!     }
//! }
//!
//! /// Review some code.
//! #[prompt]
//! fn review(
//!     /// The code to review.
//!     code: String,
//! ) -> Vec<PromptMessage> {
//!     vec![PromptMessage::user_text(format!("Review this:\n{code}"))]
//! }
//!
//! /// A file under `/srv/files`. A `{+path}` value may hold `..`: `resolve_under` refuses any
//! /// path that leaves the directory.
//! #[resource(uri = "file:///srv/files/{+path}", mime_type = "text/plain")]
//! async fn file(path: String) -> Result<String, McpError> {
//!     let not_found = || McpError::resource_not_found(format!("file:///srv/files/{path}"));
//!     let root = std::path::Path::new("/srv/files");
//!     let found = mcp_server::registry::resolve_under(root, &path).map_err(|_| not_found())?;
//!     std::fs::read_to_string(found).map_err(|_| not_found())
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let server = McpServer::builder("files")
//!     .tool(list_files)
//!     .tool(delete_file)
//!     .tools(Runs { started: AtomicU64::new(0) })
//!     .prompt(review)
//!     .resource(file)
//!     .build()?;
//! server.serve("127.0.0.1:8000").await?;
//! # Ok(()) }
//! ```
//!
//! # What `#[tool]` makes of a function
//!
//! A function's type cannot be named, so `#[tool] fn list_files(..)` becomes a unit struct
//! `list_files` (same visibility and docs) that the builder takes: `.tool(list_files)`. The
//! function itself, signature and body exactly as written, becomes `list_files::call`:
//!
//! ```
//! # use mcp_server::prelude::*;
//! /// Add two integers.
//! #[tool]
//! fn add(a: i64, b: i64) -> i64 {
//!     a + b
//! }
//!
//! assert_eq!(add::call(2, 3), 5); // the function, callable as before
//! let def = mcp_server::IntoTool::into_tool(add); // what `.tool(add)` registers
//! assert_eq!(def.tool.name, "add");
//! assert_eq!(def.tool.description.as_deref(), Some("Add two integers."));
//! ```
//!
//! Two consequences: in the function's module, a `let add = ..` is a pattern matching the unit
//! struct (name the binding differently), and a recursive call is written `add::call(..)`.
//! `#[prompt]` and `#[resource]` do the same.
//!
//! The macros never touch the body. Beside the struct they add, in an anonymous `const _`, a
//! hidden arguments struct deriving `Deserialize` (with `deny_unknown_fields`) and `JsonSchema`,
//! and the registration. Generated code names only `::mcp_server::__private` paths; when
//! `mcp_server` is reached through a re-export, say where with `crate = "path::to::mcp_server"`.
//!
//! # Attributes
//!
//! `#[tool(..)]`, all optional:
//!
//! | attribute | meaning |
//! | --- | --- |
//! | `name = "files.list"` | the tool's name (default: the function's); 1–128 of `A-Z a-z 0-9 _ - .`, checked at compile time |
//! | `title = ".."` | a human-readable name |
//! | `description = ".."` | what the tool does (default: the doc comment) |
//! | `required_scopes = ["a", "b"]` | scopes the caller's credential must carry; string literals, checked to be scope tokens |
//! | `min_role = "operator"` | the lowest role allowed to call the tool |
//! | `annotations(read_only, destructive, idempotent, open_world, title = "..")` | behaviour hints; a bare flag is `true`, `flag = false` is written out |
//! | `icons = ["https://..", ..]` | icon URLs |
//! | `meta(key = "v", "vendor.example/key" = 3)` or `meta = expr` | `_meta`: literal pairs, or an expression of type `mcp_server::types::Meta` (a JSON object) |
//! | `crate = "path::to::mcp_server"` | where `mcp_server` is (default `::mcp_server`) |
//!
//! `#[tools(crate = "..")]` marks an impl block; its `#[tool(..)]` methods take the attributes
//! above. `#[prompt(..)]` takes `name`, `title`, `description`, `icons`, `meta`, `complete(..)`,
//! `crate`. `#[resource(..)]` takes `uri` (required), `name`, `title`, `description`,
//! `mime_type`, `icons`, `meta`, `complete(..)`, `crate`.
//!
//! # Parameters
//!
//! Plain typed parameters are the arguments. For a tool, each type implements
//! `serde::Deserialize` and `schemars::JsonSchema` (numbers, strings, `bool`, `Vec<T>`, maps, and
//! your structs and enums deriving both); the input schema (JSON Schema 2020-12, root `object`,
//! `additionalProperties: false`) is derived once, at registration. A parameter's doc comment is
//! its description; an `Option<T>` parameter is optional. `#[arg(..)]` adjusts one:
//!
//! | attribute | meaning |
//! | --- | --- |
//! | `#[arg(default)]` / `#[arg(default = expr)]` | optional, `Default::default()` / `expr` when absent; the schema shows the default |
//! | `#[arg(rename = "caseSensitive")]` | the argument's name on the wire |
//! | `#[arg(description = "..")]` | the description, instead of the doc comment |
//!
//! `#[serde(..)]` and `#[schemars(..)]` attributes on a tool parameter pass through to its field
//! of the arguments struct.
//!
//! Injected parameters are not arguments: `&Context` (or `Context`), the request's context
//! (progress, logging, cancellation, elicitation, sampling, request metadata), and in a `#[tools]`
//! impl block `&self` or `self: Arc<Self>`: the value given to `.tools(value)` (or
//! `.tools(Arc::new(value))`), shared by every call, so state that changes needs interior
//! mutability.
//!
//! Prompt arguments and template variables arrive as text: their parameters are `String` or any
//! type implementing `FromStr` (numbers, `bool`, your own); `Option<T>` and `#[arg(default)]` make
//! a prompt argument optional.
//!
//! # Return types
//!
//! | tool returns | result |
//! | --- | --- |
//! | `String`, `&'static str`, numbers, `bool`, `char` | one text block |
//! | `Json<T>` (`T: Serialize + JsonSchema`) | `structuredContent` plus its JSON as text; `outputSchema` derived from `T` |
//! | `serde_json::Value` | an object as structured content, anything else as text |
//! | `Content`, `Vec<Content>`, `CallToolResult`, `()` | as they are |
//! | `Result<T, E: Display>` | `T` as above, or `isError: true` with the error's text |
//!
//! The arguments are checked before the function runs: a wrong type, a missing field or an
//! unknown field is a tool execution error (`isError: true`) naming the field. A tool that panics
//! yields an error result; the server keeps serving.
//!
//! Prompts return `Vec<PromptMessage>`, `PromptMessage`, `GetPromptResult` or text (one user
//! message); resources return text (`String`), bytes (`Vec<u8>`, sent base64), `Json<T>`,
//! `ResourceContents`, `Vec<ResourceContents>` or `ReadResourceResult`. Either may wrap it in
//! `Result<_, E: Display>`: an `McpError` is sent as it is (e.g. `McpError::resource_not_found`),
//! any other error as an internal error with its text.
//!
//! # Completions
//!
//! `complete(argument = function)` on a prompt, or `complete(variable = function)` on a resource
//! template, answers `completion/complete` for that argument. The function is
//! `fn(&str) -> Vec<String>` or `async fn(String) -> Vec<String>` (also `Vec<&'static str>`,
//! `CompleteResult`, or a `Result` of those with `McpError`), and gets what the user typed:
//!
//! ```
//! # use mcp_server::prelude::*;
//! fn languages(typed: &str) -> Vec<String> {
//!     ["rust", "python"].into_iter().filter(|l| l.starts_with(typed)).map(String::from).collect()
//! }
//!
//! /// Review some code.
//! #[prompt(complete(language = languages))]
//! fn review(language: String, code: String) -> String {
//!     format!("Review this {language} code:\n{code}")
//! }
//! # let _ = McpServer::builder("s").prompt(review).build().unwrap();
//! ```
//!
//! # Compile-time errors
//!
//! Misuse is a compile error at the offending token, never a runtime panic: an unknown or
//! duplicate attribute, a non-literal scope or role, an invalid tool name, two tools of one name
//! in an impl block, an unsupported parameter (a reference, `impl Trait`, a pattern, `&mut self`,
//! a second context, generics) or return type, a completion for an unknown argument, a template
//! variable without a parameter and the reverse. Unsatisfied trait bounds name what is expected
//! ("`Report` cannot be returned from a tool").
//!
//! Tool names, scopes and URI templates are checked by the functions of `mcp_core::rules` and
//! `mcp_core::uri_template`, the ones the server applies at run time to what is registered by
//! hand: a value the macro accepts, the server accepts, and the reverse.

mod attrs;
mod item;
mod params;
mod prompt;
mod resource;
mod tool;
mod tools_impl;
mod util;

use proc_macro::TokenStream;

fn output(result: syn::Result<proc_macro2::TokenStream>) -> TokenStream {
    result.unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Makes a function an MCP tool: its parameters are the arguments, its doc comment the
/// description, its return value the result. Register it with `.tool(name)`.
///
/// ```
/// use mcp_server::prelude::*;
///
/// /// Say hello.
/// #[tool(title = "Greeter", annotations(read_only))]
/// async fn greet(
///     /// Who to greet.
///     name: String,
///     #[arg(default = 1)] times: usize,
///     ctx: &Context,
/// ) -> String {
///     ctx.progress(1.0, Some(1.0), None);
///     format!("Hello, {name}! ").repeat(times)
/// }
///
/// let server = McpServer::builder("hello").tool(greet).build().unwrap();
/// assert_eq!(server.tool_names(), ["greet"]);
/// ```
///
/// See the [crate docs](crate) for the attributes, parameters and return types.
#[proc_macro_attribute]
pub fn tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    output(tool::expand(attr.into(), item.into()))
}

/// Makes the `#[tool]` methods of an impl block tools that share the value through `&self`.
/// Register them with `.tools(value)`, or `.tools(Arc::new(value))` to keep a handle.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use mcp_server::prelude::*;
///
/// struct Counter {
///     count: AtomicU64,
/// }
///
/// #[tools]
/// impl Counter {
///     /// Add one and return the count.
///     #[tool]
///     fn increment(&self) -> u64 {
///         self.count.fetch_add(1, Ordering::SeqCst) + 1
///     }
///
///     /// Not a tool.
///     fn reset(&self) {
///         self.count.store(0, Ordering::SeqCst);
///     }
/// }
///
/// let counter = Arc::new(Counter { count: AtomicU64::new(0) });
/// let server = McpServer::builder("count").tools(Arc::clone(&counter)).build().unwrap();
/// assert_eq!(server.tool_names(), ["increment"]);
/// counter.reset();
/// ```
///
/// One `#[tools]` block per type; the block cannot be generic or a trait impl.
#[proc_macro_attribute]
pub fn tools(attr: TokenStream, item: TokenStream) -> TokenStream {
    output(tools_impl::expand(attr.into(), item.into()))
}

/// Makes a function an MCP prompt: its parameters are the prompt's arguments (`String`, or any
/// `FromStr` type; `Option<T>` is optional), it returns the messages. Register it with
/// `.prompt(name)`.
///
/// ```
/// use mcp_server::prelude::*;
///
/// /// Summarize a text.
/// #[prompt(title = "Summary")]
/// fn summarize(
///     /// The text.
///     text: String,
///     /// At most this many words.
///     #[arg(default = 50)]
///     words: u32,
/// ) -> Vec<PromptMessage> {
///     vec![PromptMessage::user_text(format!("Summarize in {words} words:\n{text}"))]
/// }
///
/// let p = mcp_server::IntoPrompt::into_prompt(summarize);
/// assert_eq!(p.prompt.arguments.as_ref().map(Vec::len), Some(2));
/// ```
///
/// Attributes: `name`, `title`, `description`, `icons`, `meta`, `complete(argument = f)`,
/// `crate`; see the [crate docs](crate).
#[proc_macro_attribute]
pub fn prompt(attr: TokenStream, item: TokenStream) -> TokenStream {
    output(prompt::expand(attr.into(), item.into()))
}

/// Makes a function an MCP resource (`uri = "config://app"`) or resource template
/// (`uri = "file:///{+path}"`, whose variables are bound to the parameters of the same names).
/// Register it with `.resource(name)`. A `{name}` value is one path segment (never `/`, `\`,
/// `.` or `..`); a `{+name}` value may hold `..`: confine it with
/// `mcp_server::registry::resolve_under` before touching files.
///
/// ```
/// use mcp_server::prelude::*;
///
/// /// A row of a table.
/// #[resource(uri = "db://{table}/{id}", mime_type = "application/json")]
/// async fn row(table: String, id: u64) -> Result<String, McpError> {
///     if table == "users" {
///         Ok(format!(r#"{{"id":{id}}}"#))
///     } else {
///         Err(McpError::resource_not_found(format!("db://{table}/{id}")))
///     }
/// }
///
/// let server = McpServer::builder("db").resource(row).build().unwrap();
/// # let _ = server;
/// ```
///
/// Attributes: `uri` (required), `name`, `title`, `description`, `mime_type`, `icons`, `meta`,
/// `complete(variable = f)`, `crate`; see the [crate docs](crate).
#[proc_macro_attribute]
pub fn resource(attr: TokenStream, item: TokenStream) -> TokenStream {
    output(resource::expand(attr.into(), item.into()))
}
