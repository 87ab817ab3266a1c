//! What the URL's query says about credentials: `?workspace=<name>` (the selected workspace) and
//! `?token=<key>` (an API key, for clients that cannot send headers). The token is always cut out
//! of the request's URI, whether or not the server accepts query tokens, so that nothing
//! downstream (handlers, `ctx.http()`, logs) ever sees it; so is `?access_token=` (RFC 6750
//! §2.3), which is never accepted (OAuth 2.1 forbids tokens in the query).

use http::Uri;

/// The query parameters authentication reads.
#[derive(Default, PartialEq, Eq)]
pub(crate) struct QueryCredentials {
    /// `?token=`: present only when the query had exactly one.
    pub(crate) token: Option<String>,
    /// `?workspace=`, decoded.
    pub(crate) workspace: Option<String>,
    /// More than one `workspace` parameter (refused: which one would apply?).
    pub(crate) ambiguous_workspace: bool,
}

impl std::fmt::Debug for QueryCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryCredentials")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("workspace", &self.workspace)
            .finish()
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `application/x-www-form-urlencoded` decoding; `None` for invalid escapes or UTF-8.
fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let h = hex(*bytes.get(i + 1)?)?;
                let l = hex(*bytes.get(i + 2)?)?;
                out.push(h * 16 + l);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Reads `token` and `workspace` from `uri`'s query and removes every `token` parameter from it.
pub(crate) fn take_query_credentials(uri: &mut Uri) -> QueryCredentials {
    let Some(query) = uri.query() else {
        return QueryCredentials::default();
    };
    let mut out = QueryCredentials::default();
    let mut tokens = 0usize;
    let mut removed = false;
    let mut kept: Vec<&str> = Vec::new();
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match decode(name).as_deref() {
            Some("token") => {
                tokens += 1;
                removed = true;
                out.token = decode(value);
            }
            // Never a credential here, and never kept where it could be logged.
            Some("access_token") => removed = true,
            Some("workspace") => {
                if out.workspace.is_some() {
                    out.ambiguous_workspace = true;
                }
                out.workspace = decode(value);
                kept.push(pair);
            }
            _ => kept.push(pair),
        }
    }
    if tokens > 1 {
        out.token = None;
    }
    if removed {
        let path = uri.path();
        let rebuilt = if kept.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{}", kept.join("&"))
        };
        let mut parts = uri.clone().into_parts();
        // The path and remaining query come from a valid URI: this cannot fail, and if it did
        // the URI would become the bare path, still without the token.
        parts.path_and_query = rebuilt.parse().ok().or_else(|| path.parse().ok());
        if let Ok(u) = Uri::from_parts(parts) {
            *uri = u;
        } else if let Ok(u) = path.parse() {
            *uri = u;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_cut_out_and_the_rest_kept() {
        let mut u: Uri = "/mcp?workspace=ops%2Dteam&token=mcp_abc&x=1"
            .parse()
            .unwrap();
        let q = take_query_credentials(&mut u);
        assert_eq!(q.token.as_deref(), Some("mcp_abc"));
        assert_eq!(q.workspace.as_deref(), Some("ops-team"));
        assert_eq!(u.to_string(), "/mcp?workspace=ops%2Dteam&x=1");
        assert!(!format!("{q:?}").contains("mcp_abc"));

        let mut u: Uri = "http://h/mcp?token=a&token=b".parse().unwrap();
        let q = take_query_credentials(&mut u);
        assert_eq!(q.token, None, "two tokens: neither is used");
        assert_eq!(u.to_string(), "http://h/mcp");

        let mut u: Uri = "/mcp?workspace=a&workspace=b".parse().unwrap();
        assert!(take_query_credentials(&mut u).ambiguous_workspace);

        let mut u: Uri = "/mcp?access_token=eyJ.x.y&a=1".parse().unwrap();
        assert_eq!(take_query_credentials(&mut u), QueryCredentials::default());
        assert_eq!(u.to_string(), "/mcp?a=1", "access_token is cut, never used");

        let mut u: Uri = "/mcp".parse().unwrap();
        assert_eq!(take_query_credentials(&mut u), QueryCredentials::default());
    }

    #[test]
    fn bad_escapes_decode_to_nothing() {
        assert_eq!(decode("%zz"), None);
        assert_eq!(decode("%4"), None);
        assert_eq!(decode("a+b%21"), Some("a b!".into()));
    }
}
