//! Redis backends (feature `redis`), on one reconnecting [`::redis::aio::ConnectionManager`]
//! each; every key they write carries a prefix of the caller's choice and an expiry.

mod replay;
mod tasks;

pub use replay::RedisReplayCache;
pub use tasks::RedisTaskStore;

use std::time::Duration;

use ::redis::Client;
use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::store::NotReady;

/// How long the readiness check waits for Redis's answer to `PING`.
const PING_TIMEOUT: Duration = Duration::from_secs(1);

/// The readiness check of a Redis store: a `PING` on `connection`, answered within
/// [`PING_TIMEOUT`]. The reason names the error kind only, never the URL.
pub(crate) async fn ping(connection: &ConnectionManager) -> Result<(), NotReady> {
    let mut connection = connection.clone();
    let command = ::redis::cmd("PING");
    let ping = command.query_async::<String>(&mut connection);
    match tokio::time::timeout(PING_TIMEOUT, ping).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(NotReady::new(format!(
            "Redis did not answer PING: {:?}",
            e.kind()
        ))),
        Err(_) => Err(NotReady::new(format!(
            "Redis did not answer PING within {} ms",
            PING_TIMEOUT.as_millis()
        ))),
    }
}

/// Opens a reconnecting connection to `url` with bounds that keep a request from hanging on a
/// Redis that does not answer: 2 s to connect, 1 s per reply, two reconnection attempts; with
/// the client, for stores that open connections of their own. The error never repeats the URL,
/// which may hold a password.
pub(crate) async fn connect(url: &str) -> Result<(Client, ConnectionManager), String> {
    let client = Client::open(url).map_err(|_| "the Redis URL is invalid".to_owned())?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_secs(1)))
        .set_number_of_retries(2);
    let connection = ConnectionManager::new_with_config(client.clone(), config)
        .await
        .map_err(|e| format!("Redis is unreachable: {:?}", e.kind()))?;
    Ok((client, connection))
}
