//! # The billing view
//!
//! Finance's and members' view of money (ACC-1, ACC-6, ACC-7, PAY-2): each charge account with
//! its balance, which is always the sum of its movements; every movement with its reason and
//! cause; open quotes and their due dates; overdue quotes with the interest run up so far;
//! fees by type and by month; refunds due.
//!
//! Tables (schema `view_billing_v<N>`):
//! - `accounts`: one row per charge account, owned by its events; `balance` is moved by each
//!   movement in the same transaction as the movement's row;
//! - `movements`: one row per movement (account, sequence), insert-only;
//! - `quotes`: one row per quoted shipment, owned by the shipment's events.
//!
//! Interest on an overdue quote depends on the day: [`query::overdue`] computes it with the
//! domain's `late_interest_until`, next to the interest already accrued as events.

mod changes;
pub mod query;
mod rows;

pub use changes::{account_changes, quote_changes, AccountChange, Change, Origin, QuoteChange};
pub use query::{
    account, fees_by_month, fees_by_type, open_quotes, overdue, refunds_due, AccountStatement,
    DueKey, FeeKey, FeeTotal, MovementLine, OpenQuote, Overdue, RefundDue,
};
pub use rows::{AccountRow, MovementRow, QuoteRow, ACCOUNTS, MOVEMENTS, QUOTES};

use crate::decode::{decode, DomainEventOf};
use projection_runtime::{
    rows as table, Dialect, EventEnvelope, Projection, ReduceError, Schema, TableSpec, ViewConn,
};
use std::collections::BTreeMap;

/// The billing projection.
#[derive(Debug, Clone, Copy, Default)]
pub struct Billing;

/// The view's name: its instances are `view_billing_v<N>`.
pub const NAME: &str = "billing";

impl Projection for Billing {
    type Change = Change;

    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [TableSpec] {
        &[ACCOUNTS, MOVEMENTS, QUOTES]
    }

    fn create_tables(&self, schema: &Schema, dialect: Dialect) -> String {
        rows::ddl(schema, dialect)
    }

    fn reduce(&self, event: &EventEnvelope) -> Result<Vec<Change>, ReduceError> {
        if !matches!(event.aggregate_type.as_str(), "account" | "shipment") {
            return Ok(Vec::new());
        }
        match decode(event)? {
            DomainEventOf::Account(e) => account_changes(event.into(), &e),
            DomainEventOf::Shipment(e) => Ok(quote_changes(event.into(), &e)),
            _ => Ok(Vec::new()),
        }
    }

    async fn apply(
        &self,
        conn: &mut ViewConn<'_>,
        schema: &Schema,
        changes: &[Change],
    ) -> Result<(), sqlx::Error> {
        let mut account_keys = Vec::new();
        let mut quote_keys = Vec::new();
        for change in changes {
            match change {
                Change::Account { account_id, .. } => account_keys.push(account_id.clone()),
                Change::Movement(m) => account_keys.push(m.account_id.clone()),
                Change::Quote { shipment_id, .. } => quote_keys.push(shipment_id.clone()),
            }
        }
        let mut accounts: BTreeMap<String, AccountRow> =
            table::load::<AccountRow>(conn, schema, &ACCOUNTS, &account_keys)
                .await?
                .into_iter()
                .map(|row| (row.account_id.clone(), row))
                .collect();
        let mut quotes: BTreeMap<String, QuoteRow> =
            table::load::<QuoteRow>(conn, schema, &QUOTES, &quote_keys)
                .await?
                .into_iter()
                .map(|row| (row.shipment_id.clone(), row))
                .collect();
        let mut movements = Vec::new();
        for change in changes {
            match change {
                Change::Account { account_id, change } => accounts
                    .entry(account_id.clone())
                    .or_insert_with(|| AccountRow::new(account_id))
                    .apply(change),
                Change::Movement(movement) => {
                    accounts
                        .entry(movement.account_id.clone())
                        .or_insert_with(|| AccountRow::new(&movement.account_id))
                        .moved(movement);
                    movements.push(movement);
                }
                Change::Quote {
                    shipment_id,
                    change,
                } => quotes
                    .entry(shipment_id.clone())
                    .or_insert_with(|| QuoteRow::new(shipment_id))
                    .apply(change),
            }
        }
        let accounts: Vec<AccountRow> = accounts.into_values().collect();
        let quotes: Vec<QuoteRow> = quotes.into_values().collect();
        table::insert(conn, schema, &MOVEMENTS, &movements).await?;
        table::upsert(conn, schema, &ACCOUNTS, &accounts).await?;
        table::upsert(conn, schema, &QUOTES, &quotes).await?;
        Ok(())
    }
}
