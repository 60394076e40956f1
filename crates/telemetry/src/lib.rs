//! # telemetry
//!
//! What every parcelport service sets up first: structured logs and Prometheus metrics.
//! - [`init_logs`]: `tracing` to stderr, JSON lines in production (one object per event, with
//!   the service name), human-readable in a terminal; the level comes from `RUST_LOG`
//!   (default `info`).
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
use std::sync::OnceLock;
use tracing_subscriber::EnvFilter;

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line: for services.
    Json,
    /// Human-readable: for a terminal.
    Pretty,
}

/// Sets up `tracing` for the process; later calls are no-ops (tests call it freely).
pub fn init_logs(service: &'static str, format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
    if installed.is_ok() {
        tracing::info!(service, "logging started");
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
