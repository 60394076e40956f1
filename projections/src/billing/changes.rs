//! The changes the billing view takes from account and shipment events.

use super::rows::MovementRow;
use chrono::NaiveDate;
use chrono::{DateTime, Utc};
use domain::account::AccountEvent;
use domain::money::Money;
use domain::shipment::ShipmentEvent;
use domain::Rule;
use projection_runtime::{EventEnvelope, ReduceError};

/// Where an event comes from: what the billing changes need of its envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin<'a> {
    /// The aggregate (an account or a shipment).
    pub aggregate_id: &'a str,
    /// The event's sequence in it.
    pub sequence: i64,
    /// The event type.
    pub event_type: &'a str,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

impl<'a> From<&'a EventEnvelope> for Origin<'a> {
    fn from(envelope: &'a EventEnvelope) -> Self {
        Self {
            aggregate_id: &envelope.aggregate_id,
            sequence: envelope.sequence,
            event_type: &envelope.event_type,
            recorded_at: envelope.recorded_at,
        }
    }
}

/// One change to the billing tables.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// To the row of account `account_id`.
    Account {
        /// The account (its aggregate id).
        account_id: String,
        /// What changes.
        change: AccountChange,
    },
    /// A movement of money: a new `movements` row, and its amount added to the balance.
    Movement(MovementRow),
    /// To the quote of shipment `shipment_id`.
    Quote {
        /// The shipment (its aggregate id).
        shipment_id: String,
        /// What changes.
        change: QuoteChange,
    },
}

/// What an account event changes in the account's row, besides its movement.
#[derive(Debug, Clone, PartialEq)]
pub enum AccountChange {
    /// Opened for a member, in a currency.
    Opened {
        /// The member.
        member_id: String,
        /// The currency, for life.
        currency: String,
        /// The day.
        opened_on: NaiveDate,
        /// Policy applied.
        policy: String,
    },
    /// A top-up application was rejected; `in_a_row` counts the streak (ACC-3).
    TopUpRejected {
        /// Rejections in a row.
        in_a_row: u32,
    },
    /// A top-up was approved: the streak ends (ACC-3).
    TopUpApproved,
    /// The withdrawal refund is due on `due_on` (ACC-7).
    RefundScheduled {
        /// The request's day.
        requested_on: NaiveDate,
        /// The refund's due date.
        due_on: NaiveDate,
    },
    /// The balance was refunded and the account closed (ACC-7).
    Refunded {
        /// What was paid out, in the payout currency.
        paid: Money,
        /// The day.
        paid_on: NaiveDate,
    },
}

/// What a shipment event changes in the shipment's quote.
#[derive(Debug, Clone, PartialEq)]
pub enum QuoteChange {
    /// Quoted: the member owes `total` by `due_on` (FEE-1, PAY-2).
    Quoted {
        /// The member.
        member_id: String,
        /// The total.
        total: Money,
        /// The day quoted.
        quoted_on: NaiveDate,
        /// Pay by this day.
        due_on: NaiveDate,
        /// Tariff version.
        tariff_version: String,
        /// Policy applied.
        policy: String,
    },
    /// Paid once, in full (PAY-1).
    Paid {
        /// The amount charged.
        amount: Money,
        /// How.
        method: String,
        /// The day.
        paid_on: NaiveDate,
    },
    /// Held for non-payment (PAY-2).
    Held {
        /// The day.
        held_on: NaiveDate,
    },
    /// Cancelled before payment (CON-5).
    Cancelled {
        /// The day.
        cancelled_on: NaiveDate,
    },
}

/// The changes of an account event: its movement, if it moved money (ACC-1), and what else it
/// says about the account.
pub fn account_changes(
    envelope: Origin<'_>,
    event: &AccountEvent,
) -> Result<Vec<Change>, ReduceError> {
    use AccountEvent as E;
    let account = |change| Change::Account {
        account_id: envelope.aggregate_id.to_owned(),
        change,
    };
    let mut changes = Vec::new();
    if let Some(movement) = event.movement() {
        let (kind, rule, period, business_on, policy) = match event {
            E::TopUpApproved {
                approved_on,
                policy,
                ..
            } => (None, Some(Rule::Acc2), None, Some(*approved_on), policy),
            E::Debited {
                kind,
                rule,
                period,
                policy,
                ..
            } => (Some(json_name(kind)), Some(*rule), *period, None, policy),
            E::Credited { policy, .. } => (None, None, None, None, policy),
            E::DisposalFeeCharged { rule, policy, .. } => {
                (Some("owed".to_owned()), Some(*rule), None, None, policy)
            }
            E::SaleProceedsCredited { policy, .. } => (None, Some(Rule::Dsp1), None, None, policy),
            E::LateInterestAccrued { period, policy, .. } => (
                Some("owed".to_owned()),
                Some(Rule::Acc6),
                Some(*period),
                Some(period.through()),
                policy,
            ),
            E::Refunded {
                paid_on, policy, ..
            } => (None, Some(Rule::Acc7), None, Some(*paid_on), policy),
            _ => {
                return Err(ReduceError::Invalid(format!(
                    "{} moved money the billing view does not know",
                    envelope.event_type
                )))
            }
        };
        changes.push(Change::Movement(MovementRow {
            account_id: envelope.aggregate_id.to_owned(),
            sequence: envelope.sequence,
            event_type: envelope.event_type.to_owned(),
            reason: json_name(&movement.reason),
            cause: movement.cause.to_string(),
            amount: movement.amount.amount,
            currency: movement.amount.currency.code().to_owned(),
            kind,
            rule: rule.map(|r| r.id().to_owned()),
            period_from: period.map(|p| p.from()),
            period_through: period.map(|p| p.through()),
            business_on,
            recorded_at: envelope.recorded_at,
            policy: policy.to_string(),
        }));
    }
    match event {
        E::Opened {
            member_id,
            currency,
            opened_on,
            policy,
            ..
        } => changes.push(account(AccountChange::Opened {
            member_id: member_id.to_string(),
            currency: currency.code().to_owned(),
            opened_on: *opened_on,
            policy: policy.to_string(),
        })),
        E::TopUpRejected {
            consecutive_rejections,
            ..
        } => changes.push(account(AccountChange::TopUpRejected {
            in_a_row: *consecutive_rejections,
        })),
        E::TopUpApproved { .. } => changes.push(account(AccountChange::TopUpApproved)),
        E::RefundScheduled {
            requested_on,
            due_on,
            ..
        } => changes.push(account(AccountChange::RefundScheduled {
            requested_on: *requested_on,
            due_on: *due_on,
        })),
        E::Refunded { paid, paid_on, .. } => changes.push(account(AccountChange::Refunded {
            paid: *paid,
            paid_on: *paid_on,
        })),
        _ => {}
    }
    Ok(changes)
}

/// The changes of a shipment event to its quote; none for the events a quote does not follow.
pub fn quote_changes(envelope: Origin<'_>, event: &ShipmentEvent) -> Vec<Change> {
    use ShipmentEvent as E;
    let change = match event {
        E::Quoted {
            member_id,
            total,
            quoted_on,
            due_on,
            tariff_version,
            policy,
            ..
        } => QuoteChange::Quoted {
            member_id: member_id.to_string(),
            total: *total,
            quoted_on: *quoted_on,
            due_on: *due_on,
            tariff_version: tariff_version.clone(),
            policy: policy.to_string(),
        },
        E::Paid {
            amount,
            method,
            paid_on,
            ..
        } => QuoteChange::Paid {
            amount: *amount,
            method: json_name(method),
            paid_on: *paid_on,
        },
        E::Held { held_on, .. } => QuoteChange::Held { held_on: *held_on },
        E::Cancelled { cancelled_on, .. } => QuoteChange::Cancelled {
            cancelled_on: *cancelled_on,
        },
        _ => return Vec::new(),
    };
    vec![Change::Quote {
        shipment_id: envelope.aggregate_id.to_owned(),
        change,
    }]
}

/// A value's JSON string form (`"shipment_payment"`, `"owed"`), as the events serialize it.
fn json_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}
