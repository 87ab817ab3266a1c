//! `WWW-Authenticate` challenges (RFC 9110 §11.6.1, RFC 6750 §3, RFC 9449 §7.1), parsed properly:
//! several challenges in one header value or across several header lines, `token68` credentials,
//! auth-params with quoted strings and backslash escapes, case-insensitive scheme and parameter
//! names.
//!
//! Parsing never fails: malformed pieces are skipped, so a sloppy server still yields whatever
//! challenges can be read.
//!
//! ```
//! use mcp_client::challenge::parse_challenges;
//!
//! let challenges = parse_challenges(
//!     r#"Bearer realm="mcp", error="insufficient_scope", scope="files:read files:write", DPoP algs="ES256 PS256""#,
//! );
//! assert_eq!(challenges.len(), 2);
//! assert_eq!(challenges[0].error(), Some("insufficient_scope"));
//! assert_eq!(challenges[0].scopes(), ["files:read", "files:write"]);
//! assert!(challenges[1].is_scheme("dpop"));
//! assert_eq!(challenges[1].algs(), ["ES256", "PS256"]);
//! ```

use std::fmt;

/// One challenge of a `WWW-Authenticate` header: a scheme with either a `token68` or
/// auth-params.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Challenge {
    scheme: String,
    token68: Option<String>,
    params: Vec<(String, String)>,
}

impl Challenge {
    /// A challenge of `scheme` without parameters.
    pub fn new(scheme: impl Into<String>) -> Self {
        Challenge {
            scheme: scheme.into(),
            token68: None,
            params: Vec::new(),
        }
    }

    /// Adds an auth-param (the name is matched case-insensitively).
    #[must_use]
    pub fn with_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params
            .push((name.into().to_ascii_lowercase(), value.into()));
        self
    }

    /// The scheme as the server spelled it (`Bearer`, `DPoP`, `Basic`, ...).
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// Whether the scheme is `scheme`, ignoring ASCII case.
    pub fn is_scheme(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }

    /// The `token68` form of the challenge, if it used that form instead of parameters.
    pub fn token68(&self) -> Option<&str> {
        self.token68.as_deref()
    }

    /// Every auth-param as `(lower-case name, value)`, in order.
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The value of the auth-param `name` (case-insensitive); the first one if repeated.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `realm`.
    pub fn realm(&self) -> Option<&str> {
        self.param("realm")
    }

    /// `error` (RFC 6750 §3.1: `invalid_request`, `invalid_token`, `insufficient_scope`; RFC 9449:
    /// `invalid_dpop_proof`, `use_dpop_nonce`).
    pub fn error(&self) -> Option<&str> {
        self.param("error")
    }

    /// `error_description`.
    pub fn error_description(&self) -> Option<&str> {
        self.param("error_description")
    }

    /// `error_uri`.
    pub fn error_uri(&self) -> Option<&str> {
        self.param("error_uri")
    }

    /// `scope`, as sent (space-separated).
    pub fn scope(&self) -> Option<&str> {
        self.param("scope")
    }

    /// The scopes of `scope`, split on whitespace.
    pub fn scopes(&self) -> Vec<&str> {
        self.scope()
            .map(|s| s.split_ascii_whitespace().collect())
            .unwrap_or_default()
    }

    /// `resource_metadata`: the URL of the RFC 9728 protected-resource metadata.
    pub fn resource_metadata(&self) -> Option<&str> {
        self.param("resource_metadata")
    }

    /// The algorithms of `algs` (RFC 9449 §7.1), split on whitespace.
    pub fn algs(&self) -> Vec<&str> {
        self.param("algs")
            .map(|s| s.split_ascii_whitespace().collect())
            .unwrap_or_default()
    }
}

impl fmt::Display for Challenge {
    /// Writes the challenge back in header syntax, every parameter value quoted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.scheme)?;
        if let Some(t) = &self.token68 {
            return write!(f, " {t}");
        }
        for (i, (k, v)) in self.params.iter().enumerate() {
            let sep = if i == 0 { " " } else { ", " };
            write!(f, "{sep}{k}=\"")?;
            for c in v.chars() {
                if c == '"' || c == '\\' {
                    f.write_str("\\")?;
                }
                write!(f, "{c}")?;
            }
            f.write_str("\"")?;
        }
        Ok(())
    }
}

/// Parses every challenge of several `WWW-Authenticate` header values, in order.
pub fn parse_www_authenticate<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Challenge> {
    values.into_iter().flat_map(parse_challenges).collect()
}

/// Parses the challenges of one `WWW-Authenticate` header value.
pub fn parse_challenges(value: &str) -> Vec<Challenge> {
    let mut p = Parser {
        s: value.as_bytes(),
        i: 0,
    };
    let mut out = Vec::new();
    loop {
        p.skip_while(|b| is_ws(b) || b == b',');
        if p.eof() {
            return out;
        }
        let scheme = p.token();
        if scheme.is_empty() {
            p.skip_past_comma();
            continue;
        }
        let mut challenge = Challenge::new(scheme);
        let spaced = p.skip_ws();
        if spaced && !p.at(b',') && !p.eof() {
            if let Some(t) = p.token68() {
                challenge.token68 = Some(t);
                out.push(challenge);
                continue;
            }
        }
        p.params(&mut challenge);
        out.push(challenge);
    }
}

fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// RFC 9110 `token68` characters (without the trailing `=` padding).
fn is_token68(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn eof(&self) -> bool {
        self.i >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn at(&self, b: u8) -> bool {
        self.peek() == Some(b)
    }

    fn skip_while(&mut self, f: impl Fn(u8) -> bool) -> usize {
        let start = self.i;
        while self.peek().is_some_and(&f) {
            self.i += 1;
        }
        self.i - start
    }

    fn skip_ws(&mut self) -> bool {
        self.skip_while(is_ws) > 0
    }

    fn skip_past_comma(&mut self) {
        self.skip_while(|b| b != b',');
        if !self.eof() {
            self.i += 1;
        }
    }

    fn text(&self, from: usize, to: usize) -> String {
        String::from_utf8_lossy(self.s.get(from..to).unwrap_or_default()).into_owned()
    }

    fn token(&mut self) -> String {
        let start = self.i;
        self.skip_while(is_tchar);
        self.text(start, self.i)
    }

    /// A `token68` that ends the challenge (followed by the end or a comma); restores the
    /// position otherwise (then the challenge has auth-params, e.g. `realm=x`).
    fn token68(&mut self) -> Option<String> {
        let start = self.i;
        if self.skip_while(is_token68) == 0 {
            return None;
        }
        self.skip_while(|b| b == b'=');
        let end = self.i;
        self.skip_ws();
        if self.eof() || self.at(b',') {
            return Some(self.text(start, end));
        }
        self.i = start;
        None
    }

    /// The auth-params of a challenge; stops before a token that is not followed by `=`, which is
    /// the scheme of the next challenge.
    fn params(&mut self, challenge: &mut Challenge) {
        loop {
            self.skip_ws();
            match self.peek() {
                None => return,
                Some(b',') => {
                    self.i += 1;
                    continue;
                }
                Some(_) => {}
            }
            let start = self.i;
            let name = self.token();
            if name.is_empty() {
                self.skip_past_comma();
                continue;
            }
            self.skip_ws();
            if !self.at(b'=') {
                self.i = start;
                return;
            }
            self.i += 1;
            self.skip_ws();
            let value = if self.at(b'"') {
                self.quoted()
            } else {
                // Strictly a token; read up to the next comma so that sloppy unquoted URLs
                // (`resource_metadata=https://...`) survive.
                let from = self.i;
                self.skip_while(|b| b != b',');
                self.text(from, self.i).trim_end().to_owned()
            };
            challenge.params.push((name.to_ascii_lowercase(), value));
            self.skip_ws();
            if !self.eof() && !self.at(b',') {
                self.skip_past_comma();
            }
        }
    }

    /// A quoted-string starting at `"`; backslash escapes the next byte. An unterminated string
    /// runs to the end of the value.
    fn quoted(&mut self) -> String {
        self.i += 1;
        let mut bytes = Vec::new();
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(next) = self.peek() {
                        bytes.push(next);
                        self.i += 1;
                    }
                }
                _ => bytes.push(b),
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn rfc6750_examples() {
        let c = parse_challenges(r#"Bearer realm="example""#);
        assert_eq!(
            c,
            vec![Challenge::new("Bearer").with_param("realm", "example")]
        );
        let c = parse_challenges(
            r#"Bearer realm="example", error="invalid_token", error_description="The access token expired""#,
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].realm(), Some("example"));
        assert_eq!(c[0].error(), Some("invalid_token"));
        assert_eq!(c[0].error_description(), Some("The access token expired"));
    }

    #[test]
    fn mcp_challenges_with_resource_metadata_and_scope() {
        let c = parse_challenges(
            r#"Bearer resource_metadata="http://127.0.0.1:9/.well-known/oauth-protected-resource/mcp", scope="read write""#,
        );
        assert_eq!(
            c[0].resource_metadata(),
            Some("http://127.0.0.1:9/.well-known/oauth-protected-resource/mcp")
        );
        assert_eq!(c[0].scopes(), ["read", "write"]);
        assert_eq!(c[0].error(), None);
    }

    #[test]
    fn several_challenges_in_one_value_and_across_values() {
        let c = parse_challenges(
            r#"Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple""#,
        );
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].scheme(), "Newauth");
        assert_eq!(c[0].param("TYPE"), Some("1"));
        assert_eq!(c[0].param("title"), Some(r#"Login to "apps""#));
        assert!(c[1].is_scheme("basic"));
        assert_eq!(c[1].realm(), Some("simple"));

        let c = parse_www_authenticate([
            r#"DPoP algs="ES256", error="use_dpop_nonce""#,
            "Bearer",
            r#"Basic realm="x""#,
        ]);
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].error(), Some("use_dpop_nonce"));
        assert_eq!(c[0].algs(), ["ES256"]);
        assert!(c[1].is_scheme("Bearer") && c[1].params().count() == 0);
    }

    #[test]
    fn token68_and_schemes_without_params() {
        let c = parse_challenges("Negotiate abc+/== , Basic, Bearer realm=x");
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].token68(), Some("abc+/=="));
        assert!(c[1].is_scheme("Basic") && c[1].params().count() == 0);
        assert_eq!(c[2].realm(), Some("x"));
        let c = parse_challenges("Custom dGVzdA=");
        assert_eq!(c[0].token68(), Some("dGVzdA="));
    }

    #[test]
    fn escapes_whitespace_and_case() {
        let c = parse_challenges(
            "bearer  REALM = \"a\\\\b\\\"c\" ,\terror=invalid_token,,error_description=\"x, y\"",
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].realm(), Some(r#"a\b"c"#));
        assert_eq!(c[0].error(), Some("invalid_token"));
        assert_eq!(c[0].error_description(), Some("x, y"));
    }

    #[test]
    fn garbage_never_panics_and_keeps_what_it_can() {
        for s in [
            "",
            ",,,",
            "=",
            "\"",
            "Bearer realm=\"unterminated",
            "Bearer =x, realm=y",
            "Bearer realm=\"a\" junk junk, error=e",
            "(((",
            "Bearer \u{e9}t\u{e9}=1",
            "Bearer realm=",
        ] {
            let _ = parse_challenges(s);
        }
        let c = parse_challenges("Bearer realm=\"unterminated");
        assert_eq!(c[0].realm(), Some("unterminated"));
        let c = parse_challenges("Bearer realm=\"a\" junk junk, error=e");
        assert_eq!(c[0].error(), Some("e"));
        let c = parse_challenges(
            "Bearer resource_metadata=http://h/.well-known/oauth-protected-resource, scope=a",
        );
        assert_eq!(
            c[0].resource_metadata(),
            Some("http://h/.well-known/oauth-protected-resource")
        );
        assert_eq!(c[0].scope(), Some("a"));
    }

    #[test]
    fn display_round_trips() {
        let c = Challenge::new("Bearer")
            .with_param("realm", "a \"b\"")
            .with_param("scope", "x y");
        assert_eq!(parse_challenges(&c.to_string()), vec![c]);
    }
}
