//! API keys: the presented-key format (prefix and 43 letters and digits), the digest lookup in
//! an in-memory store holding keys in every state (active, revoked, surface-limited, owner
//! disabled, workspace-limited), and the same key presented as `Authorization: Bearer`,
//! `X-API-Key` and `?token=` to the builtin-mode endpoint; key-prefix validation.
//!
//! Input: the presented key (the whole input).
//!
//! Invariants: `verify` answers exactly what the key's shape and state say (malformed, unknown,
//! revoked, owner disabled, or the key); the endpoint lets a request in exactly when the key is
//! good for its surface; a prefix is accepted exactly when it is 1 to 16 of `A-Z a-z 0-9 _`;
//! digests round-trip through hex.
#![no_main]

use axum::body::Body;
use http::{HeaderValue, Request};
use libfuzzer_sys::fuzz_target;
use mcp_fuzz::auth::{self, KEYS, PREFIX, well_formed_key};
use mcp_server::auth::{ApiKeys, KeyDigest, KeyRejection};
use tower::ServiceExt;

/// Percent-encodes everything but unreserved characters, for `?token=`.
fn query_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// RFC 6750 `b64token`.
fn b64token(t: &str) -> bool {
    let body = t.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// The status the endpoint must answer a request presenting `key` with.
fn expected_status(outcome: &Result<String, KeyRejection>) -> u16 {
    match outcome {
        Ok(name) if name == "rest-only" => 403,
        Ok(_) => 200,
        Err(KeyRejection::Unavailable(_)) => 503,
        Err(_) => 401,
    }
}

fuzz_target!(|data: &[u8]| {
    let presented = String::from_utf8_lossy(data);
    let presented = presented.as_ref();

    let prefix_ok = (1..=16).contains(&presented.len())
        && presented
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    assert_eq!(ApiKeys::in_memory().prefix(presented).is_ok(), prefix_ok);

    let digest = KeyDigest::of(presented);
    assert_eq!(KeyDigest::from_hex(&digest.to_hex()), Some(digest));
    assert!(digest.matches(&KeyDigest::of(presented)));

    let keys = auth::api_keys();
    assert_eq!(
        keys.looks_like_key(presented),
        presented.starts_with(PREFIX)
    );
    mcp_fuzz::runtime::block_on(async {
        let outcome = keys.verify(presented).await.map(|k| k.name);
        if mcp_fuzz::debug() {
            eprintln!("verify: {outcome:?}");
        }
        let known = KEYS.iter().find(|(_, secret)| *secret == presented);
        match (&outcome, known) {
            (Ok(name), Some((expected, _))) => {
                assert_eq!(name, expected);
                assert!(
                    !matches!(*expected, "revoked" | "disabled-owner"),
                    "the {expected} key was accepted"
                );
            }
            (Ok(name), None) => panic!("an unknown key was accepted as {name}: {presented:?}"),
            (Err(KeyRejection::Revoked), Some(("revoked", _))) => {}
            (Err(KeyRejection::OwnerDisabled), Some(("disabled-owner", _))) => {}
            (Err(e), Some((name, _))) => panic!("the {name} key was refused: {e}"),
            (Err(KeyRejection::Malformed), None) => {
                assert!(
                    !well_formed_key(presented, PREFIX),
                    "refused as malformed: {presented:?}"
                );
            }
            (Err(KeyRejection::Unknown), None) => {
                assert!(
                    well_formed_key(presented, PREFIX),
                    "malformed but looked up: {presented:?}"
                );
            }
            (Err(e), None) => panic!("an unknown key refused as {e}: {presented:?}"),
        }

        // The same key on the endpoint, each way it may come.
        let builtin = &auth::routers()[0];
        let bearer = presented.trim_start_matches(' ');
        let ways = [
            ("authorization", format!("Bearer {presented}"), bearer),
            ("x-api-key", presented.to_owned(), presented),
            ("query", String::new(), presented),
        ];
        for (how, header, token) in ways {
            // Bearer values are b64tokens (others are malformed) and are checked as keys only
            // when they have the prefix (else as JWTs, which the fuzzer cannot sign); a query
            // token without the prefix is ignored: 401 in every such case.
            let as_key = token.starts_with(PREFIX) && (how != "authorization" || b64token(token));
            let want = if as_key {
                expected_status(&keys.verify(token).await.map(|k| k.name))
            } else {
                401
            };
            let mut builder = Request::builder().method("POST");
            if how == "query" {
                builder = builder.uri(format!("/mcp?token={}", query_encode(presented)));
            } else {
                let Ok(v) = HeaderValue::from_str(&header) else {
                    continue;
                };
                builder = builder.uri("/mcp").header(how, v);
            }
            let request = builder.body(Body::empty()).expect("a request");
            let response = match builtin.router.clone().oneshot(request).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            assert_eq!(response.status().as_u16(), want, "{how}: {presented:?}");
        }
    });
});
