//! [`Surface`]: the parts of an application a credential may be used on (the MCP endpoint, the
//! application's REST API, ...). Only API keys are limited by surface.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Where a request arrives. API keys list the surfaces they are accepted on.
///
/// ```
/// use mcp_server::auth::Surface;
/// assert_eq!(Surface::parse("rest_api"), Surface::RestApi);
/// assert_eq!(Surface::Mcp.as_str(), "mcp");
/// assert_eq!(Surface::parse("webhooks").as_str(), "webhooks");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Surface {
    /// The MCP endpoint (`mcp`).
    Mcp,
    /// The application's own HTTP API mounted beside it (`rest_api`).
    RestApi,
    /// A surface the application defines. Stored values nobody knows are kept as they are, so a
    /// damaged record never widens to more surfaces.
    Other(String),
}

impl Surface {
    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            Surface::Mcp => "mcp",
            Surface::RestApi => "rest_api",
            Surface::Other(s) => s,
        }
    }

    /// A surface from its wire name (any other string is [`Surface::Other`]).
    pub fn parse(name: &str) -> Surface {
        match name {
            "mcp" => Surface::Mcp,
            "rest_api" => Surface::RestApi,
            other => Surface::Other(other.to_owned()),
        }
    }

    /// What a key stored without surfaces is accepted on: `mcp` and `rest_api`, and never any
    /// surface added later.
    pub fn legacy_default() -> BTreeSet<Surface> {
        [Surface::Mcp, Surface::RestApi].into_iter().collect()
    }
}

impl fmt::Display for Surface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Surface {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Surface {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Surface::parse(&s))
    }
}

/// The surfaces a stored set stands for: itself, or the legacy default when empty.
#[cfg_attr(not(feature = "builtin-auth"), allow(dead_code))]
pub(crate) fn effective(stored: &BTreeSet<Surface>) -> BTreeSet<Surface> {
    if stored.is_empty() {
        Surface::legacy_default()
    } else {
        stored.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_sets_are_both_and_nothing_more() {
        let e = effective(&BTreeSet::new());
        assert_eq!(e, Surface::legacy_default());
        let odd: BTreeSet<_> = [Surface::parse("mcpx")].into_iter().collect();
        assert_eq!(effective(&odd), odd, "unknown values are kept, not widened");
        let json = serde_json::to_string(&e).unwrap_or_default();
        assert_eq!(json, r#"["mcp","rest_api"]"#);
    }
}
