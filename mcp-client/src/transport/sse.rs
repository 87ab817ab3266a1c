//! Server-sent events carrying JSON-RPC messages, decoded with `sse-stream` from reqwest's byte
//! stream. Keeps the last event id and the `retry:` hint across reconnections, skips priming
//! events (an id with empty data) and comments, and reports events whose data is not JSON-RPC
//! instead of failing the whole stream.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use mcp_core::jsonrpc::{Message, Payload, parse_payload};
use sse_stream::SseByteStream;

use crate::error::{Error, Malformed, TransportError};

type Bytestream = BoxStream<'static, Result<Bytes, reqwest::Error>>;

/// One decoded event.
#[derive(Debug)]
pub(crate) enum SseItem {
    /// A JSON-RPC message.
    Message(Message),
    /// An event whose data is not a JSON-RPC message, and why.
    Invalid(String),
}

/// JSON-RPC messages from one logical SSE stream, across reconnections.
pub(crate) struct SseReader {
    events: SseByteStream<Bytestream>,
    queue: VecDeque<SseItem>,
    last_event_id: Option<String>,
    retry: Option<Duration>,
}

impl SseReader {
    pub fn new(response: reqwest::Response) -> Self {
        SseReader {
            events: SseByteStream::new(response.bytes_stream().boxed()),
            queue: VecDeque::new(),
            last_event_id: None,
            retry: None,
        }
    }

    /// Continues the stream on a new connection (a resumption), keeping the id and retry hint.
    pub fn reconnect(&mut self, response: reqwest::Response) {
        self.events = SseByteStream::new(response.bytes_stream().boxed());
    }

    /// The id of the last event that had one (`Last-Event-ID` for a resumption).
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_event_id.as_deref()
    }

    /// The server's last `retry:` hint.
    pub fn retry(&self) -> Option<Duration> {
        self.retry
    }

    /// The next message; `None` when the connection ended cleanly, `Some(Err)` when it broke.
    pub async fn next(&mut self) -> Option<Result<SseItem, Error>> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Some(Ok(item));
            }
            let event = match self.events.next().await? {
                Ok(e) => e,
                Err(sse_stream::Error::Body(e)) => {
                    return Some(Err(TransportError::Stream(e).into()));
                }
                Err(e) => return Some(Err(Malformed::Sse(e.to_string()).into())),
            };
            if let Some(id) = event.id {
                self.last_event_id = (!id.is_empty()).then_some(id);
            }
            if let Some(ms) = event.retry {
                self.retry = Some(Duration::from_millis(ms));
            }
            if event.event.as_deref().is_some_and(|e| e != "message") {
                continue;
            }
            let Some(data) = event.data else { continue };
            if data.trim().is_empty() {
                continue;
            }
            match parse_payload(data.as_bytes()) {
                Ok(Payload::Single(Ok(m))) => return Some(Ok(SseItem::Message(m))),
                Ok(Payload::Single(Err(invalid))) => {
                    return Some(Ok(SseItem::Invalid(invalid.reason.to_owned())));
                }
                Ok(Payload::Batch(items)) => {
                    for item in items {
                        self.queue.push_back(match item {
                            Ok(m) => SseItem::Message(m),
                            Err(invalid) => SseItem::Invalid(invalid.reason.to_owned()),
                        });
                    }
                }
                Err(e) => return Some(Ok(SseItem::Invalid(e.to_string()))),
            }
        }
    }
}
