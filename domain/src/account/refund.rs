//! The refund due date of ACC-7.

use crate::calendar::{add_months, last_day_of_month};
use chrono::{Datelike, NaiveDate};

/// The day a withdrawal refund is due (ACC-7): the last day of the month following the
/// month in which `wait_months` have passed since the request. Requested 1 Oct: a month has
/// passed on 1 Nov, the following month is December, due 31 Dec. Requested 31 Jan: the month
/// passes on 28 Feb (TIM-1 clamping), due 31 Mar.
pub fn refund_due_on(requested_on: NaiveDate, wait_months: u32) -> NaiveDate {
    let waited = add_months(requested_on, wait_months);
    let first_of_waited_month = waited.with_day(1).expect("day 1 exists");
    last_day_of_month(add_months(first_of_waited_month, 1))
}

/// True when `a` and `b` fall in the same calendar month.
pub fn same_month(a: NaiveDate, b: NaiveDate) -> bool {
    a.year() == b.year() && a.month() == b.month()
}
