//! Calendar arithmetic and the warehouse's business calendar (TIM-1, TIM-2).
//!
//! The domain never reads a clock: every function here takes the dates it works on.
//! Month arithmetic is explicit: a calendar month after Jan 31 is the last day of February.

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// `date` plus `months` calendar months, clamped to the end of a shorter month
/// (Jan 31 + 1 month = Feb 28, or Feb 29 in a leap year).
pub fn add_months(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_add_months(Months::new(months))
        .expect("dates stay far inside chrono's range")
}

/// `date` plus `days` days.
pub fn add_days(date: NaiveDate, days: u32) -> NaiveDate {
    date.checked_add_days(Days::new(u64::from(days)))
        .expect("dates stay far inside chrono's range")
}

/// The last day of `date`'s month.
pub fn last_day_of_month(date: NaiveDate) -> NaiveDate {
    let first = date.with_day(1).expect("day 1 exists");
    add_months(first, 1)
        .pred_opt()
        .expect("dates stay far inside chrono's range")
}

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days()
}

/// When the warehouse works: closed weekdays and public holidays (TIM-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessCalendar {
    /// Days of the week the warehouse does not receive.
    pub closed_weekdays: Vec<Weekday>,
    /// Public holidays, each a closed day.
    pub holidays: BTreeSet<NaiveDate>,
}

impl BusinessCalendar {
    /// True when the warehouse receives on `date`.
    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        !self.closed_weekdays.contains(&date.weekday()) && !self.holidays.contains(&date)
    }

    /// `date` itself if it is a business day, else the next one: a parcel delivered on a
    /// closed day is received on the next business day (TIM-2).
    pub fn on_or_next_business_day(&self, date: NaiveDate) -> NaiveDate {
        let mut day = date;
        // A calendar closed every day would loop forever; policies are validated against that.
        while !self.is_business_day(day) {
            day = add_days(day, 1);
        }
        day
    }

    /// The business day `n` business days after `date` (n = 0 gives `date` rolled forward).
    pub fn add_business_days(&self, date: NaiveDate, n: u32) -> NaiveDate {
        let mut day = self.on_or_next_business_day(date);
        for _ in 0..n {
            day = self.on_or_next_business_day(add_days(day, 1));
        }
        day
    }

    /// True if at least one day a week is open, so the functions above terminate.
    pub fn has_open_days(&self) -> bool {
        let mut closed = self.closed_weekdays.clone();
        closed.sort_by_key(|d| d.num_days_from_monday());
        closed.dedup();
        closed.len() < 7
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    // rule TIM-1: a calendar month from Jan 31 is the last day of February, leap years included.
    #[test]
    fn tim_1_month_ends_clamp() {
        assert_eq!(add_months(d(2026, 1, 31), 1), d(2026, 2, 28));
        assert_eq!(add_months(d(2028, 1, 31), 1), d(2028, 2, 29));
        assert_eq!(add_months(d(2026, 1, 30), 1), d(2026, 2, 28));
        assert_eq!(add_months(d(2026, 3, 31), 1), d(2026, 4, 30));
        assert_eq!(add_months(d(2026, 1, 15), 1), d(2026, 2, 15));
        assert_eq!(add_months(d(2026, 12, 31), 2), d(2027, 2, 28));
        assert_eq!(add_months(d(2028, 2, 29), 12), d(2029, 2, 28));
        assert_eq!(last_day_of_month(d(2028, 2, 3)), d(2028, 2, 29));
        assert_eq!(last_day_of_month(d(2026, 12, 31)), d(2026, 12, 31));
        assert_eq!(days_between(d(2028, 2, 28), d(2028, 3, 1)), 2);
    }

    fn japan() -> BusinessCalendar {
        BusinessCalendar {
            closed_weekdays: vec![Weekday::Sat, Weekday::Sun],
            holidays: [d(2026, 11, 23)].into_iter().collect(),
        }
    }

    // rule TIM-2: no receiving on weekends and holidays; the next business day receives.
    #[test]
    fn tim_2_closed_days_roll_to_next_business_day() {
        let cal = japan();
        // Sat 21 Nov 2026 -> Mon 23 Nov is Labour Thanksgiving Day -> Tue 24 Nov.
        assert_eq!(
            cal.on_or_next_business_day(d(2026, 11, 21)),
            d(2026, 11, 24)
        );
        assert_eq!(
            cal.on_or_next_business_day(d(2026, 11, 20)),
            d(2026, 11, 20)
        );
        // Three business days after Fri 20 Nov: Tue 24, Wed 25, Thu 26.
        assert_eq!(cal.add_business_days(d(2026, 11, 20), 3), d(2026, 11, 26));
        assert!(cal.has_open_days());
    }
}
