//! `/v1/audit/…`: the audit view. Events filtered and paged in the store's global order, and
//! one aggregate's history.

use super::roles;
use crate::params::{invalid_cursor, invalid_parameter, page, view_failed, ListOf, PageOf, Params};
use crate::QueryState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use projections::audit::query::AuditKey;
use projections::audit::{AuditEntry, AuditFilter};
use projections::Page;
use serde::Deserialize;
use web::auth::Caller;
use web::problem::Problem;

/// The code of a `from` after `to`.
pub(crate) const RANGE_REVERSED: &str = "query.range_reversed";

/// The aggregate types of the store.
const AGGREGATE_TYPES: &[&str] = &["member", "account", "parcel", "shipment"];

/// The cursor kind of the event list.
const EVENTS: &str = "audit";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventsQuery {
    aggregate_type: Option<String>,
    aggregate_id: Option<String>,
    related_id: Option<String>,
    event_type: Option<String>,
    actor: Option<String>,
    correlation_id: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    limit: Option<u32>,
    cursor: Option<String>,
}

fn aggregate_type(name: &str) -> Result<String, Problem> {
    if AGGREGATE_TYPES.contains(&name) {
        Ok(name.to_owned())
    } else {
        Err(invalid_parameter(format!(
            "unknown aggregate type {name:?}; one of {}",
            AGGREGATE_TYPES.join(", ")
        )))
    }
}

/// Empty parameters (`?actor=`) filter nothing.
fn given(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

pub(super) async fn events(
    State(state): State<QueryState>,
    caller: Caller,
    Params(query): Params<EventsQuery>,
) -> Result<Json<PageOf<AuditEntry>>, Problem> {
    caller.require(roles::AUDIT)?;
    if let (Some(from), Some(to)) = (query.from, query.to) {
        if from > to {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                RANGE_REVERSED,
                "The time range ends before it starts",
            )
            .with_detail("from is after to"));
        }
    }
    let filter = AuditFilter {
        aggregate_type: given(query.aggregate_type)
            .as_deref()
            .map(aggregate_type)
            .transpose()?,
        aggregate_id: given(query.aggregate_id),
        related_id: given(query.related_id),
        event_type: given(query.event_type),
        actor: given(query.actor),
        correlation_id: given(query.correlation_id),
        from: query.from,
        until: query.to,
    };
    let page: Page<AuditKey> = page(EVENTS, query.limit, query.cursor.as_deref())?;
    // The txid goes to the database as a number: a cursor this list issued has only digits.
    if let Some((txid, _)) = &page.after {
        if txid.is_empty() || !txid.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid_cursor());
        }
    }
    let rows = state
        .views
        .audit_events(&filter, &page)
        .await
        .map_err(view_failed)?;
    Ok(Json(PageOf::keyed(rows, EVENTS, &page, |entry| {
        (entry.txid.clone(), entry.position)
    })))
}

pub(super) async fn history(
    State(state): State<QueryState>,
    caller: Caller,
    Path((kind, id)): Path<(String, String)>,
) -> Result<Json<ListOf<AuditEntry>>, Problem> {
    caller.require(roles::TIMELINE)?;
    let kind = aggregate_type(&kind)?;
    let rows = state.views.history(&kind, &id).await.map_err(view_failed)?;
    if rows.is_empty() {
        return Err(Problem::not_found(
            "history.not_found",
            format!("no event of {kind} {id}"),
        ));
    }
    Ok(Json(rows.into()))
}
