//! JSON-RPC 2.0 messages as MCP uses them: requests, notifications, responses, errors, batches.
//!
//! Parsing is single-pass and never fails without telling why: [`parse_payload`] separates a body
//! that is not JSON (`-32700`) from a body that is JSON but not a valid JSON-RPC message
//! (`-32600`), and recovers the request `id` whenever it can be read so that the error response
//! can carry it.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The only JSON-RPC version MCP speaks.
pub const JSONRPC_VERSION: &str = "2.0";

/// A request id: a string or an integer, never `null`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RequestId {
    /// An integer id.
    Number(i64),
    /// A string id.
    String(String),
}

impl RequestId {
    /// Reads an id from a JSON value; `None` for `null`, floats, booleans, arrays and objects.
    pub fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Number(n) => n.as_i64().map(RequestId::Number),
            Value::String(s) => Some(RequestId::String(s.clone())),
            _ => None,
        }
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestId::Number(n) => write!(f, "{n}"),
            RequestId::String(s) => f.write_str(s),
        }
    }
}

impl From<i64> for RequestId {
    fn from(n: i64) -> Self {
        RequestId::Number(n)
    }
}

impl From<&str> for RequestId {
    fn from(s: &str) -> Self {
        RequestId::String(s.to_owned())
    }
}

impl From<String> for RequestId {
    fn from(s: String) -> Self {
        RequestId::String(s)
    }
}

impl Serialize for RequestId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RequestId::Number(n) => s.serialize_i64(*n),
            RequestId::String(v) => s.serialize_str(v),
        }
    }
}

impl<'de> Deserialize<'de> for RequestId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl Visitor<'_> for IdVisitor {
            type Value = RequestId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an integer")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RequestId, E> {
                Ok(RequestId::Number(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RequestId, E> {
                i64::try_from(v)
                    .map(RequestId::Number)
                    .map_err(|_| E::custom("integer id out of range"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RequestId, E> {
                Ok(RequestId::String(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<RequestId, E> {
                Ok(RequestId::String(v))
            }
        }
        d.deserialize_any(IdVisitor)
    }
}

/// A JSON-RPC error code. The associated constants name the codes MCP uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ErrorCode(pub i32);

impl ErrorCode {
    /// The body is not valid JSON.
    pub const PARSE_ERROR: ErrorCode = ErrorCode(-32700);
    /// The JSON is not a valid JSON-RPC request.
    pub const INVALID_REQUEST: ErrorCode = ErrorCode(-32600);
    /// The method does not exist or is not available.
    pub const METHOD_NOT_FOUND: ErrorCode = ErrorCode(-32601);
    /// Invalid method parameters (also: unknown tool, prompt or, in 2026-07-28, resource).
    pub const INVALID_PARAMS: ErrorCode = ErrorCode(-32602);
    /// Internal server error.
    pub const INTERNAL_ERROR: ErrorCode = ErrorCode(-32603);
    /// Transport-level rejection used by the legacy HTTP transport (`Not Acceptable`, bad session).
    pub const CONNECTION_ERROR: ErrorCode = ErrorCode(-32000);
    /// Legacy "resource not found" (2025-11-25 and earlier).
    pub const RESOURCE_NOT_FOUND: ErrorCode = ErrorCode(-32002);
    /// Legacy URL-mode elicitation required (2025-11-25 only).
    pub const URL_ELICITATION_REQUIRED: ErrorCode = ErrorCode(-32042);
    /// 2026-07-28: an HTTP header disagrees with the body, or a required header is missing.
    pub const HEADER_MISMATCH: ErrorCode = ErrorCode(-32020);
    /// 2026-07-28: the request needs a client capability it did not declare.
    pub const MISSING_REQUIRED_CLIENT_CAPABILITY: ErrorCode = ErrorCode(-32021);
    /// 2026-07-28: the requested protocol version is not supported.
    pub const UNSUPPORTED_PROTOCOL_VERSION: ErrorCode = ErrorCode(-32022);
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The `error` member of an error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// The error code.
    pub code: ErrorCode,
    /// A short description.
    pub message: String,
    /// Extra information, defined by the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl ErrorObject {
    /// An error with a code and a message and no data.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorObject {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// Attaches `data`.
    #[must_use]
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// `-32700`.
    pub fn parse_error(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::PARSE_ERROR, message)
    }

    /// `-32600`.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::INVALID_REQUEST, message)
    }

    /// `-32601` naming the method.
    pub fn method_not_found(method: &str) -> Self {
        Self::new(
            ErrorCode::METHOD_NOT_FOUND,
            format!("Method not found: {method}"),
        )
    }

    /// `-32602`.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::INVALID_PARAMS, message)
    }

    /// `-32603`.
    pub fn internal_error(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::INTERNAL_ERROR, message)
    }
}

impl fmt::Display for ErrorObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for ErrorObject {}

/// A request: expects exactly one response with the same id.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The id the response must repeat.
    pub id: RequestId,
    /// The method name.
    pub method: String,
    /// The parameters (an object in MCP), if any.
    pub params: Option<Value>,
}

/// A notification: no id, never answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// The method name.
    pub method: String,
    /// The parameters, if any.
    pub params: Option<Value>,
}

/// A successful response.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The id of the request this answers.
    pub id: RequestId,
    /// The result.
    pub result: Value,
}

/// An error response. `id` is `None` (serialized as `null`) only when the request's id could not
/// be read.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorResponse {
    /// The id of the request this answers, when known.
    pub id: Option<RequestId>,
    /// The error.
    pub error: ErrorObject,
}

/// Any single JSON-RPC message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A notification.
    Notification(Notification),
    /// A successful response.
    Response(Response),
    /// An error response.
    Error(ErrorResponse),
}

impl Request {
    /// A request with parameters.
    pub fn new(id: impl Into<RequestId>, method: impl Into<String>, params: Option<Value>) -> Self {
        Request {
            id: id.into(),
            method: method.into(),
            params,
        }
    }
}

impl Notification {
    /// A notification with parameters.
    pub fn new(method: impl Into<String>, params: Option<Value>) -> Self {
        Notification {
            method: method.into(),
            params,
        }
    }
}

impl ErrorResponse {
    /// An error response for `id`.
    pub fn new(id: Option<RequestId>, error: ErrorObject) -> Self {
        ErrorResponse { id, error }
    }
}

impl Message {
    /// The method of a request or notification.
    pub fn method(&self) -> Option<&str> {
        match self {
            Message::Request(r) => Some(&r.method),
            Message::Notification(n) => Some(&n.method),
            _ => None,
        }
    }
}

impl From<Request> for Message {
    fn from(r: Request) -> Self {
        Message::Request(r)
    }
}
impl From<Notification> for Message {
    fn from(n: Notification) -> Self {
        Message::Notification(n)
    }
}
impl From<Response> for Message {
    fn from(r: Response) -> Self {
        Message::Response(r)
    }
}
impl From<ErrorResponse> for Message {
    fn from(e: ErrorResponse) -> Self {
        Message::Error(e)
    }
}

impl Serialize for Request {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("jsonrpc", JSONRPC_VERSION)?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("method", &self.method)?;
        if let Some(p) = &self.params {
            m.serialize_entry("params", p)?;
        }
        m.end()
    }
}

impl Serialize for Notification {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("jsonrpc", JSONRPC_VERSION)?;
        m.serialize_entry("method", &self.method)?;
        if let Some(p) = &self.params {
            m.serialize_entry("params", p)?;
        }
        m.end()
    }
}

impl Serialize for Response {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("jsonrpc", JSONRPC_VERSION)?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("result", &self.result)?;
        m.end()
    }
}

impl Serialize for ErrorResponse {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("jsonrpc", JSONRPC_VERSION)?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("error", &self.error)?;
        m.end()
    }
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Message::Request(r) => r.serialize(s),
            Message::Notification(n) => n.serialize(s),
            Message::Response(r) => r.serialize(s),
            Message::Error(e) => e.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        RawMessage::deserialize(d)?
            .classify()
            .map_err(|e| de::Error::custom(e.reason))
    }
}

/// The members of one message object as they arrived, before they are checked.
#[derive(Deserialize, Default)]
struct RawMessage {
    #[serde(default, deserialize_with = "present")]
    jsonrpc: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    id: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    method: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    params: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    result: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    error: Option<Value>,
}

/// Keeps an explicit `null` as `Some(Value::Null)` so that it differs from an absent member.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// Why a JSON value is not a valid JSON-RPC message, with the request id when it could be read.
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidMessage {
    /// The id of the offending request, if it had a usable one.
    pub id: Option<RequestId>,
    /// What is wrong, for the error message.
    pub reason: &'static str,
}

impl InvalidMessage {
    /// The `-32600` error response this deserves.
    pub fn to_error_response(&self) -> ErrorResponse {
        ErrorResponse::new(self.id.clone(), ErrorObject::invalid_request(self.reason))
    }
}

impl RawMessage {
    fn classify(self) -> Result<Message, InvalidMessage> {
        let id = self.id.as_ref().and_then(RequestId::from_value);
        let invalid = |reason| {
            Err(InvalidMessage {
                id: id.clone(),
                reason,
            })
        };
        match &self.jsonrpc {
            Some(Value::String(v)) if v == JSONRPC_VERSION => {}
            _ => return invalid("jsonrpc must be \"2.0\""),
        }
        if let Some(p) = &self.params {
            if !(p.is_object() || p.is_array()) {
                return invalid("params must be an object or an array");
            }
        }
        if let Some(method) = self.method {
            let Value::String(method) = method else {
                return invalid("method must be a string");
            };
            if self.result.is_some() || self.error.is_some() {
                return invalid("a request cannot carry result or error");
            }
            return match self.id {
                None => Ok(Message::Notification(Notification {
                    method,
                    params: self.params,
                })),
                Some(Value::Null) => invalid("id must not be null"),
                Some(_) => match id {
                    Some(id) => Ok(Message::Request(Request {
                        id,
                        method,
                        params: self.params,
                    })),
                    None => invalid("id must be a string or an integer"),
                },
            };
        }
        match (self.result, self.error) {
            (Some(result), None) => match id {
                Some(id) => Ok(Message::Response(Response { id, result })),
                None => invalid("a response needs a string or integer id"),
            },
            (None, Some(error)) => {
                if id.is_none() && !matches!(self.id, Some(Value::Null)) {
                    return invalid("an error response needs an id or null");
                }
                match serde_json::from_value::<ErrorObject>(error) {
                    Ok(error) => Ok(Message::Error(ErrorResponse { id, error })),
                    Err(_) => invalid("error must have an integer code and a string message"),
                }
            }
            (Some(_), Some(_)) => invalid("a response cannot carry both result and error"),
            (None, None) => invalid("not a request, notification or response"),
        }
    }
}

/// A whole POST body or stdio line: one message or a batch (2025-03-26 only).
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// One message, or why it is invalid.
    Single(Result<Message, InvalidMessage>),
    /// A non-empty batch; each element checked on its own.
    Batch(Vec<Result<Message, InvalidMessage>>),
}

/// Why a body could not be read as JSON-RPC at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// Not JSON (or not UTF-8): `-32700`.
    #[error("parse error: {0}")]
    Parse(String),
    /// JSON, but neither an object nor a non-empty array: `-32600`.
    #[error("invalid request: {0}")]
    Invalid(&'static str),
}

impl PayloadError {
    /// The error response (with `id: null`) this deserves.
    pub fn to_error_response(&self) -> ErrorResponse {
        let error = match self {
            PayloadError::Parse(m) => ErrorObject::parse_error(format!("Parse error: {m}")),
            PayloadError::Invalid(m) => ErrorObject::invalid_request(*m),
        };
        ErrorResponse::new(None, error)
    }
}

enum RawPayload {
    Single(RawMessage),
    Batch(Vec<Value>),
    Other,
}

impl<'de> Deserialize<'de> for RawPayload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PayloadVisitor;
        impl<'de> Visitor<'de> for PayloadVisitor {
            type Value = RawPayload;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON-RPC message or batch")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawPayload, A::Error> {
                RawMessage::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawPayload::Single)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawPayload, A::Error> {
                let mut items = Vec::new();
                while let Some(v) = seq.next_element::<Value>()? {
                    items.push(v);
                }
                Ok(RawPayload::Batch(items))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<RawPayload, E> {
                Ok(RawPayload::Other)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<RawPayload, E> {
                Ok(RawPayload::Other)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<RawPayload, E> {
                Ok(RawPayload::Other)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<RawPayload, E> {
                Ok(RawPayload::Other)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<RawPayload, E> {
                Ok(RawPayload::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<RawPayload, E> {
                Ok(RawPayload::Other)
            }
        }
        d.deserialize_any(PayloadVisitor)
    }
}

/// Whether `body` nests arrays and objects more than `max` levels deep (a top-level object is
/// one level). A linear scan that allocates nothing, run before parsing so that a hostile body
/// is refused before any of it is built; brackets inside strings do not count. Malformed JSON
/// is left to the parser.
///
/// ```
/// use mcp_core::jsonrpc::nesting_exceeds;
/// assert!(!nesting_exceeds(br#"{"a":[1,{"b":"[[["}]}"#, 3));
/// assert!(nesting_exceeds(br#"{"a":[1,{"b":[]}]}"#, 3));
/// ```
pub fn nesting_exceeds(body: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in body {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Reads a body as one JSON-RPC message or a batch.
///
/// ```
/// use mcp_core::jsonrpc::{parse_payload, Payload, Message};
/// let body = br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
/// let Payload::Single(Ok(Message::Request(req))) = parse_payload(body).unwrap() else { panic!() };
/// assert_eq!(req.method, "ping");
/// ```
pub fn parse_payload(body: &[u8]) -> Result<Payload, PayloadError> {
    match serde_json::from_slice::<RawPayload>(body) {
        Ok(RawPayload::Single(raw)) => Ok(Payload::Single(raw.classify())),
        Ok(RawPayload::Batch(items)) => {
            if items.is_empty() {
                return Err(PayloadError::Invalid("empty batch"));
            }
            Ok(Payload::Batch(
                items
                    .into_iter()
                    .map(|v| {
                        if !v.is_object() {
                            return Err(InvalidMessage {
                                id: None,
                                reason: "batch element is not an object",
                            });
                        }
                        match RawMessage::deserialize(v) {
                            Ok(raw) => raw.classify(),
                            Err(_) => Err(InvalidMessage {
                                id: None,
                                reason: "malformed message",
                            }),
                        }
                    })
                    .collect(),
            ))
        }
        Ok(RawPayload::Other) => Err(PayloadError::Invalid("body must be a JSON object or array")),
        Err(e) => match e.classify() {
            serde_json::error::Category::Data => Err(PayloadError::Invalid("malformed message")),
            _ => Err(PayloadError::Parse(e.to_string())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn single(body: &str) -> Result<Message, InvalidMessage> {
        match parse_payload(body.as_bytes()) {
            Ok(Payload::Single(m)) => m,
            other => Err(InvalidMessage {
                id: None,
                reason: if other.is_err() { "payload" } else { "batch" },
            }),
        }
    }

    #[test]
    fn nesting_is_counted_outside_strings_only() {
        assert!(!nesting_exceeds(b"{}", 1));
        assert!(nesting_exceeds(b"[{}]", 1));
        assert!(!nesting_exceeds(br#"{"s":"{{{{\"[[[["}"#, 1));
        assert!(nesting_exceeds(br#"{"s":"\\","t":[]}"#, 1));
        let deep = "[".repeat(100_000);
        assert!(nesting_exceeds(deep.as_bytes(), 64));
        assert!(!nesting_exceeds(b"", 0));
    }

    #[test]
    fn request_notification_response_error() {
        assert!(matches!(
            single(r#"{"jsonrpc":"2.0","id":"a","method":"m","params":{}}"#),
            Ok(Message::Request(Request {
                id: RequestId::String(_),
                ..
            }))
        ));
        assert!(matches!(
            single(r#"{"jsonrpc":"2.0","method":"n"}"#),
            Ok(Message::Notification(_))
        ));
        assert!(matches!(
            single(r#"{"jsonrpc":"2.0","id":3,"result":{}}"#),
            Ok(Message::Response(_))
        ));
        assert!(matches!(
            single(r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}"#),
            Ok(Message::Error(ErrorResponse { id: None, .. }))
        ));
    }

    #[test]
    fn invalid_messages_keep_the_id_when_readable() {
        let e = single(r#"{"jsonrpc":"1.0","id":7,"method":"m"}"#).unwrap_err();
        assert_eq!(e.id, Some(RequestId::Number(7)));
        let e = single(r#"{"jsonrpc":"2.0","id":null,"method":"m"}"#).unwrap_err();
        assert_eq!(e.id, None);
        assert_eq!(e.reason, "id must not be null");
        let e = single(r#"{"jsonrpc":"2.0","id":1.5,"method":"m"}"#).unwrap_err();
        assert_eq!(e.id, None);
        let e = single(r#"{"jsonrpc":"2.0","id":"x","method":5}"#).unwrap_err();
        assert_eq!(e.id, Some(RequestId::String("x".into())));
        let e = single(r#"{"jsonrpc":"2.0","id":2,"method":"m","params":5}"#).unwrap_err();
        assert_eq!(e.id, Some(RequestId::Number(2)));
    }

    #[test]
    fn parse_errors_are_distinguished_from_invalid_requests() {
        assert!(matches!(
            parse_payload(b"{bad"),
            Err(PayloadError::Parse(_))
        ));
        assert!(matches!(
            parse_payload(b"\xff\xfe"),
            Err(PayloadError::Parse(_))
        ));
        assert!(matches!(
            parse_payload(b"42"),
            Err(PayloadError::Invalid(_))
        ));
        assert!(matches!(
            parse_payload(b"[]"),
            Err(PayloadError::Invalid(_))
        ));
        assert_eq!(
            PayloadError::Parse("x".into())
                .to_error_response()
                .error
                .code,
            ErrorCode::PARSE_ERROR
        );
    }

    #[test]
    fn batches_check_each_element() {
        let Ok(Payload::Batch(items)) = parse_payload(
            br#"[{"jsonrpc":"2.0","id":1,"method":"a"},5,{"jsonrpc":"2.0","method":"n"}]"#,
        ) else {
            panic!("expected a batch")
        };
        assert!(items[0].is_ok());
        assert!(items[1].is_err());
        assert!(matches!(items[2], Ok(Message::Notification(_))));
    }

    #[test]
    fn serialization_round_trips() {
        let msgs = [
            Message::Request(Request::new(1, "tools/list", Some(json!({})))),
            Message::Notification(Notification::new("notifications/initialized", None)),
            Message::Response(Response {
                id: "x".into(),
                result: json!({"a": 1}),
            }),
            Message::Error(ErrorResponse::new(
                None,
                ErrorObject::parse_error("bad").with_data(json!([1])),
            )),
        ];
        for m in msgs {
            let text = serde_json::to_string(&m).unwrap();
            assert!(text.starts_with(r#"{"jsonrpc":"2.0""#));
            let back: Message = serde_json::from_str(&text).unwrap();
            assert_eq!(back, m);
        }
    }
}
