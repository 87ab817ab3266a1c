//! The MCP metrics, on the global OpenTelemetry meter provider (feature `otel`; without it every
//! recording is a no-op the compiler removes).

#[cfg(feature = "otel")]
use std::sync::Arc;

#[cfg(feature = "otel")]
use opentelemetry::KeyValue;
#[cfg(feature = "otel")]
use opentelemetry::metrics::{Counter, Histogram, Meter, UpDownCounter};

use super::message::Transport;

/// The attributes of `mcp.server.operation.duration`.
#[derive(Debug)]
#[cfg_attr(not(feature = "otel"), allow(dead_code))]
pub(crate) struct OperationLabels {
    pub method: &'static str,
    pub tool: Option<String>,
    pub prompt: Option<String>,
    pub version: Option<&'static str>,
    pub transport: Transport,
    pub error: Option<String>,
    pub status_code: Option<i32>,
}

/// Bucket boundaries (seconds) the conventions advise for MCP durations.
#[cfg(feature = "otel")]
const DURATION_BUCKETS: [f64; 14] = [
    0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

#[cfg(feature = "otel")]
fn meter() -> Meter {
    let scope = opentelemetry::InstrumentationScope::builder("mcp-server")
        .with_version(env!("CARGO_PKG_VERSION"))
        .build();
    opentelemetry::global::meter_with_scope(scope)
}

#[cfg(feature = "otel")]
struct ServerInstruments {
    operation: Histogram<f64>,
    session: Histogram<f64>,
    sessions_active: UpDownCounter<i64>,
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    streams_active: UpDownCounter<i64>,
    tasks: Counter<u64>,
}

/// The server's instruments. Cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct ServerMetrics {
    #[cfg(feature = "otel")]
    instruments: Option<Arc<ServerInstruments>>,
}

impl std::fmt::Debug for ServerMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerMetrics")
    }
}

impl ServerMetrics {
    /// Instruments on the global meter provider as it is now.
    pub(crate) fn from_global() -> Self {
        #[cfg(feature = "otel")]
        {
            let meter = meter();
            let instruments = ServerInstruments {
                operation: meter
                    .f64_histogram("mcp.server.operation.duration")
                    .with_unit("s")
                    .with_description(
                        "MCP request or notification duration as observed on the receiver from \
                         the time it was received until the result or ack is sent",
                    )
                    .with_boundaries(DURATION_BUCKETS.to_vec())
                    .build(),
                session: meter
                    .f64_histogram("mcp.server.session.duration")
                    .with_unit("s")
                    .with_description("The duration of the MCP session as observed on the server")
                    .with_boundaries(DURATION_BUCKETS.to_vec())
                    .build(),
                sessions_active: meter
                    .i64_up_down_counter("mcp.server.sessions.active")
                    .with_unit("{session}")
                    .with_description("Open MCP sessions (legacy Streamable HTTP, stdio)")
                    .build(),
                streams_active: meter
                    .i64_up_down_counter("mcp.server.streams.active")
                    .with_unit("{stream}")
                    .with_description("Open SSE streams (standalone GET streams and POST answers)")
                    .build(),
                tasks: meter
                    .u64_counter("mcp.server.tasks")
                    .with_unit("{task}")
                    .with_description("Tasks entering each status")
                    .build(),
            };
            ServerMetrics {
                instruments: Some(Arc::new(instruments)),
            }
        }
        #[cfg(not(feature = "otel"))]
        ServerMetrics {}
    }

    /// Whether recordings go anywhere (feature `otel`).
    pub(crate) fn is_recording(&self) -> bool {
        #[cfg(feature = "otel")]
        return self.instruments.is_some();
        #[cfg(not(feature = "otel"))]
        false
    }

    /// `mcp.server.operation.duration`.
    #[cfg_attr(not(feature = "otel"), allow(unused_variables))]
    pub(crate) fn operation(&self, seconds: f64, labels: &OperationLabels) {
        #[cfg(feature = "otel")]
        if let Some(i) = &self.instruments {
            let mut attributes = Vec::with_capacity(7);
            attributes.push(KeyValue::new("mcp.method.name", labels.method));
            attributes.push(KeyValue::new(
                "network.transport",
                labels.transport.as_str(),
            ));
            if let Some(v) = labels.version {
                attributes.push(KeyValue::new("mcp.protocol.version", v));
            }
            if let Some(t) = &labels.tool {
                attributes.push(KeyValue::new("gen_ai.tool.name", t.clone()));
            }
            if let Some(p) = &labels.prompt {
                attributes.push(KeyValue::new("gen_ai.prompt.name", p.clone()));
            }
            if let Some(e) = &labels.error {
                attributes.push(KeyValue::new("error.type", e.clone()));
            }
            if let Some(code) = labels.status_code {
                attributes.push(KeyValue::new("rpc.response.status_code", code.to_string()));
            }
            i.operation.record(seconds, &attributes);
        }
    }

    /// A session opened: `mcp.server.sessions.active` + 1.
    #[cfg_attr(not(feature = "otel"), allow(unused_variables))]
    pub(crate) fn session_opened(&self, transport: Transport) {
        #[cfg(feature = "otel")]
        if let Some(i) = &self.instruments {
            i.sessions_active
                .add(1, &[KeyValue::new("network.transport", transport.as_str())]);
        }
    }

    /// A session ended after `seconds`: `mcp.server.sessions.active` - 1 and
    /// `mcp.server.session.duration`.
    #[cfg_attr(not(feature = "otel"), allow(unused_variables))]
    pub(crate) fn session_closed(&self, seconds: f64, version: &'static str, transport: Transport) {
        #[cfg(feature = "otel")]
        if let Some(i) = &self.instruments {
            let transport = KeyValue::new("network.transport", transport.as_str());
            i.sessions_active.add(-1, std::slice::from_ref(&transport));
            i.session.record(
                seconds,
                &[KeyValue::new("mcp.protocol.version", version), transport],
            );
        }
    }

    /// An SSE stream opened (`+1`) or closed (`-1`): `mcp.server.streams.active`.
    #[cfg_attr(not(feature = "otel"), allow(unused_variables))]
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn streams(&self, delta: i64) {
        #[cfg(feature = "otel")]
        if let Some(i) = &self.instruments {
            i.streams_active.add(delta, &[]);
        }
    }

    /// A task entered `status`: `mcp.server.tasks`.
    #[cfg_attr(not(feature = "otel"), allow(unused_variables))]
    pub(crate) fn task_status(&self, status: &'static str) {
        #[cfg(feature = "otel")]
        if let Some(i) = &self.instruments {
            i.tasks.add(1, &[KeyValue::new("mcp.task.status", status)]);
        }
    }

    /// Counts an open SSE stream until the guard drops.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn stream_guard(&self) -> StreamGauge {
        self.streams(1);
        StreamGauge {
            metrics: self.clone(),
        }
    }
}

/// One open stream in `mcp.server.streams.active`, until dropped.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
#[derive(Debug)]
pub(crate) struct StreamGauge {
    metrics: ServerMetrics,
}

impl Drop for StreamGauge {
    fn drop(&mut self) {
        self.metrics.streams(-1);
    }
}

#[cfg(all(feature = "otel", feature = "http"))]
struct AuthInstruments {
    refusals: Counter<u64>,
    replays: Counter<u64>,
}

/// The authorization layer's instruments. Cheap to clone.
#[cfg(feature = "http")]
#[derive(Clone, Default)]
pub(crate) struct AuthMetrics {
    #[cfg(feature = "otel")]
    instruments: Option<Arc<AuthInstruments>>,
}

#[cfg(feature = "http")]
impl std::fmt::Debug for AuthMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthMetrics")
    }
}

#[cfg(feature = "http")]
impl AuthMetrics {
    /// Instruments on the global meter provider as it is now.
    pub(crate) fn from_global() -> Self {
        #[cfg(feature = "otel")]
        {
            let meter = meter();
            AuthMetrics {
                instruments: Some(Arc::new(AuthInstruments {
                    refusals: meter
                        .u64_counter("mcp.server.auth.refusals")
                        .with_unit("{refusal}")
                        .with_description("Requests the authorization layer refused, by reason")
                        .build(),
                    replays: meter
                        .u64_counter("mcp.server.dpop.replays")
                        .with_unit("{proof}")
                        .with_description("DPoP proofs refused because they were seen before")
                        .build(),
                })),
            }
        }
        #[cfg(not(feature = "otel"))]
        AuthMetrics {}
    }

    /// A refusal: `mcp.server.auth.refusals`.
    #[cfg_attr(not(feature = "otel"), allow(unused_variables))]
    pub(crate) fn refusal(&self, reason: &str, credential: Option<&'static str>, status: u16) {
        #[cfg(feature = "otel")]
        if let Some(i) = &self.instruments {
            let mut attributes = vec![
                KeyValue::new("mcp.auth.reason", reason.to_owned()),
                KeyValue::new("http.response.status_code", i64::from(status)),
            ];
            if let Some(kind) = credential {
                attributes.push(KeyValue::new("mcp.auth.credential", kind));
            }
            i.refusals.add(1, &attributes);
        }
    }

    /// A replayed DPoP proof refused: `mcp.server.dpop.replays`.
    pub(crate) fn dpop_replay(&self) {
        #[cfg(feature = "otel")]
        if let Some(i) = &self.instruments {
            i.replays.add(1, &[]);
        }
    }
}
