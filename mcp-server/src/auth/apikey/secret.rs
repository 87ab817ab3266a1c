//! The secret half of an API key: a prefixed high-entropy string shown once
//! ([`ApiKeySecret`]), and the only thing stored of it, a domain-separated SHA-256 digest
//! ([`KeyDigest`]) looked up in O(1) and compared in constant time.

use std::fmt;

use crate::crypto::{Sha256, constant_time_eq};

/// The domain separator of key digests: the digest of a key never equals the digest of the same
/// bytes used for anything else.
const DOMAIN: &[u8] = b"mcp-api-key:v1\x00";

/// The version tag of stored digests.
pub const DIGEST_VERSION: &str = "sha256:v1";

/// Characters of the random body (62: letters and digits, no `-` or `_`, so a key selects with
/// one double-click).
const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Length of the random body: 43 characters of base 62 carry 256 bits.
pub const BODY_LEN: usize = 43;

/// How many characters of the body are kept in the display prefix.
const DISPLAY_CHARS: usize = 4;

pub use crate::crypto::RandomnessError;

/// A freshly created API key, in full. It is shown once (printed by the CLI, returned by the
/// admin API) and never stored; `Debug` and `Display` redact it.
///
/// ```
/// use mcp_server::auth::ApiKeySecret;
/// let secret = ApiKeySecret::generate("mcp_")?;
/// assert!(secret.expose().starts_with("mcp_"));
/// assert!(!format!("{secret:?}").contains(secret.expose()));
/// # Ok::<(), mcp_server::auth::RandomnessError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeySecret(String);

impl ApiKeySecret {
    /// Draws a new secret: `prefix` followed by 43 random base-62 characters (256 bits).
    pub fn generate(prefix: &str) -> Result<Self, RandomnessError> {
        let mut out = String::with_capacity(prefix.len() + BODY_LEN);
        out.push_str(prefix);
        let mut pool = [0u8; 64];
        let mut used = pool.len();
        while out.len() < prefix.len() + BODY_LEN {
            if used == pool.len() {
                getrandom::fill(&mut pool).map_err(|_| RandomnessError)?;
                used = 0;
            }
            let b = pool[used];
            used += 1;
            // Rejection sampling keeps every character equally likely: 248 = 4 × 62.
            if b < 248 {
                out.push(char::from(ALPHABET[usize::from(b % 62)]));
            }
        }
        Ok(ApiKeySecret(out))
    }

    /// The key, to show its owner once. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Its digest, as stored.
    pub fn digest(&self) -> KeyDigest {
        KeyDigest::of(&self.0)
    }

    /// What lists show of it: the prefix and the first four characters of the body.
    pub fn display_prefix(&self, prefix: &str) -> String {
        display_prefix(&self.0, prefix)
    }
}

impl fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKeySecret(<redacted>)")
    }
}

impl fmt::Display for ApiKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted API key>")
    }
}

/// The display prefix of a key: `prefix` plus four characters.
pub(crate) fn display_prefix(secret: &str, prefix: &str) -> String {
    secret
        .get(..prefix.len() + DISPLAY_CHARS)
        .unwrap_or(prefix)
        .to_owned()
}

/// Whether `token` is shaped like a key with this prefix: the prefix, then exactly 43 letters
/// and digits. Anything else is refused before any lookup.
pub(crate) fn is_well_formed(token: &str, prefix: &str) -> bool {
    token.strip_prefix(prefix).is_some_and(|body| {
        body.len() == BODY_LEN && body.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// SHA-256 of the domain separator and the key: what the store keeps and looks keys up by.
///
/// ```
/// use mcp_server::auth::KeyDigest;
/// let d = KeyDigest::of("mcp_example");
/// assert_eq!(KeyDigest::from_hex(&d.to_hex()), Some(d));
/// assert!(d.to_string().starts_with("sha256:v1:"));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyDigest([u8; 32]);

impl KeyDigest {
    /// The digest of `secret`.
    pub fn of(secret: &str) -> Self {
        let mut ctx = Sha256::new();
        ctx.update(DOMAIN);
        ctx.update(secret.as_bytes());
        KeyDigest(ctx.finish())
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// From raw bytes (as a store read them).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        KeyDigest(bytes)
    }

    /// Whether two digests are equal, in time independent of where they differ.
    pub fn matches(&self, other: &KeyDigest) -> bool {
        constant_time_eq(&self.0, &other.0)
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// From 64 hex digits.
    pub fn from_hex(hex: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(hex, &mut out).ok()?;
        Some(KeyDigest(out))
    }
}

impl fmt::Display for KeyDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{DIGEST_VERSION}:{}", self.to_hex())
    }
}

impl fmt::Debug for KeyDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyDigest({DIGEST_VERSION}:{}…)", &self.to_hex()[..8])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_long_and_distinct() {
        let a = ApiKeySecret::generate("mcp_").unwrap();
        let b = ApiKeySecret::generate("mcp_").unwrap();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 4 + BODY_LEN);
        assert!(is_well_formed(a.expose(), "mcp_"));
        assert!(!is_well_formed(a.expose(), "dagu_"));
        assert!(!is_well_formed("mcp_short", "mcp_"));
        assert!(!is_well_formed(&format!("{}!", &a.expose()[..46]), "mcp_"));
        assert_eq!(a.display_prefix("mcp_").len(), 8);
        assert!(!format!("{a:?} {a}").contains(a.expose()));
    }

    #[test]
    fn digests_are_domain_separated() {
        let d = KeyDigest::of("k");
        assert_ne!(d.as_bytes(), &crate::crypto::sha256(b"k"));
        assert!(d.matches(&KeyDigest::of("k")));
        assert!(!d.matches(&KeyDigest::of("K")));
        assert_eq!(KeyDigest::from_hex("zz"), None);
        assert_eq!(KeyDigest::from_hex(&"é".repeat(32)), None);
    }
}
