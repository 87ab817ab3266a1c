//! [`RoleLadder`]: the ordered roles an application declares, and the one comparison every role
//! check goes through. [`RoleClaim`]: how a JWT claim becomes a role.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

/// Dagu's ladder, the default: `viewer < operator < developer < manager < admin`.
pub const DEFAULT_ROLES: [&str; 5] = ["viewer", "operator", "developer", "manager", "admin"];

/// Why a ladder or a role name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RoleError {
    /// A ladder needs at least one role.
    #[error("a role ladder needs at least one role")]
    Empty,
    /// A role appears twice.
    #[error("the role {0:?} appears twice in the ladder")]
    Duplicate(String),
    /// A role name outside `[a-z0-9_-]{1,64}`.
    #[error("invalid role name {0:?}: use 1 to 64 characters of a-z 0-9 _ -")]
    InvalidName(String),
    /// A role that is not on the ladder.
    #[error("unknown role {0:?}")]
    Unknown(String),
}

/// Whether `name` can be a role: 1 to 64 characters of `a-z 0-9 _ -`.
pub fn is_valid_role_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Roles in increasing order of power, declared by the application. A role allows everything a
/// lower role allows. Unknown roles allow nothing and are allowed by nothing (fail closed).
///
/// ```
/// use mcp_server::auth::RoleLadder;
///
/// let ladder = RoleLadder::default();
/// assert!(ladder.allows(Some("developer"), "operator"));
/// assert!(!ladder.allows(Some("viewer"), "operator"));
/// assert!(!ladder.allows(None, "viewer"));
/// assert!(!ladder.allows(Some("root"), "viewer"));
///
/// let custom = RoleLadder::new(["reader", "writer", "owner"])?;
/// assert_eq!(custom.highest(), "owner");
/// # Ok::<(), mcp_server::auth::RoleError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleLadder {
    roles: Arc<[String]>,
}

impl Default for RoleLadder {
    fn default() -> Self {
        RoleLadder {
            roles: DEFAULT_ROLES.iter().map(|r| (*r).to_owned()).collect(),
        }
    }
}

impl RoleLadder {
    /// A ladder from the lowest role to the highest.
    pub fn new<I, S>(roles: I) -> Result<Self, RoleError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut out: Vec<String> = Vec::new();
        for role in roles {
            let role = role.into();
            if !is_valid_role_name(&role) {
                return Err(RoleError::InvalidName(role));
            }
            if out.contains(&role) {
                return Err(RoleError::Duplicate(role));
            }
            out.push(role);
        }
        if out.is_empty() {
            return Err(RoleError::Empty);
        }
        Ok(RoleLadder { roles: out.into() })
    }

    /// The roles, lowest first.
    pub fn names(&self) -> &[String] {
        &self.roles
    }

    /// The position of `role` (0 is the lowest), if it is on the ladder.
    pub fn rank(&self, role: &str) -> Option<usize> {
        self.roles.iter().position(|r| r == role)
    }

    /// Whether `role` is on the ladder.
    pub fn contains(&self, role: &str) -> bool {
        self.rank(role).is_some()
    }

    /// `Ok` when `role` is on the ladder.
    pub fn check(&self, role: &str) -> Result<(), RoleError> {
        if self.contains(role) {
            Ok(())
        } else {
            Err(RoleError::Unknown(role.to_owned()))
        }
    }

    /// The lowest role.
    pub fn lowest(&self) -> &str {
        self.roles.first().map_or("", String::as_str)
    }

    /// The highest role.
    pub fn highest(&self) -> &str {
        self.roles.last().map_or("", String::as_str)
    }

    /// Whether a caller holding `granted` may do what needs `needed`. `None`, an unknown granted
    /// role and an unknown needed role all answer `false`.
    pub fn allows(&self, granted: Option<&str>, needed: &str) -> bool {
        match (granted.and_then(|g| self.rank(g)), self.rank(needed)) {
            (Some(g), Some(n)) => g >= n,
            _ => false,
        }
    }

    /// The highest of `roles` that is on the ladder.
    pub fn highest_of<'a>(&self, roles: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
        roles
            .into_iter()
            .filter_map(|r| self.rank(r).map(|k| (k, r)))
            .max_by_key(|(k, _)| *k)
            .map(|(_, r)| r)
    }
}

/// Where a JWT carries its role, and how the identity provider's names map onto the ladder.
///
/// The claim may be a string or an array of strings (the highest known role wins). Without a
/// mapping the claim's values are role names; with one, only mapped values count.
///
/// ```
/// use mcp_server::auth::{RoleClaim, RoleLadder};
///
/// let claim = RoleClaim::new("groups").map("mcp-admins", "admin").map("mcp-ops", "operator");
/// let claims = serde_json::json!({"groups": ["staff", "mcp-ops"]});
/// let role = claim.role_of(claims.as_object().unwrap(), &RoleLadder::default());
/// assert_eq!(role.as_deref(), Some("operator"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleClaim {
    /// The claim's name (default `role`).
    pub claim: String,
    /// Claim value → role; empty means the values are role names.
    pub mapping: BTreeMap<String, String>,
}

impl Default for RoleClaim {
    fn default() -> Self {
        Self::new("role")
    }
}

impl RoleClaim {
    /// Roles from the claim `claim`, by name.
    pub fn new(claim: impl Into<String>) -> Self {
        RoleClaim {
            claim: claim.into(),
            mapping: BTreeMap::new(),
        }
    }

    /// Maps the claim value `value` to `role`.
    #[must_use]
    pub fn map(mut self, value: impl Into<String>, role: impl Into<String>) -> Self {
        self.mapping.insert(value.into(), role.into());
        self
    }

    /// The role the claims give on `ladder`, if any.
    pub fn role_of(
        &self,
        claims: &serde_json::Map<String, Value>,
        ladder: &RoleLadder,
    ) -> Option<String> {
        let values: Vec<&str> = match claims.get(&self.claim)? {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => return None,
        };
        let mapped = values.into_iter().filter_map(|v| {
            if self.mapping.is_empty() {
                Some(v)
            } else {
                self.mapping.get(v).map(String::as_str)
            }
        });
        ladder.highest_of(mapped).map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_ladder_is_daguish() {
        let l = RoleLadder::default();
        assert_eq!(l.lowest(), "viewer");
        assert_eq!(l.highest(), "admin");
        for (i, r) in DEFAULT_ROLES.iter().enumerate() {
            assert_eq!(l.rank(r), Some(i));
            assert!(l.allows(Some(r), "viewer"));
            assert_eq!(l.allows(Some(r), "admin"), *r == "admin");
        }
        assert!(!l.allows(Some("admin"), "superuser"), "unknown needed role");
    }

    #[test]
    fn bad_ladders_are_refused() {
        assert_eq!(RoleLadder::new(Vec::<String>::new()), Err(RoleError::Empty));
        assert!(matches!(
            RoleLadder::new(["a", "a"]),
            Err(RoleError::Duplicate(_))
        ));
        assert!(matches!(
            RoleLadder::new(["Bad Name"]),
            Err(RoleError::InvalidName(_))
        ));
    }

    #[test]
    fn claims_map_to_the_highest_known_role() {
        let l = RoleLadder::default();
        let c = RoleClaim::default();
        let m = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert_eq!(
            c.role_of(&m(serde_json::json!({"role": "manager"})), &l)
                .as_deref(),
            Some("manager")
        );
        assert_eq!(
            c.role_of(
                &m(serde_json::json!({"role": ["viewer", "x", "developer"]})),
                &l
            )
            .as_deref(),
            Some("developer")
        );
        assert_eq!(c.role_of(&m(serde_json::json!({"role": "root"})), &l), None);
        assert_eq!(c.role_of(&m(serde_json::json!({})), &l), None);
        let mapped = RoleClaim::new("groups").map("ops", "operator");
        assert_eq!(
            mapped.role_of(&m(serde_json::json!({"groups": ["admin"]})), &l),
            None,
            "with a mapping, unmapped values (even role names) give nothing"
        );
    }
}
