//! Which URLs credentials may travel to: `https`, or plain `http` on loopback only
//! (`127.0.0.0/8`, `[::1]`, `localhost`), unless the user opted in by name
//! (`dangerously_allow_http()`).

use std::sync::atomic::{AtomicBool, Ordering};

use url::{Host, Url};

/// Whether `url` names a loopback host: `127.0.0.0/8`, `[::1]` or `localhost`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    // The URL parser has already told IP addresses from names (and normalised `127.1` and
    // friends to dotted quads for `http` and `https`).
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Whether `url` carries credentials of its own (`user:password@`), which the HTTP client sends
/// as HTTP Basic.
pub(crate) fn has_userinfo(url: &Url) -> bool {
    !url.username().is_empty() || url.password().is_some()
}

/// `url` for an error message or a log line: without its password.
pub(crate) fn shown(url: &Url) -> String {
    let mut u = url.clone();
    if u.password().is_some() {
        let _ = u.set_password(Some("***"));
    }
    u.to_string()
}

/// What the rule says about `url`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// `https`, or `http` on loopback.
    Secure,
    /// Plain `http` to another host, let through by the opt-in.
    AllowedHttp,
    /// Not `https`, not loopback, not allowed.
    Refused,
}

/// Checks `url` against the rule, given whether plain `http` was allowed by name.
pub(crate) fn verdict(url: &Url, allow_http: bool) -> Verdict {
    match url.scheme() {
        "https" => Verdict::Secure,
        "http" if is_loopback(url) => Verdict::Secure,
        "http" if allow_http => Verdict::AllowedHttp,
        _ => Verdict::Refused,
    }
}

/// Logs, once per owner, that `dangerously_allow_http()` let credentials or metadata travel over
/// plain `http` to a host that is not loopback.
pub(crate) fn warn_once(flag: &AtomicBool, what: &str, url: &Url) {
    if !flag.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            url = %url.origin().ascii_serialization(),
            "dangerously_allow_http(): {what} over plain http to a host that is not loopback; \
             anyone on the path can read and replay it"
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn only_https_and_loopback_http_are_secure() {
        let v = |u: &str, allow| verdict(&Url::parse(u).unwrap(), allow);
        for secure in [
            "https://as.example.com/token",
            "http://127.0.0.1:9/mcp",
            "http://127.5.6.7/mcp",
            "http://[::1]:8080/",
            "http://localhost:3000/mcp",
            "http://LOCALHOST/mcp",
        ] {
            assert_eq!(v(secure, false), Verdict::Secure, "{secure}");
        }
        for refused in [
            "http://as.example.com/token",
            "http://10.0.0.1/",
            "http://128.0.0.1/",
            "http://localhost.evil.example/",
            "http://[::2]/",
            "ftp://127.0.0.1/",
        ] {
            assert_eq!(v(refused, false), Verdict::Refused, "{refused}");
        }
        assert_eq!(v("http://as.example.com/", true), Verdict::AllowedHttp);
        assert_eq!(v("http://127.1/mcp", false), Verdict::Secure);
        assert_eq!(v("ftp://as.example.com/", true), Verdict::Refused);
    }

    #[test]
    fn passwords_are_not_shown() {
        let u = Url::parse("http://ada:s3cret@mcp.example.com/mcp").unwrap();
        assert!(has_userinfo(&u));
        assert_eq!(shown(&u), "http://ada:***@mcp.example.com/mcp");
        let plain = Url::parse("http://mcp.example.com/mcp").unwrap();
        assert!(!has_userinfo(&plain));
        assert_eq!(shown(&plain), "http://mcp.example.com/mcp");
    }
}
