//! # telemetry
//!
//! What every parcelport service sets up first: structured logs, traces and Prometheus metrics.
//! - [`init_logs`]: `tracing` to stderr, JSON lines in production (one object per event, with
//!   the service name and the current span's fields, its `trace_id` among them),
//!   human-readable in a terminal; the level comes from `RUST_LOG` (default `info`). It also
//!   gives every span an OpenTelemetry context, exported over OTLP when configured
//!   ([`trace`]); [`flush_traces`] sends what is buffered before the process exits.
//! - [`metrics_recorder`]: installs the process-wide `metrics` recorder once and returns the
//!   handle that renders the Prometheus text; [`metrics_router`] serves it at `/metrics`.
//!
//! Libraries only *emit* (`tracing::info!`, `metrics::counter!`); binaries call these once.
//! Logging guide: log identifiers (ids, codes, positions), never personal data (names, emails,
//! addresses, document numbers), and log an error once, where it is handled.

use axum::http::header;
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanExporter};
use std::sync::OnceLock;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;

pub mod trace;

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line: for services.
    Json,
    /// Human-readable: for a terminal.
    Pretty,
}

/// The tracer provider of the process, once logs are set up.
static TRACES: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Sets up `tracing` for the process, with traces exported over OTLP when the environment
/// configures an endpoint ([`trace`]); later calls are no-ops (tests call it freely). Call it
/// inside the Tokio runtime: the exporter runs on it.
pub fn init_logs(service: &'static str, format: LogFormat) {
    let export = match trace::export_configured() {
        false => trace::Export::Off,
        true => match opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()
        {
            Ok(exporter) => trace::Export::Batched(Box::new(exporter)),
            Err(error) => {
                eprintln!("{service}: OTLP trace export is off: {error}");
                trace::Export::Off
            }
        },
    };
    init::<opentelemetry_otlp::SpanExporter>(service, format, export);
}

/// [`init_logs`] with every span exported to `exporter` as it ends: for tests that read the
/// spans back (an in-memory exporter).
pub fn init_logs_exporting_to(
    service: &'static str,
    format: LogFormat,
    exporter: impl SpanExporter + 'static,
) {
    init(service, format, trace::Export::EachTo(exporter));
}

fn init<E: SpanExporter + 'static>(
    service: &'static str,
    format: LogFormat,
    export: trace::Export<E>,
) {
    if TRACES.get().is_some() {
        return;
    }
    let provider = trace::provider(service, export);
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let logs = match format {
        LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
        LogFormat::Pretty => logs.compact().boxed(),
    };
    let installed = tracing_subscriber::registry()
        .with(trace::layer(&provider, service))
        .with(logs)
        .with(filter)
        .try_init();
    if installed.is_ok() {
        opentelemetry::global::set_tracer_provider(provider.clone());
        let _ = TRACES.set(provider);
        tracing::info!(service, "logging started");
    }
}

/// Sends the spans still buffered to the exporter: call it before the process exits.
pub fn flush_traces() {
    if let Some(provider) = TRACES.get() {
        if let Err(error) = provider.force_flush() {
            tracing::warn!(%error, "could not flush the traces");
        }
    }
}

/// The process-wide Prometheus recorder, installed on first use. Call it at start-up, before
/// anything emits: what is emitted before a recorder exists is dropped.
pub fn metrics_recorder() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be set (a test harness); this handle then renders
            // nothing, which is the honest answer for this process.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// A router serving the Prometheus text format at `GET /metrics`.
pub fn metrics_router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let handle = metrics_recorder();
    Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                handle.run_upkeep();
                (
                    [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                    handle.render(),
                )
            }
        }),
    )
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM, logging that `service` was asked to stop: what
/// every binary's graceful shutdown waits for. If a handler cannot be installed, waits on the
/// other only.
pub async fn shutdown_requested(service: &'static str) {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!(service, "shutdown requested");
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    #[tokio::test]
    async fn metrics_are_served_in_prometheus_text() {
        init_logs("telemetry-test", LogFormat::Pretty);
        let router = metrics_router::<()>();
        metrics::counter!("telemetry_test_total", "kind" => "demo").increment(3);
        let response = router
            .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/plain; version=0.0.4"
        );
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(
            text.contains("telemetry_test_total{kind=\"demo\"} 3"),
            "got: {text}"
        );
    }
}
