//! The signature algorithms accepted for access tokens and DPoP proofs: public-key ones only
//! (RFC 7518 §3), so that an HMAC "signature" made with a public key can never be configured.

use std::fmt;
use std::str::FromStr;

/// A public-key JWS algorithm (RFC 7518 §3, RFC 8037).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Algorithm {
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// Ed25519 (RFC 8037).
    EdDSA,
}

/// The family of key an algorithm needs (no RSA key ever checks an ES256 signature).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg(feature = "oauth")]
pub(crate) enum KeyFamily {
    Rsa,
    Ec,
    Okp,
}

impl Algorithm {
    /// Every algorithm, in the order above.
    pub const ALL: [Algorithm; 9] = [
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::EdDSA,
    ];

    /// The JWS name (`ES256`, `EdDSA`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::EdDSA => "EdDSA",
        }
    }

    /// The key family it needs.
    #[cfg(feature = "oauth")]
    pub(crate) fn family(self) -> KeyFamily {
        match self {
            Algorithm::ES256 | Algorithm::ES384 => KeyFamily::Ec,
            Algorithm::EdDSA => KeyFamily::Okp,
            _ => KeyFamily::Rsa,
        }
    }

    /// The same algorithm in `jsonwebtoken`'s terms.
    #[cfg(feature = "oauth")]
    pub(crate) fn to_jwt(self) -> jsonwebtoken::Algorithm {
        use jsonwebtoken::Algorithm as J;
        match self {
            Algorithm::ES256 => J::ES256,
            Algorithm::ES384 => J::ES384,
            Algorithm::RS256 => J::RS256,
            Algorithm::RS384 => J::RS384,
            Algorithm::RS512 => J::RS512,
            Algorithm::PS256 => J::PS256,
            Algorithm::PS384 => J::PS384,
            Algorithm::PS512 => J::PS512,
            Algorithm::EdDSA => J::EdDSA,
        }
    }

    /// `jsonwebtoken`'s algorithm in our terms; `None` for HMAC ones.
    #[cfg(feature = "oauth")]
    pub(crate) fn from_jwt(alg: jsonwebtoken::Algorithm) -> Option<Self> {
        Algorithm::ALL.into_iter().find(|a| a.to_jwt() == alg)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An algorithm name that is not a public-key JWS algorithm (`HS256`, `none`, a typo).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not an accepted signature algorithm (ES256, ES384, RS256, RS384, RS512, PS256, PS384, PS512, EdDSA)"
)]
pub struct UnknownAlgorithm(pub String);

impl FromStr for Algorithm {
    type Err = UnknownAlgorithm;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| UnknownAlgorithm(s.chars().take(16).collect()))
    }
}

#[cfg(all(test, feature = "oauth"))]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_hmac_is_not_an_algorithm() {
        for a in Algorithm::ALL {
            assert_eq!(a.name().parse::<Algorithm>(), Ok(a));
            assert_eq!(Algorithm::from_jwt(a.to_jwt()), Some(a));
        }
        assert!("HS256".parse::<Algorithm>().is_err());
        assert!("none".parse::<Algorithm>().is_err());
        assert_eq!(Algorithm::from_jwt(jsonwebtoken::Algorithm::HS256), None);
        assert_eq!(Algorithm::ES256.family(), KeyFamily::Ec);
        assert_eq!(Algorithm::PS512.family(), KeyFamily::Rsa);
        assert_eq!(Algorithm::EdDSA.family(), KeyFamily::Okp);
    }
}
