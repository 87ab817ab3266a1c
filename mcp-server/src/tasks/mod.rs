//! The tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663) on the 2026-07-28 wire.
//!
//! A tool opts in with [`ToolDef::task_support`](crate::ToolDef::task_support). When a
//! `tools/call` declares the extension in `_meta["io.modelcontextprotocol/clientCapabilities"]
//! .extensions` and the tool supports tasks, the handler runs in the background and the call
//! answers a flat `CreateTaskResult` (`resultType: "task"`, `taskId`, `status`, `createdAt`,
//! `lastUpdatedAt`, `ttlMs`, `pollIntervalMs`). The client then polls `tasks/get` (which inlines
//! `result`, `error` or `inputRequests`), answers questions with `tasks/update`, and stops the
//! work with `tasks/cancel`. `tasks/result` and `tasks/list` do not exist in this version.
//!
//! A handler inside a task asks the client through the usual [`Context`] calls
//! ([`elicit_as`](Context::elicit_as) ...): when it stops on a question, the task becomes
//! `input_required` with the questions as `inputRequests`; once every one is answered through
//! `tasks/update`, the handler runs again with the answers, like a stateless MRTR retry.
//! Progress and log messages of a task go nowhere (no request stream is open).
//!
//! Tasks are bound to the caller's principal when authorization is on: another caller gets
//! `-32602`, as for an unknown id. Live tasks are bounded per instance, in all and per
//! principal ([`TaskConfig::max_live_tasks`], [`TaskConfig::max_live_tasks_per_principal`]).
//! Records live in a [`TaskStore`] (bounded in memory by default, see [`TaskConfig`]); a store
//! that fails makes the request fail with `-32603`.
//!
//! With a store shared by several instances (the Redis one in `store`), any instance answers
//! `tasks/get`, `tasks/cancel` and `tasks/update`. A handler runs in one instance at a time; a
//! cancellation through another instance settles the record, and the store pushes the task's id
//! to every instance ([`TaskStore::cancellations`]): the running one stops the handler at once.
//! Pushes are best effort (the Redis store loses those made while its subscription is down), so
//! the running instance also looks at the record every poll interval and stops the handler then
//! at the latest. Answers are kept in the
//! record with the call that started the task, so whichever instance takes the last answer runs
//! the handler again, for the caller of `tasks/update` (the task's owner). A record without its
//! call (or whose tool is not registered here) cannot be resumed here: the update fails with
//! `-32603` and the answers stay unanswered rather than lost.

mod manager;

use std::sync::Arc;
use std::time::Duration;

pub use crate::registry::tools::TaskSupport;
use crate::store::{InMemoryTaskStore, TaskStore};

pub(crate) use manager::{Live, Slot, Spec, TaskManager, store_failed};

#[cfg(doc)]
use crate::context::Context;

/// A server's task settings (see [`McpServerBuilder::tasks`](crate::McpServerBuilder::tasks)).
#[derive(Clone)]
#[non_exhaustive]
pub struct TaskConfig {
    /// How long a task stays retrievable after its creation (`ttlMs`, default one hour).
    pub(crate) ttl: Duration,
    /// How often clients should poll (`pollIntervalMs`, default 500 ms).
    pub(crate) poll_interval: Duration,
    /// Where records live (default: [`InMemoryTaskStore`] of 10 000 records).
    pub(crate) store: Arc<dyn TaskStore>,
    /// The most live (not yet `completed`, `failed` or `cancelled`) tasks this server instance
    /// runs or keeps waiting for input at once (default 1000). A task-routed `tools/call` (one
    /// that may become a task, counted from the start of its `task_after` window) that would
    /// start one more is refused with `-32603` naming the limit (`data.limit:
    /// "max_live_tasks"`), before its handler runs. A task whose `ttl` has passed stops
    /// counting: it is cancelled when room is needed.
    pub(crate) max_live_tasks: usize,
    /// The most live tasks of one principal (the authenticated caller that owns them) in this
    /// instance (default 100); beyond it, `-32603` naming the limit
    /// (`data.limit: "max_live_tasks_per_principal"`). Callers without a principal
    /// (authorization off) are bound by [`max_live_tasks`](Self::max_live_tasks) only.
    pub(crate) max_live_tasks_per_principal: usize,
}

impl TaskConfig {
    /// The default [`max_live_tasks`](Self::max_live_tasks): 1000.
    pub const DEFAULT_MAX_LIVE_TASKS: usize = 1000;
    /// The default [`max_live_tasks_per_principal`](Self::max_live_tasks_per_principal): 100.
    pub const DEFAULT_MAX_LIVE_TASKS_PER_PRINCIPAL: usize = 100;

    /// How long a task stays retrievable after its creation (`ttlMs`, default one hour).
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// How often clients should poll (`pollIntervalMs`, default 500 ms).
    #[must_use]
    pub fn poll_interval(mut self, every: Duration) -> Self {
        self.poll_interval = every;
        self
    }

    /// Where records live (default: [`InMemoryTaskStore`] of 10 000 records; a shared store
    /// such as the Redis one lets every instance answer for every task).
    #[must_use]
    pub fn store(mut self, store: Arc<dyn TaskStore>) -> Self {
        self.store = store;
        self
    }

    /// Sets the bound on live tasks in this instance (default 1000).
    #[must_use]
    pub fn max_live_tasks(mut self, n: usize) -> Self {
        self.max_live_tasks = n;
        self
    }

    /// Sets the bound on live tasks of one principal in this instance (default 100).
    #[must_use]
    pub fn max_live_tasks_per_principal(mut self, n: usize) -> Self {
        self.max_live_tasks_per_principal = n;
        self
    }
}

impl Default for TaskConfig {
    fn default() -> Self {
        TaskConfig {
            ttl: Duration::from_secs(3600),
            poll_interval: Duration::from_millis(500),
            store: Arc::new(InMemoryTaskStore::default()),
            max_live_tasks: Self::DEFAULT_MAX_LIVE_TASKS,
            max_live_tasks_per_principal: Self::DEFAULT_MAX_LIVE_TASKS_PER_PRINCIPAL,
        }
    }
}

impl std::fmt::Debug for TaskConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskConfig")
            .field("ttl", &self.ttl)
            .field("poll_interval", &self.poll_interval)
            .field("max_live_tasks", &self.max_live_tasks)
            .field(
                "max_live_tasks_per_principal",
                &self.max_live_tasks_per_principal,
            )
            .finish_non_exhaustive()
    }
}
