//! Macro-generated argument decoding: `tools/call` on the fixture's typed `#[tool]`s (numbers of
//! every width, strings, a renamed optional flag, a defaulted count, chars, tagged and unit
//! enums, options, lists, maps, nested structs, no arguments at all) with arbitrary JSON
//! arguments, through the HTTP endpoint (2026-07-28 request) and the registry, as clients call
//! them.
//!
//! Input: a byte choosing the tool, a byte choosing the mode (JSON text; JSON drawn with the
//! tools' member names; no `arguments` at all), then the arguments.
//!
//! Invariants: the answer is a result or a clean `-32602` (never a transport error or another
//! code); a non-object `arguments` is `-32602` (`null` is no arguments); for an object, the call succeeds exactly when
//! plain serde reads the arguments into the tool's (mirrored) arguments struct, and the tool
//! then echoes what serde read; a failed decoding is a tool error naming the problem.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use mcp_fuzz::fixture::{TYPED_TOOLS, expected_echo};
use mcp_fuzz::json::Json;
use mcp_fuzz::wire::{self, Era};
use serde_json::{Value, json};

const VOCAB: [&str; 28] = [
    "small",
    "signed",
    "big",
    "ratio",
    "flag",
    "name",
    "caseSensitive",
    "repeat",
    "letters",
    "shape",
    "more",
    "color",
    "address",
    "extra",
    "labels",
    "street",
    "zip",
    "tags",
    "circle",
    "radius",
    "square",
    "point",
    "red",
    "green",
    "a",
    "",
    "case_sensitive",
    "x",
];

fuzz_target!(|data: &[u8]| {
    let [tool, mode, rest @ ..] = data else {
        return;
    };
    let tool = TYPED_TOOLS[usize::from(*tool) % TYPED_TOOLS.len()];
    let arguments: Option<Value> = match mode % 3 {
        0 => match serde_json::from_slice(rest) {
            Ok(v) => Some(v),
            Err(_) => return,
        },
        1 => {
            let mut u = Unstructured::new(rest);
            let Ok(j) = Json::arbitrary(&mut u) else {
                return;
            };
            Some(j.to_value(&VOCAB))
        }
        _ => None,
    };
    let mut params = json!({"name": tool, "_meta": {
        "io.modelcontextprotocol/protocolVersion": wire::MODERN_VERSION,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "fuzz", "version": "0"}}});
    if let Some(a) = &arguments {
        params["arguments"] = a.clone();
    }
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": params});
    let exchange = wire::synthesized(body.to_string().into_bytes(), Era::Modern);
    mcp_fuzz::runtime::block_on(async {
        let router = mcp_fuzz::fixture::router();
        let reply = wire::send(&router, &exchange, None)
            .await
            .expect("a request");
        wire::check(&exchange, &reply, Era::Modern).await;
        let text = String::from_utf8_lossy(&reply.body);
        assert_eq!(reply.status.as_u16(), 200, "{text}");
        let answer: Value = match reply.media_type().as_deref() {
            Some("application/json") => serde_json::from_slice(&reply.body).expect("JSON"),
            other => panic!("answered as {other:?}: {text}"),
        };
        // `"arguments": null` reads as no arguments, like an absent member.
        let args = arguments
            .filter(|a| !a.is_null())
            .unwrap_or_else(|| json!({}));
        if !args.is_object() {
            assert_eq!(
                answer["error"]["code"], -32602,
                "non-object arguments: {text}"
            );
            return;
        }
        if let Some(error) = answer.get("error") {
            panic!("arguments {args} got a protocol error {error}");
        }
        let result = &answer["result"];
        let failed = result["isError"].as_bool().unwrap_or(false);
        match expected_echo(tool, &args).expect("a typed tool") {
            Ok(echo) => {
                assert!(!failed, "{tool} refused {args} that serde reads: {text}");
                assert_eq!(
                    result["structuredContent"], echo,
                    "{tool} received something else than {args}: {text}"
                );
            }
            Err(why) => {
                assert!(
                    failed,
                    "{tool} accepted {args} that serde refuses ({why}): {text}"
                );
                let message = result["content"][0]["text"].as_str().unwrap_or("");
                assert!(
                    message.starts_with("Invalid arguments"),
                    "{tool}: a decoding failure without its reason: {text}"
                );
            }
        }
    });
});
