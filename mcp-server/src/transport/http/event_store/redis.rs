//! SSE events on Redis (feature `redis`): a stream cut on one instance can be resumed with
//! `Last-Event-ID` through any other instance sharing the Redis.
//!
//! It lives here, beside its trait, rather than in `store::redis`: the `store` module sits
//! below the transport and may not name [`EventStore`]. It reuses `store::redis`'s connection
//! helpers.
//!
//! Keys of a session `S` under prefix `P` (the session id in braces: a Redis Cluster hash tag,
//! so that a session's keys share a slot):
//!
//! - `P{S}:n`: the session's event counter (`INCR`), the `<seq>` of the next event id;
//! - `P{S}:o`: every kept event of the session, a sorted set of event ids by `<seq>` (the
//!   per-session bound and its oldest-first eviction);
//! - `P{S}:d`: a hash, event id → the event's `data:` payload as the transport stored it;
//! - `P{S}:b`: a hash, stream id → the bytes the stream keeps (the per-stream bound);
//! - `P{S}:s:<stream>`: the events of one stream, a sorted set of event ids by `<seq>`.
//!
//! Every write is one Lua script (`EVAL`), atomic on the Redis server, so that instances
//! appending to the same session concurrently never break the bounds nor an index.

use std::sync::Arc;
use std::time::Duration;

use ::redis::aio::ConnectionManager;
use ::redis::{Cmd, FromRedisValue, cmd};

use super::{EventStore, EventStoreError, InMemoryEventStore, Replay, StoredEvent, split_event_id};
use crate::BoxFuture;
use crate::store::NotReady;

/// Appends one event and evicts until the bounds hold again; returns the event's `<seq>`.
///
/// KEYS: counter, order, data, bytes, the stream's set. ARGV: the prefix of stream sets, the
/// stream id, the data, the most events per session, the most bytes per stream, the TTL in
/// milliseconds, the per-event overhead.
const APPEND: &str = r"
local seq = redis.call('INCR', KEYS[1]) - 1
local id = ARGV[2] .. '.' .. seq
local overhead = tonumber(ARGV[7])
local function evict(eid)
  local stream = string.match(eid, '^(.*)%.%d+$')
  local data = redis.call('HGET', KEYS[3], eid)
  local cost = #eid + overhead
  if data then cost = cost + #data end
  redis.call('ZREM', KEYS[2], eid)
  redis.call('HDEL', KEYS[3], eid)
  if stream then
    redis.call('ZREM', ARGV[1] .. stream, eid)
    local left = redis.call('HINCRBY', KEYS[4], stream, -cost)
    if left <= 0 or redis.call('EXISTS', ARGV[1] .. stream) == 0 then
      redis.call('HDEL', KEYS[4], stream)
    end
  end
end
redis.call('ZADD', KEYS[5], seq, id)
redis.call('ZADD', KEYS[2], seq, id)
redis.call('HSET', KEYS[3], id, ARGV[3])
redis.call('HINCRBY', KEYS[4], ARGV[2], #id + #ARGV[3] + overhead)
local max_bytes = tonumber(ARGV[5])
while tonumber(redis.call('HGET', KEYS[4], ARGV[2]) or '0') > max_bytes do
  local oldest = redis.call('ZRANGE', KEYS[5], 0, 0)
  if #oldest == 0 then
    redis.call('HDEL', KEYS[4], ARGV[2])
    break
  end
  evict(oldest[1])
end
local max_events = tonumber(ARGV[4])
while redis.call('ZCARD', KEYS[2]) > max_events do
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)
  if #oldest == 0 then break end
  evict(oldest[1])
end
for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ARGV[6]) end
for _, stream in ipairs(redis.call('HKEYS', KEYS[4])) do
  redis.call('PEXPIRE', ARGV[1] .. stream, ARGV[6])
end
return seq
";

/// The events of a stream after one of its events: nil when that event is not kept, else the
/// ids and payloads after it, alternating, oldest first. An error when an indexed event has
/// no payload (never a replay with a gap).
///
/// KEYS: data, the stream's set. ARGV: the last event id.
const REPLAY: &str = r"
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not score then return false end
local out = {}
for _, eid in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. score, '+inf')) do
  local data = redis.call('HGET', KEYS[1], eid)
  if not data then return redis.error_reply('EVENTGAP an indexed event has no payload') end
  out[#out + 1] = eid
  out[#out + 1] = data
end
return out
";

/// Deletes every key of a session.
///
/// KEYS: counter, order, data, bytes. ARGV: the prefix of stream sets.
const REMOVE: &str = r"
for _, stream in ipairs(redis.call('HKEYS', KEYS[4])) do
  redis.call('DEL', ARGV[1] .. stream)
end
for _, eid in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local stream = string.match(eid, '^(.*)%.%d+$')
  if stream then redis.call('DEL', ARGV[1] .. stream) end
end
return redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
";

/// An [`EventStore`] on Redis, shared by every instance that uses the same server and prefix:
/// the events of a resumable SSE stream appended through one instance are replayed, after a
/// `Last-Event-ID`, through any other (the session itself must be known to the instance that
/// serves the resumption).
///
/// Same semantics as [`InMemoryEventStore`]:
///
/// - event ids are `<stream>.<seq>`, with `<seq>` from one Redis counter per session (`INCR`),
///   so ids are unique across instances, never reused while the session's keys live, and
///   order the session's events;
/// - at most [`max_events_per_session`](Self::max_events_per_session) events per session
///   (default 1024) and [`max_stream_bytes`](Self::max_stream_bytes) per stream (default
///   8 MiB, counted as the in-memory store does: data, id and
///   [`EVENT_OVERHEAD`](InMemoryEventStore::EVENT_OVERHEAD)), evicting the oldest first; an
///   event larger than the stream bound still gets its id but is not kept, nor anything older
///   of its stream;
/// - resuming with an id that is unknown, evicted or expired gives `Ok(None)` (the GET gets
///   400), never a partial replay.
///
/// Instead of the in-memory store's bound on the bytes of all sessions, every key of a session
/// expires [`ttl`](Self::ttl) after the session's last event (default
/// [1 hour](Self::DEFAULT_TTL), twice the default session idle timeout), so abandoned sessions
/// do not stay; bound the whole keyspace with Redis's own `maxmemory` settings. Use a prefix of
/// its own.
///
/// Fails closed: every call is bounded by [`timeout`](Self::timeout) (default
/// [2 s](Self::DEFAULT_TIMEOUT)), on top of the connection's own bounds (2 s to connect, 1 s
/// per reply). A failed append is an [`EventStoreError`] (the transport sends the event
/// without an id: it cannot be resumed); a failed replay is an error (the resuming GET gets
/// 400). Errors name the Redis error kind only, never the URL nor an event's contents, which
/// can carry tool results.
///
/// Needs a standalone Redis (or one where each session's keys share a slot: they carry the
/// session id as a hash tag) that runs Lua scripts (`EVAL`).
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use std::time::Duration;
/// use mcp_server::HttpConfig;
/// use mcp_server::transport::http::RedisEventStore;
///
/// let events = RedisEventStore::connect("redis://127.0.0.1:6379/", "mcp:events:")
///     .await?
///     .max_events_per_session(512)
///     .ttl(Duration::from_secs(30 * 60));
/// let config = HttpConfig::default().event_store(Arc::new(events));
/// # let _ = config;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisEventStore {
    connection: ConnectionManager,
    prefix: String,
    max_events_per_session: usize,
    max_stream_bytes: usize,
    ttl: Duration,
    timeout: Duration,
}

impl std::fmt::Debug for RedisEventStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisEventStore")
            .field("prefix", &self.prefix)
            .field("max_events_per_session", &self.max_events_per_session)
            .field("max_stream_bytes", &self.max_stream_bytes)
            .field("ttl", &self.ttl)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The keys of one session.
struct Keys {
    counter: String,
    order: String,
    data: String,
    bytes: String,
    /// The prefix of the session's stream sets: `…:s:`, the stream id follows.
    streams: String,
}

impl Keys {
    /// The keys of session `session_id` under `prefix`: the session id in braces, a hash tag.
    fn of(prefix: &str, session_id: &str) -> Keys {
        let base = format!("{prefix}{{{session_id}}}:");
        Keys {
            counter: format!("{base}n"),
            order: format!("{base}o"),
            data: format!("{base}d"),
            bytes: format!("{base}b"),
            streams: format!("{base}s:"),
        }
    }
}

/// The longest TTL (about 100 years), whatever the caller asks: `PEXPIRE` takes an `i64`.
const MAX_TTL: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

impl RedisEventStore {
    /// The default [`ttl`](Self::ttl): 1 hour.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);
    /// The default [`timeout`](Self::timeout): 2 seconds.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

    /// A store on an existing connection, which it may share with other users; every key
    /// starts with `prefix`. The bounds are the in-memory store's defaults.
    pub fn new(connection: ConnectionManager, prefix: impl Into<String>) -> Self {
        RedisEventStore {
            connection,
            prefix: prefix.into(),
            max_events_per_session: InMemoryEventStore::DEFAULT_MAX_EVENTS_PER_SESSION,
            max_stream_bytes: InMemoryEventStore::DEFAULT_MAX_STREAM_BYTES,
            ttl: Self::DEFAULT_TTL,
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    /// Connects to `url` (`redis://host:port/db`); every key starts with `prefix`. The error
    /// never repeats the URL, which may hold a password.
    pub async fn connect(url: &str, prefix: impl Into<String>) -> Result<Self, EventStoreError> {
        let (_, connection) = crate::store::redis::connect(url)
            .await
            .map_err(EventStoreError)?;
        Ok(Self::new(connection, prefix))
    }

    /// Sets the events kept per session (default 1024, at least 1); the oldest events of the
    /// session, whatever their stream, are evicted beyond it.
    #[must_use]
    pub fn max_events_per_session(mut self, n: usize) -> Self {
        self.max_events_per_session = n.max(1);
        self
    }

    /// Sets the bytes kept per stream (default 8 MiB); older events of the stream are evicted
    /// beyond it, and a larger event is not kept at all.
    #[must_use]
    pub fn max_stream_bytes(mut self, bytes: usize) -> Self {
        self.max_stream_bytes = bytes;
        self
    }

    /// Sets how long a session's events stay after its last append (default 1 hour, at least
    /// 1 ms, at most about 100 years): every append renews the expiry of all the session's keys.
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl.clamp(Duration::from_millis(1), MAX_TTL);
        self
    }

    /// Sets how long one call to Redis may take before it fails (default 2 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The bounds: events per session, bytes per stream, time to live.
    pub fn limits(&self) -> (usize, usize, Duration) {
        (self.max_events_per_session, self.max_stream_bytes, self.ttl)
    }

    fn keys(&self, session_id: &str) -> Keys {
        Keys::of(&self.prefix, session_id)
    }

    /// Runs `command` inside a `redis EVAL` span, bounded by the timeout.
    async fn run<T: FromRedisValue>(&self, command: Cmd) -> Result<T, EventStoreError> {
        let span = crate::telemetry::outgoing("redis EVAL", Some("redis"));
        crate::telemetry::traced(span, async move {
            // The connection manager is a cheap handle on one multiplexed connection.
            let mut connection = self.connection.clone();
            match tokio::time::timeout(self.timeout, command.query_async::<T>(&mut connection))
                .await
            {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(e)) => Err(EventStoreError(format!("Redis failed: {:?}", e.kind()))),
                Err(_) => Err(EventStoreError(format!(
                    "Redis did not answer within {} ms",
                    self.timeout.as_millis()
                ))),
            }
        })
        .await
    }
}

/// `EVAL script` with its keys and arguments.
fn eval(script: &str, keys: &[&str], args: &[&[u8]]) -> Cmd {
    let mut c = cmd("EVAL");
    c.arg(script).arg(keys.len());
    for k in keys {
        c.arg(*k);
    }
    for a in args {
        c.arg(*a);
    }
    c
}

/// The events of a replay from the script's alternating ids and payloads.
fn events(flat: Vec<String>) -> Result<Vec<StoredEvent>, EventStoreError> {
    if flat.len() % 2 != 0 {
        return Err(EventStoreError(
            "Redis answered a malformed replay".to_owned(),
        ));
    }
    let mut out = Vec::with_capacity(flat.len() / 2);
    let mut it = flat.into_iter();
    while let (Some(id), Some(data)) = (it.next(), it.next()) {
        out.push(StoredEvent {
            id,
            data: Arc::from(data),
        });
    }
    Ok(out)
}

impl EventStore for RedisEventStore {
    fn append<'a>(
        &'a self,
        session_id: &'a str,
        stream_id: &'a str,
        data: Arc<str>,
    ) -> BoxFuture<'a, Result<String, EventStoreError>> {
        Box::pin(async move {
            let k = self.keys(session_id);
            let stream_key = format!("{}{stream_id}", k.streams);
            let command = eval(
                APPEND,
                &[&k.counter, &k.order, &k.data, &k.bytes, &stream_key],
                &[
                    k.streams.as_bytes(),
                    stream_id.as_bytes(),
                    data.as_bytes(),
                    self.max_events_per_session.to_string().as_bytes(),
                    self.max_stream_bytes.to_string().as_bytes(),
                    self.ttl.as_millis().to_string().as_bytes(),
                    InMemoryEventStore::EVENT_OVERHEAD.to_string().as_bytes(),
                ],
            );
            let seq: u64 = self.run(command).await?;
            Ok(format!("{stream_id}.{seq}"))
        })
    }

    fn replay_after<'a>(
        &'a self,
        session_id: &'a str,
        last_event_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Replay>, EventStoreError>> {
        Box::pin(async move {
            let Some((stream_id, _)) = split_event_id(last_event_id) else {
                return Ok(None);
            };
            let k = self.keys(session_id);
            let stream_key = format!("{}{stream_id}", k.streams);
            let command = eval(REPLAY, &[&k.data, &stream_key], &[last_event_id.as_bytes()]);
            let flat: Option<Vec<String>> = self.run(command).await?;
            let Some(flat) = flat else {
                return Ok(None);
            };
            Ok(Some(Replay {
                stream_id: stream_id.to_owned(),
                events: events(flat)?,
            }))
        })
    }

    fn remove_session<'a>(&'a self, session_id: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let k = self.keys(session_id);
            let command = eval(
                REMOVE,
                &[&k.counter, &k.order, &k.data, &k.bytes],
                &[k.streams.as_bytes()],
            );
            if let Err(e) = self.run::<i64>(command).await {
                // The keys expire by themselves after the TTL.
                tracing::warn!(error = %e, "could not remove a session's SSE events from Redis");
            }
        })
    }

    /// A `PING`, answered within 1 s.
    fn readiness(&self) -> BoxFuture<'_, Result<(), NotReady>> {
        Box::pin(crate::store::redis::ping(&self.connection))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_split_into_their_stream_and_sequence() {
        assert_eq!(split_event_id("3.17"), Some(("3", 17)));
        assert_eq!(split_event_id("get.0"), Some(("get", 0)));
        assert_eq!(split_event_id("3"), None);
        assert_eq!(split_event_id("3.x"), None);
        assert_eq!(split_event_id("3.-1"), None);
        assert_eq!(split_event_id(""), None);
    }

    #[test]
    fn sequences_order_numerically_not_as_text() {
        // The sets are scored by `<seq>`: "a.10" comes after "a.9".
        let mut ids = ["a.10", "a.9", "a.100", "a.0"];
        ids.sort_by_key(|id| split_event_id(id).map(|(_, s)| s));
        assert_eq!(ids, ["a.0", "a.9", "a.10", "a.100"]);
    }

    #[test]
    fn a_replay_pairs_ids_with_payloads_and_refuses_an_odd_answer() {
        let got = events(vec!["a.1".into(), "x".into(), "a.2".into(), String::new()]);
        assert_eq!(
            got,
            Ok(vec![
                StoredEvent {
                    id: "a.1".into(),
                    data: "x".into()
                },
                StoredEvent {
                    id: "a.2".into(),
                    data: "".into()
                },
            ])
        );
        assert!(events(vec!["a.1".into()]).is_err());
        assert_eq!(events(Vec::new()), Ok(Vec::new()));
    }

    #[test]
    fn every_key_of_a_session_carries_the_prefix_and_the_session_hash_tag() {
        let k = Keys::of("p:", "abc");
        let all = [&k.counter, &k.order, &k.data, &k.bytes, &k.streams];
        for key in all {
            assert!(key.starts_with("p:{abc}:"), "{key}");
        }
        let unique: std::collections::HashSet<_> = all.iter().collect();
        assert_eq!(unique.len(), all.len());
        assert_eq!(k.streams, "p:{abc}:s:");
    }
}
