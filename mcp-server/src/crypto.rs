//! The primitives every build uses, in one place: SHA-256, HMAC-SHA-256, constant-time
//! comparison and random identifiers. They run on RustCrypto's `sha2`/`hmac` (pure Rust, SHA-NI
//! accelerated where the CPU has it) whichever signature backend (`aws-lc` or `rustcrypto`) the
//! build selects; signature checks live with the features that need them (`auth::dpop`, JWTs).
//!
//! Randomness fails closed: when the operating system's generator fails, callers get
//! [`RandomnessError`] and refuse the operation; no identifier is ever derived from the clock.

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256 as Sha256Core};

/// SHA-256 of `data`.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256Core::digest(data).into()
}

/// SHA-256 over several parts, fed in order.
#[derive(Clone, Default)]
pub(crate) struct Sha256(Sha256Core);

impl Sha256 {
    /// An empty hash.
    pub(crate) fn new() -> Self {
        Sha256(Sha256Core::new())
    }

    /// Feeds `data`.
    pub(crate) fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The digest of everything fed.
    pub(crate) fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

/// An HMAC-SHA-256 key.
#[derive(Clone)]
pub(crate) struct HmacKey(Hmac<Sha256Core>);

impl HmacKey {
    /// A key of any length. As RFC 2104 does, a key longer than the 64-byte block is hashed
    /// first and a shorter one is padded with zeros, so the block-sized constructor (which
    /// cannot fail) gives the same MAC as the key itself.
    pub(crate) fn new(key: &[u8]) -> Self {
        let mut block = [0u8; 64];
        if key.len() > block.len() {
            block[..32].copy_from_slice(&sha256(key));
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        HmacKey(<Hmac<Sha256Core> as KeyInit>::new(&block.into()))
    }

    /// The tag of `data`.
    pub(crate) fn sign(&self, data: &[u8]) -> [u8; 32] {
        let mut mac = self.0.clone();
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// Whether `tag` is the tag of `data`, compared in constant time.
    pub(crate) fn verify(&self, data: &[u8], tag: &[u8]) -> bool {
        let mut mac = self.0.clone();
        mac.update(data);
        mac.verify_slice(tag).is_ok()
    }
}

/// Whether `a == b`, in time that depends only on the lengths.
#[cfg(feature = "builtin-auth")]
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

/// Why nothing random could be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the operating system's random number generator failed")]
pub struct RandomnessError;

/// `N` bytes from the operating system's generator.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], RandomnessError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_| RandomnessError)?;
    Ok(bytes)
}

/// `N` random bytes as lowercase hex (session, task and correlation ids).
pub(crate) fn random_hex<const N: usize>() -> Result<String, RandomnessError> {
    Ok(hex(&random_bytes::<N>()?))
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_the_fips_vectors() {
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut h = Sha256::new();
        h.update(b"a");
        h.update(b"bc");
        assert_eq!(h.finish(), sha256(b"abc"));
    }

    #[test]
    fn hmac_matches_rfc_4231_and_verifies_in_full() {
        // RFC 4231 test case 2.
        let key = HmacKey::new(b"Jefe");
        let tag = key.sign(b"what do ya want for nothing?");
        assert_eq!(
            hex(&tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(key.verify(b"what do ya want for nothing?", &tag));
        assert!(!key.verify(b"what do ya want for nothing!", &tag));
        assert!(!key.verify(b"what do ya want for nothing?", &tag[..16]));
        // RFC 4231 test case 6: a key longer than the block.
        let long = HmacKey::new(&[0xaa; 131]);
        assert_eq!(
            hex(&long.sign(b"Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[cfg(feature = "builtin-auth")]
    #[test]
    fn equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn ids_are_random_hex() {
        let a = random_hex::<16>().unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a, random_hex::<16>().unwrap());
    }
}
