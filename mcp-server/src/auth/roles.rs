//! [`RoleLadder`]: the ordered roles an application declares, and the one comparison every role
//! check goes through. [`RoleClaim`]: how a JWT claim becomes a role.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

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

/// At most this many values of a claim are looked at (the first ones); the rest are ignored, so a
/// token with a huge array costs no more than one with 256 values. Values that are not strings
/// (numbers, objects, nested arrays, `null`) are skipped, never an error.
pub const MAX_CLAIM_VALUES: usize = 256;

/// The string values of the claim at `path` (segments: object member names from the top level
/// of the token down): one for a string, the strings among the first [`MAX_CLAIM_VALUES`]
/// elements of an array, none for anything else or when a segment is missing or not an object.
pub(crate) fn claim_values<'a>(claims: &'a Map<String, Value>, path: &[String]) -> Vec<&'a str> {
    let Some((first, rest)) = path.split_first() else {
        return Vec::new();
    };
    let mut at = claims.get(first);
    for segment in rest {
        at = match at {
            Some(Value::Object(o)) => o.get(segment),
            _ => None,
        };
    }
    match at {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a
            .iter()
            .take(MAX_CLAIM_VALUES)
            .filter_map(Value::as_str)
            .collect(),
        _ => Vec::new(),
    }
}

/// The values of every path in `paths`, at most [`MAX_CLAIM_VALUES`] in all.
pub(crate) fn values_at<'a>(claims: &'a Map<String, Value>, paths: &[Vec<String>]) -> Vec<&'a str> {
    let mut out = Vec::new();
    for path in paths {
        out.extend(claim_values(claims, path));
    }
    out.truncate(MAX_CLAIM_VALUES);
    out
}

/// Where a token carries its role, and how the identity provider's names map onto the ladder.
///
/// The claim is found by name ([`new`](Self::new): a top-level claim, its name taken as is, dots
/// and slashes included) or by path ([`path`](Self::path): object member names from the top
/// level down, e.g. Keycloak's `realm_access` → `roles`). It may be a string or an array of
/// strings; the highest role on the ladder wins. Without a mapping the values are role names;
/// with one, only mapped values count (an unmapped value, even a role name, gives nothing).
/// Anything else (a number, an object, a missing claim) gives nothing, never an error; at most
/// [`MAX_CLAIM_VALUES`] values are looked at.
///
/// When a role claim is configured ([`AuthorizationConfig::role_claim`](super::AuthorizationConfig::role_claim)),
/// a token that gives no role on the ladder (no claim, only unmapped values, a malformed claim)
/// holds the **lowest** role: deny by default, never more ([`role_or_lowest`](Self::role_or_lowest)).
///
/// Presets, for the claims identity providers put roles in (their values must be mapped with
/// [`map`](Self::map) or equal role names):
///
/// | preset | reads | typical values |
/// |---|---|---|
/// | [`keycloak_realm`](Self::keycloak_realm) | `realm_access.roles` | realm roles: `offline_access`, `mcp-operator` |
/// | [`keycloak_client(id)`](Self::keycloak_client) | `resource_access.<id>.roles` | the client's roles |
/// | [`entra`](Self::entra) | `roles` | app roles: `MCP.Operator` |
/// | [`okta_groups`](Self::okta_groups) | `groups` | group names: `Everyone`, `mcp-operators` |
///
/// Auth0 puts roles in a namespaced custom claim (added by an Action): name it as is,
/// `RoleClaim::new("https://example.com/roles")`.
///
/// ```
/// use mcp_server::auth::{RoleClaim, RoleLadder};
///
/// let ladder = RoleLadder::default();
/// let claim = RoleClaim::new("groups").map("mcp-admins", "admin").map("mcp-ops", "operator");
/// let claims = serde_json::json!({"groups": ["staff", "mcp-ops"]});
/// let claims = claims.as_object().cloned().unwrap_or_default();
/// assert_eq!(claim.role_of(&claims, &ladder).as_deref(), Some("operator"));
///
/// // Keycloak realm roles, at a nested path.
/// let keycloak = RoleClaim::keycloak_realm().map("mcp-developer", "developer");
/// let token = serde_json::json!({"realm_access": {"roles": ["offline_access", "mcp-developer"]}});
/// let token = token.as_object().cloned().unwrap_or_default();
/// assert_eq!(keycloak.role_or_lowest(&token, &ladder), "developer");
///
/// // No claim, or nothing mapped: the lowest role, never more.
/// let empty = serde_json::Map::new();
/// assert_eq!(keycloak.role_or_lowest(&empty, &ladder), "viewer");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleClaim {
    /// Where the values are: each path is a list of object member names.
    paths: Vec<Vec<String>>,
    /// Claim value → role; empty means the values are role names.
    mapping: BTreeMap<String, String>,
}

impl Default for RoleClaim {
    fn default() -> Self {
        Self::new("role")
    }
}

impl RoleClaim {
    /// Roles from the top-level claim named `claim`, taken as is: `"https://example.com/roles"`
    /// is one claim with that name, not a path.
    ///
    /// ```
    /// use mcp_server::auth::{RoleClaim, RoleLadder};
    ///
    /// // Auth0: a namespaced custom claim.
    /// let claim = RoleClaim::new("https://example.com/roles").map("mcp-admin", "manager");
    /// let token = serde_json::json!({"https://example.com/roles": ["mcp-admin"]});
    /// let token = token.as_object().cloned().unwrap_or_default();
    /// assert_eq!(claim.role_or_lowest(&token, &RoleLadder::default()), "manager");
    /// ```
    pub fn new(claim: impl Into<String>) -> Self {
        RoleClaim {
            paths: vec![vec![claim.into()]],
            mapping: BTreeMap::new(),
        }
    }

    /// Roles from a nested claim: `segments` are object member names from the top level down
    /// (each taken as is, so a member name may hold dots or slashes). An empty path reads
    /// nothing.
    ///
    /// ```
    /// use mcp_server::auth::{RoleClaim, RoleLadder};
    ///
    /// let claim = RoleClaim::path(["app_metadata", "authorization", "roles"]);
    /// let token = serde_json::json!({"app_metadata": {"authorization": {"roles": ["operator"]}}});
    /// let token = token.as_object().cloned().unwrap_or_default();
    /// assert_eq!(claim.role_of(&token, &RoleLadder::default()).as_deref(), Some("operator"));
    /// ```
    pub fn path<I, S>(segments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        RoleClaim {
            paths: vec![segments.into_iter().map(Into::into).collect()],
            mapping: BTreeMap::new(),
        }
    }

    /// Also reads the claim at `segments` (as [`path`](Self::path)); the values of every path
    /// are pooled (the highest role wins). The mapping applies to all of them.
    ///
    /// ```
    /// use mcp_server::auth::{RoleClaim, RoleLadder};
    ///
    /// // Keycloak realm roles and the roles of the client `mcp-server`.
    /// let claim = RoleClaim::keycloak_realm().also_path(["resource_access", "mcp-server", "roles"]);
    /// let token = serde_json::json!({
    ///     "realm_access": {"roles": ["viewer"]},
    ///     "resource_access": {"mcp-server": {"roles": ["developer"]}},
    /// });
    /// let token = token.as_object().cloned().unwrap_or_default();
    /// assert_eq!(claim.role_of(&token, &RoleLadder::default()).as_deref(), Some("developer"));
    /// ```
    #[must_use]
    pub fn also_path<I, S>(mut self, segments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.paths
            .push(segments.into_iter().map(Into::into).collect());
        self
    }

    /// Keycloak realm roles: `realm_access.roles`, e.g.
    /// `{"realm_access": {"roles": ["offline_access", "default-roles-acme", "mcp-operator"]}}`.
    /// Keycloak's own roles are there too, so map yours (or name realm roles after the ladder).
    ///
    /// ```
    /// use mcp_server::auth::{RoleClaim, RoleLadder};
    ///
    /// let claim = RoleClaim::keycloak_realm().map("mcp-operator", "operator");
    /// let token = serde_json::json!({"realm_access": {"roles": ["offline_access", "mcp-operator"]}});
    /// let token = token.as_object().cloned().unwrap_or_default();
    /// assert_eq!(claim.role_or_lowest(&token, &RoleLadder::default()), "operator");
    /// ```
    pub fn keycloak_realm() -> Self {
        Self::path(["realm_access", "roles"])
    }

    /// Keycloak client roles of the client `client_id`: `resource_access.<client_id>.roles`, e.g.
    /// `{"resource_access": {"mcp-server": {"roles": ["developer"]}}}`. The values must be
    /// mapped or equal role names.
    ///
    /// ```
    /// use mcp_server::auth::{RoleClaim, RoleLadder};
    ///
    /// let claim = RoleClaim::keycloak_client("mcp-server");
    /// let token = serde_json::json!({
    ///     "resource_access": {"mcp-server": {"roles": ["developer"]}, "account": {"roles": ["admin"]}},
    /// });
    /// let token = token.as_object().cloned().unwrap_or_default();
    /// // Another client's roles do not count.
    /// assert_eq!(claim.role_of(&token, &RoleLadder::default()).as_deref(), Some("developer"));
    /// ```
    pub fn keycloak_client(client_id: impl Into<String>) -> Self {
        Self::path([
            "resource_access".to_owned(),
            client_id.into(),
            "roles".to_owned(),
        ])
    }

    /// Microsoft Entra ID app roles: the `roles` claim of the access token, e.g.
    /// `{"roles": ["MCP.Operator"]}` (app roles assigned to the user or, for an application
    /// token, to the client). Map the app roles' values to your ladder.
    ///
    /// ```
    /// use mcp_server::auth::{RoleClaim, RoleLadder};
    ///
    /// let claim = RoleClaim::entra().map("MCP.Operator", "operator").map("MCP.Admin", "admin");
    /// let token = serde_json::json!({"roles": ["MCP.Operator"]});
    /// let token = token.as_object().cloned().unwrap_or_default();
    /// assert_eq!(claim.role_or_lowest(&token, &RoleLadder::default()), "operator");
    /// ```
    pub fn entra() -> Self {
        Self::new("roles")
    }

    /// Okta groups: the `groups` claim (a Groups claim added to the access tokens of an Okta
    /// authorization server), e.g. `{"groups": ["Everyone", "mcp-operators"]}`. Map the group
    /// names to your ladder.
    ///
    /// ```
    /// use mcp_server::auth::{RoleClaim, RoleLadder};
    ///
    /// let claim = RoleClaim::okta_groups().map("mcp-operators", "operator");
    /// let token = serde_json::json!({"groups": ["Everyone", "mcp-operators"]});
    /// let token = token.as_object().cloned().unwrap_or_default();
    /// assert_eq!(claim.role_or_lowest(&token, &RoleLadder::default()), "operator");
    /// ```
    pub fn okta_groups() -> Self {
        Self::new("groups")
    }

    /// Maps the claim value `value` to `role` (which must be on the ladder: `build()` checks).
    ///
    /// ```
    /// use mcp_server::auth::RoleClaim;
    ///
    /// let claim = RoleClaim::okta_groups().map("mcp-admins", "admin");
    /// assert_eq!(claim.mapping().get("mcp-admins").map(String::as_str), Some("admin"));
    /// ```
    #[must_use]
    pub fn map(mut self, value: impl Into<String>, role: impl Into<String>) -> Self {
        self.mapping.insert(value.into(), role.into());
        self
    }

    /// The paths read, each a list of object member names.
    ///
    /// ```
    /// use mcp_server::auth::RoleClaim;
    ///
    /// assert_eq!(RoleClaim::keycloak_realm().paths(), [vec!["realm_access", "roles"]]);
    /// assert_eq!(RoleClaim::new("a.b").paths(), [vec!["a.b"]]);
    /// ```
    pub fn paths(&self) -> &[Vec<String>] {
        &self.paths
    }

    /// Claim value → role (empty: the values are role names).
    ///
    /// ```
    /// use mcp_server::auth::RoleClaim;
    ///
    /// assert!(RoleClaim::entra().mapping().is_empty());
    /// ```
    pub fn mapping(&self) -> &BTreeMap<String, String> {
        &self.mapping
    }

    /// The role the claims give on `ladder`, if any: the highest of the (mapped) values that is
    /// on the ladder.
    ///
    /// ```
    /// use mcp_server::auth::{RoleClaim, RoleLadder};
    ///
    /// let token = serde_json::json!({"role": ["viewer", "developer", "root"]});
    /// let token = token.as_object().cloned().unwrap_or_default();
    /// let ladder = RoleLadder::default();
    /// assert_eq!(RoleClaim::default().role_of(&token, &ladder).as_deref(), Some("developer"));
    /// assert_eq!(RoleClaim::new("other").role_of(&token, &ladder), None);
    /// ```
    pub fn role_of(&self, claims: &Map<String, Value>, ladder: &RoleLadder) -> Option<String> {
        let mapped = values_at(claims, &self.paths).into_iter().filter_map(|v| {
            if self.mapping.is_empty() {
                Some(v)
            } else {
                self.mapping.get(v).map(String::as_str)
            }
        });
        ladder.highest_of(mapped).map(str::to_owned)
    }

    /// The role the claims give on `ladder`, or the ladder's lowest role when they give none (no
    /// claim, only unmapped values, a claim of another shape): what a token holds when this
    /// claim is configured. Never more than the claims give.
    ///
    /// ```
    /// use mcp_server::auth::{RoleClaim, RoleLadder};
    ///
    /// let claim = RoleClaim::entra().map("MCP.Admin", "admin");
    /// let ladder = RoleLadder::default();
    /// let garbage = serde_json::json!({"roles": {"MCP.Admin": true}});
    /// let garbage = garbage.as_object().cloned().unwrap_or_default();
    /// assert_eq!(claim.role_or_lowest(&garbage, &ladder), "viewer");
    /// ```
    pub fn role_or_lowest(&self, claims: &Map<String, Value>, ladder: &RoleLadder) -> String {
        self.role_of(claims, ladder)
            .unwrap_or_else(|| ladder.lowest().to_owned())
    }

    /// The mapped roles that are not on `ladder` (a typo would silently never match).
    pub(crate) fn unknown_roles<'a>(&'a self, ladder: &RoleLadder) -> Vec<&'a str> {
        self.mapping
            .values()
            .filter(|r| !ladder.contains(r))
            .map(String::as_str)
            .collect()
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

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn presets_read_their_paths() {
        let l = RoleLadder::default();
        let token = claims(serde_json::json!({
            "realm_access": {"roles": ["operator"]},
            "resource_access": {"mcp": {"roles": ["developer"]}, "other": {"roles": ["admin"]}},
            "roles": ["manager"],
            "groups": "viewer",
            "https://example.com/roles": ["admin"],
        }));
        let role = |c: RoleClaim| c.role_of(&token, &l);
        assert_eq!(
            role(RoleClaim::keycloak_realm()).as_deref(),
            Some("operator")
        );
        assert_eq!(
            role(RoleClaim::keycloak_client("mcp")).as_deref(),
            Some("developer")
        );
        assert_eq!(role(RoleClaim::keycloak_client("nope")), None);
        assert_eq!(role(RoleClaim::entra()).as_deref(), Some("manager"));
        assert_eq!(role(RoleClaim::okta_groups()).as_deref(), Some("viewer"));
        assert_eq!(
            role(RoleClaim::new("https://example.com/roles")).as_deref(),
            Some("admin")
        );
        assert_eq!(
            role(RoleClaim::path(["https:", "", "example.com", "roles"])),
            None
        );
        assert_eq!(role(RoleClaim::path(Vec::<String>::new())), None);
        assert_eq!(
            role(RoleClaim::keycloak_realm().also_path(["roles"])).as_deref(),
            Some("manager")
        );
    }

    #[test]
    fn garbage_gives_nothing_and_the_lowest_role() {
        let l = RoleLadder::default();
        let c = RoleClaim::keycloak_realm();
        for garbage in [
            serde_json::json!({"realm_access": 1}),
            serde_json::json!({"realm_access": "admin"}),
            serde_json::json!({"realm_access": ["roles"]}),
            serde_json::json!({"realm_access": {"roles": 3}}),
            serde_json::json!({"realm_access": {"roles": {"admin": "admin"}}}),
            serde_json::json!({"realm_access": {"roles": [["admin"], {"r": "admin"}, 1, null]}}),
            serde_json::json!({"realm_access": {"roles": null}}),
        ] {
            let token = claims(garbage);
            assert_eq!(c.role_of(&token, &l), None, "{token:?}");
            assert_eq!(c.role_or_lowest(&token, &l), "viewer");
        }
    }

    #[test]
    fn only_the_first_values_are_looked_at() {
        let l = RoleLadder::default();
        let mut values: Vec<Value> = (0..MAX_CLAIM_VALUES)
            .map(|i| Value::from(i as u64))
            .collect();
        values.push(Value::from("admin"));
        let token = claims(serde_json::json!({ "role": values }));
        assert_eq!(RoleClaim::default().role_or_lowest(&token, &l), "viewer");
        let mut values: Vec<Value> = vec![Value::from("admin")];
        values.extend((0..10_000).map(|i| Value::from(format!("g{i}"))));
        let token = claims(serde_json::json!({ "role": values }));
        assert_eq!(RoleClaim::default().role_or_lowest(&token, &l), "admin");
        // Across paths too.
        let many: Vec<String> = (0..MAX_CLAIM_VALUES).map(|i| format!("g{i}")).collect();
        let token = claims(serde_json::json!({"a": many, "b": ["admin"]}));
        let c = RoleClaim::new("a").also_path(["b"]);
        assert_eq!(c.role_or_lowest(&token, &l), "viewer");
    }

    #[test]
    fn mappings_to_unknown_roles_are_reported() {
        let l = RoleLadder::default();
        let c = RoleClaim::entra().map("a", "admin").map("b", "root");
        assert_eq!(c.unknown_roles(&l), ["root"]);
    }
}
