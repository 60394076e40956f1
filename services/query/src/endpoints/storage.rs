//! `/v1/storage/…`: the storage-status view. Parcels with their storage clock on the service's
//! today, what needs action today, past-limit parcels and counts per state. A member's token
//! sees its own parcels only.

use super::roles;
use crate::params::{invalid_parameter, limit, view_failed, Cursor, ListOf, PageOf, Params};
use crate::QueryState;
use axum::extract::{Path, State};
use axum::Json;
use chrono::NaiveDate;
use projections::storage_status::{self, DueToday, InWarehouse, ParcelStorage};
use projections::Page;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use web::auth::{Caller, Role};
use web::problem::Problem;

/// The cursor kind of the parcel list.
const PARCELS: &str = "parcels";

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

fn other_member() -> Problem {
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
    let limit = limit(query.limit)?;
    let after = query
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(|c| Cursor::decode(PARCELS, c))
        .transpose()?;
    let filter = InWarehouse { member_id, states };
    let page = Page { after, limit };
    let rows = state
        .views
        .parcels(&filter, &page, state.today(), &state.policy)
        .await
        .map_err(view_failed)?;
    Ok(Json(PageOf::new(rows, limit, |p| {
        Cursor::encode(PARCELS, &p.parcel_id)
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

/// What is due on a day, with the day.
#[derive(Debug, Serialize)]
pub(crate) struct DueOn {
    today: NaiveDate,
    #[serde(flatten)]
    due: DueToday,
}

pub(super) async fn due_today(
    State(state): State<QueryState>,
    caller: Caller,
) -> Result<Json<DueOn>, Problem> {
    caller.require(roles::STORAGE)?;
    let today = state.today();
    let due = state
        .views
        .due_today(today, &state.policy)
        .await
        .map_err(view_failed)?;
    Ok(Json(DueOn { today, due }))
}

pub(super) async fn past_limit(
    State(state): State<QueryState>,
    caller: Caller,
) -> Result<Json<ListOf<ParcelStorage>>, Problem> {
    caller.require(roles::STORAGE)?;
    let rows = state
        .views
        .past_limit(state.today(), &state.policy)
        .await
        .map_err(view_failed)?;
    Ok(Json(rows.into()))
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
