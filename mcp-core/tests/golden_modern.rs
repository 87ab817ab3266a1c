//! Golden tests of the modern era: the `2026-07-28` types built, serialized, validated against the
//! official 2026-07-28 JSON Schema (`$defs`) and deserialized back, plus full JSON-RPC envelopes
//! and a survey of which legacy types still validate on the modern wire.
//!
//! What a server must add on the modern wire to the serialized legacy result types (they do not
//! carry these fields, so legacy serialization stays unchanged):
//! - `resultType: "complete"` on EVERY result (`set_result_type`), including `tools/call`,
//!   `prompts/get`, `completion/complete` and empty results;
//! - `ttlMs` (integer >= 0) and `cacheScope` (`"public"|"private"`) on the results of
//!   `tools/list`, `prompts/list`, `resources/list`, `resources/templates/list` and
//!   `resources/read` (`set_cache_hints`; `CACHEABLE_METHODS`); `DiscoverResult` has them as
//!   fields;
//! - SHOULD: `_meta["io.modelcontextprotocol/serverInfo"]` on every result (`set_server_info`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::{
    Spec, assert_invalid, assert_valid, defs, error_response, golden_modern, notification, obj,
    request, response, round_trip,
};
use mcp_core::jsonrpc::{ErrorCode, ErrorObject, Message, Payload, RequestId, parse_payload};
use mcp_core::types::*;
use serde_json::{Value, json};

const M: Spec = Spec::V2026_07_28;

fn client_capabilities() -> ClientCapabilities {
    ClientCapabilities {
        roots: Some(RootsCapability::default()),
        sampling: Some(obj(json!({"tools": {}}))),
        elicitation: Some(obj(json!({"form": {}, "url": {}}))),
        extensions: Some(obj(json!({TASKS_EXTENSION: {}}))),
        ..ClientCapabilities::default()
    }
}

fn client_info() -> Implementation {
    Implementation {
        title: Some("Example Client".into()),
        ..Implementation::new("example-client", "1.2.3")
    }
}

fn server_info() -> Implementation {
    Implementation {
        description: Some("An example server".into()),
        website_url: Some("https://example.com".into()),
        ..Implementation::new("example-server", "0.9.0")
    }
}

/// A full `RequestMetaObject`: version, capabilities, client info, log level, progress token.
fn request_meta_full() -> Meta {
    let mut meta = request_meta("2026-07-28", &client_capabilities(), Some(&client_info()));
    meta.insert(meta_keys::LOG_LEVEL.into(), json!("info"));
    meta.insert("progressToken".into(), json!("p-1"));
    meta
}

/// A result `_meta` with the server info.
fn result_meta() -> Option<Meta> {
    let mut meta = None;
    set_server_info(&mut meta, &server_info());
    meta
}

fn requested_schema() -> JsonObject {
    obj(json!({
        "type": "object",
        "properties": {"name": {"type": "string", "minLength": 1}},
        "required": ["name"]
    }))
}

/// One input request of each kind.
fn input_requests() -> InputRequests {
    let sampling = CreateMessageRequestParams {
        system_prompt: Some("Be brief.".into()),
        ..CreateMessageRequestParams::new(
            vec![SamplingMessage::user_text("What is the capital of France?")],
            100,
        )
    };
    BTreeMap::from([
        (
            "user_name".to_owned(),
            InputRequest::elicitation(ElicitRequestParams::form(
                "What is your name?",
                requested_schema(),
            )),
        ),
        (
            "capital_question".to_owned(),
            InputRequest::sampling(sampling),
        ),
        ("client_roots".to_owned(), InputRequest::list_roots()),
    ])
}

/// The client's answers to [`input_requests`].
fn input_responses() -> InputResponses {
    let elicit = ElicitResult::accept(Some(obj(json!({"name": "Ada"}))));
    let sampled = CreateMessageResult {
        role: Role::Assistant,
        content: SamplingMessageContentBlock::text("Paris.").into(),
        model: "model-x".into(),
        stop_reason: Some("endTurn".into()),
        meta: None,
    };
    let roots = ListRootsResult {
        roots: vec![Root {
            uri: "file:///home/ada/project".into(),
            name: Some("project".into()),
            meta: None,
        }],
        meta: None,
    };
    obj(json!({
        "user_name": serde_json::to_value(elicit).unwrap(),
        "capital_question": serde_json::to_value(sampled).unwrap(),
        "client_roots": serde_json::to_value(roots).unwrap(),
    }))
}

fn parse(json: &Value) -> Message {
    let bytes = serde_json::to_vec(json).unwrap();
    match parse_payload(&bytes) {
        Ok(Payload::Single(Ok(message))) => message,
        other => panic!("{json} did not parse as one message: {other:?}"),
    }
}

/// Validates a client request envelope against the generic and specific definitions.
#[track_caller]
fn check_client_request(json: &Value, def: &str) {
    for d in ["JSONRPCRequest", "JSONRPCMessage", "ClientRequest", def] {
        assert_valid(M, d, json);
    }
    assert!(matches!(parse(json), Message::Request(_)));
}

/// Validates a server notification envelope against the generic and specific definitions.
#[track_caller]
fn check_server_notification(json: &Value, def: &str) {
    for d in [
        "JSONRPCNotification",
        "JSONRPCMessage",
        "ServerNotification",
        def,
    ] {
        assert_valid(M, d, json);
    }
    assert!(matches!(parse(json), Message::Notification(_)));
}

/// Validates a success response envelope; `def` is the method-specific response definition.
#[track_caller]
fn check_result_response(json: &Value, def: &str) {
    for d in [
        "JSONRPCResultResponse",
        "JSONRPCResponse",
        "JSONRPCMessage",
        def,
    ] {
        assert_valid(M, d, json);
    }
    assert_valid(M, "ServerResult", &json["result"]);
    assert!(matches!(parse(json), Message::Response(_)));
}

/// Validates an error envelope against the generic and the typed error definitions.
#[track_caller]
fn check_error(json: &Value, def: &str) {
    for d in [
        "JSONRPCErrorResponse",
        "JSONRPCResponse",
        "JSONRPCMessage",
        def,
    ] {
        assert_valid(M, d, json);
    }
    assert!(matches!(parse(json), Message::Error(_)));
}

#[test]
fn meta_keys_match_the_schema() {
    let request_meta = &defs(M)["RequestMetaObject"]["properties"];
    for key in [
        meta_keys::PROTOCOL_VERSION,
        meta_keys::CLIENT_CAPABILITIES,
        meta_keys::CLIENT_INFO,
        meta_keys::LOG_LEVEL,
    ] {
        assert!(request_meta.get(key).is_some(), "{key}");
    }
    assert_eq!(
        defs(M)["RequestMetaObject"]["required"],
        json!([meta_keys::CLIENT_CAPABILITIES, meta_keys::PROTOCOL_VERSION])
    );
    assert!(defs(M)["ResultMetaObject"]["properties"][meta_keys::SERVER_INFO].is_object());
    assert!(
        defs(M)["NotificationMetaObject"]["properties"][meta_keys::SUBSCRIPTION_ID].is_object()
    );
    assert!(
        defs(M)["SubscriptionsListenResultMetaObject"]["properties"][meta_keys::SUBSCRIPTION_ID]
            .is_object()
    );
}

#[test]
fn request_meta_objects_validate() {
    let full = Value::Object(request_meta_full());
    assert_valid(M, "RequestMetaObject", &full);
    for level in LoggingLevel::ALL {
        let mut meta = request_meta_full();
        meta.insert(meta_keys::LOG_LEVEL.into(), json!(level));
        assert_valid(M, "RequestMetaObject", &Value::Object(meta));
    }
    let minimal = request_meta("2026-07-28", &ClientCapabilities::default(), None);
    assert_valid(M, "RequestMetaObject", &Value::Object(minimal.clone()));
    assert_eq!(
        Value::Object(minimal),
        json!({meta_keys::PROTOCOL_VERSION: "2026-07-28", meta_keys::CLIENT_CAPABILITIES: {}})
    );
    // Either required key missing is invalid (the server answers -32602).
    for key in [meta_keys::PROTOCOL_VERSION, meta_keys::CLIENT_CAPABILITIES] {
        let mut meta = request_meta_full();
        meta.remove(key);
        assert_invalid(M, "RequestMetaObject", &Value::Object(meta));
    }
}

#[test]
fn discover_validates() {
    let params = DiscoverRequestParams {
        meta: Some(request_meta_full()),
    };
    golden_modern(&params, "RequestParams");
    let json = request(1, methods::SERVER_DISCOVER, Some(&params));
    check_client_request(&json, "DiscoverRequest");
    // `params._meta` is required on the wire.
    let bare = request(
        2,
        methods::SERVER_DISCOVER,
        Some(&DiscoverRequestParams::default()),
    );
    assert_invalid(M, "DiscoverRequest", &bare);

    let capabilities = ServerCapabilities {
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
            list_changed: Some(true),
        }),
        extensions: Some(obj(json!({TASKS_EXTENSION: {}}))),
        ..ServerCapabilities::default()
    };
    let result = DiscoverResult {
        instructions: Some("Use the weather tools for forecasts.".into()),
        ttl_ms: 3_600_000,
        cache_scope: CacheScope::Private,
        meta: result_meta(),
        ..DiscoverResult::new(vec!["2026-07-28".into(), "2025-11-25".into()], capabilities)
    };
    let json = golden_modern(&result, "DiscoverResult");
    assert_eq!(json["resultType"], "complete");
    assert_eq!(json["cacheScope"], "private");
    assert_valid(M, "CacheableResult", &json);
    check_result_response(&response(1, &result), "DiscoverResultResponse");

    let minimal = DiscoverResult::new(vec!["2026-07-28".into()], ServerCapabilities::default());
    golden_modern(&minimal, "DiscoverResult");
}

#[test]
fn input_requests_validate() {
    let expected = [
        ("capital_question", "CreateMessageRequest"),
        ("client_roots", "ListRootsRequest"),
        ("user_name", "ElicitRequest"),
    ];
    let requests = input_requests();
    for (key, def) in expected {
        let json = golden_modern(&requests[key], "InputRequest");
        assert_valid(M, def, &json);
    }
    let url = InputRequest::elicitation(ElicitRequestParams::url(
        "Please sign in",
        "e-1",
        "https://example.com/login",
    ));
    let json = golden_modern(&url, "InputRequest");
    assert_valid(M, "ElicitRequest", &json);
    assert_eq!(json["params"]["mode"], "url");
    golden_modern(&requests, "InputRequests");
    let back: ElicitRequestParams = requests["user_name"].params_as().unwrap();
    assert_eq!(back.message(), "What is your name?");
    // A method outside the three kinds is not an input request.
    let other = InputRequest {
        method: methods::TOOLS_LIST.into(),
        params: None,
    };
    assert_invalid(M, "InputRequest", &serde_json::to_value(other).unwrap());
}

#[test]
fn input_required_results_validate() {
    let result = InputRequiredResult {
        meta: result_meta(),
        ..InputRequiredResult::new(input_requests(), "state-1".to_owned())
    };
    let json = golden_modern(&result, "InputRequiredResult");
    assert_eq!(json["resultType"], "input_required");
    assert_eq!(json["inputRequests"].as_object().unwrap().len(), 3);
    for def in [
        "CallToolResultResponse",
        "GetPromptResultResponse",
        "ReadResourceResultResponse",
    ] {
        check_result_response(&response(7, &result), def);
    }
    golden_modern(
        &InputRequiredResult::new(None, "only-state".to_owned()),
        "InputRequiredResult",
    );
    golden_modern(
        &InputRequiredResult::new(input_requests(), None),
        "InputRequiredResult",
    );
}

#[test]
fn input_responses_validate() {
    let responses = input_responses();
    assert_valid(M, "InputResponses", &Value::Object(responses.clone()));
    let elicit: ElicitResult = input_response(&responses, "user_name").unwrap().unwrap();
    assert_eq!(elicit.action, ElicitAction::Accept);
    let roots: ListRootsResult = input_response(&responses, "client_roots").unwrap().unwrap();
    assert_eq!(roots.roots.len(), 1);
    let sampled: CreateMessageResult = input_response(&responses, "capital_question")
        .unwrap()
        .unwrap();
    assert_eq!(sampled.content.text(), "Paris.");
    assert_invalid(M, "InputResponses", &json!({"user_name": 12345}));
}

#[test]
fn tools_call_request_with_meta_and_input_responses_validates() {
    let params = CallToolRequestParams {
        input_responses: Some(input_responses()),
        request_state: Some("state-1".into()),
        meta: Some(request_meta_full()),
        ..CallToolRequestParams::new("get_weather", Some(obj(json!({"city": "Paris"}))))
    };
    let json = golden_modern(&params, "CallToolRequestParams");
    assert_valid(M, "InputResponseRequestParams", &json);
    let envelope = request(3, methods::TOOLS_CALL, Some(&params));
    check_client_request(&envelope, "CallToolRequest");
    // Legacy serialization is unchanged: the new fields are skipped when absent.
    assert_eq!(
        serde_json::to_value(CallToolRequestParams::new("noop", None)).unwrap(),
        json!({"name": "noop"})
    );
    // Without `_meta` the modern request is invalid.
    let legacy = CallToolRequestParams::new("noop", None);
    assert_invalid(
        M,
        "CallToolRequest",
        &request(4, methods::TOOLS_CALL, Some(&legacy)),
    );
}

#[test]
fn prompts_get_and_resources_read_with_input_responses_validate() {
    let get = GetPromptRequestParams {
        name: "test_input_required_result_prompt".into(),
        arguments: Some(BTreeMap::from([("topic".into(), "rust".into())])),
        meta: Some(request_meta_full()),
        input_responses: Some(input_responses()),
        request_state: Some("s".into()),
    };
    golden_modern(&get, "GetPromptRequestParams");
    check_client_request(
        &request(5, methods::PROMPTS_GET, Some(&get)),
        "GetPromptRequest",
    );
    let read = ReadResourceRequestParams {
        uri: "file:///project/README.md".into(),
        meta: Some(request_meta_full()),
        input_responses: Some(input_responses()),
        request_state: Some("s".into()),
    };
    golden_modern(&read, "ReadResourceRequestParams");
    check_client_request(
        &request(6, methods::RESOURCES_READ, Some(&read)),
        "ReadResourceRequest",
    );
    for value in [
        serde_json::to_value(GetPromptRequestParams {
            name: "p".into(),
            ..GetPromptRequestParams::default()
        })
        .unwrap(),
        serde_json::to_value(ReadResourceRequestParams {
            uri: "file:///a".into(),
            ..ReadResourceRequestParams::default()
        })
        .unwrap(),
    ] {
        assert!(value.get("inputResponses").is_none() && value.get("requestState").is_none());
    }
}

#[test]
fn subscriptions_validate() {
    let filter = SubscriptionFilter {
        tools_list_changed: Some(true),
        prompts_list_changed: Some(true),
        resources_list_changed: Some(false),
        resource_subscriptions: Some(vec!["file:///project/README.md".into()]),
    };
    golden_modern(&filter, "SubscriptionFilter");
    golden_modern(&SubscriptionFilter::default(), "SubscriptionFilter");

    let listen = SubscriptionsListenRequestParams {
        notifications: filter.clone(),
        meta: Some(request_meta_full()),
    };
    golden_modern(&listen, "SubscriptionsListenRequestParams");
    let listen_id = RequestId::from("listen-1");
    let envelope = request(
        listen_id.clone(),
        methods::SUBSCRIPTIONS_LISTEN,
        Some(&listen),
    );
    check_client_request(&envelope, "SubscriptionsListenRequest");
    let no_meta = SubscriptionsListenRequestParams {
        notifications: filter.clone(),
        meta: None,
    };
    assert_invalid(
        M,
        "SubscriptionsListenRequest",
        &request(9, methods::SUBSCRIPTIONS_LISTEN, Some(&no_meta)),
    );

    let honoured = SubscriptionFilter {
        prompts_list_changed: None,
        ..filter
    };
    let ack = SubscriptionsAcknowledgedNotificationParams::new(honoured, &listen_id);
    let json = golden_modern(&ack, "SubscriptionsAcknowledgedNotificationParams");
    assert_eq!(json["_meta"][meta_keys::SUBSCRIPTION_ID], json!("listen-1"));
    let envelope = notification(methods::NOTIFICATION_SUBSCRIPTIONS_ACKNOWLEDGED, Some(&ack));
    check_server_notification(&envelope, "SubscriptionsAcknowledgedNotification");

    // Later notifications on the stream carry the same id in `params._meta`.
    let mut meta = None;
    set_subscription_id(&mut meta, &listen_id);
    let changed = EmptyResult { meta: meta.clone() };
    check_server_notification(
        &notification(methods::NOTIFICATION_TOOLS_LIST_CHANGED, Some(&changed)),
        "ToolListChangedNotification",
    );
    let updated = ResourceUpdatedNotificationParams {
        uri: "file:///project/README.md".into(),
        meta,
    };
    check_server_notification(
        &notification(methods::NOTIFICATION_RESOURCES_UPDATED, Some(&updated)),
        "ResourceUpdatedNotification",
    );

    let mut closing = SubscriptionsListenResult::new(&listen_id);
    set_server_info(&mut closing.meta, &server_info());
    golden_modern(&closing, "SubscriptionsListenResult");
    check_result_response(
        &response(listen_id, &closing),
        "SubscriptionsListenResultResponse",
    );
    // Its `_meta` with the subscription id is required.
    assert_invalid(
        M,
        "SubscriptionsListenResult",
        &serde_json::to_value(SubscriptionsListenResult::default()).unwrap(),
    );
}

#[test]
fn error_shapes_validate() {
    let id = Some(RequestId::Number(42));

    let mismatch = ErrorObject::new(
        ErrorCode::HEADER_MISMATCH,
        "MCP-Protocol-Version header does not match the body",
    );
    check_error(&error_response(id.clone(), mismatch), "HeaderMismatchError");

    let required = ClientCapabilities {
        sampling: Some(JsonObject::new()),
        ..ClientCapabilities::default()
    };
    let data = MissingRequiredClientCapabilityData {
        required_capabilities: required,
    };
    assert_eq!(
        round_trip(&data),
        json!({"requiredCapabilities": {"sampling": {}}})
    );
    let json = error_response(id.clone(), data.to_error("This tool requires sampling"));
    check_error(&json, "MissingRequiredClientCapabilityError");
    assert_eq!(json["error"]["code"], -32021);

    let data = UnsupportedProtocolVersionData {
        supported: vec!["2026-07-28".into(), "2025-11-25".into()],
        requested: "v999.0.0".into(),
    };
    assert_eq!(
        round_trip(&data),
        json!({"supported": ["2026-07-28", "2025-11-25"], "requested": "v999.0.0"})
    );
    let json = error_response(id.clone(), data.to_error("Unsupported protocol version"));
    check_error(&json, "UnsupportedProtocolVersionError");
    assert_eq!(json["error"]["code"], -32022);

    // -32602 (missing `_meta` fields) and -32601 (removed methods): in 2026-07-28 these
    // definitions describe the error object, not the envelope.
    let missing_meta = error_response(
        id.clone(),
        ErrorObject::invalid_params("Missing _meta protocolVersion"),
    );
    check_error(&missing_meta, "JSONRPCErrorResponse");
    assert_valid(M, "InvalidParamsError", &missing_meta["error"]);
    let removed = error_response(id.clone(), ErrorObject::method_not_found("ping"));
    check_error(&removed, "JSONRPCErrorResponse");
    assert_valid(M, "MethodNotFoundError", &removed["error"]);

    // The typed definitions are not vacuous: a wrong code or missing data fails them.
    let wrong = error_response(id.clone(), ErrorObject::invalid_params("x"));
    for def in [
        "HeaderMismatchError",
        "MissingRequiredClientCapabilityError",
        "UnsupportedProtocolVersionError",
    ] {
        assert_invalid(M, def, &wrong);
    }
    let no_data = ErrorObject::new(ErrorCode::UNSUPPORTED_PROTOCOL_VERSION, "x");
    assert_invalid(
        M,
        "UnsupportedProtocolVersionError",
        &error_response(id.clone(), no_data),
    );
    let no_data = ErrorObject::new(ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY, "x");
    assert_invalid(
        M,
        "MissingRequiredClientCapabilityError",
        &error_response(id, no_data),
    );
}

/// Legacy `CallToolResult` plus `"resultType": "complete"` is a valid modern result; without it,
/// it is not.
#[test]
fn call_tool_result_needs_result_type() {
    let results = [
        CallToolResult::text("42"),
        CallToolResult::error_text("boom"),
        CallToolResult::structured(json!({"sum": 3})),
        // 2026-07-28: `structuredContent` may be any JSON value.
        CallToolResult {
            structured_content: Some(json!([1, 2, 3])),
            ..CallToolResult::text("[1,2,3]")
        },
        CallToolResult {
            meta: result_meta(),
            ..CallToolResult::default()
        },
    ];
    for result in results {
        let mut json = serde_json::to_value(&result).unwrap();
        assert_invalid(M, "CallToolResult", &json);
        set_result_type(&mut json, ResultType::Complete);
        assert_valid(M, "CallToolResult", &json);
        let back: CallToolResult = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, result, "resultType is ignored when parsing back");
        let mut envelope = response(8, &result);
        set_result_type(&mut envelope["result"], ResultType::Complete);
        check_result_response(&envelope, "CallToolResultResponse");
    }
    assert_eq!(
        defs(M)["CallToolResult"]["required"],
        json!(["content", "resultType"])
    );
}

/// The cacheable legacy results validate once `resultType`, `ttlMs` and `cacheScope` are added;
/// the other results need only `resultType`.
#[test]
fn legacy_results_with_modern_fields_validate() {
    let cacheable: [(&str, &str, Value); 5] = [
        (
            methods::TOOLS_LIST,
            "ListToolsResult",
            serde_json::to_value(ListToolsResult {
                tools: vec![Tool::new("echo", Tool::no_arguments_schema())],
                next_cursor: Some("c2".into()),
                meta: result_meta(),
            })
            .unwrap(),
        ),
        (
            methods::PROMPTS_LIST,
            "ListPromptsResult",
            serde_json::to_value(ListPromptsResult {
                prompts: vec![Prompt::new("greet")],
                ..ListPromptsResult::default()
            })
            .unwrap(),
        ),
        (
            methods::RESOURCES_LIST,
            "ListResourcesResult",
            serde_json::to_value(ListResourcesResult {
                resources: vec![Resource::new("file:///a.txt", "a.txt")],
                ..ListResourcesResult::default()
            })
            .unwrap(),
        ),
        (
            methods::RESOURCES_TEMPLATES_LIST,
            "ListResourceTemplatesResult",
            serde_json::to_value(ListResourceTemplatesResult {
                resource_templates: vec![ResourceTemplate::new("file:///{path}", "files")],
                ..ListResourceTemplatesResult::default()
            })
            .unwrap(),
        ),
        (
            methods::RESOURCES_READ,
            "ReadResourceResult",
            serde_json::to_value(ReadResourceResult {
                contents: vec![ResourceContents::text("file:///a.txt", None, "hello")],
                meta: None,
            })
            .unwrap(),
        ),
    ];
    for (method, def, mut json) in cacheable {
        assert!(CACHEABLE_METHODS.contains(&method), "{method}");
        assert_invalid(M, def, &json);
        set_result_type(&mut json, ResultType::Complete);
        assert_invalid(M, def, &json);
        set_cache_hints(&mut json, 60_000, CacheScope::Public);
        assert_valid(M, def, &json);
        assert_valid(M, "CacheableResult", &json);
        assert_valid(M, "ServerResult", &json);
    }
    assert!(CACHEABLE_METHODS.contains(&methods::SERVER_DISCOVER));
    let mut cacheable_defs: Vec<&str> = defs(M)
        .iter()
        .filter(|(_, d)| {
            d["required"]
                .as_array()
                .is_some_and(|r| r.contains(&json!("ttlMs")))
        })
        .map(|(name, _)| name.as_str())
        .collect();
    cacheable_defs.sort_unstable();
    assert_eq!(
        cacheable_defs,
        [
            "CacheableResult",
            "DiscoverResult",
            "ListPromptsResult",
            "ListResourceTemplatesResult",
            "ListResourcesResult",
            "ListToolsResult",
            "ReadResourceResult",
        ]
    );

    let plain: [(&str, Value); 3] = [
        (
            "GetPromptResult",
            serde_json::to_value(GetPromptResult {
                description: Some("A greeting".into()),
                messages: vec![PromptMessage::user_text("Hello")],
                meta: result_meta(),
            })
            .unwrap(),
        ),
        (
            "CompleteResult",
            serde_json::to_value(CompleteResult::new(vec!["rust".into()])).unwrap(),
        ),
        (
            "EmptyResult",
            serde_json::to_value(EmptyResult::default()).unwrap(),
        ),
    ];
    for (def, mut json) in plain {
        assert_invalid(M, def, &json);
        set_result_type(&mut json, ResultType::Complete);
        assert_valid(M, def, &json);
        assert_valid(M, "ServerResult", &json);
    }
}

/// Every new method constant equals the `method` const of its 2026-07-28 definition, and the
/// 2026-07-28 schema has no `tasks/*` methods (they live in the tasks extension).
#[test]
fn modern_method_names_match_the_schema() {
    let pairs = [
        (methods::SERVER_DISCOVER, "DiscoverRequest"),
        (methods::SUBSCRIPTIONS_LISTEN, "SubscriptionsListenRequest"),
        (
            methods::NOTIFICATION_SUBSCRIPTIONS_ACKNOWLEDGED,
            "SubscriptionsAcknowledgedNotification",
        ),
        (methods::TOOLS_CALL, "CallToolRequest"),
        (methods::PROMPTS_GET, "GetPromptRequest"),
        (methods::RESOURCES_READ, "ReadResourceRequest"),
        (methods::SAMPLING_CREATE_MESSAGE, "CreateMessageRequest"),
        (methods::ELICITATION_CREATE, "ElicitRequest"),
        (methods::ROOTS_LIST, "ListRootsRequest"),
    ];
    for (method, def) in pairs {
        assert_eq!(
            defs(M)[def]["properties"]["method"]["const"],
            json!(method),
            "{def}"
        );
    }
    for method in INPUT_REQUIRED_METHODS {
        assert!(
            [
                methods::TOOLS_CALL,
                methods::PROMPTS_GET,
                methods::RESOURCES_READ
            ]
            .contains(&method)
        );
    }
    // The legacy tasks methods are 2025-11-25 definitions.
    for (method, def) in [
        (methods::TASKS_GET, "GetTaskRequest"),
        (methods::TASKS_RESULT, "GetTaskPayloadRequest"),
        (methods::TASKS_CANCEL, "CancelTaskRequest"),
        (methods::TASKS_LIST, "ListTasksRequest"),
        (methods::NOTIFICATION_TASKS_STATUS, "TaskStatusNotification"),
    ] {
        assert_eq!(
            defs(Spec::V2025_11_25)[def]["properties"]["method"]["const"],
            json!(method),
            "{def}"
        );
    }
    let text = serde_json::to_string(defs(M)).unwrap();
    assert!(!text.contains("\"tasks/"));
    assert_eq!(methods::TASKS_UPDATE, "tasks/update");
}

/// Which legacy types, serialized as the legacy server sends them, validate against the
/// definition of the same name in 2026-07-28. The failures are expected: results lack
/// `resultType` (and the cacheable ones `ttlMs`/`cacheScope`); request params lack the required
/// `_meta`. Types with no 2026-07-28 definition at all are listed separately.
#[test]
fn legacy_types_against_the_modern_schema() {
    let legacy_meta = Some(obj(json!({"progressToken": "t"})));
    let values: Vec<(&str, Value)> = vec![
        ("TextContent", json!(Content::text("hi"))),
        ("ImageContent", json!(Content::image("AAAA", "image/png"))),
        ("AudioContent", json!(Content::audio("AAAA", "audio/wav"))),
        (
            "ResourceLink",
            json!(Content::resource_link(ResourceLink::new("file:///a", "a"))),
        ),
        (
            "EmbeddedResource",
            json!(Content::resource(ResourceContents::text(
                "file:///a",
                None,
                "x"
            ))),
        ),
        ("Implementation", json!(server_info())),
        ("ClientCapabilities", json!(client_capabilities())),
        (
            "ServerCapabilities",
            json!(ServerCapabilities {
                tasks: Some(JsonObject::new()),
                tools: Some(ToolsCapability::default()),
                ..ServerCapabilities::default()
            }),
        ),
        (
            "Tool",
            json!(Tool {
                execution: Some(ToolExecution {
                    task_support: Some("optional".into())
                }),
                annotations: Some(ToolAnnotations {
                    read_only_hint: Some(true),
                    ..ToolAnnotations::default()
                }),
                ..Tool::new("t", Tool::no_arguments_schema())
            }),
        ),
        ("Prompt", json!(Prompt::new("p"))),
        ("Resource", json!(Resource::new("file:///a", "a"))),
        (
            "ResourceTemplate",
            json!(ResourceTemplate::new("file:///{p}", "t")),
        ),
        ("PromptMessage", json!(PromptMessage::user_text("hi"))),
        (
            "ElicitRequestParams",
            json!(ElicitRequestParams::form("m", requested_schema())),
        ),
        (
            "ElicitRequestURLParams",
            json!(ElicitRequestParams::url("m", "e-1", "https://example.com")),
        ),
        ("ElicitResult", json!(ElicitResult::decline())),
        (
            "CreateMessageRequestParams",
            json!(CreateMessageRequestParams::new(
                vec![SamplingMessage::user_text("hi")],
                5
            )),
        ),
        ("ListRootsResult", json!(ListRootsResult::default())),
        (
            "LoggingMessageNotificationParams",
            json!(LoggingMessageNotificationParams::new(
                LoggingLevel::Info,
                json!("x")
            )),
        ),
        (
            "ProgressNotificationParams",
            json!(ProgressNotificationParams::new(RequestId::from("t"), 1.0)),
        ),
        (
            "CancelledNotificationParams",
            json!(CancelledNotificationParams::new(RequestId::Number(1), None)),
        ),
        (
            "ResourceUpdatedNotificationParams",
            json!(ResourceUpdatedNotificationParams {
                uri: "file:///a".into(),
                meta: None
            }),
        ),
        // Results: no `resultType`.
        ("CallToolResult", json!(CallToolResult::text("x"))),
        ("ListToolsResult", json!(ListToolsResult::default())),
        ("ListPromptsResult", json!(ListPromptsResult::default())),
        ("GetPromptResult", json!(GetPromptResult::default())),
        ("ListResourcesResult", json!(ListResourcesResult::default())),
        (
            "ListResourceTemplatesResult",
            json!(ListResourceTemplatesResult::default()),
        ),
        ("ReadResourceResult", json!(ReadResourceResult::default())),
        ("CompleteResult", json!(CompleteResult::new(vec![]))),
        ("EmptyResult", json!(EmptyResult::default())),
        // Request params: no `_meta` with version and capabilities.
        (
            "CallToolRequestParams",
            json!(CallToolRequestParams {
                meta: legacy_meta.clone(),
                ..CallToolRequestParams::new("t", None)
            }),
        ),
        (
            "GetPromptRequestParams",
            json!(GetPromptRequestParams {
                name: "p".into(),
                ..GetPromptRequestParams::default()
            }),
        ),
        (
            "ReadResourceRequestParams",
            json!(ReadResourceRequestParams {
                uri: "file:///a".into(),
                meta: legacy_meta.clone(),
                ..ReadResourceRequestParams::default()
            }),
        ),
        (
            "PaginatedRequestParams",
            json!(PaginatedRequestParams {
                cursor: Some("c".into()),
                meta: legacy_meta,
            }),
        ),
        (
            "CompleteRequestParams",
            json!(CompleteRequestParams {
                reference: Reference::prompt("p"),
                argument: CompletionArgument {
                    name: "a".into(),
                    value: "r".into()
                },
                context: None,
                meta: None,
            }),
        ),
    ];
    let mut incompatible: Vec<&str> = values
        .iter()
        .filter(|(def, json)| !common::errors(M, def, json).is_empty())
        .map(|(def, _)| *def)
        .collect();
    incompatible.sort_unstable();
    assert_eq!(
        incompatible,
        [
            "CallToolRequestParams",
            "CallToolResult",
            "CompleteRequestParams",
            "CompleteResult",
            "EmptyResult",
            "GetPromptRequestParams",
            "GetPromptResult",
            "ListPromptsResult",
            "ListResourceTemplatesResult",
            "ListResourcesResult",
            "ListToolsResult",
            "PaginatedRequestParams",
            "ReadResourceRequestParams",
            "ReadResourceResult",
        ]
    );

    // Value-level change: `requestId` is required again (2025-11-25 allowed omitting it for tasks).
    let task_cancel = CancelledNotificationParams {
        reason: Some("task".into()),
        ..CancelledNotificationParams::default()
    };
    let json = serde_json::to_value(&task_cancel).unwrap();
    assert_valid(Spec::V2025_11_25, "CancelledNotificationParams", &json);
    assert_invalid(M, "CancelledNotificationParams", &json);

    // Legacy definitions with no 2026-07-28 counterpart.
    let mut gone: Vec<&str> = [
        "InitializeRequest",
        "InitializeRequestParams",
        "InitializeResult",
        "InitializedNotification",
        "PingRequest",
        "SetLevelRequest",
        "SetLevelRequestParams",
        "SubscribeRequest",
        "SubscribeRequestParams",
        "UnsubscribeRequest",
        "UnsubscribeRequestParams",
        "RootsListChangedNotification",
        "ElicitationCompleteNotification",
        "URLElicitationRequiredError",
        "GetTaskRequest",
        "CreateTaskResult",
    ]
    .into_iter()
    .filter(|def| defs(Spec::V2025_11_25).contains_key(*def) && !defs(M).contains_key(*def))
    .collect();
    gone.sort_unstable();
    assert_eq!(gone.len(), 16, "{gone:?}");
}
