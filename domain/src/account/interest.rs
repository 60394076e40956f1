//! Late interest (ACC-6): simple interest on an overdue amount, day-counted actual/basis.
//! The billing view's overdue list uses these to show interest accrued so far.
//!
//! Interest accrues at full precision; only what is charged is rounded (down), and the
//! remainder ([`AccruedInterest`]) carries over to the next accrual, so the total charged never
//! depends on how often interest is posted: 1,000 JPY overdue for a year is 145 JPY whether it
//! is posted daily (0.397 JPY a day) or once.

use crate::money::{Currency, Money, Rounding};
use crate::policy::AccountPolicy;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// ACC-6: what is charged of the interest accrued is rounded down; the rest carries over.
pub const LATE_INTEREST_ROUNDING: Rounding = Rounding::Down;

/// Interest accrued on one overdue item and not charged yet, kept exact as a fraction of the
/// currency's major unit (`numerator / denominator`): a decimal quotient such as 0.397… JPY
/// would lose digits, and lost digits add up over a year of daily postings.
///
/// Rebuilt from `account.late_interest_accrued` events alone: after each, the carry is the
/// carry before plus `overdue × annual_percent × days / (100 × day_count_basis)` minus what
/// the event charged ([`AccruedInterest::after_accrual`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccruedInterest {
    numerator: Decimal,
    denominator: Decimal,
}

impl Default for AccruedInterest {
    fn default() -> Self {
        Self {
            numerator: Decimal::ZERO,
            denominator: Decimal::ONE,
        }
    }
}

impl AccruedInterest {
    /// Interest on `overdue` for `days` days at `annual_percent` a year, actual/`basis`,
    /// unrounded. A basis of zero accrues nothing (policies refuse it).
    pub fn on(overdue: Money, days: u32, annual_percent: Decimal, basis: u32) -> Self {
        if basis == 0 {
            return Self::default();
        }
        Self {
            numerator: overdue.amount * annual_percent * Decimal::from(days),
            denominator: Decimal::ONE_HUNDRED * Decimal::from(basis),
        }
    }

    /// The exact sum of two accruals (the same denominator is the usual case: one policy).
    fn plus(self, other: Self) -> Self {
        if self.denominator == other.denominator {
            Self {
                numerator: self.numerator + other.numerator,
                denominator: self.denominator,
            }
        } else {
            Self {
                numerator: self.numerator * other.denominator + other.numerator * self.denominator,
                denominator: self.denominator * other.denominator,
            }
        }
    }

    /// What is left after `charged` (a whole amount of the currency) was charged of it.
    fn less(self, charged: Decimal) -> Self {
        Self {
            numerator: self.numerator - charged * self.denominator,
            denominator: self.denominator,
        }
    }

    /// Its value, rounded down to the currency's unit: what can be charged of it now (zero
    /// when it is not positive, as after a history rounded up under an earlier rule).
    pub fn chargeable(self, currency: Currency) -> Money {
        let value = Money::new(self.numerator / self.denominator, currency);
        if value.amount.is_sign_positive() {
            value.rounded(LATE_INTEREST_ROUNDING)
        } else {
            Money::zero(currency)
        }
    }

    /// The unrounded value (for display; decisions use [`AccruedInterest::chargeable`]).
    pub fn value(self) -> Decimal {
        self.numerator / self.denominator
    }

    /// The carry after an accrual of `accrued` on top of `self`, of which `charged` (a whole
    /// amount, positive) was charged.
    pub fn after_accrual(self, accrued: Self, charged: Decimal) -> Self {
        self.plus(accrued).less(charged)
    }

    /// What an accrual of `accrued` on top of `self` charges, and the carry left (ACC-6).
    pub fn accrue(self, accrued: Self, currency: Currency) -> (Money, Self) {
        let total = self.plus(accrued);
        let charged = total.chargeable(currency);
        (charged, total.less(charged.amount))
    }
}

/// Days of interest from the day after `due_on` through `through`: zero on or before the due
/// date, one on the day after it.
pub fn overdue_days(due_on: NaiveDate, through: NaiveDate) -> u32 {
    let days = crate::calendar::days_between(due_on, through).max(0);
    u32::try_from(days).unwrap_or(u32::MAX)
}

/// Interest on `overdue` for `days` days at `annual_percent` a year, counted
/// actual/`day_count_basis`: `overdue × percent/100 × days/basis`, rounded down to the
/// currency's unit: what accruals carrying their remainder charge over those days in all.
/// A basis of zero accrues nothing (policies refuse it).
pub fn late_interest(
    overdue: Money,
    days: u32,
    annual_percent: Decimal,
    day_count_basis: u32,
) -> Money {
    AccruedInterest::on(overdue, days, annual_percent, day_count_basis).chargeable(overdue.currency)
}

/// Interest on `overdue` from its due date through `through` under the account policy
/// (14.5 % a year, actual/365 in both shipped profiles).
pub fn late_interest_until(
    overdue: Money,
    due_on: NaiveDate,
    through: NaiveDate,
    policy: &AccountPolicy,
) -> Money {
    late_interest(
        overdue,
        overdue_days(due_on, through),
        policy.late_interest_annual_percent,
        policy.late_interest_day_count_basis,
    )
}
