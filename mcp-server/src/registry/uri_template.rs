//! Matching URIs against RFC 6570 templates, for resource templates.
//!
//! Supported expressions: `{var}` (simple expansion: one value without `/`, `?` or `#`) and
//! `{+var}` (reserved expansion: any characters, so `file:///{+path}` matches nested paths).
//! Values are percent-decoded.

use std::collections::BTreeMap;

/// A parsed URI template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTemplate {
    source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Var { name: String, reserved: bool },
}

/// Why a template could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid URI template {template:?}: {reason}")]
pub struct UriTemplateError {
    /// The template.
    pub template: String,
    /// What is wrong.
    pub reason: &'static str,
}

impl UriTemplate {
    /// Parses a template.
    pub fn parse(template: &str) -> Result<Self, UriTemplateError> {
        let err = |reason| UriTemplateError {
            template: template.to_owned(),
            reason,
        };
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            let close = rest[open..].find('}').ok_or_else(|| err("unclosed `{`"))? + open;
            let expr = &rest[open + 1..close];
            let (reserved, name) = match expr.strip_prefix('+') {
                Some(n) => (true, n),
                None => (false, expr),
            };
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            {
                return Err(err("unsupported expression"));
            }
            if matches!(parts.last(), Some(Part::Var { .. })) {
                return Err(err("two expressions need a literal between them"));
            }
            parts.push(Part::Var {
                name: name.to_owned(),
                reserved,
            });
            rest = &rest[close + 1..];
        }
        if rest.contains('}') {
            return Err(err("unmatched `}`"));
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Ok(UriTemplate {
            source: template.to_owned(),
            parts,
        })
    }

    /// The template text.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The variable names, in order.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var { name, .. } => Some(name.as_str()),
            Part::Literal(_) => None,
        })
    }

    /// Matches `uri`, returning the variables' values.
    pub fn matches(&self, uri: &str) -> Option<BTreeMap<String, String>> {
        let mut vars = BTreeMap::new();
        match_parts(&self.parts, uri, &mut vars).then_some(vars)
    }
}

fn match_parts(parts: &[Part], uri: &str, vars: &mut BTreeMap<String, String>) -> bool {
    match parts.split_first() {
        None => uri.is_empty(),
        Some((Part::Literal(lit), rest)) => uri
            .strip_prefix(lit.as_str())
            .is_some_and(|tail| match_parts(rest, tail, vars)),
        Some((Part::Var { name, reserved }, rest)) => {
            let allowed = |c: char| *reserved || !matches!(c, '/' | '?' | '#');
            // Try every split point, shortest value first; the next literal decides.
            let mut end = 0;
            for (i, c) in uri.char_indices() {
                if i > 0 && try_bind(name, &uri[..i], &uri[i..], rest, vars) {
                    return true;
                }
                if !allowed(c) {
                    return false;
                }
                end = i + c.len_utf8();
            }
            end > 0 && try_bind(name, &uri[..end], "", rest, vars)
        }
    }
}

fn try_bind(
    name: &str,
    value: &str,
    tail: &str,
    rest: &[Part],
    vars: &mut BTreeMap<String, String>,
) -> bool {
    if match_parts(rest, tail, vars) {
        vars.insert(name.to_owned(), percent_decode(value));
        true
    } else {
        false
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn bad_templates_are_rejected() {
        assert!(UriTemplate::parse("x://{a").is_err());
        assert!(UriTemplate::parse("x://{a}{b}").is_err());
        assert!(UriTemplate::parse("x://{?q}").is_err());
        assert!(UriTemplate::parse("x://a}").is_err());
    }
}
