//! The probes an orchestrator polls: `/healthz` (the process answers) and `/readyz` (and its
//! database does, within a second).

use crate::QueryState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::time::Duration;
use web::problem::Problem;

/// How long readiness waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(1);

pub(crate) fn router() -> Router<QueryState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<QueryState>) -> Result<Json<Value>, Problem> {
    match state.views.ping(READY_TIMEOUT).await {
        Ok(()) => Ok(Json(json!({ "status": "ready" }))),
        Err(error) => {
            tracing::warn!(%error, "not ready: the database does not answer");
            Err(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service.unavailable",
                "The database is not reachable",
            ))
        }
    }
}
