//! The cost of built-in credentials:
//! - `apikey verify`: [`ApiKeys::verify`] alone (shape check, domain-separated SHA-256, digest
//!   lookup, constant-time compare, revocation/expiry, coalesced last-used) on the in-memory and
//!   the SQLite store;
//! - `apikey authenticate`: the whole [`Authenticator`] step of a request carrying
//!   `Authorization: Bearer mcp_...` (context, surface, audit decision);
//! - `tools/call over HTTP`: one modern `tools/call` round trip on loopback to a real server,
//!   with no authorization vs with an API key (SQLite store), measured sequentially.
//!
//! Run: `cargo bench -p mcp-tests --bench apikey`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use http::{HeaderMap, HeaderValue, Method};
use mcp_server::auth::{ApiKeys, Authenticator, AuthorizationConfig, NewApiKey, Surface};
use mcp_server::testing::spawn;
use mcp_server::{Context, McpServer, NoArgs, ToolDef};

fn temp_db() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mcp-apikey-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("auth.db")
}

/// A store holding `n` keys; returns the secret of one of them.
async fn populated(keys: &ApiKeys, n: usize) -> String {
    let mut secret = String::new();
    for i in 0..n {
        let k = keys
            .create(NewApiKey::new(format!("k{i}"), "operator").surface(Surface::Mcp))
            .await
            .unwrap();
        if i == n / 2 {
            secret = k.secret.expose().to_owned();
        }
    }
    secret
}

fn server(config: AuthorizationConfig) -> McpServer {
    McpServer::builder("bench")
        .authorization(config)
        .tool(
            ToolDef::from_fn("ping", |_: Context, _: NoArgs| async move { "pong" })
                .min_role("viewer"),
        )
        .build()
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let memory = ApiKeys::in_memory();
    let sqlite = ApiKeys::sqlite(temp_db()).unwrap();
    let mem_secret = rt.block_on(populated(&memory, 1_000));
    let sql_secret = rt.block_on(populated(&sqlite, 1_000));

    let mut g = c.benchmark_group("apikey verify");
    for (name, keys, secret) in [
        ("memory, 1000 keys", &memory, &mem_secret),
        ("sqlite, 1000 keys", &sqlite, &sql_secret),
    ] {
        assert!(rt.block_on(keys.verify(secret)).is_ok());
        g.bench_function(name, |b| {
            b.iter(|| rt.block_on(keys.verify(black_box(secret))).is_ok())
        });
    }
    let unknown = format!("mcp_{}", "U".repeat(43));
    g.bench_function("sqlite, unknown key", |b| {
        b.iter(|| rt.block_on(sqlite.verify(black_box(&unknown))).is_err())
    });
    g.finish();

    let mut g = c.benchmark_group("apikey authenticate");
    let method = Method::POST;
    for (name, keys, secret) in [
        ("memory", &memory, &mem_secret),
        ("sqlite", &sqlite, &sql_secret),
    ] {
        let auth = Authenticator::new(AuthorizationConfig::builtin(keys.clone())).unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {secret}")).unwrap(),
        );
        h.insert("host", HeaderValue::from_static("127.0.0.1:9"));
        assert!(matches!(
            rt.block_on(auth.authenticate(&method, "/mcp", &h)),
            Ok(Some(_))
        ));
        g.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(auth.authenticate(&method, "/mcp", black_box(&h)))
                    .is_ok()
            })
        });
    }
    g.finish();

    // One request at a time over loopback: the latency of a call; its inverse is the
    // single-client throughput.
    let open = rt
        .block_on(spawn(server(AuthorizationConfig::none())))
        .unwrap();
    let keyed = rt
        .block_on(spawn(server(AuthorizationConfig::builtin(sqlite.clone()))))
        .unwrap();
    let http = reqwest::Client::new();
    let body = serde_json::json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{
        "name":"ping","arguments":{},"_meta":{
            "io.modelcontextprotocol/protocolVersion":"2026-07-28",
            "io.modelcontextprotocol/clientCapabilities":{},
            "io.modelcontextprotocol/clientInfo":{"name":"bench","version":"0"}}}})
    .to_string();
    let call = |url: String, key: Option<String>| {
        let (http, body) = (http.clone(), body.clone());
        async move {
            let mut req = http
                .post(&url)
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .header("mcp-protocol-version", "2026-07-28")
                .header("mcp-method", "tools/call")
                .header("mcp-name", "ping");
            if let Some(k) = key {
                req = req.header("authorization", format!("Bearer {k}"));
            }
            let r = req.body(body).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.bytes().await.unwrap().len()
        }
    };
    let mut g = c.benchmark_group("tools/call over HTTP");
    g.measurement_time(Duration::from_secs(8));
    g.bench_function("no auth", |b| {
        b.to_async(&rt).iter(|| call(open.url(), None))
    });
    g.bench_function("API key (sqlite)", |b| {
        b.to_async(&rt)
            .iter(|| call(keyed.url(), Some(sql_secret.clone())))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
