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

/// When the warehouse works (TIM-2): closed weekdays and public holidays, and make-up working
/// days (振替営業日, 调休上班: a date worked although its weekday is closed), all listed for the
/// dates from `covers_from` to `covers_through`. Outside those dates the calendar cannot say
/// whether the warehouse works, so every question about them is an [`OutsideCalendar`] error,
/// never a guess.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessCalendar {
    /// Days of the week the warehouse does not receive.
    pub closed_weekdays: Vec<Weekday>,
    /// Public holidays, each a closed day.
    pub holidays: BTreeSet<NaiveDate>,
    /// Make-up working days: open although their weekday is closed.
    pub make_up_working_days: BTreeSet<NaiveDate>,
    /// The first day the lists above cover.
    pub covers_from: NaiveDate,
    /// The last day the lists above cover.
    pub covers_through: NaiveDate,
}

/// A date the business calendar does not cover (TIM-2): its holidays are not known there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{date} is outside the business calendar, which covers {covers_from} to {covers_through} (TIM-2)")]
pub struct OutsideCalendar {
    /// The date asked about.
    pub date: NaiveDate,
    /// The first day covered.
    pub covers_from: NaiveDate,
    /// The last day covered.
    pub covers_through: NaiveDate,
}

impl BusinessCalendar {
    /// Whether the warehouse receives on `date`: a make-up working day always, else any day
    /// that is neither a closed weekday nor a holiday. An error outside the covered dates.
    pub fn is_business_day(&self, date: NaiveDate) -> Result<bool, OutsideCalendar> {
        if date < self.covers_from || date > self.covers_through {
            return Err(OutsideCalendar {
                date,
                covers_from: self.covers_from,
                covers_through: self.covers_through,
            });
        }
        Ok(self.make_up_working_days.contains(&date)
            || (!self.closed_weekdays.contains(&date.weekday()) && !self.holidays.contains(&date)))
    }

    /// `date` itself if it is a business day, else the next one: a parcel delivered on a
    /// closed day is received on the next business day (TIM-2). An error when the search
    /// leaves the covered dates.
    pub fn on_or_next_business_day(&self, date: NaiveDate) -> Result<NaiveDate, OutsideCalendar> {
        let mut day = date;
        // Ends: every step moves a day on, and past `covers_through` is an error.
        while !self.is_business_day(day)? {
            day = add_days(day, 1);
        }
        Ok(day)
    }

    /// The business day `n` business days after `date` (n = 0 gives `date` rolled forward).
    pub fn add_business_days(&self, date: NaiveDate, n: u32) -> Result<NaiveDate, OutsideCalendar> {
        let mut day = self.on_or_next_business_day(date)?;
        for _ in 0..n {
            day = self.on_or_next_business_day(add_days(day, 1))?;
        }
        Ok(day)
    }

    /// True if at least one day a week is open.
    pub fn has_open_days(&self) -> bool {
        let mut closed = self.closed_weekdays.clone();
        closed.sort_by_key(|d| d.num_days_from_monday());
        closed.dedup();
        closed.len() < 7
    }

    /// What is inconsistent in the lists, if anything: dates outside the covered range, a
    /// date both a holiday and a make-up working day, or a make-up working day on an open
    /// weekday that is no holiday (it would change nothing: probably a typo).
    pub fn problem(&self) -> Option<String> {
        if self.covers_from > self.covers_through {
            return Some("covers_from is after covers_through".into());
        }
        let outside = |d: &&NaiveDate| **d < self.covers_from || **d > self.covers_through;
        if let Some(d) = self.holidays.iter().find(outside) {
            return Some(format!("holiday {d} is outside the covered dates"));
        }
        if let Some(d) = self.make_up_working_days.iter().find(outside) {
            return Some(format!(
                "make-up working day {d} is outside the covered dates"
            ));
        }
        if let Some(d) = self
            .make_up_working_days
            .intersection(&self.holidays)
            .next()
        {
            return Some(format!("{d} is both a holiday and a make-up working day"));
        }
        None
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
            make_up_working_days: BTreeSet::new(),
            covers_from: d(2026, 1, 1),
            covers_through: d(2026, 12, 31),
        }
    }

    // rule TIM-2: no receiving on weekends and holidays; the next business day receives.
    #[test]
    fn tim_2_closed_days_roll_to_next_business_day() {
        let cal = japan();
        // Sat 21 Nov 2026 -> Mon 23 Nov is Labour Thanksgiving Day -> Tue 24 Nov.
        assert_eq!(
            cal.on_or_next_business_day(d(2026, 11, 21)),
            Ok(d(2026, 11, 24))
        );
        assert_eq!(
            cal.on_or_next_business_day(d(2026, 11, 20)),
            Ok(d(2026, 11, 20))
        );
        // Three business days after Fri 20 Nov: Tue 24, Wed 25, Thu 26.
        assert_eq!(
            cal.add_business_days(d(2026, 11, 20), 3),
            Ok(d(2026, 11, 26))
        );
        assert!(cal.has_open_days());
        assert_eq!(cal.problem(), None);
    }

    // rule TIM-2: a make-up working day (振替営業日) is open although its weekday is closed.
    #[test]
    fn tim_2_make_up_working_day_is_open_on_a_closed_weekday() {
        let mut cal = japan();
        // Sat 21 Nov made a working day: a parcel delivered then is received that day.
        cal.make_up_working_days.insert(d(2026, 11, 21));
        assert_eq!(cal.is_business_day(d(2026, 11, 21)), Ok(true));
        assert_eq!(cal.is_business_day(d(2026, 11, 22)), Ok(false));
        assert_eq!(
            cal.on_or_next_business_day(d(2026, 11, 21)),
            Ok(d(2026, 11, 21))
        );
        // Fri 20 + 1 business day is now Sat 21.
        assert_eq!(
            cal.add_business_days(d(2026, 11, 20), 1),
            Ok(d(2026, 11, 21))
        );
        cal.make_up_working_days.insert(d(2026, 11, 23));
        assert!(cal.problem().unwrap().contains("both a holiday"));
    }

    // rule TIM-2: past the calendar's last day nothing is known: an error, not a working day.
    #[test]
    fn tim_2_date_past_the_calendar_is_an_error() {
        let cal = japan();
        let outside = |date| OutsideCalendar {
            date,
            covers_from: d(2026, 1, 1),
            covers_through: d(2026, 12, 31),
        };
        assert_eq!(cal.is_business_day(d(2026, 12, 31)), Ok(true));
        assert_eq!(
            cal.is_business_day(d(2027, 1, 4)),
            Err(outside(d(2027, 1, 4)))
        );
        assert_eq!(
            cal.is_business_day(d(2025, 12, 31)),
            Err(outside(d(2025, 12, 31)))
        );
        // Rolling forward off the end is an error too: Thu 31 Dec + 1 business day.
        assert_eq!(
            cal.add_business_days(d(2026, 12, 31), 1),
            Err(outside(d(2027, 1, 1)))
        );
    }
}
