//! Tools: their description ([`ToolDef`]), how they are called ([`ToolHandler`]), how arguments
//! are read ([`parse_arguments`]) and how return values become results ([`IntoToolResult`]).

use std::fmt::Display;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use mcp_core::types::{CallToolResult, Content, Icon, JsonObject, Meta, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::BoxFuture;
use crate::context::Context;
use crate::schema::{object_schema_for, output_schema_for};

/// Calls a tool. Implemented for you by [`ToolDef::from_fn`] and by the `#[tool]` macro.
pub trait ToolHandler: Send + Sync + 'static {
    /// Runs the tool with the raw `arguments` of the `tools/call` request.
    fn call(
        &self,
        ctx: Context,
        arguments: Option<JsonObject>,
    ) -> BoxFuture<'static, CallToolResult>;
}

/// A registered tool: what `tools/list` shows, what the call needs, and the handler.
#[derive(Clone)]
pub struct ToolDef {
    /// The tool as `tools/list` shows it.
    pub tool: Tool,
    /// Scopes the caller's credential must carry to call the tool.
    pub required_scopes: Vec<String>,
    /// The lowest role allowed to call the tool, when roles are in use.
    pub min_role: Option<String>,
    /// Tasks extension: how long a task-routed call may run on the request before it becomes a
    /// task (see [`ToolDef::task_after`]).
    pub(crate) task_after: std::time::Duration,
    handler: Arc<dyn ToolHandler>,
}

impl std::fmt::Debug for ToolDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolDef")
            .field("tool", &self.tool)
            .field("required_scopes", &self.required_scopes)
            .field("min_role", &self.min_role)
            .finish_non_exhaustive()
    }
}

impl ToolDef {
    /// What the tool demands of its caller, for the per-tool policy.
    pub(crate) fn requirements(&self) -> crate::auth::ToolRequirements<'_> {
        crate::auth::ToolRequirements {
            name: &self.tool.name,
            scopes: &self.required_scopes,
            min_role: self.min_role.as_deref(),
        }
    }

    /// A tool from its description and a handler.
    pub fn new(tool: Tool, handler: impl ToolHandler) -> Self {
        ToolDef {
            tool,
            required_scopes: Vec::new(),
            min_role: None,
            task_after: std::time::Duration::ZERO,
            handler: Arc::new(handler),
        }
    }

    /// A tool whose arguments are the fields of `A` (schema derived once, here) and whose body is
    /// an async closure.
    ///
    /// ```
    /// use mcp_server::{Context, ToolDef};
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Add { a: i64, b: i64 }
    /// let add = ToolDef::from_fn("add", |_ctx: Context, Add { a, b }| async move { (a + b).to_string() })
    ///     .description("Add two integers");
    /// assert_eq!(add.tool.input_schema["type"], "object");
    /// ```
    pub fn from_fn<A, F, Fut, R>(name: impl Into<String>, f: F) -> Self
    where
        A: DeserializeOwned + JsonSchema + Send + 'static,
        F: Fn(Context, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoToolResult,
    {
        let tool = Tool {
            name: name.into(),
            input_schema: object_schema_for::<A>(),
            output_schema: R::output_schema(),
            ..Tool::default()
        };
        ToolDef::new(
            tool,
            FnTool {
                f,
                _args: std::marker::PhantomData,
            },
        )
    }

    /// Sets the description.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.tool.description = Some(description.into());
        self
    }

    /// Sets the human-readable title.
    #[must_use]
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.tool.title = Some(title.into());
        self
    }

    /// Sets the behaviour hints.
    #[must_use]
    pub fn annotations(mut self, annotations: ToolAnnotations) -> Self {
        self.tool.annotations = Some(annotations);
        self
    }

    /// Sets the icons.
    #[must_use]
    pub fn icons(mut self, icons: Vec<Icon>) -> Self {
        self.tool.icons = Some(icons);
        self
    }

    /// Sets `_meta`.
    #[must_use]
    pub fn meta(mut self, meta: Meta) -> Self {
        self.tool.meta = Some(meta);
        self
    }

    /// Replaces the input schema (root must be `"type": "object"`; checked at build time).
    #[must_use]
    pub fn input_schema(mut self, schema: JsonObject) -> Self {
        self.tool.input_schema = schema;
        self
    }

    /// Sets the output schema.
    #[must_use]
    pub fn output_schema(mut self, schema: JsonObject) -> Self {
        self.tool.output_schema = Some(schema);
        self
    }

    /// Requires these scopes of the caller.
    #[must_use]
    pub fn required_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.required_scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Requires at least this role of the caller.
    #[must_use]
    pub fn min_role(mut self, role: impl Into<String>) -> Self {
        self.min_role = Some(role.into());
        self
    }

    // --- tasks extension (SEP-2663), see `crate::tasks` ---

    /// Lets the tool run as a task (`execution.taskSupport` in `tools/list`): with
    /// [`TaskSupport::Optional`] or `Required`, a 2026-07-28
    /// `tools/call` that declares the `io.modelcontextprotocol/tasks` extension answers a
    /// `CreateTaskResult` and the handler runs in the background; `Required` refuses calls
    /// without the extension (`-32021`).
    #[must_use]
    pub fn task_support(mut self, support: TaskSupport) -> Self {
        let execution = self.tool.execution.get_or_insert_with(Default::default);
        execution.task_support = match support {
            TaskSupport::Forbidden => None,
            other => Some(other.as_str().to_owned()),
        };
        if execution.task_support.is_none() {
            self.tool.execution = None;
        }
        self
    }

    /// How long a task-routed call runs on the request before it becomes a task (default
    /// zero: a task at once). A handler that ends within `window` answers on the request as if
    /// tasks were off, including multi-round-trip `input_required` rounds, so a tool can gather
    /// its input first and only then become a task.
    #[must_use]
    pub fn task_after(mut self, window: std::time::Duration) -> Self {
        self.task_after = window;
        self
    }

    /// The tool's task support level (from `execution.taskSupport`).
    pub fn task_support_level(&self) -> TaskSupport {
        TaskSupport::parse(
            self.tool
                .execution
                .as_ref()
                .and_then(|e| e.task_support.as_deref()),
        )
    }

    /// Runs the handler without turning a panic into a result (task runs record it as
    /// `failed`).
    pub(crate) fn call_unguarded(
        &self,
        ctx: Context,
        arguments: Option<JsonObject>,
    ) -> BoxFuture<'static, CallToolResult> {
        self.handler.call(ctx, arguments)
    }

    // --- end tasks extension ---

    /// The tool's name.
    pub fn name(&self) -> &str {
        &self.tool.name
    }

    /// The arguments mirrored into `Mcp-Param-<Name>` headers (2026-07-28, T-35): top-level
    /// properties whose schema carries `"x-mcp-header": "<Name>"`, as `(property, Name)`.
    pub fn header_params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.tool
            .input_schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(prop, schema)| {
                let name = schema.get("x-mcp-header")?.as_str()?;
                Some((prop.as_str(), name))
            })
    }

    /// Runs the handler; a panic becomes an error result and never reaches the transport.
    pub(crate) fn call(
        &self,
        ctx: Context,
        arguments: Option<JsonObject>,
    ) -> BoxFuture<'static, CallToolResult> {
        let name = self.tool.name.clone();
        let fut = AssertUnwindSafe(self.handler.call(ctx, arguments)).catch_unwind();
        Box::pin(async move {
            fut.await.unwrap_or_else(|payload| {
                let panic = crate::error::panic_message(payload.as_ref());
                tracing::error!(tool = %name, panic, "tool panicked");
                CallToolResult::error_text(format!("Tool \"{name}\" failed unexpectedly"))
            })
        })
    }
}

struct FnTool<F, A> {
    f: F,
    _args: std::marker::PhantomData<fn() -> A>,
}

impl<A, F, Fut, R> ToolHandler for FnTool<F, A>
where
    A: DeserializeOwned + Send + 'static,
    F: Fn(Context, A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoToolResult,
{
    fn call(
        &self,
        ctx: Context,
        arguments: Option<JsonObject>,
    ) -> BoxFuture<'static, CallToolResult> {
        match parse_arguments::<A>(arguments) {
            Ok(args) => {
                let fut = (self.f)(ctx, args);
                Box::pin(async move { fut.await.into_tool_result() })
            }
            Err(e) => Box::pin(std::future::ready(e)),
        }
    }
}

/// Reads a tool's arguments into `A`. A wrong type, a missing field or an unknown field (when `A`
/// denies them) becomes a tool execution error naming the field (TL-08), not a protocol error.
pub fn parse_arguments<A: DeserializeOwned>(
    arguments: Option<JsonObject>,
) -> Result<A, CallToolResult> {
    let empty = arguments.as_ref().is_none_or(JsonObject::is_empty);
    let value = Value::Object(arguments.unwrap_or_default());
    let parsed = serde_path_to_error::deserialize(value).or_else(|e| {
        // `()` and other unit-like argument types read "no arguments" as `null`.
        match A::deserialize(Value::Null) {
            Ok(a) if empty => Ok(a),
            _ => Err(e),
        }
    });
    parsed.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let text = if path == "." || path.is_empty() {
            format!("Invalid arguments: {inner}")
        } else {
            format!("Invalid arguments: `{path}`: {inner}")
        };
        CallToolResult::error_text(text)
    })
}

/// The arguments of a tool that takes none: accepts `{}` (or no `arguments` at all) and
/// rejects any field. Its schema is `{"type":"object","additionalProperties":false}` (TL-03).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

/// A tool return value that becomes structured content plus its JSON text, with an output schema
/// derived from `T`.
#[derive(Debug, Clone, PartialEq)]
pub struct Json<T>(pub T);

/// A tool failure with a message for the caller (`isError: true`). Any `Result<T, E>` with
/// `E: Display` works too; this is a ready-made `E`.
///
/// ```
/// use mcp_server::ToolError;
/// fn check(path: &str) -> Result<String, ToolError> {
///     if path.is_empty() {
///         return Err(ToolError::new("path is empty"));
///     }
///     Ok(path.to_owned())
/// }
/// assert_eq!(check("").unwrap_err().to_string(), "path is empty");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolError(String);

impl ToolError {
    /// An error with this message (keep secrets out of it: the client sees it).
    pub fn new(message: impl std::fmt::Display) -> Self {
        ToolError(message.to_string())
    }
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ToolError {}

impl From<String> for ToolError {
    fn from(s: String) -> Self {
        ToolError(s)
    }
}

impl From<&str> for ToolError {
    fn from(s: &str) -> Self {
        ToolError(s.to_owned())
    }
}

impl From<std::io::Error> for ToolError {
    fn from(e: std::io::Error) -> Self {
        ToolError(e.to_string())
    }
}

impl From<serde_json::Error> for ToolError {
    fn from(e: serde_json::Error) -> Self {
        ToolError(e.to_string())
    }
}

/// Turns what a tool returns into a `tools/call` result.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a tool",
    label = "tools return text, Vec<String>, Json<T>, Content, Vec<Content>, CallToolResult, or Result<T, E: Display> of those",
    note = "wrap a serializable value in `Json(..)` to return structured content"
)]
pub trait IntoToolResult: Send + 'static {
    /// The result.
    fn into_tool_result(self) -> CallToolResult;

    /// The `outputSchema` this return type implies, if any.
    fn output_schema() -> Option<JsonObject> {
        None
    }
}

impl IntoToolResult for CallToolResult {
    fn into_tool_result(self) -> CallToolResult {
        self
    }
}

impl IntoToolResult for Content {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success(vec![self])
    }
}

impl IntoToolResult for Vec<Content> {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success(self)
    }
}

/// Several lines of text: one text block each.
impl IntoToolResult for Vec<String> {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success(self.into_iter().map(Content::text).collect())
    }
}

impl IntoToolResult for String {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::text(self)
    }
}

impl IntoToolResult for &'static str {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::text(self)
    }
}

impl IntoToolResult for () {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success(Vec::new())
    }
}

macro_rules! display_result {
    ($($t:ty),*) => {$(
        impl IntoToolResult for $t {
            fn into_tool_result(self) -> CallToolResult {
                CallToolResult::text(self.to_string())
            }
        }
    )*};
}
display_result!(
    bool, i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64, char
);

impl IntoToolResult for Value {
    fn into_tool_result(self) -> CallToolResult {
        match self {
            Value::Object(_) => CallToolResult::structured(self),
            Value::String(s) => CallToolResult::text(s),
            other => CallToolResult::text(other.to_string()),
        }
    }
}

impl<T: Serialize + JsonSchema + Send + 'static> IntoToolResult for Json<T> {
    fn into_tool_result(self) -> CallToolResult {
        match serde_json::to_value(&self.0) {
            Ok(v @ Value::Object(_)) => CallToolResult::structured(v),
            // Legacy structuredContent must be an object: wrap other values.
            Ok(v) => CallToolResult::structured(serde_json::json!({ "result": v })),
            Err(e) => CallToolResult::error_text(format!("Failed to serialize the result: {e}")),
        }
    }

    fn output_schema() -> Option<JsonObject> {
        output_schema_for::<T>()
    }
}

impl<T: IntoToolResult, E: Display + Send + 'static> IntoToolResult for Result<T, E> {
    fn into_tool_result(self) -> CallToolResult {
        match self {
            Ok(v) => v.into_tool_result(),
            Err(e) => CallToolResult::error_text(e.to_string()),
        }
    }

    fn output_schema() -> Option<JsonObject> {
        T::output_schema()
    }
}

impl<T: IntoToolResult> IntoToolResult for Option<T> {
    fn into_tool_result(self) -> CallToolResult {
        match self {
            Some(v) => v.into_tool_result(),
            None => CallToolResult::success(Vec::new()),
        }
    }

    fn output_schema() -> Option<JsonObject> {
        T::output_schema()
    }
}

/// Something that can be registered as one tool: a [`ToolDef`], or what `#[tool]` generates.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a tool",
    label = "mark the fn `#[tool]`, or build a `ToolDef`",
    note = "an impl block of tools registers with `.tools(value)` after `#[tools]`"
)]
pub trait IntoTool {
    /// The tool.
    fn into_tool(self) -> ToolDef;
}

impl IntoTool for ToolDef {
    fn into_tool(self) -> ToolDef {
        self
    }
}

/// Something that registers several tools at once: what `#[tools]` generates for an impl block.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a set of tools",
    label = "mark its impl block `#[tools]`",
    note = "a single fn registers with `.tool(name)` after `#[tool]`"
)]
pub trait IntoTools {
    /// The tools.
    fn into_tools(self) -> Vec<ToolDef>;
}

impl IntoTools for Vec<ToolDef> {
    fn into_tools(self) -> Vec<ToolDef> {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuzzing finding (fuzz/regressions/tool_arguments/float-ulp): serde_json's default float
    /// parsing may land an ULP off, so a `tools/call` whose `f64` argument was written
    /// `4.5000000000000005e+300` ran the tool with `4.500000000000001e300`. With
    /// `float_roundtrip` (the workspace's serde_json) the number written is the number read.
    /// Run alone (`cargo test -p mcp-server`): in a workspace test run, jsonschema (a dev
    /// dependency of mcp-core) turns `float_roundtrip` on whatever the workspace says.
    #[test]
    fn float_arguments_arrive_exactly() {
        #[derive(serde::Deserialize)]
        struct Args {
            x: f64,
        }
        for x in [
            4.5e300_f64,
            4.500_000_000_000_000_5e300,
            0.1,
            1.797_693_134_862_315_7e308,
            5e-324,
            -123_456.789_012_345_67,
        ] {
            let body = format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"t","arguments":{{"x":{}}}}}}}"#,
                serde_json::to_string(&x).unwrap()
            );
            let Ok(mcp_core::jsonrpc::Payload::Single(Ok(mcp_core::jsonrpc::Message::Request(r)))) =
                mcp_core::jsonrpc::parse_payload(body.as_bytes())
            else {
                panic!("{body}")
            };
            let arguments = r.params.unwrap()["arguments"].as_object().cloned();
            let Ok(args) = parse_arguments::<Args>(arguments) else {
                panic!("{body}")
            };
            assert_eq!(args.x, x, "{body}");
        }
    }

    #[derive(serde::Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Args {
        a: i64,
        b: Option<String>,
    }

    fn obj(v: Value) -> Option<JsonObject> {
        v.as_object().cloned()
    }

    fn error_text(r: CallToolResult) -> String {
        assert_eq!(r.is_error, Some(true));
        match &r.content[0] {
            Content::Text(t) => t.text.clone(),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn argument_errors_name_the_field() {
        let e = parse_arguments::<Args>(obj(serde_json::json!({"a": "x"})))
            .err()
            .unwrap();
        assert!(error_text(e).contains("`a`"));
        let e = parse_arguments::<Args>(obj(serde_json::json!({})))
            .err()
            .unwrap();
        assert!(error_text(e).contains("missing field `a`"));
        let e = parse_arguments::<Args>(obj(serde_json::json!({"a": 1, "zz": 1})))
            .err()
            .unwrap();
        assert!(error_text(e).contains("unknown field `zz`"));
        assert!(parse_arguments::<Args>(obj(serde_json::json!({"a": 1}))).is_ok());
        assert!(parse_arguments::<()>(None).is_ok());
        assert!(parse_arguments::<()>(obj(serde_json::json!({}))).is_ok());
        assert!(parse_arguments::<()>(obj(serde_json::json!({"x": 1}))).is_err());
    }

    #[test]
    fn results_convert() {
        assert_eq!(
            Ok::<_, String>(3).into_tool_result(),
            CallToolResult::text("3")
        );
        assert_eq!(error_text(Err::<i32, _>("boom").into_tool_result()), "boom");
        let r = Json(serde_json::json!({"x": 1})).into_tool_result();
        assert_eq!(r.structured_content, Some(serde_json::json!({"x": 1})));
    }
}

/// How a tool takes part in tasks (`execution.taskSupport` in `tools/list`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum TaskSupport {
    /// Never runs as a task (the default).
    #[default]
    Forbidden,
    /// Runs as a task when the client declares the tasks extension, synchronously otherwise.
    Optional,
    /// Only runs as a task: a call without the extension is `-32021`.
    Required,
}

impl TaskSupport {
    /// The wire name: `forbidden`, `optional`, `required`.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskSupport::Forbidden => "forbidden",
            TaskSupport::Optional => "optional",
            TaskSupport::Required => "required",
        }
    }

    /// Reads a wire name; anything unknown is `Forbidden`.
    pub fn parse(name: Option<&str>) -> Self {
        match name {
            Some("optional") => TaskSupport::Optional,
            Some("required") => TaskSupport::Required,
            _ => TaskSupport::Forbidden,
        }
    }
}

/// The tools of a value shared behind an [`Arc`]: what `#[tools]` implements for the type of
/// an impl block, and what hand-written code implements to register a family of tools over
/// shared state with `.tools(Arc::new(state))`.
///
/// ```
/// use std::sync::Arc;
/// use mcp_server::{Context, McpServer, NoArgs, ToolDef, ToolSet};
///
/// struct Counter(std::sync::atomic::AtomicU64);
///
/// impl ToolSet for Counter {
///     fn tool_defs(this: Arc<Self>) -> Vec<ToolDef> {
///         vec![ToolDef::from_fn("next", move |_: Context, NoArgs {}| {
///             let this = Arc::clone(&this);
///             async move { this.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst) }
///         })]
///     }
/// }
///
/// let server = McpServer::builder("counter")
///     .tools(Arc::new(Counter(0.into())))
///     .build()?;
/// assert_eq!(server.tool_names(), ["next"]);
/// # Ok::<(), mcp_server::BuildError>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no tools",
    label = "mark an `impl {Self}` block with `#[tools]` and its tool methods with `#[tool]`"
)]
pub trait ToolSet: Send + Sync + Sized + 'static {
    /// One tool per `#[tool]` method, each holding a clone of `this`.
    fn tool_defs(this: Arc<Self>) -> Vec<ToolDef>;
}

/// `.tools(Arc::new(state))`: the tools of a `#[tools]` impl block over shared state.
impl<T: ToolSet> IntoTools for Arc<T> {
    fn into_tools(self) -> Vec<ToolDef> {
        T::tool_defs(self)
    }
}
