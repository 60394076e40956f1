//! `/v1/billing/…`: the billing view. Accounts with their balance and movements, open and
//! overdue quotes (interest to the service's today), fees by type or month, refunds due. Every
//! list is a keyset page. A member's token sees its own account and quotes only.

use super::roles;
use super::storage::{member_filter, own_member};
use crate::params::{page, view_failed, PageOf, PageOn, PageQuery, Params};
use crate::{FeeGrouping, QueryState};
use axum::extract::{Path, State};
use axum::Json;
use projections::billing::{
    AccountStatement, DueKey, FeeKey, FeeTotal, OpenQuote, Overdue, RefundDue,
};
use projections::Page;
use serde::Deserialize;
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

/// The cursor kinds of the lists.
const OPEN_QUOTES: &str = "open-quotes";
const OVERDUE: &str = "overdue";
const REFUNDS_DUE: &str = "refunds-due";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct QuotesQuery {
    member_id: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// A quote's place in the due-date order.
fn quote_key(quote: &OpenQuote) -> DueKey {
    (quote.due_on, quote.shipment_id.clone())
}

pub(super) async fn open_quotes(
    State(state): State<QueryState>,
    caller: Caller,
    Params(query): Params<QuotesQuery>,
) -> Result<Json<PageOf<OpenQuote>>, Problem> {
    caller.require(roles::BILLING_OR_MEMBER)?;
    let member_id = member_filter(&caller, query.member_id)?;
    let page: Page<DueKey> = page(OPEN_QUOTES, query.limit, query.cursor.as_deref())?;
    let quotes = state
        .views
        .open_quotes(member_id.as_deref(), &page)
        .await
        .map_err(view_failed)?;
    Ok(Json(PageOf::keyed(quotes, OPEN_QUOTES, &page, quote_key)))
}

pub(super) async fn overdue(
    State(state): State<QueryState>,
    caller: Caller,
    Params(query): Params<PageQuery>,
) -> Result<Json<PageOn<Overdue>>, Problem> {
    caller.require(roles::BILLING)?;
    let page: Page<DueKey> = query.page(OVERDUE)?;
    let today = state.today();
    let rows = state
        .views
        .overdue(&page, today, &state.policy)
        .await
        .map_err(view_failed)?;
    Ok(Json(PageOn::new(
        today,
        PageOf::keyed(rows, OVERDUE, &page, |o| quote_key(&o.quote)),
    )))
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
    limit: Option<u32>,
    cursor: Option<String>,
}

pub(super) async fn fees(
    State(state): State<QueryState>,
    caller: Caller,
    Params(query): Params<FeesQuery>,
) -> Result<Json<PageOf<FeeTotal>>, Problem> {
    caller.require(roles::BILLING)?;
    // A cursor of the fees by type is refused by the fees by month, and the other way round.
    let (grouping, kind) = match query.by {
        By::Type => (FeeGrouping::Type, "fees-by-type"),
        By::Month => (FeeGrouping::Month, "fees-by-month"),
    };
    let page: Page<FeeKey> = page(kind, query.limit, query.cursor.as_deref())?;
    let rows = state
        .views
        .fees(grouping, &page, &state.policy)
        .await
        .map_err(view_failed)?;
    Ok(Json(PageOf::keyed(rows, kind, &page, |f| {
        (f.month, f.reason.clone(), f.currency.clone())
    })))
}

pub(super) async fn refunds_due(
    State(state): State<QueryState>,
    caller: Caller,
    Params(query): Params<PageQuery>,
) -> Result<Json<PageOf<RefundDue>>, Problem> {
    caller.require(roles::BILLING)?;
    let page: Page<DueKey> = query.page(REFUNDS_DUE)?;
    let rows = state.views.refunds_due(&page).await.map_err(view_failed)?;
    Ok(Json(PageOf::keyed(rows, REFUNDS_DUE, &page, |r| {
        (r.due_on, r.account_id.clone())
    })))
}
