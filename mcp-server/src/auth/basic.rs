//! HTTP Basic against a [`UserStore`]: Argon2id password hashes ([`hash_password`]), checked off
//! the async threads, with the same work for unknown users as for wrong passwords. The checks
//! anyone can cause are bounded ([`BasicLimits`]): a flood of wrong passwords gets 503s, not
//! gigabytes of Argon2 memory and every core.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::crypto::Sha256;
use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio::sync::Semaphore;

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
    /// Every password-check slot stayed taken for [`BasicLimits::max_wait`]: 503 with
    /// `Retry-After`, never a 401 (the credentials were not checked).
    Busy,
}

impl BasicRejection {
    pub(crate) fn reason(&self) -> &'static str {
        match self {
            BasicRejection::Malformed => "basic_malformed",
            BasicRejection::Invalid => "basic_invalid_credentials",
            BasicRejection::Disabled => "user_disabled",
            BasicRejection::Unavailable(_) => "user_store_unavailable",
            BasicRejection::Busy => "basic_busy",
        }
    }

    pub(crate) fn description(&self) -> &'static str {
        match self {
            BasicRejection::Malformed => "the Basic credentials are malformed",
            BasicRejection::Invalid => "invalid user name or password",
            BasicRejection::Disabled => "the user is disabled",
            BasicRejection::Unavailable(_) => "the user store is unavailable",
            BasicRejection::Busy => "too many password checks are in progress; retry later",
        }
    }
}

/// The user name of the `base64(user:password)` part of an `Authorization: Basic` header, if
/// it decodes (what the failure budget of a Basic credential is keyed on).
pub(crate) fn user_name(encoded: &str) -> Option<String> {
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.split_once(':').map(|(name, _)| name.to_owned())
}

/// How long a verified password is remembered (by a digest that includes the stored hash, so a
/// password change forgets it at once; the user record is still read on every request).
const REMEMBER_SECS: u64 = 300;

/// Bounds on the password-checking work of HTTP Basic. Each Argon2id check holds about 19 MiB
/// and one core for tens of milliseconds, and anyone can ask for one, so at most
/// [`max_concurrent`](Self::max_concurrent) run at once (memory stays under
/// `max_concurrent × 19 MiB`); a request that cannot get a slot within
/// [`max_wait`](Self::max_wait) is refused as busy (503) instead of queueing without end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BasicLimits {
    /// How many Argon2id checks run at once (default: the number of CPUs). At least 1.
    pub max_concurrent: usize,
    /// How long a request waits for a free check slot (default 2 s).
    pub max_wait: Duration,
    /// How many verified passwords are remembered at most (default 10,000); the soonest to
    /// expire is forgotten first. At least 1.
    pub remembered: usize,
}

impl Default for BasicLimits {
    fn default() -> Self {
        BasicLimits {
            max_concurrent: std::thread::available_parallelism().map_or(2, usize::from),
            max_wait: Duration::from_secs(2),
            remembered: 10_000,
        }
    }
}

impl BasicLimits {
    /// At most `max_concurrent` checks at once, each request waiting at most `max_wait` for a
    /// slot; the default memo size.
    pub fn new(max_concurrent: usize, max_wait: Duration) -> Self {
        BasicLimits {
            max_concurrent: max_concurrent.max(1),
            max_wait,
            ..BasicLimits::default()
        }
    }

    /// Remembers at most `entries` verified passwords.
    #[must_use]
    pub fn remembered(mut self, entries: usize) -> Self {
        self.remembered = entries.max(1);
        self
    }
}

/// Checks Basic credentials against a user store.
pub(crate) struct BasicVerifier {
    users: Arc<dyn UserStore>,
    limits: BasicLimits,
    /// One permit per Argon2id check allowed to run (held by the blocking task itself, so a
    /// caller that goes away does not free its slot before the work stops).
    permits: Arc<Semaphore>,
    /// Verified passwords (by [`cache_key`]) until when they are trusted.
    verified: Mutex<HashMap<[u8; 32], u64>>,
    /// The password check; Argon2id, replaced in tests to count and pace calls.
    check: fn(&str, &str) -> bool,
}

fn cache_key(name: &str, password: &str, phc: &str) -> [u8; 32] {
    let mut ctx = Sha256::new();
    for part in [
        b"mcp-basic:v1".as_slice(),
        name.as_bytes(),
        password.as_bytes(),
        phc.as_bytes(),
    ] {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part);
    }
    ctx.finish()
}

impl BasicVerifier {
    /// A verifier with these limits.
    pub(crate) fn with_limits(users: Arc<dyn UserStore>, limits: BasicLimits) -> Self {
        let limits = BasicLimits {
            max_concurrent: limits.max_concurrent.max(1),
            remembered: limits.remembered.max(1),
            ..limits
        };
        BasicVerifier {
            users,
            permits: Arc::new(Semaphore::new(limits.max_concurrent)),
            limits,
            verified: Mutex::new(HashMap::new()),
            check: verify_password,
        }
    }

    /// Replaces the password check (fuzz builds only: Argon2id's tens of milliseconds per
    /// check would leave the parsing around it unexplored).
    #[cfg(fuzzing)]
    pub(crate) fn set_check(&mut self, check: fn(&str, &str) -> bool) {
        self.check = check;
    }

    /// Runs the password check on the blocking pool once a check slot is free (it takes tens of
    /// milliseconds on purpose). `Err(Busy)` when no slot frees up within `max_wait`.
    async fn check_off_thread(&self, password: &str, phc: String) -> Result<bool, BasicRejection> {
        let acquire = Arc::clone(&self.permits).acquire_owned();
        let permit = match tokio::time::timeout(self.limits.max_wait, acquire).await {
            Ok(Ok(permit)) => permit,
            // Timed out (or the semaphore closed, which never happens): the check did not run.
            _ => return Err(BasicRejection::Busy),
        };
        let password = password.to_owned();
        let check = self.check;
        let verified = tokio::task::spawn_blocking(move || {
            let _slot = permit;
            check(&password, &phc)
        })
        .await
        .unwrap_or(false);
        Ok(verified)
    }

    /// Whether `key` is a password verified less than [`REMEMBER_SECS`] ago.
    fn remembered(&self, key: &[u8; 32], now: u64) -> bool {
        let v = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        v.get(key).is_some_and(|&until| now < until)
    }

    /// Remembers a verified password, never holding more than `limits.remembered` entries:
    /// expired entries leave first, then the one closest to expiring (forgetting a password
    /// costs one more Argon2id check, nothing else).
    fn remember(&self, key: [u8; 32], now: u64) {
        let mut v = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if v.len() >= self.limits.remembered && !v.contains_key(&key) {
            v.retain(|_, until| now < *until);
            while v.len() >= self.limits.remembered {
                let Some(oldest) = v.iter().min_by_key(|(_, until)| **until).map(|(k, _)| *k)
                else {
                    break;
                };
                v.remove(&oldest);
            }
        }
        v.insert(key, now + REMEMBER_SECS);
    }

    /// How many verified passwords are remembered now.
    #[cfg(test)]
    fn remembered_len(&self) -> usize {
        self.verified.lock().map_or(0, |v| v.len())
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
            // An unknown user costs what a wrong password costs, slot included: it waits for
            // a check slot like anyone (and is refused as busy like anyone).
            if let Some(decoy) = decoy_hash() {
                self.check_off_thread(password, decoy.to_owned()).await?;
            }
            return Err(BasicRejection::Invalid);
        };
        let key = cache_key(name, password, &phc);
        let now = now_secs();
        if !self.remembered(&key, now) {
            if !self.check_off_thread(password, phc).await? {
                return Err(BasicRejection::Invalid);
            }
            self.remember(key, now);
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
        let v = BasicVerifier::with_limits(store.clone(), BasicLimits::default());
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

    /// A user store with `ada`, whose stored hash the fake checks below never look at.
    async fn ada() -> Arc<MemoryStore> {
        let store = Arc::new(MemoryStore::new());
        store
            .put_user(User::new("ada", "admin").password_hash("$argon2id$fake".to_owned()))
            .await
            .unwrap();
        store
    }

    fn enc(s: &str) -> String {
        STANDARD.encode(s)
    }

    /// A password check that stands for Argon2id: counts its calls and the most running at
    /// once, and takes long enough (200 ms) that a flood overlaps.
    macro_rules! counted_check {
        ($name:ident, $calls:ident, $peak:ident) => {
            static $calls: AtomicUsize = AtomicUsize::new(0);
            static $peak: AtomicUsize = AtomicUsize::new(0);
            fn $name(password: &str, _phc: &str) -> bool {
                static RUNNING: AtomicUsize = AtomicUsize::new(0);
                $calls.fetch_add(1, Ordering::SeqCst);
                let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
                $peak.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(200));
                RUNNING.fetch_sub(1, Ordering::SeqCst);
                password == "right"
            }
        };
    }

    use std::sync::atomic::{AtomicUsize, Ordering};

    counted_check!(flood_check, FLOOD_CALLS, FLOOD_PEAK);

    /// Finding 1: a flood of wrong passwords never runs more than `max_concurrent` checks at
    /// once; what cannot get a slot in time is `Busy` (503), not queued; the right password
    /// still works afterwards.
    #[tokio::test]
    async fn a_wrong_password_flood_runs_at_most_max_concurrent_checks_and_the_rest_is_busy() {
        let mut v = BasicVerifier::with_limits(ada().await, BasicLimits::new(2, Duration::ZERO));
        v.check = flood_check;
        let wrong = enc("ada:wrong");
        let results = futures_util::future::join_all((0..12).map(|_| v.verify(&wrong))).await;
        let busy = results
            .iter()
            .filter(|r| **r == Err(BasicRejection::Busy))
            .count();
        let invalid = results
            .iter()
            .filter(|r| **r == Err(BasicRejection::Invalid))
            .count();
        assert_eq!(busy + invalid, 12, "{results:?}");
        assert!(busy >= 1, "beyond the bound, requests are refused as busy");
        assert!(
            FLOOD_PEAK.load(Ordering::SeqCst) <= 2,
            "at most 2 checks at once"
        );
        assert_eq!(FLOOD_CALLS.load(Ordering::SeqCst), invalid);
        assert_eq!(v.verify(&enc("ada:right")).await.unwrap().name, "ada");
        assert_eq!(BasicRejection::Busy.reason(), "basic_busy");
    }

    counted_check!(decoy_check, DECOY_CALLS, DECOY_PEAK);

    /// Finding 1, timing: an unknown user runs the decoy check under the same bound, so it
    /// takes a slot (and is refused as busy) exactly as a known user with a wrong password.
    #[tokio::test]
    async fn unknown_users_take_a_check_slot_like_wrong_passwords() {
        let mut v = BasicVerifier::with_limits(ada().await, BasicLimits::new(1, Duration::ZERO));
        v.check = decoy_check;
        let (zed, ada) = (enc("zed:wrong"), enc("ada:wrong"));
        // The unknown user holds the only slot: the known user is busy.
        let (unknown, known) = tokio::join!(v.verify(&zed), v.verify(&ada));
        assert_eq!(unknown, Err(BasicRejection::Invalid));
        assert_eq!(known, Err(BasicRejection::Busy));
        // And the other way round.
        let (known, unknown) = tokio::join!(v.verify(&ada), v.verify(&zed));
        assert_eq!(known, Err(BasicRejection::Invalid));
        assert_eq!(unknown, Err(BasicRejection::Busy));
        // One check ran per round: the decoy for the unknown user, then ada's.
        assert_eq!(DECOY_CALLS.load(Ordering::SeqCst), 2);
        assert_eq!(DECOY_PEAK.load(Ordering::SeqCst), 1);
    }

    counted_check!(memo_check, MEMO_CALLS, MEMO_PEAK);

    fn accept_any(password: &str, phc: &str) -> bool {
        memo_check("right", phc) && !password.is_empty()
    }

    /// Finding 1: the memo of verified passwords never holds more than `remembered` entries,
    /// and a remembered password costs no check.
    #[tokio::test]
    async fn the_verified_password_memo_stays_bounded() {
        let limits = BasicLimits::new(4, Duration::from_secs(30)).remembered(3);
        let mut v = BasicVerifier::with_limits(ada().await, limits);
        v.check = accept_any;
        for i in 0..10 {
            assert!(v.verify(&enc(&format!("ada:pw{i}"))).await.is_ok());
            assert!(v.remembered_len() <= 3);
        }
        assert_eq!(MEMO_CALLS.load(Ordering::SeqCst), 10);
        assert!(v.verify(&enc("ada:pw9")).await.is_ok());
        assert_eq!(MEMO_CALLS.load(Ordering::SeqCst), 10, "pw9 is remembered");
        assert_eq!(MEMO_PEAK.load(Ordering::SeqCst), 1);
    }
}
