//! `WWW-Authenticate` challenges and the responses that carry them (AZ-08, AZ-09, AZ-14,
//! BE-01..BE-06): 401 without `error` when no credentials came, 401 `invalid_token`, 403
//! `insufficient_scope` naming every scope needed, 400 `invalid_request`, always with an absolute
//! `resource_metadata`. [`AuthRejection`](super::AuthRejection) sends them. Tokens are never
//! echoed.

use http::StatusCode;

/// An OAuth error code of RFC 6750 §3.1 (or RFC 9449 §7 for DPoP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerError {
    /// 400: malformed request (two `Authorization` headers, ...).
    InvalidRequest,
    /// 401: the token is expired, revoked, malformed or otherwise invalid.
    InvalidToken,
    /// 403: the token lacks a scope the request needs.
    InsufficientScope,
    /// 401: the DPoP proof is invalid (RFC 9449).
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    InvalidDpopProof,
    /// 401: the DPoP proof must carry the server's nonce (RFC 9449 §8).
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    UseDpopNonce,
}

impl BearerError {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            BearerError::InvalidRequest => "invalid_request",
            BearerError::InvalidToken => "invalid_token",
            BearerError::InsufficientScope => "insufficient_scope",
            BearerError::InvalidDpopProof => "invalid_dpop_proof",
            BearerError::UseDpopNonce => "use_dpop_nonce",
        }
    }

    /// The HTTP status it goes with.
    pub fn status(self) -> StatusCode {
        match self {
            BearerError::InvalidRequest => StatusCode::BAD_REQUEST,
            BearerError::InsufficientScope => StatusCode::FORBIDDEN,
            _ => StatusCode::UNAUTHORIZED,
        }
    }
}

/// Keeps only the characters RFC 6750 allows in quoted values (`%x20-21 / %x23-5B / %x5D-7E`):
/// no quote, no backslash, no control or non-ASCII character (BE-02).
pub fn sanitize(value: &str) -> String {
    value
        .chars()
        .filter(|c| matches!(*c as u32, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E))
        .collect()
}

/// Scope tokens may not contain spaces, quotes or backslashes; anything else is dropped.
fn scope_list<S: AsRef<str>>(scopes: &[S]) -> String {
    scopes
        .iter()
        .map(AsRef::as_ref)
        .filter(|s| mcp_core::rules::scope::is_valid(s))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One challenge.
#[derive(Debug, Clone)]
pub struct Challenge {
    scheme: &'static str,
    realm: Option<String>,
    error: Option<BearerError>,
    description: Option<String>,
    scope: Option<String>,
    resource_metadata: Option<String>,
    algs: Option<String>,
}

impl Challenge {
    /// A `Bearer` challenge pointing at the protected resource metadata.
    pub fn bearer(resource_metadata: impl Into<String>) -> Self {
        Challenge {
            scheme: "Bearer",
            realm: None,
            error: None,
            description: None,
            scope: None,
            resource_metadata: Some(resource_metadata.into()),
            algs: None,
        }
    }

    /// A `Bearer` challenge with a realm and no metadata (API keys: there is no authorization
    /// server to discover).
    pub fn bearer_realm(realm: &str) -> Self {
        let mut c = Self::bearer("");
        c.resource_metadata = None;
        c.realm = Some(sanitize(realm));
        c
    }

    /// A `Basic` challenge (RFC 7617) for `realm`, UTF-8 credentials.
    pub fn basic(realm: &str) -> Self {
        let mut c = Self::bearer_realm(realm);
        c.scheme = "Basic";
        c
    }

    /// A `DPoP` challenge (RFC 9449 §7.1) with the accepted proof algorithms.
    pub fn dpop(resource_metadata: impl Into<String>, algs: &[&str]) -> Self {
        let mut c = Self::bearer(resource_metadata);
        c.scheme = "DPoP";
        c.algs = Some(algs.join(" "));
        c
    }

    /// A `DPoP` challenge with a realm and no metadata.
    pub fn dpop_realm(realm: &str, algs: &[&str]) -> Self {
        let mut c = Self::dpop("", algs);
        c.resource_metadata = None;
        c.realm = Some(sanitize(realm));
        c
    }

    /// Adds an error code and a description.
    #[must_use]
    pub fn error(mut self, error: BearerError, description: &str) -> Self {
        self.error = Some(error);
        self.description = Some(sanitize(description)).filter(|d| !d.is_empty());
        self
    }

    /// Names the scopes the request needs.
    #[must_use]
    pub fn scope<S: AsRef<str>>(mut self, scopes: &[S]) -> Self {
        let s = scope_list(scopes);
        self.scope = (!s.is_empty()).then_some(s);
        self
    }

    /// The header value.
    pub fn render(&self) -> String {
        let mut parts = Vec::new();
        if let Some(r) = &self.realm {
            parts.push(format!("realm=\"{r}\""));
        }
        if self.scheme == "Basic" {
            parts.push("charset=\"UTF-8\"".to_owned());
            return format!("Basic {}", parts.join(", "));
        }
        if let Some(e) = self.error {
            parts.push(format!("error=\"{}\"", e.as_str()));
        }
        if let Some(d) = &self.description {
            parts.push(format!("error_description=\"{d}\""));
        }
        if let Some(s) = &self.scope {
            parts.push(format!("scope=\"{s}\""));
        }
        if let Some(m) = &self.resource_metadata {
            parts.push(format!("resource_metadata=\"{}\"", sanitize(m)));
        }
        if let Some(a) = &self.algs {
            parts.push(format!("algs=\"{a}\""));
        }
        format!("{} {}", self.scheme, parts.join(", "))
    }

    /// The error code, if any.
    pub fn error_code(&self) -> Option<BearerError> {
        self.error
    }

    /// The error description, if any.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The status of this challenge's response.
    pub fn status(&self) -> StatusCode {
        self.error
            .map_or(StatusCode::UNAUTHORIZED, BearerError::status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn az09_no_credentials_no_error() {
        let c =
            Challenge::bearer("http://h/.well-known/oauth-protected-resource/mcp").scope(&["read"]);
        assert_eq!(
            c.render(),
            r#"Bearer scope="read", resource_metadata="http://h/.well-known/oauth-protected-resource/mcp""#
        );
        assert_eq!(c.status(), StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn be02_quotes_and_backslashes_never_reach_the_header() {
        let c = Challenge::bearer("m").error(BearerError::InvalidToken, "bad \"token\" \\ é\n");
        let v = c.render();
        assert_eq!(
            v,
            r#"Bearer error="invalid_token", error_description="bad token  ", resource_metadata="m""#
        );
        let c = Challenge::bearer("m").scope(&["ok", "bad scope", "q\"x"]);
        assert!(c.render().contains(r#"scope="ok""#));
    }

    #[test]
    fn statuses_follow_the_error() {
        assert_eq!(
            Challenge::bearer("m")
                .error(BearerError::InsufficientScope, "")
                .status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            Challenge::bearer("m")
                .error(BearerError::InvalidRequest, "")
                .status(),
            StatusCode::BAD_REQUEST
        );
        let d = Challenge::dpop("m", &["ES256"]).error(BearerError::UseDpopNonce, "x");
        assert!(d.render().starts_with("DPoP error=\"use_dpop_nonce\""));
        assert!(d.render().ends_with("algs=\"ES256\""));
    }
}
