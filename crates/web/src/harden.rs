//! The layers every parcelport router gets, so that no request ends in a panic, an HTML error
//! page or an unbounded body.

use crate::json::too_large;
use crate::problem::Problem;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::any::Any;
use tower_http::catch_panic::CatchPanicLayer;

/// The largest request body accepted: commands are small.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Wraps a finished router: body limit, problem responses for unknown routes and methods,
/// and a panic turned into an opaque 500 problem (logged, never sent).
pub fn harden(router: Router) -> Router {
    router
        .fallback(|| async {
            Problem::not_found("route.not_found", "no such endpoint; see /openapi.json")
        })
        .method_not_allowed_fallback(|| async {
            Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "route.method_not_allowed",
                "Method not allowed",
            )
        })
        .layer(axum::middleware::map_response(too_large_as_problem))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CatchPanicLayer::custom(panic_as_problem))
}

/// A body refused by the limit outside the JSON extractor is still a problem.
async fn too_large_as_problem(response: Response) -> Response {
    let plain = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_none_or(|ct| ct.as_bytes().starts_with(b"text/plain"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && plain {
        too_large().into_response()
    } else {
        response
    }
}

fn panic_as_problem(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic".to_owned());
    tracing::error!(panic = %message, "request handler panicked");
    Problem::internal().into_response()
}
