//! A loopback load generator for `tools/call add` on the 2026-07-28 wire: no auth, a bearer
//! token, and DPoP with a fresh proof per request, each against a release build of the example
//! servers, one after the other in the same run. It starts everything itself:
//! `bench_server` (no auth) and `protected_server` (auth, DPoP allowed) as child processes, and
//! an in-process authorization server whose tokens the protected server trusts. DPoP proofs are
//! signed before each DPoP round (`LOAD_DPOP_PROOFS`, default 150 000), one per request.
//!
//! ```sh
//! cargo build --release --example bench_server --example protected_server --example load
//! target/release/examples/load            # LOAD_SECONDS=5 LOAD_CONNECTIONS=32
//! ```
//!
//! Only 127.0.0.1 is ever contacted. Numbers go into notes, never into tests.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mcp_server::testing::{DpopKey, TestIssuer};
use tokio::process::{Child, Command};

const BODY: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;

#[derive(Clone)]
enum Credential {
    None,
    Bearer(String),
    /// A bound token and proofs signed before the clock starts (one per request, each with its
    /// own `jti`), so that the load generator's own signing stays out of the measurement.
    Dpop(String, Arc<std::sync::Mutex<Vec<String>>>),
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn sibling(name: &str) -> std::io::Result<std::path::PathBuf> {
    let me = std::env::current_exe()?;
    Ok(me.with_file_name(name))
}

async fn wait_until_up(url: &str) {
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client.get(url).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn run(url: &str, cred: Credential, connections: usize, seconds: u64) -> (f64, u64) {
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (url, cred) = (url.to_owned(), cred.clone());
        let (done, errors, stop) = (Arc::clone(&done), Arc::clone(&errors), Arc::clone(&stop));
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap_or_default();
            while !stop.load(Ordering::Relaxed) {
                let mut req = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("accept", "application/json, text/event-stream")
                    .header("mcp-protocol-version", "2026-07-28")
                    .header("mcp-method", "tools/call")
                    .header("mcp-name", "add")
                    .body(BODY);
                req = match &cred {
                    Credential::None => req,
                    Credential::Bearer(t) => req.header("authorization", format!("Bearer {t}")),
                    Credential::Dpop(t, proofs) => {
                        let proof = proofs.lock().ok().and_then(|mut p| p.pop());
                        let Some(proof) = proof else { break };
                        req.header("authorization", format!("DPoP {t}"))
                            .header("dpop", proof)
                    }
                };
                match req.send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = start.elapsed().as_secs_f64();
    for t in tasks {
        let _ = t.await;
    }
    (
        done.load(Ordering::Relaxed) as f64 / elapsed,
        errors.load(Ordering::Relaxed),
    )
}

fn spawn(bin: &str, envs: &[(&str, String)]) -> std::io::Result<Child> {
    let mut cmd = Command::new(sibling(bin)?);
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.spawn()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: u64 = std::env::var("LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let connections: usize = std::env::var("LOAD_CONNECTIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(32);
    let issuer = TestIssuer::start().await?;

    let plain_port = free_port()?;
    let plain_url = format!("http://127.0.0.1:{plain_port}/mcp");
    let _plain = spawn(
        "bench_server",
        &[("MCP_BIND", format!("127.0.0.1:{plain_port}"))],
    )?;
    let auth_port = free_port()?;
    let auth_url = format!("http://127.0.0.1:{auth_port}/mcp");
    let _auth = spawn(
        "protected_server",
        &[
            ("MCP_BIND", format!("127.0.0.1:{auth_port}")),
            ("MCP_AUTH_ISSUER", issuer.issuer().to_owned()),
            ("MCP_DPOP", "allowed".to_owned()),
            ("RUST_LOG", "warn".to_owned()),
        ],
    )?;
    wait_until_up(&plain_url).await;
    wait_until_up(&auth_url).await;

    let bearer = issuer.token(&auth_url).scope("read").sign();
    let key = Arc::new(DpopKey::generate()?);
    let bound = issuer
        .token(&auth_url)
        .scope("read")
        .cnf_jkt(&key.thumbprint())
        .sign();

    let dpop_budget: usize = std::env::var("LOAD_DPOP_PROOFS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(150_000);
    println!("tools/call add, 2026-07-28, {connections} connections, {seconds} s each");
    for round in 1..=2 {
        let (none, e0) = run(&plain_url, Credential::None, connections, seconds).await;
        let (bear, e1) = run(
            &auth_url,
            Credential::Bearer(bearer.clone()),
            connections,
            seconds,
        )
        .await;
        let proofs: Vec<String> = (0..dpop_budget)
            .map(|_| key.proof("POST", &auth_url, &bound).sign())
            .collect();
        let proofs = Arc::new(std::sync::Mutex::new(proofs));
        let dpop_cred = Credential::Dpop(bound.clone(), Arc::clone(&proofs));
        let (dpop, e2) = run(&auth_url, dpop_cred, connections, seconds).await;
        if proofs.lock().map_or(0, |p| p.len()) == 0 {
            println!("(the pre-signed proofs ran out: raise LOAD_DPOP_PROOFS)");
        }
        println!(
            "round {round}: no auth {none:>8.0} req/s | bearer {bear:>8.0} req/s ({:.2}x) | dpop {dpop:>8.0} req/s ({:.2}x) | errors {e0}/{e1}/{e2}",
            bear / none,
            dpop / none
        );
    }
    Ok(())
}
