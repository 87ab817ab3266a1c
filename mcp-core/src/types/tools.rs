//! Tools: `tools/list`, `tools/call`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Content, Cursor, Icon, InputResponses, JsonObject, Meta};

/// A tool the client can call.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    /// The programmatic name (1–128 chars of `[A-Za-z0-9_.-]` per 2025-11-25 guidance).
    pub name: String,
    /// A human-readable name (2025-06-18).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the tool does, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema of the arguments; its root has `"type": "object"`.
    pub input_schema: JsonObject,
    /// The JSON Schema of `structuredContent` (2025-06-18); root `"type": "object"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<JsonObject>,
    /// Behaviour hints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<ToolAnnotations>,
    /// Icons (2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icons: Option<Vec<Icon>>,
    /// Execution properties such as task support (2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution: Option<ToolExecution>,
    /// Extra metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl Tool {
    /// A tool with a name and an input schema.
    pub fn new(name: impl Into<String>, input_schema: JsonObject) -> Self {
        Tool {
            name: name.into(),
            input_schema,
            ..Tool::default()
        }
    }

    /// The input schema of a tool without arguments: `{"type": "object"}`.
    pub fn no_arguments_schema() -> JsonObject {
        let mut schema = JsonObject::new();
        schema.insert("type".into(), Value::String("object".into()));
        schema
    }
}

/// Hints about a tool's behaviour. Clients must not trust them from untrusted servers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolAnnotations {
    /// A human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The tool does not modify its environment (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_hint: Option<bool>,
    /// The tool may perform destructive updates (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destructive_hint: Option<bool>,
    /// Repeated calls with the same arguments have no further effect (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent_hint: Option<bool>,
    /// The tool interacts with an open world of external entities (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_world_hint: Option<bool>,
}

/// Execution properties of a tool (2025-11-25).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolExecution {
    /// `"forbidden"` (default), `"optional"` or `"required"`: task-augmented execution support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_support: Option<String>,
}

/// The result of `tools/list`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListToolsResult {
    /// The tools.
    pub tools: Vec<Tool>,
    /// The cursor of the next page, if there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<Cursor>,
    /// Extra metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Parameters of `tools/call`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolRequestParams {
    /// The tool's name.
    pub name: String,
    /// The arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<JsonObject>,
    /// The client's answers to a previous `inputRequests`, by key (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_responses: Option<InputResponses>,
    /// The `requestState` of the previous `InputRequiredResult`, echoed verbatim (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    /// Extra metadata (may hold a `progressToken`).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl CallToolRequestParams {
    /// A call with arguments.
    pub fn new(name: impl Into<String>, arguments: Option<JsonObject>) -> Self {
        CallToolRequestParams {
            name: name.into(),
            arguments,
            ..CallToolRequestParams::default()
        }
    }
}

/// The result of `tools/call`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolResult {
    /// The unstructured result; always serialized, even when empty.
    #[serde(default)]
    pub content: Vec<Content>,
    /// The structured result (2025-06-18): an object in the legacy era, any value in 2026-07-28.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<Value>,
    /// Whether the call failed (absent means false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    /// Extra metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl CallToolResult {
    /// A successful result with one text block.
    pub fn text(text: impl Into<String>) -> Self {
        Self::success(vec![Content::text(text)])
    }

    /// A tool execution error (`isError: true`) with one text block.
    pub fn error_text(text: impl Into<String>) -> Self {
        CallToolResult {
            content: vec![Content::text(text)],
            is_error: Some(true),
            ..CallToolResult::default()
        }
    }

    /// A successful result with these blocks.
    pub fn success(content: Vec<Content>) -> Self {
        CallToolResult {
            content,
            ..CallToolResult::default()
        }
    }

    /// A successful structured result: `structuredContent` plus a text block holding the same
    /// JSON, serialized (TL-06).
    pub fn structured(value: Value) -> Self {
        CallToolResult {
            content: vec![Content::text(value.to_string())],
            structured_content: Some(value),
            ..CallToolResult::default()
        }
    }

    /// Whether this result reports a tool execution error.
    pub fn is_error(&self) -> bool {
        self.is_error == Some(true)
    }

    /// The text of the result: its text blocks, in order, joined with `"\n"`; `None` when it
    /// has no text block. Other blocks (images, audio, resources) are skipped, and so is
    /// `structuredContent`.
    ///
    /// (`CallToolResult::text(..)` builds a result; this reads one.)
    ///
    /// ```
    /// use mcp_core::types::{CallToolResult, Content};
    ///
    /// let result = CallToolResult::success(vec![
    ///     Content::text("line 1"),
    ///     Content::image("iVBORw0KGgo=", "image/png"),
    ///     Content::text("line 2"),
    /// ]);
    /// assert_eq!(result.text_content().as_deref(), Some("line 1\nline 2"));
    ///
    /// let image_only = CallToolResult::success(vec![Content::image("iVBORw0KGgo=", "image/png")]);
    /// assert_eq!(image_only.text_content(), None);
    /// ```
    pub fn text_content(&self) -> Option<String> {
        let mut texts = self.texts();
        let first = texts.next()?;
        Some(texts.fold(first.to_owned(), |mut all, t| {
            all.push('\n');
            all.push_str(t);
            all
        }))
    }

    /// The text of each text block, in order (other blocks are skipped).
    ///
    /// ```
    /// use mcp_core::types::CallToolResult;
    ///
    /// let result = CallToolResult::error_text("division by zero");
    /// assert_eq!(result.texts().collect::<Vec<_>>(), ["division by zero"]);
    /// ```
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.content.iter().filter_map(Content::as_text)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_content_is_still_serialized() {
        assert_eq!(
            serde_json::to_value(CallToolResult::default()).unwrap(),
            json!({"content": []})
        );
    }

    #[test]
    fn structured_results_carry_the_json_as_text_too() {
        let r = CallToolResult::structured(json!({"sum": 3}));
        let text = r.content[0].as_text().unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(text).unwrap(),
            json!({"sum": 3})
        );
        assert!(!r.is_error());
        assert!(CallToolResult::error_text("boom").is_error());
    }

    #[test]
    fn text_content_joins_the_text_blocks_only() {
        assert_eq!(CallToolResult::default().text_content(), None);
        assert_eq!(
            CallToolResult::text("hello").text_content().as_deref(),
            Some("hello")
        );
        assert_eq!(CallToolResult::text("").text_content().as_deref(), Some(""));
        let mixed = CallToolResult::success(vec![
            Content::audio("AAAA", "audio/wav"),
            Content::text("a"),
            Content::image("AAAA", "image/png"),
            Content::text("b\nc"),
        ]);
        assert_eq!(mixed.text_content().as_deref(), Some("a\nb\nc"));
        assert_eq!(mixed.texts().collect::<Vec<_>>(), ["a", "b\nc"]);
        let structured = CallToolResult::structured(json!({"sum": 3}));
        assert_eq!(structured.text_content().as_deref(), Some(r#"{"sum":3}"#));
        assert_eq!(
            CallToolResult::error_text("boom").text_content().as_deref(),
            Some("boom")
        );
    }
}
