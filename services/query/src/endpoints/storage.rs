//! `/v1/storage/…`: the storage-status view. Parcels with their storage clock on the service's
//! today, what needs action today (a page per task), past-limit parcels and counts per state.
//! Every list is a keyset page in parcel id order. A member's token sees its own parcels only.
//! `/v1/storage/daily` counts the warehouse day by day, for the dashboard's pictures.

use super::roles;
use crate::params::{invalid_parameter, page, view_failed, PageOf, PageOn, PageQuery, Params};
use crate::QueryState;
use axum::extract::{Path, State};
use axum::Json;
use chrono::NaiveDate;
use projections::storage_status::{self, Day, DueTask, InWarehouse, ParcelStorage};
use projections::Page;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use web::auth::{Caller, Role};
use web::problem::Problem;

/// The cursor kind of the parcel list.
const PARCELS: &str = "parcels";
/// The cursor kind of the past-limit list.
const PAST_LIMIT: &str = "past-limit";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ParcelsQuery {
    member_id: Option<String>,
    state: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// The member a member's token is bound to, as text; `None` for other roles.
pub(super) fn own_member(caller: &Caller) -> Option<String> {
    if caller.role == Role::Member {
        caller.member_id.as_ref().map(|m| m.as_str().to_owned())
    } else {
        None
    }
}

/// The member a list is restricted to: a member's own (403 when they name another), else the
/// one asked for.
pub(super) fn member_filter(
    caller: &Caller,
    asked: Option<String>,
) -> Result<Option<String>, Problem> {
    match (own_member(caller), asked.filter(|m| !m.is_empty())) {
        (Some(own), Some(asked)) if own != asked => Err(other_member()),
        (Some(own), _) => Ok(Some(own)),
        (None, asked) => Ok(asked),
    }
}

pub(super) fn other_member() -> Problem {
    Problem::new(
        axum::http::StatusCode::FORBIDDEN,
        "auth.other_member",
        "A member may read only their own parcels and account",
    )
}

pub(super) async fn parcels(
    State(state): State<QueryState>,
    caller: Caller,
    Params(query): Params<ParcelsQuery>,
) -> Result<Json<PageOf<ParcelStorage>>, Problem> {
    caller.require(roles::STORAGE_OR_MEMBER)?;
    let member_id = member_filter(&caller, query.member_id)?;
    let states: Vec<String> = query
        .state
        .as_deref()
        .map(|states| states.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    if let Some(unknown) = states
        .iter()
        .find(|s| !storage_status::STATES.contains(&s.as_str()))
    {
        return Err(invalid_parameter(format!(
            "unknown state {unknown:?}; one of {}",
            storage_status::STATES.join(", ")
        )));
    }
    let page: Page<String> = page(PARCELS, query.limit, query.cursor.as_deref())?;
    let filter = InWarehouse { member_id, states };
    let rows = state
        .views
        .parcels(&filter, &page, state.today(), &state.policy)
        .await
        .map_err(view_failed)?;
    Ok(Json(PageOf::keyed(rows, PARCELS, &page, |p| {
        p.parcel_id.clone()
    })))
}

pub(super) async fn parcel(
    State(state): State<QueryState>,
    caller: Caller,
    Path(parcel_id): Path<String>,
) -> Result<Json<ParcelStorage>, Problem> {
    caller.require(roles::STORAGE_OR_MEMBER)?;
    let not_found = || Problem::not_found("parcel.not_found", format!("no parcel {parcel_id}"));
    let parcel = state
        .views
        .parcel(&parcel_id, state.today(), &state.policy)
        .await
        .map_err(view_failed)?
        .ok_or_else(not_found)?;
    // Another member's parcel is answered as missing: its existence is not theirs to know.
    match own_member(&caller) {
        Some(own) if parcel.member_id.as_deref() != Some(own.as_str()) => Err(not_found()),
        _ => Ok(Json(parcel)),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DueQuery {
    task: String,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// A page of one task due today, with the day and the task.
#[derive(Debug, Serialize)]
pub(crate) struct DueOn {
    task: &'static str,
    #[serde(flatten)]
    page: PageOn<ParcelStorage>,
}

pub(super) async fn due_today(
    State(state): State<QueryState>,
    caller: Caller,
    Params(query): Params<DueQuery>,
) -> Result<Json<DueOn>, Problem> {
    caller.require(roles::STORAGE)?;
    let task = DueTask::named(&query.task).ok_or_else(|| {
        invalid_parameter(format!(
            "unknown task {:?}; one of {}",
            query.task,
            DueTask::NAMES.join(", ")
        ))
    })?;
    // A cursor of one task's list is refused by another's.
    let kind = format!("due-today:{}", task.name());
    let page: Page<String> = page(&kind, query.limit, query.cursor.as_deref())?;
    let today = state.today();
    let rows = state
        .views
        .due(task, &page, today, &state.policy)
        .await
        .map_err(view_failed)?;
    Ok(Json(DueOn {
        task: task.name(),
        page: PageOn::new(
            today,
            PageOf::keyed(rows, &kind, &page, |p| p.parcel_id.clone()),
        ),
    }))
}

pub(super) async fn past_limit(
    State(state): State<QueryState>,
    caller: Caller,
    Params(query): Params<PageQuery>,
) -> Result<Json<PageOn<ParcelStorage>>, Problem> {
    caller.require(roles::STORAGE)?;
    let page: Page<String> = query.page(PAST_LIMIT)?;
    let today = state.today();
    let rows = state
        .views
        .past_limit(&page, today, &state.policy)
        .await
        .map_err(view_failed)?;
    Ok(Json(PageOn::new(
        today,
        PageOf::keyed(rows, PAST_LIMIT, &page, |p| p.parcel_id.clone()),
    )))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DailyQuery {
    days: Option<u32>,
}

/// The days shown when none are asked for.
pub(crate) const DEFAULT_DAYS: u32 = 90;
/// The most days asked at once.
pub(crate) const MAX_DAYS: u32 = 366;

/// The warehouse day by day, up to today.
#[derive(Debug, Serialize)]
pub(crate) struct Daily {
    today: NaiveDate,
    days: Vec<Day>,
}

pub(super) async fn daily(
    State(state): State<QueryState>,
    caller: Caller,
    Params(query): Params<DailyQuery>,
) -> Result<Json<Daily>, Problem> {
    caller.require(roles::STORAGE)?;
    let days = query.days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(invalid_parameter(format!(
            "days {days} is outside 1 to {MAX_DAYS}"
        )));
    }
    let today = state.today();
    let from = today - chrono::Days::new(u64::from(days - 1));
    let days = state
        .views
        .daily(from, today, &state.policy)
        .await
        .map_err(view_failed)?;
    Ok(Json(Daily { today, days }))
}

/// Parcels per state and in all.
#[derive(Debug, Serialize)]
pub(crate) struct Counts {
    total: i64,
    states: BTreeMap<String, i64>,
}

pub(super) async fn counts(
    State(state): State<QueryState>,
    caller: Caller,
) -> Result<Json<Counts>, Problem> {
    caller.require(roles::STORAGE)?;
    let states = state.views.counts().await.map_err(view_failed)?;
    Ok(Json(Counts {
        total: states.values().sum(),
        states,
    }))
}
