//! The administrative operations, after the caller was found to be an administrator: what the
//! REST routes and the MCP tools both run, on a request already read into a JSON object.

use serde_json::{Map, Value, json};

use super::body::{AdminError, parse};
use super::views::{CreateKey, CreateUser, RotateKey, ServiceAccountSpec, grants, user_json};
use super::{Done, KeyAdmin, MAX_TARGET};
use crate::auth::apikey::now_secs;
use crate::auth::{AuthContext, NewApiKey, Surface, User};
use http::StatusCode;

/// An id or a name from a path or an argument: unknown when longer than anything stored.
pub(super) fn checked_id(id: &str) -> Result<&str, AdminError> {
    if id.is_empty() || id.len() > MAX_TARGET {
        return Err(AdminError::not_found("no such record"));
    }
    Ok(id)
}

/// Whether `name` can name a user: 1 to 64 characters of `A-Z a-z 0-9 _ . @ -`.
fn valid_user_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'@' | b'-'))
}

/// The shortest password a new user may have.
const MIN_PASSWORD_CHARS: usize = 8;
/// The longest (Argon2id hashes every byte).
const MAX_PASSWORD_BYTES: usize = 1024;

impl KeyAdmin {
    /// Every key, with the expiry warnings.
    pub(super) async fn list_keys(&self) -> Result<Done, AdminError> {
        let keys = self.keys.list().await.map_err(AdminError::keys)?;
        let views: Vec<Value> = keys.iter().map(|k| self.key_view(k)).collect();
        Ok(Done::ok(json!({
            "keys": views,
            "expiry_warning_window_seconds": self.expiry_warning.as_secs(),
        })))
    }

    /// Creates the key `object` describes: 201 with the secret, this once.
    pub(super) async fn create_key(
        &self,
        object: Map<String, Value>,
        actor: &AuthContext,
    ) -> Result<Done, AdminError> {
        let req: CreateKey = parse(object, CreateKey::FIELDS, &[])?;
        let new = self.new_key(req, actor)?;
        let created = self.keys.create(new).await.map_err(AdminError::keys)?;
        Ok(Done {
            status: StatusCode::CREATED,
            body: json!({
                "key": self.key_view(&created.key),
                "secret": created.secret.expose(),
                "notice": "store the secret now: it is shown this once",
            }),
            target: Some(created.key.id),
        })
    }

    /// A new secret for key `id`; the old one works for the grace period `object` names (or the
    /// default).
    pub(super) async fn rotate_key(
        &self,
        id: &str,
        object: Map<String, Value>,
    ) -> Result<Done, AdminError> {
        let id = checked_id(id)?;
        let req: RotateKey = parse(object, RotateKey::FIELDS, &[])?;
        let grace = match req.grace_seconds {
            Some(g) => g.to_duration("grace_seconds")?,
            None => self.default_grace.min(self.max_grace),
        };
        if grace > self.max_grace {
            return Err(AdminError::invalid(
                "grace_seconds",
                format!(
                    "grace_seconds is at most {} seconds",
                    self.max_grace.as_secs()
                ),
            ));
        }
        let rotated = self
            .keys
            .rotate_with_grace(id, grace)
            .await
            .map_err(AdminError::keys)?;
        Ok(Done::ok(json!({
            "key": self.key_view(&rotated.key),
            "secret": rotated.secret.expose(),
            "grace_seconds": grace.as_secs(),
            "notice": "store the secret now: it is shown this once",
        })))
    }

    /// Revokes key `id` (again: nothing changes).
    pub(super) async fn revoke_key(&self, id: &str) -> Result<Done, AdminError> {
        let id = checked_id(id)?;
        self.keys.revoke(id).await.map_err(AdminError::keys)?;
        let key = self.keys.get(id).await.map_err(AdminError::keys)?;
        Ok(Done::ok(json!({ "key": self.key_view(&key) })))
    }

    /// Every user.
    pub(super) async fn list_users(&self) -> Result<Done, AdminError> {
        let users = self
            .user_store()?
            .list_users()
            .await
            .map_err(AdminError::store)?;
        let views: Vec<Value> = users.iter().map(user_json).collect();
        Ok(Done::ok(json!({ "users": views })))
    }

    /// Creates the user `object` describes (201); a name taken is 409.
    pub(super) async fn create_user(&self, object: Map<String, Value>) -> Result<Done, AdminError> {
        let req: CreateUser = parse(object, CreateUser::FIELDS, CreateUser::SECRET)?;
        let users = self.user_store()?;
        let ladder = self.keys.role_ladder();
        let name = req
            .name
            .ok_or_else(|| AdminError::invalid("name", "name is required"))?;
        if !valid_user_name(&name) {
            return Err(AdminError::invalid(
                "name",
                "a user name is 1 to 64 characters of A-Z a-z 0-9 _ . @ -",
            ));
        }
        let role = self.checked_role(req.role)?;
        let mut user = match req.workspaces {
            None => User::new(name.clone(), role),
            // The role is held in each workspace; outside them the user holds the lowest.
            Some(ws) => {
                let access = grants(ws, &role);
                access
                    .validate(ladder)
                    .map_err(|e| AdminError::invalid("workspaces", e.to_string()))?;
                User::new(name.clone(), ladder.lowest()).workspaces(access)
            }
        };
        if let Some(password) = req.password {
            if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES
            {
                return Err(AdminError::invalid(
                    "password",
                    format!(
                        "a password is {MIN_PASSWORD_CHARS} characters to {MAX_PASSWORD_BYTES} bytes"
                    ),
                ));
            }
            // Argon2id is slow on purpose: off the async workers.
            let hashed =
                tokio::task::spawn_blocking(move || crate::auth::hash_password(&password)).await;
            match hashed {
                Ok(Ok(phc)) => user = user.password_hash(phc),
                _ => return Err(AdminError::internal("password_hash_failed")),
            }
        }
        if users
            .get_user(&name)
            .await
            .map_err(AdminError::store)?
            .is_some()
        {
            return Err(AdminError::conflict(
                Some("name"),
                format!("a user named {name:?} exists"),
            ));
        }
        users
            .put_user(user.clone())
            .await
            .map_err(AdminError::store)?;
        Ok(Done {
            status: StatusCode::CREATED,
            body: json!({ "user": user_json(&user) }),
            target: Some(name),
        })
    }

    /// Disables (and with them their user-owned keys) or enables user `name`.
    pub(super) async fn set_disabled(
        &self,
        name: &str,
        disabled: bool,
    ) -> Result<Done, AdminError> {
        let name = checked_id(name)?;
        let users = self.user_store()?;
        if !users
            .set_user_disabled(name, disabled)
            .await
            .map_err(AdminError::store)?
        {
            return Err(AdminError::not_found(format!("no user named {name:?}")));
        }
        let user = users
            .get_user(name)
            .await
            .map_err(AdminError::store)?
            .ok_or_else(|| AdminError::not_found(format!("no user named {name:?}")))?;
        Ok(Done::ok(json!({ "user": user_json(&user) })))
    }

    /// `role`, required and on the ladder.
    fn checked_role(&self, role: Option<String>) -> Result<String, AdminError> {
        let ladder = self.keys.role_ladder();
        let role = role.ok_or_else(|| {
            AdminError::invalid(
                "role",
                format!("role is required: one of {}", ladder.names().join(", ")),
            )
        })?;
        if !ladder.contains(&role) {
            return Err(AdminError::invalid(
                "role",
                format!(
                    "unknown role {:?}: use one of {}",
                    role.chars().take(64).collect::<String>(),
                    ladder.names().join(", ")
                ),
            ));
        }
        Ok(role)
    }

    /// The key a creation request describes, checked as far as the request alone allows (the
    /// rest is [`ApiKeys::create`]'s).
    fn new_key(&self, req: CreateKey, actor: &AuthContext) -> Result<NewApiKey, AdminError> {
        let ladder = self.keys.role_ladder();
        let name = req
            .name
            .ok_or_else(|| AdminError::invalid("name", "name is required"))?;
        let role = self.checked_role(req.role)?;
        let surfaces = req.surfaces.ok_or_else(|| {
            AdminError::invalid(
                "surfaces",
                "surfaces is required: [\"mcp\"], [\"rest_api\"] or both",
            )
        })?;
        if surfaces.is_empty() {
            return Err(AdminError::invalid(
                "surfaces",
                "a key needs at least one surface",
            ));
        }
        let mut new = match req.workspaces {
            None => NewApiKey::new(name, role),
            Some(ws) if ws.is_empty() => {
                return Err(AdminError::invalid(
                    "workspaces",
                    "name at least one workspace, or leave workspaces out for all of them",
                ));
            }
            // The role is granted in each workspace; outside them the key holds the lowest.
            Some(ws) => {
                let mut n = NewApiKey::new(name, ladder.lowest());
                n.workspaces = grants(ws, &role);
                n
            }
        };
        for (i, s) in surfaces.iter().enumerate() {
            let surface = Surface::parse(s);
            if !self.surfaces.contains(&surface) {
                let known: Vec<&str> = self.surfaces.iter().map(Surface::as_str).collect();
                return Err(AdminError::invalid(
                    format!("surfaces[{i}]"),
                    format!(
                        "unknown surface {:?}: use {}",
                        s.chars().take(64).collect::<String>(),
                        known.join(", ")
                    ),
                ));
            }
            new = new.surface(surface);
        }
        if let Some(d) = req.description {
            new = new.description(d);
        }
        if let Some(scopes) = req.scopes {
            new = new.scopes(scopes);
        }
        let now = now_secs();
        match (req.expires_in, req.expires_at) {
            (Some(_), Some(_)) => {
                return Err(AdminError::invalid(
                    "expires_at",
                    "give expires_in or expires_at, not both",
                ));
            }
            (Some(ttl), None) => {
                let ttl = ttl.to_duration("expires_in")?;
                if ttl.is_zero() {
                    return Err(AdminError::invalid(
                        "expires_in",
                        "expires_in must be positive",
                    ));
                }
                new = new.expires_at(now.saturating_add(ttl.as_secs()));
            }
            (None, Some(at)) => {
                if at <= now {
                    return Err(AdminError::invalid(
                        "expires_at",
                        "expires_at (seconds since the epoch) is in the past",
                    ));
                }
                new = new.expires_at(at);
            }
            (None, None) => {}
        }
        match (req.owner, req.service_account) {
            (Some(_), Some(_)) => {
                return Err(AdminError::invalid(
                    "owner",
                    "give owner (a user) or service_account, not both",
                ));
            }
            (Some(owner), None) => new = new.user_owned(owner),
            (None, Some(ServiceAccountSpec::Named { id, name })) => {
                new = new.service_account(id, name);
            }
            (None, Some(ServiceAccountSpec::Own(false))) => {
                return Err(AdminError::invalid(
                    "owner",
                    "a key acts for a user (owner) or a service account: name the owner",
                ));
            }
            // The key's own service account.
            (None, Some(ServiceAccountSpec::Own(true)) | None) => {}
        }
        if let Some(by) = actor.subject.as_ref().or(actor.credential_name.as_ref()) {
            new = new.created_by(by.clone());
        }
        Ok(new)
    }
}
