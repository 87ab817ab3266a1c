//! [`Danger`]: the settings that weaken authorization. None is on by default; each must be named
//! with [`AuthorizationConfig::dangerously_allow`](super::AuthorizationConfig::dangerously_allow),
//! and each one in use is logged at WARN when an endpoint is built from the configuration.

use std::fmt;
use std::net::IpAddr;

/// A setting that weakens authorization, off unless named with
/// [`AuthorizationConfig::dangerously_allow`](super::AuthorizationConfig::dangerously_allow).
///
/// ```
/// use mcp_server::auth::{AuthorizationConfig, Danger};
///
/// // Local development on a LAN address, knowingly without credentials:
/// let config = AuthorizationConfig::none().dangerously_allow(Danger::UnprotectedNetworkBind);
/// assert!(config.allows(Danger::UnprotectedNetworkBind));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Danger {
    /// `fail_open`: while the authorization server (or its keys) cannot be reached, requests are
    /// let in with no identity and no scopes (audited) instead of answering 503. Invalid tokens
    /// are still refused. OAuth mode, and builtin mode with JWTs.
    FailOpen,
    /// `?token=<api key>` on the MCP endpoint, for clients that cannot send headers (builtin
    /// mode). Query strings end up in proxy and access logs; the framework removes the parameter
    /// before anything of its own sees the request, but a proxy in front of it may not.
    QueryToken,
    /// An authorization server, JWKS or introspection URL on plain `http://` on a host other
    /// than loopback: keys, tokens and client secrets would cross the network in clear.
    PlainHttpAuthorizationServer,
    /// Serving with authorization mode `none` on an address other than loopback: anyone who can
    /// reach the address may call every tool.
    UnprotectedNetworkBind,
}

impl Danger {
    /// The name used in logs and errors: `fail_open`, `query_token`,
    /// `plain_http_authorization_server`, `unprotected_network_bind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Danger::FailOpen => "fail_open",
            Danger::QueryToken => "query_token",
            Danger::PlainHttpAuthorizationServer => "plain_http_authorization_server",
            Danger::UnprotectedNetworkBind => "unprotected_network_bind",
        }
    }

    /// What it risks, for the start-up warning.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn risk(self) -> &'static str {
        match self {
            Danger::FailOpen => {
                "requests are let in without identity while the authorization server is unreachable"
            }
            Danger::QueryToken => {
                "API keys are accepted in the URL, where proxies and access logs keep them"
            }
            Danger::PlainHttpAuthorizationServer => {
                "an authorization server is reached over plain http beyond loopback"
            }
            Danger::UnprotectedNetworkBind => {
                "the endpoint is served without authorization beyond loopback"
            }
        }
    }
}

impl fmt::Display for Danger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `host` (as in a URL: `localhost`, `127.0.0.1`, `[::1]`) names this machine.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether `url` is `http://` to a host other than loopback (the URLs [`Danger::PlainHttpAuthorizationServer`]
/// is about). Unparsable URLs answer `false`: they are refused elsewhere.
pub(crate) fn is_remote_plain_http(url: &str) -> bool {
    match url.parse::<http::Uri>() {
        Ok(uri) => {
            uri.scheme_str()
                .is_some_and(|s| s.eq_ignore_ascii_case("http"))
                && uri.host().is_some_and(|h| !is_loopback_host(h))
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_told_from_the_network() {
        for h in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.9.9.9",
            "[::1]",
            "::1",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "example.com",
            "10.0.0.1",
            "0.0.0.0",
            "localhost.evil.example",
            "[::]",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn only_remote_plain_http_is_flagged() {
        assert!(is_remote_plain_http("http://as.example.com"));
        assert!(is_remote_plain_http("HTTP://10.1.2.3:8080/realms/x"));
        assert!(!is_remote_plain_http("https://as.example.com"));
        assert!(!is_remote_plain_http("http://127.0.0.1:9000"));
        assert!(!is_remote_plain_http("http://localhost:9000/token"));
        assert!(!is_remote_plain_http("http://[::1]:9000"));
    }
}
