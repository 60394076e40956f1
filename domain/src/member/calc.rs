//! Pure date arithmetic of the member rules, shared by the aggregate and by read models so
//! that a view never re-implements a rule: age at a date (MEM-3), document validity (MEM-2),
//! the Auto Ship lapse date (MEM-7) and the automatic-closure conditions (MEM-9).
//!
//! All of it takes the dates it works on (TIM-1) and uses explicit calendar months
//! ([`crate::calendar::add_months`]: a month after Jan 31 is the last day of February).

use super::values::{AutoClosureCondition, AutoClosureFacts, BalanceSign};
use crate::calendar::add_months;
use crate::policy::AutoClosurePolicy;
use chrono::{Datelike, NaiveDate};

/// Full years of age on `on` for someone born on `birth_date`; `None` before the birth.
///
/// A year is completed on the birthday. Someone born on 29 February completes a year on
/// 1 March in common years (their 28 February is still the day before the birthday), which
/// is how Japanese law counts it (Civil Code art. 143(2) with the Age Calculation Act).
pub fn age_on(birth_date: NaiveDate, on: NaiveDate) -> Option<u32> {
    if on < birth_date {
        return None;
    }
    let years = on.year() - birth_date.year();
    let before_birthday = (on.month(), on.day()) < (birth_date.month(), birth_date.day());
    u32::try_from(years - i32::from(before_birthday)).ok()
}

/// True when someone born on `birth_date` is under `age_of_majority` on `on` (MEM-3).
/// A person not yet born counts as a minor.
pub fn is_minor_on(birth_date: NaiveDate, on: NaiveDate, age_of_majority: u32) -> bool {
    age_on(birth_date, on).is_none_or(|age| age < age_of_majority)
}

/// True when a document expiring on `expires_on` is valid on `on` (MEM-2). The expiry date is
/// the last valid day ("within the validity period"), so a document checked on its expiry
/// date verifies and the member becomes unverified the day after.
pub fn document_valid_on(expires_on: NaiveDate, on: NaiveDate) -> bool {
    on <= expires_on
}

/// The first day Auto Ship is no longer active (MEM-7, seed 003 §12): it lapses once
/// `lapse_months` have passed since it was set *and* since its last use. "A year has passed"
/// on the anniversary itself, so set on 15 March 2026 and never used it lapses on
/// 15 March 2027; set on 29 February 2028 it lapses on 28 February 2029.
pub fn auto_ship_lapses_on(
    set_on: NaiveDate,
    last_used_on: Option<NaiveDate>,
    lapse_months: u32,
) -> NaiveDate {
    let since_set = add_months(set_on, lapse_months);
    match last_used_on {
        Some(used) => since_set.max(add_months(used, lapse_months)),
        None => since_set,
    }
}

/// True when Auto Ship set on `set_on` and last used on `last_used_on` is still active on
/// `on` (MEM-7): every day before [`auto_ship_lapses_on`].
pub fn auto_ship_active_on(
    set_on: NaiveDate,
    last_used_on: Option<NaiveDate>,
    lapse_months: u32,
    on: NaiveDate,
) -> bool {
    on < auto_ship_lapses_on(set_on, last_used_on, lapse_months)
}

/// The automatic-closure conditions of seed 001 that hold on `today` (MEM-9), in the order
/// negative balance, dormant, no top-up; empty when none holds.
///
/// - negative balance: below zero continuously for `negative_balance_months`, reached on the
///   day that many months after the first day below zero;
/// - dormant: `dormant_months` have passed since the last login (the registration date when
///   the member never logged in) and the balance is exactly zero;
/// - no top-up: no top-up application within `no_top_up_months` of registration while the
///   balance is exactly zero (seed 001: 「残高0のため」); the day that many months after
///   registration still counts, the condition holds from the next day. A member whose first
///   top-up came late but who holds money is not closed: a closure with money left would owe
///   them a refund (ACC-7), and the source closes such accounts because they are empty.
pub fn auto_closure_conditions(
    policy: &AutoClosurePolicy,
    registered_on: NaiveDate,
    last_login_on: Option<NaiveDate>,
    facts: &AutoClosureFacts,
    today: NaiveDate,
) -> Vec<AutoClosureCondition> {
    let mut held = Vec::new();
    if let BalanceSign::Negative { since } = facts.balance {
        let reached_on = add_months(since, policy.negative_balance_months);
        if today >= reached_on {
            held.push(AutoClosureCondition::NegativeBalance {
                negative_since: since,
                reached_on,
            });
        }
    }
    if facts.balance == BalanceSign::Zero {
        let last_login_on = last_login_on.unwrap_or(registered_on);
        let reached_on = add_months(last_login_on, policy.dormant_months);
        if today >= reached_on {
            held.push(AutoClosureCondition::Dormant {
                last_login_on,
                reached_on,
            });
        }
    }
    let deadline = add_months(registered_on, policy.no_top_up_months);
    let topped_up_in_time = facts.first_top_up_on.is_some_and(|d| d <= deadline);
    if facts.balance == BalanceSign::Zero && today > deadline && !topped_up_in_time {
        held.push(AutoClosureCondition::NoTopUp {
            registered_on,
            deadline,
        });
    }
    held
}

/// The first day on which an automatic-closure condition holds (MEM-9) if the facts stay as
/// they are, or `None` when none ever will (money on the account): the day the business clock
/// closes the member. On and after it, [`auto_closure_conditions`] finds a condition; before
/// it, none.
pub fn auto_closure_due_on(
    policy: &AutoClosurePolicy,
    registered_on: NaiveDate,
    last_login_on: Option<NaiveDate>,
    facts: &AutoClosureFacts,
) -> Option<NaiveDate> {
    match facts.balance {
        BalanceSign::Positive => None,
        BalanceSign::Negative { since } => Some(add_months(since, policy.negative_balance_months)),
        BalanceSign::Zero => {
            let dormant = add_months(
                last_login_on.unwrap_or(registered_on),
                policy.dormant_months,
            );
            let deadline = add_months(registered_on, policy.no_top_up_months);
            let topped_up_in_time = facts.first_top_up_on.is_some_and(|d| d <= deadline);
            let no_top_up = (!topped_up_in_time).then(|| deadline.succ_opt().unwrap_or(deadline));
            Some(no_top_up.map_or(dormant, |day| day.min(dormant)))
        }
    }
}
