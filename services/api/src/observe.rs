//! What the API records about each request: its correlation id, its trace (a span continuing
//! the client's W3C `traceparent`), and metrics by route and status through the `metrics`
//! facade (rendered at `/metrics` by `telemetry`).

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;
use tracing::Instrument;

/// The header a client sets to tie its requests together; echoed on every response.
pub(crate) const CORRELATION_ID: HeaderName = HeaderName::from_static("x-correlation-id");

/// The correlation id of the request: the client's `X-Correlation-Id` when it is 1 to 128
/// visible ASCII characters, else a new UUID. Every event the request appends records it.
#[derive(Debug, Clone)]
pub(crate) struct CorrelationId(pub(crate) String);

/// Takes or makes the correlation id, hands it to the handler, and echoes it.
pub(crate) async fn correlate(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&CORRELATION_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 128 && id.chars().all(|c| c.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let header = HeaderValue::from_str(&id).ok();
    request.extensions_mut().insert(CorrelationId(id));
    let mut response = next.run(request).await;
    if let Some(header) = header {
        response.headers_mut().insert(CORRELATION_ID, header);
    }
    response
}

/// Runs the request in a span `http.request` that continues the client's W3C `traceparent`
/// (or starts a trace): every event the request appends records the span's context, and every
/// log line inside it carries its `trace_id`.
pub(crate) async fn trace(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    let span = tracing::info_span!(
        "http.request",
        otel.name = %format!("{} {route}", request.method()),
        otel.kind = "server",
        http.request.method = %request.method(),
        http.route = %route,
        http.response.status_code = tracing::field::Empty,
        trace_id = tracing::field::Empty,
    );
    let parent = request
        .headers()
        .get(telemetry::trace::TRACEPARENT)
        .and_then(|value| value.to_str().ok());
    telemetry::trace::continue_trace(&span, parent);
    let response = next.run(request).instrument(span.clone()).await;
    span.record("http.response.status_code", response.status().as_u16());
    response
}

/// Counts each request and times it, labelled by route template, method and status:
/// `api_requests_total` and `api_request_duration_seconds`.
pub(crate) async fn record_metrics(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("route", route), ("method", method), ("status", status)];
    metrics::counter!("api_requests_total", &labels).increment(1);
    metrics::histogram!("api_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}
