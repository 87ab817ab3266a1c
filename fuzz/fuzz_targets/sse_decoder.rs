//! The client's SSE decoding (`sse-stream` over the response's byte stream, the per-event size
//! limit, priming events and comments skipped, `id`/`retry` kept, JSON-RPC in `data`) on an
//! arbitrary stream split into chunks at arbitrary points.
//!
//! Input: the stream itself, decoded whole, byte by byte and in 7-byte chunks; or, when it
//! starts with `0xFF`, a count `k`, `k` little-endian `u16` split points, then the stream.
//!
//! Invariant: how the bytes are chunked changes nothing: the same messages, invalid events,
//! failure, last event id and retry hint.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use mcp_client::fuzzing::{SseDecoder, SseOutput};

/// Everything a decoder yields over `chunks`, in a comparable form.
fn decode(chunks: Vec<Bytes>) -> (Vec<String>, Option<String>, Option<std::time::Duration>) {
    mcp_fuzz::runtime::block_on(async {
        let mut d = SseDecoder::new(chunks);
        let mut out = Vec::new();
        while let Some(item) = d.next().await {
            let failed = matches!(item, SseOutput::Failed(_));
            out.push(match item {
                SseOutput::Message(m) => serde_json::to_string(&m).unwrap_or_default(),
                SseOutput::Invalid(why) => format!("invalid: {why}"),
                SseOutput::Failed(why) => format!("failed: {why}"),
            });
            if failed || out.len() > 4096 {
                break;
            }
        }
        (out, d.last_event_id().map(str::to_owned), d.retry())
    })
}

fn chunked(stream: &[u8], size: usize) -> Vec<Bytes> {
    stream
        .chunks(size.max(1))
        .map(Bytes::copy_from_slice)
        .collect()
}

fn split_at(stream: &[u8], points: &[usize]) -> Vec<Bytes> {
    let mut points: Vec<usize> = points.iter().map(|p| p % (stream.len() + 1)).collect();
    points.sort_unstable();
    let mut out = Vec::new();
    let mut from = 0;
    for p in points {
        out.push(Bytes::copy_from_slice(&stream[from..p]));
        from = p;
    }
    out.push(Bytes::copy_from_slice(&stream[from..]));
    out
}

fuzz_target!(|data: &[u8]| {
    let (stream, points): (&[u8], Vec<usize>) = match data.split_first() {
        Some((0xFF, rest)) => {
            let k = usize::from(rest.first().copied().unwrap_or(0) % 32);
            let table = rest.get(1..1 + 2 * k).unwrap_or_default();
            let points = table
                .chunks_exact(2)
                .map(|p| usize::from(u16::from_le_bytes([p[0], p[1]])))
                .collect();
            (rest.get(1 + 2 * k..).unwrap_or_default(), points)
        }
        _ => (data, Vec::new()),
    };
    let whole = decode(vec![Bytes::copy_from_slice(stream)]);
    let mut variants = vec![
        ("bytes", chunked(stream, 1)),
        ("7-byte chunks", chunked(stream, 7)),
    ];
    if !points.is_empty() {
        variants.push(("split points", split_at(stream, &points)));
    }
    for (how, chunks) in variants {
        assert_eq!(decode(chunks), whole, "decoded differently in {how}");
    }
});
