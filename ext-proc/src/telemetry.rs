//! Logs, and optionally traces over OTLP.
//!
//! With `otlp:` in the config, ext-proc's own spans — one per ext_proc exchange with its
//! phases, escalations, each Classify call and each heavy-tier inference — are exported over
//! OTLP/gRPC (batched; a slow collector drops spans, never delays decisions). Each joins the
//! trace that arrives with the gRPC call (W3C `traceparent` in the call's metadata: Envoy's
//! ext_proc stream carries its request span's context; the wasm filter passes the request's
//! `traceparent` with its Classify calls), so they appear under Envoy's spans.

use std::time::Duration;

use opentelemetry::propagation::Extractor;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde::Deserialize;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// `otlp:` in the service config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtlpConfig {
    /// The collector's OTLP/gRPC endpoint, e.g. `http://127.0.0.1:4317`.
    pub endpoint: String,
    /// `service.name` of the spans. Default `parapet-ext-proc`.
    #[serde(default = "default_service_name")]
    pub service_name: String,
    /// Export timeout per batch, milliseconds. Default 3000.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_service_name() -> String {
    "parapet-ext-proc".to_string()
}

fn default_timeout_ms() -> u64 {
    3000
}

/// Flushes and stops the trace exporter when dropped.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(p) = self.provider.take() {
            if let Err(e) = p.shutdown() {
                eprintln!("otlp: shutdown: {e}");
            }
        }
    }
}

/// Install the log subscriber (`PARAPET_LOG`, default `info`) and, with `otlp`, the trace
/// exporter. Call inside the tokio runtime.
pub fn init(otlp: Option<&OtlpConfig>) -> anyhow::Result<Telemetry> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let filter = tracing_subscriber::EnvFilter::try_from_env("PARAPET_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(false)
        // Colour only on a terminal: logs collected from files stay plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()));
    let Some(cfg) = otlp else {
        tracing_subscriber::registry()
            .with(filter)
            .with(fmt)
            .try_init()?;
        return Ok(Telemetry { provider: None });
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(&cfg.endpoint)
        .with_timeout(Duration::from_millis(cfg.timeout_ms))
        .build()?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(cfg.service_name.clone())
                .build(),
        )
        .build();
    let tracer = provider.tracer("parapet-ext-proc");
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .try_init()?;
    tracing::info!("traces: OTLP/gRPC to {}", cfg.endpoint);
    Ok(Telemetry {
        provider: Some(provider),
    })
}

/// gRPC metadata as a propagation carrier.
struct Metadata<'a>(&'a tonic::metadata::MetadataMap);

impl Extractor for Metadata<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0
            .keys()
            .filter_map(|k| match k {
                tonic::metadata::KeyRef::Ascii(k) => Some(k.as_str()),
                tonic::metadata::KeyRef::Binary(_) => None,
            })
            .collect()
    }
}

/// Make `span` a child of the trace context in a gRPC call's metadata (if any).
pub fn join(span: &tracing::Span, metadata: &tonic::metadata::MetadataMap) {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let parent = opentelemetry::global::get_text_map_propagator(|p| p.extract(&Metadata(metadata)));
    let _ = span.set_parent(parent);
}
