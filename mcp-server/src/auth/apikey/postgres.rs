//! [`PostgresStore`]: API keys and users in PostgreSQL (feature `postgres`), for several
//! instances of a server sharing one database: the same records and the same behaviour as
//! [`SqliteStore`](super::SqliteStore), on a pool of connections with every operation bounded
//! in time.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use tokio_postgres::error::SqlState;
use tokio_postgres::{NoTls, Row};

use super::model::{ApiKey, StoredApiKey};
use super::rows::{KeyRow, UserRow, encode_key, parse_user, to_i64, to_json};
use super::secret::KeyDigest;
use super::store::{ApiKeyStore, StoreError};
use crate::BoxFuture;
use crate::auth::users::{User, UserStore};
use crate::store::NotReady;

/// The schema, one migration per version, versioned in the repository
/// (`mcp-server/migrations/postgres/`). A database records the versions it has
/// (`mcp_schema_migrations`) and gets the missing ones when a store connects, in one
/// transaction under an advisory lock (instances starting together migrate once). Never edit a
/// published step, add one.
const MIGRATIONS: &[(u32, &str, &str)] = &[
    (
        1,
        "api_keys_and_users",
        include_str!("../../../migrations/postgres/0001_api_keys_and_users.sql"),
    ),
    (
        2,
        "audit_events",
        include_str!("../../../migrations/postgres/0002_audit_events.sql"),
    ),
    (
        3,
        "api_key_rotation_grace",
        include_str!("../../../migrations/postgres/0003_api_key_rotation_grace.sql"),
    ),
];

/// The advisory lock the migrations run under (any constant: "mcp-migr").
const MIGRATION_LOCK: i64 = 0x6d63_702d_6d69_6772;

/// How long connecting (and migrating) may take at most.
const MIGRATION_TIMEOUT: Duration = Duration::from_secs(60);

const KEY_COLUMNS: &str = "id, name, description, role, digest, key_prefix, workspaces, \
    created_by, created_at, last_used_at, revoked_at, surfaces, attribution, scopes, \
    expires_at, rotated_at, previous_expires_at";

/// The same columns with the previous digest in the digest's place (lookups of a previous
/// secret).
const PREVIOUS_KEY_COLUMNS: &str = "id, name, description, role, previous_digest, key_prefix, \
    workspaces, created_by, created_at, last_used_at, revoked_at, surfaces, attribution, scopes, \
    expires_at, rotated_at, previous_expires_at";

const USER_COLUMNS: &str = "name, role, workspaces, disabled, password_hash, created_at";

/// Where and how [`PostgresStore`] connects: the database URL, an optional schema, the pool's
/// size and the time bounds of every operation.
///
/// The URL (`postgres://user:password@host:port/database`, or the `key=value` form) may hold
/// a password: it is never logged, shown by `Debug` or repeated in an error. There is no TLS:
/// use a database on loopback or on a private network.
#[derive(Clone)]
pub struct PostgresOptions {
    url: String,
    schema: Option<String>,
    max_connections: usize,
    acquire_timeout: Duration,
    statement_timeout: Duration,
}

impl fmt::Debug for PostgresOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresOptions")
            .field("url", &"<redacted>")
            .field("schema", &self.schema)
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .finish()
    }
}

impl PostgresOptions {
    /// The default pool size: 16 connections.
    pub const DEFAULT_MAX_CONNECTIONS: usize = 16;
    /// The default bound on getting a connection (a free one, or a new one opened): 2 s.
    pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);
    /// The default bound on one statement, enforced by the server (`statement_timeout`) and by
    /// the client (a connection that does not answer is dropped): 2 s.
    pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(2);

    /// Connects to `url`, in the schema the URL's user gets by default (`public`), with the
    /// default pool size and timeouts.
    pub fn new(url: impl Into<String>) -> Self {
        PostgresOptions {
            url: url.into(),
            schema: None,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            acquire_timeout: Self::DEFAULT_ACQUIRE_TIMEOUT,
            statement_timeout: Self::DEFAULT_STATEMENT_TIMEOUT,
        }
    }

    /// Keeps the tables in `schema` (created if needed): 1 to 63 characters of `a-z 0-9 _`,
    /// not starting with a digit. Several deployments (or tests) can share one database this
    /// way.
    #[must_use]
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// The most connections the pool opens (at least 1).
    #[must_use]
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// How long an operation waits for a connection (a free one, or a new one opened) before
    /// it fails with [`StoreError::Backend`] (the request answers 503).
    #[must_use]
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How long one statement may run before it fails with [`StoreError::Backend`] (the request
    /// answers 503): the server cancels it (`statement_timeout`) and the client drops a
    /// connection that does not answer in time.
    #[must_use]
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The longest an operation takes before it fails: the acquire bound plus the statement
    /// bound (a few statements for a transaction).
    pub fn operation_bound(&self) -> Duration {
        self.acquire_timeout.saturating_add(self.statement_timeout)
    }
}

fn valid_schema(s: &str) -> bool {
    (1..=63).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !s.as_bytes().first().is_some_and(u8::is_ascii_digit)
}

/// API keys and users in PostgreSQL.
///
/// A pool of connections (plain TCP, no TLS: loopback or a private network); every operation
/// is one statement, bounded by the pool's acquire timeout and a statement timeout, so a
/// database that does not answer fails the requests that need it with
/// [`StoreError::Backend`] (503 with `Retry-After`, never "allowed") instead of hanging them;
/// broken connections are replaced as the database comes back, without a restart. Lookups by
/// digest use the `UNIQUE` index on `digest`. Nothing caches a lookup: a key revoked through
/// one instance is refused by every other from its next request on.
///
/// [`connect`](Self::connect) applies the versioned migrations
/// (`mcp-server/migrations/postgres/`) as needed; a database written by a newer version is
/// refused. The URL may hold a password: it is never logged nor repeated in errors.
///
/// ```no_run
/// use mcp_server::auth::{
///     ApiKeys, AuthorizationConfig, NewApiKey, PostgresAuditSink, PostgresStore, Surface,
/// };
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let url = std::env::var("MCP_DATABASE_URL")?; // postgres://mcp:secret@10.0.0.5/mcp
/// let store = PostgresStore::connect(&url).await?;
/// let audit = PostgresAuditSink::new(&store)?;
/// let keys = ApiKeys::new(store);
/// let created = keys.create(NewApiKey::new("ci", "operator").surface(Surface::Mcp)).await?;
/// println!("{}", created.secret.expose()); // shown once
/// let server = mcp_server::McpServer::builder("workflows")
///     .authorization(AuthorizationConfig::builtin(keys).audit(audit))
///     .build()?;
/// # let _ = server;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    schema: Option<String>,
    statement_timeout: Duration,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("schema", &self.schema)
            .field("max_connections", &self.pool.status().max_size)
            .finish_non_exhaustive()
    }
}

/// A driver error as a [`StoreError`]: a unique violation is a conflict; anything else names
/// the SQLSTATE and the server's message, or the kind of failure, never the URL.
pub(crate) fn pg_error(e: &tokio_postgres::Error) -> StoreError {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        return StoreError::Conflict("a key with this name, id or digest exists".into());
    }
    if let Some(db) = e.as_db_error() {
        return StoreError::Backend(format!(
            "PostgreSQL error {}: {}",
            db.code().code(),
            db.message()
        ));
    }
    if e.is_closed() {
        return StoreError::Backend("the PostgreSQL connection is closed".into());
    }
    // The driver's own errors (I/O, protocol) and their causes name the failure, not the
    // configuration.
    match std::error::Error::source(e) {
        Some(cause) => StoreError::Backend(format!("PostgreSQL is unreachable: {e}: {cause}")),
        None => StoreError::Backend(format!("PostgreSQL is unreachable: {e}")),
    }
}

fn pool_error(e: PoolError, acquire: Duration) -> StoreError {
    match e {
        PoolError::Timeout(_) => StoreError::Backend(format!(
            "no PostgreSQL connection within {} ms",
            acquire.as_millis()
        )),
        PoolError::Backend(e) => pg_error(&e),
        PoolError::Closed => StoreError::Backend("the PostgreSQL pool is closed".into()),
        _ => StoreError::Backend("the PostgreSQL pool failed".into()),
    }
}

/// Runs `$body` (with `$c`, a pooled client) within the statement timeout; a connection that
/// timed out or broke is dropped rather than given back to the pool.
macro_rules! bounded {
    ($self:ident, |$c:ident| $body:expr) => {{
        let obj = $self.client().await?;
        let out = tokio::time::timeout($self.statement_timeout, async {
            let $c: &deadpool_postgres::ClientWrapper = &obj;
            $body
        })
        .await;
        $self.settle(obj, out)
    }};
}

impl PostgresStore {
    /// Connects to `url` with the default [`PostgresOptions`] and brings the schema up to
    /// date.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(PostgresOptions::new(url)).await
    }

    /// Connects as `options` say and brings the schema up to date (creating the schema first
    /// when one is named). Fails when the database cannot be reached within the acquire
    /// timeout, or is at a newer schema version than this build.
    pub async fn connect_with(options: PostgresOptions) -> Result<Self, StoreError> {
        if let Some(s) = &options.schema {
            if !valid_schema(s) {
                return Err(StoreError::Backend(format!(
                    "invalid schema name {s:?}: use 1 to 63 characters of a-z 0-9 _"
                )));
            }
        }
        // The parser's message could quote the URL: it is not repeated.
        let mut config = tokio_postgres::Config::from_str(&options.url)
            .map_err(|_| StoreError::Backend("the PostgreSQL URL is invalid".into()))?;
        let mut server_options = config.get_options().unwrap_or("").to_owned();
        let ms = options.statement_timeout.as_millis().max(1);
        server_options.push_str(&format!(" -c statement_timeout={ms}"));
        if let Some(s) = &options.schema {
            server_options.push_str(&format!(" -c search_path={s}"));
        }
        config.options(server_options.trim());
        config.connect_timeout(options.acquire_timeout);
        if config.get_application_name().is_none() {
            config.application_name("mcp-server");
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.max_connections)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.acquire_timeout))
            .create_timeout(Some(options.acquire_timeout))
            .recycle_timeout(Some(options.acquire_timeout))
            .build()
            .map_err(|_| StoreError::Backend("the PostgreSQL pool cannot be built".into()))?;
        let store = PostgresStore {
            pool,
            schema: options.schema,
            statement_timeout: options.statement_timeout,
        };
        tokio::time::timeout(MIGRATION_TIMEOUT, store.migrate())
            .await
            .map_err(|_| {
                StoreError::Backend(format!(
                    "the PostgreSQL migrations did not finish within {} s",
                    MIGRATION_TIMEOUT.as_secs()
                ))
            })??;
        Ok(store)
    }

    /// The schema the tables are in, when one was named.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// The schema version this build writes.
    pub fn latest_schema_version() -> u32 {
        MIGRATIONS.last().map_or(0, |m| m.0)
    }

    /// The schema version the database is at.
    pub async fn schema_version(&self) -> Result<u32, StoreError> {
        let v: i32 = bounded!(self, |c| {
            c.query_one(
                "SELECT COALESCE(MAX(version), 0) FROM mcp_schema_migrations",
                &[],
            )
            .await
            .and_then(|r| r.try_get(0))
        })?;
        Ok(u32::try_from(v).unwrap_or(0))
    }

    /// The pool, shared with [`PostgresAuditSink`](crate::auth::PostgresAuditSink).
    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The statement bound.
    pub(crate) fn statement_timeout(&self) -> Duration {
        self.statement_timeout
    }

    async fn client(&self) -> Result<Object, StoreError> {
        let acquire = self.pool.timeouts().wait.unwrap_or_default();
        self.pool.get().await.map_err(|e| pool_error(e, acquire))
    }

    fn settle<T>(
        &self,
        obj: Object,
        out: Result<Result<T, tokio_postgres::Error>, tokio::time::error::Elapsed>,
    ) -> Result<T, StoreError> {
        match out {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                if e.as_db_error().is_none() {
                    drop(Object::take(obj));
                }
                Err(pg_error(&e))
            }
            Err(_) => {
                drop(Object::take(obj));
                Err(StoreError::Backend(format!(
                    "PostgreSQL did not answer within {} ms",
                    self.statement_timeout.as_millis()
                )))
            }
        }
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut obj = self.client().await?;
        let out = migrate_on(&mut obj, self.schema.as_deref()).await;
        match out {
            Ok(()) => Ok(()),
            Err(Migration::Newer(v)) => Err(StoreError::Backend(format!(
                "the database schema (version {v}) is newer than this build (version {})",
                Self::latest_schema_version()
            ))),
            Err(Migration::Pg(e)) => {
                drop(Object::take(obj));
                Err(pg_error(&e))
            }
        }
    }

    /// Whether the database answers a trivial query within the timeouts. The reason names the
    /// failure only, never the URL.
    async fn probe(&self) -> Result<(), NotReady> {
        let out: Result<(), StoreError> =
            async { bounded!(self, |c| c.simple_query("SELECT 1").await.map(|_| ())) }.await;
        out.map_err(|e| match e {
            StoreError::Backend(why)
            | StoreError::Corrupt(why)
            | StoreError::Conflict(why)
            | StoreError::Unsupported(why) => {
                NotReady::new(format!("the PostgreSQL store cannot be read: {why}"))
            }
        })
    }

    async fn find_key(
        &self,
        column: &'static str,
        value: &(dyn tokio_postgres::types::ToSql + Sync),
    ) -> Result<Option<StoredApiKey>, StoreError> {
        let columns = if column == "previous_digest" {
            PREVIOUS_KEY_COLUMNS
        } else {
            KEY_COLUMNS
        };
        let sql = format!("SELECT {columns} FROM api_keys WHERE {column} = $1");
        let row = bounded!(self, |c| {
            let st = c.prepare_cached(&sql).await?;
            c.query_opt(&st, &[value]).await
        })?;
        row.map(|r| key_row(&r).and_then(KeyRow::parse)).transpose()
    }
}

enum Migration {
    Newer(i64),
    Pg(tokio_postgres::Error),
}

impl From<tokio_postgres::Error> for Migration {
    fn from(e: tokio_postgres::Error) -> Self {
        Migration::Pg(e)
    }
}

async fn migrate_on(obj: &mut Object, schema: Option<&str>) -> Result<(), Migration> {
    let tx = obj.transaction().await?;
    tx.batch_execute(&format!(
        "SET LOCAL statement_timeout = {}",
        MIGRATION_TIMEOUT.as_millis()
    ))
    .await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    if let Some(s) = schema {
        // `s` is checked: lowercase letters, digits and `_` only.
        tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{s}\""))
            .await?;
    }
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS mcp_schema_migrations (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            applied_at BIGINT NOT NULL
        )",
    )
    .await?;
    let current: i32 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM mcp_schema_migrations",
            &[],
        )
        .await?
        .try_get(0)?;
    let latest = MIGRATIONS.last().map_or(0, |m| m.0);
    if i64::from(current) > i64::from(latest) {
        return Err(Migration::Newer(i64::from(current)));
    }
    let now = to_i64(crate::clock::now_secs());
    for (version, name, sql) in MIGRATIONS {
        let v = i32::try_from(*version).unwrap_or(i32::MAX);
        if v <= current {
            continue;
        }
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO mcp_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            &[&v, name, &now],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

fn corrupt(e: &tokio_postgres::Error) -> StoreError {
    StoreError::Corrupt(format!("a row cannot be read: {e}"))
}

fn key_row(r: &Row) -> Result<KeyRow, StoreError> {
    let get = |e: tokio_postgres::Error| corrupt(&e);
    Ok(KeyRow {
        id: r.try_get(0).map_err(get)?,
        name: r.try_get(1).map_err(get)?,
        description: r.try_get(2).map_err(get)?,
        role: r.try_get(3).map_err(get)?,
        digest: r.try_get(4).map_err(get)?,
        key_prefix: r.try_get(5).map_err(get)?,
        workspaces: r.try_get(6).map_err(get)?,
        created_by: r.try_get(7).map_err(get)?,
        created_at: r.try_get(8).map_err(get)?,
        last_used_at: r.try_get(9).map_err(get)?,
        revoked_at: r.try_get(10).map_err(get)?,
        surfaces: r.try_get(11).map_err(get)?,
        attribution: r.try_get(12).map_err(get)?,
        scopes: r.try_get(13).map_err(get)?,
        expires_at: r.try_get(14).map_err(get)?,
        rotated_at: r.try_get(15).map_err(get)?,
        previous_expires_at: r.try_get(16).map_err(get)?,
    })
}

fn user_row(r: &Row) -> Result<UserRow, StoreError> {
    let get = |e: tokio_postgres::Error| corrupt(&e);
    Ok((
        r.try_get(0).map_err(get)?,
        r.try_get(1).map_err(get)?,
        r.try_get(2).map_err(get)?,
        r.try_get(3).map_err(get)?,
        r.try_get(4).map_err(get)?,
        r.try_get(5).map_err(get)?,
    ))
}

impl ApiKeyStore for PostgresStore {
    fn insert(&self, stored: StoredApiKey) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let k = &stored.key;
            let (workspaces, surfaces, attribution, scopes) = encode_key(k)?;
            let digest: &[u8] = stored.digest.as_bytes().as_slice();
            let created_at = to_i64(k.created_at);
            let last_used_at = k.last_used_at.map(to_i64);
            let revoked_at = k.revoked_at.map(to_i64);
            let expires_at = k.expires_at.map(to_i64);
            let rotated_at = k.rotated_at.map(to_i64);
            let previous_expires_at = k.previous_secret_expires_at.map(to_i64);
            let sql = format!(
                "INSERT INTO api_keys ({KEY_COLUMNS}) VALUES \
                 ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
            );
            bounded!(self, |c| {
                let st = c.prepare_cached(&sql).await?;
                c.execute(
                    &st,
                    &[
                        &k.id,
                        &k.name,
                        &k.description,
                        &k.role,
                        &digest,
                        &k.key_prefix,
                        &workspaces,
                        &k.created_by,
                        &created_at,
                        &last_used_at,
                        &revoked_at,
                        &surfaces,
                        &attribution,
                        &scopes,
                        &expires_at,
                        &rotated_at,
                        &previous_expires_at,
                    ],
                )
                .await
                .map(|_| ())
            })
        })
    }

    fn find_by_digest<'a>(
        &'a self,
        digest: &'a KeyDigest,
    ) -> BoxFuture<'a, Result<Option<StoredApiKey>, StoreError>> {
        Box::pin(async move {
            let bytes: &[u8] = digest.as_bytes().as_slice();
            self.find_key("digest", &bytes).await
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<ApiKey>, StoreError>> {
        Box::pin(async move { Ok(self.find_key("id", &id).await?.map(|s| s.key)) })
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<ApiKey>, StoreError>> {
        Box::pin(async move {
            let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at, seq");
            let rows = bounded!(self, |c| {
                let st = c.prepare_cached(&sql).await?;
                c.query(&st, &[]).await
            })?;
            rows.iter()
                .map(|r| key_row(r).and_then(KeyRow::parse).map(|s| s.key))
                .collect()
        })
    }

    fn revoke<'a>(&'a self, id: &'a str, at: u64) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let at = to_i64(at);
            let n = bounded!(self, |c| {
                let st = c
                    .prepare_cached(
                        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1",
                    )
                    .await?;
                c.execute(&st, &[&id, &at]).await
            })?;
            Ok(n > 0)
        })
    }

    fn replace_secret<'a>(
        &'a self,
        id: &'a str,
        digest: KeyDigest,
        key_prefix: &'a str,
        at: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let at = to_i64(at);
            let bytes: &[u8] = digest.as_bytes().as_slice();
            let n = bounded!(self, |c| {
                let st = c
                    .prepare_cached(
                        "UPDATE api_keys SET digest = $2, key_prefix = $3, rotated_at = $4, \
                         previous_digest = NULL, previous_expires_at = NULL WHERE id = $1",
                    )
                    .await?;
                c.execute(&st, &[&id, &bytes, &key_prefix, &at]).await
            })?;
            Ok(n > 0)
        })
    }

    fn replace_secret_with_grace<'a>(
        &'a self,
        id: &'a str,
        digest: KeyDigest,
        key_prefix: &'a str,
        at: u64,
        previous_until: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let at = to_i64(at);
            let until = to_i64(previous_until);
            let bytes: &[u8] = digest.as_bytes().as_slice();
            // The right-hand sides read the row as it was: the current digest becomes the
            // previous one.
            let n = bounded!(self, |c| {
                let st = c
                    .prepare_cached(
                        "UPDATE api_keys SET previous_digest = digest, previous_expires_at = $5, \
                         digest = $2, key_prefix = $3, rotated_at = $4 WHERE id = $1",
                    )
                    .await?;
                c.execute(&st, &[&id, &bytes, &key_prefix, &at, &until])
                    .await
            })?;
            Ok(n > 0)
        })
    }

    fn find_by_previous_digest<'a>(
        &'a self,
        digest: &'a KeyDigest,
    ) -> BoxFuture<'a, Result<Option<StoredApiKey>, StoreError>> {
        Box::pin(async move {
            let bytes: &[u8] = digest.as_bytes().as_slice();
            self.find_key("previous_digest", &bytes).await
        })
    }

    fn touch<'a>(&'a self, id: &'a str, at: u64) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let at = to_i64(at);
            bounded!(self, |c| {
                let st = c
                    .prepare_cached(
                        "UPDATE api_keys SET last_used_at = GREATEST(COALESCE(last_used_at, 0), $2) \
                         WHERE id = $1",
                    )
                    .await?;
                c.execute(&st, &[&id, &at]).await.map(|_| ())
            })
        })
    }

    /// `SELECT 1` on a pooled connection, within the acquire and statement timeouts.
    fn readiness(&self) -> BoxFuture<'_, Result<(), NotReady>> {
        Box::pin(self.probe())
    }
}

impl UserStore for PostgresStore {
    fn get_user<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<User>, StoreError>> {
        Box::pin(async move {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE name = $1");
            let row = bounded!(self, |c| {
                let st = c.prepare_cached(&sql).await?;
                c.query_opt(&st, &[&name]).await
            })?;
            row.map(|r| user_row(&r).and_then(parse_user)).transpose()
        })
    }

    fn put_user(&self, user: User) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let workspaces = to_json(&user.workspaces)?;
            let created_at = to_i64(user.created_at);
            let sql = format!(
                "INSERT INTO users ({USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (name) DO UPDATE SET role = excluded.role, \
                 workspaces = excluded.workspaces, disabled = excluded.disabled, \
                 password_hash = excluded.password_hash"
            );
            bounded!(self, |c| {
                let st = c.prepare_cached(&sql).await?;
                c.execute(
                    &st,
                    &[
                        &user.name,
                        &user.role,
                        &workspaces,
                        &user.disabled,
                        &user.password_hash,
                        &created_at,
                    ],
                )
                .await
                .map(|_| ())
            })
        })
    }

    fn set_user_disabled<'a>(
        &'a self,
        name: &'a str,
        disabled: bool,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let n = bounded!(self, |c| {
                let st = c
                    .prepare_cached("UPDATE users SET disabled = $2 WHERE name = $1")
                    .await?;
                c.execute(&st, &[&name, &disabled]).await
            })?;
            Ok(n > 0)
        })
    }

    fn list_users(&self) -> BoxFuture<'_, Result<Vec<User>, StoreError>> {
        Box::pin(async move {
            let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY name");
            let rows = bounded!(self, |c| {
                let st = c.prepare_cached(&sql).await?;
                c.query(&st, &[]).await
            })?;
            rows.iter()
                .map(|r| user_row(r).and_then(parse_user))
                .collect()
        })
    }

    /// `SELECT 1` on a pooled connection, within the acquire and statement timeouts.
    fn readiness(&self) -> BoxFuture<'_, Result<(), NotReady>> {
        Box::pin(self.probe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_checked() {
        assert!(valid_schema("mcp_test_1"));
        assert!(!valid_schema("1abc"));
        assert!(!valid_schema("a\"; DROP"));
        assert!(!valid_schema(""));
        assert!(!valid_schema("Upper"));
    }

    #[test]
    fn debug_never_shows_the_url() {
        let o = PostgresOptions::new("postgres://mcp:hunter2@db/mcp");
        assert!(!format!("{o:?}").contains("hunter2"));
    }

    #[tokio::test]
    async fn an_invalid_url_is_not_repeated() {
        let e = PostgresStore::connect("postgres://mcp:hunter2@db:notaport/mcp")
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("invalid"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn migrations_are_numbered_in_order() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.0 as usize, i + 1);
        }
        assert_eq!(PostgresStore::latest_schema_version(), 3);
    }
}
