//! The dashboard: one static page, its script, its words (English and Japanese), its styles and
//! the charting library it draws with (uPlot, vendored under `src/dashboard/vendor/` with its
//! licence), embedded at compile time from `src/dashboard/` (no build step, nothing fetched
//! from elsewhere). The page asks for a token, keeps it in `sessionStorage`, and reads the
//! query endpoints with it, refreshing every 5 seconds.

use axum::http::header;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum::Router;

/// Each file served: its path, content type and text.
const ASSETS: [(&str, &str, &str); 7] = [
    (
        "/dashboard",
        "text/html; charset=utf-8",
        include_str!("dashboard/index.html"),
    ),
    (
        "/dashboard/app.js",
        "text/javascript; charset=utf-8",
        include_str!("dashboard/app.js"),
    ),
    (
        "/dashboard/i18n.js",
        "text/javascript; charset=utf-8",
        include_str!("dashboard/i18n.js"),
    ),
    (
        "/dashboard/style.css",
        "text/css; charset=utf-8",
        include_str!("dashboard/style.css"),
    ),
    (
        "/dashboard/vendor/uPlot.iife.min.js",
        "text/javascript; charset=utf-8",
        include_str!("dashboard/vendor/uPlot.iife.min.js"),
    ),
    (
        "/dashboard/vendor/uPlot.min.css",
        "text/css; charset=utf-8",
        include_str!("dashboard/vendor/uPlot.min.css"),
    ),
    (
        "/dashboard/vendor/uPlot.LICENSE",
        "text/plain; charset=utf-8",
        include_str!("dashboard/vendor/uPlot.LICENSE"),
    ),
];

pub(crate) fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    ASSETS.into_iter().fold(
        Router::new().route("/", get(|| async { Redirect::to("/dashboard") })),
        |router, (path, content_type, body)| {
            router.route(
                path,
                get(move || async move {
                    (
                        [
                            (header::CONTENT_TYPE, content_type),
                            (header::CACHE_CONTROL, "no-cache"),
                        ],
                        body,
                    )
                        .into_response()
                }),
            )
        },
    )
}
