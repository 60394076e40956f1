//! [`DueAction`]: one thing the business clock must do, where it comes from and its
//! idempotency key.
//!
//! *Architecture Invariant*: the key is derived from (rule, action, aggregate, subject, due
//! date) and nothing else (not the facts an action carries, such as MEM-9's first day below
//! zero), so every replica, every restart and every rebuild of the views names
//! the same action the same way, and the engine's idempotency keys make it happen once.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use domain::Policy;
use projections::schedule::{Action, Deadline};
use serde::{Deserialize, Serialize};

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Kind {
    /// A deadline of the schedule view (PAY-2, ACC-6, CLM-3, CLM-6, MEM-2, MEM-7).
    Deadline {
        /// The command.
        action: Action,
    },
    /// Send a parcel's storage notice, `days_before` its last free day (STO-2).
    StorageNotice {
        /// Days before the last free day.
        days_before: u32,
    },
    /// Mark a parcel past its last free day disposable (STO-2).
    MarkDisposable,
    /// Accrue a parcel's extended-storage fee for its started months (STO-3).
    AccrueStorageFee {
        /// The extended months started.
        months: u32,
    },
    /// Pay a withdrawing member's balance back on its due date and close them (ACC-7).
    PayRefund,
    /// Close a member automatically from the first day a condition holds (MEM-9, cn-agency),
    /// with the first local day of the balance's run below zero, when it is below zero.
    AutoClose {
        /// The first day below zero.
        negative_since: Option<NaiveDate>,
    },
}

impl Kind {
    /// The rule id.
    pub fn rule(self) -> &'static str {
        match self {
            Kind::Deadline { action } => action.rule(),
            Kind::StorageNotice { .. } | Kind::MarkDisposable => "STO-2",
            Kind::AccrueStorageFee { .. } => "STO-3",
            Kind::PayRefund => "ACC-7",
            Kind::AutoClose { .. } => "MEM-9",
        }
    }

    /// The action's name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Deadline { action } => action.name(),
            Kind::StorageNotice { .. } => "send_storage_notice",
            Kind::MarkDisposable => "mark_disposable",
            Kind::AccrueStorageFee { .. } => "accrue_storage_fee",
            Kind::PayRefund => "pay_refund",
            Kind::AutoClose { .. } => "auto_close",
        }
    }
}

/// One action due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueAction {
    /// What to do.
    pub kind: Kind,
    /// `parcel`, `shipment` or `member`.
    pub aggregate_type: String,
    /// The aggregate.
    pub aggregate_id: String,
    /// The claim concerned, or empty.
    pub subject: String,
    /// The local date it is due from.
    pub due_on: NaiveDate,
    /// The instant it is due from, when the rule has one (CLM-3).
    pub due_at: Option<DateTime<Utc>>,
}

impl DueAction {
    /// The action of a schedule-view deadline on the local date `today` under `policy` (its
    /// time zone), or `None` when the policy has no such rule. Late interest rows hold the day
    /// interest runs from, not a due day: it is accrued at every month's end (ACC-6), so the
    /// action is the latest month's end on or before `today` once interest runs, else the
    /// first one ahead.
    pub fn of_deadline(deadline: Deadline, today: NaiveDate, policy: &Policy) -> Option<Self> {
        // The warehouse's date of an exact instant (the view stores its UTC date).
        let local = deadline
            .due_at
            .map_or(deadline.due_on, |at| policy.local_date(at));
        let (due_on, due_at) = match deadline.action {
            Action::AccrueLateInterest => {
                let latest = month_end_on_or_before(today);
                let due_on = if latest >= local {
                    latest
                } else {
                    month_end(local)
                };
                (due_on, None)
            }
            _ => (local, deadline.due_at),
        };
        Some(Self {
            kind: Kind::Deadline {
                action: deadline.action,
            },
            aggregate_type: deadline.aggregate_type,
            aggregate_id: deadline.aggregate_id,
            subject: deadline.subject,
            due_on,
            due_at,
        })
    }

    /// A storage-clock action on a parcel.
    pub fn on_parcel(kind: Kind, parcel_id: &str, due_on: NaiveDate) -> Self {
        Self {
            kind,
            aggregate_type: "parcel".to_owned(),
            aggregate_id: parcel_id.to_owned(),
            subject: String::new(),
            due_on,
            due_at: None,
        }
    }

    /// A withdrawing member's refund falling due on `due_on` (ACC-7).
    pub fn refund(member_id: &str, due_on: NaiveDate) -> Self {
        Self {
            kind: Kind::PayRefund,
            aggregate_type: "member".to_owned(),
            aggregate_id: member_id.to_owned(),
            subject: String::new(),
            due_on,
            due_at: None,
        }
    }

    /// A member's automatic closure due on `due_on` (MEM-9).
    pub fn auto_closure(
        member_id: &str,
        due_on: NaiveDate,
        negative_since: Option<NaiveDate>,
    ) -> Self {
        Self {
            kind: Kind::AutoClose { negative_since },
            aggregate_type: "member".to_owned(),
            aggregate_id: member_id.to_owned(),
            subject: String::new(),
            due_on,
            due_at: None,
        }
    }

    /// The rule id.
    pub fn rule(&self) -> &'static str {
        self.kind.rule()
    }

    /// The idempotency key: `scheduler:<rule>:<action>:<aggregate>[:<subject>]:<due>[:<n>]`.
    pub fn key(&self) -> String {
        let mut key = format!(
            "scheduler:{}:{}:{}",
            self.rule(),
            self.kind.name(),
            self.aggregate_id
        );
        if !self.subject.is_empty() {
            key.push(':');
            key.push_str(&self.subject);
        }
        key.push(':');
        key.push_str(&self.due_on.to_string());
        match self.kind {
            Kind::StorageNotice { days_before } => key.push_str(&format!(":{days_before}d")),
            Kind::AccrueStorageFee { months } => key.push_str(&format!(":{months}m")),
            Kind::Deadline { .. }
            | Kind::MarkDisposable
            | Kind::PayRefund
            | Kind::AutoClose { .. } => {}
        }
        key
    }

    /// Whether it is due at `now` (local date `today`).
    pub fn is_due(&self, today: NaiveDate, now: DateTime<Utc>) -> bool {
        self.due_on <= today && self.due_at.is_none_or(|at| at <= now)
    }
}

/// The last day of `day`'s month.
fn month_end(day: NaiveDate) -> NaiveDate {
    let first = day.with_day(1).unwrap_or(day);
    first
        .checked_add_months(Months::new(1))
        .and_then(|next| next.pred_opt())
        .unwrap_or(day)
}

/// The last month's end on or before `day`: `day` itself on the last day of a month.
fn month_end_on_or_before(day: NaiveDate) -> NaiveDate {
    if month_end(day) == day {
        day
    } else {
        day.with_day(1)
            .and_then(|first| first.pred_opt())
            .unwrap_or(day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn deadline(action: Action, subject: &str, from: NaiveDate) -> Deadline {
        Deadline {
            aggregate_type: "shipment".into(),
            aggregate_id: "s-1".into(),
            rule: action.rule().into(),
            subject: subject.into(),
            action,
            due_on: from,
            due_at: None,
        }
    }

    fn interest_from(from: NaiveDate, today: NaiveDate) -> NaiveDate {
        let row = deadline(Action::AccrueLateInterest, "", from);
        DueAction::of_deadline(row, today, &Policy::jp_forwarding())
            .unwrap()
            .due_on
    }

    // rule ACC-6: interest is accrued at each month's end from its first day: not before the
    // first month's end, then the latest month's end (a missed day still gets its accrual).
    #[test]
    fn acc_6_late_interest_falls_due_at_each_month_end() {
        let from = d(2026, 4, 20);
        assert_eq!(interest_from(from, d(2026, 4, 19)), d(2026, 4, 30));
        assert_eq!(interest_from(from, d(2026, 4, 29)), d(2026, 4, 30));
        assert_eq!(interest_from(from, d(2026, 4, 30)), d(2026, 4, 30));
        assert_eq!(interest_from(from, d(2026, 5, 1)), d(2026, 4, 30));
        assert_eq!(interest_from(from, d(2026, 5, 31)), d(2026, 5, 31));
        assert_eq!(interest_from(from, d(2026, 6, 3)), d(2026, 5, 31));
        assert_eq!(
            interest_from(d(2026, 2, 28), d(2026, 2, 28)),
            d(2026, 2, 28)
        );
        assert_eq!(interest_from(d(2026, 5, 1), d(2026, 5, 1)), d(2026, 5, 31));
    }
}
