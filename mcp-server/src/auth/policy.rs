//! The per-tool policy: whether a caller may call one tool, by its `required_scopes` (with scope
//! hierarchies, AZ-15) and its `min_role`, as one function returning a typed [`ToolDenial`]. The
//! dispatcher turns a denial into the documented tool error or the step-up challenge (AZ-14);
//! `tools/list` filtering and task re-runs ask the same function.

use super::config::AuthorizationConfig;
use super::context::{AuthContext, python_list};

/// What one tool demands of its caller.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ToolRequirements<'a> {
    /// The tool's name.
    pub name: &'a str,
    /// Scopes the caller must hold (or a broader scope covering each).
    pub scopes: &'a [String],
    /// The least role on the server's ladder.
    pub min_role: Option<&'a str>,
}

/// Why a caller may not call a tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ToolDenial {
    /// The caller's role is below the tool's `min_role` (or the caller has none).
    InsufficientRole {
        tool: String,
        required: String,
        current: Option<String>,
    },
    /// The caller lacks some of the tool's scopes.
    MissingScopes {
        tool: String,
        required: Vec<String>,
        missing: Vec<String>,
    },
}

impl ToolDenial {
    /// The audit reason: `insufficient_role` or `insufficient_scope`.
    pub(crate) fn reason(&self) -> &'static str {
        match self {
            ToolDenial::InsufficientRole { .. } => "insufficient_role",
            ToolDenial::MissingScopes { .. } => "insufficient_scope",
        }
    }

    /// The text of the tool error (`isError: true`) that reports it, documented byte for byte:
    /// `Tool "delete_file" requires scopes: ['files:delete']. Missing: ['files:delete']`.
    pub(crate) fn tool_error_text(&self) -> String {
        match self {
            ToolDenial::InsufficientRole {
                tool,
                required,
                current,
            } => format!(
                "Tool \"{tool}\" requires role '{required}'. Current role: '{}'",
                current.as_deref().unwrap_or("none")
            ),
            ToolDenial::MissingScopes {
                tool,
                required,
                missing,
            } => format!(
                "Tool \"{tool}\" requires scopes: {}. Missing: {}",
                python_list(required),
                python_list(missing)
            ),
        }
    }

    /// Every scope a call needs, for the step-up challenge: the server's scopes, then the tool's.
    pub(crate) fn step_up_scopes(&self, config: &AuthorizationConfig) -> Vec<String> {
        let mut needed = config.required_scopes.clone();
        if let ToolDenial::MissingScopes { required, .. } = self {
            for s in required {
                if !needed.contains(s) {
                    needed.push(s.clone());
                }
            }
        }
        needed
    }

    /// The `error_description` of the step-up challenge.
    pub(crate) fn step_up_description(&self) -> String {
        match self {
            ToolDenial::InsufficientRole { tool, required, .. } => {
                format!("Tool \"{tool}\" requires role '{required}'")
            }
            ToolDenial::MissingScopes { tool, .. } => {
                format!("Tool \"{tool}\" requires more scopes")
            }
        }
    }
}

impl AuthorizationConfig {
    /// Whether `caller` may call the tool `tool`. With authorization on, a missing caller holds
    /// no scope and no role: never a bypass, `fail_open` included. With authorization off
    /// (mode `none`), everything is allowed.
    pub(crate) fn authorize_tool(
        &self,
        tool: ToolRequirements<'_>,
        caller: Option<&AuthContext>,
    ) -> Result<(), ToolDenial> {
        if !self.is_enabled() {
            return Ok(());
        }
        if let Some(needed) = tool.min_role {
            // `build()` refuses a `min_role` this mode cannot enforce; this is the second lock.
            let role = caller.and_then(|c| c.role.as_deref());
            if !self.roles_in_use() || !self.roles.allows(role, needed) {
                return Err(ToolDenial::InsufficientRole {
                    tool: tool.name.to_owned(),
                    required: needed.to_owned(),
                    current: role.map(str::to_owned),
                });
            }
        }
        if tool.scopes.is_empty() {
            return Ok(());
        }
        let missing: Vec<String> = match caller {
            Some(c) => c
                .missing_scopes(tool.scopes)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            None => tool.scopes.to_vec(),
        };
        if missing.is_empty() {
            return Ok(());
        }
        Err(ToolDenial::MissingScopes {
            tool: tool.name.to_owned(),
            required: tool.scopes.to_vec(),
            missing,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{ApiKeys, CredentialKind};

    fn needs(scopes: &[String], role: Option<&'static str>) -> ToolRequirements<'static> {
        ToolRequirements {
            name: "delete_file",
            scopes: Box::leak(scopes.to_vec().into_boxed_slice()),
            min_role: role,
        }
    }

    #[test]
    fn the_documented_denial_text() {
        let config = AuthorizationConfig::builtin(ApiKeys::in_memory());
        let caller = AuthContext::new(CredentialKind::ApiKey).with_role("admin");
        let denial = config
            .authorize_tool(needs(&["files:delete".into()], None), Some(&caller))
            .unwrap_err();
        assert_eq!(
            denial.tool_error_text(),
            "Tool \"delete_file\" requires scopes: ['files:delete']. Missing: ['files:delete']"
        );
        // AZ-15: a broader scope covers it.
        let caller = caller.with_scopes(["files"]);
        assert!(
            config
                .authorize_tool(needs(&["files:delete".into()], None), Some(&caller))
                .is_ok()
        );
    }

    #[test]
    fn no_caller_is_no_scope_and_no_role() {
        let config = AuthorizationConfig::builtin(ApiKeys::in_memory());
        assert!(
            config
                .authorize_tool(needs(&[], Some("viewer")), None)
                .is_err()
        );
        assert!(
            config
                .authorize_tool(needs(&["read".into()], None), None)
                .is_err()
        );
        assert!(
            AuthorizationConfig::none()
                .authorize_tool(needs(&["read".into()], Some("admin")), None)
                .is_ok()
        );
    }
}
