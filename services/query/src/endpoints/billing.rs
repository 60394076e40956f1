//! `/v1/billing/…`: the billing view. Accounts with their balance and movements, open and
//! overdue quotes (interest to the service's today), fees by type or month, refunds due. A
//! member's token sees its own account and quotes only.

use super::roles;
use super::storage::{member_filter, own_member};
use crate::params::{view_failed, ListOf, Params};
use crate::{FeeGrouping, QueryState};
use axum::extract::{Path, State};
use axum::Json;
use chrono::NaiveDate;
use projections::billing::{AccountStatement, FeeTotal, OpenQuote, Overdue, RefundDue};
use serde::{Deserialize, Serialize};
use web::auth::Caller;
use web::problem::Problem;

pub(super) async fn account(
    State(state): State<QueryState>,
    caller: Caller,
    Path(account_id): Path<String>,
) -> Result<Json<AccountStatement>, Problem> {
    caller.require(roles::BILLING_OR_MEMBER)?;
    let not_found = || Problem::not_found("account.not_found", format!("no account {account_id}"));
    let statement = state
        .views
        .account(&account_id)
        .await
        .map_err(view_failed)?
        .ok_or_else(not_found)?;
    // Another member's account is answered as missing: its existence is not theirs to know.
    match own_member(&caller) {
        Some(own) if statement.account.member_id.as_deref() != Some(own.as_str()) => {
            Err(not_found())
        }
        _ => Ok(Json(statement)),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct QuotesQuery {
    member_id: Option<String>,
}

pub(super) async fn open_quotes(
    State(state): State<QueryState>,
    caller: Caller,
    Params(query): Params<QuotesQuery>,
) -> Result<Json<ListOf<OpenQuote>>, Problem> {
    caller.require(roles::BILLING_OR_MEMBER)?;
    let member_id = member_filter(&caller, query.member_id)?;
    let quotes = state
        .views
        .open_quotes(member_id.as_deref())
        .await
        .map_err(view_failed)?;
    Ok(Json(quotes.into()))
}

/// Overdue quotes on a day.
#[derive(Debug, Serialize)]
pub(crate) struct OverdueOn {
    today: NaiveDate,
    #[serde(flatten)]
    list: ListOf<Overdue>,
}

pub(super) async fn overdue(
    State(state): State<QueryState>,
    caller: Caller,
) -> Result<Json<OverdueOn>, Problem> {
    caller.require(roles::BILLING)?;
    let today = state.today();
    let rows = state
        .views
        .overdue(today, &state.policy)
        .await
        .map_err(view_failed)?;
    Ok(Json(OverdueOn {
        today,
        list: rows.into(),
    }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
enum By {
    #[default]
    Type,
    Month,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FeesQuery {
    #[serde(default)]
    by: By,
}

pub(super) async fn fees(
    State(state): State<QueryState>,
    caller: Caller,
    Params(query): Params<FeesQuery>,
) -> Result<Json<ListOf<FeeTotal>>, Problem> {
    caller.require(roles::BILLING)?;
    let grouping = match query.by {
        By::Type => FeeGrouping::Type,
        By::Month => FeeGrouping::Month,
    };
    let rows = state
        .views
        .fees(grouping, &state.policy)
        .await
        .map_err(view_failed)?;
    Ok(Json(rows.into()))
}

pub(super) async fn refunds_due(
    State(state): State<QueryState>,
    caller: Caller,
) -> Result<Json<ListOf<RefundDue>>, Problem> {
    caller.require(roles::BILLING)?;
    let rows = state.views.refunds_due().await.map_err(view_failed)?;
    Ok(Json(rows.into()))
}
