//! The billing queries. Each reads the serving instance; interest on overdue quotes is
//! computed for the `today` and policy passed in (ACC-6).

use super::rows::{AccountRow, MovementRow, ACCOUNTS, MOVEMENTS};
use super::NAME;
use crate::{Page, QueryError};
use chrono::NaiveDate;
use domain::account::{late_interest_until, overdue_days};
use domain::money::{Currency, Money};
use domain::Policy;
use projection_runtime::{catalog, ViewDb};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use std::collections::HashMap;

/// A movement as listed on a statement.
pub type MovementLine = MovementRow;

/// A charge account with its movements, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountStatement {
    /// The account, with its balance.
    pub account: AccountRow,
    /// Every movement, in sequence order.
    pub movements: Vec<MovementLine>,
}

/// A quote waiting for payment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenQuote {
    /// The shipment.
    pub shipment_id: String,
    /// The member who owes it.
    pub member_id: Option<String>,
    /// The member's charge account.
    pub account_id: Option<String>,
    /// The total.
    pub total: Decimal,
    /// Its currency.
    pub currency: String,
    /// The day quoted.
    pub quoted_on: NaiveDate,
    /// Pay by this day (PAY-2).
    pub due_on: NaiveDate,
    /// `quoted`, or `held` once past due (PAY-2).
    pub state: String,
}

/// An overdue quote with its interest (ACC-6).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overdue {
    /// The quote.
    pub quote: OpenQuote,
    /// Days past the due date.
    pub days_overdue: u32,
    /// Interest on the total from the due date to the day asked (14.5 % a year, actual/365).
    pub interest_to_date: Money,
    /// Interest already charged to the account as events.
    pub interest_charged: Money,
}

/// Fees of one type, in one month or in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeeTotal {
    /// The first day of the month; `None` in [`fees_by_type`].
    pub month: Option<NaiveDate>,
    /// The reason code (`shipment_payment`, `storage_fee`, `disposal_fee`, ...).
    pub reason: String,
    /// The currency.
    pub currency: String,
    /// The total charged, positive.
    pub amount: Decimal,
    /// How many charges.
    pub count: i64,
}

/// A withdrawal refund not paid yet (ACC-7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundDue {
    /// The account.
    pub account_id: String,
    /// The member.
    pub member_id: Option<String>,
    /// The day it is due.
    pub due_on: NaiveDate,
    /// The balance to refund.
    pub balance: Decimal,
    /// Its currency.
    pub currency: Option<String>,
}

/// The key of the lists in due-date order: the due date, then the shipment or account id.
pub type DueKey = (NaiveDate, String);

/// The key of [`FeeTotal`]s: month (`None` by type), reason, currency.
pub type FeeKey = (Option<NaiveDate>, String, String);

fn currency(code: &str) -> Result<Currency, QueryError> {
    serde_json::from_value(serde_json::Value::String(code.to_owned()))
        .map_err(|_| QueryError::Malformed(format!("unknown currency {code:?}")))
}

/// The account `account_id` and its movements.
pub async fn account(
    db: &ViewDb,
    account_id: &str,
) -> Result<Option<AccountStatement>, QueryError> {
    let schema = catalog::serving(db, NAME).await?;
    let (account, movements): (Option<Json<AccountRow>>, Vec<Json<MovementRow>>) = match db {
        ViewDb::Postgres(pool) => {
            let account = sqlx::query_scalar(&format!(
                "SELECT to_jsonb(r) FROM (SELECT {list} FROM {schema}.accounts WHERE account_id = $1) r",
                list = ACCOUNTS.select_list()
            ))
            .bind(account_id)
            .fetch_optional(pool)
            .await?;
            let movements = sqlx::query_scalar(&format!(
                "SELECT to_jsonb(r) FROM (SELECT {list} FROM {schema}.movements WHERE account_id = $1) r
                  ORDER BY r.sequence",
                list = MOVEMENTS.select_list()
            ))
            .bind(account_id)
            .fetch_all(pool)
            .await?;
            (account, movements)
        }
        #[cfg(feature = "sqlite")]
        ViewDb::Sqlite(views) => {
            let account = sqlx::query_scalar(&format!(
                "SELECT {object} FROM {schema}_accounts a WHERE a.account_id = ?1",
                object = ACCOUNTS.sqlite_object("a")
            ))
            .bind(account_id)
            .fetch_optional(views.reader())
            .await?;
            let movements = sqlx::query_scalar(&format!(
                "SELECT {object} FROM {schema}_movements m WHERE m.account_id = ?1
                  ORDER BY m.sequence",
                object = MOVEMENTS.sqlite_object("m")
            ))
            .bind(account_id)
            .fetch_all(views.reader())
            .await?;
            (account, movements)
        }
    };
    let Some(Json(account)) = account else {
        return Ok(None);
    };
    Ok(Some(AccountStatement {
        account,
        movements: movements.into_iter().map(|Json(m)| m).collect(),
    }))
}

async fn quotes(
    db: &ViewDb,
    states: &[&str],
    member_id: Option<&str>,
    due_before: Option<NaiveDate>,
    page: &Page<DueKey>,
) -> Result<Vec<OpenQuote>, QueryError> {
    let schema = catalog::serving(db, NAME).await?;
    let (after_due, after_id) = page.after.clone().unzip();
    let limit = i64::from(page.limit);
    let rows: Vec<Json<OpenQuote>> = match db {
        ViewDb::Postgres(pool) => {
            sqlx::query_scalar(&format!(
                "SELECT to_jsonb(r) FROM (
                   SELECT q.shipment_id, q.member_id,
                          (SELECT a.account_id FROM {schema}.accounts a WHERE a.member_id = q.member_id
                            ORDER BY a.account_id LIMIT 1) AS account_id,
                          q.total::text AS total, q.currency, q.quoted_on, q.due_on, q.state
                     FROM {schema}.quotes q
                    WHERE q.state = ANY($1) AND q.total IS NOT NULL
                      AND ($2::text IS NULL OR q.member_id = $2)
                      AND ($3::date IS NULL OR q.due_on < $3)
                      AND ($4::date IS NULL OR (q.due_on, q.shipment_id) > ($4, $5::text))
                    ORDER BY q.due_on, q.shipment_id
                    LIMIT $6
                 ) r ORDER BY r.due_on, r.shipment_id"
            ))
            .bind(states)
            .bind(member_id)
            .bind(due_before)
            .bind(after_due)
            .bind(after_id)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }
        #[cfg(feature = "sqlite")]
        ViewDb::Sqlite(views) => {
            sqlx::query_scalar(&format!(
                "SELECT json_object(
                          'shipment_id', q.shipment_id, 'member_id', q.member_id,
                          'account_id', (SELECT a.account_id FROM {schema}_accounts a
                                          WHERE a.member_id = q.member_id
                                          ORDER BY a.account_id LIMIT 1),
                          'total', q.total, 'currency', q.currency, 'quoted_on', q.quoted_on,
                          'due_on', q.due_on, 'state', q.state)
                   FROM {schema}_quotes q
                  WHERE q.state IN (SELECT value FROM json_each(?1)) AND q.total IS NOT NULL
                    AND (?2 IS NULL OR q.member_id = ?2)
                    AND (?3 IS NULL OR q.due_on < ?3)
                    AND (?4 IS NULL OR (q.due_on, q.shipment_id) > (?4, ?5))
                  ORDER BY q.due_on, q.shipment_id
                  LIMIT ?6"
            ))
            .bind(Json(states))
            .bind(member_id)
            .bind(due_before)
            .bind(after_due)
            .bind(after_id)
            .bind(limit)
            .fetch_all(views.reader())
            .await?
        }
    };
    Ok(rows.into_iter().map(|Json(q)| q).collect())
}

/// Quotes waiting for payment (one member's, or all), a page by due date.
pub async fn open_quotes(
    db: &ViewDb,
    member_id: Option<&str>,
    page: &Page<DueKey>,
) -> Result<Vec<OpenQuote>, QueryError> {
    quotes(db, &["quoted"], member_id, None, page).await
}

/// The late interest charged to the accounts as events, by the shipment it is for, positive.
async fn interest_charged(
    db: &ViewDb,
    causes: &[&str],
) -> Result<HashMap<String, Decimal>, QueryError> {
    let schema = catalog::serving(db, NAME).await?;
    match db {
        ViewDb::Postgres(pool) => {
            let charged: Vec<(String, String)> = sqlx::query_as(&format!(
                "SELECT cause, (-sum(amount))::text FROM {schema}.movements
                  WHERE reason = 'late_interest' AND cause = ANY($1) GROUP BY cause"
            ))
            .bind(causes)
            .fetch_all(pool)
            .await?;
            Ok(charged
                .into_iter()
                .filter_map(|(cause, amount)| Some((cause, amount.parse().ok()?)))
                .collect())
        }
        #[cfg(feature = "sqlite")]
        ViewDb::Sqlite(views) => {
            // Summed here: SQLite's sum would go through a float.
            let movements: Vec<(String, String)> = sqlx::query_as(&format!(
                "SELECT cause, amount FROM {schema}_movements
                  WHERE reason = 'late_interest' AND cause IN (SELECT value FROM json_each(?1))"
            ))
            .bind(Json(causes))
            .fetch_all(views.reader())
            .await?;
            let mut charged = HashMap::new();
            for (cause, amount) in movements {
                *charged.entry(cause).or_insert(Decimal::ZERO) -= decimal(&amount)?;
            }
            Ok(charged)
        }
    }
}

/// A decimal stored as text.
#[cfg(feature = "sqlite")]
fn decimal(text: &str) -> Result<Decimal, QueryError> {
    text.parse()
        .map_err(|_| QueryError::Malformed(format!("not a decimal: {text:?}")))
}

/// Quotes unpaid past their due date on `today` (held or not yet), with the interest run up
/// so far under `policy` and the interest already charged as events (ACC-6, PAY-2). A page by
/// due date.
pub async fn overdue(
    db: &ViewDb,
    page: &Page<DueKey>,
    today: NaiveDate,
    policy: &Policy,
) -> Result<Vec<Overdue>, QueryError> {
    let quotes = quotes(db, &["quoted", "held"], None, Some(today), page).await?;
    let causes: Vec<&str> = quotes.iter().map(|q| q.shipment_id.as_str()).collect();
    let charged = interest_charged(db, &causes).await?;
    quotes
        .into_iter()
        .map(|quote| {
            let currency = currency(&quote.currency)?;
            let total = Money::new(quote.total, currency);
            let interest_charged = Money::new(
                charged
                    .get(&quote.shipment_id)
                    .copied()
                    .unwrap_or(Decimal::ZERO),
                currency,
            );
            Ok(Overdue {
                days_overdue: overdue_days(quote.due_on, today),
                interest_to_date: late_interest_until(total, quote.due_on, today, &policy.account),
                interest_charged,
                quote,
            })
        })
        .collect()
}

async fn fees(
    db: &ViewDb,
    monthly: bool,
    page: &Page<FeeKey>,
    policy: &Policy,
) -> Result<Vec<FeeTotal>, QueryError> {
    let schema = catalog::serving(db, NAME).await?;
    match db {
        ViewDb::Postgres(pool) => {
            // The month of a charge: the business day its event names, else the warehouse's
            // local date of recording.
            let month = if monthly {
                "date_trunc('month', coalesce(business_on,
                     ((recorded_at AT TIME ZONE 'UTC') + make_interval(mins => $1))::date))::date"
            } else {
                "NULL::date"
            };
            let rows: Vec<Json<FeeTotal>> = sqlx::query_scalar(&format!(
                "SELECT to_jsonb(r) FROM (
                   SELECT {month} AS month, reason, currency, (-sum(amount))::text AS amount,
                          count(*) AS count
                     FROM {schema}.movements
                    WHERE amount < 0 AND reason <> 'refund'
                    GROUP BY 1, 2, 3
                 ) r
                 WHERE $3::text IS NULL
                    OR (coalesce(r.month, DATE '0001-01-01'), r.reason, r.currency)
                       > (coalesce($2::date, DATE '0001-01-01'), $3, $4::text)
                 ORDER BY r.month, r.reason, r.currency
                 LIMIT $5"
            ))
            .bind(policy.utc_offset_minutes)
            .bind(page.after.as_ref().and_then(|(month, _, _)| *month))
            .bind(page.after.as_ref().map(|(_, reason, _)| reason))
            .bind(page.after.as_ref().map(|(_, _, currency)| currency))
            .bind(i64::from(page.limit))
            .fetch_all(pool)
            .await?;
            Ok(rows.into_iter().map(|Json(f)| f).collect())
        }
        #[cfg(feature = "sqlite")]
        ViewDb::Sqlite(views) => {
            // Grouped and summed here, in decimals: SQLite's sum would go through a float.
            use chrono::Datelike;
            use std::collections::BTreeMap;
            #[derive(Deserialize)]
            struct Charge {
                reason: String,
                currency: String,
                amount: Decimal,
                business_on: Option<NaiveDate>,
                recorded_at: chrono::DateTime<chrono::Utc>,
            }
            let charges: Vec<Json<Charge>> = sqlx::query_scalar(&format!(
                "SELECT json_object('reason', reason, 'currency', currency, 'amount', amount,
                                    'business_on', business_on, 'recorded_at', recorded_at)
                   FROM {schema}_movements WHERE reason <> 'refund'"
            ))
            .fetch_all(views.reader())
            .await?;
            let offset = chrono::Duration::minutes(i64::from(policy.utc_offset_minutes));
            let mut totals: BTreeMap<(Option<NaiveDate>, String, String), (Decimal, i64)> =
                BTreeMap::new();
            for Json(charge) in charges {
                if charge.amount >= Decimal::ZERO {
                    continue;
                }
                let month = monthly.then(|| {
                    let day = charge
                        .business_on
                        .unwrap_or_else(|| (charge.recorded_at + offset).date_naive());
                    day.with_day(1).unwrap_or(day)
                });
                let total = totals
                    .entry((month, charge.reason, charge.currency))
                    .or_insert((Decimal::ZERO, 0));
                total.0 -= charge.amount;
                total.1 += 1;
            }
            let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
            Ok(totals
                .into_iter()
                .filter(|(key, _)| page.after.as_ref().is_none_or(|after| key > after))
                .take(limit)
                .map(|((month, reason, currency), (amount, count))| FeeTotal {
                    month,
                    reason,
                    currency,
                    amount,
                    count,
                })
                .collect())
        }
    }
}

/// Everything charged (debits but refunds), by reason code and currency: a page in that order.
pub async fn fees_by_type(
    db: &ViewDb,
    page: &Page<FeeKey>,
    policy: &Policy,
) -> Result<Vec<FeeTotal>, QueryError> {
    fees(db, false, page, policy).await
}

/// Everything charged (debits but refunds), by month, reason code and currency: a page in that
/// order.
pub async fn fees_by_month(
    db: &ViewDb,
    page: &Page<FeeKey>,
    policy: &Policy,
) -> Result<Vec<FeeTotal>, QueryError> {
    fees(db, true, page, policy).await
}

/// Withdrawal refunds scheduled and not paid, a page by due date (ACC-7).
pub async fn refunds_due(db: &ViewDb, page: &Page<DueKey>) -> Result<Vec<RefundDue>, QueryError> {
    let schema = catalog::serving(db, NAME).await?;
    let (after_due, after_id) = page.after.clone().unzip();
    let limit = i64::from(page.limit);
    let rows: Vec<Json<RefundDue>> = match db {
        ViewDb::Postgres(pool) => {
            sqlx::query_scalar(&format!(
                "SELECT to_jsonb(r) FROM (
                   SELECT account_id, member_id, refund_due_on AS due_on, balance::text AS balance,
                          currency
                     FROM {schema}.accounts
                    WHERE refund_due_on IS NOT NULL AND refunded_on IS NULL
                      AND ($1::date IS NULL OR (refund_due_on, account_id) > ($1, $2::text))
                    ORDER BY refund_due_on, account_id
                    LIMIT $3
                 ) r ORDER BY r.due_on, r.account_id"
            ))
            .bind(after_due)
            .bind(after_id)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }
        #[cfg(feature = "sqlite")]
        ViewDb::Sqlite(views) => {
            sqlx::query_scalar(&format!(
                "SELECT json_object('account_id', account_id, 'member_id', member_id,
                                    'due_on', refund_due_on, 'balance', balance,
                                    'currency', currency)
                   FROM {schema}_accounts
                  WHERE refund_due_on IS NOT NULL AND refunded_on IS NULL
                    AND (?1 IS NULL OR (refund_due_on, account_id) > (?1, ?2))
                  ORDER BY refund_due_on, account_id
                  LIMIT ?3"
            ))
            .bind(after_due)
            .bind(after_id)
            .bind(limit)
            .fetch_all(views.reader())
            .await?
        }
    };
    Ok(rows.into_iter().map(|Json(r)| r).collect())
}
