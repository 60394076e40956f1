//! The billing tables: their rows, how a change folds into a row, and their DDL.

use super::changes::{AccountChange, QuoteChange};
use chrono::{DateTime, NaiveDate, Utc};
use projection_runtime::{Dialect, Schema, TableSpec};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The `accounts` table.
pub const ACCOUNTS: TableSpec = TableSpec {
    name: "accounts",
    key: &["account_id"],
    columns: &[
        "account_id",
        "member_id",
        "currency",
        "opened_on",
        "balance",
        "movements",
        "rejected_top_ups_in_a_row",
        "refund_requested_on",
        "refund_due_on",
        "refunded_on",
        "refund_paid",
        "refund_paid_currency",
        "policy",
    ],
    numeric: &["balance", "refund_paid"],
    json: &[],
    boolean: &[],
    timestamp: &[],
};

/// The `movements` table.
pub const MOVEMENTS: TableSpec = TableSpec {
    name: "movements",
    key: &["account_id", "sequence"],
    columns: &[
        "account_id",
        "sequence",
        "event_type",
        "reason",
        "cause",
        "amount",
        "currency",
        "kind",
        "rule",
        "period_from",
        "period_through",
        "business_on",
        "recorded_at",
        "policy",
    ],
    numeric: &["amount"],
    json: &[],
    boolean: &[],
    timestamp: &["recorded_at"],
};

/// The `quotes` table.
pub const QUOTES: TableSpec = TableSpec {
    name: "quotes",
    key: &["shipment_id"],
    columns: &[
        "shipment_id",
        "member_id",
        "state",
        "total",
        "currency",
        "quoted_on",
        "due_on",
        "paid_amount",
        "paid_method",
        "paid_on",
        "held_on",
        "cancelled_on",
        "tariff_version",
        "policy",
    ],
    numeric: &["total", "paid_amount"],
    json: &[],
    boolean: &[],
    timestamp: &[],
};

/// The tables' DDL in `schema`.
pub(super) fn ddl(schema: &Schema, dialect: Dialect) -> String {
    if dialect == Dialect::Sqlite {
        return sqlite_ddl(schema);
    }
    format!(
        "CREATE TABLE {schema}.accounts (
             account_id                text PRIMARY KEY,
             member_id                 text,
             currency                  text,
             opened_on                 date,
             balance                   numeric NOT NULL,
             movements                 bigint NOT NULL,
             rejected_top_ups_in_a_row integer NOT NULL,
             refund_requested_on       date,
             refund_due_on             date,
             refunded_on               date,
             refund_paid               numeric,
             refund_paid_currency      text,
             policy                    text
         );
         CREATE INDEX ON {schema}.accounts (member_id);
         CREATE INDEX ON {schema}.accounts (refund_due_on) WHERE refunded_on IS NULL;
         CREATE TABLE {schema}.movements (
             account_id     text NOT NULL,
             sequence       bigint NOT NULL,
             event_type     text NOT NULL,
             reason         text NOT NULL,
             cause          text NOT NULL,
             amount         numeric NOT NULL,
             currency       text NOT NULL,
             kind           text,
             rule           text,
             period_from    date,
             period_through date,
             business_on    date,
             recorded_at    timestamptz NOT NULL,
             policy         text NOT NULL,
             PRIMARY KEY (account_id, sequence)
         );
         CREATE INDEX ON {schema}.movements (cause);
         CREATE INDEX ON {schema}.movements (reason, recorded_at);
         CREATE TABLE {schema}.quotes (
             shipment_id    text PRIMARY KEY,
             member_id      text,
             state          text NOT NULL,
             total          numeric,
             currency       text,
             quoted_on      date,
             due_on         date,
             paid_amount    numeric,
             paid_method    text,
             paid_on        date,
             held_on        date,
             cancelled_on   date,
             tariff_version text,
             policy         text
         );
         CREATE INDEX ON {schema}.quotes (state, due_on);
         CREATE INDEX ON {schema}.quotes (member_id);"
    )
}

/// The tables' DDL in `schema` on SQLite: decimals, dates and timestamps as TEXT (money is
/// never summed in SQLite's SQL, which would use floats).
fn sqlite_ddl(schema: &Schema) -> String {
    format!(
        "CREATE TABLE {schema}_accounts (
             account_id                TEXT PRIMARY KEY,
             member_id                 TEXT,
             currency                  TEXT,
             opened_on                 TEXT,
             balance                   TEXT NOT NULL,
             movements                 INTEGER NOT NULL,
             rejected_top_ups_in_a_row INTEGER NOT NULL,
             refund_requested_on       TEXT,
             refund_due_on             TEXT,
             refunded_on               TEXT,
             refund_paid               TEXT,
             refund_paid_currency      TEXT,
             policy                    TEXT
         );
         CREATE INDEX {schema}_accounts_member ON {schema}_accounts (member_id);
         CREATE INDEX {schema}_accounts_refund_due ON {schema}_accounts (refund_due_on)
             WHERE refunded_on IS NULL;
         CREATE TABLE {schema}_movements (
             account_id     TEXT NOT NULL,
             sequence       INTEGER NOT NULL,
             event_type     TEXT NOT NULL,
             reason         TEXT NOT NULL,
             cause          TEXT NOT NULL,
             amount         TEXT NOT NULL,
             currency       TEXT NOT NULL,
             kind           TEXT,
             rule           TEXT,
             period_from    TEXT,
             period_through TEXT,
             business_on    TEXT,
             recorded_at    TEXT NOT NULL,
             policy         TEXT NOT NULL,
             PRIMARY KEY (account_id, sequence)
         );
         CREATE INDEX {schema}_movements_cause ON {schema}_movements (cause);
         CREATE INDEX {schema}_movements_reason ON {schema}_movements (reason, recorded_at);
         CREATE TABLE {schema}_quotes (
             shipment_id    TEXT PRIMARY KEY,
             member_id      TEXT,
             state          TEXT NOT NULL,
             total          TEXT,
             currency       TEXT,
             quoted_on      TEXT,
             due_on         TEXT,
             paid_amount    TEXT,
             paid_method    TEXT,
             paid_on        TEXT,
             held_on        TEXT,
             cancelled_on   TEXT,
             tariff_version TEXT,
             policy         TEXT
         );
         CREATE INDEX {schema}_quotes_state ON {schema}_quotes (state, due_on);"
    )
}

/// A charge account as the billing view keeps it.
///
/// Invariant: `balance` is the sum of the account's rows in `movements`, and `movements` their
/// count: both move in the transaction that inserts a movement (ACC-1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRow {
    /// The account.
    pub account_id: String,
    /// Its member.
    pub member_id: Option<String>,
    /// Its currency.
    pub currency: Option<String>,
    /// The day it opened.
    pub opened_on: Option<NaiveDate>,
    /// The sum of its movements.
    pub balance: Decimal,
    /// How many movements.
    pub movements: i64,
    /// Rejected top-up applications in a row (ACC-3).
    pub rejected_top_ups_in_a_row: i32,
    /// The withdrawal request's day (ACC-7).
    pub refund_requested_on: Option<NaiveDate>,
    /// The refund's due date (ACC-7).
    pub refund_due_on: Option<NaiveDate>,
    /// The day it was refunded and closed.
    pub refunded_on: Option<NaiveDate>,
    /// What was paid out.
    pub refund_paid: Option<Decimal>,
    /// In which currency.
    pub refund_paid_currency: Option<String>,
    /// The policy version at opening.
    pub policy: Option<String>,
}

impl AccountRow {
    /// The row of an account no event has touched yet.
    pub fn new(account_id: &str) -> Self {
        Self {
            account_id: account_id.to_owned(),
            member_id: None,
            currency: None,
            opened_on: None,
            balance: Decimal::ZERO,
            movements: 0,
            rejected_top_ups_in_a_row: 0,
            refund_requested_on: None,
            refund_due_on: None,
            refunded_on: None,
            refund_paid: None,
            refund_paid_currency: None,
            policy: None,
        }
    }

    /// Adds `movement` to the balance.
    pub fn moved(&mut self, movement: &MovementRow) {
        self.balance += movement.amount;
        self.movements += 1;
    }

    /// Folds `change` into the row.
    pub fn apply(&mut self, change: &AccountChange) {
        match change {
            AccountChange::Opened {
                member_id,
                currency,
                opened_on,
                policy,
            } => {
                self.member_id = Some(member_id.clone());
                self.currency = Some(currency.clone());
                self.opened_on = Some(*opened_on);
                self.policy = Some(policy.clone());
            }
            AccountChange::TopUpRejected { in_a_row } => {
                self.rejected_top_ups_in_a_row = i32::try_from(*in_a_row).unwrap_or(i32::MAX);
            }
            AccountChange::TopUpApproved => self.rejected_top_ups_in_a_row = 0,
            AccountChange::RefundScheduled {
                requested_on,
                due_on,
            } => {
                self.refund_requested_on = Some(*requested_on);
                self.refund_due_on = Some(*due_on);
            }
            AccountChange::Refunded { paid, paid_on } => {
                self.refunded_on = Some(*paid_on);
                self.refund_paid = Some(paid.amount);
                self.refund_paid_currency = Some(paid.currency.code().to_owned());
            }
        }
    }
}

/// One movement of a balance (ACC-1), as the event recorded it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MovementRow {
    /// The account.
    pub account_id: String,
    /// The event's sequence in the account.
    pub sequence: i64,
    /// The event type.
    pub event_type: String,
    /// The reason code (`shipment_payment`, `disposal_fee`, ...).
    pub reason: String,
    /// What caused it: a parcel, shipment, claim, deposit or withdrawal request.
    pub cause: String,
    /// Signed: credits positive, debits negative.
    pub amount: Decimal,
    /// The account's currency.
    pub currency: String,
    /// `regular` or `owed` for a debit (ACC-4).
    pub kind: Option<String>,
    /// The rule behind it.
    pub rule: Option<String>,
    /// The period a recurring charge covers.
    pub period_from: Option<NaiveDate>,
    /// Its last day.
    pub period_through: Option<NaiveDate>,
    /// The business day the event names, if it names one.
    pub business_on: Option<NaiveDate>,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// The policy version applied.
    pub policy: String,
}

/// A shipment's quote as the billing view keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuoteRow {
    /// The shipment.
    pub shipment_id: String,
    /// The member who owes it.
    pub member_id: Option<String>,
    /// `quoted`, `paid`, `held` or `cancelled`; `unquoted` when cancelled before a quote.
    pub state: String,
    /// The total (FEE-1).
    pub total: Option<Decimal>,
    /// Its currency.
    pub currency: Option<String>,
    /// The day quoted.
    pub quoted_on: Option<NaiveDate>,
    /// Pay by this day (PAY-2).
    pub due_on: Option<NaiveDate>,
    /// What was charged.
    pub paid_amount: Option<Decimal>,
    /// How (`balance`, `card`, `paypal`, `auto_ship`).
    pub paid_method: Option<String>,
    /// The day paid.
    pub paid_on: Option<NaiveDate>,
    /// The day held for non-payment.
    pub held_on: Option<NaiveDate>,
    /// The day cancelled.
    pub cancelled_on: Option<NaiveDate>,
    /// Tariff version (FEE-1).
    pub tariff_version: Option<String>,
    /// Policy applied.
    pub policy: Option<String>,
}

impl QuoteRow {
    /// The quote of a shipment no event has touched yet.
    pub fn new(shipment_id: &str) -> Self {
        Self {
            shipment_id: shipment_id.to_owned(),
            member_id: None,
            state: "unquoted".to_owned(),
            total: None,
            currency: None,
            quoted_on: None,
            due_on: None,
            paid_amount: None,
            paid_method: None,
            paid_on: None,
            held_on: None,
            cancelled_on: None,
            tariff_version: None,
            policy: None,
        }
    }

    /// Folds `change` into the row.
    pub fn apply(&mut self, change: &QuoteChange) {
        match change {
            QuoteChange::Quoted {
                member_id,
                total,
                quoted_on,
                due_on,
                tariff_version,
                policy,
            } => {
                self.state = "quoted".into();
                self.member_id = Some(member_id.clone());
                self.total = Some(total.amount);
                self.currency = Some(total.currency.code().to_owned());
                self.quoted_on = Some(*quoted_on);
                self.due_on = Some(*due_on);
                self.tariff_version = Some(tariff_version.clone());
                self.policy = Some(policy.clone());
            }
            QuoteChange::Paid {
                amount,
                method,
                paid_on,
            } => {
                self.state = "paid".into();
                self.paid_amount = Some(amount.amount);
                self.paid_method = Some(method.clone());
                self.paid_on = Some(*paid_on);
            }
            QuoteChange::Held { held_on } => {
                self.state = "held".into();
                self.held_on = Some(*held_on);
            }
            QuoteChange::Cancelled { cancelled_on } => {
                self.state = "cancelled".into();
                self.cancelled_on = Some(*cancelled_on);
            }
        }
    }
}
