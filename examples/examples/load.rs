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
//! LOAD_ONLY=dpop target/release/examples/load   # the DPoP rounds alone, e.g. under a profiler
//! LOAD_ONLY=plain target/release/examples/load  # the no-auth rounds alone
//! ```
//!
//! The servers inherit the environment: `RUST_LOG=info OTEL_EXPORTER_OTLP_ENDPOINT=http://…`
//! measures them with tracing at `info` and the OTLP export on.
//!
//! Only 127.0.0.1 is ever contacted. Numbers go into notes, never into tests.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mcp_server::testing::{DpopKey, TestIssuer};
use reqwest::header::HeaderValue;
use tokio::process::{Child, Command};

const BODY: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;

/// What each request carries, as ready header values so that building a request costs the
/// same in every mode.
enum Credential {
    None,
    /// `Bearer <token>`.
    Bearer(HeaderValue),
    /// `DPoP <bound token>` and proofs signed before the clock starts (one per request, each
    /// with its own `jti`), so that the load generator's own signing stays out of the
    /// measurement. Each connection takes its own share.
    Dpop(HeaderValue, Vec<HeaderValue>),
}

/// One connection's share of a [`Credential`].
enum ConnectionCredential {
    None,
    Bearer(HeaderValue),
    Dpop(HeaderValue, std::vec::IntoIter<HeaderValue>),
}

impl Credential {
    fn split(self, connections: usize) -> Vec<ConnectionCredential> {
        match self {
            Credential::None => (0..connections)
                .map(|_| ConnectionCredential::None)
                .collect(),
            Credential::Bearer(h) => (0..connections)
                .map(|_| ConnectionCredential::Bearer(h.clone()))
                .collect(),
            Credential::Dpop(h, mut proofs) => {
                let share = proofs.len().div_ceil(connections.max(1)).max(1);
                let mut shares = Vec::with_capacity(connections);
                while !proofs.is_empty() {
                    let rest = proofs.split_off(proofs.len().saturating_sub(share));
                    shares.push(ConnectionCredential::Dpop(h.clone(), rest.into_iter()));
                }
                shares
            }
        }
    }
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

/// CPU time (user + system, all threads) a process has used so far, in seconds; Linux only,
/// `None` elsewhere. Assumes the usual 100 ticks per second of `/proc/<pid>/stat`.
fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name may hold spaces: the fields that matter follow its closing parenthesis.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some((ticks(11)? + ticks(12)?) as f64 / 100.0)
}

/// Requests per second, errors, and the CPU microseconds per request of the server (`pid`) and
/// of this load generator.
struct Round {
    rate: f64,
    errors: u64,
    server_us: f64,
    client_us: f64,
    ran_out: bool,
}

async fn measured(
    url: &str,
    server: Option<u32>,
    cred: Credential,
    connections: usize,
    seconds: u64,
) -> Round {
    let before = (cpu_seconds(server), cpu_seconds(None));
    let (rate, errors, ran_out) = run(url, cred, connections, seconds).await;
    let after = (cpu_seconds(server), cpu_seconds(None));
    let requests = rate * seconds as f64;
    let per_request = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if requests > 0.0 => (b - a) * 1e6 / requests,
        _ => f64::NAN,
    };
    Round {
        rate,
        errors,
        server_us: per_request(before.0, after.0),
        client_us: per_request(before.1, after.1),
        ran_out,
    }
}

impl Round {
    fn skipped() -> Self {
        Round {
            rate: f64::NAN,
            errors: 0,
            server_us: f64::NAN,
            client_us: f64::NAN,
            ran_out: false,
        }
    }
}

/// Requests per second, errors, and whether a connection ran out of pre-signed proofs.
async fn run(url: &str, cred: Credential, connections: usize, seconds: u64) -> (f64, u64, bool) {
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let ran_out = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for mut cred in cred.split(connections) {
        let url = url.to_owned();
        let (done, errors, stop) = (Arc::clone(&done), Arc::clone(&errors), Arc::clone(&stop));
        let ran_out = Arc::clone(&ran_out);
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
                req = match &mut cred {
                    ConnectionCredential::None => req,
                    ConnectionCredential::Bearer(h) => req.header("authorization", h.clone()),
                    ConnectionCredential::Dpop(h, proofs) => {
                        let Some(proof) = proofs.next() else {
                            ran_out.store(true, Ordering::Relaxed);
                            break;
                        };
                        req.header("authorization", h.clone()).header("dpop", proof)
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
        ran_out.load(Ordering::Relaxed),
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
    let plain = spawn(
        "bench_server",
        &[("MCP_BIND", format!("127.0.0.1:{plain_port}"))],
    )?;
    let auth_port = free_port()?;
    let auth_url = format!("http://127.0.0.1:{auth_port}/mcp");
    let auth = spawn(
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
    let bearer = HeaderValue::from_str(&format!("Bearer {bearer}"))?;
    let key = DpopKey::generate()?;
    let bound = issuer
        .token(&auth_url)
        .scope("read")
        .cnf_jkt(&key.thumbprint())
        .sign();
    let bound_header = HeaderValue::from_str(&format!("DPoP {bound}"))?;

    let dpop_budget: usize = std::env::var("LOAD_DPOP_PROOFS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(150_000);
    println!("tools/call add, 2026-07-28, {connections} connections, {seconds} s each");
    let only = std::env::var("LOAD_ONLY").unwrap_or_default();
    let (only_dpop, only_plain) = (only == "dpop", only == "plain");
    let (plain_pid, auth_pid) = (plain.id(), auth.id());
    for round in 1..=2 {
        let none = if only_dpop {
            Round::skipped()
        } else {
            measured(
                &plain_url,
                plain_pid,
                Credential::None,
                connections,
                seconds,
            )
            .await
        };
        let bear = if only_dpop || only_plain {
            Round::skipped()
        } else {
            let bearer = Credential::Bearer(bearer.clone());
            measured(&auth_url, auth_pid, bearer, connections, seconds).await
        };
        let budget = if only_plain { 0 } else { dpop_budget };
        let proofs: Vec<HeaderValue> = (0..budget)
            .filter_map(|_| {
                HeaderValue::from_str(&key.proof("POST", &auth_url, &bound).sign()).ok()
            })
            .collect();
        let dpop_cred = Credential::Dpop(bound_header.clone(), proofs);
        let dpop = if only_plain {
            Round::skipped()
        } else {
            measured(&auth_url, auth_pid, dpop_cred, connections, seconds).await
        };
        if dpop.ran_out {
            println!("(the pre-signed proofs ran out: raise LOAD_DPOP_PROOFS)");
        }
        println!(
            "round {round}: no auth {:>6.0} req/s | bearer {:>6.0} req/s ({:.2}x) | dpop {:>6.0} req/s ({:.2}x) | errors {}/{}/{}",
            none.rate,
            bear.rate,
            bear.rate / none.rate,
            dpop.rate,
            dpop.rate / none.rate,
            none.errors,
            bear.errors,
            dpop.errors,
        );
        println!(
            "         CPU µs per request, server + load generator: no auth {:.1} + {:.1} | bearer {:.1} + {:.1} | dpop {:.1} + {:.1}",
            none.server_us,
            none.client_us,
            bear.server_us,
            bear.client_us,
            dpop.server_us,
            dpop.client_us,
        );
    }
    Ok(())
}
