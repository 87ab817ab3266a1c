//! SSE events shared through Redis: `RedisEventStore` honours the in-memory store's contract
//! (order, unknown ids, eviction, removal), its ids are unique across instances, and the events
//! one instance stored are replayed through another handle. End to end, a legacy-era stream
//! cut early resumes with `Last-Event-ID` through the Redis store.
//!
//! Here sessions are not shared (`HttpConfig::event_store` alone): a resumption sent to another
//! instance gets 404, and the cross-instance property is checked at the store level. With
//! `HttpConfig::shared_sessions` it resumes through any instance (`shared_sessions.rs`).
//!
//! Needs a Redis server: set `MCP_TEST_REDIS_URL` (for example `redis://127.0.0.1:6379/`).
//! Without it each test says so and passes without checking anything, except under `CI`, where
//! it fails. The test of an unreachable Redis needs no Redis.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_server::HttpConfig;
use mcp_server::testing::{TestServer, spawn};
use mcp_server::transport::http::{EventStore, RedisEventStore};
use mcp_tests::{Session, fixture, redis_prefix, redis_url, send, sse_events, sse_messages};
use reqwest::Method;
use serde_json::json;

async fn store(url: &str, prefix: &str) -> RedisEventStore {
    RedisEventStore::connect(url, prefix)
        .await
        .expect("Redis is reachable")
}

/// The keys under `prefix`, sorted.
async fn keys(url: &str, prefix: &str) -> Vec<String> {
    let client = redis::Client::open(url).expect("a Redis URL");
    let mut c = client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis is reachable");
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut c)
        .await
        .expect("KEYS");
    keys.sort();
    keys
}

/// The payloads of a replay.
fn data(r: &mcp_server::transport::http::Replay) -> Vec<&str> {
    r.events.iter().map(|e| &*e.data).collect()
}

#[tokio::test]
async fn replay_gives_the_later_events_of_the_same_stream_in_order() {
    let Some(url) = redis_url() else { return };
    let s = store(&url, &redis_prefix()).await;
    let a0 = s.append("s", "a", "".into()).await.unwrap();
    let b1 = s.append("s", "b", "b1".into()).await.unwrap();
    let a2 = s.append("s", "a", "a2".into()).await.unwrap();
    let a3 = s.append("s", "a", "a3".into()).await.unwrap();
    assert_eq!([&*a0, &*b1, &*a2, &*a3], ["a.0", "b.1", "a.2", "a.3"]);
    let r = s.replay_after("s", &a0).await.unwrap().unwrap();
    assert_eq!(r.stream_id, "a");
    assert_eq!(data(&r), ["a2", "a3"], "never another stream's events");
    assert_eq!(
        r.events.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        [a2.as_str(), a3.as_str()]
    );
    let r = s.replay_after("s", &b1).await.unwrap().unwrap();
    assert_eq!(r.stream_id, "b");
    assert!(r.events.is_empty());
    // After the last event: nothing, but known.
    let r = s.replay_after("s", &a3).await.unwrap().unwrap();
    assert!(r.events.is_empty());
    // Unknown: never issued, malformed, another session's.
    for unknown in ["zz.9", "a.99", "a.1", "a", "a.x", "", "a.-1"] {
        assert_eq!(s.replay_after("s", unknown).await, Ok(None), "{unknown}");
    }
    assert_eq!(s.replay_after("other", &a0).await, Ok(None));
}

#[tokio::test]
async fn sequences_order_numerically_past_ten() {
    let Some(url) = redis_url() else { return };
    let s = store(&url, &redis_prefix()).await;
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(s.append("s", "a", format!("e{i}").into()).await.unwrap());
    }
    let r = s.replay_after("s", &ids[1]).await.unwrap().unwrap();
    let want: Vec<String> = (2..12).map(|i| format!("e{i}")).collect();
    assert_eq!(data(&r), want);
}

/// The events one instance appends are replayed through another instance's handle, and two
/// instances appending to the same session at once never issue the same id.
#[tokio::test]
async fn ids_are_unique_across_instances_and_replay_through_either() {
    let Some(url) = redis_url() else { return };
    let prefix = redis_prefix();
    let a = Arc::new(store(&url, &prefix).await);
    let b = Arc::new(store(&url, &prefix).await);
    let first = a.append("s", "7", "".into()).await.unwrap();
    let mut tasks = Vec::new();
    for (n, s) in [(0, &a), (1, &b)] {
        let s = Arc::clone(s);
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..40 {
                ids.push(s.append("s", "7", format!("{n}:{i}").into()).await.unwrap());
            }
            ids
        }));
    }
    let mut all = HashSet::new();
    for t in tasks {
        for id in t.await.unwrap() {
            assert!(all.insert(id.clone()), "{id} issued twice");
        }
    }
    assert_eq!(all.len(), 80);
    let through_b = b.replay_after("s", &first).await.unwrap().unwrap();
    let through_a = a.replay_after("s", &first).await.unwrap().unwrap();
    assert_eq!(through_a, through_b);
    assert_eq!(through_b.events.len(), 80);
    let seqs: Vec<u64> = through_b
        .events
        .iter()
        .map(|e| e.id.rsplit_once('.').unwrap().1.parse().unwrap())
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "oldest first: {seqs:?}"
    );
    // Each instance's own events keep their order.
    for n in 0..2 {
        let mine: Vec<&str> = through_b
            .events
            .iter()
            .map(|e| &*e.data)
            .filter(|d| d.starts_with(&format!("{n}:")))
            .collect();
        let want: Vec<String> = (0..40).map(|i| format!("{n}:{i}")).collect();
        assert_eq!(mine, want);
    }
}

#[tokio::test]
async fn events_past_the_session_cap_are_evicted_oldest_first() {
    let Some(url) = redis_url() else { return };
    let s = store(&url, &redis_prefix()).await.max_events_per_session(2);
    let first = s.append("s", "a", "1".into()).await.unwrap();
    let second = s.append("s", "b", "2".into()).await.unwrap();
    let third = s.append("s", "a", "3".into()).await.unwrap();
    assert_eq!(s.replay_after("s", &first).await, Ok(None), "evicted");
    assert!(s.replay_after("s", &second).await.unwrap().is_some());
    let r = s.replay_after("s", &third).await.unwrap().unwrap();
    assert!(r.events.is_empty());
    s.append("s", "a", "4".into()).await.unwrap();
    assert_eq!(s.replay_after("s", &second).await, Ok(None), "evicted");
    let r = s.replay_after("s", &third).await.unwrap().unwrap();
    assert_eq!(data(&r), ["4"]);
}

/// As in memory: a stream keeps at most its byte bound; an event larger than the bound is not
/// kept, nor anything older of its stream, but still gets its id, and ids are never reused.
#[tokio::test]
async fn a_stream_keeps_at_most_its_byte_bound() {
    let Some(url) = redis_url() else { return };
    let d = "x".repeat(100);
    let per_event =
        d.len() + "a.0".len() + mcp_server::transport::http::InMemoryEventStore::EVENT_OVERHEAD;
    let s = store(&url, &redis_prefix())
        .await
        .max_stream_bytes(3 * per_event);
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(s.append("s", "a", d.as_str().into()).await.unwrap());
    }
    let b5 = s.append("s", "b", d.as_str().into()).await.unwrap();
    for evicted in &ids[..2] {
        assert_eq!(s.replay_after("s", evicted).await, Ok(None));
    }
    let r = s.replay_after("s", &ids[2]).await.unwrap().unwrap();
    assert_eq!(
        r.events.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        [ids[3].as_str(), ids[4].as_str()]
    );
    assert!(s.replay_after("s", &b5).await.unwrap().is_some());

    let s = store(&url, &redis_prefix()).await.max_stream_bytes(300);
    let before = s.append("s", "a", "small".into()).await.unwrap();
    let huge = s.append("s", "a", "y".repeat(1000).into()).await.unwrap();
    assert_eq!(huge, "a.1", "the event still gets its id");
    assert_eq!(s.replay_after("s", &before).await, Ok(None));
    assert_eq!(s.replay_after("s", &huge).await, Ok(None));
    let after = s.append("s", "a", "ok".into()).await.unwrap();
    assert_eq!(after, "a.2", "ids are never reused");
    let next = s.append("s", "a", "ok2".into()).await.unwrap();
    let r = s.replay_after("s", &after).await.unwrap().unwrap();
    assert_eq!(r.events.len(), 1);
    assert_eq!(r.events[0].id, next);
}

#[tokio::test]
async fn remove_session_deletes_every_key_of_the_session_only() {
    let Some(url) = redis_url() else { return };
    let prefix = redis_prefix();
    let s = store(&url, &prefix).await;
    let a = s.append("s", "a", "1".into()).await.unwrap();
    s.append("s", "b", "2".into()).await.unwrap();
    let other = s.append("t", "a", "3".into()).await.unwrap();
    assert!(keys(&url, &prefix).await.len() > 4);
    s.remove_session("s").await;
    assert_eq!(s.replay_after("s", &a).await, Ok(None));
    let left = keys(&url, &prefix).await;
    assert!(!left.is_empty());
    assert!(
        left.iter()
            .all(|k| k.starts_with(&format!("{prefix}{{t}}:"))),
        "{left:?}"
    );
    assert!(s.replay_after("t", &other).await.unwrap().is_some());
    s.remove_session("t").await;
    assert_eq!(keys(&url, &prefix).await, Vec::<String>::new());
}

/// Every key of a session expires after the TTL; every append renews it.
#[tokio::test]
async fn an_abandoned_session_expires() {
    let Some(url) = redis_url() else { return };
    let prefix = redis_prefix();
    let s = store(&url, &prefix).await.ttl(Duration::from_millis(1500));
    let a = s.append("s", "a", "1".into()).await.unwrap();
    s.append("s", "b", "2".into()).await.unwrap();
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    for key in keys(&url, &prefix).await {
        let ttl: i64 = redis::cmd("PTTL")
            .arg(&key)
            .query_async(&mut c)
            .await
            .unwrap();
        assert!(ttl > 0 && ttl <= 1500, "{key}: {ttl}");
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    s.append("s", "a", "3".into()).await.unwrap();
    // Past the first expiry, before the renewed one.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        s.replay_after("s", &a).await.unwrap().is_some(),
        "renewed by the append"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while !keys(&url, &prefix).await.is_empty() {
        assert!(Instant::now() < deadline, "the keys expire");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(s.replay_after("s", &a).await, Ok(None));
}

/// Fail closed and bounded: a Redis that accepts connections but never answers fails the
/// connection within its bounds, with an error that does not repeat the URL's password.
#[tokio::test]
async fn a_redis_that_does_not_answer_fails_within_bounds() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut conns = Vec::new();
        while let Ok((c, _)) = listener.accept().await {
            conns.push(c);
        }
    });
    let started = Instant::now();
    let url = format!("redis://:hunter2secret@127.0.0.1:{port}/");
    let err = RedisEventStore::connect(&url, "p:")
        .await
        .expect_err("no answer, no store");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert!(!err.to_string().contains("hunter2secret"), "{err}");
    held.abort();
}

/// A Redis that stops answering after the connection (a proxy in front of it that freezes):
/// append and replay are errors within the timeout (never a silent empty replay), removal does
/// not panic, readiness says why; when Redis answers again, the store serves again.
#[tokio::test]
async fn calls_fail_closed_and_bounded_when_redis_stops_answering() {
    let Some(url) = redis_url() else { return };
    let proxy = Proxy::start(&url).await;
    let s = store(&proxy.url, &redis_prefix())
        .await
        .timeout(Duration::from_millis(300));
    let a = s.append("s", "a", "1".into()).await.unwrap();
    assert!(s.readiness().await.is_ok());
    proxy.freeze();
    let started = Instant::now();
    let appended = s.append("s", "a", "2".into()).await;
    assert!(appended.is_err(), "{appended:?}");
    let replay = s.replay_after("s", &a).await;
    assert!(replay.is_err(), "{replay:?}");
    s.remove_session("s").await;
    assert!(s.readiness().await.is_err());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "bounded: {:?}",
        started.elapsed()
    );
    proxy.thaw();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(Some(r)) = s.replay_after("s", &a).await {
            // The frozen append may or may not have reached Redis; never a gap.
            assert!(r.events.len() <= 1, "{r:?}");
            break;
        }
        assert!(Instant::now() < deadline, "the store serves again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A TCP proxy to Redis that can stop forwarding: frozen, it closes the connections it
/// forwards and holds new ones without a byte of answer.
struct Proxy {
    url: String,
    frozen: Arc<std::sync::atomic::AtomicBool>,
    pipes: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    held: Arc<std::sync::Mutex<Vec<tokio::net::TcpStream>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(url: &str) -> Proxy {
        // redis://[userinfo@]host:port[/db]
        let rest = url.strip_prefix("redis://").expect("a redis:// URL");
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, upstream) = match authority.rsplit_once('@') {
            Some((u, h)) => (format!("{u}@"), h.to_owned()),
            None => (String::new(), authority.to_owned()),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let frozen = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let pipes = Arc::new(std::sync::Mutex::new(Vec::new()));
        let held = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (f, p, h) = (Arc::clone(&frozen), Arc::clone(&pipes), Arc::clone(&held));
        let accept = tokio::spawn(async move {
            while let Ok((mut down, _)) = listener.accept().await {
                if f.load(std::sync::atomic::Ordering::SeqCst) {
                    h.lock().unwrap().push(down);
                    continue;
                }
                let upstream = upstream.clone();
                p.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut up) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                    }
                }));
            }
        });
        Proxy {
            url: format!("redis://{userinfo}127.0.0.1:{port}/{path}"),
            frozen,
            pipes,
            held,
            accept,
        }
    }

    fn freeze(&self) {
        self.frozen.store(true, std::sync::atomic::Ordering::SeqCst);
        for pipe in self.pipes.lock().unwrap().drain(..) {
            pipe.abort();
        }
    }

    /// Forwards again; the connections held while frozen are closed (the client reconnects).
    fn thaw(&self) {
        self.frozen
            .store(false, std::sync::atomic::Ordering::SeqCst);
        self.held.lock().unwrap().clear();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        for pipe in self.pipes.lock().unwrap().drain(..) {
            pipe.abort();
        }
    }
}

/// A legacy-era stream closed early resumes with `Last-Event-ID` from the Redis store; the
/// events are in Redis under the prefix, and ending the session deletes them.
#[tokio::test]
async fn a_cut_stream_resumes_through_the_redis_store_end_to_end() {
    let Some(url) = redis_url() else { return };
    let prefix = redis_prefix();
    let srv = instance(Arc::new(store(&url, &prefix).await)).await;
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let last = cut(&s).await;
    assert!(
        !keys(&url, &prefix).await.is_empty(),
        "the events are in Redis"
    );
    let r = resume(&srv, &s, &last).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(result_text(&r.body), "after reconnect");
    let r = resume(&srv, &s, "0.999").await;
    assert_eq!(r.status, 400, "an unknown id");

    let r = send(
        Method::DELETE,
        &srv.url(),
        &[
            ("mcp-session-id", &s.id),
            ("mcp-protocol-version", &s.version),
        ],
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !keys(&url, &prefix).await.is_empty() {
        assert!(
            Instant::now() < deadline,
            "ending the session deletes its events"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Two instances share the store: a stream cut on A is in Redis for B. B does not know A's
/// session yet (sessions are per instance), so the resumption through B gets 404 and the events
/// are read through a handle of B's; through A the resumption works.
#[tokio::test]
async fn a_stream_cut_on_one_instance_is_in_the_store_of_the_other() {
    let Some(url) = redis_url() else { return };
    let prefix = redis_prefix();
    let a = instance(Arc::new(store(&url, &prefix).await)).await;
    let b_store = Arc::new(store(&url, &prefix).await);
    let b = instance(Arc::clone(&b_store) as Arc<dyn EventStore>).await;
    let s = Session::open(&a.url(), "2025-11-25", json!({})).await;
    let last = cut(&s).await;
    let r = resume(&b, &s, &last).await;
    assert_eq!(r.status, 404, "sessions are not shared here: {}", r.body);
    // The answer is stored once the tool ends; wait for it (a loaded machine may be slow).
    let deadline = Instant::now() + Duration::from_secs(10);
    let texts = loop {
        let replay = b_store
            .replay_after(&s.id, &last)
            .await
            .unwrap()
            .expect("A's events through B's handle");
        let texts: Vec<String> = replay
            .events
            .iter()
            .filter(|e| !e.data.is_empty())
            .map(|e| e.data.to_string())
            .collect();
        if !texts.is_empty() || Instant::now() > deadline {
            break texts;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].contains("after reconnect"), "{texts:?}");
    let r = resume(&a, &s, &last).await;
    assert_eq!(r.status, 200);
    assert_eq!(result_text(&r.body), "after reconnect");
}

async fn instance(events: Arc<dyn EventStore>) -> TestServer {
    spawn(fixture().http(HttpConfig::default().event_store(events)))
        .await
        .expect("server starts")
}

/// Calls the `reconnect` tool, which closes its stream before answering; returns the last
/// event id the client saw, once the answer has been stored.
async fn cut(s: &Session) -> String {
    let r = s
        .post(&json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"reconnect","arguments":{}}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(sse_messages(&r.body).is_empty(), "closed before the result");
    let last = sse_events(&r.body)
        .iter()
        .rev()
        .find_map(|(id, _)| id.clone())
        .expect("an event id");
    tokio::time::sleep(Duration::from_millis(300)).await;
    last
}

async fn resume(srv: &TestServer, s: &Session, last: &str) -> mcp_tests::RawResponse {
    send(
        Method::GET,
        &srv.url(),
        &[
            ("accept", "text/event-stream"),
            ("mcp-session-id", &s.id),
            ("mcp-protocol-version", &s.version),
            ("last-event-id", last),
        ],
        None,
    )
    .await
}

fn result_text(body: &str) -> String {
    sse_messages(body)
        .iter()
        .find(|m| m["id"] == 1 && m.get("result").is_some())
        .and_then(|m| m["result"]["content"][0]["text"].as_str())
        .unwrap_or_default()
        .to_owned()
}
