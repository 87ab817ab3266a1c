//! Workspaces: which workspaces a credential may see, and the role it holds in each
//! ([`WorkspaceAccess`]). `?workspace=<name>` on the MCP URL selects one; the effective role is
//! the credential's role there, and a workspace it cannot see behaves as not found.

use serde::{Deserialize, Serialize};

use super::roles::{RoleError, RoleLadder};

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
}
