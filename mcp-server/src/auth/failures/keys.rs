//! What failures are counted against: a client address (IPv6 grouped by /64) and a credential
//! (a digest, never the secret).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::auth::context::CredentialKind;
use crate::crypto::Sha256;

/// A client address as budgeted: an IPv4 address, or the /64 prefix of an IPv6 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum AddressKey {
    /// One IPv4 address (IPv4-mapped IPv6 addresses included).
    V4([u8; 4]),
    /// The first 64 bits of an IPv6 address.
    V6([u8; 8]),
}

impl AddressKey {
    /// The key of `ip`.
    pub(crate) fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(v4) => AddressKey::V4(v4.octets()),
            IpAddr::V6(v6) => {
                let o = v6.octets();
                AddressKey::V6([o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7]])
            }
        }
    }
}

impl fmt::Display for AddressKey {
    /// `203.0.113.7`, or `2001:db8:1:2::/64`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            AddressKey::V4(o) => write!(f, "{}", Ipv4Addr::from(o)),
            AddressKey::V6(p) => {
                let mut o = [0u8; 16];
                o[..8].copy_from_slice(&p);
                write!(f, "{}/64", Ipv6Addr::from(o))
            }
        }
    }
}

/// A credential as budgeted: a SHA-256 digest, never the credential.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct CredentialKey([u8; 32]);

/// The domain separator of credential keys.
#[cfg_attr(not(feature = "builtin-auth"), allow(dead_code))]
const DOMAIN: &[u8] = b"mcp-auth-failures:v1\x00";

impl CredentialKey {
    /// The key of an API key or a Basic user name (`kind` separates them).
    #[cfg_attr(not(feature = "builtin-auth"), allow(dead_code))]
    pub(crate) fn of(kind: CredentialKind, id: &str) -> Self {
        let mut ctx = Sha256::new();
        ctx.update(DOMAIN);
        ctx.update(kind.as_str().as_bytes());
        ctx.update(b"\x00");
        ctx.update(id.as_bytes());
        CredentialKey(ctx.finish())
    }

    /// The key of a bearer token, from its SHA-256 (the digest the verified-token cache keys
    /// on, computed once per request).
    pub(crate) fn of_token_digest(digest: [u8; 32]) -> Self {
        CredentialKey(digest)
    }
}

impl fmt::Debug for CredentialKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CredentialKey(<digest>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_is_grouped_by_64_and_mapped_ipv4_is_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(AddressKey::of(a), AddressKey::of(b));
        assert_ne!(AddressKey::of(a), AddressKey::of(c));
        assert_eq!(AddressKey::of(a).to_string(), "2001:db8:1:2::/64");
        let mapped: IpAddr = "::ffff:203.0.113.7".parse().unwrap();
        let v4: IpAddr = "203.0.113.7".parse().unwrap();
        assert_eq!(AddressKey::of(mapped), AddressKey::of(v4));
        assert_eq!(AddressKey::of(v4).to_string(), "203.0.113.7");
        assert_ne!(
            AddressKey::of("127.0.0.1".parse().unwrap()),
            AddressKey::of("127.0.0.2".parse().unwrap())
        );
    }

    #[test]
    fn credential_keys_separate_kinds_and_hide_the_secret() {
        let k = CredentialKey::of(CredentialKind::Basic, "ada");
        assert_eq!(k, CredentialKey::of(CredentialKind::Basic, "ada"));
        assert_ne!(k, CredentialKey::of(CredentialKind::ApiKey, "ada"));
        assert_ne!(k, CredentialKey::of(CredentialKind::Basic, "Ada"));
        assert!(!format!("{k:?}").contains("ada"));
    }
}
