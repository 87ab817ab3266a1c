//! Soak run: thousands of legacy sessions (and stateless 2026-07-28 calls) against one protected
//! server for a bounded time, on loopback only, watching the server process's memory and file
//! descriptors.
//!
//! ```sh
//! bash bench/soak.sh 600          # or: cargo run --release --example soak -- --seconds 600
//! ```
//!
//! The driver starts the server as a child process (`soak serve`: API keys on, a short session
//! idle timeout so abandoned sessions expire), then runs `--workers` loops until the time is up.
//! Each loop is one session's life: `initialize`, a JSON `tools/call`, a `tools/call` streaming
//! progress over SSE that is abandoned mid-way about half of the time and resumed with
//! `Last-Event-ID` (every progress event must arrive exactly once), a stateless 2026-07-28 call,
//! then either `DELETE` or abandonment (the session expires on the server). Every 5 s a client
//! with a wrong key must be refused (401, or 429 once the key is throttled). Every 10 s it prints the server's RSS and open file
//! descriptors and the counts so far; at the end it compares RSS with the value after warm-up
//! and fails (exit 1) on RSS growth over 10 %, fd growth, lost or duplicated events, or any
//! unexpected error.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mcp_server::auth::{ApiKeys, AuthorizationConfig, NewApiKey, Surface};
use mcp_server::prelude::*;
use serde_json::{Value, json};

const LEGACY: &str = "2025-11-25";
const MODERN: &str = "2026-07-28";
/// Progress events of one streaming call.
const TICKS: u64 = 20;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Add {
    a: i64,
    b: i64,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Ticks {
    n: u32,
}

// --- the server (child process) ----------------------------------------------------------

async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let keys = ApiKeys::in_memory();
    let created = keys
        .create(NewApiKey::new("soak", "operator").surface(Surface::Mcp))
        .await?;
    let server = McpServer::builder("soak")
        .tool(ToolDef::from_fn(
            "add",
            |_: Context, Add { a, b }| async move { a + b },
        ))
        .tool(ToolDef::from_fn(
            "ticks",
            |ctx: Context, Ticks { n }| async move {
                for i in 1..=n {
                    ctx.progress(f64::from(i), Some(f64::from(n)), None);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                "ticked"
            },
        ))
        .authorization(AuthorizationConfig::builtin(keys))
        .build()?;
    let http = server.http(HttpConfig::default().session_idle_timeout(Duration::from_secs(5)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    // The parent reads this line from the pipe; the key goes nowhere else.
    println!(
        "READY {} {}",
        listener.local_addr()?.port(),
        created.secret.expose()
    );
    http.serve_listener(listener, mcp_server::transport::http::shutdown_signal())
        .await?;
    Ok(())
}

// --- the driver --------------------------------------------------------------------------

#[derive(Default)]
struct Counts {
    sessions: AtomicU64,
    requests: AtomicU64,
    resumed: AtomicU64,
    refused: AtomicU64,
    lost_events: AtomicU64,
    unexpected: AtomicU64,
}

struct Driver {
    http: reqwest::Client,
    url: String,
    auth: String,
    counts: Counts,
}

/// One unexpected outcome, printed (the first few) and counted.
fn unexpected(d: &Driver, what: &str) {
    let n = d.counts.unexpected.fetch_add(1, Ordering::Relaxed);
    if n < 20 {
        eprintln!("unexpected: {what}");
    }
}

impl Driver {
    fn post(&self, session: Option<&str>, version: &str, body: &Value) -> reqwest::RequestBuilder {
        self.counts.requests.fetch_add(1, Ordering::Relaxed);
        let mut r = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("authorization", &self.auth)
            .header("mcp-protocol-version", version)
            .body(body.to_string());
        if let Some(s) = session {
            r = r.header("mcp-session-id", s);
        }
        r
    }

    async fn json(&self, req: reqwest::RequestBuilder) -> Option<(reqwest::StatusCode, Value)> {
        let resp = req.send().await.ok()?;
        let status = resp.status();
        let text = resp.text().await.ok()?;
        let body = if let Some(data) = text.lines().find_map(|l| l.strip_prefix("data: ")) {
            serde_json::from_str(data).ok()?
        } else {
            serde_json::from_str(&text).unwrap_or(Value::Null)
        };
        Some((status, body))
    }

    /// One session's life; records what went wrong.
    async fn session_life(&self, n: u64) {
        let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
            "protocolVersion":LEGACY,"capabilities":{},"clientInfo":{"name":"soak","version":"0"}}});
        let Ok(resp) = self.post(None, LEGACY, &init).send().await else {
            return unexpected(self, "initialize: no answer");
        };
        let Some(sid) = resp
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
        else {
            return unexpected(self, &format!("initialize: {}", resp.status()));
        };
        let _ = resp.bytes().await;
        self.counts.sessions.fetch_add(1, Ordering::Relaxed);
        let s = Some(sid.as_str());
        let initialized = json!({"jsonrpc":"2.0","method":"notifications/initialized"});
        match self.post(s, LEGACY, &initialized).send().await {
            Ok(r) if r.status() == 202 => {}
            _ => unexpected(self, "notifications/initialized"),
        }
        let add = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":n,"b":1}}});
        match self.json(self.post(s, LEGACY, &add)).await {
            Some((st, v)) if st == 200 && v["result"]["structuredContent"]["result"] == n + 1 => {}
            Some((st, v))
                if st == 200
                    && v["result"]["content"][0]["text"].as_str()
                        == Some((n + 1).to_string().as_str()) => {}
            other => unexpected(self, &format!("add: {other:?}")),
        }
        self.ticks(&sid, n % 2 == 0).await;
        let modern = json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{
            "name":"add","arguments":{"a":1,"b":2},
            "_meta":{"io.modelcontextprotocol/protocolVersion":MODERN,
                     "io.modelcontextprotocol/clientInfo":{"name":"soak","version":"0"},
                     "io.modelcontextprotocol/clientCapabilities":{}}}});
        let req = self
            .post(None, MODERN, &modern)
            .header("mcp-method", "tools/call")
            .header("mcp-name", "add");
        match self.json(req).await {
            Some((st, v)) if st == 200 && v.get("result").is_some() => {}
            other => unexpected(self, &format!("modern call: {other:?}")),
        }
        // Half the sessions end with DELETE, the others are abandoned and expire.
        if n % 2 == 1 {
            let del = self
                .http
                .delete(&self.url)
                .header("authorization", &self.auth)
                .header("mcp-session-id", &sid)
                .header("mcp-protocol-version", LEGACY)
                .send()
                .await;
            if !matches!(&del, Ok(r) if r.status() == 200) {
                unexpected(self, "delete");
            }
        }
    }

    /// A request with a wrong key: refused with 401, or 429 once that key (or this address)
    /// has failed too often.
    async fn wrong_key(&self) {
        let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
            "protocolVersion":LEGACY,"capabilities":{},"clientInfo":{"name":"soak","version":"0"}}});
        let wrong = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("authorization", "Bearer mcp_wrong_key_for_soak")
            .body(init.to_string())
            .send()
            .await;
        match wrong {
            Ok(r) if r.status() == 401 || r.status() == 429 => {
                self.counts.refused.fetch_add(1, Ordering::Relaxed);
            }
            Ok(r) => unexpected(self, &format!("wrong key: {}", r.status())),
            Err(_) => unexpected(self, "wrong key: no answer"),
        }
    }

    /// A streaming call; when `abandon`, the connection is dropped after a few events and the
    /// rest is fetched by resuming. Every progress event must come exactly once.
    async fn ticks(&self, sid: &str, abandon: bool) {
        let call = json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{
            "name":"ticks","arguments":{"n":TICKS},"_meta":{"progressToken":"t"}}});
        let Ok(resp) = self.post(Some(sid), LEGACY, &call).send().await else {
            return unexpected(self, "ticks: no answer");
        };
        let mut seen = Vec::new();
        let mut last_id = None;
        let mut done = false;
        let mut buf = String::new();
        let mut resp = resp;
        loop {
            let chunk = match resp.chunk().await {
                Ok(Some(c)) => c,
                _ => break,
            };
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let event: String = buf.drain(..end + 2).collect();
                read_event(&event, &mut seen, &mut last_id, &mut done);
            }
            if abandon && seen.len() >= 5 {
                break;
            }
        }
        drop(resp);
        if !done {
            let Some(last) = last_id.clone() else {
                return unexpected(self, "ticks: no event id to resume from");
            };
            self.counts.resumed.fetch_add(1, Ordering::Relaxed);
            self.counts.requests.fetch_add(1, Ordering::Relaxed);
            let resumed = self
                .http
                .get(&self.url)
                .header("accept", "text/event-stream")
                .header("authorization", &self.auth)
                .header("mcp-session-id", sid)
                .header("mcp-protocol-version", LEGACY)
                .header("last-event-id", last)
                .send()
                .await;
            let Ok(resumed) = resumed else {
                return unexpected(self, "resume: no answer");
            };
            if resumed.status() != 200 {
                return unexpected(self, &format!("resume: {}", resumed.status()));
            }
            let text = resumed.text().await.unwrap_or_default();
            for event in text.split("\n\n") {
                read_event(event, &mut seen, &mut last_id, &mut done);
            }
        }
        let expected: Vec<u64> = (1..=TICKS).collect();
        if seen != expected || !done {
            let missing = expected.iter().filter(|p| !seen.contains(p)).count() as u64;
            let doubled = seen.len() as u64 + missing - TICKS;
            self.counts
                .lost_events
                .fetch_add(missing + doubled + u64::from(!done), Ordering::Relaxed);
        }
    }
}

/// Reads one SSE event: a progress value, the final result, the event id.
fn read_event(event: &str, seen: &mut Vec<u64>, last_id: &mut Option<String>, done: &mut bool) {
    for line in event.lines() {
        if let Some(id) = line.strip_prefix("id: ") {
            *last_id = Some(id.to_owned());
        } else if let Some(data) = line.strip_prefix("data: ") {
            let Ok(v) = serde_json::from_str::<Value>(data) else {
                continue;
            };
            if v["method"] == "notifications/progress" {
                if let Some(p) = v["params"]["progress"].as_f64() {
                    seen.push(p as u64);
                }
            } else if v["id"] == 3 && v.get("result").is_some() {
                *done = true;
            }
        }
    }
}

/// The resident set size (KiB) and open file descriptors of `pid`.
fn usage(pid: u32) -> (u64, usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count);
    (rss, fds)
}

struct Args {
    seconds: u64,
    workers: usize,
    warmup: u64,
}

fn args() -> Args {
    let mut a = Args {
        seconds: 600,
        workers: 32,
        warmup: 60,
    };
    let argv: Vec<String> = std::env::args().collect();
    for pair in argv.windows(2) {
        let value = pair[1].parse().ok();
        match (pair[0].as_str(), value) {
            ("--seconds", Some(v)) => a.seconds = v,
            ("--workers", Some(v)) => a.workers = usize::try_from(v).unwrap_or(32),
            ("--warmup", Some(v)) => a.warmup = v,
            _ => {}
        }
    }
    a.warmup = a.warmup.min(a.seconds / 2);
    a
}

fn start_server() -> Result<(Child, u16, String), Box<dyn std::error::Error>> {
    let mut child = Command::new(std::env::current_exe()?)
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    if parts.next() != Some("READY") {
        return Err(format!("the server did not start: {line}").into());
    }
    let port = parts.next().ok_or("no port")?.parse()?;
    let key = parts.next().ok_or("no key")?.to_owned();
    Ok((child, port, key))
}

async fn drive(a: Args) -> Result<bool, Box<dyn std::error::Error>> {
    let (mut child, port, key) = start_server()?;
    let pid = child.id();
    let driver = Arc::new(Driver {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(a.workers)
            .build()?,
        url: format!("http://127.0.0.1:{port}/mcp"),
        auth: format!("Bearer {key}"),
        counts: Counts::default(),
    });
    let start = Instant::now();
    let deadline = start + Duration::from_secs(a.seconds);
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..a.workers {
        let d = Arc::clone(&driver);
        let next = Arc::clone(&next);
        workers.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                d.session_life(n).await;
            }
        }));
    }
    // A client with a wrong key, every 5 s: under the per-address failure budget, so the
    // address stays usable for everyone else.
    let prober = {
        let d = Arc::clone(&driver);
        tokio::spawn(async move {
            while Instant::now() < deadline {
                d.wrong_key().await;
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        })
    };
    println!(
        "  time   sessions   requests    req/s   resumed  wrong  lost  errors   RSS KiB   fds"
    );
    let mut warm = None;
    let mut last_requests = 0;
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    tick.tick().await;
    while Instant::now() < deadline {
        tick.tick().await;
        let c = &driver.counts;
        let t = start.elapsed().as_secs();
        let (rss, fds) = usage(pid);
        let requests = c.requests.load(Ordering::Relaxed);
        println!(
            "{t:>5}s {:>10} {:>10} {:>8} {:>9} {:>6} {:>5} {:>7} {rss:>9} {fds:>5}",
            c.sessions.load(Ordering::Relaxed),
            requests,
            (requests - last_requests) / 10,
            c.resumed.load(Ordering::Relaxed),
            c.refused.load(Ordering::Relaxed),
            c.lost_events.load(Ordering::Relaxed),
            c.unexpected.load(Ordering::Relaxed),
        );
        last_requests = requests;
        if warm.is_none() && t >= a.warmup {
            warm = Some((rss, fds));
        }
    }
    for w in workers {
        let _ = w.await;
    }
    let _ = prober.await;
    // Let abandoned sessions expire (idle timeout 5 s, swept on use) before the last reading.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let (rss, fds) = usage(pid);
    let _ = child.kill();
    let _ = child.wait();
    let c = &driver.counts;
    let (warm_rss, warm_fds) = warm.unwrap_or((rss, fds));
    let growth = (rss as f64 - warm_rss as f64) / warm_rss.max(1) as f64 * 100.0;
    let lost = c.lost_events.load(Ordering::Relaxed);
    let errors = c.unexpected.load(Ordering::Relaxed);
    println!(
        "end: {} sessions, {} requests, {} resumed streams, {lost} lost events, {errors} unexpected errors",
        c.sessions.load(Ordering::Relaxed),
        c.requests.load(Ordering::Relaxed),
        c.resumed.load(Ordering::Relaxed),
    );
    println!(
        "RSS after warm-up {warm_rss} KiB, at the end {rss} KiB ({growth:+.1} %); fds {warm_fds} -> {fds}"
    );
    let ok = growth <= 10.0 && fds <= warm_fds + 2 && lost == 0 && errors == 0;
    println!("{}", if ok { "SOAK PASSED" } else { "SOAK FAILED" });
    Ok(ok)
}

#[tokio::main]
async fn main() {
    if std::env::args().nth(1).as_deref() == Some("serve") {
        if let Err(e) = serve().await {
            eprintln!("soak server: {e}");
            std::process::exit(1);
        }
        return;
    }
    match drive(args()).await {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("soak: {e}");
            std::process::exit(2);
        }
    }
}
