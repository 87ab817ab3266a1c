//! Counting the audit events a sink drops because its queue is full, with a warning at most
//! every 10 seconds.

use std::sync::atomic::{AtomicU64, Ordering};

use super::time::now_millis;

/// How often, at most, a warning reports dropped events.
const DROP_WARNING_EVERY_MS: u64 = 10_000;

/// Events dropped because the queue was full, and when that was last reported.
#[derive(Debug, Default)]
pub(super) struct Drops {
    pub(super) total: AtomicU64,
    /// The total at the last warning.
    reported: AtomicU64,
    /// When the last warning was logged (ms since the epoch).
    warned_at_ms: AtomicU64,
}

impl Drops {
    /// Counts one dropped event and warns, at most every [`DROP_WARNING_EVERY_MS`].
    pub(super) fn record(&self) {
        let total = self.total.fetch_add(1, Ordering::Relaxed) + 1;
        let now = now_millis();
        let last = self.warned_at_ms.load(Ordering::Relaxed);
        let due = last == 0 || now.saturating_sub(last) >= DROP_WARNING_EVERY_MS;
        if due
            && self
                .warned_at_ms
                .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let since = total.saturating_sub(self.reported.swap(total, Ordering::Relaxed));
            tracing::warn!(
                target: "mcp::audit",
                dropped = since,
                dropped_total = total,
                "the audit writer is behind: events were dropped, not written to the audit sink"
            );
        }
    }
}
