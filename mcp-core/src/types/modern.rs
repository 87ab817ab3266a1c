//! The modern era (`2026-07-28`): per-request `_meta` keys, `resultType`, caching hints,
//! `server/discover` and the data of the new error codes.
//!
//! A modern request carries no `initialize` handshake; its `params._meta` holds the protocol
//! version, the client's capabilities and (optionally) its identity and log level, under the keys
//! of [`meta_keys`]. Every modern result carries `resultType`; the results of `server/discover`,
//! the four list methods and `resources/read` also carry `ttlMs` and `cacheScope`
//! ([`CACHEABLE_METHODS`]). The legacy result types do not have these fields: a server on the
//! modern wire adds them to the serialized result with [`set_result_type`] and
//! [`set_cache_hints`].
//!
//! ```
//! use mcp_core::types::{meta_keys, request_meta_version, set_result_type, CallToolResult, Meta,
//!     ResultType};
//!
//! let meta: Meta = serde_json::from_value(serde_json::json!({
//!     meta_keys::PROTOCOL_VERSION: "2026-07-28",
//!     meta_keys::CLIENT_CAPABILITIES: {}
//! })).unwrap();
//! assert_eq!(request_meta_version(&meta), Some("2026-07-28"));
//!
//! let mut result = serde_json::to_value(CallToolResult::text("hi")).unwrap();
//! set_result_type(&mut result, ResultType::Complete);
//! assert_eq!(result["resultType"], "complete");
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ClientCapabilities, Implementation, LoggingLevel, Meta, ServerCapabilities, methods};
use crate::jsonrpc::{ErrorCode, ErrorObject, RequestId};

/// The reserved `_meta` keys of the modern era (`io.modelcontextprotocol/...`).
pub mod meta_keys {
    /// Request `_meta`: the protocol version of this request (required).
    pub const PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
    /// Request `_meta`: the client's `ClientCapabilities` (required).
    pub const CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
    /// Request `_meta`: the client's `Implementation` (SHOULD be sent).
    pub const CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
    /// Request `_meta`: the lowest log level the client wants for this request (optional).
    pub const LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
    /// Result `_meta`: the server's `Implementation` (SHOULD be on every result).
    pub const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
    /// Notification and `subscriptions/listen` result `_meta`: the id of the listen request.
    pub const SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";
}

/// The identifier of the tasks extension, a key of `capabilities.extensions`.
pub const TASKS_EXTENSION: &str = "io.modelcontextprotocol/tasks";

/// The methods whose modern results must carry `ttlMs` and `cacheScope`.
pub const CACHEABLE_METHODS: [&str; 6] = [
    methods::SERVER_DISCOVER,
    methods::TOOLS_LIST,
    methods::PROMPTS_LIST,
    methods::RESOURCES_LIST,
    methods::RESOURCES_TEMPLATES_LIST,
    methods::RESOURCES_READ,
];

/// The methods that may answer `resultType: "input_required"` (multi-round-trip requests).
pub const INPUT_REQUIRED_METHODS: [&str; 3] = [
    methods::TOOLS_CALL,
    methods::PROMPTS_GET,
    methods::RESOURCES_READ,
];

/// What kind of result a modern response holds (`resultType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultType {
    /// The request is done; the result has the method's own shape.
    #[default]
    Complete,
    /// The server needs input first: an [`InputRequiredResult`](super::InputRequiredResult).
    InputRequired,
    /// The request became a task (tasks extension).
    Task,
}

impl ResultType {
    /// The wire string, e.g. `"input_required"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ResultType::Complete => "complete",
            ResultType::InputRequired => "input_required",
            ResultType::Task => "task",
        }
    }
}

/// Who may reuse a cached result (`cacheScope`), like HTTP `Cache-Control: public|private`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheScope {
    /// No user-specific data: any client or intermediary may share it.
    #[default]
    Public,
    /// Reusable only within the same authorization context.
    Private,
}

impl CacheScope {
    /// The wire string, `"public"` or `"private"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            CacheScope::Public => "public",
            CacheScope::Private => "private",
        }
    }
}

/// Parameters of `server/discover`: only `_meta` (required on the wire).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DiscoverRequestParams {
    /// The request metadata (protocol version, client capabilities, ...).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// The result of `server/discover`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscoverResult {
    /// The protocol versions the server supports; the client picks one.
    pub supported_versions: Vec<String>,
    /// What the server supports.
    pub capabilities: ServerCapabilities,
    /// How to use the server, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Always [`ResultType::Complete`] (absent on the wire means complete).
    #[serde(default)]
    pub result_type: ResultType,
    /// How long the client may cache this result, in milliseconds.
    pub ttl_ms: u64,
    /// Who may reuse the cached result.
    pub cache_scope: CacheScope,
    /// Extra metadata (SHOULD hold [`meta_keys::SERVER_INFO`]).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl DiscoverResult {
    /// A complete, immediately stale (`ttlMs: 0`), public result without instructions.
    pub fn new(supported_versions: Vec<String>, capabilities: ServerCapabilities) -> Self {
        DiscoverResult {
            supported_versions,
            capabilities,
            ..DiscoverResult::default()
        }
    }
}

/// The `data` of a `-32022` UnsupportedProtocolVersion error.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnsupportedProtocolVersionData {
    /// The versions the server supports; the client should retry with one of them.
    pub supported: Vec<String>,
    /// The version the client asked for.
    pub requested: String,
}

impl UnsupportedProtocolVersionData {
    /// The `-32022` error object carrying this data.
    pub fn to_error(&self, message: impl Into<String>) -> ErrorObject {
        ErrorObject::new(ErrorCode::UNSUPPORTED_PROTOCOL_VERSION, message).with_data(to_value(self))
    }
}

/// The `data` of a `-32021` MissingRequiredClientCapability error.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MissingRequiredClientCapabilityData {
    /// The capabilities the server needs from the client for this request.
    pub required_capabilities: ClientCapabilities,
}

impl MissingRequiredClientCapabilityData {
    /// The `-32021` error object carrying this data.
    pub fn to_error(&self, message: impl Into<String>) -> ErrorObject {
        ErrorObject::new(ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY, message)
            .with_data(to_value(self))
    }
}

/// Serializes one of this module's data types; they always serialize.
fn to_value<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The `io.modelcontextprotocol/protocolVersion` of a request's `_meta`, if it is a string.
pub fn request_meta_version(meta: &Meta) -> Option<&str> {
    meta.get(meta_keys::PROTOCOL_VERSION)?.as_str()
}

/// The `io.modelcontextprotocol/clientCapabilities` of a request's `_meta`; `None` if absent or
/// not a valid `ClientCapabilities` object.
pub fn request_meta_client_capabilities(meta: &Meta) -> Option<ClientCapabilities> {
    let value = meta.get(meta_keys::CLIENT_CAPABILITIES)?;
    if !value.is_object() {
        return None;
    }
    ClientCapabilities::deserialize(value).ok()
}

/// The `io.modelcontextprotocol/clientInfo` of a request's `_meta`; `None` if absent or invalid.
pub fn request_meta_client_info(meta: &Meta) -> Option<Implementation> {
    Implementation::deserialize(meta.get(meta_keys::CLIENT_INFO)?).ok()
}

/// The `io.modelcontextprotocol/logLevel` of a request's `_meta`; `None` if absent or unknown.
pub fn request_meta_log_level(meta: &Meta) -> Option<LoggingLevel> {
    meta.get(meta_keys::LOG_LEVEL)?.as_str()?.parse().ok()
}

/// The `io.modelcontextprotocol/subscriptionId` of a notification's or result's `_meta`.
pub fn meta_subscription_id(meta: &Meta) -> Option<RequestId> {
    RequestId::from_value(meta.get(meta_keys::SUBSCRIPTION_ID)?)
}

/// A request `_meta` with the protocol version, the client capabilities and, if given, the
/// client info (what a modern client sends with every request).
pub fn request_meta(
    protocol_version: &str,
    client_capabilities: &ClientCapabilities,
    client_info: Option<&Implementation>,
) -> Meta {
    let mut meta = Meta::new();
    meta.insert(meta_keys::PROTOCOL_VERSION.into(), protocol_version.into());
    meta.insert(
        meta_keys::CLIENT_CAPABILITIES.into(),
        to_value(client_capabilities),
    );
    if let Some(info) = client_info {
        meta.insert(meta_keys::CLIENT_INFO.into(), to_value(info));
    }
    meta
}

/// Sets `io.modelcontextprotocol/serverInfo` in a result's `_meta`, creating the `_meta`.
pub fn set_server_info(meta: &mut Option<Meta>, server_info: &Implementation) {
    meta.get_or_insert_with(Meta::new)
        .insert(meta_keys::SERVER_INFO.into(), to_value(server_info));
}

/// Sets `io.modelcontextprotocol/subscriptionId` in a `_meta`, creating the `_meta`.
pub fn set_subscription_id(meta: &mut Option<Meta>, subscription_id: &RequestId) {
    meta.get_or_insert_with(Meta::new)
        .insert(meta_keys::SUBSCRIPTION_ID.into(), to_value(subscription_id));
}

/// Sets `resultType` on a serialized result object (does nothing if `result` is not an object).
pub fn set_result_type(result: &mut Value, result_type: ResultType) {
    if let Value::Object(map) = result {
        map.insert("resultType".into(), result_type.as_str().into());
    }
}

/// Sets `ttlMs` and `cacheScope` on a serialized result object (does nothing if `result` is not
/// an object); needed on the results of [`CACHEABLE_METHODS`].
pub fn set_cache_hints(result: &mut Value, ttl_ms: u64, cache_scope: CacheScope) {
    if let Value::Object(map) = result {
        map.insert("ttlMs".into(), ttl_ms.into());
        map.insert("cacheScope".into(), cache_scope.as_str().into());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn enums_use_the_wire_strings() {
        for (t, s) in [
            (ResultType::Complete, "complete"),
            (ResultType::InputRequired, "input_required"),
            (ResultType::Task, "task"),
        ] {
            assert_eq!(serde_json::to_value(t).unwrap(), json!(s));
            assert_eq!(t.as_str(), s);
        }
        for (c, s) in [
            (CacheScope::Public, "public"),
            (CacheScope::Private, "private"),
        ] {
            assert_eq!(serde_json::to_value(c).unwrap(), json!(s));
            assert_eq!(c.as_str(), s);
        }
        assert_eq!(ResultType::default(), ResultType::Complete);
        assert_eq!(CacheScope::default(), CacheScope::Public);
    }

    #[test]
    fn discover_result_shape_and_absent_result_type() {
        let r = DiscoverResult::new(vec!["2026-07-28".into()], ServerCapabilities::default());
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"supportedVersions": ["2026-07-28"], "capabilities": {},
                   "resultType": "complete", "ttlMs": 0, "cacheScope": "public"})
        );
        let back: DiscoverResult = serde_json::from_value(json!({
            "supportedVersions": [], "capabilities": {}, "ttlMs": 5, "cacheScope": "private"
        }))
        .unwrap();
        assert_eq!(back.result_type, ResultType::Complete);
        assert_eq!(back.cache_scope, CacheScope::Private);
    }

    #[test]
    fn request_meta_readers() {
        let caps = ClientCapabilities {
            sampling: Some(Meta::new()),
            ..ClientCapabilities::default()
        };
        let info = Implementation::new("client", "1.0");
        let mut meta = request_meta("2026-07-28", &caps, Some(&info));
        meta.insert(meta_keys::LOG_LEVEL.into(), json!("warning"));
        assert_eq!(request_meta_version(&meta), Some("2026-07-28"));
        assert_eq!(request_meta_client_capabilities(&meta), Some(caps));
        assert_eq!(request_meta_client_info(&meta), Some(info));
        assert_eq!(request_meta_log_level(&meta), Some(LoggingLevel::Warning));

        let bad: Meta = serde_json::from_value(json!({
            meta_keys::PROTOCOL_VERSION: 2026,
            meta_keys::CLIENT_CAPABILITIES: [],
            meta_keys::CLIENT_INFO: {"name": "x"},
            meta_keys::LOG_LEVEL: "loud",
        }))
        .unwrap();
        assert_eq!(request_meta_version(&bad), None);
        assert_eq!(request_meta_client_capabilities(&bad), None);
        assert_eq!(request_meta_client_info(&bad), None);
        assert_eq!(request_meta_log_level(&bad), None);
        assert_eq!(request_meta_version(&Meta::new()), None);
    }

    #[test]
    fn meta_and_result_writers() {
        let mut meta = None;
        set_server_info(&mut meta, &Implementation::new("srv", "2"));
        set_subscription_id(&mut meta, &RequestId::Number(7));
        let meta = meta.unwrap();
        assert_eq!(
            meta[meta_keys::SERVER_INFO],
            json!({"name": "srv", "version": "2"})
        );
        assert_eq!(meta_subscription_id(&meta), Some(RequestId::Number(7)));

        let mut result = json!({"tools": []});
        set_result_type(&mut result, ResultType::Complete);
        set_cache_hints(&mut result, 60_000, CacheScope::Private);
        assert_eq!(
            result,
            json!({"tools": [], "resultType": "complete", "ttlMs": 60000, "cacheScope": "private"})
        );
        let mut not_an_object = json!([1]);
        set_result_type(&mut not_an_object, ResultType::Task);
        set_cache_hints(&mut not_an_object, 1, CacheScope::Public);
        assert_eq!(not_an_object, json!([1]));
    }

    #[test]
    fn error_data_builds_error_objects() {
        let e = UnsupportedProtocolVersionData {
            supported: vec!["2026-07-28".into()],
            requested: "v999".into(),
        }
        .to_error("Unsupported protocol version");
        assert_eq!(e.code, ErrorCode::UNSUPPORTED_PROTOCOL_VERSION);
        assert_eq!(
            e.data,
            Some(json!({"supported": ["2026-07-28"], "requested": "v999"}))
        );
        let required = ClientCapabilities {
            sampling: Some(Meta::new()),
            ..ClientCapabilities::default()
        };
        let e = MissingRequiredClientCapabilityData {
            required_capabilities: required,
        }
        .to_error("Sampling required");
        assert_eq!(e.code, ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY);
        assert_eq!(
            e.data,
            Some(json!({"requiredCapabilities": {"sampling": {}}}))
        );
    }
}
