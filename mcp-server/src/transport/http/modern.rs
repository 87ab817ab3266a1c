//! POST on the endpoint in the modern era (2026-07-28): stateless requests carrying their
//! version, capabilities and identity in `_meta` and in headers (T-30..T-44), answered as JSON or
//! as an SSE stream that the client cancels by closing it (T-25).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use futures_util::Stream;
use http::request::Parts;
use http::{HeaderMap, HeaderName, StatusCode};
use mcp_core::jsonrpc::{ErrorCode, ErrorObject, Message, Payload, Request, RequestId};
use mcp_core::types::methods;
use mcp_core::version::{Era, ProtocolVersion};
use serde_json::Value;
use tokio::sync::mpsc;

use super::HttpState;
use super::guard::Accepts;
use super::listen;
use super::post::{Outbound, PostPeer, encode_reply, step_up};
use super::respond::{self, MCP_PROTOCOL_VERSION, header};
use super::sse::frame;
use crate::BoxFuture;
use crate::auth::{AuthContext, Delegation};
use crate::client_state::ClientState;
use crate::context::{HttpRequestParts, Peer};
use crate::dispatch::meta::{declared_version, modern_version, read_meta};
use crate::dispatch::{self, Failure, Outcome, RequestEnv};

/// `Mcp-Method`.
static MCP_METHOD: HeaderName = HeaderName::from_static("mcp-method");
/// `Mcp-Name`.
static MCP_NAME: HeaderName = HeaderName::from_static("mcp-name");

/// VERSIONS §3: a POST is modern when its header names a modern version, or its body carries a
/// per-request protocol version in `_meta` (then a missing or wrong header is `-32020`). An
/// `initialize` in that form is a modern request for a removed method (404, T-32); a legacy
/// client's `initialize` carries neither and starts a legacy session.
pub(crate) fn is_modern(headers: &HeaderMap, payload: &Payload) -> bool {
    let header_is_modern = header(headers, &MCP_PROTOCOL_VERSION)
        .and_then(ProtocolVersion::parse)
        .is_some_and(|v| v.era() == Era::Modern);
    header_is_modern || body_version(payload).is_some()
}

fn body_version(payload: &Payload) -> Option<&Value> {
    match payload {
        Payload::Single(Ok(Message::Request(r))) => declared_version(r.params.as_ref()),
        Payload::Single(Ok(Message::Notification(n))) => declared_version(n.params.as_ref()),
        _ => None,
    }
}

fn error(status: StatusCode, id: Option<RequestId>, code: ErrorCode, message: &str) -> Response {
    respond::rpc_error(status, id, ErrorObject::new(code, message))
}

fn mismatch(id: &RequestId, message: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        Some(id.clone()),
        ErrorCode::HEADER_MISMATCH,
        message,
    )
}

/// The HTTP status of a modern JSON-RPC error (A.4; T-16: 200 for everything else).
fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::METHOD_NOT_FOUND => StatusCode::NOT_FOUND,
        ErrorCode::HEADER_MISMATCH
        | ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY
        | ErrorCode::UNSUPPORTED_PROTOCOL_VERSION
        | ErrorCode::PARSE_ERROR
        | ErrorCode::INVALID_REQUEST => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    }
}

/// Decodes a header value that may use the `=?base64?…?=` form (T-34), trimming optional
/// whitespace. `None` when the value is not valid.
pub(crate) fn decode_header_value(raw: &str) -> Option<String> {
    let v = raw.trim_matches([' ', '\t']);
    match v
        .strip_prefix("=?base64?")
        .and_then(|r| r.strip_suffix("?="))
    {
        Some(b64) => {
            let bytes = STANDARD.decode(b64).ok()?;
            String::from_utf8(bytes).ok()
        }
        None => Some(v.to_owned()),
    }
}

/// The value `Mcp-Name` must carry for `method` (T-33).
fn name_of<'a>(method: &str, params: Option<&'a Value>) -> Option<Option<&'a str>> {
    let key = match method {
        methods::TOOLS_CALL | methods::PROMPTS_GET => "name",
        methods::RESOURCES_READ => "uri",
        m if m.starts_with("tasks/") => "taskId",
        _ => return None,
    };
    Some(params.and_then(|p| p.get(key)).and_then(Value::as_str))
}

/// T-35: arguments marked `x-mcp-header` must be mirrored, equal, in `Mcp-Param-<Name>`.
fn check_param_headers(
    state: &HttpState,
    headers: &HeaderMap,
    params: Option<&Value>,
) -> Result<(), String> {
    let Some(name) = params.and_then(|p| p.get("name")).and_then(Value::as_str) else {
        return Ok(());
    };
    let registry = state.server.registry.load();
    let Some(tool) = registry.tools.get(name) else {
        return Ok(());
    };
    let args = params
        .and_then(|p| p.get("arguments"))
        .and_then(Value::as_object);
    for (property, header_name) in tool.header_params() {
        let arg = args.and_then(|a| a.get(property)).filter(|v| !v.is_null());
        let Some(arg) = arg else { continue };
        let full = format!("mcp-param-{}", header_name.to_ascii_lowercase());
        let raw = headers
            .get(full.as_str())
            .ok_or_else(|| format!("Mcp-Param-{header_name} is required"))?
            .to_str()
            .map_err(|_| format!("Mcp-Param-{header_name} has invalid characters"))?;
        let value = decode_header_value(raw)
            .ok_or_else(|| format!("Mcp-Param-{header_name} is not valid base64"))?;
        let equal = match arg {
            Value::String(s) => *s == value,
            Value::Bool(b) => value == if *b { "true" } else { "false" },
            Value::Number(n) => match (n.as_i64(), value.parse::<i64>()) {
                (Some(a), Ok(b)) => a == b,
                _ => n
                    .as_f64()
                    .zip(value.parse::<f64>().ok())
                    .is_some_and(|(a, b)| a == b),
            },
            _ => false,
        };
        if !equal {
            return Err(format!(
                "Mcp-Param-{header_name} does not match the argument"
            ));
        }
    }
    Ok(())
}

/// Handles a modern POST.
pub(crate) async fn post(
    state: Arc<HttpState>,
    parts: Parts,
    payload: Payload,
    accepts: Accepts,
) -> Response {
    let request = match payload {
        Payload::Single(Ok(Message::Request(r))) => r,
        Payload::Single(Ok(Message::Notification(_))) => return respond::accepted(),
        Payload::Single(Ok(_)) => {
            return error(
                StatusCode::BAD_REQUEST,
                None,
                ErrorCode::INVALID_REQUEST,
                "clients must not send responses in protocol version 2026-07-28",
            );
        }
        Payload::Single(Err(invalid)) => {
            let e = invalid.to_error_response();
            return respond::rpc_error(StatusCode::BAD_REQUEST, e.id, e.error);
        }
        Payload::Batch(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                None,
                ErrorCode::INVALID_REQUEST,
                "batches are not supported in protocol version 2026-07-28",
            );
        }
    };
    let id = request.id.clone();
    let headers = &parts.headers;

    match header(headers, &MCP_METHOD) {
        Some(m) if m == request.method => {}
        Some(_) => return mismatch(&id, "Mcp-Method does not match the request's method"),
        None => return mismatch(&id, "Mcp-Method header is required"),
    }
    let meta = match read_meta(request.params.as_ref()) {
        Ok(m) => m,
        Err(why) => {
            return error(
                StatusCode::BAD_REQUEST,
                Some(id),
                ErrorCode::INVALID_PARAMS,
                why,
            );
        }
    };
    match header(headers, &MCP_PROTOCOL_VERSION) {
        Some(v) if v == meta.version => {}
        Some(_) => return mismatch(&id, "MCP-Protocol-Version does not match _meta"),
        None => return mismatch(&id, "MCP-Protocol-Version header is required"),
    }
    let version = match modern_version(&state.server, &meta.version) {
        Ok(v) => v,
        Err(e) => return respond::rpc_error(StatusCode::BAD_REQUEST, Some(id), e),
    };
    if dispatch::removed_in_modern(&request.method) {
        let e = ErrorObject::method_not_found(&request.method);
        return respond::rpc_error(StatusCode::NOT_FOUND, Some(id), e);
    }
    if let Some(expected) = name_of(&request.method, request.params.as_ref()) {
        let given = header(headers, &MCP_NAME).and_then(decode_header_value);
        match (given, expected) {
            (Some(g), Some(e)) if g == e => {}
            (None, _) => return mismatch(&id, "Mcp-Name header is required (or not valid)"),
            _ => return mismatch(&id, "Mcp-Name does not match the request"),
        }
    }
    if request.method == methods::TOOLS_CALL {
        if let Err(why) = check_param_headers(&state, headers, request.params.as_ref()) {
            return mismatch(&id, &why);
        }
    }
    if request.method == methods::SUBSCRIPTIONS_LISTEN {
        return listen::listen(&state, request, accepts);
    }

    let client = Arc::new(ClientState::per_request(
        version,
        meta.capabilities,
        meta.client_info.unwrap_or_default(),
        meta.log_level,
    ));
    run(&state, parts, request, version, client, accepts).await
}

async fn run(
    state: &Arc<HttpState>,
    parts: Parts,
    request: Request,
    version: ProtocolVersion,
    client: Arc<ClientState>,
    accepts: Accepts,
) -> Response {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let peer: Arc<dyn Peer> = Arc::new(PostPeer::new(tx, None, false));
    let Parts {
        headers,
        uri,
        extensions,
        ..
    } = parts;
    let auth = extensions.get::<Arc<AuthContext>>().cloned();
    let delegation = extensions.get::<Delegation>().cloned();
    let env = RequestEnv {
        version,
        peer,
        client: Some(client),
        auth,
        delegation,
        http: Some(HttpRequestParts {
            headers,
            uri,
            extensions,
        }),
    };
    let id = request.id.clone();
    let mut work = dispatch::handle_request(Arc::clone(&state.server), request, env);

    let reply = |outcome: &Outcome| -> Response {
        let status = match outcome {
            Err(Failure::StepUp(s)) => return step_up(state, s),
            Ok(_) => StatusCode::OK,
            Err(Failure::Error(e)) => status_of(e.code),
        };
        respond::json(status, encode_reply(&id, outcome))
    };
    if !accepts.sse {
        return reply(&work.await);
    }
    let mut first = None;
    if accepts.json {
        tokio::select! {
            biased;
            out = &mut work => match rx.try_recv() {
                Err(_) => return reply(&out),
                Ok(o) => return respond::sse(&state.server.metrics, ModernBody::finished(o, rx, &id, &out)),
            },
            Some(o) = rx.recv() => first = Some(o),
        }
    }
    respond::sse(
        &state.server.metrics,
        ModernBody {
            id: id.clone(),
            first,
            rx,
            work: Some(work),
            last: None,
        },
    )
}

/// The SSE body of a modern response. It drives the handler itself, so a client that closes
/// the stream drops the handler: the disconnect is the cancellation (T-25). No event ids: modern
/// streams cannot be resumed (T-26).
struct ModernBody {
    id: RequestId,
    first: Option<Outbound>,
    rx: mpsc::UnboundedReceiver<Outbound>,
    work: Option<BoxFuture<'static, Outcome>>,
    last: Option<Bytes>,
}

fn message_frame(o: Outbound) -> Option<Bytes> {
    match o {
        Outbound::Message(json) => Some(frame(None, None, &json)),
        Outbound::CloseStream => None,
    }
}

impl ModernBody {
    fn finished(
        first: Outbound,
        rx: mpsc::UnboundedReceiver<Outbound>,
        id: &RequestId,
        out: &Outcome,
    ) -> Self {
        ModernBody {
            id: id.clone(),
            first: Some(first),
            rx,
            work: None,
            last: Some(final_frame(id, out)),
        }
    }
}

fn final_frame(id: &RequestId, out: &Outcome) -> Bytes {
    let text = String::from_utf8_lossy(&encode_reply(id, out)).into_owned();
    frame(None, None, &text)
}

impl Stream for ModernBody {
    type Item = Result<Bytes, std::convert::Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Some(o) = this.first.take() {
            if let Some(f) = message_frame(o) {
                return Poll::Ready(Some(Ok(f)));
            }
        }
        while let Poll::Ready(Some(o)) = this.rx.poll_recv(cx) {
            if let Some(f) = message_frame(o) {
                return Poll::Ready(Some(Ok(f)));
            }
        }
        if let Some(work) = this.work.as_mut() {
            match work.as_mut().poll(cx) {
                Poll::Ready(out) => {
                    this.work = None;
                    this.last = Some(final_frame(&this.id, &out));
                    // Messages sent just before the result go first.
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(this.last.take().map(Ok))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_decode() {
        assert_eq!(decode_header_value("  echo\t").as_deref(), Some("echo"));
        assert_eq!(
            decode_header_value("=?base64?aMOpbGxv?=").as_deref(),
            Some("héllo")
        );
        assert_eq!(decode_header_value("=?base64?!!!?="), None);
        assert_eq!(
            decode_header_value("=?base64?SGVsbG8?="),
            None,
            "padding is required"
        );
        assert_eq!(
            decode_header_value("=?base64?SGVsbG8=?=").as_deref(),
            Some("Hello")
        );
        assert_eq!(
            decode_header_value("=?BASE64?aGk=?=").as_deref(),
            Some("=?BASE64?aGk=?=")
        );
    }

    #[test]
    fn modern_statuses() {
        assert_eq!(
            status_of(ErrorCode::METHOD_NOT_FOUND),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            status_of(ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(status_of(ErrorCode::INVALID_PARAMS), StatusCode::OK);
    }

    #[test]
    fn meta_is_required() {
        assert!(read_meta(None).is_err());
        let p =
            serde_json::json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}});
        assert!(read_meta(Some(&p)).is_err());
        let p = serde_json::json!({"_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/logLevel": "bogus"}});
        assert!(read_meta(Some(&p)).is_err());
        let p = serde_json::json!({"_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}}}});
        let m = read_meta(Some(&p)).unwrap();
        assert!(m.capabilities.elicitation.is_some());
    }
}
