//! [`SqliteStore`]: API keys and users in one SQLite file (bundled library, WAL journal,
//! versioned schema migrations). Safe under concurrent requests and beside other processes (the
//! admin CLI) using the same file.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, Row, params};

use super::model::{ApiKey, StoredApiKey};
use super::rows::{KeyRow, UserRow, encode_key, parse_user, to_i64, to_json};
use super::secret::KeyDigest;
use super::store::{ApiKeyStore, StoreError};
use crate::BoxFuture;
use crate::auth::users::{User, UserStore};
use crate::store::NotReady;

/// The schema, one migration per version. A database records the version it is at
/// (`PRAGMA user_version`) and gets the missing steps, each in its own transaction, when opened.
/// Version 1 is the first layout of keys (no surfaces, attribution or expiry: keys from then are
/// legacy keys); never edit a published step, add one.
const MIGRATIONS: &[&str] = &[
    // 1: keys.
    "CREATE TABLE api_keys (
        id           TEXT PRIMARY KEY NOT NULL,
        name         TEXT NOT NULL UNIQUE,
        description  TEXT,
        role         TEXT NOT NULL,
        digest       BLOB NOT NULL UNIQUE,
        key_prefix   TEXT NOT NULL,
        workspaces   TEXT,
        created_by   TEXT,
        created_at   INTEGER NOT NULL,
        last_used_at INTEGER,
        revoked_at   INTEGER
    );",
    // 2: surfaces (NULL or [] = legacy: mcp and rest_api), attribution (NULL = the key's own
    // service account), scopes, expiry, rotation.
    "ALTER TABLE api_keys ADD COLUMN surfaces TEXT;
     ALTER TABLE api_keys ADD COLUMN attribution TEXT;
     ALTER TABLE api_keys ADD COLUMN scopes TEXT;
     ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
     ALTER TABLE api_keys ADD COLUMN rotated_at INTEGER;",
    // 3: users (Basic passwords, owners of user-owned keys).
    "CREATE TABLE users (
        name          TEXT PRIMARY KEY NOT NULL,
        role          TEXT NOT NULL,
        workspaces    TEXT,
        disabled      INTEGER NOT NULL DEFAULT 0,
        password_hash TEXT,
        created_at    INTEGER NOT NULL
    );",
    // 4: rotation with a grace period: the previous secret's digest, accepted until
    // `previous_expires_at`.
    "ALTER TABLE api_keys ADD COLUMN previous_digest BLOB;
     ALTER TABLE api_keys ADD COLUMN previous_expires_at INTEGER;
     CREATE INDEX api_keys_previous_digest ON api_keys (previous_digest);",
];

/// How many read connections serve lookups side by side (WAL readers never wait for the writer).
const READERS: usize = 4;

/// How long a statement waits for another process's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const KEY_COLUMNS: &str = "id, name, description, role, digest, key_prefix, workspaces, \
    created_by, created_at, last_used_at, revoked_at, surfaces, attribution, scopes, \
    expires_at, rotated_at, previous_expires_at";

/// The same columns with the previous digest in the digest's place (lookups of a previous
/// secret).
const PREVIOUS_KEY_COLUMNS: &str = "id, name, description, role, previous_digest, key_prefix, \
    workspaces, created_by, created_at, last_used_at, revoked_at, surfaces, attribution, scopes, \
    expires_at, rotated_at, previous_expires_at";

/// API keys and users in a SQLite file.
///
/// One writer connection and a few readers, each behind a lock; every operation is a single
/// statement or transaction, so concurrent requests never see half a change. Lookups by digest
/// use the `UNIQUE` index on `digest`.
///
/// ```no_run
/// use mcp_server::auth::{ApiKeys, NewApiKey, SqliteStore, Surface};
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let keys = ApiKeys::new(SqliteStore::open("data/auth.db")?);
/// let created = keys.create(NewApiKey::new("ci", "operator").surface(Surface::Mcp)).await?;
/// println!("{}", created.secret.expose()); // shown once
/// # Ok(()) }
/// ```
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn backend(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::ConstraintViolation => {
            StoreError::Conflict("a key with this name, id or digest exists".into())
        }
        _ => StoreError::Backend(e.to_string()),
    }
}

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn ready<'a, T: Send + 'a>(v: T) -> BoxFuture<'a, T> {
    Box::pin(std::future::ready(v))
}

fn connect(path: &Path, flags: OpenFlags) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(path, flags).map_err(backend)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, switches it to WAL and brings its
    /// schema up to date. A database written by a newer version is refused.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Backend(e.to_string()))?;
        }
        let existed = path.exists();
        let rw = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut writer = connect(&path, rw)?;
        if !existed {
            restrict_permissions(&path);
        }
        let mode: String = writer
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(backend)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!(
                "the database cannot use WAL (journal mode {mode})"
            )));
        }
        writer
            .execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
            .map_err(backend)?;
        migrate(&mut writer)?;
        let ro = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let readers = (0..READERS)
            .map(|_| connect(&path, ro).map(Mutex::new))
            .collect::<Result<_, _>>()?;
        Ok(SqliteStore {
            path,
            writer: Mutex::new(writer),
            readers,
            next: AtomicUsize::new(0),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version the database is at.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        let v: i64 = lock(&self.writer)
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(backend)?;
        Ok(u32::try_from(v).unwrap_or(0))
    }

    /// Runs SQLite's `integrity_check`; `Ok` when the file is sound.
    pub fn check_integrity(&self) -> Result<(), StoreError> {
        let out: String = lock(&self.writer)
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(backend)?;
        if out == "ok" {
            Ok(())
        } else {
            Err(StoreError::Corrupt(out))
        }
    }

    /// The schema version this build writes.
    pub fn latest_schema_version() -> u32 {
        u32::try_from(MIGRATIONS.len()).unwrap_or(u32::MAX)
    }

    /// Whether `table` can be read (the readiness check): one trivial query. The reason names
    /// SQLite's error code only, never the file's path.
    fn probe(&self, table: &'static str) -> Result<(), NotReady> {
        let c = self.reader();
        c.prepare_cached(&format!("SELECT 1 FROM {table} LIMIT 1"))
            .and_then(|mut s| s.query_row([], |_| Ok(())).optional())
            .map(|_| ())
            .map_err(|e| match e.sqlite_error_code() {
                Some(code) => NotReady::new(format!("the SQLite store cannot be read: {code:?}")),
                None => NotReady::new("the SQLite store cannot be read"),
            })
    }

    /// A free reader, or the next one in turn.
    fn reader(&self) -> MutexGuard<'_, Connection> {
        for r in &self.readers {
            if let Ok(g) = r.try_lock() {
                return g;
            }
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.readers.len().max(1);
        match self.readers.get(i) {
            Some(r) => lock(r),
            None => lock(&self.writer),
        }
    }

    fn write<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        f(&mut lock(&self.writer)).map_err(backend)
    }
}

#[cfg(unix)]
fn restrict_permissions(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
}

#[cfg(not(unix))]
fn restrict_permissions(_: &Path) {}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(backend)?;
    let current: i64 = tx
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(backend)?;
    let current = usize::try_from(current).unwrap_or(usize::MAX);
    if current > MIGRATIONS.len() {
        return Err(StoreError::Backend(format!(
            "the database schema (version {current}) is newer than this build (version {})",
            MIGRATIONS.len()
        )));
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip(current) {
        tx.execute_batch(step).map_err(backend)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))
            .map_err(backend)?;
    }
    tx.commit().map_err(backend)
}

impl KeyRow {
    fn read(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(KeyRow {
            id: r.get(0)?,
            name: r.get(1)?,
            description: r.get(2)?,
            role: r.get(3)?,
            digest: r.get(4)?,
            key_prefix: r.get(5)?,
            workspaces: r.get(6)?,
            created_by: r.get(7)?,
            created_at: r.get(8)?,
            last_used_at: r.get(9)?,
            revoked_at: r.get(10)?,
            surfaces: r.get(11)?,
            attribution: r.get(12)?,
            scopes: r.get(13)?,
            expires_at: r.get(14)?,
            rotated_at: r.get(15)?,
            previous_expires_at: r.get(16)?,
        })
    }
}

impl ApiKeyStore for SqliteStore {
    fn insert(&self, stored: StoredApiKey) -> BoxFuture<'_, Result<(), StoreError>> {
        let k = &stored.key;
        let (workspaces, surfaces, attribution, scopes) = match encode_key(k) {
            Ok(v) => v,
            Err(e) => return ready(Err(e)),
        };
        let out = self.write(|c| {
            c.execute(
                &format!(
                    "INSERT INTO api_keys ({KEY_COLUMNS}) VALUES \
                     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
                ),
                params![
                    k.id,
                    k.name,
                    k.description,
                    k.role,
                    stored.digest.as_bytes().as_slice(),
                    k.key_prefix,
                    workspaces,
                    k.created_by,
                    to_i64(k.created_at),
                    k.last_used_at.map(to_i64),
                    k.revoked_at.map(to_i64),
                    surfaces,
                    attribution,
                    scopes,
                    k.expires_at.map(to_i64),
                    k.rotated_at.map(to_i64),
                    k.previous_secret_expires_at.map(to_i64),
                ],
            )
            .map(|_| ())
        });
        ready(out)
    }

    fn find_by_digest<'a>(
        &'a self,
        digest: &'a KeyDigest,
    ) -> BoxFuture<'a, Result<Option<StoredApiKey>, StoreError>> {
        let row = {
            let c = self.reader();
            c.prepare_cached(&format!(
                "SELECT {KEY_COLUMNS} FROM api_keys WHERE digest = ?1"
            ))
            .and_then(|mut s| {
                s.query_row([digest.as_bytes().as_slice()], KeyRow::read)
                    .optional()
            })
            .map_err(backend)
        };
        ready(row.and_then(|r| r.map(KeyRow::parse).transpose()))
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<ApiKey>, StoreError>> {
        let row = {
            let c = self.reader();
            c.prepare_cached(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = ?1"))
                .and_then(|mut s| s.query_row([id], KeyRow::read).optional())
                .map_err(backend)
        };
        ready(row.and_then(|r| r.map(|r| r.parse().map(|s| s.key)).transpose()))
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<ApiKey>, StoreError>> {
        let rows = {
            let c = self.reader();
            c.prepare_cached(&format!(
                "SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at, rowid"
            ))
            .and_then(|mut s| {
                s.query_map([], KeyRow::read)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(backend)
        };
        ready(rows.and_then(|rows| rows.into_iter().map(|r| r.parse().map(|s| s.key)).collect()))
    }

    fn revoke<'a>(&'a self, id: &'a str, at: u64) -> BoxFuture<'a, Result<bool, StoreError>> {
        ready(self.write(|c| {
            let n = c.execute(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
                params![id, to_i64(at)],
            )?;
            Ok(n > 0)
        }))
    }

    fn replace_secret<'a>(
        &'a self,
        id: &'a str,
        digest: KeyDigest,
        key_prefix: &'a str,
        at: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        ready(self.write(|c| {
            let n = c.execute(
                "UPDATE api_keys SET digest = ?2, key_prefix = ?3, rotated_at = ?4, \
                 previous_digest = NULL, previous_expires_at = NULL WHERE id = ?1",
                params![id, digest.as_bytes().as_slice(), key_prefix, to_i64(at)],
            )?;
            Ok(n > 0)
        }))
    }

    fn replace_secret_with_grace<'a>(
        &'a self,
        id: &'a str,
        digest: KeyDigest,
        key_prefix: &'a str,
        at: u64,
        previous_until: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        // The right-hand sides read the row as it was: the current digest becomes the previous.
        ready(self.write(|c| {
            let n = c.execute(
                "UPDATE api_keys SET previous_digest = digest, previous_expires_at = ?5, \
                 digest = ?2, key_prefix = ?3, rotated_at = ?4 WHERE id = ?1",
                params![
                    id,
                    digest.as_bytes().as_slice(),
                    key_prefix,
                    to_i64(at),
                    to_i64(previous_until)
                ],
            )?;
            Ok(n > 0)
        }))
    }

    fn find_by_previous_digest<'a>(
        &'a self,
        digest: &'a KeyDigest,
    ) -> BoxFuture<'a, Result<Option<StoredApiKey>, StoreError>> {
        let row = {
            let c = self.reader();
            c.prepare_cached(&format!(
                "SELECT {PREVIOUS_KEY_COLUMNS} FROM api_keys WHERE previous_digest = ?1"
            ))
            .and_then(|mut s| {
                s.query_row([digest.as_bytes().as_slice()], KeyRow::read)
                    .optional()
            })
            .map_err(backend)
        };
        ready(row.and_then(|r| r.map(KeyRow::parse).transpose()))
    }

    fn touch<'a>(&'a self, id: &'a str, at: u64) -> BoxFuture<'a, Result<(), StoreError>> {
        ready(self.write(|c| {
            c.prepare_cached(
                "UPDATE api_keys SET last_used_at = MAX(COALESCE(last_used_at, 0), ?2) \
                 WHERE id = ?1",
            )?
            .execute(params![id, to_i64(at)])
            .map(|_| ())
        }))
    }

    /// A trivial read of the keys table on a reader connection.
    fn readiness(&self) -> BoxFuture<'_, Result<(), NotReady>> {
        ready(self.probe("api_keys"))
    }
}

fn user_row(r: &Row<'_>) -> rusqlite::Result<UserRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

const USER_COLUMNS: &str = "name, role, workspaces, disabled, password_hash, created_at";

impl UserStore for SqliteStore {
    fn get_user<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<User>, StoreError>> {
        let row = {
            let c = self.reader();
            c.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?1"))
                .and_then(|mut s| s.query_row([name], user_row).optional())
                .map_err(backend)
        };
        ready(row.and_then(|r| r.map(parse_user).transpose()))
    }

    fn put_user(&self, user: User) -> BoxFuture<'_, Result<(), StoreError>> {
        let workspaces = match to_json(&user.workspaces) {
            Ok(w) => w,
            Err(e) => return ready(Err(e)),
        };
        ready(self.write(|c| {
            c.execute(
                &format!(
                    "INSERT INTO users ({USER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                     ON CONFLICT(name) DO UPDATE SET role = excluded.role, \
                     workspaces = excluded.workspaces, disabled = excluded.disabled, \
                     password_hash = excluded.password_hash"
                ),
                params![
                    user.name,
                    user.role,
                    workspaces,
                    user.disabled,
                    user.password_hash,
                    to_i64(user.created_at)
                ],
            )
            .map(|_| ())
        }))
    }

    fn set_user_disabled<'a>(
        &'a self,
        name: &'a str,
        disabled: bool,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        ready(self.write(|c| {
            let n = c.execute(
                "UPDATE users SET disabled = ?2 WHERE name = ?1",
                params![name, disabled],
            )?;
            Ok(n > 0)
        }))
    }

    fn list_users(&self) -> BoxFuture<'_, Result<Vec<User>, StoreError>> {
        let rows = {
            let c = self.reader();
            c.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"))
                .and_then(|mut s| {
                    s.query_map([], user_row)?
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .map_err(backend)
        };
        ready(rows.and_then(|rows| rows.into_iter().map(parse_user).collect()))
    }

    /// A trivial read of the users table on a reader connection.
    fn readiness(&self) -> BoxFuture<'_, Result<(), NotReady>> {
        ready(self.probe("users"))
    }
}
