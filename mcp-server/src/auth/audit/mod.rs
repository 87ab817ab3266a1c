//! The audit trail: a structured [`AuditEvent`] for every authorization decision and every tool
//! call (received, denied, succeeded, failed). Events go to `tracing` (target `mcp::audit`,
//! level `INFO`) and to the configured [`AuditSink`] ([`JsonlFileSink`] for daily JSON-lines
//! files, [`MemoryAuditSink`] for tests). Tool calls without a caller (authorization off,
//! stdio) go to the sink only. Arguments are recorded by shape, never by value; secrets never.

#[cfg(feature = "builtin-auth")]
mod drops;
#[cfg(feature = "builtin-auth")]
mod jsonl;
#[cfg(feature = "postgres")]
mod postgres;
mod shape;
mod time;

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

#[cfg(feature = "builtin-auth")]
pub use jsonl::JsonlFileSink;
#[cfg(feature = "postgres")]
pub use postgres::PostgresAuditSink;
pub(crate) use shape::arguments_shape;
pub(crate) use time::now_millis;

use super::context::{AuthContext, CredentialKind};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum AuditAction {
    /// A request was authenticated and let through.
    #[serde(rename = "auth.allowed")]
    AuthAllowed,
    /// A request was refused before any work (401, 403, 404 workspace, 429 too many failed
    /// authentications, 503).
    #[serde(rename = "auth.denied")]
    AuthDenied,
    /// A tool call arrived.
    #[serde(rename = "tool_call.received")]
    ToolCallReceived,
    /// A tool call was refused (role, scopes).
    #[serde(rename = "tool_call.denied")]
    ToolCallDenied,
    /// A tool call returned a result.
    #[serde(rename = "tool_call.succeeded")]
    ToolCallSucceeded,
    /// A tool call returned an error result, panicked or was cancelled.
    #[serde(rename = "tool_call.failed")]
    ToolCallFailed,
    /// An administrator listed the API keys.
    #[serde(rename = "key.list")]
    KeyList,
    /// An administrator created an API key (`target`: its id).
    #[serde(rename = "key.create")]
    KeyCreate,
    /// An administrator rotated an API key's secret (`target`: its id).
    #[serde(rename = "key.rotate")]
    KeyRotate,
    /// An administrator revoked an API key (`target`: its id).
    #[serde(rename = "key.revoke")]
    KeyRevoke,
    /// An administrator listed the users.
    #[serde(rename = "user.list")]
    UserList,
    /// An administrator created a user (`target`: the name).
    #[serde(rename = "user.create")]
    UserCreate,
    /// An administrator disabled a user, and with them their user-owned keys (`target`: the
    /// name).
    #[serde(rename = "user.disable")]
    UserDisable,
    /// An administrator enabled a user again (`target`: the name).
    #[serde(rename = "user.enable")]
    UserEnable,
}

impl AuditAction {
    /// The wire name, e.g. `tool_call.denied`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::AuthAllowed => "auth.allowed",
            AuditAction::AuthDenied => "auth.denied",
            AuditAction::ToolCallReceived => "tool_call.received",
            AuditAction::ToolCallDenied => "tool_call.denied",
            AuditAction::ToolCallSucceeded => "tool_call.succeeded",
            AuditAction::ToolCallFailed => "tool_call.failed",
            AuditAction::KeyList => "key.list",
            AuditAction::KeyCreate => "key.create",
            AuditAction::KeyRotate => "key.rotate",
            AuditAction::KeyRevoke => "key.revoke",
            AuditAction::UserList => "user.list",
            AuditAction::UserCreate => "user.create",
            AuditAction::UserDisable => "user.disable",
            AuditAction::UserEnable => "user.enable",
        }
    }
}

/// One audit record. Never carries a secret or an argument value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditEvent {
    /// When, RFC 3339 UTC with milliseconds.
    pub timestamp: String,
    /// What happened.
    pub action: AuditAction,
    /// Why (a machine-readable reason such as `api_key_revoked` or `insufficient_role`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The surface the request arrived on (`mcp`, `rest_api`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surface: Option<String>,
    /// The acting subject: the owner of a user-owned key, the service account of another key,
    /// a token's `sub`, a Basic user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// `user`, `service_account`, `token` or `anonymous`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_type: Option<String>,
    /// The kind of credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_kind: Option<CredentialKind>,
    /// The credential's id (key id, token `jti`), never the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<String>,
    /// The credential's name (key name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_name: Option<String>,
    /// The selected workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// The effective role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The tool called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// The arguments' shape: each name with its JSON type and size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<serde_json::Value>,
    /// How long the call took, for finished calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// Joins the events of one request (and the application's own events, through
    /// [`AuthContext::correlation_id`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// The HTTP method of a transport decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_method: Option<String>,
    /// The path (never the query) of a transport decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The client address a decision concerns, as the failed-authentication limits group it
    /// (an IPv4 address, or the /64 prefix of an IPv6 one): set on 429 refusals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_address: Option<String>,
    /// What an administrative action (`key.*`, `user.*`) acted on: a key's id, a user's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// How an administrative action ended: `succeeded`, `failed` (`reason` says why) or
    /// `denied` (the caller may not administer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

impl AuditEvent {
    /// An event happening now.
    pub fn new(action: AuditAction) -> Self {
        AuditEvent {
            timestamp: time::rfc3339(now_millis()),
            action,
            reason: None,
            surface: None,
            subject: None,
            subject_type: None,
            credential_kind: None,
            credential_id: None,
            credential_name: None,
            workspace: None,
            role: None,
            tool: None,
            arguments: None,
            duration_ms: None,
            correlation_id: None,
            http_method: None,
            path: None,
            client_address: None,
            target: None,
            outcome: None,
        }
    }

    /// Fills the subject, credential, workspace, role and correlation id from `ctx`.
    #[must_use]
    pub fn caller(mut self, ctx: Option<&AuthContext>) -> Self {
        if let Some(c) = ctx {
            self.subject.clone_from(&c.subject);
            self.subject_type = Some(c.subject_type().to_owned());
            self.credential_kind = Some(c.credential);
            self.credential_id.clone_from(&c.credential_id);
            self.credential_name.clone_from(&c.credential_name);
            self.workspace.clone_from(&c.workspace);
            self.role.clone_from(&c.role);
            self.correlation_id.clone_from(&c.correlation_id);
        }
        self
    }

    /// Sets the reason.
    #[must_use]
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
}

/// Where audit events go besides `tracing`. Called on the request path: do not block (queue
/// the event, as [`JsonlFileSink`] does).
pub trait AuditSink: Send + Sync + 'static {
    /// Records one event.
    fn record(&self, event: &AuditEvent);
}

/// Keeps events in memory, for tests. Clones share the events.
///
/// ```
/// use mcp_server::auth::{AuditAction, AuditEvent, AuditSink, MemoryAuditSink};
/// let sink = MemoryAuditSink::new();
/// sink.record(&AuditEvent::new(AuditAction::AuthAllowed));
/// assert_eq!(sink.events().len(), 1);
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryAuditSink {
    events: Arc<Mutex<Vec<AuditEvent>>>,
}

impl MemoryAuditSink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every event so far.
    pub fn events(&self) -> Vec<AuditEvent> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Every event so far, emptying the sink.
    pub fn take(&self) -> Vec<AuditEvent> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl AuditSink for MemoryAuditSink {
    fn record(&self, event: &AuditEvent) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event.clone());
    }
}

/// The audit trail of a server: `tracing` always, plus an optional sink.
#[derive(Clone, Default)]
pub struct Audit {
    sink: Option<Arc<dyn AuditSink>>,
}

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audit")
            .field("sink", &self.sink.is_some())
            .finish()
    }
}

fn opt(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("")
}

impl Audit {
    /// A trail writing to `sink` (and `tracing`).
    pub fn new(sink: impl AuditSink) -> Self {
        Audit {
            sink: Some(Arc::new(sink)),
        }
    }

    /// A trail writing to a shared sink.
    pub fn shared(sink: Arc<dyn AuditSink>) -> Self {
        Audit { sink: Some(sink) }
    }

    /// Whether anyone listens: a sink, or a `tracing` subscriber for `mcp::audit`. Callers skip
    /// building events (argument shapes) otherwise.
    pub fn active(&self) -> bool {
        self.sink.is_some() || tracing::enabled!(target: "mcp::audit", tracing::Level::INFO)
    }

    /// Records an event.
    pub fn record(&self, e: AuditEvent) {
        let credential = e.credential_kind.map(|k| k.as_str()).unwrap_or("");
        tracing::info!(
            target: "mcp::audit",
            action = e.action.as_str(),
            reason = opt(&e.reason),
            surface = opt(&e.surface),
            subject = opt(&e.subject),
            subject_type = opt(&e.subject_type),
            credential,
            credential_id = opt(&e.credential_id),
            workspace = opt(&e.workspace),
            role = opt(&e.role),
            tool = opt(&e.tool),
            duration_ms = e.duration_ms,
            correlation_id = opt(&e.correlation_id),
            path = opt(&e.path),
            client_address = opt(&e.client_address),
            target = opt(&e.target),
            outcome = opt(&e.outcome),
        );
        if let Some(sink) = &self.sink {
            sink.record(&e);
        }
    }
}

/// The audit of one tool call: `received` when created, then exactly one of `denied`,
/// `succeeded` or `failed` (with the duration).
pub(crate) struct ToolCallAudit<'a> {
    audit: &'a Audit,
    base: Option<AuditEvent>,
    started: std::time::Instant,
}

impl Audit {
    /// Records that `tool` was called (arguments by shape) and returns the handle that records
    /// how it ended.
    pub(crate) fn tool_call(
        &self,
        tool: &str,
        arguments: Option<&serde_json::Map<String, serde_json::Value>>,
        caller: Option<&AuthContext>,
    ) -> ToolCallAudit<'_> {
        let started = std::time::Instant::now();
        // A call with no caller (authorization off, stdio) has no one to attribute it to: it
        // goes to a configured sink, not to the log (an INFO line per anonymous call would be
        // an access log; the call's span says the same).
        if !self.active() || (caller.is_none() && self.sink.is_none()) {
            return ToolCallAudit {
                audit: self,
                base: None,
                started,
            };
        }
        let mut e = AuditEvent::new(AuditAction::ToolCallReceived).caller(caller);
        e.surface = Some("mcp".to_owned());
        e.tool = Some(tool.chars().take(128).collect());
        e.arguments = Some(arguments_shape(arguments));
        if e.correlation_id.is_none() {
            // Without randomness the event has no id rather than a made-up one.
            e.correlation_id = crate::crypto::random_hex::<12>().ok();
        }
        self.record(e.clone());
        ToolCallAudit {
            audit: self,
            base: Some(e),
            started,
        }
    }
}

impl ToolCallAudit<'_> {
    fn end(self, action: AuditAction, reason: Option<&str>, timed: bool) {
        let Some(mut e) = self.base else {
            return;
        };
        e.timestamp = time::rfc3339(now_millis());
        e.action = action;
        e.reason = reason.map(str::to_owned);
        if timed {
            e.duration_ms =
                Some(u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX));
        }
        self.audit.record(e);
    }

    /// The call was refused (`insufficient_role`, `insufficient_scope`).
    pub(crate) fn denied(self, reason: &str) {
        self.end(AuditAction::ToolCallDenied, Some(reason), false);
    }

    /// The call ended: `failed` for an error result (or `reason`), `succeeded` otherwise.
    pub(crate) fn finished(self, failed: bool, reason: Option<&str>) {
        let action = if failed {
            AuditAction::ToolCallFailed
        } else {
            AuditAction::ToolCallSucceeded
        };
        self.end(action, reason, true);
    }
}
