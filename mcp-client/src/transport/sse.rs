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

/// The largest event the client buffers (its field bytes, without line ends).
const MAX_EVENT: usize = 64 * 1024 * 1024;

type Bytestream = BoxStream<'static, Result<Bytes, ChunkError>>;

/// Why the byte stream under the SSE decoder stopped.
#[derive(Debug, thiserror::Error)]
enum ChunkError {
    #[error(transparent)]
    Http(#[from] reqwest::Error),
    #[error("an event exceeds {MAX_EVENT} bytes")]
    EventTooLarge,
}

/// Counts the bytes of the event being received, so that one endless event cannot exhaust
/// memory: an empty line (`\n`, `\r` or `\r\n` twice) ends an event.
#[derive(Default)]
struct EventLimit {
    size: usize,
    line_empty: bool,
    previous: u8,
}

impl EventLimit {
    fn check(&mut self, chunk: &[u8]) -> Result<(), ChunkError> {
        for &b in chunk {
            if b == b'\n' && self.previous == b'\r' {
                self.previous = b;
                continue;
            }
            if b == b'\n' || b == b'\r' {
                if self.line_empty {
                    self.size = 0;
                }
                self.line_empty = true;
            } else {
                self.line_empty = false;
                self.size += 1;
            }
            self.previous = b;
        }
        if self.size > MAX_EVENT {
            return Err(ChunkError::EventTooLarge);
        }
        Ok(())
    }
}

/// A response body's bytes, bounded per event.
fn limited(
    bytes: impl futures_util::Stream<Item = Result<Bytes, reqwest::Error>> + Send + 'static,
) -> Bytestream {
    let mut limit = EventLimit {
        line_empty: true,
        ..EventLimit::default()
    };
    bytes
        .map(move |chunk| {
            let chunk = chunk?;
            limit.check(&chunk)?;
            Ok(chunk)
        })
        .boxed()
}

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
        Self::from_bytes(response.bytes_stream())
    }

    /// Reads the events of a body given as its byte chunks.
    fn from_bytes(
        bytes: impl futures_util::Stream<Item = Result<Bytes, reqwest::Error>> + Send + 'static,
    ) -> Self {
        SseReader {
            events: SseByteStream::new(limited(bytes)),
            queue: VecDeque::new(),
            last_event_id: None,
            retry: None,
        }
    }

    /// Continues the stream on a new connection (a resumption), keeping the id and retry hint.
    pub fn reconnect(&mut self, response: reqwest::Response) {
        self.events = SseByteStream::new(limited(response.bytes_stream()));
    }

    /// Reads the events of a body arriving in `chunks` (fuzz builds only: the same decoding as
    /// a response's, without a connection).
    #[cfg(fuzzing)]
    pub fn from_chunks(chunks: Vec<Bytes>) -> Self {
        Self::from_bytes(futures_util::stream::iter(chunks.into_iter().map(Ok)))
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
                    if let Some(ChunkError::EventTooLarge) = e.downcast_ref::<ChunkError>() {
                        return Some(Err(Malformed::TooLarge(MAX_EVENT).into()));
                    }
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn the_event_limit_resets_at_every_blank_line() {
        let mut limit = EventLimit {
            line_empty: true,
            ..EventLimit::default()
        };
        limit.check(b"data: abc\n").unwrap();
        assert_eq!(limit.size, 9);
        limit.check(b"\ndata: x\r\n\r\n").unwrap();
        assert_eq!(limit.size, 0);
        limit.check(b"data: 12\r\ndata: 3").unwrap();
        assert_eq!(limit.size, 15, "CRLF is one line end");
        limit.check(b"\r\r").unwrap();
        assert_eq!(limit.size, 0);
        limit.size = MAX_EVENT;
        assert!(matches!(limit.check(b"x"), Err(ChunkError::EventTooLarge)));
    }
}
