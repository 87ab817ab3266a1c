//! The HTTP side of the JSON-RPC targets: the text format an input is read in, sending each
//! request through the fixture's router in process (`tower::ServiceExt::oneshot`, no socket),
//! reading what the response has ready, and the invariants every response must keep.
//!
//! # Input format
//!
//! An input is one or more requests separated by a line `%%`. A request is either
//!
//! - a JSON body alone (it starts with `{` or `[`): the headers a well-behaved client sends are
//!   derived from it (`Content-Type`, `Accept`; the legacy session and version; the modern
//!   `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` and `Mcp-Param-*` from the body), or
//! - a header block, an empty line, then the body. The block may start with `@METHOD /target`
//!   (default `POST /mcp`); each other line is `name: value`. `$SESSION` in a value is the
//!   current legacy session id.

use std::collections::BTreeSet;

use axum::Router;
use axum::body::Body;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::FutureExt;
use http::{HeaderMap, HeaderName, Method, Request, StatusCode};
use http_body_util::BodyExt;
use mcp_client::fuzzing::{SseDecoder, SseOutput};
use mcp_core::jsonrpc::{Message, Payload, RequestId, parse_payload};
use serde_json::{Value, json};
use tower::ServiceExt;

/// The line separating the requests of an input.
pub const SEPARATOR: &[u8] = b"\n%%\n";
/// Replaced by the current legacy session id in header values.
pub const SESSION_VAR: &str = "$SESSION";
/// The legacy version the targets negotiate.
pub const LEGACY_VERSION: &str = "2025-11-25";
/// The modern version.
pub const MODERN_VERSION: &str = "2026-07-28";
/// At most this many requests of an input are sent.
const MAX_EXCHANGES: usize = 8;
/// How many times reading a response finds nothing ready before it stops (an SSE stream may
/// never end).
const IDLE_POLLS: usize = 64;
/// At most this much of a response is read.
const MAX_READ: usize = 1 << 20;

/// Which protocol era a target speaks when it derives headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// `initialize`, sessions (2025-11-25 and before).
    Legacy,
    /// Stateless requests (2026-07-28).
    Modern,
}

/// One request of an input.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The HTTP method.
    pub method: Method,
    /// The path and query.
    pub target: String,
    /// The headers, values as written (before `$SESSION` is replaced).
    pub headers: Vec<(HeaderName, Vec<u8>)>,
    /// The body.
    pub body: Vec<u8>,
}

/// The requests of an input (at most [`MAX_EXCHANGES`]).
pub fn exchanges(data: &[u8], era: Era) -> Vec<Exchange> {
    let mut out = Vec::new();
    let mut rest = data;
    while out.len() < MAX_EXCHANGES {
        let (chunk, next) = match find(rest, SEPARATOR) {
            Some(i) => (&rest[..i], Some(&rest[i + SEPARATOR.len()..])),
            None => (rest, None),
        };
        out.push(parse_exchange(chunk, era));
        match next {
            Some(n) => rest = n,
            None => break,
        }
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads one request.
pub fn parse_exchange(chunk: &[u8], era: Era) -> Exchange {
    let first = chunk.iter().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b'{' | b'[')) {
        return synthesized(chunk.to_vec(), era);
    }
    let (head, body) = match find(chunk, b"\n\n") {
        Some(i) => (&chunk[..i], &chunk[i + 2..]),
        None => (chunk, &[][..]),
    };
    let mut exchange = Exchange {
        method: Method::POST,
        target: "/mcp".to_owned(),
        headers: Vec::new(),
        body: body.to_vec(),
    };
    for line in head.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(request_line) = line.strip_prefix(b"@") {
            let text = String::from_utf8_lossy(request_line);
            let mut words = text.split_whitespace();
            if let Some(m) = words
                .next()
                .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
            {
                exchange.method = m;
            }
            if let Some(t) = words.next() {
                exchange.target = t.to_owned();
            }
            continue;
        }
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let name = line[..colon].trim_ascii();
        let value = line[colon + 1..].trim_ascii_start();
        if let Ok(name) = HeaderName::from_bytes(name) {
            exchange.headers.push((name, value.to_vec()));
        }
    }
    exchange
}

/// A header value for `text`: as it is when it is plain visible ASCII, else in the
/// `=?base64?…?=` form (T-34).
pub fn header_text(text: &str) -> Vec<u8> {
    let plain = text.bytes().all(|b| (0x20..0x7f).contains(&b))
        && !text.starts_with([' ', '\t'])
        && !text.ends_with([' ', '\t'])
        && !text.starts_with("=?");
    if plain {
        text.as_bytes().to_vec()
    } else {
        format!("=?base64?{}?=", STANDARD.encode(text)).into_bytes()
    }
}

/// The text an argument is mirrored as in an `Mcp-Param-*` header.
fn param_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A request with the headers a well-behaved client of `era` sends with `body`.
pub fn synthesized(body: Vec<u8>, era: Era) -> Exchange {
    let mut headers: Vec<(HeaderName, Vec<u8>)> = vec![
        (http::header::CONTENT_TYPE, b"application/json".to_vec()),
        (
            http::header::ACCEPT,
            b"application/json, text/event-stream".to_vec(),
        ),
    ];
    let name = |n: &'static str| HeaderName::from_static(n);
    match era {
        Era::Legacy => {
            headers.push((name("mcp-protocol-version"), LEGACY_VERSION.into()));
            headers.push((name("mcp-session-id"), SESSION_VAR.into()));
        }
        Era::Modern => {
            let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let params = v.get("params");
            let version = params
                .and_then(|p| p.get("_meta"))
                .and_then(|m| m.get("io.modelcontextprotocol/protocolVersion"))
                .and_then(Value::as_str)
                .unwrap_or(MODERN_VERSION);
            headers.push((name("mcp-protocol-version"), header_text(version)));
            let method = v.get("method").and_then(Value::as_str);
            if let Some(m) = method {
                headers.push((name("mcp-method"), header_text(m)));
            }
            let key = match method {
                Some("tools/call" | "prompts/get") => Some("name"),
                Some("resources/read") => Some("uri"),
                Some(m) if m.starts_with("tasks/") => Some("taskId"),
                _ => None,
            };
            let target = key.and_then(|k| params?.get(k)?.as_str());
            if let Some(t) = target {
                headers.push((name("mcp-name"), header_text(t)));
            }
            if method == Some("tools/call") && target == Some("region") {
                let args = params.and_then(|p| p.get("arguments"));
                for (prop, header) in [("region", "mcp-param-region"), ("limit", "mcp-param-limit")]
                {
                    if let Some(text) = args.and_then(|a| a.get(prop)).and_then(param_text) {
                        headers.push((name(header), header_text(&text)));
                    }
                }
            }
        }
    }
    Exchange {
        method: Method::POST,
        target: "/mcp".to_owned(),
        headers,
        body,
    }
}

/// A response, as far as it could be read.
#[derive(Debug)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body bytes read.
    pub body: Vec<u8>,
    /// Whether the body ended (an SSE stream may still be open).
    pub complete: bool,
}

impl Reply {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The media type of `Content-Type`, lower-cased.
    pub fn media_type(&self) -> Option<String> {
        let ct = self.header("content-type")?;
        Some(
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase(),
        )
    }
}

/// Sends `exchange` through `router` (`$SESSION` replaced by `session`); `None` when it cannot
/// be written as an HTTP request (a target that is no URI).
pub async fn send(router: &Router, exchange: &Exchange, session: Option<&str>) -> Option<Reply> {
    let mut builder = Request::builder()
        .method(exchange.method.clone())
        .uri(exchange.target.as_str());
    for (name, raw) in &exchange.headers {
        let value = substitute(raw, session.unwrap_or(""));
        if let Ok(v) = http::HeaderValue::from_bytes(&value) {
            builder = builder.header(name, v);
        }
    }
    let request = builder.body(Body::from(exchange.body.clone())).ok()?;
    let response = match router.clone().oneshot(request).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let (parts, body) = response.into_parts();
    let (body, complete) = read_available(body).await;
    Some(Reply {
        status: parts.status,
        headers: parts.headers,
        body,
        complete,
    })
}

fn substitute(raw: &[u8], session: &str) -> Vec<u8> {
    let var = SESSION_VAR.as_bytes();
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i..].starts_with(var) {
            out.extend_from_slice(session.as_bytes());
            i += var.len();
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    out
}

/// Reads what the body has ready, letting the runtime's other tasks run in between; stops when
/// nothing comes for a while (an open SSE stream) or after [`MAX_READ`] bytes.
pub async fn read_available(mut body: Body) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut idle = 0;
    while idle < IDLE_POLLS {
        match body.frame().now_or_never() {
            Some(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    out.extend_from_slice(&data);
                }
                idle = 0;
                if out.len() > MAX_READ {
                    return (out, false);
                }
            }
            Some(Some(Err(_))) => return (out, false),
            Some(None) => return (out, true),
            None => {
                idle += 1;
                tokio::task::yield_now().await;
            }
        }
    }
    (out, false)
}

/// The ids a request body carries, as the server's parser reads them: the ids of its requests,
/// and those it could read from invalid messages.
pub fn request_ids(body: &[u8]) -> BTreeSet<RequestId> {
    let items = match parse_payload(body) {
        Ok(Payload::Single(m)) => vec![m],
        Ok(Payload::Batch(items)) => items,
        Err(_) => Vec::new(),
    };
    items
        .into_iter()
        .filter_map(|m| match m {
            Ok(Message::Request(r)) => Some(r.id),
            Ok(_) => None,
            Err(invalid) => invalid.id,
        })
        .collect()
}

/// Whether a body holds only notifications and responses (which a legacy server accepts with
/// 202 and no body).
fn only_notifications_and_responses(body: &[u8]) -> bool {
    let items = match parse_payload(body) {
        Ok(Payload::Single(m)) => vec![m],
        Ok(Payload::Batch(items)) => items,
        Err(_) => return false,
    };
    items.iter().all(|m| {
        matches!(
            m,
            Ok(Message::Notification(_) | Message::Response(_) | Message::Error(_))
        )
    })
}

/// Checks a response message that answers `exchange`: its id, when it has one, is one the
/// request carried.
fn check_answer(exchange: &Exchange, ids: &BTreeSet<RequestId>, m: &Message, body: &str) {
    if exchange.method != Method::POST {
        return;
    }
    let id = match m {
        Message::Response(r) => Some(&r.id),
        Message::Error(e) => e.id.as_ref(),
        _ => None,
    };
    if let Some(id) = id {
        assert!(
            ids.contains(id),
            "the response id {id} is not one of the request's {ids:?}: {body}"
        );
    }
}

/// The invariants of any response of the MCP endpoint to `exchange`:
///
/// - no 5xx but 503 (a 500 is a server bug; 503 is an allowed refusal);
/// - 202 has no body; a success to a legacy POST of notifications and responses only is 202;
/// - a JSON body is JSON; to a POST, a JSON-RPC response or error, or a non-empty batch of them;
/// - an SSE body's events each carry one JSON-RPC message (the client's decoder reads them);
/// - a response to a POST carries an id the request carried (or `null`).
pub async fn check(exchange: &Exchange, reply: &Reply, era: Era) {
    let status = reply.status.as_u16();
    let body = String::from_utf8_lossy(&reply.body);
    if crate::debug() {
        eprintln!("{} {} -> {status} {body}", exchange.method, exchange.target);
    }
    assert!(
        status < 500 || status == 503,
        "HTTP {status} for {exchange:?}: {body}"
    );
    if status == 202 {
        assert!(reply.body.is_empty(), "202 with a body: {body}");
    }
    if era == Era::Legacy
        && exchange.method == Method::POST
        && reply.status.is_success()
        && only_notifications_and_responses(&exchange.body)
    {
        assert_eq!(status, 202, "notifications and responses only: {body}");
    }
    let ids = request_ids(&exchange.body);
    match reply.media_type().as_deref() {
        Some("application/json") if reply.complete && exchange.method != Method::POST => {
            // A DELETE's `{}`, a GET's transport error: JSON, not necessarily JSON-RPC.
            let parsed = serde_json::from_slice::<Value>(&reply.body);
            assert!(
                parsed.is_ok(),
                "a JSON response that is not JSON: {body} ({exchange:?})"
            );
        }
        Some("application/json") if reply.complete => {
            let parsed = parse_payload(&reply.body);
            let items = match parsed {
                Ok(Payload::Single(m)) => vec![m],
                Ok(Payload::Batch(items)) => items,
                Err(e) => {
                    panic!("a JSON response that is not JSON-RPC ({e}): {body} ({exchange:?})")
                }
            };
            for item in items {
                match item {
                    Ok(m @ (Message::Response(_) | Message::Error(_))) => {
                        check_answer(exchange, &ids, &m, &body);
                    }
                    other => panic!("a JSON response holds {other:?}: {body} ({exchange:?})"),
                }
            }
        }
        Some("text/event-stream") => {
            let mut decoder = SseDecoder::new(vec![bytes::Bytes::from(reply.body.clone())]);
            while let Some(item) = decoder.next().await {
                match item {
                    SseOutput::Message(m) => check_answer(exchange, &ids, &m, &body),
                    SseOutput::Invalid(why) => {
                        panic!("an SSE event is not JSON-RPC ({why}): {body}")
                    }
                    SseOutput::Failed(why) => panic!("the SSE stream is malformed ({why}): {body}"),
                }
            }
        }
        _ => {}
    }
}

/// The `initialize` request the legacy target opens each input with.
pub fn initialize() -> Exchange {
    let body = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": LEGACY_VERSION,
        "capabilities": {"roots": {"listChanged": true}, "sampling": {}, "elicitation": {}},
        "clientInfo": {"name": "fuzz", "version": "0"}}});
    let mut e = synthesized(body.to_string().into_bytes(), Era::Legacy);
    e.headers
        .retain(|(n, _)| n.as_str() != "mcp-session-id" && n.as_str() != "mcp-protocol-version");
    e
}

/// `notifications/initialized`, in the session.
pub fn initialized() -> Exchange {
    let body = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    synthesized(body.to_string().into_bytes(), Era::Legacy)
}

/// `DELETE` of the session.
pub fn delete_session() -> Exchange {
    Exchange {
        method: Method::DELETE,
        target: "/mcp".to_owned(),
        headers: vec![
            (
                HeaderName::from_static("mcp-session-id"),
                SESSION_VAR.into(),
            ),
            (
                HeaderName::from_static("mcp-protocol-version"),
                LEGACY_VERSION.into(),
            ),
        ],
        body: Vec::new(),
    }
}

/// Runs a legacy input: `initialize` and `notifications/initialized` first, then its requests
/// in the session (a successful `initialize` among them moves to its new session), then every
/// session is deleted. Every response is checked.
pub async fn run_legacy(data: &[u8]) {
    let router = crate::fixture::router();
    let init = initialize();
    let Some(reply) = send(&router, &init, None).await else {
        return;
    };
    check(&init, &reply, Era::Legacy).await;
    let session = reply
        .header("mcp-session-id")
        .unwrap_or_else(|| panic!("initialize opened no session: {reply:?}"))
        .to_owned();
    let mut sessions = vec![session];
    let notified = initialized();
    if let Some(reply) = send(&router, &notified, sessions.last().map(String::as_str)).await {
        check(&notified, &reply, Era::Legacy).await;
    }
    for exchange in exchanges(data, Era::Legacy) {
        let current = sessions.last().cloned();
        let Some(reply) = send(&router, &exchange, current.as_deref()).await else {
            continue;
        };
        check(&exchange, &reply, Era::Legacy).await;
        if let Some(new) = reply.header("mcp-session-id")
            && current.as_deref() != Some(new)
        {
            sessions.push(new.to_owned());
        }
    }
    let delete = delete_session();
    for s in &sessions {
        if let Some(reply) = send(&router, &delete, Some(s)).await {
            check(&delete, &reply, Era::Legacy).await;
        }
    }
}

/// Runs a modern input: each request on its own (the era is stateless). Every response is
/// checked.
pub async fn run_modern(data: &[u8]) {
    let router = crate::fixture::router();
    for exchange in exchanges(data, Era::Modern) {
        if let Some(reply) = send(&router, &exchange, None).await {
            check(&exchange, &reply, Era::Modern).await;
        }
    }
}
