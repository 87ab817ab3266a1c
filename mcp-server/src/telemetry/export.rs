//! OTLP export of the framework's spans and metrics, configured by the standard `OTEL_*`
//! environment variables.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{ExporterBuildError, MetricExporter, SpanExporter};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::{FilterExt as _, filter_fn};
use tracing_subscriber::layer::{Layer as _, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;

/// Why telemetry could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// An OTLP exporter could not be built (an invalid `OTEL_EXPORTER_OTLP_*` setting).
    #[error("cannot build the OTLP exporter: {0}")]
    Exporter(#[from] ExporterBuildError),
    /// A global `tracing` subscriber was already installed.
    #[error("a global tracing subscriber is already installed: {0}")]
    Subscriber(#[from] tracing_subscriber::util::TryInitError),
}

/// Keeps the exporters running; dropping it flushes what is buffered and shuts them down (a
/// blocking call: drop it at the end of `main`, after the server stopped).
#[must_use = "dropping the guard shuts the exporters down"]
pub struct TelemetryGuard {
    tracer: Option<SdkTracerProvider>,
    meter: Option<SdkMeterProvider>,
}

impl std::fmt::Debug for TelemetryGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryGuard")
            .field("exporting", &self.tracer.is_some())
            .finish()
    }
}

impl TelemetryGuard {
    /// Exports what is buffered now (spans of the batch, the metrics' current values).
    pub fn flush(&self) {
        if let Some(t) = &self.tracer {
            let _ = t.force_flush();
        }
        if let Some(m) = &self.meter {
            let _ = m.force_flush();
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(t) = self.tracer.take() {
            let _ = t.shutdown();
        }
        if let Some(m) = self.meter.take() {
            let _ = m.shutdown();
        }
    }
}

fn disabled_by_env() -> bool {
    std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// Sets up logging and OpenTelemetry export for a server process, from the environment:
///
/// - a global `tracing` subscriber printing events to stderr, filtered by `RUST_LOG` (default
///   `info`); spans go to OpenTelemetry under the same filter. The framework's own spans (targets
///   `mcp::server`, `mcp::client`) are not printed as context of the log lines: formatting every
///   field of every request's spans for a text log would cost more than the export;
/// - traces and metrics exported over OTLP HTTP/protobuf: `OTEL_EXPORTER_OTLP_ENDPOINT`
///   (default `http://localhost:4318`), `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`,
///   `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS`,
///   `OTEL_EXPORTER_OTLP_TIMEOUT`; `OTEL_SERVICE_NAME` (default `service_name`),
///   `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`/`OTEL_TRACES_SAMPLER_ARG`,
///   `OTEL_BSP_*` (span batches), `OTEL_METRIC_EXPORT_INTERVAL` (default 60 000 ms);
///   `OTEL_SDK_DISABLED=true` keeps the logging and exports nothing;
/// - the global meter provider the MCP metrics use (call this before building the server) and
///   the W3C trace-context propagator.
///
/// Keep the returned guard alive for as long as the process serves.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let _telemetry = mcp_server::telemetry::init_from_env("weather-server")?;
/// let server = mcp_server::McpServer::builder("weather").build()?;
/// server.serve("127.0.0.1:8000").await?;
/// # Ok(()) }
/// ```
pub fn init_from_env(service_name: &str) -> Result<TelemetryGuard, TelemetryError> {
    if disabled_by_env() {
        tracing_subscriber::registry()
            .with(log_layer())
            .try_init()?;
        return Ok(TelemetryGuard {
            tracer: None,
            meter: None,
        });
    }
    let mut resource = Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name(service_name.to_owned());
    }
    let resource = resource.build();
    let tracer_provider = SdkTracerProvider::builder()
        .with_batch_exporter(SpanExporter::builder().with_http().build()?)
        .with_resource(resource.clone())
        .build();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(
            PeriodicReader::builder(MetricExporter::builder().with_http().build()?).build(),
        )
        .with_resource(resource)
        .build();
    // The spans as OpenTelemetry has them: their own attributes only (no source location,
    // thread or busy/idle time added to each).
    let spans = tracing_opentelemetry::layer()
        .with_tracer(tracer_provider.tracer("mcp-server"))
        .with_location(false)
        .with_threads(false)
        .with_tracked_inactivity(false)
        .with_filter(env_filter());
    tracing_subscriber::registry()
        .with(log_layer())
        .with(spans)
        .try_init()?;
    opentelemetry::global::set_tracer_provider(tracer_provider.clone());
    opentelemetry::global::set_meter_provider(meter_provider.clone());
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    Ok(TelemetryGuard {
        tracer: Some(tracer_provider),
        meter: Some(meter_provider),
    })
}

/// `RUST_LOG`, default `info`.
fn env_filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))
}

/// The log lines on stderr: events as `RUST_LOG` says. The framework's per-request spans are
/// left to OpenTelemetry: a text logger would format every field of every span of every
/// request (most of the cost of tracing at `info`) for lines that mostly never come.
fn log_layer<S>() -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let framework_span = |meta: &tracing::Metadata<'_>| {
        meta.is_span() && (meta.target() == super::TARGET || meta.target() == "mcp::client")
    };
    tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(env_filter().and(filter_fn(move |meta| !framework_span(meta))))
}
