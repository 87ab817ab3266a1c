//! Checks every request passes before its body is read: `Host` and `Origin` against DNS
//! rebinding (T-02..T-04), `Accept` (T-10, T-71) and `Content-Type` (T-11).

use http::HeaderMap;
use http::header::{ACCEPT, CONTENT_TYPE, HOST, ORIGIN};

use super::config::HttpConfig;

const LOOPBACK: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// The host of a `Host`/`Origin` authority (`host[:port]`, bracketed IPv6), parsed by
/// `http::uri::Authority`; `None` for anything that is not a plain authority (userinfo
/// included: no browser sends it).
fn host_part(authority: &str) -> Option<&str> {
    if authority.contains('@') {
        return None;
    }
    let parsed: http::uri::Authority = authority.parse().ok()?;
    let host_len = parsed.host().len();
    // `Authority` drops a port it cannot read: only `host` or `host:<u16>` is an authority here.
    match authority.get(host_len..)? {
        "" => {}
        rest => {
            rest.strip_prefix(':')?.parse::<u16>().ok()?;
        }
    }
    authority.get(..host_len)
}

/// Whether `authority` is an allowed host, compared without case and without allocating (this
/// runs on every request).
fn host_allowed(config: &HttpConfig, authority: &str) -> bool {
    let authority = authority.trim();
    let wildcard = config.allowed_hosts.iter().any(|h| h == "*");
    let Some(host) = host_part(authority) else {
        return wildcard;
    };
    wildcard
        || (config.allow_loopback && LOOPBACK.iter().any(|l| l.eq_ignore_ascii_case(host)))
        || config
            .allowed_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(host) || h.eq_ignore_ascii_case(authority))
}

/// Why a request was refused before it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// 403: `Host` or `Origin` not allowed.
    Forbidden(&'static str),
    /// 406: the client accepts no type the endpoint can send.
    NotAcceptable(&'static str),
    /// 415: the body is not JSON.
    UnsupportedMediaType,
}

/// T-02..T-04: a `Host` that is not allowed, or an `Origin` that is present and not allowed,
/// is refused. Requests without `Origin` (non-browser clients) pass.
pub(crate) fn check_host_and_origin(
    config: &HttpConfig,
    headers: &HeaderMap,
) -> Result<(), Refusal> {
    match headers.get(HOST).map(|h| h.to_str()) {
        Some(Ok(host)) if host_allowed(config, host) => {}
        // HTTP/1.1 requires Host; HTTP/2 carries it in :authority, which hyper maps to the URI.
        None => {}
        _ => return Err(Refusal::Forbidden("Forbidden: Host not allowed")),
    }
    let Some(origin) = headers.get(ORIGIN) else {
        return Ok(());
    };
    let Ok(origin) = origin.to_str() else {
        return Err(Refusal::Forbidden("Forbidden: Origin not allowed"));
    };
    if config
        .allowed_origins
        .iter()
        .any(|o| o == "*" || o.eq_ignore_ascii_case(origin))
    {
        return Ok(());
    }
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    match authority {
        Some(a) if !a.contains('/') && host_allowed(config, a) => Ok(()),
        _ => Err(Refusal::Forbidden("Forbidden: Origin not allowed")),
    }
}

/// What the client's `Accept` allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Accepts {
    pub json: bool,
    pub sse: bool,
}

/// Reads `Accept`: `*/*` and `application/*` / `text/*` count; a missing header accepts both.
pub(crate) fn accepts(headers: &HeaderMap) -> Accepts {
    let mut any = false;
    let mut result = Accepts {
        json: false,
        sse: false,
    };
    for value in headers.get_all(ACCEPT) {
        let Ok(value) = value.to_str() else { continue };
        any = true;
        for item in value.split(',') {
            let mut params = item.split(';');
            let media = params.next().unwrap_or("").trim().to_ascii_lowercase();
            let refused = params.any(|p| {
                let p = p.trim();
                p.eq_ignore_ascii_case("q=0")
                    || p.eq_ignore_ascii_case("q=0.0")
                    || p == "q=0.00"
                    || p == "q=0.000"
            });
            if refused {
                continue;
            }
            match media.as_str() {
                "*/*" => {
                    result.json = true;
                    result.sse = true;
                }
                "application/*" | "application/json" => result.json = true,
                "text/*" | "text/event-stream" => result.sse = true,
                _ => {}
            }
        }
    }
    if !any {
        return Accepts {
            json: true,
            sse: true,
        };
    }
    result
}

/// T-11: POST bodies must be `application/json` (parameters allowed).
pub(crate) fn check_json_content_type(headers: &HeaderMap) -> Result<(), Refusal> {
    let ok = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if ok {
        Ok(())
    } else {
        Err(Refusal::UnsupportedMediaType)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(http::header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn loopback_hosts_pass_and_others_do_not() {
        let c = HttpConfig::default();
        for host in ["localhost:8080", "127.0.0.1", "[::1]:3000", "LOCALHOST"] {
            assert!(
                check_host_and_origin(&c, &headers(&[(HOST, host)])).is_ok(),
                "{host}"
            );
        }
        assert!(check_host_and_origin(&c, &headers(&[(HOST, "evil.example.com")])).is_err());
        assert!(check_host_and_origin(&c, &headers(&[(HOST, "localhost.evil.com:80")])).is_err());
        // Userinfo and malformed authorities name no host to allow.
        for host in ["evil@localhost", "localhost:port", "local host", "[::1"] {
            assert!(
                check_host_and_origin(&c, &headers(&[(HOST, host)])).is_err(),
                "{host}"
            );
        }
        let c = HttpConfig::default().allow_host("mcp.example.com");
        assert!(check_host_and_origin(&c, &headers(&[(HOST, "mcp.example.com:443")])).is_ok());
    }

    #[test]
    fn origin_must_match_an_allowed_host_or_origin() {
        let c = HttpConfig::default();
        let ok = headers(&[(HOST, "127.0.0.1:9"), (ORIGIN, "http://127.0.0.1:9")]);
        assert!(check_host_and_origin(&c, &ok).is_ok());
        let bad = headers(&[(HOST, "127.0.0.1:9"), (ORIGIN, "https://evil.example")]);
        assert_eq!(
            check_host_and_origin(&c, &bad),
            Err(Refusal::Forbidden("Forbidden: Origin not allowed"))
        );
        let null = headers(&[(HOST, "127.0.0.1:9"), (ORIGIN, "null")]);
        assert!(check_host_and_origin(&c, &null).is_err());
        let c = HttpConfig::default().allow_origin("https://app.example");
        let app = headers(&[(HOST, "127.0.0.1"), (ORIGIN, "https://app.example")]);
        assert!(check_host_and_origin(&c, &app).is_ok());
    }

    #[test]
    fn accept_parsing() {
        let both = headers(&[(ACCEPT, "application/json, text/event-stream")]);
        assert_eq!(
            accepts(&both),
            Accepts {
                json: true,
                sse: true
            }
        );
        assert_eq!(
            accepts(&headers(&[(ACCEPT, "text/html")])),
            Accepts {
                json: false,
                sse: false
            }
        );
        assert_eq!(
            accepts(&headers(&[(ACCEPT, "*/*")])),
            Accepts {
                json: true,
                sse: true
            }
        );
        assert_eq!(
            accepts(&headers(&[(ACCEPT, "text/event-stream")])),
            Accepts {
                json: false,
                sse: true
            }
        );
        assert_eq!(
            accepts(&headers(&[(
                ACCEPT,
                "application/json;q=0, text/event-stream"
            )])),
            Accepts {
                json: false,
                sse: true
            }
        );
        assert_eq!(
            accepts(&HeaderMap::new()),
            Accepts {
                json: true,
                sse: true
            }
        );
    }

    #[test]
    fn content_type_must_be_json() {
        assert!(
            check_json_content_type(&headers(&[(
                CONTENT_TYPE,
                "application/json; charset=utf-8"
            )]))
            .is_ok()
        );
        assert!(check_json_content_type(&headers(&[(CONTENT_TYPE, "text/plain")])).is_err());
        assert!(check_json_content_type(&HeaderMap::new()).is_err());
    }
}
