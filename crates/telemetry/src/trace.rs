//! Traces across services: the W3C trace context (`traceparent`) a request arrives with, or a
//! new one, carried in every event's metadata and every published CloudEvent, and continued
//! by each consumer, so one trace shows a command from HTTP to every view it changed.
//!
//! - [`continue_trace`] makes a span a child of an incoming `traceparent` and records its
//!   `trace_id` field, which the JSON logs of everything inside the span then carry;
//! - [`traceparent`] is the context to hand on (into event metadata, onto a message);
//! - [`is_sampled`] says whether a `traceparent` asks for spans to be recorded: consumers
//!   make per-event spans only for sampled traces, so an unexported trace costs nothing past
//!   its ids.
//!
//! Spans are exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, sampled per `OTEL_TRACES_SAMPLER` (default:
//! every trace, following the caller's decision). Otherwise nothing is sampled or exported,
//! and trace ids are still made, carried and logged.

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, SpanExporter};
use opentelemetry_sdk::Resource;
use std::collections::HashMap;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The W3C header, metadata key and CloudEvents extension attribute that carries the context.
pub const TRACEPARENT: &str = "traceparent";

/// The environment variables that turn OTLP export on.
const ENDPOINTS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
];

/// Whether the environment asks for spans to be exported over OTLP.
pub(crate) fn export_configured() -> bool {
    ENDPOINTS
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|value| !value.trim().is_empty()))
}

/// Where a process's spans go.
pub(crate) enum Export<E> {
    /// Nowhere: nothing is sampled; ids are still made and carried.
    Off,
    /// Over OTLP, in batches sent from the Tokio runtime, sampled per `OTEL_TRACES_SAMPLER`.
    Batched(Box<opentelemetry_otlp::SpanExporter>),
    /// To `E` as each span ends, every span sampled: for tests.
    EachTo(E),
}

/// The tracer provider of `service`, exporting as `export` says.
pub(crate) fn provider(
    service: &'static str,
    export: Export<impl SpanExporter + 'static>,
) -> SdkTracerProvider {
    use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;
    let resource = Resource::builder().with_service_name(service).build();
    let builder = SdkTracerProvider::builder().with_resource(resource);
    match export {
        Export::Off => builder.with_sampler(Sampler::AlwaysOff).build(),
        Export::Batched(exporter) => builder
            .with_span_processor(
                BatchSpanProcessor::builder(*exporter, opentelemetry_sdk::runtime::Tokio).build(),
            )
            .build(),
        Export::EachTo(exporter) => builder
            .with_sampler(Sampler::AlwaysOn)
            .with_simple_exporter(exporter)
            .build(),
    }
}

/// The `tracing` layer that gives every span an OpenTelemetry context from `provider`.
pub(crate) fn layer<S>(
    provider: &SdkTracerProvider,
    service: &'static str,
) -> tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::Tracer>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    tracing_opentelemetry::layer()
        .with_tracer(provider.tracer(service))
        .with_threads(false)
}

/// Makes `span` a child of `traceparent` when it is a valid W3C context (a malformed one is
/// ignored: the span starts a trace of its own), and records the span's `trace_id` field when
/// it declares one. Call it before the span is first entered.
pub fn continue_trace(span: &Span, traceparent: Option<&str>) {
    if let Some(traceparent) = traceparent {
        let carrier = HashMap::from([(TRACEPARENT.to_owned(), traceparent.to_owned())]);
        let parent = TraceContextPropagator::new().extract(&carrier);
        if parent.span().span_context().is_valid() {
            let _ = span.set_parent(parent);
        }
    }
    if let Some(trace_id) = trace_id(span) {
        span.record("trace_id", trace_id.as_str());
    }
}

/// The W3C `traceparent` of `span`, to hand on; `None` when tracing is not set up.
pub fn traceparent(span: &Span) -> Option<String> {
    let context = span.context();
    if !context.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier.remove(TRACEPARENT)
}

/// The trace id of `span` (32 hex digits); `None` when tracing is not set up.
pub fn trace_id(span: &Span) -> Option<String> {
    let context = span.context();
    let span_ref = context.span();
    let span_context = span_ref.span_context();
    span_context
        .is_valid()
        .then(|| span_context.trace_id().to_string())
}

/// Whether `traceparent` (`00-<trace id>-<parent id>-<flags>`) has its sampled flag set.
pub fn is_sampled(traceparent: &str) -> bool {
    traceparent
        .rsplit('-')
        .next()
        .and_then(|flags| u8::from_str_radix(flags, 16).ok())
        .is_some_and(|flags| flags & 1 == 1)
}

/// The trace id a `traceparent` names, if it is well formed.
pub fn trace_id_of(traceparent: &str) -> Option<&str> {
    let mut parts = traceparent.split('-');
    let (_version, trace_id) = (parts.next()?, parts.next()?);
    (trace_id.len() == 32 && trace_id.bytes().all(|b| b.is_ascii_hexdigit())).then_some(trace_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sampled_flag_and_the_trace_id_are_read_from_a_traceparent() {
        let sampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert!(is_sampled(sampled));
        assert!(!is_sampled(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
        ));
        assert!(!is_sampled("garbage"));
        assert_eq!(
            trace_id_of(sampled),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        assert_eq!(trace_id_of("00-short-00f067aa0ba902b7-01"), None);
    }

    #[test]
    fn without_tracing_set_up_there_is_no_context_to_hand_on() {
        // This thread's own subscriber, without the OpenTelemetry layer: whatever another test
        // set up for the process does not apply.
        tracing::subscriber::with_default(tracing_subscriber::registry(), || {
            let span = tracing::info_span!("untraced", trace_id = tracing::field::Empty);
            continue_trace(
                &span,
                Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            );
            assert_eq!(traceparent(&span), None);
            assert_eq!(trace_id(&span), None);
        });
    }

    #[test]
    fn with_export_off_a_trace_is_continued_and_handed_on_unsampled() {
        use tracing_subscriber::layer::SubscriberExt;
        let provider = provider(
            "trace-test",
            Export::<opentelemetry_otlp::SpanExporter>::Off,
        );
        let subscriber = tracing_subscriber::registry().with(layer(&provider, "trace-test"));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("continued", trace_id = tracing::field::Empty);
            continue_trace(
                &span,
                Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            );
            assert_eq!(
                trace_id(&span).as_deref(),
                Some("4bf92f3577b34da6a3ce929d0e0e4736")
            );
            let handed_on = traceparent(&span).expect("a context to hand on");
            assert_eq!(
                trace_id_of(&handed_on),
                Some("4bf92f3577b34da6a3ce929d0e0e4736")
            );
            assert!(
                !handed_on.contains("00f067aa0ba902b7"),
                "the span's own id: {handed_on}"
            );
            assert!(
                !is_sampled(&handed_on),
                "nothing is sampled while export is off"
            );

            // A malformed context starts a trace of its own.
            let fresh = tracing::info_span!("fresh", trace_id = tracing::field::Empty);
            continue_trace(&fresh, Some("not-a-traceparent"));
            let own = trace_id(&fresh).expect("a trace of its own");
            assert_ne!(own, "4bf92f3577b34da6a3ce929d0e0e4736");
        });
    }
}
