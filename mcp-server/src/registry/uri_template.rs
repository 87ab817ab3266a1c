//! Matching URIs against RFC 6570 templates, for resource templates.
//!
//! Supported expressions: `{var}` (simple expansion) and `{+var}` (reserved expansion); the
//! grammar and its parser are [`mcp_core::uri_template`]'s, the `#[resource]` macro's too. Values
//! are percent-decoded, and a URI whose value breaks the rules below does not match at all: the
//! handler never sees it, and the client gets the usual resource-not-found error.
//!
//! What a handler can rely on:
//!
//! - Every value is non-empty, correctly percent-encoded (`%` followed by two hex digits) and
//!   valid UTF-8 once decoded, and contains no control character (`U+0000`–`U+001F`,
//!   `U+007F`–`U+009F`), encoded or not.
//! - A `{var}` value is one path segment: it contains no `/`, `?` or `#` as written, and once
//!   decoded no `/` or `\` either (so `..%2F..%2Fetc` does not match), and it is never `.` or
//!   `..` (nor `%2E%2E`). Joined to a directory on Unix, it cannot name anything outside it
//!   (Windows drive names such as `C:` are not refused; [`resolve_under`](super::resolve_under)
//!   refuses them, and symbolic links leading out, too).
//! - A `{+var}` value may span segments (`file:///{+path}` matches `file:///a/b.txt`) and may
//!   hold `..` segments, as RFC 6570 allows: it is *not* safe to join to a directory as is.
//!   Confine it with [`resolve_under`](super::resolve_under), which refuses any path leaving
//!   its root.
//!
//! Matching is bounded whatever the client sends: a URI longer than [`MAX_MATCHED_URI_BYTES`]
//! matches no template, and a template whose variables could split a URI in very many ways
//! (`{+a}-{+b}-{+c}`) gives up after [`MAX_MATCH_STEPS`] attempts (no match) instead of
//! backtracking for seconds.

use std::collections::BTreeMap;

pub use mcp_core::uri_template::UriTemplateError;
use mcp_core::uri_template::{Expression, Operator, Part};

/// The longest URI matched against templates (8 KiB); a longer one matches none.
pub const MAX_MATCHED_URI_BYTES: usize = 8 * 1024;

/// How many ways of splitting a URI between variables one match may try before it gives up.
pub const MAX_MATCH_STEPS: usize = 20_000;

/// A parsed URI template, with the matching the server does. The grammar and the parser are
/// mcp-core's ([`mcp_core::uri_template`]), shared with the `#[resource]` macro.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTemplate {
    parsed: mcp_core::uri_template::UriTemplate,
}

impl UriTemplate {
    /// Parses a template.
    pub fn parse(template: &str) -> Result<Self, UriTemplateError> {
        mcp_core::uri_template::UriTemplate::parse(template).map(|parsed| UriTemplate { parsed })
    }

    /// The variable names, in order.
    #[cfg(test)]
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parsed.variables()
    }

    /// Matches `uri`, returning the variables' decoded values (see the [module docs](self) for
    /// what they may contain).
    pub fn matches(&self, uri: &str) -> Option<BTreeMap<String, String>> {
        if uri.len() > MAX_MATCHED_URI_BYTES {
            return None;
        }
        let mut vars = BTreeMap::new();
        let mut budget = MAX_MATCH_STEPS;
        match_parts(self.parsed.parts(), uri, &mut vars, &mut budget).then_some(vars)
    }
}

/// Matches `uri` against `parts`, spending one of `budget` per split tried.
fn match_parts(
    parts: &[Part],
    uri: &str,
    vars: &mut BTreeMap<String, String>,
    budget: &mut usize,
) -> bool {
    match parts.split_first() {
        None => uri.is_empty(),
        Some((Part::Literal(lit), rest)) => uri
            .strip_prefix(lit.as_str())
            .is_some_and(|tail| match_parts(rest, tail, vars, budget)),
        Some((
            Part::Expression(Expression {
                operator,
                variable: name,
            }),
            rest,
        )) => {
            let reserved = *operator == Operator::Reserved;
            let allowed = |c: char| reserved || !matches!(c, '/' | '?' | '#');
            // Try every split point, shortest value first; the next literal decides.
            let mut end = 0;
            for (i, c) in uri.char_indices() {
                if i > 0 && try_bind(name, &uri[..i], &uri[i..], rest, reserved, vars, budget) {
                    return true;
                }
                if *budget == 0 {
                    return false;
                }
                if !allowed(c) {
                    return false;
                }
                end = i + c.len_utf8();
            }
            end > 0 && try_bind(name, &uri[..end], "", rest, reserved, vars, budget)
        }
    }
}

fn try_bind(
    name: &str,
    value: &str,
    tail: &str,
    rest: &[Part],
    reserved: bool,
    vars: &mut BTreeMap<String, String>,
    budget: &mut usize,
) -> bool {
    let Some(left) = budget.checked_sub(1) else {
        return false;
    };
    *budget = left;
    if !match_parts(rest, tail, vars, budget) {
        return false;
    }
    match decode_value(value, reserved) {
        Some(decoded) => {
            vars.insert(name.to_owned(), decoded);
            true
        }
        None => false,
    }
}

/// The decoded value, or `None` when it breaks the rules of the module docs.
fn decode_value(raw: &str, reserved: bool) -> Option<String> {
    let value = percent_decode(raw)?;
    if value.chars().any(char::is_control) {
        return None;
    }
    if !reserved && (value.contains(['/', '\\']) || value == "." || value == "..") {
        return None;
    }
    Some(value)
}

/// Percent-decodes `s` (with the `percent-encoding` crate); `None` when an escape is malformed
/// (the crate would keep it as it is) or the result is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let well_formed = bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || bytes
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return None;
    }
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_uris_cannot_make_matching_backtrack_for_long() {
        // Three reserved variables around one literal: without a bound, O(n³) splits.
        let t = UriTemplate::parse("x://{+a}-{+b}-{+c}!").unwrap();
        let hostile = format!("x://{}", "-".repeat(MAX_MATCHED_URI_BYTES - 8));
        assert!(t.matches(&hostile).is_none());
        assert!(
            t.matches(&format!("x://{}", "a".repeat(MAX_MATCHED_URI_BYTES)))
                .is_none()
        );
        // Ordinary URIs still match.
        let v = t.matches("x://one-two-three!").unwrap();
        assert_eq!(
            (v["a"].as_str(), v["b"].as_str(), v["c"].as_str()),
            ("one", "two", "three")
        );
    }

    #[test]
    fn simple_variables_match_one_segment() {
        let t = UriTemplate::parse("test://template/{id}/data").unwrap();
        let v = t.matches("test://template/123/data").unwrap();
        assert_eq!(v["id"], "123");
        assert!(t.matches("test://template/1/2/data").is_none());
        assert!(t.matches("test://template//data").is_none());
        assert!(t.matches("test://other/1/data").is_none());
    }

    #[test]
    fn reserved_variables_span_slashes_and_values_are_decoded() {
        let t = UriTemplate::parse("file:///{+path}").unwrap();
        assert_eq!(
            t.matches("file:///a/b%20c.txt").unwrap()["path"],
            "a/b c.txt"
        );
        let t = UriTemplate::parse("users://{user}/posts/{post}").unwrap();
        let v = t.matches("users://ann/posts/7").unwrap();
        assert_eq!((v["user"].as_str(), v["post"].as_str()), ("ann", "7"));
        assert_eq!(t.variables().collect::<Vec<_>>(), ["user", "post"]);
    }

    /// Finding 6, R-03: a simple value is one segment even once decoded; anything that could
    /// climb out of a directory (or carry a control character) does not match.
    #[test]
    fn simple_values_never_decode_to_separators_dots_or_controls() {
        let t = UriTemplate::parse("test://template/{id}/data").unwrap();
        let refused = [
            "..%2F..%2Fetc%2Fpasswd",
            "..%2f..%2fetc%2fpasswd",
            "a%2Fb",
            "a%5Cb",
            "a%5cb",
            "..%5C..%5Cwindows",
            "a\\b",
            "a%00b",
            "%00",
            "a%0Ab",
            "a%7Fb",
            "a%C2%85b",
            "a\u{1}b",
            ".",
            "..",
            "%2E",
            "%2E%2E",
            "%2e%2e",
            ".%2E",
            "%2E%2E%2F%2E%2E",
            "%",
            "%2",
            "%zz",
            "a%2",
            "%FF",
            "%C3",
            "%C3%28",
        ];
        for value in refused {
            let uri = format!("test://template/{value}/data");
            assert_eq!(t.matches(&uri), None, "{uri} must not match");
        }
        let accepted = [
            ("123", "123"),
            ("...", "..."),
            (".hidden", ".hidden"),
            ("a.b", "a.b"),
            ("..a", "..a"),
            ("a%20b", "a b"),
            ("%41%42", "AB"),
            ("caf%C3%A9", "café"),
            ("café", "café"),
            ("日本", "日本"),
            ("%E6%97%A5%E6%9C%AC", "日本"),
            ("a%3Ab", "a:b"),
            ("%25", "%"),
        ];
        for (value, decoded) in accepted {
            let uri = format!("test://template/{value}/data");
            let vars = t.matches(&uri);
            assert_eq!(
                vars.as_ref().map(|v| v["id"].as_str()),
                Some(decoded),
                "{uri}"
            );
        }
    }

    /// Reserved values span segments and may hold `..` (RFC 6570; confined by `resolve_under`),
    /// but never control characters or invalid UTF-8.
    #[test]
    fn reserved_values_span_segments_but_never_carry_controls() {
        let t = UriTemplate::parse("file:///srv/{+path}").unwrap();
        for (uri, path) in [
            ("file:///srv/a/b.txt", "a/b.txt"),
            ("file:///srv/../../etc/passwd", "../../etc/passwd"),
            ("file:///srv/..%2F..%2Fetc", "../../etc"),
            ("file:///srv/%E6%97%A5/x", "日/x"),
        ] {
            assert_eq!(
                t.matches(uri).as_ref().map(|v| v["path"].as_str()),
                Some(path),
                "{uri}"
            );
        }
        for uri in [
            "file:///srv/a%00b",
            "file:///srv/a%0Db",
            "file:///srv/a\u{7}",
            "file:///srv/%FF",
            "file:///srv/a%2",
        ] {
            assert_eq!(t.matches(uri), None, "{uri} must not match");
        }
    }

    #[test]
    fn a_refused_value_lets_another_split_match() {
        // The first split gives `a` = ".", refused; a longer value still matches.
        let t = UriTemplate::parse("x://{a}.{b}").unwrap();
        let v = t.matches("x://..x.y").unwrap();
        assert_eq!((v["a"].as_str(), v["b"].as_str()), ("..x", "y"));
        assert_eq!(t.matches("x://%2F.txt"), None);
    }

    #[test]
    fn bad_templates_are_rejected() {
        assert!(UriTemplate::parse("x://{a").is_err());
        assert!(UriTemplate::parse("x://{a}{b}").is_err());
        assert!(UriTemplate::parse("x://{?q}").is_err());
        assert!(UriTemplate::parse("x://a}").is_err());
        // The macro's rules too: one grammar for both.
        assert!(UriTemplate::parse("x://a}/{b}").is_err());
        assert!(UriTemplate::parse("x://{a}/{a}").is_err());
    }
}
