//! Hand-written messages in the style of the specification's examples: each deserializes into
//! the Rust types, re-serializes to exactly the same JSON, and is valid against the schema.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Spec, assert_valid, parse_exact};
use mcp_core::RequestId;
use mcp_core::types::*;
use serde_json::json;

#[test]
fn initialize_exchange_from_the_lifecycle_page() {
    let request = json!({
        "protocolVersion": "2025-11-25",
        "capabilities": {
            "roots": {"listChanged": true},
            "sampling": {},
            "elicitation": {"form": {}, "url": {}},
            "tasks": {"requests": {"elicitation": {"create": {}}, "sampling": {"createMessage": {}}}}
        },
        "clientInfo": {
            "name": "ExampleClient",
            "title": "Example Client Display Name",
            "version": "1.0.0",
            "description": "An example MCP client application",
            "icons": [{"src": "https://example.com/icon.png", "mimeType": "image/png", "sizes": ["48x48"]}],
            "websiteUrl": "https://example.com"
        }
    });
    assert_valid(Spec::V2025_11_25, "InitializeRequestParams", &request);
    let params: InitializeRequestParams = parse_exact(request);
    assert_eq!(params.client_info.name, "ExampleClient");
    assert_eq!(
        params.capabilities.roots.and_then(|r| r.list_changed),
        Some(true)
    );

    let result = json!({
        "protocolVersion": "2025-11-25",
        "capabilities": {
            "logging": {},
            "prompts": {"listChanged": true},
            "resources": {"subscribe": true, "listChanged": true},
            "tools": {"listChanged": true},
            "tasks": {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}
        },
        "serverInfo": {
            "name": "ExampleServer",
            "title": "Example Server Display Name",
            "version": "1.0.0"
        },
        "instructions": "Optional instructions for the client"
    });
    assert_valid(Spec::V2025_11_25, "InitializeResult", &result);
    let result: InitializeResult = parse_exact(result);
    assert_eq!(result.capabilities.resources.unwrap().subscribe, Some(true));
}

#[test]
fn a_2025_03_26_client_is_understood() {
    // No title, no elicitation, no icons: the oldest legacy shape still parses.
    let params: InitializeRequestParams = parse_exact(json!({
        "protocolVersion": "2025-03-26",
        "capabilities": {"roots": {"listChanged": true}, "sampling": {}},
        "clientInfo": {"name": "old-client", "version": "0.9"}
    }));
    assert_eq!(params.protocol_version, "2025-03-26");
    assert!(params.capabilities.elicitation.is_none());
}

#[test]
fn tools_list_and_call_from_the_tools_page() {
    let list = json!({
        "tools": [{
            "name": "get_weather",
            "title": "Weather Information Provider",
            "description": "Get current weather information for a location",
            "inputSchema": {
                "type": "object",
                "properties": {"location": {"type": "string", "description": "City name or zip code"}},
                "required": ["location"]
            },
            "icons": [{"src": "https://example.com/weather-icon.png", "mimeType": "image/png", "sizes": ["48x48"]}],
            "execution": {"taskSupport": "optional"}
        }],
        "nextCursor": "next-page-cursor"
    });
    assert_valid(Spec::V2025_11_25, "ListToolsResult", &list);
    let list: ListToolsResult = parse_exact(list);
    assert_eq!(list.tools[0].input_schema["required"], json!(["location"]));

    let call: CallToolRequestParams = parse_exact(json!({
        "name": "get_weather",
        "arguments": {"location": "New York"}
    }));
    assert_eq!(call.arguments.unwrap()["location"], "New York");

    let result = json!({
        "content": [{"type": "text", "text": "{\"temperature\": 22.5, \"conditions\": \"Partly cloudy\", \"humidity\": 65}"}],
        "structuredContent": {"temperature": 22.5, "conditions": "Partly cloudy", "humidity": 65}
    });
    assert_valid(Spec::V2025_06_18, "CallToolResult", &result);
    let result: CallToolResult = parse_exact(result);
    assert!(!result.is_error());

    let failure: CallToolResult = parse_exact(json!({
        "content": [{"type": "text", "text": "Failed to fetch weather data: API rate limit exceeded"}],
        "isError": true
    }));
    assert!(failure.is_error());

    let mixed: CallToolResult = parse_exact(json!({
        "content": [
            {"type": "resource_link", "uri": "file:///project/src/main.rs", "name": "main.rs",
             "description": "Primary application entry point", "mimeType": "text/x-rust"},
            {"type": "resource", "resource": {"uri": "file:///project/src/lib.rs", "mimeType": "text/x-rust",
             "text": "fn main() {}"}, "annotations": {"audience": ["user", "assistant"], "priority": 0.7,
             "lastModified": "2025-05-03T14:30:00Z"}}
        ]
    }));
    assert!(matches!(mixed.content[0], Content::ResourceLink(_)));
    assert!(matches!(mixed.content[1], Content::Resource(_)));
}

#[test]
fn resources_from_the_resources_page() {
    let read: ReadResourceResult = parse_exact(json!({
        "contents": [
            {"uri": "file:///project/src/main.rs", "mimeType": "text/x-rust",
             "text": "fn main() {\n    println!(\"Hello world!\");\n}"},
            {"uri": "file:///example.png", "mimeType": "image/png", "blob": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB"}
        ]
    }));
    assert!(read.contents[0].as_text().unwrap().starts_with("fn main()"));
    assert!(matches!(read.contents[1], ResourceContents::Blob(_)));
    assert_eq!(read.contents[1].mime_type(), Some("image/png"));

    let templates: ListResourceTemplatesResult = parse_exact(json!({
        "resourceTemplates": [{
            "uriTemplate": "file:///{path}",
            "name": "Project Files",
            "title": "📁 Project Files",
            "description": "Access files in the project directory",
            "mimeType": "application/octet-stream"
        }]
    }));
    assert_eq!(
        templates.resource_templates[0].uri_template,
        "file:///{path}"
    );
}

#[test]
fn prompt_get_from_the_prompts_page() {
    let result: GetPromptResult = parse_exact(json!({
        "description": "Code review prompt",
        "messages": [{
            "role": "user",
            "content": {"type": "text", "text": "Please review this Python code:\ndef hello():\n    print('world')"}
        }]
    }));
    assert_eq!(result.messages[0].role, Role::User);
}

#[test]
fn sampling_from_the_sampling_page() {
    let request = json!({
        "messages": [
            {"role": "user", "content": {"type": "text", "text": "What's the weather like in Paris and London?"}},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "call_abc123", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "call_def456", "name": "get_weather", "input": {"city": "London"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "toolUseId": "call_abc123",
                 "content": [{"type": "text", "text": "Weather in Paris: 18°C, partly cloudy"}]},
                {"type": "tool_result", "toolUseId": "call_def456",
                 "content": [{"type": "text", "text": "Weather in London: 15°C, rainy"}]}
            ]}
        ],
        "tools": [{"name": "get_weather", "description": "Get current weather for a city",
                   "inputSchema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}],
        "toolChoice": {"mode": "auto"},
        "modelPreferences": {"hints": [{"name": "claude-3-sonnet"}], "intelligencePriority": 0.8, "speedPriority": 0.5},
        "systemPrompt": "You are a helpful assistant.",
        "maxTokens": 1000
    });
    assert_valid(Spec::V2025_11_25, "CreateMessageRequestParams", &request);
    let params: CreateMessageRequestParams = parse_exact(request);
    assert_eq!(params.messages[1].content.blocks().len(), 2);
    assert!(matches!(
        params.messages[2].content.blocks()[0],
        SamplingMessageContentBlock::ToolResult(_)
    ));

    let result: CreateMessageResult = parse_exact(json!({
        "role": "assistant",
        "content": {"type": "text", "text": "The capital of France is Paris."},
        "model": "claude-3-sonnet-20240307",
        "stopReason": "endTurn"
    }));
    assert_eq!(result.content.text(), "The capital of France is Paris.");
}

#[test]
fn elicitation_from_the_elicitation_page() {
    // A 2025-06-18 server sends no `mode`.
    let form: ElicitRequestParams = parse_exact(json!({
        "message": "Please provide your GitHub username",
        "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    }));
    assert!(matches!(form, ElicitRequestParams::Form(_)));
    // A 2025-11-25 server may send `"mode": "form"`; it is accepted (and omitted on output).
    let explicit: ElicitRequestParams = serde_json::from_value(json!({
        "mode": "form",
        "message": "Please provide your GitHub username",
        "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    }))
    .unwrap();
    assert_eq!(explicit, form);

    let url: ElicitRequestParams = parse_exact(json!({
        "mode": "url",
        "elicitationId": "550e8400-e29b-41d4-a716-446655440000",
        "url": "https://mcp.example.com/ui/set_api_key",
        "message": "Please provide your API key to continue."
    }));
    assert_eq!(url.message(), "Please provide your API key to continue.");

    let accepted: ElicitResult =
        parse_exact(json!({"action": "accept", "content": {"name": "octocat"}}));
    assert_eq!(accepted.action, ElicitAction::Accept);
}

#[test]
fn utilities_from_the_utility_pages() {
    let log: LoggingMessageNotificationParams = parse_exact(json!({
        "level": "error",
        "logger": "database",
        "data": {"error": "Connection failed", "details": {"host": "localhost", "port": 5432}}
    }));
    assert!(log.level >= LoggingLevel::Warning);

    // The example's integers parse into `f64` (and re-serialize as 50.0 / 100.0).
    let progress: ProgressNotificationParams = serde_json::from_value(json!({
        "progressToken": "abc123", "progress": 50, "total": 100, "message": "Reticulating splines..."
    }))
    .unwrap();
    assert_eq!((progress.progress, progress.total), (50.0, Some(100.0)));
    let progress: ProgressNotificationParams = parse_exact(json!({
        "progressToken": "abc123", "progress": 50.0, "total": 100.0, "message": "Reticulating splines..."
    }));
    assert_eq!(progress.progress_token, RequestId::from("abc123"));

    let cancelled: CancelledNotificationParams =
        parse_exact(json!({"requestId": "123", "reason": "User requested cancellation"}));
    assert_eq!(cancelled.request_id, Some(RequestId::from("123")));

    let complete: CompleteRequestParams = parse_exact(json!({
        "ref": {"type": "ref/prompt", "name": "code_review"},
        "argument": {"name": "language", "value": "py"},
        "context": {"arguments": {"framework": "flask"}}
    }));
    assert!(matches!(complete.reference, Reference::Prompt(_)));
    let complete: CompleteRequestParams = parse_exact(json!({
        "ref": {"type": "ref/resource", "uri": "file:///{path}"},
        "argument": {"name": "path", "value": "src/"}
    }));
    assert!(matches!(complete.reference, Reference::Resource(_)));

    let roots: ListRootsResult = parse_exact(json!({
        "roots": [{"uri": "file:///home/user/projects/myproject", "name": "My Project"}]
    }));
    assert_eq!(roots.roots.len(), 1);
}

#[test]
fn unknown_members_are_ignored_and_bad_shapes_rejected() {
    // Forward compatibility: members from newer versions do not break parsing.
    let tool: Tool = serde_json::from_value(json!({
        "name": "t", "inputSchema": {"type": "object"}, "x-future": 1
    }))
    .unwrap();
    assert_eq!(tool.name, "t");
    assert!(serde_json::from_value::<Tool>(json!({"name": "t"})).is_err());
    assert!(serde_json::from_value::<Content>(json!({"text": "untagged"})).is_err());
    assert!(serde_json::from_value::<LoggingLevel>(json!("verbose")).is_err());
    assert!(serde_json::from_value::<Reference>(json!({"type": "ref/tool", "name": "x"})).is_err());
    assert!(serde_json::from_value::<ElicitResult>(json!({"action": "maybe"})).is_err());
}
