//! The agent's own spans, when it is given an OTLP endpoint
//! (`--otlp-endpoint`, `OTEL_EXPORTER_OTLP_ENDPOINT`): the executor of
//! each attempt it runs and each of its steps (the run or template
//! command, every check), as children of the attempt's span that the
//! coordinator names in the attempt's `TRACEPARENT`. They are sent as they
//! end, best effort (a collector that stays down loses them; the
//! coordinator's own spans are the ones kept across restarts). Without an
//! endpoint [`Spans::off`] records nothing.

use std::time::SystemTime;

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator, SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use tokio::sync::mpsc;

use crate::exec::{ExecSpec, Outcome};

/// Most spans sent in one request.
const BATCH: usize = 256;

/// Where the agent's spans go; cloned into every attempt. Off by default.
#[derive(Debug, Clone, Default)]
pub struct Spans {
    tx: Option<mpsc::UnboundedSender<SpanData>>,
}

impl Spans {
    /// Records nothing.
    pub fn off() -> Spans {
        Spans::default()
    }

    /// Sends spans to the OTLP collector at `base` (gRPC when
    /// `OTEL_EXPORTER_OTLP_PROTOCOL` says `grpc`, else HTTP with protobuf
    /// bodies, `/v1/traces` appended; over TLS for `https://`, checked
    /// against `OTEL_EXPORTER_OTLP_CERTIFICATE` or the system's CAs), as
    /// agent `agent_id`. Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// An unknown protocol, an endpoint neither http:// nor https://, TLS
    /// files that cannot be used, or an exporter that cannot be built.
    pub fn start(base: &str, agent_id: &str) -> Result<Spans, String> {
        let protocol =
            swarm_otlp::Protocol::from_env(|v| std::env::var(v).ok()).map_err(|e| e.to_string())?;
        let url = swarm_otlp::traces_url(base, protocol);
        let mut exporter = swarm_otlp::span_exporter(&url, protocol).map_err(|e| e.to_string())?;
        let resource = Resource::builder()
            .with_service_name(
                std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "swarm-agent".to_string()),
            )
            .with_attribute(KeyValue::new("service.instance.id", agent_id.to_string()))
            .build();
        exporter.set_resource(&resource);
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(send(exporter, rx));
        Ok(Spans { tx: Some(tx) })
    }

    /// Records the span `name` of the attempt `spec` describes, from
    /// `start` to now, with how it ended and `extra` attributes. Nothing
    /// when off, or when the attempt came without a `TRACEPARENT`.
    pub fn attempt_span(
        &self,
        spec: &ExecSpec,
        name: &str,
        start: SystemTime,
        outcome: &Outcome,
        extra: Vec<KeyValue>,
    ) {
        let Some(tx) = &self.tx else { return };
        let traceparent = spec
            .env
            .iter()
            .find(|(k, _)| k == "TRACEPARENT")
            .map(|(_, v)| v.as_str());
        let Some((trace, parent)) = traceparent.and_then(parse_traceparent) else {
            return;
        };
        let (outcome_name, exit_code, status) = describe(outcome);
        let mut attributes = vec![
            KeyValue::new("swarm.task.id", spec.task_id.clone()),
            KeyValue::new("swarm.attempt", i64::from(spec.attempt_no)),
            KeyValue::new("swarm.attempt.fence", spec.attempt as i64),
            KeyValue::new("swarm.role", spec.role.clone()),
            KeyValue::new("swarm.outcome", outcome_name),
        ];
        if let Some(code) = exit_code {
            attributes.push(KeyValue::new("process.exit.code", i64::from(code)));
        }
        if let Some((_, agent)) = spec.env.iter().find(|(k, _)| k == "SWARM_AGENT_ID") {
            attributes.push(KeyValue::new("swarm.agent.id", agent.clone()));
        }
        attributes.extend(extra);
        let mut data = SpanData {
            span_context: SpanContext::new(
                trace,
                RandomIdGenerator::default().new_span_id(),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: parent,
            parent_span_is_remote: true,
            span_kind: SpanKind::Internal,
            name: name.to_string().into(),
            start_time: start,
            end_time: SystemTime::now(),
            attributes,
            dropped_attributes_count: 0,
            events: Default::default(),
            links: Default::default(),
            status,
            instrumentation_scope: scope(),
        };
        data.end_time = data.end_time.max(data.start_time);
        let _ = tx.send(data);
    }
}

/// The instrumentation scope of the agent's spans.
fn scope() -> InstrumentationScope {
    InstrumentationScope::builder("swarm-agent")
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}

/// An outcome's name, exit code and span status.
fn describe(outcome: &Outcome) -> (&'static str, Option<i32>, Status) {
    match outcome {
        Outcome::Succeeded => ("succeeded", None, Status::Ok),
        Outcome::Failed { exit_code, message } => {
            ("failed", *exit_code, Status::error(message.clone()))
        }
        Outcome::NotStarted { message } => ("not_started", None, Status::error(message.clone())),
        Outcome::TimedOut { message } => ("timed_out", None, Status::error(message.clone())),
        Outcome::Cancelled => ("cancelled", None, Status::error("cancelled")),
        Outcome::RateLimited { message, .. } => {
            ("rate_limited", None, Status::error(message.clone()))
        }
    }
}

/// The trace and parent span a W3C `traceparent` names (version 00).
pub fn parse_traceparent(tp: &str) -> Option<(TraceId, SpanId)> {
    let mut parts = tp.trim().split('-');
    let (version, trace, span, _flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if version != "00" || trace.len() != 32 || span.len() != 16 {
        return None;
    }
    let trace = TraceId::from_hex(trace).ok()?;
    let span = SpanId::from_hex(span).ok()?;
    (trace != TraceId::INVALID && span != SpanId::INVALID).then_some((trace, span))
}

/// Sends spans as they come, a batch at a time; a failed batch is tried
/// once more, then dropped with a warning.
async fn send(
    exporter: opentelemetry_otlp::SpanExporter,
    mut rx: mpsc::UnboundedReceiver<SpanData>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(span) => batch.push(span),
                Err(_) => break,
            }
        }
        let n = batch.len();
        if exporter.export(batch.clone()).await.is_err() {
            if let Err(e) = exporter.export(batch).await {
                tracing::warn!("dropped {n} spans: the OTLP collector refused them twice: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_parses_only_when_well_formed() {
        let tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        let (trace, span) = parse_traceparent(tp).expect("parses");
        assert_eq!(format!("{trace}"), "0af7651916cd43dd8448eb211c80319c");
        assert_eq!(format!("{span}"), "b7ad6b7169203331");
        for bad in [
            "",
            "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b71692033-01",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-zzf7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        ] {
            assert_eq!(parse_traceparent(bad), None, "{bad}");
        }
    }
}
