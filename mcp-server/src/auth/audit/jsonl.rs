//! [`JsonlFileSink`]: audit events appended to one JSON-lines file per UTC day
//! (`YYYY-MM-DD.jsonl`), written by a background thread, with files older than the retention
//! removed.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TrySendError};

use super::drops::Drops;
use super::time::{date_of, now_millis};
use super::{AuditEvent, AuditSink};

enum Msg {
    Line(String),
    Flush(Sender<()>),
}

/// Daily JSON-lines audit files in a directory, kept for `retention_days` (0: forever).
///
/// Recording never blocks the request and never grows memory without bound: lines are queued
/// to a writer thread (which ends when the sink is dropped) through a queue of
/// [`queue_capacity`](Self::queue_capacity) events (default
/// [10 000](Self::DEFAULT_QUEUE_CAPACITY); set it with
/// [`open_with_capacity`](Self::open_with_capacity)).
/// When the writer falls that far behind (a slow or stuck disk), new events are dropped and
/// counted ([`dropped_events`](Self::dropped_events)), and a warning on target `mcp::audit`
/// reports the count at most every 10 seconds. The `tracing` record of each event (see
/// [`Audit`](super::Audit)) is not affected. Files are created `0640` on Unix.
///
/// ```no_run
/// use mcp_server::auth::{AuthorizationConfig, ApiKeys, JsonlFileSink};
/// # fn f() -> Result<(), Box<dyn std::error::Error>> {
/// let audit = JsonlFileSink::open("data/audit", 7)?;
/// let config = AuthorizationConfig::builtin(ApiKeys::sqlite("data/auth.db")?).audit(audit);
/// # let _ = config; Ok(()) }
/// ```
pub struct JsonlFileSink {
    dir: PathBuf,
    tx: SyncSender<Msg>,
    capacity: usize,
    drops: Drops,
}

impl std::fmt::Debug for JsonlFileSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonlFileSink")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

struct Writer {
    dir: PathBuf,
    retention_days: u32,
    date: String,
    file: Option<BufWriter<File>>,
}

fn open_append(path: &Path) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o640);
    }
    o.open(path)
}

impl Writer {
    fn write(&mut self, line: &str) -> io::Result<()> {
        let today = date_of(now_millis() / 1000);
        if self.file.is_none() || self.date != today {
            if let Some(mut f) = self.file.take() {
                f.flush()?;
            }
            let path = self.dir.join(format!("{today}.jsonl"));
            self.file = Some(BufWriter::new(open_append(&path)?));
            self.date = today;
            purge(&self.dir, self.retention_days);
        }
        match &mut self.file {
            Some(f) => {
                f.write_all(line.as_bytes())?;
                f.write_all(b"\n")
            }
            None => Ok(()),
        }
    }

    fn flush(&mut self) {
        if let Some(f) = &mut self.file {
            if let Err(e) = f.flush() {
                tracing::warn!(error = %e, "could not write the audit log");
            }
        }
    }

    fn run(mut self, rx: Receiver<Msg>) {
        while let Ok(msg) = rx.recv() {
            let mut next = Some(msg);
            // Write everything queued, then flush once.
            while let Some(m) = next.take() {
                match m {
                    Msg::Line(l) => {
                        if let Err(e) = self.write(&l) {
                            tracing::warn!(error = %e, "could not write the audit log");
                        }
                    }
                    Msg::Flush(ack) => {
                        self.flush();
                        let _ = ack.send(());
                    }
                }
                next = rx.try_recv().ok();
            }
            self.flush();
        }
        self.flush();
    }
}

/// Removes daily files older than the retention.
fn purge(dir: &Path, retention_days: u32) {
    if retention_days == 0 {
        return;
    }
    let cutoff = date_of((now_millis() / 1000).saturating_sub(u64::from(retention_days) * 86_400));
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(date) = name.to_str().and_then(|n| n.strip_suffix(".jsonl")) else {
            continue;
        };
        if is_date(date) && date < cutoff.as_str() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn is_date(s: &str) -> bool {
    s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
}

impl JsonlFileSink {
    /// The default [`queue_capacity`](Self::queue_capacity): 10 000 events.
    pub const DEFAULT_QUEUE_CAPACITY: usize = 10_000;

    /// Writes to `dir` (created if needed), keeping `retention_days` of files (0: forever),
    /// with a queue of [`DEFAULT_QUEUE_CAPACITY`](Self::DEFAULT_QUEUE_CAPACITY) events.
    pub fn open(dir: impl AsRef<Path>, retention_days: u32) -> io::Result<Self> {
        Self::open_with_capacity(dir, retention_days, Self::DEFAULT_QUEUE_CAPACITY)
    }

    /// Like [`open`](Self::open), with a queue of `queue_capacity` events (at least 1) between
    /// the request path and the writer; events beyond it are dropped and counted.
    pub fn open_with_capacity(
        dir: impl AsRef<Path>,
        retention_days: u32,
        queue_capacity: usize,
    ) -> io::Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir)?;
        purge(&dir, retention_days);
        let (sink, rx) = Self::queue(dir.clone(), queue_capacity);
        let writer = Writer {
            dir,
            retention_days,
            date: String::new(),
            file: None,
        };
        std::thread::Builder::new()
            .name("mcp-audit".into())
            .spawn(move || writer.run(rx))?;
        Ok(sink)
    }

    /// The sink's half of the queue, and the writer's.
    fn queue(dir: PathBuf, capacity: usize) -> (Self, Receiver<Msg>) {
        let capacity = capacity.max(1);
        let (tx, rx) = mpsc::sync_channel(capacity);
        let sink = JsonlFileSink {
            dir,
            tx,
            capacity,
            drops: Drops::default(),
        };
        (sink, rx)
    }

    /// How many events the queue to the writer holds.
    pub fn queue_capacity(&self) -> usize {
        self.capacity
    }

    /// How many events were dropped so far because the queue was full.
    pub fn dropped_events(&self) -> u64 {
        self.drops.total.load(Ordering::Relaxed)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Waits until every event recorded so far is written (blocks the calling thread, also
    /// while the queue is full).
    pub fn flush(&self) {
        let (ack, done) = mpsc::channel();
        if self.tx.send(Msg::Flush(ack)).is_ok() {
            let _ = done.recv();
        }
    }

    /// The latest `limit` events in `dir`, newest last (reads the daily files, newest first,
    /// until it has enough). Lines that do not parse are skipped.
    pub fn read_recent(dir: impl AsRef<Path>, limit: usize) -> io::Result<Vec<AuditEvent>> {
        let mut days: Vec<PathBuf> = std::fs::read_dir(dir.as_ref())?
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_suffix(".jsonl"))
                    .is_some_and(is_date)
            })
            .collect();
        days.sort();
        let mut out: Vec<AuditEvent> = Vec::new();
        for day in days.iter().rev() {
            let mut events: Vec<AuditEvent> = BufReader::new(File::open(day)?)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| serde_json::from_str(&l).ok())
                .collect();
            events.append(&mut out);
            out = events;
            if out.len() >= limit {
                break;
            }
        }
        let skip = out.len().saturating_sub(limit);
        Ok(out.split_off(skip))
    }
}

impl AuditSink for JsonlFileSink {
    fn record(&self, event: &AuditEvent) {
        match serde_json::to_string(event) {
            Ok(line) => match self.tx.try_send(Msg::Line(line)) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => self.drops.record(),
                Err(TrySendError::Disconnected(_)) => {
                    tracing::warn!("the audit writer has stopped; an event was not written");
                }
            },
            Err(e) => tracing::warn!(error = %e, "could not encode an audit event"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::audit::AuditAction;

    #[test]
    fn writes_daily_files_and_purges_old_ones() {
        let dir = std::env::temp_dir().join(format!("mcp-audit-test-{}", now_millis()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("2001-01-01.jsonl"), "{}\n").unwrap();
        std::fs::write(dir.join("notes.txt"), "keep").unwrap();
        let sink = JsonlFileSink::open(&dir, 7).unwrap();
        assert!(!dir.join("2001-01-01.jsonl").exists());
        assert!(dir.join("notes.txt").exists());
        sink.record(&AuditEvent::new(AuditAction::AuthAllowed).reason("ok"));
        sink.record(&AuditEvent::new(AuditAction::AuthDenied));
        sink.flush();
        let events = JsonlFileSink::read_recent(&dir, 10).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].reason.as_deref(), Some("ok"));
        assert_eq!(JsonlFileSink::read_recent(&dir, 1).unwrap().len(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Finding 13: with the writer stalled, recording neither blocks nor queues more than the
    /// capacity; the rest is dropped and counted.
    #[test]
    fn a_full_queue_drops_and_counts_events_without_blocking() {
        // No writer thread: the receiver is held here and read only at the end.
        let (sink, rx) = JsonlFileSink::queue(std::env::temp_dir(), 3);
        assert_eq!(sink.queue_capacity(), 3);
        for _ in 0..10 {
            sink.record(&AuditEvent::new(AuditAction::ToolCallReceived));
        }
        assert_eq!(sink.dropped_events(), 7);
        let queued = rx.try_iter().filter(|m| matches!(m, Msg::Line(_))).count();
        assert_eq!(queued, 3);
        sink.record(&AuditEvent::new(AuditAction::ToolCallReceived));
        assert_eq!(
            sink.dropped_events(),
            7,
            "room again once the writer caught up"
        );
    }

    #[test]
    fn the_default_capacity_is_the_documented_one() {
        let dir = std::env::temp_dir().join(format!("mcp-audit-cap-{}", now_millis()));
        let sink = JsonlFileSink::open(&dir, 0).unwrap();
        assert_eq!(sink.queue_capacity(), JsonlFileSink::DEFAULT_QUEUE_CAPACITY);
        assert_eq!(sink.queue_capacity(), 10_000);
        drop(sink);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
