//! Golden tests, continued: completion, logging, progress, cancellation, sampling, elicitation,
//! roots and the method names.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::{Spec, assert_invalid, assert_valid, defs, golden, obj, request};
use mcp_core::RequestId;
use mcp_core::types::*;
use serde_json::json;

#[test]
fn completion_refs_of_both_kinds_validate() {
    let prompt_ref = CompleteRequestParams {
        reference: Reference::Prompt(PromptReference {
            name: "code_review".into(),
            title: Some("Code review".into()),
        }),
        argument: CompletionArgument {
            name: "language".into(),
            value: "py".into(),
        },
        context: Some(CompletionContext {
            arguments: Some(BTreeMap::from([("framework".into(), "flask".into())])),
        }),
        meta: None,
    };
    let json = golden(&prompt_ref, "CompleteRequestParams", None);
    assert_eq!(
        json["ref"],
        json!({"type": "ref/prompt", "name": "code_review", "title": "Code review"})
    );

    let resource_ref = CompleteRequestParams {
        reference: Reference::resource("file:///{path}"),
        argument: CompletionArgument {
            name: "path".into(),
            value: "src/".into(),
        },
        context: None,
        meta: Some(obj(json!({"progressToken": 3}))),
    };
    let json = golden(&resource_ref, "CompleteRequestParams", None);
    assert_eq!(
        json["ref"],
        json!({"type": "ref/resource", "uri": "file:///{path}"})
    );

    golden(
        &Reference::prompt("p"),
        "PromptReference",
        Some("PromptReference"),
    );
    golden(
        &Reference::resource("db://{table}"),
        "ResourceTemplateReference",
        Some("ResourceTemplateReference"),
    );

    let result = CompleteResult {
        completion: Completion {
            values: vec!["python".into(), "pytorch".into(), "pyside".into()],
            total: Some(10),
            has_more: Some(true),
        },
        meta: None,
    };
    golden(&result, "CompleteResult", Some("CompleteResult"));
    golden(
        &CompleteResult::new(vec![]),
        "CompleteResult",
        Some("CompleteResult"),
    );
}

#[test]
fn every_logging_level_validates() {
    for level in LoggingLevel::ALL {
        let json = golden(&level, "LoggingLevel", Some("LoggingLevel"));
        assert_eq!(json, json!(level.as_str()));
        golden(
            &SetLevelRequestParams { level, meta: None },
            "SetLevelRequestParams",
            None,
        );
        let message = LoggingMessageNotificationParams {
            level,
            logger: Some("database".into()),
            data: json!({"error": "Connection failed", "details": {"host": "localhost", "port": 5432}}),
            meta: Some(obj(json!({"io.example/seq": 4}))),
        };
        golden(&message, "LoggingMessageNotificationParams", None);
    }
    let plain = LoggingMessageNotificationParams::new(LoggingLevel::Info, json!("started"));
    golden(&plain, "LoggingMessageNotificationParams", None);
    let null_data = LoggingMessageNotificationParams::new(LoggingLevel::Debug, json!(null));
    golden(&null_data, "LoggingMessageNotificationParams", None);
    assert_invalid(Spec::V2025_11_25, "LoggingLevel", &json!("fatal"));
}

#[test]
fn progress_with_float_values_validates() {
    let progress = ProgressNotificationParams {
        progress_token: RequestId::from("abc123"),
        progress: 50.5,
        total: Some(100.0),
        message: Some("Reticulating splines...".into()),
        meta: None,
    };
    let json = golden(&progress, "ProgressNotificationParams", None);
    assert_eq!(json["progress"], json!(50.5));
    let int_token = ProgressNotificationParams::new(RequestId::Number(42), 0.25);
    let json = golden(&int_token, "ProgressNotificationParams", None);
    assert_eq!(json["progressToken"], json!(42));
    let parsed: ProgressNotificationParams =
        serde_json::from_value(json!({"progressToken": 1, "progress": 3})).unwrap();
    assert_eq!(parsed.progress, 3.0);
}

#[test]
fn cancellation_validates() {
    let cancelled = CancelledNotificationParams::new(
        RequestId::from("req-123"),
        Some("User requested cancellation".into()),
    );
    golden(&cancelled, "CancelledNotificationParams", None);
    let by_number = CancelledNotificationParams::new(RequestId::Number(7), None);
    let json = golden(&by_number, "CancelledNotificationParams", None);
    assert_eq!(json, json!({"requestId": 7}));
}

fn sampling_tool() -> Tool {
    Tool {
        description: Some("Get the weather".into()),
        ..Tool::new(
            "get_weather",
            obj(json!({"type": "object", "properties": {"city": {"type": "string"}}})),
        )
    }
}

#[test]
fn sampling_request_with_array_content_validates() {
    let params = CreateMessageRequestParams {
        messages: vec![
            SamplingMessage::user_text("What is the weather in Paris?"),
            SamplingMessage::new(
                Role::Assistant,
                vec![
                    SamplingMessageContentBlock::text("Let me check."),
                    SamplingMessageContentBlock::ToolUse(ToolUseContent {
                        id: "call_1".into(),
                        name: "get_weather".into(),
                        input: obj(json!({"city": "Paris"})),
                        meta: None,
                    }),
                ],
            ),
            SamplingMessage {
                role: Role::User,
                content: SamplingContent::Multiple(vec![
                    SamplingMessageContentBlock::ToolResult(ToolResultContent {
                        tool_use_id: "call_1".into(),
                        content: vec![Content::text("18°C, cloudy")],
                        structured_content: Some(json!({"temp": 18, "sky": "cloudy"})),
                        is_error: Some(false),
                        meta: None,
                    }),
                    SamplingMessageContentBlock::Image(ImageContent {
                        data: "iVBORw0KGgo=".into(),
                        mime_type: "image/png".into(),
                        annotations: None,
                        meta: None,
                    }),
                    SamplingMessageContentBlock::Audio(AudioContent {
                        data: "UklGRg==".into(),
                        mime_type: "audio/wav".into(),
                        annotations: None,
                        meta: None,
                    }),
                ]),
                meta: Some(obj(json!({"io.example/turn": 3}))),
            },
        ],
        model_preferences: Some(ModelPreferences {
            hints: Some(vec![
                ModelHint::new("claude-3-sonnet"),
                ModelHint::default(),
            ]),
            cost_priority: Some(0.3),
            speed_priority: Some(0.8),
            intelligence_priority: Some(0.5),
        }),
        system_prompt: Some("You are a helpful assistant.".into()),
        include_context: Some(IncludeContext::ThisServer),
        temperature: Some(0.7),
        max_tokens: 400,
        stop_sequences: Some(vec!["\n\nHuman:".into()]),
        metadata: Some(obj(json!({"provider": {"top_k": 5}}))),
        tools: Some(vec![sampling_tool()]),
        tool_choice: Some(ToolChoice {
            mode: Some(ToolChoiceMode::Auto),
        }),
        meta: Some(obj(json!({"progressToken": "s-1"}))),
    };
    let json = golden(&params, "CreateMessageRequestParams", None);
    assert!(json["messages"][1]["content"].is_array());
    assert_eq!(json["includeContext"], "thisServer");
    assert_eq!(json["toolChoice"], json!({"mode": "auto"}));

    for mode in [
        ToolChoiceMode::Auto,
        ToolChoiceMode::Required,
        ToolChoiceMode::None,
    ] {
        golden(&ToolChoice { mode: Some(mode) }, "ToolChoice", None);
    }
    for ctx in [
        IncludeContext::None,
        IncludeContext::ThisServer,
        IncludeContext::AllServers,
    ] {
        let p = CreateMessageRequestParams {
            include_context: Some(ctx),
            ..CreateMessageRequestParams::new(vec![SamplingMessage::user_text("hi")], 10)
        };
        golden(&p, "CreateMessageRequestParams", None);
    }
}

#[test]
fn sampling_in_the_2025_06_18_shape_validates_in_both_versions() {
    let params = CreateMessageRequestParams {
        model_preferences: Some(ModelPreferences {
            hints: Some(vec![ModelHint::new("sonnet")]),
            ..ModelPreferences::default()
        }),
        system_prompt: Some("Be brief.".into()),
        ..CreateMessageRequestParams::new(
            vec![
                SamplingMessage::user_text("Capital of France?"),
                SamplingMessage::assistant_text("Paris."),
            ],
            100,
        )
    };
    golden(&params, "CreateMessageRequestParams", None);
    let envelope = request(5, methods::SAMPLING_CREATE_MESSAGE, Some(&params));
    assert_valid(Spec::V2025_11_25, "CreateMessageRequest", &envelope);
    assert_valid(Spec::V2025_06_18, "CreateMessageRequest", &envelope);
    for message in &params.messages {
        golden(message, "SamplingMessage", Some("SamplingMessage"));
    }

    let result = CreateMessageResult {
        role: Role::Assistant,
        content: SamplingMessageContentBlock::text("The capital of France is Paris.").into(),
        model: "claude-3-sonnet-20240307".into(),
        stop_reason: Some("endTurn".into()),
        meta: None,
    };
    golden(&result, "CreateMessageResult", Some("CreateMessageResult"));
}

#[test]
fn sampling_result_with_array_content_validates() {
    let result = CreateMessageResult {
        role: Role::Assistant,
        content: SamplingContent::Multiple(vec![
            SamplingMessageContentBlock::text("Checking the weather."),
            SamplingMessageContentBlock::ToolUse(ToolUseContent {
                id: "call_2".into(),
                name: "get_weather".into(),
                input: obj(json!({"city": "Oslo"})),
                meta: Some(obj(json!({"io.example/x": true}))),
            }),
        ]),
        model: "gpt-x".into(),
        stop_reason: Some("toolUse".into()),
        meta: Some(obj(json!({"io.example/latency_ms": 812}))),
    };
    let json = golden(&result, "CreateMessageResult", None);
    assert_invalid(Spec::V2025_06_18, "CreateMessageResult", &json);
    assert_eq!(result.content.text(), "Checking the weather.");
}

fn requested_schema() -> JsonObject {
    obj(json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "title": "Full name", "minLength": 1, "maxLength": 100},
            "email": {"type": "string", "format": "email"},
            "age": {"type": "integer", "minimum": 0, "maximum": 150},
            "subscribe": {"type": "boolean", "default": false},
            "plan": {"type": "string", "enum": ["free", "pro"]}
        },
        "required": ["name", "email"]
    }))
}

#[test]
fn form_elicitation_validates_in_both_versions() {
    let form = ElicitRequestParams::form("Please provide your contact details", requested_schema());
    let json = golden(&form, "ElicitRequestParams", None);
    assert!(json.get("mode").is_none());
    assert_valid(Spec::V2025_11_25, "ElicitRequestFormParams", &json);
    let envelope = request("e-1", methods::ELICITATION_CREATE, Some(&form));
    assert_valid(Spec::V2025_11_25, "ElicitRequest", &envelope);
    assert_valid(Spec::V2025_06_18, "ElicitRequest", &envelope);

    let with_meta = ElicitRequestParams::Form(ElicitRequestFormParams {
        message: "Pick a plan".into(),
        requested_schema: requested_schema(),
        meta: Some(obj(json!({"progressToken": 9}))),
    });
    golden(&with_meta, "ElicitRequestFormParams", None);
}

#[test]
fn url_elicitation_validates_in_2025_11_25() {
    let url = ElicitRequestParams::url(
        "Please authorize access to your calendar",
        "550e8400-e29b-41d4-a716-446655440000",
        "https://auth.example.com/authorize?state=xyz",
    );
    let json = golden(&url, "ElicitRequestParams", None);
    assert_eq!(json["mode"], "url");
    assert_valid(Spec::V2025_11_25, "ElicitRequestURLParams", &json);
    assert_invalid(Spec::V2025_11_25, "ElicitRequestFormParams", &json);
    let ElicitRequestParams::Url(inner) = &url else {
        panic!("expected URL mode")
    };
    golden(inner, "ElicitRequestURLParams", None);

    let done = ElicitationCompleteNotificationParams {
        elicitation_id: "550e8400-e29b-41d4-a716-446655440000".into(),
    };
    let envelope = common::notification(methods::NOTIFICATION_ELICITATION_COMPLETE, Some(&done));
    assert_valid(
        Spec::V2025_11_25,
        "ElicitationCompleteNotification",
        &envelope,
    );
    common::round_trip(&done);
}

#[test]
fn elicit_results_validate() {
    let accepted = ElicitResult::accept(Some(obj(json!({
        "name": "Ada", "age": 36, "subscribe": true
    }))));
    golden(&accepted, "ElicitResult", Some("ElicitResult"));
    let multi = ElicitResult::accept(Some(obj(json!({"tags": ["a", "b"]}))));
    golden(&multi, "ElicitResult", None);
    golden(
        &ElicitResult::accept(None),
        "ElicitResult",
        Some("ElicitResult"),
    );
    let declined = golden(
        &ElicitResult::decline(),
        "ElicitResult",
        Some("ElicitResult"),
    );
    assert_eq!(declined, json!({"action": "decline"}));
    golden(
        &ElicitResult::cancel(),
        "ElicitResult",
        Some("ElicitResult"),
    );
}

#[test]
fn roots_validate() {
    let root = Root {
        uri: "file:///home/user/projects/myproject".into(),
        name: Some("My Project".into()),
        meta: Some(obj(json!({"io.example/vcs": "git"}))),
    };
    golden(&root, "Root", Some("Root"));
    let list = ListRootsResult {
        roots: vec![
            root,
            Root {
                uri: "file:///tmp".into(),
                ..Root::default()
            },
        ],
        meta: None,
    };
    golden(&list, "ListRootsResult", Some("ListRootsResult"));
}

/// Every method constant equals the `method` const of its request or notification definition.
#[test]
fn method_names_match_the_schema() {
    let pairs = [
        (methods::INITIALIZE, "InitializeRequest"),
        (methods::PING, "PingRequest"),
        (methods::TOOLS_LIST, "ListToolsRequest"),
        (methods::TOOLS_CALL, "CallToolRequest"),
        (methods::RESOURCES_LIST, "ListResourcesRequest"),
        (
            methods::RESOURCES_TEMPLATES_LIST,
            "ListResourceTemplatesRequest",
        ),
        (methods::RESOURCES_READ, "ReadResourceRequest"),
        (methods::RESOURCES_SUBSCRIBE, "SubscribeRequest"),
        (methods::RESOURCES_UNSUBSCRIBE, "UnsubscribeRequest"),
        (methods::PROMPTS_LIST, "ListPromptsRequest"),
        (methods::PROMPTS_GET, "GetPromptRequest"),
        (methods::COMPLETION_COMPLETE, "CompleteRequest"),
        (methods::LOGGING_SET_LEVEL, "SetLevelRequest"),
        (methods::SAMPLING_CREATE_MESSAGE, "CreateMessageRequest"),
        (methods::ELICITATION_CREATE, "ElicitRequest"),
        (methods::ROOTS_LIST, "ListRootsRequest"),
        (methods::NOTIFICATION_INITIALIZED, "InitializedNotification"),
        (methods::NOTIFICATION_CANCELLED, "CancelledNotification"),
        (methods::NOTIFICATION_PROGRESS, "ProgressNotification"),
        (methods::NOTIFICATION_MESSAGE, "LoggingMessageNotification"),
        (
            methods::NOTIFICATION_RESOURCES_UPDATED,
            "ResourceUpdatedNotification",
        ),
        (
            methods::NOTIFICATION_RESOURCES_LIST_CHANGED,
            "ResourceListChangedNotification",
        ),
        (
            methods::NOTIFICATION_TOOLS_LIST_CHANGED,
            "ToolListChangedNotification",
        ),
        (
            methods::NOTIFICATION_PROMPTS_LIST_CHANGED,
            "PromptListChangedNotification",
        ),
        (
            methods::NOTIFICATION_ROOTS_LIST_CHANGED,
            "RootsListChangedNotification",
        ),
        (
            methods::NOTIFICATION_ELICITATION_COMPLETE,
            "ElicitationCompleteNotification",
        ),
    ];
    for spec in [Spec::V2025_11_25, Spec::V2025_06_18] {
        for (method, def) in pairs {
            let Some(schema) = defs(spec).get(def) else {
                assert_eq!(
                    (spec, def),
                    (Spec::V2025_06_18, "ElicitationCompleteNotification"),
                    "only the URL-mode notification is new in 2025-11-25"
                );
                continue;
            };
            assert_eq!(
                schema["properties"]["method"]["const"],
                json!(method),
                "{spec:?} {def}"
            );
        }
    }
}
