//! The PostgreSQL backend of the built-in credentials (feature `postgres`): the store contract
//! every key and user store passes (run here on the memory, SQLite and PostgreSQL stores), two
//! instances sharing one database (a key created through one is accepted by the other, and a
//! revocation through one is refused by the other from its next request on), a database that
//! stops answering (503 with `Retry-After`, never 401 or 200, and recovery without a restart),
//! the audit trail in `audit_events`, and idempotent migrations.
//!
//! Needs a PostgreSQL server: set `MCP_TEST_DATABASE_URL` (for example
//! `postgres://postgres@127.0.0.1:5432/postgres`). Without it each PostgreSQL test says so and
//! passes without checking anything, except under `CI`, where it fails; `.ci/run` starts a
//! PostgreSQL on loopback and sets it. Every test works in a schema of its own.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use mcp_server::auth::{
    ApiKeyStore, ApiKeys, AuditAction, AuthorizationConfig, KeyDigest, MemoryStore, NewApiKey,
    PostgresAuditSink, PostgresOptions, PostgresStore, SqliteStore, StoreError, StoredApiKey,
    Surface, User, UserStore, WorkspaceAccess,
};
use mcp_server::testing::{TestServer, spawn};
use mcp_server::{Context, McpServer, NoArgs, ToolDef};
use mcp_tests::{JSON_AND_SSE, RawResponse, database_schema, database_url, send};
use reqwest::Method;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};

// ---------------------------------------------------------------------------------------------
// The store contract, the same for every store.

/// A key record as `ApiKeys::create` would store it.
async fn stored(keys: &ApiKeys, name: &str) -> (StoredApiKey, String) {
    // Created through the service on a scratch store, so that the record is a real one.
    let created = keys
        .create(NewApiKey::new(name, "operator").surface(Surface::Mcp))
        .await
        .unwrap();
    let digest = KeyDigest::of(created.secret.expose());
    (
        StoredApiKey {
            key: created.key,
            digest,
        },
        created.secret.expose().to_owned(),
    )
}

/// What every `ApiKeyStore + UserStore` does, on an empty store.
async fn store_contract<S: ApiKeyStore + UserStore>(store: S) {
    let scratch = ApiKeys::in_memory();
    assert!(ApiKeyStore::readiness(&store).await.is_ok());
    assert!(UserStore::readiness(&store).await.is_ok());
    assert!(store.list().await.unwrap().is_empty());

    // insert, find by digest, get; every field comes back.
    let (mut a, secret_a) = stored(&scratch, "alpha").await;
    a.key.description = Some("first".into());
    a.key.scopes = ["read".to_owned(), "write".to_owned()]
        .into_iter()
        .collect();
    a.key.workspaces = WorkspaceAccess::Grants(vec![mcp_server::auth::WorkspaceGrant {
        workspace: "ops".into(),
        role: "operator".into(),
    }]);
    a.key.expires_at = Some(a.key.created_at + 3600);
    a.key.created_by = Some("admin".into());
    store.insert(a.clone()).await.unwrap();
    let found = store
        .find_by_digest(&KeyDigest::of(&secret_a))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, a);
    assert_eq!(store.get(&a.key.id).await.unwrap(), Some(a.key.clone()));
    assert_eq!(store.get("no-such-id").await.unwrap(), None);
    assert_eq!(
        store
            .find_by_digest(&KeyDigest::of("mcp_nothing"))
            .await
            .unwrap(),
        None
    );

    // Conflicts: the same name, id or digest.
    let (mut dup, _) = stored(&scratch, "alpha-dup").await;
    dup.key.name = "alpha".into();
    assert!(matches!(
        store.insert(dup).await,
        Err(StoreError::Conflict(_))
    ));
    let (mut dup, _) = stored(&scratch, "alpha-digest").await;
    dup.digest = a.digest;
    assert!(matches!(
        store.insert(dup).await,
        Err(StoreError::Conflict(_))
    ));

    // list: oldest first, creation order within a second.
    let (b, secret_b) = stored(&scratch, "beta").await;
    let (c, _) = stored(&scratch, "gamma").await;
    store.insert(b.clone()).await.unwrap();
    store.insert(c.clone()).await.unwrap();
    let names: Vec<String> = store
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.name)
        .collect();
    assert_eq!(names, ["alpha", "beta", "gamma"]);

    // touch: the later of the two times wins.
    store.touch(&b.key.id, 1_000).await.unwrap();
    store.touch(&b.key.id, 500).await.unwrap();
    assert_eq!(
        store.get(&b.key.id).await.unwrap().unwrap().last_used_at,
        Some(1_000)
    );
    store.touch("no-such-id", 1).await.unwrap();

    // revoke: the first time stays; a use never undoes it; unknown ids say so.
    assert!(store.revoke(&b.key.id, 2_000).await.unwrap());
    assert!(store.revoke(&b.key.id, 3_000).await.unwrap());
    store.touch(&b.key.id, 4_000).await.unwrap();
    let revoked = store.get(&b.key.id).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(2_000));
    assert_eq!(revoked.last_used_at, Some(4_000));
    assert!(!store.revoke("no-such-id", 1).await.unwrap());

    // replace_secret (rotation): the old digest is gone, the new one finds the key.
    let new_digest = KeyDigest::of("mcp_rotated-secret-value");
    assert!(
        store
            .replace_secret(&b.key.id, new_digest, "mcp_rota", 5_000)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .find_by_digest(&KeyDigest::of(&secret_b))
            .await
            .unwrap(),
        None
    );
    let rotated = store.find_by_digest(&new_digest).await.unwrap().unwrap();
    assert_eq!(rotated.key.id, b.key.id);
    assert_eq!(rotated.key.key_prefix, "mcp_rota");
    assert_eq!(rotated.key.rotated_at, Some(5_000));
    assert_eq!(rotated.key.revoked_at, Some(2_000));
    assert!(
        !store
            .replace_secret("no-such-id", KeyDigest::of("mcp_unused"), "x", 1)
            .await
            .unwrap()
    );

    // replace_secret_with_grace: the current digest is kept as the previous one (found by
    // find_by_previous_digest, with the grace's end on the record); one previous digest at most;
    // a plain replace_secret drops it.
    let graced = KeyDigest::of("mcp_graced-secret-value");
    assert!(
        store
            .replace_secret_with_grace(&b.key.id, graced, "mcp_grac", 6_000, 9_000)
            .await
            .unwrap()
    );
    let current = store.find_by_digest(&graced).await.unwrap().unwrap();
    assert_eq!(current.key.previous_secret_expires_at, Some(9_000));
    assert_eq!(current.key.rotated_at, Some(6_000));
    assert_eq!(current.key.key_prefix, "mcp_grac");
    assert_eq!(store.find_by_digest(&new_digest).await.unwrap(), None);
    let previous = store
        .find_by_previous_digest(&new_digest)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(previous.key.id, b.key.id);
    assert_eq!(previous.digest, new_digest);
    assert_eq!(previous.key.previous_secret_expires_at, Some(9_000));
    assert_eq!(store.find_by_previous_digest(&graced).await.unwrap(), None);
    let graced2 = KeyDigest::of("mcp_graced-again-value");
    assert!(
        store
            .replace_secret_with_grace(&b.key.id, graced2, "mcp_gra2", 7_000, 10_000)
            .await
            .unwrap()
    );
    assert_eq!(
        store.find_by_previous_digest(&new_digest).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .find_by_previous_digest(&graced)
            .await
            .unwrap()
            .unwrap()
            .key
            .previous_secret_expires_at,
        Some(10_000)
    );
    let plain = KeyDigest::of("mcp_plain-rotation-value");
    assert!(
        store
            .replace_secret(&b.key.id, plain, "mcp_plai", 8_000)
            .await
            .unwrap()
    );
    assert_eq!(store.find_by_previous_digest(&graced).await.unwrap(), None);
    assert_eq!(
        store
            .get(&b.key.id)
            .await
            .unwrap()
            .unwrap()
            .previous_secret_expires_at,
        None
    );
    assert!(
        !store
            .replace_secret_with_grace("no-such-id", KeyDigest::of("mcp_unused2"), "x", 1, 2)
            .await
            .unwrap()
    );

    // Users: put (insert, then replace), get, disable, list by name.
    assert_eq!(store.get_user("zoe").await.unwrap(), None);
    let zoe = User::new("zoe", "viewer").password_hash("$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA");
    store.put_user(zoe.clone()).await.unwrap();
    assert_eq!(store.get_user("zoe").await.unwrap(), Some(zoe.clone()));
    let mut zoe2 = User::new("zoe", "operator").workspaces(WorkspaceAccess::Grants(vec![
        mcp_server::auth::WorkspaceGrant {
            workspace: "ops".into(),
            role: "admin".into(),
        },
    ]));
    zoe2.created_at = zoe.created_at;
    store.put_user(zoe2.clone()).await.unwrap();
    assert_eq!(store.get_user("zoe").await.unwrap(), Some(zoe2.clone()));
    store.put_user(User::new("adam", "admin")).await.unwrap();
    assert!(store.set_user_disabled("zoe", true).await.unwrap());
    assert!(store.get_user("zoe").await.unwrap().unwrap().disabled);
    assert!(!store.set_user_disabled("nobody", true).await.unwrap());
    let users: Vec<String> = store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(users, ["adam", "zoe"]);

    // Through the service: verification, expiry, revocation, owners.
    let keys = ApiKeys::new(store);
    let live = keys
        .create(NewApiKey::new("svc", "viewer").surface(Surface::Mcp))
        .await
        .unwrap();
    assert_eq!(keys.verify(live.secret.expose()).await.unwrap().name, "svc");
    let owned = keys
        .create(
            NewApiKey::new("zoe-laptop", "viewer")
                .surface(Surface::Mcp)
                .user_owned("zoe"),
        )
        .await
        .unwrap();
    assert_eq!(
        keys.verify(owned.secret.expose())
            .await
            .unwrap_err()
            .reason(),
        "api_key_owner_disabled"
    );
    keys.revoke(&live.key.id).await.unwrap();
    assert_eq!(
        keys.verify(live.secret.expose())
            .await
            .unwrap_err()
            .reason(),
        "api_key_revoked"
    );
    let rotated = keys
        .rotate(&keys.list().await.unwrap()[0].id)
        .await
        .unwrap();
    assert_eq!(
        keys.verify(rotated.secret.expose()).await.unwrap().name,
        "alpha"
    );
    assert_eq!(
        keys.verify(&secret_a).await.unwrap_err().reason(),
        "api_key_unknown"
    );

    // Rotation with a grace period: both secrets work until the grace ends, then the previous
    // one is refused (a grace already over is written through the store).
    let graced = keys
        .rotate_with_grace(&rotated.key.id, Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(
        keys.verify(rotated.secret.expose()).await.unwrap().name,
        "alpha"
    );
    assert_eq!(
        keys.verify(graced.secret.expose()).await.unwrap().name,
        "alpha"
    );
    let next = mcp_server::auth::ApiKeySecret::generate("mcp_").unwrap();
    assert!(
        keys.store()
            .replace_secret_with_grace(&rotated.key.id, next.digest(), "mcp_next", 1, 2)
            .await
            .unwrap()
    );
    assert_eq!(
        keys.verify(graced.secret.expose())
            .await
            .unwrap_err()
            .reason(),
        "api_key_rotated"
    );
    assert_eq!(keys.verify(next.expose()).await.unwrap().name, "alpha");
}

#[tokio::test]
async fn the_memory_store_passes_the_store_contract() {
    store_contract(MemoryStore::new()).await;
}

#[tokio::test]
async fn the_sqlite_store_passes_the_store_contract() {
    let dir = std::env::temp_dir().join(format!("mcp-contract-{}", database_schema()));
    store_contract(SqliteStore::open(dir.join("auth.db")).unwrap()).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_postgres_store_passes_the_store_contract() {
    let Some(url) = database_url() else { return };
    store_contract(connect(&url, &database_schema()).await).await;
}

// ---------------------------------------------------------------------------------------------
// Servers over PostgreSQL.

async fn connect(url: &str, schema: &str) -> PostgresStore {
    PostgresStore::connect_with(PostgresOptions::new(url).schema(schema))
        .await
        .unwrap()
}

fn server(keys: ApiKeys, audit: Option<PostgresAuditSink>) -> McpServer {
    let mut auth = AuthorizationConfig::builtin(keys).retry_after(Duration::from_secs(3));
    if let Some(a) = audit {
        auth = auth.audit(a);
    }
    McpServer::builder("pg")
        .authorization(auth)
        .tool(ToolDef::from_fn("noop", |_: Context, _: NoArgs| async {
            "ok"
        }))
        .build()
        .unwrap()
}

async fn call(srv: &TestServer, key: &str) -> RawResponse {
    let body = json!({"jsonrpc":"2.0","id":1,"method":"tools/call",
        "params":{"name":"noop","arguments":{},"_meta":{
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "pg", "version": "0"}}}})
    .to_string();
    let bearer = format!("Bearer {key}");
    let headers = [
        ("content-type", "application/json"),
        ("accept", JSON_AND_SSE),
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "noop"),
        ("authorization", bearer.as_str()),
    ];
    send(Method::POST, &srv.url(), &headers, Some(&body)).await
}

/// Two instances, two pools, one database, as behind a load balancer: a key created through
/// the first works on the second, and once revoked through the first, the second refuses it on
/// its very next request (no instance caches a key lookup).
#[tokio::test]
async fn a_key_created_and_revoked_through_one_instance_is_seen_by_the_other() {
    let Some(url) = database_url() else { return };
    let schema = database_schema();
    let keys_a = ApiKeys::new(connect(&url, &schema).await);
    let keys_b = ApiKeys::new(connect(&url, &schema).await);
    let a = spawn(server(keys_a.clone(), None)).await.unwrap();
    let b = spawn(server(keys_b.clone(), None)).await.unwrap();
    let created = keys_a
        .create(NewApiKey::new("shared", "viewer").surface(Surface::Mcp))
        .await
        .unwrap();
    let secret = created.secret.expose();
    assert_eq!(call(&a, secret).await.status, 200);
    let r = call(&b, secret).await;
    assert_eq!(r.status, 200, "{}", r.body);
    keys_a.revoke(&created.key.id).await.unwrap();
    let r = call(&b, secret).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.json()["reason"], "api_key_revoked");
    // The second instance's admin view agrees, and saw the use.
    let listed = keys_b.list().await.unwrap();
    assert!(listed[0].revoked_at.is_some());
    assert!(listed[0].last_used_at.is_some());
    a.shutdown().await;
    b.shutdown().await;
}

/// A TCP relay in front of the database that can be cut: while cut, the connections it carried
/// are closed and new ones are accepted but never answered (a database host that went away).
struct Relay {
    addr: std::net::SocketAddr,
    up: Arc<AtomicBool>,
    cut: tokio::sync::watch::Sender<u64>,
}

impl Relay {
    async fn start(upstream: std::net::SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let (cut, _) = tokio::sync::watch::channel(0u64);
        let (up2, cut2) = (Arc::clone(&up), cut.clone());
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((mut client, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    held.push(client); // accepted, never answered
                    continue;
                }
                held.clear();
                let mut cut_rx = cut2.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut_rx.changed() => {}
                    }
                });
            }
        });
        Relay { addr, up, cut }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.send_modify(|n| *n += 1);
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// The host and port of a `postgres://` URL, and the URL with them replaced by `addr`.
fn through(url: &str, addr: std::net::SocketAddr) -> (std::net::SocketAddr, String) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (userinfo, hostpart) = match rest.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), rest),
    };
    let (hostport, path) = hostpart.split_once('/').unwrap_or((hostpart, ""));
    let (host, port) = hostport.rsplit_once(':').unwrap_or((hostport, "5432"));
    let host = if host == "localhost" {
        "127.0.0.1"
    } else {
        host
    };
    let upstream = format!("{host}:{port}").parse().unwrap();
    (upstream, format!("postgres://{userinfo}{addr}/{path}"))
}

/// The database stops answering: requests that need it are refused with 503 and `Retry-After`
/// (never 401, never 200) within the configured bounds, readiness says so; when it is back,
/// the same instance serves again without a restart.
#[tokio::test]
async fn a_database_that_does_not_answer_is_a_503_and_the_service_recovers() {
    let Some(url) = database_url() else { return };
    let (upstream, _) = through(&url, "127.0.0.1:1".parse().unwrap());
    let relay = Relay::start(upstream).await;
    let (_, relayed) = through(&url, relay.addr);
    let options = PostgresOptions::new(relayed)
        .schema(database_schema())
        .acquire_timeout(Duration::from_millis(500))
        .statement_timeout(Duration::from_millis(500));
    let bound = options.operation_bound();
    let store = PostgresStore::connect_with(options).await.unwrap();
    let keys = ApiKeys::new(store.clone());
    let srv = spawn(server(keys.clone(), None)).await.unwrap();
    let created = keys
        .create(NewApiKey::new("k", "viewer").surface(Surface::Mcp))
        .await
        .unwrap();
    let secret = created.secret.expose();
    assert_eq!(call(&srv, secret).await.status, 200);

    relay.cut();
    for _ in 0..3 {
        let started = std::time::Instant::now();
        let r = call(&srv, secret).await;
        assert_eq!(r.status, 503, "{}", r.body);
        assert_eq!(r.header("retry-after"), Some("3"));
        assert!(!r.body.contains(secret));
        // Acquire + statement bounds, with room for a loaded CI machine.
        assert!(
            started.elapsed() < bound * 5,
            "answered in {:?}",
            started.elapsed()
        );
    }
    assert!(ApiKeyStore::readiness(&store).await.is_err());
    let ready = send(
        Method::GET,
        &format!("{}/readyz", srv.base_url()),
        &[],
        None,
    )
    .await;
    assert_eq!(ready.status, 503, "{}", ready.body);

    relay.restore();
    let mut status = 0;
    for _ in 0..100 {
        status = call(&srv, secret).await.status;
        if status == 200 {
            break;
        }
        assert_eq!(status, 503);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "the instance recovered by itself");
    assert!(ApiKeyStore::readiness(&store).await.is_ok());
    srv.shutdown().await;
}

/// Every decision and tool call lands in `audit_events`, without blocking the request.
#[tokio::test]
async fn audit_events_land_in_the_table() {
    let Some(url) = database_url() else { return };
    let store = connect(&url, &database_schema()).await;
    let sink = PostgresAuditSink::new(&store).unwrap();
    assert_eq!(
        sink.queue_capacity(),
        PostgresAuditSink::DEFAULT_QUEUE_CAPACITY
    );
    let reader = PostgresAuditSink::with_capacity(&store, 1).unwrap();
    let keys = ApiKeys::new(store);
    let srv = spawn(server(keys.clone(), Some(sink))).await.unwrap();
    let created = keys
        .create(NewApiKey::new("audited", "viewer").surface(Surface::Mcp))
        .await
        .unwrap();
    assert_eq!(call(&srv, created.secret.expose()).await.status, 200);
    assert_eq!(call(&srv, "mcp_not-a-real-key-at-all").await.status, 401);
    let mut events = Vec::new();
    for _ in 0..50 {
        events = reader.read_recent(100).await.unwrap();
        if events.len() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let actions: Vec<AuditAction> = events.iter().map(|e| e.action).collect();
    assert!(actions.contains(&AuditAction::AuthAllowed), "{actions:?}");
    assert!(
        actions.contains(&AuditAction::ToolCallSucceeded),
        "{actions:?}"
    );
    assert!(actions.contains(&AuditAction::AuthDenied), "{actions:?}");
    let allowed = events
        .iter()
        .find(|e| e.action == AuditAction::AuthAllowed)
        .unwrap();
    assert_eq!(allowed.credential_name.as_deref(), Some("audited"));
    let all = serde_json::to_string(&events).unwrap();
    assert!(!all.contains(created.secret.expose()));
    assert_eq!(reader.read_recent(1).await.unwrap().len(), 1);
    srv.shutdown().await;
}

/// A full queue drops and counts events; it never blocks the caller.
#[tokio::test]
async fn a_full_audit_queue_drops_and_counts() {
    let Some(url) = database_url() else { return };
    let store = connect(&url, &database_schema()).await;
    let sink = PostgresAuditSink::with_capacity(&store, 1).unwrap();
    use mcp_server::auth::{AuditEvent, AuditSink};
    let started = std::time::Instant::now();
    for _ in 0..1_000 {
        sink.record(&AuditEvent::new(AuditAction::ToolCallReceived));
    }
    assert!(started.elapsed() < Duration::from_secs(1));
    sink.flush().await;
    assert!(sink.dropped_events() > 0);
    let written = sink.read_recent(2_000).await.unwrap().len() as u64;
    assert_eq!(
        written + sink.dropped_events() + sink.failed_events(),
        1_000
    );
}

/// Connecting migrates once: a second connection (and two at once) finds the schema up to date
/// and the data kept.
#[tokio::test]
async fn migrations_are_idempotent() {
    let Some(url) = database_url() else { return };
    let schema = database_schema();
    let (s1, s2) = tokio::join!(connect(&url, &schema), connect(&url, &schema));
    assert_eq!(
        s1.schema_version().await.unwrap(),
        PostgresStore::latest_schema_version()
    );
    let keys = ApiKeys::new(s1);
    let k = keys
        .create(NewApiKey::new("kept", "viewer").surface(Surface::Mcp))
        .await
        .unwrap();
    drop(s2);
    let again = connect(&url, &schema).await;
    assert_eq!(
        again.schema_version().await.unwrap(),
        PostgresStore::latest_schema_version()
    );
    assert_eq!(again.get(&k.key.id).await.unwrap().unwrap().name, "kept");
    assert_eq!(again.schema(), Some(schema.as_str()));
}

/// The URL's password never appears in an error or a `Debug` output.
#[tokio::test]
async fn the_database_password_is_never_shown() {
    let options = PostgresOptions::new("postgres://mcp:hunter2-pg@127.0.0.1:1/mcp")
        .acquire_timeout(Duration::from_millis(200));
    assert!(!format!("{options:?}").contains("hunter2"));
    let e = PostgresStore::connect_with(options).await.unwrap_err();
    assert!(!e.to_string().contains("hunter2"), "{e}");
    assert!(matches!(e, StoreError::Backend(_)), "{e:?}");
    let Some(url) = database_url() else { return };
    let (upstream, _) = through(&url, "127.0.0.1:1".parse().unwrap());
    let wrong = format!("postgres://nobody:hunter2-pg@{upstream}/postgres");
    let e = PostgresStore::connect(&wrong).await.unwrap_err();
    assert!(!e.to_string().contains("hunter2"), "{e}");
}
