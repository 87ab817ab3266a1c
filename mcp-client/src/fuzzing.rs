//! Entry points for the fuzz targets (`fuzz/` at the repository root), compiled only with
//! `--cfg fuzzing` (which `cargo fuzz` sets): thin wrappers around crate-private decoders, so
//! that the targets exercise the real code. Not a public API.

use std::time::Duration;

use bytes::Bytes;
use mcp_core::jsonrpc::Message;

use crate::transport::sse::{SseItem, SseReader};

/// What the SSE decoder yielded.
#[derive(Debug)]
pub enum SseOutput {
    /// A JSON-RPC message.
    Message(Message),
    /// An event whose data is not a JSON-RPC message, and why.
    Invalid(String),
    /// The stream failed (an oversized event, a broken body): the reader stops here.
    Failed(String),
}

/// The client's SSE decoding (the reader a legacy or modern SSE response is consumed with),
/// over a body that arrives in the given chunks.
pub struct SseDecoder {
    reader: SseReader,
}

impl SseDecoder {
    /// A decoder over a body made of `chunks`, in order.
    pub fn new(chunks: Vec<Bytes>) -> Self {
        SseDecoder {
            reader: SseReader::from_chunks(chunks),
        }
    }

    /// The next item; `None` at the end of the body.
    pub async fn next(&mut self) -> Option<SseOutput> {
        Some(match self.reader.next().await? {
            Ok(SseItem::Message(m)) => SseOutput::Message(m),
            Ok(SseItem::Invalid(why)) => SseOutput::Invalid(why),
            Err(e) => SseOutput::Failed(e.to_string()),
        })
    }

    /// The id of the last event that had one (what `Last-Event-ID` would carry).
    pub fn last_event_id(&self) -> Option<&str> {
        self.reader.last_event_id()
    }

    /// The server's last `retry:` hint.
    pub fn retry(&self) -> Option<Duration> {
        self.reader.retry()
    }
}
