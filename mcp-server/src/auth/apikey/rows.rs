//! The columns of key and user rows as both SQL stores keep them (JSON text for the sets and
//! grants, seconds since the epoch as signed 64-bit integers), and their parsing back into
//! records with the documented defaults for what older rows lack.

use std::collections::BTreeSet;

use super::model::{ApiKey, StoredApiKey};
use super::secret::KeyDigest;
use super::store::StoreError;
use crate::auth::Attribution;
use crate::auth::surface::Surface;
use crate::auth::users::User;
use crate::auth::workspace::WorkspaceAccess;

/// Seconds as stored (saturating).
pub(super) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Seconds as read back (a negative value reads as 0).
pub(super) fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

pub(super) fn json_column<T: serde::de::DeserializeOwned>(
    raw: Option<String>,
    what: &str,
) -> Result<Option<T>, StoreError> {
    match raw.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => serde_json::from_str(&s)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("{what}: {e}"))),
    }
}

pub(super) fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The raw columns of a key row, read off the database; parsed after.
pub(super) struct KeyRow {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) description: Option<String>,
    pub(super) role: String,
    pub(super) digest: Vec<u8>,
    pub(super) key_prefix: String,
    pub(super) workspaces: Option<String>,
    pub(super) created_by: Option<String>,
    pub(super) created_at: i64,
    pub(super) last_used_at: Option<i64>,
    pub(super) revoked_at: Option<i64>,
    pub(super) surfaces: Option<String>,
    pub(super) attribution: Option<String>,
    pub(super) scopes: Option<String>,
    pub(super) expires_at: Option<i64>,
    pub(super) rotated_at: Option<i64>,
    pub(super) previous_expires_at: Option<i64>,
}

impl KeyRow {
    /// The record, with the documented defaults for what older rows lack.
    pub(super) fn parse(self) -> Result<StoredApiKey, StoreError> {
        let digest: [u8; 32] = self
            .digest
            .as_slice()
            .try_into()
            .map_err(|_| StoreError::Corrupt(format!("key {}: digest length", self.id)))?;
        let surfaces: Vec<String> = json_column(self.surfaces, "surfaces")?.unwrap_or_default();
        let attribution = json_column(self.attribution, "attribution")?
            .unwrap_or_else(|| Attribution::default_for(&self.id, &self.name));
        let key = ApiKey {
            description: self.description,
            role: self.role,
            scopes: json_column::<BTreeSet<String>>(self.scopes, "scopes")?.unwrap_or_default(),
            surfaces: surfaces.iter().map(|s| Surface::parse(s)).collect(),
            workspaces: json_column(self.workspaces, "workspaces")?.unwrap_or_default(),
            attribution,
            key_prefix: self.key_prefix,
            created_by: self.created_by,
            created_at: to_u64(self.created_at),
            last_used_at: self.last_used_at.map(to_u64),
            expires_at: self.expires_at.map(to_u64),
            revoked_at: self.revoked_at.map(to_u64),
            rotated_at: self.rotated_at.map(to_u64),
            previous_secret_expires_at: self.previous_expires_at.map(to_u64),
            id: self.id,
            name: self.name,
        };
        Ok(StoredApiKey {
            key,
            digest: KeyDigest::from_bytes(digest),
        })
    }
}

/// The JSON columns of a key, encoded for an insert: workspaces, surfaces, attribution, scopes.
pub(super) fn encode_key(k: &ApiKey) -> Result<(String, String, String, String), StoreError> {
    let surfaces: Vec<&str> = k.surfaces.iter().map(Surface::as_str).collect();
    Ok((
        to_json(&k.workspaces)?,
        to_json(&surfaces)?,
        to_json(&k.attribution)?,
        to_json(&k.scopes)?,
    ))
}

/// The raw columns of a user row: name, role, workspaces, disabled, password hash, created.
pub(super) type UserRow = (String, String, Option<String>, bool, Option<String>, i64);

pub(super) fn parse_user(
    (name, role, workspaces, disabled, password_hash, created_at): UserRow,
) -> Result<User, StoreError> {
    let mut u = User::new(name, role);
    u.workspaces = json_column::<WorkspaceAccess>(workspaces, "workspaces")?.unwrap_or_default();
    u.disabled = disabled;
    u.password_hash = password_hash;
    u.created_at = to_u64(created_at);
    Ok(u)
}
