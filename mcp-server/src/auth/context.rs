//! [`AuthContext`]: who is calling and what they may do, the same for every credential kind.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::attribution::Attribution;
use super::principal::Principal;
use super::roles::RoleLadder;
use super::surface::Surface;
use super::workspace::WorkspaceAccess;

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CredentialKind {
    /// An OAuth access token sent as `Authorization: Bearer`.
    Bearer,
    /// An OAuth access token bound to a key, sent as `Authorization: DPoP` with a proof.
    Dpop,
    /// An API key.
    ApiKey,
    /// HTTP Basic credentials.
    Basic,
    /// No credential: authorization could not be checked and `fail_open` let the request in with
    /// no scopes, or the server runs in mode `none`.
    None,
}

impl CredentialKind {
    /// The wire name: `bearer`, `dpop`, `api_key`, `basic`, `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Bearer => "bearer",
            CredentialKind::Dpop => "dpop",
            CredentialKind::ApiKey => "api_key",
            CredentialKind::Basic => "basic",
            CredentialKind::None => "none",
        }
    }
}

/// The outcome of authentication, available to tools as [`Context::auth`](crate::Context::auth).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AuthContext {
    /// The subject (`sub`), if the credential names one.
    pub subject: Option<String>,
    /// The issuer (`iss`) of a token.
    pub issuer: Option<String>,
    /// The OAuth client (`client_id` or `azp`).
    pub client_id: Option<String>,
    /// Granted scopes.
    pub scopes: BTreeSet<String>,
    /// Every claim of a token (empty for other credentials).
    pub claims: Map<String, Value>,
    /// The kind of credential.
    pub credential: CredentialKind,
    /// An identifier of the credential (`jti` of a token, id of an API key), never the secret.
    pub credential_id: Option<String>,
    /// When the credential expires, in seconds since the epoch.
    pub expires_at: Option<u64>,
    /// The credential's name (an API key's name), never the secret.
    pub credential_name: Option<String>,
    /// The effective role: the credential's role in the selected [`workspace`](Self::workspace),
    /// or its own role when none is selected. `None` when the credential carries no role.
    pub role: Option<String>,
    /// The credential's own role, outside any workspace.
    pub global_role: Option<String>,
    /// The workspace selected with `?workspace=<name>`, if any (always one the credential can
    /// see).
    pub workspace: Option<String>,
    /// The workspaces the credential may see.
    pub workspaces: WorkspaceAccess,
    /// Where an API key is accepted (its effective surfaces); empty for other credentials, which
    /// are accepted everywhere.
    pub surfaces: BTreeSet<Surface>,
    /// Who an API key's actions are attributed to.
    pub attribution: Option<Attribution>,
    /// Joins this request's audit events; pass it on to your own events.
    pub correlation_id: Option<String>,
}

impl AuthContext {
    /// A context for a verified credential.
    pub fn new(credential: CredentialKind) -> Self {
        AuthContext {
            subject: None,
            issuer: None,
            client_id: None,
            scopes: BTreeSet::new(),
            claims: Map::new(),
            credential,
            credential_id: None,
            expires_at: None,
            credential_name: None,
            role: None,
            global_role: None,
            workspace: None,
            workspaces: WorkspaceAccess::All,
            surfaces: BTreeSet::new(),
            attribution: None,
            correlation_id: None,
        }
    }

    /// Sets the credential's own role (and the effective role, until a workspace is selected).
    #[must_use]
    pub fn with_role(mut self, role: impl Into<String>) -> Self {
        let role = role.into();
        self.role = Some(role.clone());
        self.global_role = Some(role);
        self
    }

    /// The role the credential holds in `workspace`; `None` when it cannot see it.
    pub fn role_in(&self, workspace: &str) -> Option<&str> {
        self.workspaces
            .role_in(self.global_role.as_deref()?, workspace)
    }

    /// Whether the effective role is at least `needed` on `ladder`.
    pub fn has_role(&self, ladder: &RoleLadder, needed: &str) -> bool {
        ladder.allows(self.role.as_deref(), needed)
    }

    /// `user` (a Basic user, the owner of a user-owned key), `service_account`, `token` (an
    /// OAuth token's subject) or `anonymous`.
    pub fn subject_type(&self) -> &'static str {
        match (&self.attribution, self.credential) {
            (Some(a), _) => a.subject_type(),
            (None, CredentialKind::Basic) => "user",
            (None, CredentialKind::Bearer | CredentialKind::Dpop) => "token",
            (None, _) => "anonymous",
        }
    }

    /// The context of a request let in by `fail_open`: no identity, no scopes.
    pub fn unauthenticated() -> Self {
        Self::new(CredentialKind::None)
    }

    /// Sets the subject.
    #[must_use]
    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// Adds scopes.
    #[must_use]
    pub fn with_scopes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, scopes: I) -> Self {
        self.scopes.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Whether a granted scope covers `needed`: itself, or a broader scope it is under
    /// (`files` covers `files:delete` and `files:read:meta`; AZ-15).
    pub fn has_scope(&self, needed: &str) -> bool {
        scope_covered(&self.scopes, needed)
    }

    /// The scopes of `needed` that no granted scope covers, in the given order.
    pub fn missing_scopes<'a>(&self, needed: &'a [String]) -> Vec<&'a str> {
        needed
            .iter()
            .filter(|s| !self.has_scope(s))
            .map(String::as_str)
            .collect()
    }

    /// Who the caller is, as sessions, request states and tasks are bound to it: the kind of
    /// credential and its identifier (see [`Principal`]).
    pub fn principal(&self) -> Principal {
        Principal::of(self)
    }

    /// Sets the issuer.
    #[must_use]
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }
}

/// Whether `granted` covers `needed` under the `:`-separated scope hierarchy.
pub fn scope_covered(granted: &BTreeSet<String>, needed: &str) -> bool {
    if granted.contains(needed) {
        return true;
    }
    let mut prefix = needed;
    while let Some((parent, _)) = prefix.rsplit_once(':') {
        if granted.contains(parent) {
            return true;
        }
        prefix = parent;
    }
    false
}

/// Formats scopes as the documented denial text does: `['a', 'b']`.
pub(crate) fn python_list<S: AsRef<str>>(items: &[S]) -> String {
    let inner: Vec<String> = items.iter().map(|s| format!("'{}'", s.as_ref())).collect();
    format!("[{}]", inner.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn az15_broader_scopes_cover_narrower_ones() {
        let ctx = AuthContext::new(CredentialKind::Bearer).with_scopes(["files", "read"]);
        assert!(ctx.has_scope("files:delete"));
        assert!(ctx.has_scope("files:read:meta"));
        assert!(ctx.has_scope("read"));
        assert!(!ctx.has_scope("filesystem"));
        assert!(!ctx.has_scope("write"));
        let needed = vec!["read".to_owned(), "admin:users".to_owned()];
        assert_eq!(ctx.missing_scopes(&needed), ["admin:users"]);
    }

    #[test]
    fn denial_lists_look_like_the_documented_ones() {
        assert_eq!(python_list(&["files:delete"]), "['files:delete']");
        assert_eq!(python_list(&["a", "b"]), "['a', 'b']");
    }
}
