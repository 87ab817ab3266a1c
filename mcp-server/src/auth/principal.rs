//! [`Principal`]: the identity that legacy sessions, MRTR request states and tasks are bound to.
//! It names the kind of credential and its identifier, encoded so that two different identities
//! can never produce the same value (no separator to forge).

use serde::Serialize;

use super::context::{AuthContext, CredentialKind};

/// Who owns a session, a request state or a task: the kind of credential and what identifies it.
///
/// - an API key: the key's id (two keys of one user are two principals, so a viewer key cannot
///   drive what the same user's admin key started);
/// - an OAuth token (Bearer or DPoP): issuer, subject and client, so a refreshed token keeps its
///   sessions;
/// - HTTP Basic: the user name;
/// - no credential (`fail_open`): anonymous.
///
/// ```
/// use mcp_server::auth::{AuthContext, CredentialKind};
///
/// let a = AuthContext::new(CredentialKind::Bearer).with_subject("a|b");
/// let b = AuthContext::new(CredentialKind::Bearer).with_subject("a").with_issuer("b");
/// assert_ne!(a.principal(), b.principal());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Principal(String);

/// The parts of a principal, serialized as a JSON array: every string is quoted and escaped,
/// so the encoding is injective.
#[derive(Serialize)]
#[serde(untagged)]
enum Parts<'a> {
    Key(&'static str, Option<&'a str>),
    Token(
        &'static str,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
    ),
    Anonymous((&'static str,)),
}

impl Principal {
    /// The principal of `ctx`.
    pub fn of(ctx: &AuthContext) -> Principal {
        let parts = match ctx.credential {
            CredentialKind::ApiKey => Parts::Key("api_key", ctx.credential_id.as_deref()),
            CredentialKind::Basic => Parts::Key("basic", ctx.subject.as_deref()),
            CredentialKind::Bearer | CredentialKind::Dpop => Parts::Token(
                "oauth",
                ctx.issuer.as_deref(),
                ctx.subject.as_deref(),
                ctx.client_id.as_deref(),
            ),
            CredentialKind::None => Parts::Anonymous(("anonymous",)),
        };
        // Strings and `null`s only: serialization cannot fail.
        Principal(serde_json::to_string(&parts).unwrap_or_default())
    }

    /// The canonical encoding (a JSON array such as `["api_key","k_123"]`), to store and compare.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A principal from its [`as_str`](Self::as_str) form, as stored.
    pub fn from_stored(encoded: impl Into<String>) -> Principal {
        Principal(encoded.into())
    }
}

impl std::fmt::Display for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(iss: &str, sub: &str, client: &str) -> AuthContext {
        let mut c = AuthContext::new(CredentialKind::Bearer);
        c.issuer = Some(iss.into());
        c.subject = Some(sub.into());
        c.client_id = Some(client.into());
        c
    }

    #[test]
    fn separators_cannot_be_forged() {
        // `format!("{}|{}|{}")` made these two equal.
        assert_ne!(
            token("a|b", "c", "").principal(),
            token("a", "b|c", "").principal()
        );
        assert_ne!(
            token("a\",\"b", "c", "d").principal(),
            token("a", "b\",\"c", "d").principal()
        );
    }

    #[test]
    fn each_api_key_is_its_own_principal() {
        let key = |id: &str| {
            let mut c = AuthContext::new(CredentialKind::ApiKey).with_subject("alice");
            c.credential_id = Some(id.into());
            c
        };
        assert_ne!(key("k1").principal(), key("k2").principal());
        assert_eq!(key("k1").principal(), key("k1").principal());
        // A Basic user named like a key id is someone else.
        let basic = AuthContext::new(CredentialKind::Basic).with_subject("k1");
        assert_ne!(basic.principal(), key("k1").principal());
    }

    #[test]
    fn a_refreshed_token_keeps_its_principal() {
        let mut a = token("https://as", "u", "c");
        a.credential_id = Some("jti-1".into());
        let mut b = token("https://as", "u", "c");
        b.credential_id = Some("jti-2".into());
        b.credential = CredentialKind::Dpop;
        assert_eq!(a.principal(), b.principal());
        assert_eq!(a.principal().as_str(), r#"["oauth","https://as","u","c"]"#);
    }
}
