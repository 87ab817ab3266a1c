//! Golden tests: realistic values of the MCP types, serialized, validated against the official
//! JSON Schemas (2025-11-25 and, where the shape exists, 2025-06-18) and deserialized back.
//!
//! This file covers content, icons, the lifecycle, tools, resources and prompts;
//! `golden_features.rs` covers the rest.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::{Spec, assert_invalid, golden, obj};
use mcp_core::types::*;
use serde_json::{Value, json};

fn meta() -> Meta {
    obj(json!({"io.example/trace": "abc-123"}))
}

fn annotations() -> Annotations {
    Annotations {
        audience: Some(vec![Role::User, Role::Assistant]),
        priority: Some(0.8),
        last_modified: Some("2025-01-12T15:00:58Z".into()),
    }
}

fn icons() -> Vec<Icon> {
    vec![
        Icon {
            src: "https://example.com/icon-light.png".into(),
            mime_type: Some("image/png".into()),
            sizes: Some(vec!["48x48".into(), "96x96".into()]),
            theme: Some(IconTheme::Light),
        },
        Icon {
            src: "data:image/svg+xml;base64,PHN2Zy8+".into(),
            mime_type: Some("image/svg+xml".into()),
            sizes: Some(vec!["any".into()]),
            theme: Some(IconTheme::Dark),
        },
    ]
}

/// Every content variant, with and without annotations and `_meta`.
fn all_content() -> Vec<Content> {
    vec![
        Content::text("Hello, world"),
        Content::Text(TextContent {
            text: "annotated".into(),
            annotations: Some(annotations()),
            meta: Some(meta()),
        }),
        Content::image("iVBORw0KGgo=", "image/png"),
        Content::Image(ImageContent {
            data: "R0lGODlhAQABAAAAACw=".into(),
            mime_type: "image/gif".into(),
            annotations: Some(annotations()),
            meta: Some(meta()),
        }),
        Content::audio("UklGRiQAAABXQVZF", "audio/wav"),
        Content::ResourceLink(ResourceLink {
            uri: "file:///project/src/main.rs".into(),
            name: "main.rs".into(),
            title: Some("Main entry point".into()),
            description: Some("The program's entry point".into()),
            mime_type: Some("text/x-rust".into()),
            size: Some(1024),
            icons: None,
            annotations: Some(annotations()),
            meta: Some(meta()),
        }),
        Content::resource(ResourceContents::text(
            "file:///project/README.md",
            Some("text/markdown".into()),
            "# Project",
        )),
        Content::Resource(EmbeddedResource {
            resource: ResourceContents::blob("file:///project/logo.png", "image/png", "AAECAw=="),
            annotations: Some(annotations()),
            meta: Some(meta()),
        }),
    ]
}

#[test]
fn every_content_variant_validates_in_both_versions() {
    let expected = [
        "TextContent",
        "TextContent",
        "ImageContent",
        "ImageContent",
        "AudioContent",
        "ResourceLink",
        "EmbeddedResource",
        "EmbeddedResource",
    ];
    for (content, def) in all_content().iter().zip(expected) {
        let json = golden(content, def, Some(def));
        common::assert_valid(Spec::V2025_11_25, "ContentBlock", &json);
        common::assert_valid(Spec::V2025_06_18, "ContentBlock", &json);
    }
}

#[test]
fn content_wire_shapes() {
    assert_eq!(
        serde_json::to_value(Content::image("AAAA", "image/png")).unwrap(),
        json!({"type": "image", "data": "AAAA", "mimeType": "image/png"})
    );
    let link = Content::resource_link(ResourceLink::new("file:///a.txt", "a.txt"));
    assert_eq!(
        serde_json::to_value(&link).unwrap(),
        json!({"type": "resource_link", "uri": "file:///a.txt", "name": "a.txt"})
    );
    let blob = ResourceContents::blob("file:///b", "application/octet-stream", "AA==");
    assert_eq!(
        serde_json::to_value(Content::resource(blob)).unwrap(),
        json!({"type": "resource", "resource": {
            "uri": "file:///b", "mimeType": "application/octet-stream", "blob": "AA=="
        }})
    );
}

#[test]
fn resource_link_with_icons_validates_in_2025_11_25() {
    let mut link = ResourceLink::new("https://example.com/doc", "doc");
    link.icons = Some(icons());
    golden(&Content::ResourceLink(link), "ResourceLink", None);
}

#[test]
fn both_resource_contents_forms_validate() {
    let text = ResourceContents::Text(TextResourceContents {
        uri: "file:///notes.txt".into(),
        mime_type: Some("text/plain".into()),
        text: "remember the milk".into(),
        meta: Some(meta()),
    });
    golden(&text, "TextResourceContents", Some("TextResourceContents"));
    let blob = ResourceContents::Blob(BlobResourceContents {
        uri: "file:///photo.jpg".into(),
        mime_type: None,
        blob: "/9j/4AAQSkZJRg==".into(),
        meta: None,
    });
    golden(&blob, "BlobResourceContents", Some("BlobResourceContents"));
    assert_invalid(
        Spec::V2025_11_25,
        "TextResourceContents",
        &serde_json::to_value(&blob).unwrap(),
    );
}

#[test]
fn icons_validate_in_2025_11_25() {
    for icon in icons() {
        golden(&icon, "Icon", None);
    }
    golden(&Icon::new("https://example.com/i.png"), "Icon", None);
}

#[test]
fn annotations_validate() {
    golden(&annotations(), "Annotations", Some("Annotations"));
    golden(&Annotations::default(), "Annotations", Some("Annotations"));
    for role in [Role::User, Role::Assistant] {
        golden(&role, "Role", Some("Role"));
    }
}

fn client_capabilities() -> ClientCapabilities {
    ClientCapabilities {
        experimental: Some(obj(json!({"io.example/feature": {"level": 2}}))),
        roots: Some(RootsCapability {
            list_changed: Some(true),
        }),
        sampling: Some(obj(json!({"context": {}, "tools": {}}))),
        elicitation: Some(obj(json!({"form": {}, "url": {}}))),
        tasks: Some(obj(json!({"list": {}, "cancel": {}}))),
        extensions: None,
    }
}

fn server_capabilities() -> ServerCapabilities {
    ServerCapabilities {
        experimental: Some(obj(json!({"io.example/streaming": {}}))),
        logging: Some(JsonObject::new()),
        completions: Some(JsonObject::new()),
        prompts: Some(PromptsCapability {
            list_changed: Some(true),
        }),
        resources: Some(ResourcesCapability {
            subscribe: Some(true),
            list_changed: Some(true),
        }),
        tools: Some(ToolsCapability {
            list_changed: Some(false),
        }),
        tasks: None,
        extensions: None,
    }
}

#[test]
fn capabilities_validate() {
    golden(&client_capabilities(), "ClientCapabilities", None);
    let old_client = ClientCapabilities {
        roots: Some(RootsCapability::default()),
        sampling: Some(JsonObject::new()),
        elicitation: Some(JsonObject::new()),
        ..ClientCapabilities::default()
    };
    golden(
        &old_client,
        "ClientCapabilities",
        Some("ClientCapabilities"),
    );
    golden(
        &server_capabilities(),
        "ServerCapabilities",
        Some("ServerCapabilities"),
    );
    golden(
        &ServerCapabilities::default(),
        "ServerCapabilities",
        Some("ServerCapabilities"),
    );
    assert_eq!(
        serde_json::to_value(ServerCapabilities::default()).unwrap(),
        json!({})
    );
}

#[test]
fn initialize_request_and_result_validate() {
    let params = InitializeRequestParams {
        protocol_version: "2025-11-25".into(),
        capabilities: client_capabilities(),
        client_info: Implementation {
            name: "example-client".into(),
            title: Some("Example Client".into()),
            version: "1.0.0".into(),
            description: Some("A client used in tests".into()),
            icons: Some(icons()),
            website_url: Some("https://example.com/client".into()),
        },
        meta: Some(obj(json!({"progressToken": 7}))),
    };
    golden(&params, "InitializeRequestParams", None);

    let result = InitializeResult {
        protocol_version: "2025-06-18".into(),
        capabilities: server_capabilities(),
        server_info: Implementation {
            title: Some("Example Server".into()),
            ..Implementation::new("example-server", "0.1.0")
        },
        instructions: Some("Call `search` before `fetch`.".into()),
        meta: Some(meta()),
    };
    golden(&result, "InitializeResult", Some("InitializeResult"));
    let minimal = InitializeResult::new(
        "2025-03-26",
        ServerCapabilities::default(),
        Implementation::new("s", "1"),
    );
    golden(&minimal, "InitializeResult", Some("InitializeResult"));
    golden(
        &Implementation::new("n", "1"),
        "Implementation",
        Some("Implementation"),
    );
}

#[test]
fn empty_result_validates_and_is_empty() {
    let json = golden(&EmptyResult::default(), "EmptyResult", Some("EmptyResult"));
    assert_eq!(json, json!({}));
    golden(
        &EmptyResult { meta: Some(meta()) },
        "EmptyResult",
        Some("EmptyResult"),
    );
}

fn weather_tool() -> Tool {
    Tool {
        name: "get_weather".into(),
        title: Some("Weather Information Provider".into()),
        description: Some("Get current weather information for a location".into()),
        input_schema: obj(json!({
            "type": "object",
            "properties": {"location": {"type": "string", "description": "City name or zip code"}},
            "required": ["location"]
        })),
        output_schema: Some(obj(json!({
            "type": "object",
            "properties": {
                "temperature": {"type": "number"},
                "conditions": {"type": "string"}
            },
            "required": ["temperature", "conditions"]
        }))),
        annotations: Some(ToolAnnotations {
            title: Some("Weather".into()),
            read_only_hint: Some(true),
            destructive_hint: Some(false),
            idempotent_hint: Some(true),
            open_world_hint: Some(true),
        }),
        icons: None,
        execution: None,
        meta: Some(meta()),
    }
}

#[test]
fn tools_validate() {
    golden(&weather_tool(), "Tool", Some("Tool"));
    let mut with_new_fields = weather_tool();
    with_new_fields.icons = Some(icons());
    with_new_fields.execution = Some(ToolExecution {
        task_support: Some("optional".into()),
    });
    golden(&with_new_fields, "Tool", None);
    let bare = Tool::new("ping", Tool::no_arguments_schema());
    golden(&bare, "Tool", Some("Tool"));
    golden(
        &ToolAnnotations::default(),
        "ToolAnnotations",
        Some("ToolAnnotations"),
    );

    let list = ListToolsResult {
        tools: vec![weather_tool(), bare],
        next_cursor: Some("eyJwYWdlIjoyfQ==".into()),
        meta: None,
    };
    golden(&list, "ListToolsResult", Some("ListToolsResult"));
    golden(
        &ListToolsResult::default(),
        "ListToolsResult",
        Some("ListToolsResult"),
    );
}

#[test]
fn call_tool_params_and_results_validate() {
    let params = CallToolRequestParams {
        name: "get_weather".into(),
        arguments: Some(obj(json!({"location": "New York", "units": ["c", "f"]}))),
        meta: Some(obj(json!({"progressToken": "tok-1"}))),
        ..CallToolRequestParams::default()
    };
    golden(&params, "CallToolRequestParams", None);
    golden(
        &CallToolRequestParams::new("noop", None),
        "CallToolRequestParams",
        None,
    );

    let structured =
        CallToolResult::structured(json!({"temperature": 22.5, "conditions": "Sunny"}));
    let json = golden(&structured, "CallToolResult", Some("CallToolResult"));
    let text: Value = serde_json::from_str(json["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(text, json["structuredContent"]);

    let failed = CallToolResult {
        is_error: Some(true),
        ..CallToolResult::structured(json!({"error": "upstream timeout", "retryable": true}))
    };
    let json = golden(&failed, "CallToolResult", Some("CallToolResult"));
    assert_eq!(json["isError"], true);

    let error = CallToolResult::error_text(
        "Tool \"delete_file\" requires scopes: ['files:delete']. Missing: ['files:delete']",
    );
    golden(&error, "CallToolResult", Some("CallToolResult"));
    golden(
        &CallToolResult::text("ok"),
        "CallToolResult",
        Some("CallToolResult"),
    );

    let everything = CallToolResult {
        meta: Some(meta()),
        ..CallToolResult::success(all_content())
    };
    golden(&everything, "CallToolResult", Some("CallToolResult"));
    let empty = golden(
        &CallToolResult::default(),
        "CallToolResult",
        Some("CallToolResult"),
    );
    assert_eq!(empty, json!({"content": []}));
    assert_invalid(
        Spec::V2025_11_25,
        "CallToolResult",
        &json!({"isError": true}),
    );
}

#[test]
fn resources_validate() {
    let readme = Resource {
        uri: "file:///project/README.md".into(),
        name: "README.md".into(),
        title: Some("Project readme".into()),
        description: Some("Start here".into()),
        mime_type: Some("text/markdown".into()),
        size: Some(2048),
        annotations: Some(annotations()),
        icons: None,
        meta: Some(meta()),
    };
    golden(&readme, "Resource", Some("Resource"));
    let mut with_icons = Resource::new("https://example.com/data.json", "data");
    with_icons.icons = Some(icons());
    golden(&with_icons, "Resource", None);

    let template = ResourceTemplate {
        uri_template: "file:///project/{path}".into(),
        name: "project-files".into(),
        title: Some("Project files".into()),
        description: Some("Any file of the project".into()),
        mime_type: Some("application/octet-stream".into()),
        annotations: Some(annotations()),
        icons: None,
        meta: None,
    };
    golden(&template, "ResourceTemplate", Some("ResourceTemplate"));
    let mut template_icons = ResourceTemplate::new("db://tables/{table}", "tables");
    template_icons.icons = Some(icons());
    golden(&template_icons, "ResourceTemplate", None);

    let list = ListResourcesResult {
        resources: vec![readme, Resource::new("mem://x", "x")],
        next_cursor: Some("page-2".into()),
        meta: None,
    };
    golden(&list, "ListResourcesResult", Some("ListResourcesResult"));
    let templates = ListResourceTemplatesResult {
        resource_templates: vec![template],
        next_cursor: None,
        meta: Some(meta()),
    };
    golden(
        &templates,
        "ListResourceTemplatesResult",
        Some("ListResourceTemplatesResult"),
    );

    let read = ReadResourceResult {
        contents: vec![
            ResourceContents::text("file:///a.txt", Some("text/plain".into()), "a"),
            ResourceContents::blob("file:///b.bin", "application/octet-stream", "AAEC"),
        ],
        meta: None,
    };
    golden(&read, "ReadResourceResult", Some("ReadResourceResult"));

    let uri = "file:///project/README.md".to_owned();
    golden(
        &ReadResourceRequestParams {
            uri: uri.clone(),
            meta: Some(obj(json!({"progressToken": 1}))),
            ..ReadResourceRequestParams::default()
        },
        "ReadResourceRequestParams",
        None,
    );
    golden(
        &SubscribeRequestParams {
            uri: uri.clone(),
            meta: None,
        },
        "SubscribeRequestParams",
        None,
    );
    golden(
        &UnsubscribeRequestParams {
            uri: uri.clone(),
            meta: None,
        },
        "UnsubscribeRequestParams",
        None,
    );
    golden(
        &ResourceUpdatedNotificationParams { uri, meta: None },
        "ResourceUpdatedNotificationParams",
        None,
    );
}

#[test]
fn prompts_validate() {
    let prompt = Prompt {
        name: "code_review".into(),
        title: Some("Request Code Review".into()),
        description: Some("Asks the LLM to analyze code quality".into()),
        arguments: Some(vec![
            PromptArgument {
                name: "code".into(),
                title: Some("Code".into()),
                description: Some("The code to review".into()),
                required: Some(true),
            },
            PromptArgument {
                name: "style".into(),
                ..PromptArgument::default()
            },
        ]),
        icons: None,
        meta: None,
    };
    golden(&prompt, "Prompt", Some("Prompt"));
    let mut with_icons = Prompt::new("summarize");
    with_icons.icons = Some(icons());
    golden(&with_icons, "Prompt", None);

    let list = ListPromptsResult {
        prompts: vec![prompt, Prompt::new("plain")],
        next_cursor: Some("next".into()),
        meta: None,
    };
    golden(&list, "ListPromptsResult", Some("ListPromptsResult"));

    let params = GetPromptRequestParams {
        name: "code_review".into(),
        arguments: Some(BTreeMap::from([(
            "code".into(),
            "def hello(): pass".into(),
        )])),
        meta: None,
        ..GetPromptRequestParams::default()
    };
    golden(&params, "GetPromptRequestParams", None);

    let mut messages = vec![
        PromptMessage::user_text("Please review this Python code"),
        PromptMessage::assistant_text("Sure, send it over."),
    ];
    messages.extend(
        all_content()
            .into_iter()
            .map(|c| PromptMessage::new(Role::User, c)),
    );
    for message in &messages {
        golden(message, "PromptMessage", Some("PromptMessage"));
    }
    let result = GetPromptResult {
        description: Some("Code review prompt".into()),
        messages,
        meta: Some(meta()),
    };
    golden(&result, "GetPromptResult", Some("GetPromptResult"));
}

#[test]
fn pagination_params_validate() {
    let params = PaginatedRequestParams {
        cursor: Some("eyJvZmZzZXQiOjUwfQ".into()),
        meta: Some(obj(json!({"progressToken": "p"}))),
    };
    golden(&params, "PaginatedRequestParams", None);
    let empty = golden(
        &PaginatedRequestParams::default(),
        "PaginatedRequestParams",
        None,
    );
    assert_eq!(empty, json!({}));
}
