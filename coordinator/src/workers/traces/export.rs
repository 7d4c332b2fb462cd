//! The OTLP side: which exporter the settings and the standard
//! `OTEL_EXPORTER_OTLP_*` variables ask for (gRPC on tonic, or HTTP with
//! protobuf bodies, the specification's default; TLS for `https://`, see
//! `swarm_otlp`), the resource
//! (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`; service `swarmd`
//! when neither names one), and our spans as the SDK's span data.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{
    Event, SpanContext, SpanId, SpanKind, Status as OtelStatus, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, Key, KeyValue};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanExporter, SpanLinks};
use opentelemetry_sdk::Resource;

use super::spans::{Span, Status, Value};

/// The semantic conventions the attribute names follow (the GenAI agent
/// attributes included).
pub const SEMCONV_SCHEMA: &str = "https://opentelemetry.io/schemas/1.37.0";

pub use swarm_otlp::{Protocol, SetupError as ExportSetupError};

/// The exporter the settings ask for: at `otlp_endpoint`, else at
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` alone; `None` (no exporter, no
/// cost) when neither is set.
///
/// # Errors
/// An unknown protocol, or an exporter that cannot be built.
pub fn configured(
    otlp_endpoint: Option<&str>,
) -> Result<Option<opentelemetry_otlp::SpanExporter>, ExportSetupError> {
    let per_signal = std::env::var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").unwrap_or_default();
    let base = match (otlp_endpoint, per_signal.is_empty()) {
        (Some(base), _) => base.to_string(),
        (None, false) => per_signal,
        (None, true) => return Ok(None),
    };
    let exporter = exporter(&base)?;
    tracing::info!("exporting traces to {base}");
    Ok(Some(exporter))
}

/// The exporter for `base`, with the resource set: over TLS when the
/// endpoint is `https://` (the CA of `OTEL_EXPORTER_OTLP_CERTIFICATE`).
pub fn exporter(base: &str) -> Result<opentelemetry_otlp::SpanExporter, ExportSetupError> {
    let protocol = Protocol::from_env(|v| std::env::var(v).ok())?;
    // A per-signal endpoint is used as it is; a base one gets the path.
    let url = std::env::var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| swarm_otlp::traces_url(base, protocol));
    let mut exporter = swarm_otlp::span_exporter(&url, protocol)?;
    exporter.set_resource(&resource());
    Ok(exporter)
}

/// The resource: the environment's, service `swarmd` unless it names one.
fn resource() -> Resource {
    let detected = Resource::builder().build();
    let named = detected
        .get(&Key::new("service.name"))
        .is_some_and(|v| !v.as_str().starts_with("unknown_service"));
    if named {
        detected
    } else {
        Resource::builder().with_service_name("swarmd").build()
    }
}

/// The instrumentation scope of every span.
pub fn scope() -> InstrumentationScope {
    InstrumentationScope::builder("swarmd")
        .with_version(env!("CARGO_PKG_VERSION"))
        .with_schema_url(SEMCONV_SCHEMA)
        .build()
}

fn time(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)
}

fn key_values(attrs: &[(&'static str, Value)]) -> Vec<KeyValue> {
    attrs
        .iter()
        .map(|(k, v)| match v {
            Value::Str(s) => KeyValue::new(*k, s.clone()),
            Value::Int(i) => KeyValue::new(*k, *i),
            Value::Float(f) => KeyValue::new(*k, *f),
        })
        .collect()
}

/// Our span as the SDK's span data, in trace `trace`.
pub fn span_data(
    trace: &swarm_core::trace::TraceId,
    span: &Span,
    scope: &InstrumentationScope,
) -> SpanData {
    SpanData {
        span_context: SpanContext::new(
            TraceId::from_bytes(trace.0),
            SpanId::from_bytes(span.id),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        parent_span_id: span.parent.map_or(SpanId::INVALID, SpanId::from_bytes),
        parent_span_is_remote: false,
        span_kind: SpanKind::Internal,
        name: span.name.clone().into(),
        start_time: time(span.start_ms),
        end_time: time(span.end_ms),
        attributes: key_values(&span.attributes),
        dropped_attributes_count: 0,
        events: span_events(span),
        links: SpanLinks::default(),
        status: match &span.status {
            Status::Ok => OtelStatus::Ok,
            Status::Error(why) => OtelStatus::error(why.clone()),
        },
        instrumentation_scope: scope.clone(),
    }
}

/// Our span's events as the SDK's (a type built only through its
/// default, with public fields).
fn span_events(span: &Span) -> SpanEvents {
    let mut events = SpanEvents::default();
    events.events = span
        .events
        .iter()
        .map(|e| Event::new(e.name.clone(), time(e.at_ms), key_values(&e.attributes), 0))
        .collect();
    events.dropped_count = span.dropped_events;
    events
}
