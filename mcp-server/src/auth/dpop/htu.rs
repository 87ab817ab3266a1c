//! The `htu` claim (DP-10): the request URI without query and fragment, compared after
//! normalisation.

/// Normalises an HTTP(S) URI for `htu` comparison (RFC 3986 §6.2.2–6.2.3): lower-case scheme
/// and host, default port dropped, empty path `/`, percent-encodings upper-cased. `None` when it
/// has a query or fragment or is not absolute.
pub fn normalize_htu(uri: &str) -> Option<String> {
    if uri.contains(['?', '#']) {
        return None;
    }
    let (scheme, rest) = uri.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    let default = if scheme == "https" { ":443" } else { ":80" };
    let authority = authority.strip_suffix(default).unwrap_or(&authority);
    // Upper-case the hex digits of percent-encodings; every other byte is kept as it is.
    let mut p = path.as_bytes().to_vec();
    for i in 0..p.len().saturating_sub(2) {
        if p[i] == b'%' && p[i + 1].is_ascii_hexdigit() && p[i + 2].is_ascii_hexdigit() {
            p[i + 1] = p[i + 1].to_ascii_uppercase();
            p[i + 2] = p[i + 2].to_ascii_uppercase();
        }
    }
    let p = String::from_utf8(p).ok()?;
    Some(format!("{scheme}://{authority}{p}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dp10_htu_normalisation() {
        assert_eq!(
            normalize_htu("HTTPS://MCP.EXAMPLE.COM:443/mcp"),
            normalize_htu("https://mcp.example.com/mcp")
        );
        assert_eq!(normalize_htu("http://h:80").as_deref(), Some("http://h/"));
        assert_eq!(
            normalize_htu("http://h/a%2fb").as_deref(),
            Some("http://h/a%2Fb")
        );
        assert_ne!(
            normalize_htu("https://h/mcp2"),
            normalize_htu("https://h/mcp")
        );
        assert_eq!(normalize_htu("https://h/mcp?x=1"), None);
        assert_eq!(normalize_htu("https://h/mcp#f"), None);
        assert_eq!(normalize_htu("ftp://h/mcp"), None);
        // Non-ASCII next to a percent sign is kept as it is, never split mid-character.
        assert_eq!(
            normalize_htu("http://h/%a\u{e9}%zz").as_deref(),
            Some("http://h/%a\u{e9}%zz")
        );
    }
}
