//! Who the actions of a credential are attributed to: the audit subject.

use serde::{Deserialize, Serialize};

/// Who the actions of a key are attributed to (the audit subject). Authorization always uses the
/// key's own role and workspaces, never the owner's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "class", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Attribution {
    /// A person's key: the owner is the acting subject, and a disabled (or deleted) owner
    /// disables the key.
    UserOwned {
        /// The owner's user name.
        owner: String,
    },
    /// A shared automation identity (a CI runner, a team bot).
    ServiceAccount {
        /// The service account's id (default `api_key:<key id>`).
        id: String,
        /// Its display name (default: the key's name).
        name: String,
    },
}

impl Attribution {
    /// The acting subject: the owner, or the service account's id.
    pub fn subject(&self) -> &str {
        match self {
            Attribution::UserOwned { owner } => owner,
            Attribution::ServiceAccount { id, .. } => id,
        }
    }

    /// `user` or `service_account`.
    pub fn subject_type(&self) -> &'static str {
        match self {
            Attribution::UserOwned { .. } => "user",
            Attribution::ServiceAccount { .. } => "service_account",
        }
    }

    /// The default attribution of a key with no recorded class: its own service account.
    pub fn default_for(id: &str, name: &str) -> Self {
        Attribution::ServiceAccount {
            id: format!("api_key:{id}"),
            name: name.to_owned(),
        }
    }
}
