//! The API key record ([`ApiKey`]), what creating one takes ([`NewApiKey`]), and who its actions
//! are attributed to ([`Attribution`]).

pub(crate) use crate::clock::now_secs;
use std::collections::BTreeSet;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::secret::{ApiKeySecret, KeyDigest};
use crate::auth::Attribution;
use crate::auth::surface::{self, Surface};
use crate::auth::workspace::WorkspaceAccess;

/// Whether a key can be used now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum KeyStatus {
    /// Usable.
    Active,
    /// Past its expiry.
    Expired,
    /// Revoked.
    Revoked,
}

/// An API key as stored and listed: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiKey {
    /// A random identifier (UUID v4 form).
    pub id: String,
    /// A unique, human-readable name.
    pub name: String,
    /// What the key is for.
    pub description: Option<String>,
    /// Its role, outside any workspace.
    pub role: String,
    /// OAuth-style scopes it carries, for tools that require scopes (usually none).
    pub scopes: BTreeSet<String>,
    /// Where it is accepted, as stored. Empty: a legacy key, accepted on `mcp` and `rest_api`
    /// and nothing else ([`effective_surfaces`](Self::effective_surfaces)).
    pub surfaces: BTreeSet<Surface>,
    /// The workspaces it may see.
    pub workspaces: WorkspaceAccess,
    /// Who its actions are attributed to.
    pub attribution: Attribution,
    /// The first characters of the secret, to recognise it in lists.
    pub key_prefix: String,
    /// Who created it.
    pub created_by: Option<String>,
    /// When it was created (seconds since the epoch).
    pub created_at: u64,
    /// When it was last used, to the minute.
    pub last_used_at: Option<u64>,
    /// When it stops working.
    pub expires_at: Option<u64>,
    /// When it was revoked.
    pub revoked_at: Option<u64>,
    /// When its secret was last replaced.
    pub rotated_at: Option<u64>,
    /// After a rotation with a grace period
    /// ([`ApiKeys::rotate_with_grace`](super::ApiKeys::rotate_with_grace)): until when the
    /// previous secret is still accepted (seconds since the epoch). `None` when no previous
    /// secret is kept.
    #[serde(default)]
    pub previous_secret_expires_at: Option<u64>,
}

impl ApiKey {
    /// The surfaces the key is accepted on: its own, or `mcp` and `rest_api` for a legacy key.
    pub fn effective_surfaces(&self) -> BTreeSet<Surface> {
        surface::effective(&self.surfaces)
    }

    /// Whether the key is accepted on `surface`.
    pub fn allows_surface(&self, surface: &Surface) -> bool {
        if self.surfaces.is_empty() {
            Surface::legacy_default().contains(surface)
        } else {
            self.surfaces.contains(surface)
        }
    }

    /// Whether it was stored without surfaces.
    pub fn is_legacy(&self) -> bool {
        self.surfaces.is_empty()
    }

    /// Revoked, expired (at `now`) or active.
    pub fn status(&self, now: u64) -> KeyStatus {
        if self.revoked_at.is_some() {
            KeyStatus::Revoked
        } else if self.expires_at.is_some_and(|e| now >= e) {
            KeyStatus::Expired
        } else {
            KeyStatus::Active
        }
    }

    /// Whether the previous secret of a rotation with a grace period is still accepted at
    /// `now`.
    pub fn previous_secret_active(&self, now: u64) -> bool {
        self.previous_secret_expires_at.is_some_and(|t| now < t)
    }
}

/// A key and its digest, as a store keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredApiKey {
    /// The record.
    pub key: ApiKey,
    /// The digest of its secret.
    pub digest: KeyDigest,
}

/// A key just created or rotated: the record and the secret, to be shown once.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CreatedApiKey {
    /// The record.
    pub key: ApiKey,
    /// The full key. Show it once; it cannot be recovered.
    pub secret: ApiKeySecret,
}

/// What [`ApiKeys::create`](super::ApiKeys::create) needs.
///
/// ```
/// use std::time::Duration;
/// use mcp_server::auth::{NewApiKey, Surface};
///
/// let ci = NewApiKey::new("ci", "operator")
///     .surface(Surface::Mcp)
///     .workspace("ops", "operator")
///     .expires_in(Duration::from_secs(90 * 86_400))
///     .description("CI runner")
///     .created_by("admin");
/// let alice = NewApiKey::new("alice-laptop", "developer")
///     .surface(Surface::Mcp)
///     .surface(Surface::RestApi)
///     .user_owned("alice");
/// # let _ = (ci, alice);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewApiKey {
    /// The unique name.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// The role. With workspace grants, the key's role outside them is the lowest rung and this
    /// role is what each [`workspace`](Self::workspace) call grants by default.
    pub role: String,
    /// Scopes it carries.
    pub scopes: BTreeSet<String>,
    /// Where it is accepted (at least one).
    pub surfaces: BTreeSet<Surface>,
    /// The workspaces it may see (default: all).
    pub workspaces: WorkspaceAccess,
    /// Who it acts for (default: a service account of its own).
    pub attribution: Option<Attribution>,
    /// Who creates it.
    pub created_by: Option<String>,
    /// When it stops working.
    pub expires_at: Option<u64>,
}

impl NewApiKey {
    /// A key called `name` with `role`, no surfaces yet, every workspace.
    pub fn new(name: impl Into<String>, role: impl Into<String>) -> Self {
        NewApiKey {
            name: name.into(),
            description: None,
            role: role.into(),
            scopes: BTreeSet::new(),
            surfaces: BTreeSet::new(),
            workspaces: WorkspaceAccess::All,
            attribution: None,
            created_by: None,
            expires_at: None,
        }
    }

    /// Accepts the key on `surface` too.
    #[must_use]
    pub fn surface(mut self, surface: Surface) -> Self {
        self.surfaces.insert(surface);
        self
    }

    /// Limits the key to workspaces (the first call) and grants it `role` in `workspace`.
    #[must_use]
    pub fn workspace(mut self, workspace: impl Into<String>, role: impl Into<String>) -> Self {
        let grant = crate::auth::workspace::WorkspaceGrant {
            workspace: workspace.into(),
            role: role.into(),
        };
        match &mut self.workspaces {
            WorkspaceAccess::All => self.workspaces = WorkspaceAccess::Grants(vec![grant]),
            WorkspaceAccess::Grants(g) => g.push(grant),
        }
        self
    }

    /// Attributes the key to the user `owner`.
    #[must_use]
    pub fn user_owned(mut self, owner: impl Into<String>) -> Self {
        self.attribution = Some(Attribution::UserOwned {
            owner: owner.into(),
        });
        self
    }

    /// Attributes the key to a named service account.
    #[must_use]
    pub fn service_account(mut self, id: impl Into<String>, name: impl Into<String>) -> Self {
        self.attribution = Some(Attribution::ServiceAccount {
            id: id.into(),
            name: name.into(),
        });
        self
    }

    /// Adds scopes.
    #[must_use]
    pub fn scopes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, scopes: I) -> Self {
        self.scopes.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Sets the description.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Records who creates the key.
    #[must_use]
    pub fn created_by(mut self, who: impl Into<String>) -> Self {
        self.created_by = Some(who.into());
        self
    }

    /// Expires the key at `at` (seconds since the epoch).
    #[must_use]
    pub fn expires_at(mut self, at: u64) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// Expires the key `ttl` from now.
    #[must_use]
    pub fn expires_in(self, ttl: Duration) -> Self {
        let at = now_secs().saturating_add(ttl.as_secs().max(1));
        self.expires_at(at)
    }
}

/// A random UUID v4, as text.
pub(crate) fn new_id() -> Result<String, super::secret::RandomnessError> {
    let mut b = crate::crypto::random_bytes::<16>()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = crate::crypto::hex(&b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(surfaces: &[Surface]) -> ApiKey {
        ApiKey {
            id: "k".into(),
            name: "n".into(),
            description: None,
            role: "viewer".into(),
            scopes: BTreeSet::new(),
            surfaces: surfaces.iter().cloned().collect(),
            workspaces: WorkspaceAccess::All,
            attribution: Attribution::default_for("k", "n"),
            key_prefix: "mcp_abcd".into(),
            created_by: None,
            created_at: 0,
            last_used_at: None,
            expires_at: None,
            revoked_at: None,
            rotated_at: None,
            previous_secret_expires_at: None,
        }
    }

    #[test]
    fn surfaces_legacy_and_unknown() {
        let legacy = key(&[]);
        assert!(legacy.allows_surface(&Surface::Mcp));
        assert!(legacy.allows_surface(&Surface::RestApi));
        assert!(!legacy.allows_surface(&Surface::parse("webhooks")));
        let rest = key(&[Surface::RestApi]);
        assert!(!rest.allows_surface(&Surface::Mcp));
        let odd = key(&[Surface::parse("mpc")]);
        assert!(!odd.allows_surface(&Surface::Mcp), "never widened");
    }

    #[test]
    fn status_follows_revocation_then_expiry() {
        let mut k = key(&[Surface::Mcp]);
        assert_eq!(k.status(10), KeyStatus::Active);
        k.expires_at = Some(10);
        assert_eq!(k.status(9), KeyStatus::Active);
        assert_eq!(k.status(10), KeyStatus::Expired);
        k.revoked_at = Some(5);
        assert_eq!(k.status(0), KeyStatus::Revoked);
    }

    #[test]
    fn ids_look_like_uuids() {
        let id = new_id().unwrap();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
    }
}
