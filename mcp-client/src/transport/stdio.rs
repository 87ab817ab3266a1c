//! stdio: newline-delimited JSON-RPC with a server process (or any pair of byte streams). One
//! task reads the server's lines and routes them (responses to their waiting request,
//! notifications and requests to [`Incoming`]); another writes the client's lines in order.
//! Cancellation is `notifications/cancelled`; closing ends stdin and waits for the process.
//! Starting the process needs the `stdio` feature; the framing itself is always there.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use mcp_core::jsonrpc::{Message, Notification, Payload, RequestId, parse_payload};
use mcp_core::types::{CancelledNotificationParams, methods};
use serde::Serialize;
use serde_json::Value;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};

use super::{Call, spawn_detached};
use crate::error::{Error, TransportError};
use crate::incoming::Incoming;
use crate::notifications::AbortOnDrop;

/// How long [`StdioWire::close`] waits for the process to exit before killing it.
#[cfg(feature = "stdio")]
const EXIT_GRACE: std::time::Duration = std::time::Duration::from_secs(5);
/// The longest line the client reads from the server; a longer one is skipped.
const MAX_LINE: usize = 64 * 1024 * 1024;

type Answer = oneshot::Sender<Result<Value, Error>>;

/// Requests waiting for their response; closed for good when the server's output ends.
#[derive(Default)]
struct Pending {
    waiting: Mutex<HashMap<RequestId, Answer>>,
    closed: AtomicBool,
}

impl Pending {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<RequestId, Answer>> {
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn register(&self, id: RequestId) -> Result<oneshot::Receiver<Result<Value, Error>>, Error> {
        let (tx, rx) = oneshot::channel();
        let mut map = self.map();
        if self.closed.load(Ordering::SeqCst) {
            return Err(TransportError::ConnectionClosed.into());
        }
        map.insert(id, tx);
        Ok(rx)
    }

    fn complete(&self, id: &RequestId, answer: Result<Value, Error>) {
        if let Some(tx) = self.map().remove(id) {
            let _ = tx.send(answer);
        } else {
            tracing::debug!(%id, "a response matches no waiting request");
        }
    }

    /// Fails every waiting request and refuses new ones.
    fn close(&self) {
        let mut map = self.map();
        self.closed.store(true, Ordering::SeqCst);
        for (_, tx) in map.drain() {
            let _ = tx.send(Err(TransportError::ConnectionClosed.into()));
        }
    }
}

/// Forgets a request that is no longer awaited.
struct Forget<'a> {
    pending: &'a Pending,
    id: RequestId,
}

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        self.pending.map().remove(&self.id);
    }
}

struct Shared {
    out: Mutex<Option<mpsc::UnboundedSender<String>>>,
    pending: Arc<Pending>,
    child: tokio::sync::Mutex<Option<Process>>,
    _reader: AbortOnDrop,
}

/// A stdio connection. Cheap to clone.
#[derive(Clone)]
pub(crate) struct StdioWire {
    shared: Arc<Shared>,
}

impl StdioWire {
    /// Starts `command` with piped stdin and stdout (stderr as the command says) and talks to
    /// it. The process is killed if the client is dropped without [`close`](Self::close).
    #[cfg(feature = "stdio")]
    pub fn spawn(
        mut command: tokio::process::Command,
        incoming: Arc<Incoming>,
    ) -> Result<Self, Error> {
        command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(Error::Spawn)?;
        let missing = || Error::Spawn(std::io::Error::other("the process has no piped stdio"));
        let stdin = child.stdin.take().ok_or_else(missing)?;
        let stdout = child.stdout.take().ok_or_else(missing)?;
        Ok(Self::start(stdout, stdin, incoming, Some(Process(child))))
    }

    /// Talks over any pair of byte streams (the server's output, the server's input).
    pub fn start<R, W>(
        reader: R,
        writer: W,
        incoming: Arc<Incoming>,
        child: Option<Process>,
    ) -> Self
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let pending = Arc::new(Pending::default());
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_lines(writer, rx, Arc::clone(&pending)));
        let reader = tokio::spawn(read_lines(
            reader,
            Arc::clone(&pending),
            incoming,
            tx.downgrade(),
        ));
        StdioWire {
            shared: Arc::new(Shared {
                out: Mutex::new(Some(tx)),
                pending,
                child: tokio::sync::Mutex::new(child),
                _reader: AbortOnDrop(reader),
            }),
        }
    }

    fn send_line(&self, message: &impl Serialize) -> Result<(), Error> {
        let line = serde_json::to_string(message).map_err(|_| Error::InvalidArguments {
            what: "the message",
        })?;
        let out = self
            .shared
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match out.as_ref() {
            Some(tx) if tx.send(line).is_ok() => Ok(()),
            Some(_) => Err(TransportError::ConnectionClosed.into()),
            None => Err(Error::Closed),
        }
    }

    /// Sends a request and waits for its response.
    pub async fn call(&self, call: Call) -> Result<Value, Error> {
        let id = call.request.id.clone();
        let pending = &self.shared.pending;
        let answer = pending.register(id.clone())?;
        let _forget = Forget { pending, id };
        self.send_line(&call.request)?;
        answer
            .await
            .unwrap_or_else(|_| Err(TransportError::ConnectionClosed.into()))
    }

    /// Sends a notification.
    pub fn notify(&self, notification: &Notification) -> Result<(), Error> {
        self.send_line(notification)
    }

    /// Sends `notifications/cancelled` for `id`.
    pub fn cancel(&self, id: RequestId) {
        let params = CancelledNotificationParams::new(id, Some("cancelled by the client".into()));
        let n = Notification::new(
            methods::NOTIFICATION_CANCELLED,
            serde_json::to_value(params).ok(),
        );
        if let Err(e) = self.notify(&n) {
            tracing::debug!(error = %e, "could not send notifications/cancelled");
        }
    }

    /// Closes the server's stdin and waits for it to exit (killing it after a grace period).
    pub async fn close(&self) -> Result<(), Error> {
        self.shared
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let mut child = self.shared.child.lock().await;
        if let Some(c) = child.as_mut() {
            c.finish().await?;
        }
        *child = None;
        Ok(())
    }
}

/// The server process of a spawned connection.
#[cfg(feature = "stdio")]
pub(crate) struct Process(tokio::process::Child);

/// Without the `stdio` feature no process is ever started.
#[cfg(not(feature = "stdio"))]
pub(crate) enum Process {}

impl Process {
    /// Waits for the process to exit, killing it after [`EXIT_GRACE`].
    #[cfg(feature = "stdio")]
    async fn finish(&mut self) -> Result<(), Error> {
        match tokio::time::timeout(EXIT_GRACE, self.0.wait()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(TransportError::Io(e).into()),
            Err(_) => Ok(self.0.kill().await.map_err(TransportError::Io)?),
        }
    }

    #[cfg(not(feature = "stdio"))]
    async fn finish(&mut self) -> Result<(), Error> {
        match *self {}
    }
}

async fn write_lines<W: AsyncWrite + Unpin>(
    mut writer: W,
    mut rx: mpsc::UnboundedReceiver<String>,
    pending: Arc<Pending>,
) {
    while let Some(mut line) = rx.recv().await {
        line.push('\n');
        let written = async {
            writer.write_all(line.as_bytes()).await?;
            writer.flush().await
        };
        if let Err(e) = written.await {
            tracing::debug!(error = %e, "writing to the server failed");
            pending.close();
            return;
        }
    }
    let _ = writer.shutdown().await;
}

/// What [`read_line`] read.
#[derive(Debug, PartialEq, Eq)]
enum Line {
    /// A line (possibly the last one, without `\n`) is in the buffer.
    Complete,
    /// A line longer than the limit was read and dropped.
    TooLong,
    /// The stream ended.
    End,
}

/// Reads one `\n`-terminated line into `buf`, buffering at most `max` bytes of it.
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Line> {
    buf.clear();
    let mut too_long = false;
    let mut any = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(match (any, too_long) {
                (false, _) => Line::End,
                (true, true) => Line::TooLong,
                (true, false) => Line::Complete,
            });
        }
        any = true;
        let (part, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..=i], true),
            None => (available, false),
        };
        let used = part.len();
        if !too_long && buf.len() + used <= max {
            buf.extend_from_slice(part);
        } else {
            too_long = true;
            buf.clear();
        }
        reader.consume(used);
        if done {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Complete
            });
        }
    }
}

async fn read_lines<R: AsyncRead + Unpin>(
    reader: R,
    pending: Arc<Pending>,
    incoming: Arc<Incoming>,
    out: mpsc::WeakUnboundedSender<String>,
) {
    let mut lines = BufReader::new(reader);
    let mut buf = Vec::new();
    loop {
        match read_line(&mut lines, &mut buf, MAX_LINE).await {
            Ok(Line::Complete) => {}
            Ok(Line::TooLong) => {
                tracing::debug!("skipping a line longer than {MAX_LINE} bytes");
                continue;
            }
            Ok(Line::End) | Err(_) => break,
        }
        let line = buf.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let messages = match parse_payload(line) {
            Ok(Payload::Single(m)) => vec![m],
            Ok(Payload::Batch(items)) => items,
            Err(e) => {
                tracing::debug!(error = %e, "the server wrote a line that is not JSON-RPC");
                continue;
            }
        };
        for m in messages {
            match m {
                Ok(m) => route(m, &pending, &incoming, &out),
                Err(invalid) => tracing::debug!(reason = invalid.reason, "invalid message"),
            }
        }
    }
    pending.close();
}

fn route(
    message: Message,
    pending: &Pending,
    incoming: &Arc<Incoming>,
    out: &mpsc::WeakUnboundedSender<String>,
) {
    match message {
        Message::Response(r) => pending.complete(&r.id, Ok(r.result)),
        Message::Error(e) => match &e.id {
            Some(id) => pending.complete(id, Err(Error::Protocol(e.error))),
            None => tracing::debug!(error = %e.error, "the server sent an error without an id"),
        },
        Message::Notification(n) => incoming.notification(n),
        Message::Request(r) => {
            let incoming = Arc::clone(incoming);
            let out = out.clone();
            spawn_detached(async move {
                let reply = incoming.request(r).await;
                if let (Some(tx), Ok(line)) = (out.upgrade(), serde_json::to_string(&reply)) {
                    let _ = tx.send(line);
                }
            });
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_are_capped() {
        let input: &[u8] = b"short\nthis line is too long\nok\nlast";
        let mut reader = BufReader::with_capacity(4, input);
        let mut buf = Vec::new();
        let mut seen = Vec::new();
        loop {
            match read_line(&mut reader, &mut buf, 8).await.unwrap() {
                Line::End => break,
                Line::TooLong => seen.push("<too long>".to_owned()),
                Line::Complete => seen.push(String::from_utf8_lossy(&buf).into_owned()),
            }
        }
        assert_eq!(seen, ["short\n", "<too long>", "ok\n", "last"]);
    }
}
