//! The credential headers: `Authorization` (Bearer, DPoP, Basic, API keys as Bearer), `DPoP`,
//! `X-API-Key`, `?token=`/`?workspace=`, correlation ids, against three guarded routers
//! (builtin mode with JWTs and DPoP; OAuth with DPoP required and nonces; Basic), and the
//! `Mcp-*` header-value decoding (`=?base64?…?=`).
//!
//! Input: the request format of `mcp_fuzz::wire` (`@METHOD /target`, then `name: value` lines);
//! `$TOKEN`, `$DPOP_TOKEN`, `$PROOF`, `$KEY` and `$BASIC` in a value or the target stand for
//! valid credentials.
//!
//! Invariants: no 5xx but 503; a 401 carries a challenge the client's parser reads, of a known
//! scheme; a request let through presented a credential the router accepts; no query credential
//! reaches the handler (checked there); a decoded header value re-encodes to itself.
#![no_main]

use axum::body::Body;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderValue, Request};
use libfuzzer_sys::fuzz_target;
use mcp_fuzz::auth::{self, Presented};
use mcp_fuzz::wire::{self, Era};
use mcp_server::fuzzing::decode_header_value;
use tower::ServiceExt;

/// `decode_header_value`: plain values are trimmed of spaces and tabs; `=?base64?…?=` values
/// decode to UTF-8, and what decodes re-encodes to the same text.
fn check_header_value(raw: &str) {
    let trimmed = raw.trim_matches([' ', '\t']);
    let decoded = decode_header_value(raw);
    let encoded = trimmed
        .strip_prefix("=?base64?")
        .and_then(|r| r.strip_suffix("?="));
    match (encoded, &decoded) {
        (None, d) => assert_eq!(d.as_deref(), Some(trimmed), "plain value {raw:?}"),
        (Some(_), Some(text)) => {
            let again = format!("=?base64?{}?=", STANDARD.encode(text));
            assert_eq!(decode_header_value(&again).as_deref(), Some(text.as_str()));
        }
        (Some(_), None) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for line in text.lines().take(16) {
            check_header_value(line);
            if let Some((_, value)) = line.split_once(':') {
                check_header_value(value);
            }
        }
    }
    let exchange = wire::parse_exchange(data, Era::Legacy);
    mcp_fuzz::runtime::block_on(async {
        for guarded in auth::routers() {
            let method = exchange.method.as_str();
            let target = auth::substitute(&exchange.target, method);
            let mut builder = Request::builder()
                .method(exchange.method.clone())
                .uri(target.as_str());
            for (name, raw) in &exchange.headers {
                let value = auth::substitute(&String::from_utf8_lossy(raw), method);
                if let Ok(v) =
                    HeaderValue::from_str(&value).or_else(|_| HeaderValue::from_bytes(raw))
                {
                    builder = builder.header(name, v);
                }
            }
            let Ok(request) = builder.body(Body::from(exchange.body.clone())) else {
                return;
            };
            let presented = Presented::of(request.headers(), request.uri());
            let context = format!("{} router, {exchange:?}", guarded.name);
            let response = match guarded.router.clone().oneshot(request).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            let status = response.status().as_u16();
            if mcp_fuzz::debug() {
                eprintln!("{}: {status} {:?}", guarded.name, response.headers());
            }
            assert!(status < 500 || status == 503, "HTTP {status}: {context}");
            if status == 401 {
                auth::check_challenges(response.headers(), &context);
            }
            if (200..300).contains(&status) {
                let by_query = guarded.query_token && presented.query_tokens == 1;
                let by_header = guarded.api_key_header && presented.api_key == 1;
                assert!(
                    presented.authorization == 1 || by_query || by_header,
                    "let in without one credential ({presented:?}): {context}"
                );
            }
            let _ = wire::read_available(response.into_body()).await;
        }
    });
});
