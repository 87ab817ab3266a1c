//! [`RedisSessions`]: legacy sessions, their SSE events and the instances' messages on Redis.
//!
//! Keys of a session `S` under prefix `P` (the id in braces, a Redis Cluster hash tag, so that
//! a session's keys share a slot, as the event store's do):
//!
//! - `P{S}:r`: the record, a hash: `v` version, `c` capabilities (JSON), `i` client info
//!   (JSON), `p` principal, `l` log level (the last two only when set);
//! - `P{S}:u`: the subscribed resource URIs, a set;
//! - `P{S}:l`: the POST streams still running, a set of stream ids.
//!
//! Every key expires after the session's idle timeout; each request renews it. Messages go
//! through one pub/sub channel, `Pbus`, as JSON [`Envelope`]s.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use ::redis::aio::ConnectionManager;
use ::redis::{Client, FromRedisValue, Pipeline, pipe};
use futures_util::StreamExt;
use mcp_core::version::ProtocolVersion;
use tokio::sync::broadcast;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::{Envelope, Message, SessionRecord, SharedSessions, Unavailable};
use crate::BoxFuture;
use crate::auth::Principal;
use crate::client_state::StateChange;
use crate::transport::http::event_store::{EventStore, RedisEventStore};

/// How many messages of other instances wait for a slow reader before it misses some.
const MESSAGE_BUFFER: usize = 4096;
/// The longest pause between two attempts to subscribe again after Redis went away.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Why [`RedisSessions::connect`] failed. Never repeats the URL, which may hold a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("shared sessions: {0}")]
pub struct RedisSessionsError(String);

/// Legacy-era sessions shared through Redis (feature `redis`), so that several instances
/// behind one URL, with no sticky routing, serve every session: give it to
/// [`HttpConfig::shared_sessions`](crate::HttpConfig::shared_sessions).
///
/// What is shared: each session's record (negotiated version, client capabilities and info,
/// the principal it is bound to, log level, resource subscriptions), its SSE events (a
/// [`RedisEventStore`] under the same prefix, so that `Last-Event-ID` resumes through any
/// instance), and messages between the instances on one pub/sub channel: the client's answers
/// to server→client requests and its cancellations reach the instance running the request,
/// `DELETE` ends the session everywhere, list changes and resource updates reach the clients of
/// every instance, and a stream resumed elsewhere follows the events its instance still writes.
///
/// Failure behaviour: every call to Redis is bounded ([`timeout`](Self::timeout), default 2 s);
/// a request that needs a session while Redis does not answer gets 503 with `Retry-After`,
/// never an answer made on partial knowledge. Messages are fire-and-forget: those sent while
/// Redis or this instance's subscription is down are lost (a waiting elicitation then ends by
/// its timeout; a resumed stream still reads the store every second). The subscription
/// reconnects by itself.
///
/// Keys start with the prefix and expire after the sessions' idle timeout
/// ([`HttpConfig::session_idle_timeout`](crate::HttpConfig::session_idle_timeout)), renewed by
/// every request; there is no bound on their number other than Redis's `maxmemory`.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use mcp_server::transport::http::RedisSessions;
/// use mcp_server::{HttpConfig, McpServer};
///
/// let sessions = RedisSessions::connect("redis://10.0.0.7:6379/", "mcp:sessions:").await?;
/// let server = McpServer::builder("demo").build()?;
/// server
///     .http(HttpConfig::default().shared_sessions(sessions))
///     .serve("0.0.0.0:8000")
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisSessions {
    connection: ConnectionManager,
    prefix: String,
    /// The instances' pub/sub channel, `{prefix}bus`.
    channel: Arc<str>,
    instance: Arc<str>,
    events: RedisEventStore,
    messages: broadcast::Sender<Arc<Message>>,
    timeout: Duration,
    /// Stops the subscription task when the last clone goes.
    _subscription: Arc<DropGuard>,
}

impl std::fmt::Debug for RedisSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSessions")
            .field("prefix", &self.prefix)
            .field("instance", &self.instance)
            .field("events", &self.events)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisSessions {
    /// The default [`timeout`](Self::timeout): 2 seconds.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

    /// Connects to `url` (`redis://host:port/db`) and subscribes to the instances' channel;
    /// every key and the channel start with `prefix`. Events go to a [`RedisEventStore`] under
    /// `{prefix}events:` with its default bounds (see [`event_store`](Self::event_store)).
    pub async fn connect(url: &str, prefix: impl Into<String>) -> Result<Self, RedisSessionsError> {
        let prefix = prefix.into();
        let (client, connection) = crate::store::redis::connect(url)
            .await
            .map_err(RedisSessionsError)?;
        let instance: Arc<str> = crate::crypto::random_hex::<6>()
            .map_err(|_| RedisSessionsError("the system random generator failed".into()))?
            .into();
        let (messages, _) = broadcast::channel(MESSAGE_BUFFER);
        let stop = CancellationToken::new();
        let channel: Arc<str> = format!("{prefix}bus").into();
        tokio::spawn(subscribe(
            client,
            Arc::clone(&channel),
            Arc::clone(&instance),
            messages.clone(),
            stop.clone(),
        ));
        Ok(RedisSessions {
            events: RedisEventStore::new(connection.clone(), format!("{prefix}events:")),
            connection,
            prefix,
            channel,
            instance,
            messages,
            timeout: Self::DEFAULT_TIMEOUT,
            _subscription: Arc::new(stop.drop_guard()),
        })
    }

    /// Replaces the event store's settings (its bounds and TTL), e.g.
    /// `sessions.event_store(|e| e.max_events_per_session(256))`.
    #[must_use]
    pub fn event_store(
        mut self,
        configure: impl FnOnce(RedisEventStore) -> RedisEventStore,
    ) -> Self {
        self.events = configure(self.events);
        self
    }

    /// Sets how long one call to Redis may take before the request needing it fails with 503
    /// (default 2 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn key(&self, id: &str, suffix: &str) -> String {
        format!("{}{{{id}}}:{suffix}", self.prefix)
    }

    /// Adds the `PUBLISH` of `message` to `p`.
    fn announce(&self, p: &mut Pipeline, message: &Message) {
        if let Some(envelope) = self.envelope(message) {
            p.cmd("PUBLISH").arg(&*self.channel).arg(envelope).ignore();
        }
    }

    fn envelope(&self, message: &Message) -> Option<String> {
        serde_json::to_string(&Envelope {
            from: self.instance.to_string(),
            message: message.clone(),
        })
        .ok()
    }

    /// Runs `pipeline` inside a `redis` span, bounded by the timeout.
    async fn run<T: FromRedisValue>(
        &self,
        name: &'static str,
        pipeline: Pipeline,
    ) -> Result<T, Unavailable> {
        let span = crate::telemetry::outgoing(name, Some("redis"));
        crate::telemetry::traced(span, async move {
            let mut connection = self.connection.clone();
            match tokio::time::timeout(self.timeout, pipeline.query_async::<T>(&mut connection))
                .await
            {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(e)) => Err(Unavailable(format!("Redis failed: {:?}", e.kind()))),
                Err(_) => Err(Unavailable(format!(
                    "Redis did not answer within {} ms",
                    self.timeout.as_millis()
                ))),
            }
        })
        .await
    }
}

fn ttl_ms(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX).max(1)
}

/// Adds `PEXPIRE key ttl` to `p`, its reply ignored.
fn expire(p: &mut Pipeline, key: &str, ttl: Duration) {
    p.cmd("PEXPIRE").arg(key).arg(ttl_ms(ttl)).ignore();
}

fn decode(
    fields: HashMap<String, String>,
    subscriptions: HashSet<String>,
) -> Option<SessionRecord> {
    let version = ProtocolVersion::parse(fields.get("v")?)?;
    let capabilities = serde_json::from_str(fields.get("c")?).ok()?;
    let client_info = serde_json::from_str(fields.get("i")?).ok()?;
    let log_level = match fields.get("l") {
        Some(l) => Some(serde_json::from_value(serde_json::Value::String(l.clone())).ok()?),
        None => None,
    };
    Some(SessionRecord {
        version,
        capabilities,
        client_info,
        principal: fields.get("p").map(|p| Principal::from_stored(p.clone())),
        log_level,
        subscriptions,
    })
}

fn level_name(level: mcp_core::types::LoggingLevel) -> String {
    match serde_json::to_value(level) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

impl SharedSessions for RedisSessions {
    fn instance(&self) -> &Arc<str> {
        &self.instance
    }

    fn event_store(&self) -> Arc<dyn EventStore> {
        Arc::new(self.events.clone())
    }

    fn create<'a>(
        &'a self,
        id: &'a str,
        record: &'a SessionRecord,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), Unavailable>> {
        Box::pin(async move {
            let json = |v: serde_json::Result<String>| v.unwrap_or_default();
            let mut fields = vec![
                ("v", record.version.as_str().to_owned()),
                ("c", json(serde_json::to_string(&record.capabilities))),
                ("i", json(serde_json::to_string(&record.client_info))),
            ];
            if let Some(p) = &record.principal {
                fields.push(("p", p.as_str().to_owned()));
            }
            if let Some(l) = record.log_level {
                fields.push(("l", level_name(l)));
            }
            let key = self.key(id, "r");
            let mut p = pipe();
            p.atomic().cmd("HSET").arg(&key).arg(&fields).ignore();
            expire(&mut p, &key, ttl);
            self.run::<()>("redis HSET", p).await
        })
    }

    fn load<'a>(
        &'a self,
        id: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<SessionRecord>, Unavailable>> {
        Box::pin(async move {
            let (r, u, l) = (self.key(id, "r"), self.key(id, "u"), self.key(id, "l"));
            let mut p = pipe();
            p.cmd("HGETALL").arg(&r).cmd("SMEMBERS").arg(&u);
            for key in [&r, &u, &l] {
                expire(&mut p, key, ttl);
            }
            let (fields, subscriptions): (HashMap<String, String>, HashSet<String>) =
                self.run("redis HGETALL", p).await?;
            if fields.is_empty() {
                return Ok(None);
            }
            // A record this version cannot read is as good as gone.
            Ok(decode(fields, subscriptions))
        })
    }

    fn record<'a>(
        &'a self,
        id: &'a str,
        change: &'a StateChange,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), Unavailable>> {
        Box::pin(async move {
            let mut p = pipe();
            p.atomic();
            match change {
                StateChange::LogLevel(level) => {
                    p.cmd("HSET")
                        .arg(self.key(id, "r"))
                        .arg("l")
                        .arg(level_name(*level))
                        .ignore();
                }
                StateChange::Subscribed(uri) => {
                    let u = self.key(id, "u");
                    p.cmd("SADD").arg(&u).arg(uri).ignore();
                    expire(&mut p, &u, ttl);
                }
                StateChange::Unsubscribed(uri) => {
                    p.cmd("SREM").arg(self.key(id, "u")).arg(uri).ignore();
                }
            }
            let message = Message::State {
                s: id.to_owned(),
                change: change.clone(),
            };
            self.announce(&mut p, &message);
            self.run::<()>("redis update", p).await
        })
    }

    fn remove<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), Unavailable>> {
        Box::pin(async move {
            let mut p = pipe();
            p.atomic()
                .cmd("DEL")
                .arg(self.key(id, "r"))
                .arg(self.key(id, "u"))
                .arg(self.key(id, "l"))
                .ignore();
            self.announce(&mut p, &Message::Ended { s: id.to_owned() });
            self.run::<()>("redis DEL", p).await
        })
    }

    fn set_stream_live<'a>(
        &'a self,
        id: &'a str,
        stream: &'a str,
        live: bool,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), Unavailable>> {
        Box::pin(async move {
            let l = self.key(id, "l");
            let mut p = pipe();
            p.atomic();
            if live {
                p.cmd("SADD").arg(&l).arg(stream).ignore();
                expire(&mut p, &l, ttl);
            } else {
                p.cmd("SREM").arg(&l).arg(stream).ignore();
                let message = Message::Stream {
                    s: id.to_owned(),
                    stream: stream.to_owned(),
                };
                self.announce(&mut p, &message);
            }
            self.run::<()>("redis SADD", p).await
        })
    }

    fn is_stream_live<'a>(
        &'a self,
        id: &'a str,
        stream: &'a str,
    ) -> BoxFuture<'a, Result<bool, Unavailable>> {
        Box::pin(async move {
            let mut p = pipe();
            p.cmd("SISMEMBER").arg(self.key(id, "l")).arg(stream);
            let (live,): (bool,) = self.run("redis SISMEMBER", p).await?;
            Ok(live)
        })
    }

    fn publish(&self, message: Message) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut p = pipe();
        self.announce(&mut p, &message);
        let this = self.clone();
        runtime.spawn(async move {
            if let Err(e) = this.run::<()>("redis PUBLISH", p).await {
                tracing::debug!(error = %e, "a message to the other instances was lost");
            }
        });
    }

    fn messages(&self) -> broadcast::Receiver<Arc<Message>> {
        self.messages.subscribe()
    }
}

/// Receives the other instances' messages on `channel` until `stop`, subscribing again (with a
/// growing pause, at most [`MAX_BACKOFF`]) whenever the connection is lost.
async fn subscribe(
    client: Client,
    channel: Arc<str>,
    instance: Arc<str>,
    messages: broadcast::Sender<Arc<Message>>,
    stop: CancellationToken,
) {
    let mut failures: u32 = 0;
    loop {
        let attempt = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&*channel).await?;
            Ok::<_, ::redis::RedisError>(pubsub)
        };
        let attempt = tokio::time::timeout(Duration::from_secs(2), attempt);
        let outcome = tokio::select! {
            () = stop.cancelled() => return,
            outcome = attempt => outcome,
        };
        match outcome {
            Ok(Ok(pubsub)) => {
                if failures > 0 {
                    tracing::info!("subscribed again to the other instances' messages");
                }
                let mut stream = pubsub.into_on_message();
                loop {
                    let next = tokio::select! {
                        () = stop.cancelled() => return,
                        next = stream.next() => next,
                    };
                    let Some(msg) = next else { break };
                    let Ok(envelope) = serde_json::from_slice::<Envelope>(msg.get_payload_bytes())
                    else {
                        tracing::debug!("ignoring an unreadable message on the sessions channel");
                        continue;
                    };
                    if *envelope.from != *instance {
                        let _ = messages.send(Arc::new(envelope.message));
                    }
                }
                tracing::warn!(
                    "lost the subscription to the other instances' messages; subscribing again"
                );
                failures = 1;
            }
            Ok(Err(e)) => {
                if failures == 0 {
                    tracing::warn!(error = ?e.kind(), "cannot subscribe to the other instances' messages; retrying");
                }
                failures = failures.saturating_add(1);
            }
            Err(_) => {
                if failures == 0 {
                    tracing::warn!("Redis did not answer the subscription; retrying");
                }
                failures = failures.saturating_add(1);
            }
        }
        let pause = Duration::from_millis(100)
            .saturating_mul(2u32.saturating_pow(failures.min(8)))
            .min(MAX_BACKOFF);
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
    }
}
