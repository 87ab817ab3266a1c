//! The connection's protocol state and the request engine on top of a transport: the era and
//! version agreed with the server ([`negotiate`]), per-request framing (modern `_meta`), progress
//! tokens, timeouts, cancellation when a request's future is dropped, re-initialising an expired
//! legacy session, and the multi-round-trip loop of the modern era ([`mrtr`]).

mod mrtr;
pub(crate) mod negotiate;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use mcp_core::ErrorCode;
use mcp_core::jsonrpc::{Request, RequestId};
use mcp_core::types::{
    ClientCapabilities, INPUT_REQUIRED_METHODS, Implementation, InputRequiredResult, JsonObject,
    LoggingLevel, ServerCapabilities, Tool, meta_keys, methods, request_meta,
};
use mcp_core::version::{Era, ProtocolVersion};
use serde_json::Value;

use crate::error::{Error, Malformed};
use crate::incoming::Incoming;
use crate::options::RequestOptions;
use crate::telemetry;
use crate::transport::{Call, Framing, Wire};

/// How the client was configured to talk.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub client_info: Implementation,
    pub capabilities: ClientCapabilities,
    /// A forced era (`None`: modern first, legacy fallback).
    pub era: Option<Era>,
    /// A forced protocol version (implies its era).
    pub version: Option<ProtocolVersion>,
    pub request_timeout: Option<Duration>,
    pub max_input_rounds: usize,
}

/// What the server and the client agreed on.
#[derive(Debug, Clone)]
pub(crate) struct Negotiated {
    pub version: ProtocolVersion,
    pub server_info: Option<Implementation>,
    pub capabilities: ServerCapabilities,
    pub instructions: Option<String>,
}

pub(crate) struct Session {
    pub wire: Wire,
    pub incoming: Arc<Incoming>,
    pub settings: Settings,
    state: RwLock<Negotiated>,
    reinit: tokio::sync::Mutex<()>,
    next_id: AtomicI64,
    next_token: AtomicI64,
    /// `x-mcp-header` arguments of the tools seen in `tools/list`, as `(property, Name)`.
    tool_headers: RwLock<HashMap<String, Vec<(String, String)>>>,
    log_level: RwLock<Option<LoggingLevel>>,
    closed: AtomicBool,
}

/// Sends `notifications/cancelled` (or nothing, where a dropped connection is the
/// cancellation) when a request's future is dropped before its answer.
struct CancelOnDrop<'a> {
    wire: &'a Wire,
    id: Option<RequestId>,
    framing: Framing,
}

impl CancelOnDrop<'_> {
    fn disarm(&mut self) {
        self.id = None;
    }
}

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            self.wire.cancel(id, self.framing);
        }
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

/// The params object of a request: `None` and `null` are `{}`, anything else but an object is
/// an error.
pub(crate) fn params_object(params: Option<Value>) -> Result<JsonObject, Error> {
    match params {
        None | Some(Value::Null) => Ok(JsonObject::new()),
        Some(Value::Object(map)) => Ok(map),
        Some(_) => Err(Error::InvalidArguments { what: "params" }),
    }
}

/// Runs `f` on the request's `_meta` object (created, or replacing a non-object).
fn with_meta(params: &mut JsonObject, f: impl FnOnce(&mut JsonObject)) {
    let mut meta = match params.remove("_meta") {
        Some(Value::Object(m)) => m,
        _ => JsonObject::new(),
    };
    f(&mut meta);
    params.insert("_meta".into(), Value::Object(meta));
}

fn header_arg_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Session {
    pub fn new(wire: Wire, incoming: Arc<Incoming>, settings: Settings) -> Self {
        Session {
            wire,
            incoming,
            settings,
            state: RwLock::new(Negotiated {
                version: ProtocolVersion::LATEST_LEGACY,
                server_info: None,
                capabilities: ServerCapabilities::default(),
                instructions: None,
            }),
            reinit: tokio::sync::Mutex::new(()),
            next_id: AtomicI64::new(1),
            next_token: AtomicI64::new(1),
            tool_headers: RwLock::new(HashMap::new()),
            log_level: RwLock::new(None),
            closed: AtomicBool::new(false),
        }
    }

    pub fn state(&self) -> Negotiated {
        read(&self.state).clone()
    }

    pub(crate) fn set_state(&self, state: Negotiated) {
        *write(&self.state) = state;
    }

    pub fn version(&self) -> ProtocolVersion {
        read(&self.state).version
    }

    /// The framing of requests after negotiation.
    pub fn framing(&self) -> Framing {
        let v = self.version();
        match v.era() {
            Era::Modern => Framing::Modern(v),
            Era::Legacy => Framing::Legacy(Some(v)),
        }
    }

    pub fn set_log_level(&self, level: LoggingLevel) {
        *write(&self.log_level) = Some(level);
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    pub fn mark_closed(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }

    /// Remembers the `x-mcp-header` arguments of listed tools.
    pub fn learn_tools(&self, tools: &[Tool]) {
        let mut map = write(&self.tool_headers);
        for tool in tools {
            let headers: Vec<(String, String)> = tool
                .input_schema
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter_map(|(prop, schema)| {
                    let name = schema.get("x-mcp-header")?.as_str()?;
                    Some((prop.clone(), name.to_owned()))
                })
                .collect();
            map.insert(tool.name.clone(), headers);
        }
    }

    /// The `Mcp-Param-*` headers of a `tools/call`; `None` when the tool was never listed.
    fn param_headers(&self, params: &JsonObject) -> Option<Vec<(String, String)>> {
        let name = params.get("name")?.as_str()?;
        let map = read(&self.tool_headers);
        let declared = map.get(name)?;
        let args = params.get("arguments").and_then(Value::as_object);
        Some(
            declared
                .iter()
                .filter_map(|(prop, header)| {
                    let value = args?.get(prop).and_then(header_arg_text)?;
                    Some((header.clone(), value))
                })
                .collect(),
        )
    }

    /// The params as sent: modern requests carry the protocol `_meta`.
    fn frame(&self, framing: Framing, params: &JsonObject) -> JsonObject {
        let mut params = params.clone();
        if let Framing::Modern(v) = framing {
            let level = *read(&self.log_level);
            let mut own = request_meta(
                v.as_str(),
                &self.settings.capabilities,
                Some(&self.settings.client_info),
            );
            if let Some(level) = level {
                own.insert(meta_keys::LOG_LEVEL.into(), level.as_str().into());
            }
            with_meta(&mut params, |meta| meta.extend(own));
        }
        params
    }

    /// A request with the client's timeout, progress and multi-round-trip handling.
    pub async fn request(
        &self,
        method: &str,
        params: Option<Value>,
        options: &RequestOptions,
    ) -> Result<Value, Error> {
        if self.is_closed() {
            return Err(Error::Closed);
        }
        let version = self.version().as_str();
        let transport = self.wire.network_transport();
        let span = telemetry::request_span(method, params.as_ref(), version, transport);
        let started = std::time::Instant::now();
        let work = self.request_rounds(method, params, options);
        let bounded = async {
            match options.timeout.or(self.settings.request_timeout) {
                Some(t) => tokio::time::timeout(t, work)
                    .await
                    .map_err(|_| Error::Timeout(t))?,
                None => work.await,
            }
        };
        let outcome = tracing::Instrument::instrument(bounded, span.clone()).await;
        telemetry::finish(&span, started, method, version, transport, outcome.as_ref());
        outcome
    }

    async fn request_rounds(
        &self,
        method: &str,
        params: Option<Value>,
        options: &RequestOptions,
    ) -> Result<Value, Error> {
        let mut params = params_object(params)?;
        #[cfg(feature = "otel")]
        with_meta(&mut params, crate::telemetry::inject);
        if let Some(extra) = &options.meta {
            with_meta(&mut params, |meta| {
                for (k, v) in extra {
                    meta.entry(k.clone()).or_insert_with(|| v.clone());
                }
            });
        }
        let _progress = options.progress.clone().map(|callback| {
            let n = self.next_token.fetch_add(1, Ordering::Relaxed);
            with_meta(&mut params, |meta| {
                meta.insert("progressToken".into(), Value::from(n));
            });
            self.incoming.track_progress(RequestId::Number(n), callback)
        });
        let mut rounds = 0;
        loop {
            let result = self.send(method, &params).await?;
            if result.get("resultType").and_then(Value::as_str) != Some("input_required") {
                return Ok(result);
            }
            if !INPUT_REQUIRED_METHODS.contains(&method)
                || !matches!(self.framing(), Framing::Modern(_))
            {
                return Err(Malformed::InputRequired(method.to_owned()).into());
            }
            rounds += 1;
            if rounds > self.settings.max_input_rounds {
                return Err(Error::TooManyInputRounds(self.settings.max_input_rounds));
            }
            let asked: InputRequiredResult = serde_json::from_value(result)
                .map_err(|_| Malformed::InputRequired(method.to_owned()))?;
            mrtr::answer(&self.incoming.handlers, asked, method, &mut params).await?;
        }
    }

    /// Sends one request in the current framing; re-initialises an expired legacy session and
    /// learns a tool's header arguments once, retrying after either.
    async fn send(&self, method: &str, params: &JsonObject) -> Result<Value, Error> {
        let mut reinitialized = false;
        let mut relisted = false;
        loop {
            let framing = self.framing();
            let generation = self.wire.generation();
            let known_headers = match framing {
                Framing::Modern(_) if method == methods::TOOLS_CALL => self.param_headers(params),
                _ => Some(Vec::new()),
            };
            let result = self
                .send_framed(
                    framing,
                    method,
                    params,
                    known_headers.clone().unwrap_or_default(),
                )
                .await;
            match result {
                Err(Error::SessionExpired) if !reinitialized => {
                    reinitialized = true;
                    negotiate::reinitialize(self, generation).await?;
                }
                Err(Error::Protocol(e))
                    if e.code == ErrorCode::HEADER_MISMATCH
                        && known_headers.is_none()
                        && !relisted =>
                {
                    // The tool may mirror arguments in headers (`x-mcp-header`): list the tools
                    // to learn which, then try again.
                    relisted = true;
                    self.relist_tools().await?;
                    if self.param_headers(params).is_none() {
                        return Err(Error::Protocol(e));
                    }
                }
                other => return other,
            }
        }
    }

    /// Sends one request in `framing`, telling the server if the future is dropped first.
    /// A request with a fresh id, its params framed for `framing`.
    pub(crate) fn call_for(&self, framing: Framing, method: &str, params: &JsonObject) -> Call {
        let id = RequestId::Number(self.next_id.fetch_add(1, Ordering::Relaxed));
        let body = self.frame(framing, params);
        Call {
            request: Request::new(id, method, Some(Value::Object(body))),
            framing,
            param_headers: Vec::new(),
        }
    }

    pub(crate) async fn send_framed(
        &self,
        framing: Framing,
        method: &str,
        params: &JsonObject,
        param_headers: Vec<(String, String)>,
    ) -> Result<Value, Error> {
        let mut call = self.call_for(framing, method, params);
        call.param_headers = param_headers;
        let id = call.request.id.clone();
        let mut guard = CancelOnDrop {
            wire: &self.wire,
            id: (method != methods::INITIALIZE).then_some(id),
            framing,
        };
        let result = self.wire.call(call).await;
        guard.disarm();
        result
    }

    /// Lists every tool (all pages) to learn their header arguments.
    async fn relist_tools(&self) -> Result<(), Error> {
        let mut cursor: Option<String> = None;
        for _ in 0..1000 {
            let mut params = JsonObject::new();
            if let Some(c) = &cursor {
                params.insert("cursor".into(), c.clone().into());
            }
            let framing = self.framing();
            let value = self
                .send_framed(framing, methods::TOOLS_LIST, &params, Vec::new())
                .await?;
            let page: mcp_core::types::ListToolsResult =
                serde_json::from_value(value).map_err(|source| Malformed::Result {
                    method: methods::TOOLS_LIST.into(),
                    source,
                })?;
            self.learn_tools(&page.tools);
            match page.next_cursor {
                Some(next) if cursor.as_ref() != Some(&next) => cursor = Some(next),
                _ => return Ok(()),
            }
        }
        Ok(())
    }
}
