//! Late interest (ACC-6): simple interest on an overdue amount, day-counted actual/basis.
//! The billing view's overdue list uses these to show interest accrued so far.

use crate::money::{Money, Rounding};
use crate::policy::AccountPolicy;
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// Late interest is owed to the warehouse: fractions round half up (MON-1).
pub const LATE_INTEREST_ROUNDING: Rounding = Rounding::HalfUp;

/// Days of interest from the day after `due_on` through `through`: zero on or before the due
/// date, one on the day after it.
pub fn overdue_days(due_on: NaiveDate, through: NaiveDate) -> u32 {
    let days = crate::calendar::days_between(due_on, through).max(0);
    u32::try_from(days).unwrap_or(u32::MAX)
}

/// Interest on `overdue` for `days` days at `annual_percent` a year, counted
/// actual/`day_count_basis`: `overdue × percent/100 × days/basis`, rounded half up to the
/// currency's unit. A basis of zero accrues nothing (policies refuse it).
pub fn late_interest(
    overdue: Money,
    days: u32,
    annual_percent: Decimal,
    day_count_basis: u32,
) -> Money {
    if day_count_basis == 0 {
        return Money::zero(overdue.currency);
    }
    // One division at the end keeps the exact product until rounding.
    let numerator = overdue.amount * annual_percent * Decimal::from(days);
    let denominator = Decimal::ONE_HUNDRED * Decimal::from(day_count_basis);
    Money::new(numerator / denominator, overdue.currency).rounded(LATE_INTEREST_ROUNDING)
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
