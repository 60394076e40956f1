//! `/v1/projections`: each view's health (serving instance, checkpoint, lag in events and
//! seconds, parked events, stuck or not), their lag over the last hour, and the parked events
//! of one view, a page at a time.

use super::roles;
use crate::lag_history::SAMPLE_EVERY;
use crate::params::{view_failed, PageOf, PageQuery, Params};
use crate::{LagSample, Parked, QueryState, ViewHealth, VIEW_NAMES};
use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use projection_runtime::parked::ParkedKey;
use projections::Page;
use serde::Serialize;
use web::auth::Caller;
use web::problem::Problem;

/// Every view's health at a moment.
#[derive(Debug, Serialize)]
pub(crate) struct Health {
    /// When it was measured.
    at: DateTime<Utc>,
    /// A view waiting longer than this with events behind it is stuck.
    stuck_after_seconds: f64,
    /// Per view.
    views: Vec<ViewHealth>,
}

pub(super) async fn health(
    State(state): State<QueryState>,
    caller: Caller,
) -> Result<Json<Health>, Problem> {
    caller.require(roles::OPS)?;
    let at = state.now();
    let views = state
        .views
        .health(state.stuck_after)
        .await
        .map_err(view_failed)?;
    Ok(Json(Health {
        at,
        stuck_after_seconds: state.stuck_after.as_secs_f64(),
        views,
    }))
}

/// The views' lag over the last hour.
#[derive(Debug, Serialize)]
pub(crate) struct LagHistoryAnswer {
    /// Seconds between samples.
    sample_every_seconds: u64,
    /// Oldest first; the history starts when the service does.
    samples: Vec<LagSample>,
}

pub(super) async fn lag_history(
    State(state): State<QueryState>,
    caller: Caller,
) -> Result<Json<LagHistoryAnswer>, Problem> {
    caller.require(roles::OPS)?;
    Ok(Json(LagHistoryAnswer {
        sample_every_seconds: SAMPLE_EVERY.as_secs(),
        samples: state.lag.samples(),
    }))
}

/// The cursor kind of the parked lists.
const PARKED: &str = "parked";

pub(super) async fn parked(
    State(state): State<QueryState>,
    caller: Caller,
    Path(view): Path<String>,
    Params(query): Params<PageQuery>,
) -> Result<Json<PageOf<Parked>>, Problem> {
    caller.require(roles::OPS)?;
    let not_found = || {
        Problem::not_found(
            "view.not_found",
            format!("no view {view}; one of {}", VIEW_NAMES.join(", ")),
        )
    };
    if !VIEW_NAMES.contains(&view.as_str()) {
        return Err(not_found());
    }
    // A cursor of one view's list is refused by another's.
    let kind = format!("{PARKED}:{view}");
    let page: Page<ParkedKey> = query.page(&kind)?;
    let parked = state
        .views
        .parked(&view, &page)
        .await
        .map_err(view_failed)?
        .ok_or_else(not_found)?;
    Ok(Json(PageOf::keyed(parked, &kind, &page, |p| {
        (p.aggregate_type.clone(), p.aggregate_id.clone(), p.sequence)
    })))
}
