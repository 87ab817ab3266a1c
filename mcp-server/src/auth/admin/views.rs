//! What the admin API reads and answers: the requests (typed, every member optional so that a
//! missing one is named by the handler) and the JSON views of keys and users, never a digest,
//! a password hash or (outside the one answer that creates it) a secret.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use super::body::AdminError;
use crate::auth::{ApiKey, Attribution, KeyStatus, User, WorkspaceAccess, WorkspaceGrant};

/// A duration: seconds as a number, or a string `<n>s|m|h|d` (`"90d"`, `"12h"`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum DurationSpec {
    Seconds(u64),
    Text(String),
}

/// The longest duration a request may name: 100 years.
const MAX_SECONDS: u64 = 100 * 365 * 86_400;

impl DurationSpec {
    pub(super) fn to_duration(&self, field: &str) -> Result<Duration, AdminError> {
        let secs = match self {
            DurationSpec::Seconds(s) => Some(*s),
            DurationSpec::Text(t) => parse_duration(t),
        };
        match secs {
            Some(s) if s <= MAX_SECONDS => Ok(Duration::from_secs(s)),
            Some(_) => Err(AdminError::invalid(
                field,
                format!("{field} is too long (at most 100 years)"),
            )),
            None => Err(AdminError::invalid(
                field,
                format!("{field}: use seconds, or a number followed by s, m, h or d (\"90d\")"),
            )),
        }
    }
}

fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let (digits, factor) = match unit {
        's' => (&text[..text.len() - 1], 1),
        'm' => (&text[..text.len() - 1], 60),
        'h' => (&text[..text.len() - 1], 3600),
        'd' => (&text[..text.len() - 1], 86_400),
        c if c.is_ascii_digit() => (text, 1),
        _ => return None,
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 12 {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(factor)
}

/// A workspace of a new key or user: its name (with the request's role), or a grant.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum WorkspaceSpec {
    Name(String),
    Grant {
        workspace: String,
        role: Option<String>,
    },
}

/// Workspace specs as grants, each with `role` unless it names its own.
pub(super) fn grants(specs: Vec<WorkspaceSpec>, role: &str) -> WorkspaceAccess {
    WorkspaceAccess::Grants(
        specs
            .into_iter()
            .map(|s| match s {
                WorkspaceSpec::Name(workspace) => WorkspaceGrant {
                    workspace,
                    role: role.to_owned(),
                },
                WorkspaceSpec::Grant { workspace, role: r } => WorkspaceGrant {
                    workspace,
                    role: r.unwrap_or_else(|| role.to_owned()),
                },
            })
            .collect(),
    )
}

/// Who a new key acts for: `true` (its own service account) or a named one.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum ServiceAccountSpec {
    Own(bool),
    Named { id: String, name: String },
}

/// `POST /keys`.
#[derive(Debug, Deserialize)]
pub(super) struct CreateKey {
    pub(super) name: Option<String>,
    pub(super) role: Option<String>,
    pub(super) description: Option<String>,
    pub(super) surfaces: Option<Vec<String>>,
    pub(super) workspaces: Option<Vec<WorkspaceSpec>>,
    pub(super) scopes: Option<Vec<String>>,
    pub(super) expires_in: Option<DurationSpec>,
    pub(super) expires_at: Option<u64>,
    pub(super) owner: Option<String>,
    pub(super) service_account: Option<ServiceAccountSpec>,
}

impl CreateKey {
    pub(super) const FIELDS: &'static [&'static str] = &[
        "name",
        "role",
        "description",
        "surfaces",
        "workspaces",
        "scopes",
        "expires_in",
        "expires_at",
        "owner",
        "service_account",
    ];
}

/// `POST /keys/{id}/rotate`.
#[derive(Debug, Deserialize)]
pub(super) struct RotateKey {
    pub(super) grace_seconds: Option<DurationSpec>,
}

impl RotateKey {
    pub(super) const FIELDS: &'static [&'static str] = &["grace_seconds"];
}

/// `POST /users`.
#[derive(Debug, Deserialize)]
pub(super) struct CreateUser {
    pub(super) name: Option<String>,
    pub(super) role: Option<String>,
    pub(super) password: Option<String>,
    pub(super) workspaces: Option<Vec<WorkspaceSpec>>,
}

impl CreateUser {
    pub(super) const FIELDS: &'static [&'static str] = &["name", "role", "password", "workspaces"];
    /// Members whose values are never quoted in an error.
    pub(super) const SECRET: &'static [&'static str] = &["password"];
}

fn workspaces_json(w: &WorkspaceAccess) -> Value {
    match w {
        WorkspaceAccess::All => Value::from("all"),
        WorkspaceAccess::Grants(g) => json!(
            g.iter()
                .map(|g| json!({"workspace": g.workspace, "role": g.role}))
                .collect::<Vec<_>>()
        ),
    }
}

/// A duration in words, to the largest unit: `3 days`, `5 hours`, `12 minutes`.
fn in_words(secs: u64) -> String {
    let (n, unit) = if secs >= 86_400 {
        (secs / 86_400, "day")
    } else if secs >= 3600 {
        (secs / 3600, "hour")
    } else if secs >= 60 {
        (secs / 60, "minute")
    } else {
        (secs, "second")
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// A key as the admin API shows it. `expiry_warning` is set on an active key that expires
/// within `warn_within` of `now`.
pub(super) fn key_json(k: &ApiKey, now: u64, warn_within: Duration) -> Value {
    let status = k.status(now);
    let status_name = match status {
        KeyStatus::Active => "active",
        KeyStatus::Expired => "expired",
        KeyStatus::Revoked => "revoked",
    };
    let expiry_warning = match (status, k.expires_at) {
        (KeyStatus::Active, Some(at)) if at.saturating_sub(now) <= warn_within.as_secs() => {
            let left = at.saturating_sub(now);
            json!({
                "expires_in_seconds": left,
                "message": format!("this key expires in {}", in_words(left)),
            })
        }
        _ => Value::Null,
    };
    let (owner, service_account) = match &k.attribution {
        Attribution::UserOwned { owner } => (Value::from(owner.as_str()), Value::Null),
        Attribution::ServiceAccount { id, name } => (Value::Null, json!({"id": id, "name": name})),
    };
    let surfaces: Vec<String> = k
        .effective_surfaces()
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    json!({
        "id": k.id,
        "name": k.name,
        "description": k.description,
        "role": k.role,
        "scopes": k.scopes,
        "surfaces": surfaces,
        "legacy_surfaces": k.is_legacy(),
        "workspaces": workspaces_json(&k.workspaces),
        "owner": owner,
        "service_account": service_account,
        "subject": k.attribution.subject(),
        "key_prefix": k.key_prefix,
        "created_by": k.created_by,
        "created_at": k.created_at,
        "last_used_at": k.last_used_at,
        "expires_at": k.expires_at,
        "revoked_at": k.revoked_at,
        "rotated_at": k.rotated_at,
        "previous_secret_expires_at": k.previous_secret_expires_at.filter(|t| *t > now),
        "status": status_name,
        "expiry_warning": expiry_warning,
    })
}

/// A user as the admin API shows it (never the password hash).
pub(super) fn user_json(u: &User) -> Value {
    json!({
        "name": u.name,
        "role": u.role,
        "workspaces": workspaces_json(&u.workspaces),
        "disabled": u.disabled,
        "has_password": u.password_hash.is_some(),
        "created_at": u.created_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90d"), Some(90 * 86_400));
        assert_eq!(parse_duration("12h"), Some(43_200));
        assert_eq!(parse_duration("5m"), Some(300));
        assert_eq!(parse_duration("7s"), Some(7));
        assert_eq!(parse_duration("42"), Some(42));
        for bad in ["", "d", "1.5h", "-1d", "1w", "h1", "99999999999999999d"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        assert!(
            DurationSpec::Seconds(u64::MAX)
                .to_duration("expires_in")
                .is_err()
        );
        assert_eq!(in_words(3 * 86_400 + 5), "3 days");
        assert_eq!(in_words(3600), "1 hour");
        assert_eq!(in_words(59), "59 seconds");
    }
}
