//! Protocol versions, eras, and version negotiation as pure functions.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A protocol version this crate knows.
///
/// Versions order by date, so `V2025_06_18 < V2025_11_25`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ProtocolVersion {
    /// `2024-11-05`: HTTP+SSE era; accepted only in `initialize` when configured.
    V2024_11_05,
    /// `2025-03-26`: Streamable HTTP, batching.
    V2025_03_26,
    /// `2025-06-18`: `MCP-Protocol-Version` header, structured output, elicitation.
    V2025_06_18,
    /// `2025-11-25`: the newest legacy version (SSE polling, icons, tasks).
    V2025_11_25,
    /// `2026-07-28`: the modern, stateless era.
    V2026_07_28,
}

/// The two eras of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Era {
    /// `initialize` handshake, optional sessions, server→client requests.
    Legacy,
    /// Stateless requests with per-request `_meta`.
    Modern,
}

impl ProtocolVersion {
    /// Every version, oldest first.
    pub const ALL: [ProtocolVersion; 5] = [
        ProtocolVersion::V2024_11_05,
        ProtocolVersion::V2025_03_26,
        ProtocolVersion::V2025_06_18,
        ProtocolVersion::V2025_11_25,
        ProtocolVersion::V2026_07_28,
    ];
    /// The newest legacy version.
    pub const LATEST_LEGACY: ProtocolVersion = ProtocolVersion::V2025_11_25;
    /// The newest version.
    pub const LATEST: ProtocolVersion = ProtocolVersion::V2026_07_28;
    /// What a legacy server assumes when a request names no version (TR06 §Protocol Version Header).
    pub const ASSUMED_WITHOUT_HEADER: ProtocolVersion = ProtocolVersion::V2025_03_26;

    /// The wire string, e.g. `"2025-11-25"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ProtocolVersion::V2024_11_05 => "2024-11-05",
            ProtocolVersion::V2025_03_26 => "2025-03-26",
            ProtocolVersion::V2025_06_18 => "2025-06-18",
            ProtocolVersion::V2025_11_25 => "2025-11-25",
            ProtocolVersion::V2026_07_28 => "2026-07-28",
        }
    }

    /// Parses a wire string; `None` for a version this crate does not know.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The era this version belongs to.
    pub const fn era(self) -> Era {
        match self {
            ProtocolVersion::V2026_07_28 => Era::Modern,
            _ => Era::Legacy,
        }
    }

    /// Whether JSON-RPC batches are allowed (2025-03-26 only).
    pub const fn allows_batches(self) -> bool {
        matches!(self, ProtocolVersion::V2025_03_26)
    }

    /// Whether POST SSE streams open with a priming event (SEP-1699, 2025-11-25).
    pub const fn primes_sse_streams(self) -> bool {
        matches!(self, ProtocolVersion::V2025_11_25)
    }

    /// Whether "resource not found" is `-32602` (modern) rather than `-32002` (legacy).
    pub const fn resource_not_found_is_invalid_params(self) -> bool {
        matches!(self.era(), Era::Modern)
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A version string this crate does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown protocol version {0:?}")]
pub struct UnknownVersion(pub String);

impl FromStr for ProtocolVersion {
    type Err = UnknownVersion;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| UnknownVersion(s.to_owned()))
    }
}

impl Serialize for ProtocolVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ProtocolVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).ok_or_else(|| serde::de::Error::custom(UnknownVersion(s.into_owned())))
    }
}

/// The legacy versions a server speaks by default, newest first.
pub const DEFAULT_LEGACY_VERSIONS: [ProtocolVersion; 3] = [
    ProtocolVersion::V2025_11_25,
    ProtocolVersion::V2025_06_18,
    ProtocolVersion::V2025_03_26,
];

/// Legacy `initialize` negotiation (LC11 §Version Negotiation): echo the requested version when it
/// is supported, otherwise answer with the newest supported legacy version.
///
/// `supported` may list modern versions too; they are never chosen here, since `initialize`
/// always starts a legacy session. Returns `None` only when `supported` has no legacy version.
///
/// ```
/// use mcp_core::version::{negotiate_initialize, ProtocolVersion, DEFAULT_LEGACY_VERSIONS};
/// assert_eq!(negotiate_initialize("2025-06-18", &DEFAULT_LEGACY_VERSIONS), Some(ProtocolVersion::V2025_06_18));
/// assert_eq!(negotiate_initialize("2099-01-01", &DEFAULT_LEGACY_VERSIONS), Some(ProtocolVersion::V2025_11_25));
/// ```
pub fn negotiate_initialize(
    requested: &str,
    supported: &[ProtocolVersion],
) -> Option<ProtocolVersion> {
    let legacy = || supported.iter().copied().filter(|v| v.era() == Era::Legacy);
    if let Some(v) = legacy().find(|v| v.as_str() == requested) {
        return Some(v);
    }
    legacy().max()
}

/// Checks a version named by a request (header or `_meta`) against the supported set.
///
/// ```
/// use mcp_core::version::{check_supported, ProtocolVersion, DEFAULT_LEGACY_VERSIONS};
/// assert!(check_supported("2025-03-26", &DEFAULT_LEGACY_VERSIONS).is_ok());
/// assert!(check_supported("1999-01-01", &DEFAULT_LEGACY_VERSIONS).is_err());
/// ```
pub fn check_supported(
    requested: &str,
    supported: &[ProtocolVersion],
) -> Result<ProtocolVersion, UnknownVersion> {
    supported
        .iter()
        .copied()
        .find(|v| v.as_str() == requested)
        .ok_or_else(|| UnknownVersion(requested.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_and_order_by_date() {
        for v in ProtocolVersion::ALL {
            assert_eq!(ProtocolVersion::parse(v.as_str()), Some(v));
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(serde_json::from_str::<ProtocolVersion>(&json).unwrap(), v);
        }
        assert!(ProtocolVersion::V2025_03_26 < ProtocolVersion::V2025_11_25);
        assert_eq!(ProtocolVersion::LATEST.era(), Era::Modern);
    }

    #[test]
    fn initialize_never_negotiates_the_modern_era() {
        let all = ProtocolVersion::ALL;
        assert_eq!(
            negotiate_initialize("2026-07-28", &all),
            Some(ProtocolVersion::V2025_11_25)
        );
        assert_eq!(
            negotiate_initialize("x", &[ProtocolVersion::V2026_07_28]),
            None
        );
    }

    #[test]
    fn only_2025_03_26_batches() {
        let batching: Vec<_> = ProtocolVersion::ALL
            .into_iter()
            .filter(|v| v.allows_batches())
            .collect();
        assert_eq!(batching, [ProtocolVersion::V2025_03_26]);
    }
}
