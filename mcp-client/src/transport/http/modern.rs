//! The modern era (2026-07-28) on HTTP: the `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`
//! and `Mcp-Param-{Name}` headers (values that are not plain ASCII in the `=?base64?…?=` form),
//! and `subscriptions/listen`, whose stream stays open until its reader is dropped.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mcp_core::jsonrpc::Message;
use mcp_core::types::{SubscriptionFilter, SubscriptionsAcknowledgedNotificationParams, methods};
use mcp_core::version::ProtocolVersion;
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use super::{BodyKind, HttpWire, MCP_PROTOCOL_VERSION, body_kind};
use crate::error::{Error, Malformed, TransportError};
use crate::notifications::AbortOnDrop;
use crate::transport::Call;
use crate::transport::sse::{SseItem, SseReader};

static MCP_METHOD: HeaderName = HeaderName::from_static("mcp-method");
static MCP_NAME: HeaderName = HeaderName::from_static("mcp-name");

/// A header value as the modern wire wants it: as is when it is plain visible ASCII without
/// surrounding whitespace, otherwise `=?base64?<UTF-8 bytes, base64>?=`.
pub(crate) fn encode_header_value(value: &str) -> HeaderValue {
    let plain = value.bytes().all(|b| (0x20..=0x7e).contains(&b))
        && !value.starts_with([' ', '\t'])
        && !value.ends_with([' ', '\t'])
        && !value.starts_with("=?");
    let text = if plain {
        value.to_owned()
    } else {
        format!("=?base64?{}?=", STANDARD.encode(value))
    };
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// What `Mcp-Name` carries for `method`: the tool or prompt name, the resource URI, the task id.
fn name_of<'a>(method: &str, params: Option<&'a Value>) -> Option<&'a str> {
    let key = match method {
        methods::TOOLS_CALL | methods::PROMPTS_GET => "name",
        methods::RESOURCES_READ => "uri",
        m if m.starts_with("tasks/") => "taskId",
        _ => return None,
    };
    params?.get(key)?.as_str()
}

/// Adds the modern headers of a request or notification.
pub(super) fn add_headers(
    headers: &mut HeaderMap,
    version: ProtocolVersion,
    method: &str,
    params: Option<&Value>,
    param_headers: &[(String, String)],
) -> Result<(), Error> {
    headers.insert(
        MCP_PROTOCOL_VERSION.clone(),
        HeaderValue::from_static(version.as_str()),
    );
    let method_value = HeaderValue::from_str(method).map_err(|_| Error::InvalidArguments {
        what: "the method name",
    })?;
    headers.insert(MCP_METHOD.clone(), method_value);
    if let Some(name) = name_of(method, params) {
        headers.insert(MCP_NAME.clone(), encode_header_value(name));
    }
    for (name, value) in param_headers {
        match HeaderName::from_bytes(format!("mcp-param-{name}").as_bytes()) {
            Ok(header) => {
                headers.insert(header, encode_header_value(value));
            }
            Err(_) => tracing::debug!(%name, "skipping an x-mcp-header that is not a header name"),
        }
    }
    Ok(())
}

impl HttpWire {
    /// Opens `subscriptions/listen`: waits for the acknowledgement, then reads the stream in the
    /// background until the returned reader is dropped (which closes the stream and so ends the
    /// subscription on the server).
    pub async fn listen(
        &self,
        call: Call,
    ) -> Result<(SubscriptionFilter, Box<dyn Send + Sync>), Error> {
        let Call {
            request, framing, ..
        } = call;
        let (headers, _) =
            self.post_headers(framing, &request.method, request.params.as_ref(), &[])?;
        let body = serde_json::to_vec(&request).map_err(|_| Error::InvalidArguments {
            what: "the request",
        })?;
        let response = self
            .send(Method::POST, headers, Some(bytes::Bytes::from(body)))
            .await?;
        if !response.status().is_success() {
            return Err(self.status_error(response, framing, false).await);
        }
        match body_kind(response.headers()) {
            BodyKind::Sse => {}
            BodyKind::Other(ct) => return Err(Malformed::ContentType(ct).into()),
            BodyKind::Json | BodyKind::Unknown => {
                let body = super::read_body(response, super::MAX_BODY).await?;
                return Err(match super::parse_reply(&body, &request.id) {
                    Err(e) => e,
                    Ok(_) => Malformed::NotAResponse("result before the acknowledgement").into(),
                });
            }
        }
        let mut reader = SseReader::new(response);
        let filter = loop {
            match reader.next().await {
                Some(Ok(SseItem::Message(Message::Notification(n))))
                    if n.method == methods::NOTIFICATION_SUBSCRIPTIONS_ACKNOWLEDGED =>
                {
                    let params = n.params.unwrap_or(Value::Null);
                    let ack: SubscriptionsAcknowledgedNotificationParams =
                        serde_json::from_value(params).map_err(|source| Malformed::Result {
                            method: n.method.clone(),
                            source,
                        })?;
                    break ack.notifications;
                }
                Some(Ok(SseItem::Message(Message::Error(e)))) => {
                    return Err(Error::Protocol(e.error));
                }
                Some(Ok(SseItem::Message(Message::Notification(n)))) => {
                    self.incoming().notification(n);
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => return Err(TransportError::StreamEnded.into()),
            }
        };
        let incoming = std::sync::Arc::clone(self.incoming());
        let task = tokio::spawn(async move {
            while let Some(Ok(item)) = reader.next().await {
                match item {
                    SseItem::Message(Message::Notification(n)) => incoming.notification(n),
                    SseItem::Message(Message::Response(_) | Message::Error(_)) => break,
                    _ => {}
                }
            }
        });
        Ok((filter, Box::new(AbortOnDrop(task))))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn header_values_are_plain_or_base64() {
        assert_eq!(encode_header_value("echo"), "echo");
        assert_eq!(encode_header_value("héllo"), "=?base64?aMOpbGxv?=");
        assert_eq!(encode_header_value(" x"), "=?base64?IHg=?=");
        assert_eq!(encode_header_value("a\nb"), "=?base64?YQpi?=");
        assert_eq!(
            encode_header_value("=?base64?x?="),
            "=?base64?PT9iYXNlNjQ/eD89?="
        );
    }

    #[test]
    fn modern_headers() {
        let mut h = HeaderMap::new();
        let params = json!({"name": "get_weather", "arguments": {"city": "Zürich"}});
        add_headers(
            &mut h,
            ProtocolVersion::V2026_07_28,
            "tools/call",
            Some(&params),
            &[("City".into(), "Zürich".into())],
        )
        .unwrap();
        assert_eq!(h["mcp-protocol-version"], "2026-07-28");
        assert_eq!(h["mcp-method"], "tools/call");
        assert_eq!(h["mcp-name"], "get_weather");
        assert_eq!(h["mcp-param-city"], "=?base64?WsO8cmljaA==?=");
        let mut h = HeaderMap::new();
        add_headers(
            &mut h,
            ProtocolVersion::V2026_07_28,
            "tools/list",
            None,
            &[],
        )
        .unwrap();
        assert!(h.get("mcp-name").is_none());
    }
}
