//! Users ([`User`], [`UserStore`]): the people HTTP Basic authenticates, and the owners whose
//! state decides whether their user-owned API keys work.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::apikey::StoreError;
use super::workspace::WorkspaceAccess;
use crate::BoxFuture;
use crate::store::NotReady;

/// A user.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct User {
    /// The unique user name.
    pub name: String,
    /// Their role.
    pub role: String,
    /// The workspaces they may see.
    pub workspaces: WorkspaceAccess,
    /// A disabled user cannot sign in, and their user-owned keys stop working.
    pub disabled: bool,
    /// Argon2id PHC string of their password (see [`hash_password`](super::hash_password));
    /// `None` for users who only own keys.
    #[serde(skip_serializing)]
    pub password_hash: Option<String>,
    /// When they were added (seconds since the epoch).
    pub created_at: u64,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("workspaces", &self.workspaces)
            .field("disabled", &self.disabled)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "<redacted>"),
            )
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl User {
    /// An enabled user with `role`, every workspace, no password.
    pub fn new(name: impl Into<String>, role: impl Into<String>) -> Self {
        User {
            name: name.into(),
            role: role.into(),
            workspaces: WorkspaceAccess::All,
            disabled: false,
            password_hash: None,
            created_at: super::apikey::now_secs(),
        }
    }

    /// Sets the password hash (an Argon2id PHC string).
    #[must_use]
    pub fn password_hash(mut self, phc: impl Into<String>) -> Self {
        self.password_hash = Some(phc.into());
        self
    }

    /// Limits the user to workspaces.
    #[must_use]
    pub fn workspaces(mut self, access: WorkspaceAccess) -> Self {
        self.workspaces = access;
        self
    }
}

/// Persistence of users. Implementations must be safe under concurrent calls.
pub trait UserStore: Send + Sync + 'static {
    /// The user called `name`.
    fn get_user<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<User>, StoreError>>;

    /// Adds a user, or replaces the one with the same name.
    fn put_user(&self, user: User) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Disables or enables a user; whether they exist.
    fn set_user_disabled<'a>(
        &'a self,
        name: &'a str,
        disabled: bool,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Every user, by name.
    fn list_users(&self) -> BoxFuture<'_, Result<Vec<User>, StoreError>>;

    /// Whether the store can serve now, for the HTTP transport's readiness endpoint (`/readyz`):
    /// `Err` with a short reason, free of secrets, when it cannot (a backend that does not
    /// answer). The endpoint calls it at most about once a second, bounded by
    /// `HttpConfig::readiness_timeout`. Default: ready (a store in memory always is;
    /// `SqliteStore` runs a trivial query).
    fn readiness(&self) -> BoxFuture<'_, Result<(), NotReady>> {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// A shared store is a store.
impl<T: UserStore + ?Sized> UserStore for std::sync::Arc<T> {
    fn get_user<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<User>, StoreError>> {
        (**self).get_user(name)
    }
    fn put_user(&self, user: User) -> BoxFuture<'_, Result<(), StoreError>> {
        (**self).put_user(user)
    }
    fn set_user_disabled<'a>(
        &'a self,
        name: &'a str,
        disabled: bool,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        (**self).set_user_disabled(name, disabled)
    }
    fn list_users(&self) -> BoxFuture<'_, Result<Vec<User>, StoreError>> {
        (**self).list_users()
    }
    fn readiness(&self) -> BoxFuture<'_, Result<(), NotReady>> {
        (**self).readiness()
    }
}
