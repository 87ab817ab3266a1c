//! Workspaces: which workspaces a credential may see, and the role it holds in each
//! ([`WorkspaceAccess`]). `?workspace=<name>` on the MCP URL selects one; the effective role is
//! the credential's role there, and a workspace it cannot see behaves as not found.
//! [`WorkspaceClaim`]: how a token's claim becomes workspace grants.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::roles::{RoleError, RoleLadder, is_valid_role_name, values_at};

/// One per-workspace grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceGrant {
    /// The workspace's name.
    pub workspace: String,
    /// The role held in it.
    pub role: String,
}

/// The workspaces a credential may see.
///
/// - `All`: every workspace, with the credential's own role.
/// - `Grants`: only the listed workspaces, each with the role of its grant. Outside any
///   workspace such a credential holds its own role, which [`ApiKeys`](super::ApiKeys) keeps at
///   the lowest rung of the ladder for scoped keys.
///
/// Stored as `"all"` or `{"grants": [{"workspace": "ops", "role": "operator"}]}`.
///
/// ```
/// use mcp_server::auth::WorkspaceAccess;
///
/// let scoped = WorkspaceAccess::grants([("ops", "operator"), ("dev", "developer")]);
/// assert_eq!(scoped.role_in("viewer", "ops"), Some("operator"));
/// assert_eq!(scoped.role_in("viewer", "finance"), None); // not visible: not found
/// assert_eq!(WorkspaceAccess::All.role_in("manager", "finance"), Some("manager"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkspaceAccess {
    /// Every workspace, with the credential's own role.
    #[default]
    All,
    /// Only these workspaces.
    Grants(Vec<WorkspaceGrant>),
}

/// Why workspace access was refused at creation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WorkspaceError {
    /// A workspace name outside `[A-Za-z0-9_.-]{1,64}`, or a reserved one (`all`).
    #[error("invalid workspace name {0:?}")]
    InvalidName(String),
    /// The same workspace is granted twice.
    #[error("the workspace {0:?} is granted twice")]
    Duplicate(String),
    /// `Grants` with no grant.
    #[error("scoped workspace access needs at least one grant")]
    NoGrants,
    /// The highest role cannot be limited to workspaces.
    #[error("the role {0:?} cannot be granted per workspace")]
    TopRoleScoped(String),
    /// A grant names an unknown role.
    #[error(transparent)]
    Role(#[from] RoleError),
    /// A [`WorkspaceClaim`] pattern that cannot be matched unambiguously.
    #[error("invalid workspace claim pattern {pattern:?}: {reason}")]
    InvalidPattern {
        /// The pattern.
        pattern: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Whether `name` can name a workspace: 1 to 64 characters of `A-Z a-z 0-9 _ . -`, not `all`.
pub fn is_valid_workspace_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name != "all"
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

impl WorkspaceAccess {
    /// Grants from `(workspace, role)` pairs.
    pub fn grants<I, W, R>(grants: I) -> Self
    where
        I: IntoIterator<Item = (W, R)>,
        W: Into<String>,
        R: Into<String>,
    {
        WorkspaceAccess::Grants(
            grants
                .into_iter()
                .map(|(w, r)| WorkspaceGrant {
                    workspace: w.into(),
                    role: r.into(),
                })
                .collect(),
        )
    }

    /// Whether every workspace is visible.
    pub fn is_all(&self) -> bool {
        matches!(self, WorkspaceAccess::All)
    }

    /// The role held in `workspace` by a credential whose own role is `own_role`; `None` when
    /// the workspace is not visible.
    pub fn role_in<'a>(&'a self, own_role: &'a str, workspace: &str) -> Option<&'a str> {
        match self {
            WorkspaceAccess::All => Some(own_role),
            WorkspaceAccess::Grants(grants) => grants
                .iter()
                .find(|g| g.workspace == workspace)
                .map(|g| g.role.as_str()),
        }
    }

    /// Checks names, duplicates and roles against `ladder`.
    pub fn validate(&self, ladder: &RoleLadder) -> Result<(), WorkspaceError> {
        let WorkspaceAccess::Grants(grants) = self else {
            return Ok(());
        };
        if grants.is_empty() {
            return Err(WorkspaceError::NoGrants);
        }
        for (i, g) in grants.iter().enumerate() {
            if !is_valid_workspace_name(&g.workspace) {
                return Err(WorkspaceError::InvalidName(g.workspace.clone()));
            }
            if grants[..i].iter().any(|o| o.workspace == g.workspace) {
                return Err(WorkspaceError::Duplicate(g.workspace.clone()));
            }
            ladder.check(&g.role)?;
            if g.role == ladder.highest() && ladder.names().len() > 1 {
                return Err(WorkspaceError::TopRoleScoped(g.role.clone()));
            }
        }
        Ok(())
    }
}

/// A value pattern of a [`WorkspaceClaim`]: `prefix {workspace} separator {role} suffix`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    prefix: String,
    separator: String,
    suffix: String,
}

impl Pattern {
    const WORKSPACE: &'static str = "{workspace}";
    const ROLE: &'static str = "{role}";

    fn parse(pattern: &str) -> Result<Self, WorkspaceError> {
        let invalid = |reason| WorkspaceError::InvalidPattern {
            pattern: pattern.to_owned(),
            reason,
        };
        let Some((prefix, rest)) = pattern.split_once(Self::WORKSPACE) else {
            return Err(invalid("it needs {workspace} then {role}"));
        };
        let Some((separator, suffix)) = rest.split_once(Self::ROLE) else {
            return Err(invalid("it needs {workspace} then {role}"));
        };
        if [prefix, separator, suffix]
            .iter()
            .any(|p| p.contains(['{', '}']))
        {
            return Err(invalid(
                "only one {workspace} and one {role}, and no other braces",
            ));
        }
        // Workspace names are `A-Z a-z 0-9 _ . -` and role names a subset of them: a separator
        // holding another character cannot occur inside either name, so a value splits one way.
        if !separator
            .bytes()
            .any(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')))
        {
            return Err(invalid(
                "the text between {workspace} and {role} must hold a character that cannot be \
                 in a workspace name (such as `:` or `/`)",
            ));
        }
        Ok(Pattern {
            prefix: prefix.to_owned(),
            separator: separator.to_owned(),
            suffix: suffix.to_owned(),
        })
    }

    /// `(workspace, role)` of a value that matches, with both names well formed.
    fn capture<'v>(&self, value: &'v str) -> Option<(&'v str, &'v str)> {
        let rest = value
            .strip_prefix(self.prefix.as_str())?
            .strip_suffix(self.suffix.as_str())?;
        let (workspace, role) = rest.split_once(self.separator.as_str())?;
        (is_valid_workspace_name(workspace) && is_valid_role_name(role))
            .then_some((workspace, role))
    }
}

/// Where a token carries its workspaces, and how claim values become [`WorkspaceGrant`]s; set it
/// with [`AuthorizationConfig::workspace_claim`](super::AuthorizationConfig::workspace_claim).
///
/// The claim is found as a [`RoleClaim`](super::RoleClaim)'s is (a top-level name taken as is,
/// or a path of member names; a string or an array of strings; at most
/// [`MAX_CLAIM_VALUES`](super::MAX_CLAIM_VALUES) values; other shapes give nothing). Each value
/// becomes a grant by
///
/// - an explicit [`map`](Self::map): value → (workspace, role), checked against the ladder by
///   `build()`; or
/// - a [`pattern`](Self::pattern) such as `mcp:{workspace}:{role}` (Okta or Entra group names:
///   `mcp:ops:operator` → workspace `ops`, role `operator`) or `/workspaces/{workspace}/{role}`
///   (Keycloak group paths: `/workspaces/ops/operator`). The text around the placeholders must
///   match exactly; the workspace must be a valid workspace name (`A-Z a-z 0-9 _ . -`, not
///   `all`), the role must be on the ladder, and the text between them must hold a character that
///   cannot be in a workspace name, so that a value splits one way only.
///
/// An explicit mapping wins over the pattern for the same value. A value that matches neither,
/// names a role that is not on the ladder, or names the ladder's highest role (which, as for
/// API keys, cannot be granted per workspace) grants nothing. When several values grant the same
/// workspace, the highest role wins.
///
/// **Deny by default.** With a workspace claim configured, a token sees only the workspaces its
/// values grant: a token without the claim, or with no value that grants one, sees no workspace
/// at all (`?workspace=x` answers 404 "not found", exactly as a workspace that does not exist).
/// Outside any workspace a token holds its own role (from the
/// [`role_claim`](super::AuthorizationConfig::role_claim), else the lowest role), so it can
/// still call what the lowest role may. Tokens whose own role is at least
/// [`all_workspaces_from`](Self::all_workspaces_from) see every workspace with their own role,
/// as an unscoped API key does.
///
/// ```
/// use mcp_server::auth::{RoleLadder, WorkspaceAccess, WorkspaceClaim};
///
/// let claim = WorkspaceClaim::new("groups")
///     .pattern("mcp:{workspace}:{role}")?
///     .map("Finance Readers", "finance", "viewer");
/// let token = serde_json::json!({"groups": ["Everyone", "mcp:ops:operator", "Finance Readers"]});
/// let token = token.as_object().cloned().unwrap_or_default();
/// let access = claim.access_of(&token, "viewer", &RoleLadder::default());
/// assert_eq!(access, WorkspaceAccess::grants([("finance", "viewer"), ("ops", "operator")]));
/// assert_eq!(access.role_in("viewer", "ops"), Some("operator"));
/// assert_eq!(access.role_in("viewer", "dev"), None); // not found
///
/// // Nothing granted: no workspace at all.
/// let none = claim.access_of(&serde_json::Map::new(), "viewer", &RoleLadder::default());
/// assert_eq!(none, WorkspaceAccess::Grants(vec![]));
/// # Ok::<(), mcp_server::auth::WorkspaceError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceClaim {
    paths: Vec<Vec<String>>,
    pattern: Option<Pattern>,
    mapping: BTreeMap<String, WorkspaceGrant>,
    all_from: Option<String>,
}

impl WorkspaceClaim {
    /// Workspaces from the top-level claim named `claim`, taken as is (dots and slashes
    /// included). Add a [`pattern`](Self::pattern) or a [`map`](Self::map): without either,
    /// nothing is granted.
    ///
    /// ```
    /// use mcp_server::auth::WorkspaceClaim;
    ///
    /// let claim = WorkspaceClaim::new("https://example.com/workspaces");
    /// assert_eq!(claim.paths(), [vec!["https://example.com/workspaces"]]);
    /// ```
    pub fn new(claim: impl Into<String>) -> Self {
        Self::path([claim.into()])
    }

    /// Workspaces from a nested claim: `segments` are object member names from the top level
    /// down (Keycloak client roles: `["resource_access", "mcp-server", "roles"]`).
    ///
    /// ```
    /// use mcp_server::auth::{RoleLadder, WorkspaceAccess, WorkspaceClaim};
    ///
    /// let claim = WorkspaceClaim::path(["resource_access", "mcp-server", "roles"])
    ///     .pattern("ws:{workspace}:{role}")?;
    /// let token = serde_json::json!({"resource_access": {"mcp-server": {"roles": ["ws:dev:developer"]}}});
    /// let token = token.as_object().cloned().unwrap_or_default();
    /// let access = claim.access_of(&token, "viewer", &RoleLadder::default());
    /// assert_eq!(access, WorkspaceAccess::grants([("dev", "developer")]));
    /// # Ok::<(), mcp_server::auth::WorkspaceError>(())
    /// ```
    pub fn path<I, S>(segments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        WorkspaceClaim {
            paths: vec![segments.into_iter().map(Into::into).collect()],
            pattern: None,
            mapping: BTreeMap::new(),
            all_from: None,
        }
    }

    /// Also reads the claim at `segments`; the values of every path are pooled.
    ///
    /// ```
    /// use mcp_server::auth::WorkspaceClaim;
    ///
    /// let claim = WorkspaceClaim::new("groups").also_path(["realm_access", "roles"]);
    /// assert_eq!(claim.paths().len(), 2);
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

    /// Grants by pattern: `pattern` holds `{workspace}` then `{role}`, with literal text before,
    /// between and after (`mcp:{workspace}:{role}`, `/workspaces/{workspace}/{role}`). Refused
    /// when a placeholder is missing or repeated, or when the text between them holds only
    /// characters that may be in a workspace name (then `a-b-c` could split two ways).
    ///
    /// ```
    /// use mcp_server::auth::{RoleLadder, WorkspaceAccess, WorkspaceClaim};
    ///
    /// let keycloak_groups = WorkspaceClaim::new("groups").pattern("/workspaces/{workspace}/{role}")?;
    /// let token = serde_json::json!({"groups": ["/workspaces/ops/operator", "/staff"]});
    /// let token = token.as_object().cloned().unwrap_or_default();
    /// let access = keycloak_groups.access_of(&token, "viewer", &RoleLadder::default());
    /// assert_eq!(access, WorkspaceAccess::grants([("ops", "operator")]));
    ///
    /// assert!(WorkspaceClaim::new("groups").pattern("{workspace}-{role}").is_err());
    /// # Ok::<(), mcp_server::auth::WorkspaceError>(())
    /// ```
    pub fn pattern(mut self, pattern: &str) -> Result<Self, WorkspaceError> {
        self.pattern = Some(Pattern::parse(pattern)?);
        Ok(self)
    }

    /// Grants `role` in `workspace` to tokens carrying the value `value` (`build()` checks the
    /// workspace name and that the role is on the ladder and not its highest).
    ///
    /// ```
    /// use mcp_server::auth::{RoleLadder, WorkspaceAccess, WorkspaceClaim};
    ///
    /// let claim = WorkspaceClaim::new("roles").map("Ops.Operators", "ops", "operator");
    /// let token = serde_json::json!({"roles": ["Ops.Operators"]});
    /// let token = token.as_object().cloned().unwrap_or_default();
    /// let access = claim.access_of(&token, "viewer", &RoleLadder::default());
    /// assert_eq!(access, WorkspaceAccess::grants([("ops", "operator")]));
    /// ```
    #[must_use]
    pub fn map(
        mut self,
        value: impl Into<String>,
        workspace: impl Into<String>,
        role: impl Into<String>,
    ) -> Self {
        self.mapping.insert(
            value.into(),
            WorkspaceGrant {
                workspace: workspace.into(),
                role: role.into(),
            },
        );
        self
    }

    /// Tokens whose own role is at least `role` see every workspace with their own role
    /// ([`WorkspaceAccess::All`]), as an unscoped API key does; the others see only what their
    /// values grant. Default: no one sees every workspace.
    ///
    /// ```
    /// use mcp_server::auth::{RoleLadder, WorkspaceAccess, WorkspaceClaim};
    ///
    /// let claim = WorkspaceClaim::new("groups").all_workspaces_from("manager");
    /// let ladder = RoleLadder::default();
    /// let token = serde_json::Map::new();
    /// assert_eq!(claim.access_of(&token, "admin", &ladder), WorkspaceAccess::All);
    /// assert_eq!(claim.access_of(&token, "developer", &ladder), WorkspaceAccess::Grants(vec![]));
    /// ```
    #[must_use]
    pub fn all_workspaces_from(mut self, role: impl Into<String>) -> Self {
        self.all_from = Some(role.into());
        self
    }

    /// The paths read, each a list of object member names.
    ///
    /// ```
    /// use mcp_server::auth::WorkspaceClaim;
    ///
    /// assert_eq!(WorkspaceClaim::path(["a", "b"]).paths(), [vec!["a", "b"]]);
    /// ```
    pub fn paths(&self) -> &[Vec<String>] {
        &self.paths
    }

    /// The workspaces the claims give a token whose own role is `own_role`: `All` when
    /// [`all_workspaces_from`](Self::all_workspaces_from) applies, else the grants of its values
    /// (sorted by workspace; none at all when nothing matches).
    ///
    /// ```
    /// use mcp_server::auth::{RoleLadder, WorkspaceAccess, WorkspaceClaim};
    ///
    /// let claim = WorkspaceClaim::new("groups").pattern("mcp:{workspace}:{role}")?;
    /// let token = serde_json::json!({"groups": ["mcp:ops:viewer", "mcp:ops:developer", "mcp:ops:admin", 7]});
    /// let token = token.as_object().cloned().unwrap_or_default();
    /// // The highest grant per workspace; the top role is never granted per workspace.
    /// let access = claim.access_of(&token, "viewer", &RoleLadder::default());
    /// assert_eq!(access, WorkspaceAccess::grants([("ops", "developer")]));
    /// # Ok::<(), mcp_server::auth::WorkspaceError>(())
    /// ```
    pub fn access_of(
        &self,
        claims: &Map<String, Value>,
        own_role: &str,
        ladder: &RoleLadder,
    ) -> WorkspaceAccess {
        if let Some(from) = &self.all_from {
            if ladder.allows(Some(own_role), from) {
                return WorkspaceAccess::All;
            }
        }
        let top = ladder.rank(ladder.highest());
        let mut best: BTreeMap<&str, (usize, &str)> = BTreeMap::new();
        for value in values_at(claims, &self.paths) {
            let grant = match self.mapping.get(value) {
                Some(g) => Some((g.workspace.as_str(), g.role.as_str())),
                None => self.pattern.as_ref().and_then(|p| p.capture(value)),
            };
            let Some((workspace, role)) = grant else {
                continue;
            };
            let Some(rank) = ladder.rank(role) else {
                continue;
            };
            if (Some(rank) == top && ladder.names().len() > 1)
                || !is_valid_workspace_name(workspace)
            {
                continue;
            }
            let entry = best.entry(workspace).or_insert((rank, role));
            if rank > entry.0 {
                *entry = (rank, role);
            }
        }
        WorkspaceAccess::grants(best.into_iter().map(|(w, (_, r))| (w, r)))
    }

    /// Checks the explicit grants and the `all_workspaces_from` role against `ladder`. Two
    /// values may grant the same workspace (the highest role wins).
    pub(crate) fn check(&self, ladder: &RoleLadder) -> Result<(), WorkspaceError> {
        if let Some(role) = &self.all_from {
            ladder.check(role)?;
        }
        for g in self.mapping.values() {
            if !is_valid_workspace_name(&g.workspace) {
                return Err(WorkspaceError::InvalidName(g.workspace.clone()));
            }
            ladder.check(&g.role)?;
            if g.role == ladder.highest() && ladder.names().len() > 1 {
                return Err(WorkspaceError::TopRoleScoped(g.role.clone()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_form() {
        let all = serde_json::to_string(&WorkspaceAccess::All).unwrap();
        assert_eq!(all, r#""all""#);
        let g = WorkspaceAccess::grants([("ops", "operator")]);
        let s = serde_json::to_string(&g).unwrap();
        assert_eq!(s, r#"{"grants":[{"workspace":"ops","role":"operator"}]}"#);
        assert_eq!(serde_json::from_str::<WorkspaceAccess>(&s).unwrap(), g);
    }

    #[test]
    fn validation() {
        let l = RoleLadder::default();
        assert!(WorkspaceAccess::All.validate(&l).is_ok());
        assert_eq!(
            WorkspaceAccess::Grants(vec![]).validate(&l),
            Err(WorkspaceError::NoGrants)
        );
        assert!(matches!(
            WorkspaceAccess::grants([("a b", "viewer")]).validate(&l),
            Err(WorkspaceError::InvalidName(_))
        ));
        assert!(matches!(
            WorkspaceAccess::grants([("ops", "viewer"), ("ops", "operator")]).validate(&l),
            Err(WorkspaceError::Duplicate(_))
        ));
        assert!(matches!(
            WorkspaceAccess::grants([("ops", "root")]).validate(&l),
            Err(WorkspaceError::Role(_))
        ));
        assert!(matches!(
            WorkspaceAccess::grants([("ops", "admin")]).validate(&l),
            Err(WorkspaceError::TopRoleScoped(_))
        ));
    }

    fn claims(v: serde_json::Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn patterns_split_one_way_only() {
        let p = Pattern::parse("mcp:{workspace}:{role}").unwrap();
        assert_eq!(p.capture("mcp:ops:operator"), Some(("ops", "operator")));
        assert_eq!(
            p.capture("mcp:my.team-1:viewer"),
            Some(("my.team-1", "viewer"))
        );
        assert_eq!(p.capture("mcp:ops:operator:x"), None);
        assert_eq!(p.capture("mcp::operator"), None);
        assert_eq!(p.capture("mcp:ops:"), None);
        assert_eq!(p.capture("xmcp:ops:operator"), None);
        assert_eq!(p.capture("mcp:all:viewer"), None);
        let p = Pattern::parse("/workspaces/{workspace}/{role}").unwrap();
        assert_eq!(
            p.capture("/workspaces/ops/operator"),
            Some(("ops", "operator"))
        );
        assert_eq!(p.capture("/workspaces/ops/sub/operator"), None);
        let p = Pattern::parse("{workspace}@{role}.mcp").unwrap();
        assert_eq!(p.capture("ops@viewer.mcp"), Some(("ops", "viewer")));
        for bad in [
            "",
            "mcp",
            "{workspace}",
            "{role}",
            "{role}:{workspace}",
            "{workspace}{role}",
            "{workspace}.{role}",
            "{workspace}-_{role}",
            "{workspace}:{role}{x}",
            "{{workspace}:{role}",
        ] {
            assert!(
                matches!(
                    Pattern::parse(bad),
                    Err(WorkspaceError::InvalidPattern { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn claims_become_grants_deny_by_default() {
        let l = RoleLadder::default();
        let c = WorkspaceClaim::new("groups")
            .pattern("mcp:{workspace}:{role}")
            .unwrap()
            .map("mcp:ops:viewer", "finance", "operator");
        let token = claims(serde_json::json!({"groups": [
            "mcp:ops:viewer", "mcp:dev:developer", "mcp:dev:operator", "mcp:qa:admin",
            "mcp:qa:root", 5, {"a": 1}
        ]}));
        assert_eq!(
            c.access_of(&token, "viewer", &l),
            WorkspaceAccess::grants([("dev", "developer"), ("finance", "operator")]),
            "the map wins over the pattern; the highest role per workspace; no top role"
        );
        for garbage in [
            serde_json::json!({}),
            serde_json::json!({"groups": 1}),
            serde_json::json!({"groups": {"mcp:ops:viewer": true}}),
        ] {
            assert_eq!(
                c.access_of(&claims(garbage), "admin", &l),
                WorkspaceAccess::Grants(vec![])
            );
        }
        // A one-rung ladder: its only role is also the lowest, so it may be granted.
        let one = RoleLadder::new(["member"]).unwrap();
        let token = claims(serde_json::json!({"groups": ["mcp:ops:member"]}));
        assert_eq!(
            c.access_of(&token, "member", &one),
            WorkspaceAccess::grants([("ops", "member")])
        );
    }

    #[test]
    fn explicit_grants_are_checked_against_the_ladder() {
        let l = RoleLadder::default();
        let ok = WorkspaceClaim::new("g")
            .map("a", "ops", "operator")
            .map("b", "ops", "viewer")
            .all_workspaces_from("admin");
        assert_eq!(ok.check(&l), Ok(()));
        assert!(matches!(
            WorkspaceClaim::new("g").map("a", "ops", "admin").check(&l),
            Err(WorkspaceError::TopRoleScoped(_))
        ));
        assert!(matches!(
            WorkspaceClaim::new("g").map("a", "all", "viewer").check(&l),
            Err(WorkspaceError::InvalidName(_))
        ));
        assert!(matches!(
            WorkspaceClaim::new("g")
                .all_workspaces_from("boss")
                .check(&l),
            Err(WorkspaceError::Role(_))
        ));
    }
}
