//! HTTP Basic against a [`UserStore`]: Argon2id password hashes ([`hash_password`]), checked off
//! the async threads, with the same work for unknown users as for wrong passwords.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::apikey::{StoreError, now_secs};
use super::users::{User, UserStore};

/// Why a password could not be hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// No randomness for the salt.
    #[error("the operating system's random number generator failed")]
    Randomness,
    /// The hasher refused the input (e.g. an absurdly long password).
    #[error("the password cannot be hashed")]
    Hash,
}

/// Hashes a password with Argon2id (the crate's default parameters, a random 16-byte salt), as a
/// PHC string to store in [`User::password_hash`].
///
/// ```
/// let phc = mcp_server::auth::hash_password("correct horse")?;
/// assert!(phc.starts_with("$argon2id$"));
/// assert!(mcp_server::auth::verify_password("correct horse", &phc));
/// assert!(!mcp_server::auth::verify_password("wrong", &phc));
/// # Ok::<(), mcp_server::auth::PasswordError>(())
/// ```
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| PasswordError::Randomness)?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| PasswordError::Hash)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| PasswordError::Hash)
}

/// Whether `password` matches the PHC string `phc` (constant-time comparison inside). A
/// malformed hash matches nothing.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash of a random password, checked for unknown users so that they cost what a wrong
/// password costs.
fn decoy_hash() -> Option<&'static str> {
    static DECOY: OnceLock<Option<String>> = OnceLock::new();
    DECOY
        .get_or_init(|| {
            let mut pw = [0u8; 24];
            getrandom::fill(&mut pw).ok()?;
            hash_password(&STANDARD.encode(pw)).ok()
        })
        .as_deref()
}

/// Why Basic credentials were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BasicRejection {
    /// Not `base64(user:password)`.
    Malformed,
    /// Unknown user or wrong password (indistinguishable).
    Invalid,
    /// The right password of a disabled user.
    Disabled,
    /// The store could not be asked.
    Unavailable(StoreError),
}

impl BasicRejection {
    pub(crate) fn reason(&self) -> &'static str {
        match self {
            BasicRejection::Malformed => "basic_malformed",
            BasicRejection::Invalid => "basic_invalid_credentials",
            BasicRejection::Disabled => "user_disabled",
            BasicRejection::Unavailable(_) => "user_store_unavailable",
        }
    }

    pub(crate) fn description(&self) -> &'static str {
        match self {
            BasicRejection::Malformed => "the Basic credentials are malformed",
            BasicRejection::Invalid => "invalid user name or password",
            BasicRejection::Disabled => "the user is disabled",
            BasicRejection::Unavailable(_) => "the user store is unavailable",
        }
    }
}

/// How long a verified password is remembered (by a digest that includes the stored hash, so a
/// password change forgets it at once; the user record is still read on every request).
const REMEMBER_SECS: u64 = 300;

/// Checks Basic credentials against a user store.
pub(crate) struct BasicVerifier {
    users: Arc<dyn UserStore>,
    verified: Mutex<HashMap<[u8; 32], u64>>,
}

fn cache_key(name: &str, password: &str, phc: &str) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for part in [
        b"mcp-basic:v1".as_slice(),
        name.as_bytes(),
        password.as_bytes(),
        phc.as_bytes(),
    ] {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// Runs Argon2 on the blocking pool (it takes tens of milliseconds on purpose).
async fn verify_off_thread(password: String, phc: String) -> bool {
    tokio::task::spawn_blocking(move || verify_password(&password, &phc))
        .await
        .unwrap_or(false)
}

impl BasicVerifier {
    pub(crate) fn new(users: Arc<dyn UserStore>) -> Self {
        BasicVerifier {
            users,
            verified: Mutex::new(HashMap::new()),
        }
    }

    /// Checks the `base64(user:password)` part of an `Authorization: Basic` header.
    pub(crate) async fn verify(&self, encoded: &str) -> Result<User, BasicRejection> {
        let decoded = STANDARD
            .decode(encoded.trim())
            .map_err(|_| BasicRejection::Malformed)?;
        let text = String::from_utf8(decoded).map_err(|_| BasicRejection::Malformed)?;
        let (name, password) = text.split_once(':').ok_or(BasicRejection::Malformed)?;
        if name.is_empty() || password.len() > 1024 {
            return Err(BasicRejection::Invalid);
        }
        let user = self
            .users
            .get_user(name)
            .await
            .map_err(BasicRejection::Unavailable)?;
        let Some((user, phc)) = user.and_then(|u| u.password_hash.clone().map(|p| (u, p))) else {
            if let Some(decoy) = decoy_hash() {
                let _ = verify_off_thread(password.to_owned(), decoy.to_owned()).await;
            }
            return Err(BasicRejection::Invalid);
        };
        let key = cache_key(name, password, &phc);
        let now = now_secs();
        let remembered = {
            let v = self.verified.lock().unwrap_or_else(|e| e.into_inner());
            v.get(&key).is_some_and(|&until| now < until)
        };
        if !remembered {
            if !verify_off_thread(password.to_owned(), phc).await {
                return Err(BasicRejection::Invalid);
            }
            let mut v = self.verified.lock().unwrap_or_else(|e| e.into_inner());
            if v.len() >= 10_000 {
                v.retain(|_, until| now < *until);
            }
            v.insert(key, now + REMEMBER_SECS);
        }
        if user.disabled {
            return Err(BasicRejection::Disabled);
        }
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::MemoryStore;

    #[tokio::test]
    async fn basic_users() {
        let store = Arc::new(MemoryStore::new());
        let phc = hash_password("s3cret").unwrap();
        store
            .put_user(User::new("ada", "admin").password_hash(phc))
            .await
            .unwrap();
        let v = BasicVerifier::new(store.clone());
        let enc = |s: &str| STANDARD.encode(s);
        assert_eq!(v.verify(&enc("ada:s3cret")).await.unwrap().name, "ada");
        assert_eq!(v.verify(&enc("ada:s3cret")).await.unwrap().name, "ada");
        assert_eq!(
            v.verify(&enc("ada:nope")).await,
            Err(BasicRejection::Invalid)
        );
        assert_eq!(
            v.verify(&enc("bob:s3cret")).await,
            Err(BasicRejection::Invalid)
        );
        assert_eq!(v.verify("!!").await, Err(BasicRejection::Malformed));
        assert_eq!(
            v.verify(&enc("nocolon")).await,
            Err(BasicRejection::Malformed)
        );
        store.set_user_disabled("ada", true).await.unwrap();
        assert_eq!(
            v.verify(&enc("ada:s3cret")).await,
            Err(BasicRejection::Disabled)
        );
    }
}
