//! Server nonces (RFC 9449 §8, DP-19), stateless so that several instances can share them.

use std::time::Duration;

use crate::crypto::HmacKey;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::now_secs;

/// Stateless server nonces (RFC 9449 §8): an HMAC over a time slot, so that every instance
/// holding the same key accepts the others' nonces, and a nonce is good for the current and the
/// previous slot.
#[derive(Clone)]
pub struct NonceIssuer {
    key: HmacKey,
    lifetime: Duration,
}

impl NonceIssuer {
    /// Nonces signed with `key`, rotating every `lifetime`.
    pub fn new(key: &[u8], lifetime: Duration) -> Self {
        NonceIssuer {
            key: HmacKey::new(key),
            lifetime: lifetime.max(Duration::from_secs(1)),
        }
    }

    fn slot(&self) -> u64 {
        now_secs() / self.lifetime.as_secs().max(1)
    }

    fn for_slot(&self, slot: u64) -> String {
        let tag = self.key.sign(&slot.to_be_bytes());
        let mut bytes = slot.to_be_bytes().to_vec();
        bytes.extend_from_slice(&tag[..16]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The nonce to hand out now.
    pub fn current(&self) -> String {
        self.for_slot(self.slot())
    }

    /// Whether `nonce` was issued for the current or the previous slot.
    pub fn is_valid(&self, nonce: &str) -> bool {
        let now = self.slot();
        [now, now.saturating_sub(1)]
            .iter()
            .any(|s| nonce.as_bytes() == self.for_slot(*s).as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dp19_nonces_rotate_and_are_shared_by_key() {
        let a = NonceIssuer::new(b"shared-key-shared-key-shared-key", Duration::from_secs(60));
        let b = NonceIssuer::new(b"shared-key-shared-key-shared-key", Duration::from_secs(60));
        let c = NonceIssuer::new(b"other-key-other-key-other-key-00", Duration::from_secs(60));
        let n = a.current();
        assert!(b.is_valid(&n));
        assert!(!c.is_valid(&n));
        assert!(!a.is_valid("bogus"));
        assert!(
            n.bytes()
                .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\')
        );
    }
}
