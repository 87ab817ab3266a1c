//! The client's `WWW-Authenticate` parser (`parse_www_authenticate`, `parse_challenges`) on
//! arbitrary header values (one per input line): several challenges per value, `token68`,
//! quoted strings with escapes, sloppy unquoted values.
//!
//! Invariants: parsing never fails; what was parsed prints (`Display`) in a form that parses
//! back to the same challenge, alone and as the whole list joined with commas.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_client::challenge::{parse_challenges, parse_www_authenticate};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let values: Vec<&str> = text.split('\n').collect();
    let all = parse_www_authenticate(values.iter().copied());
    for c in &all {
        let _ = (c.realm(), c.error(), c.error_description(), c.error_uri());
        let _ = (c.scopes(), c.algs(), c.resource_metadata(), c.token68());
        assert!(!c.scheme().is_empty(), "an empty scheme from {text:?}");
        let printed = c.to_string();
        assert_eq!(
            parse_challenges(&printed),
            vec![c.clone()],
            "{printed:?} does not parse back (from {text:?})"
        );
    }
    let joined = all
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    assert_eq!(parse_challenges(&joined), all, "{joined:?} (from {text:?})");
});
