//! Per-request options: a progress callback, a timeout, extra `_meta`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use mcp_core::types::{Meta, ProgressNotificationParams};

/// Called with each `notifications/progress` of a request, on the task that reads the server's
/// messages: keep it quick (send the value to a channel if there is real work to do).
pub type ProgressCallback = Arc<dyn Fn(ProgressNotificationParams) + Send + Sync>;

/// Options of one request.
///
/// ```
/// use std::time::Duration;
/// use mcp_client::RequestOptions;
///
/// let options = RequestOptions::new()
///     .timeout(Duration::from_secs(30))
///     .on_progress(|p| eprintln!("{}/{:?} {}", p.progress, p.total, p.message.unwrap_or_default()));
/// ```
#[derive(Clone, Default)]
pub struct RequestOptions {
    pub(crate) progress: Option<ProgressCallback>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) meta: Option<Meta>,
}

impl RequestOptions {
    /// No callback, the client's default timeout, no extra `_meta`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the server for progress (a fresh `progressToken`) and calls `f` with each update.
    #[must_use]
    pub fn on_progress(
        mut self,
        f: impl Fn(ProgressNotificationParams) + Send + Sync + 'static,
    ) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Gives up (and cancels the request) after `timeout`.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Adds these entries to the request's `_meta` (the client's own keys win).
    #[must_use]
    pub fn meta(mut self, meta: Meta) -> Self {
        self.meta = Some(meta);
        self
    }
}

impl fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestOptions")
            .field("progress", &self.progress.is_some())
            .field("timeout", &self.timeout)
            .field("meta", &self.meta)
            .finish()
    }
}
