//! The storage clock as pure functions (STO-1 to STO-4): where it starts, when free storage
//! ends, when notices go out, and what paid extended storage costs. The Parcel aggregate
//! decides with them; the storage-status view calls [`storage_status`] instead of
//! re-implementing the rules.

use crate::calendar::{add_days, add_months, days_between};
use crate::measure::Dimensions;
use crate::money::{Money, Rounding};
use crate::policy::{ExtendedStoragePolicy, Policy, StorageAnchor, StorageLimit};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The day the storage clock of a parcel received on `received_on` starts (STO-1).
///
/// `first-waiting-arrival`: the arrival of the member's earliest parcel still waiting, so a
/// later parcel does not extend the limit (`earliest_waiting_arrival`, a fact from the
/// member's parcels; `None` or a later date means this parcel is the earliest).
/// `per-parcel`: the parcel's own arrival; the fact is ignored.
pub fn storage_anchor(
    received_on: NaiveDate,
    earliest_waiting_arrival: Option<NaiveDate>,
    anchor: StorageAnchor,
) -> NaiveDate {
    match (anchor, earliest_waiting_arrival) {
        (StorageAnchor::FirstWaitingArrival, Some(earliest)) => earliest.min(received_on),
        _ => received_on,
    }
}

/// The day the storage clock of `parcel` starts (STO-1): for a parcel taken into a shipment
/// (reserved, packed or held), the earliest arrival of the shipment's parcels under either
/// anchor (a packed shipment keeps the earliest arrival of its parcels), `earliest` being that
/// fact (with, under `first-waiting-arrival`, the member's earliest waiting arrival); for a
/// waiting parcel, [`storage_anchor`].
pub fn clock_anchor(
    parcel: &StoredBox,
    earliest: Option<NaiveDate>,
    anchor: StorageAnchor,
) -> NaiveDate {
    if parcel.in_shipment {
        earliest.map_or(parcel.received_on, |e| e.min(parcel.received_on))
    } else {
        storage_anchor(parcel.received_on, earliest, anchor)
    }
}

/// The notice due on `today` for a free storage ending on `last_free_day`, as the policy's
/// "days before" (STO-2): the most urgent notice whose day has come, until the last free day.
/// `None` when no notice day has come yet or the limit has passed.
pub fn notice_due(last_free_day: NaiveDate, today: NaiveDate, days_before: &[u32]) -> Option<u32> {
    if today > last_free_day {
        return None;
    }
    let left = days_between(today, last_free_day);
    days_before
        .iter()
        .copied()
        .filter(|&d| i64::from(d) >= left)
        .min()
}

/// The next notice day on or after `today` (STO-2, STO-4); `None` when none is left.
pub fn next_notice_on(
    last_free_day: NaiveDate,
    today: NaiveDate,
    days_before: &[u32],
) -> Option<NaiveDate> {
    days_before
        .iter()
        .filter_map(|&d| last_free_day.checked_sub_days(chrono::Days::new(u64::from(d))))
        .filter(|&day| day >= today && day <= last_free_day)
        .min()
}

/// Volume units of extended storage (STO-3): the parcel's volume divided by the unit's
/// (50×60×50 cm), rounded up to whole units; at least 1.
pub fn storage_units(dimensions: Dimensions, unit_mm: [u32; 3]) -> u64 {
    let unit: u64 = unit_mm.iter().map(|&s| u64::from(s.max(1))).product();
    dimensions.volume_mm3().div_ceil(unit).max(1)
}

/// The last day of extended month `month` (STO-3); month 0 ends on the last free day.
/// Months run in calendar months from the anchor (clamped at month ends, TIM-1), so a
/// parcel anchored on Jan 31 with one free month has Feb 28 free, then Mar 1–31 as month 1.
pub fn extended_month_end(anchor: NaiveDate, limit: StorageLimit, month: u32) -> NaiveDate {
    match limit {
        StorageLimit::Months(n) => add_months(anchor, n + month),
        StorageLimit::Days(_) => add_months(limit.last_day(anchor), month),
    }
}

/// First and last day of extended month `month` (from 1) (STO-3).
pub fn extended_month_period(
    anchor: NaiveDate,
    limit: StorageLimit,
    month: u32,
) -> (NaiveDate, NaiveDate) {
    let start = add_days(
        extended_month_end(anchor, limit, month.saturating_sub(1)),
        1,
    );
    (start, extended_month_end(anchor, limit, month))
}

/// Extended months started by `today` (STO-3: a started month counts whole); 0 while the
/// free storage lasts.
pub fn extended_months_started(anchor: NaiveDate, limit: StorageLimit, today: NaiveDate) -> u32 {
    let mut months = 0;
    while extended_month_end(anchor, limit, months) < today {
        months += 1;
    }
    months
}

/// The fee for `months` started months of `units` volume units (STO-3), rounded half up.
pub fn extended_storage_fee(units: u64, months: u32, policy: &ExtendedStoragePolicy) -> Money {
    policy
        .fee_per_unit_month
        .times(Decimal::from(units) * Decimal::from(months))
        .rounded(Rounding::HalfUp)
}

/// What the storage clock needs to know of a parcel (STO-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredBox {
    /// The business day it was received (TIM-2).
    pub received_on: NaiveDate,
    /// Its measured dimensions (PAR-3).
    pub dimensions: Dimensions,
    /// On paid extended storage (STO-3).
    pub extended_storage: bool,
    /// Taken into a shipment that has not left: its clock runs from the shipment's earliest
    /// arrival (STO-1).
    pub in_shipment: bool,
}

/// A parcel's storage at a glance, for members and operations (STO-4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageStatus {
    /// The clock's anchor (STO-1).
    pub anchor: NaiveDate,
    /// Days in the warehouse, the receiving day being day 1.
    pub days_stored: u32,
    /// The last day of free storage (STO-2).
    pub last_free_day: NaiveDate,
    /// Free days left counting today; 0 once past the limit.
    pub days_left: u32,
    /// Past the limit without paid extended storage: may be marked disposable (STO-2).
    pub disposable: bool,
    /// The next storage notice day, if one is left (STO-2).
    pub next_notice_on: Option<NaiveDate>,
    /// Extended months started (STO-3).
    pub extended_months: u32,
    /// Extended-storage fee for the started months (STO-3); zero without extension.
    pub fee_accrued: Money,
}

/// The storage status of `parcel` on `today` (STO-1 to STO-4); `earliest_waiting_arrival` as
/// [`clock_anchor`] takes it.
pub fn storage_status(
    parcel: &StoredBox,
    today: NaiveDate,
    earliest_waiting_arrival: Option<NaiveDate>,
    policy: &Policy,
) -> StorageStatus {
    let storage = &policy.storage;
    let anchor = clock_anchor(parcel, earliest_waiting_arrival, storage.anchor);
    let last_free_day = storage.max_storage.last_day(anchor);
    let clamp = |days: i64| u32::try_from(days.max(0)).unwrap_or(u32::MAX);
    let extension = storage
        .extended
        .as_ref()
        .filter(|_| parcel.extended_storage);
    let (extended_months, fee_accrued) = match extension {
        Some(ext) => {
            let months = extended_months_started(anchor, storage.max_storage, today);
            let units = storage_units(parcel.dimensions, ext.unit_mm);
            (months, extended_storage_fee(units, months, ext))
        }
        None => (0, Money::zero(policy.billing_currency)),
    };
    StorageStatus {
        anchor,
        days_stored: clamp(days_between(parcel.received_on, today) + 1),
        last_free_day,
        days_left: clamp(days_between(today, last_free_day) + 1),
        disposable: extension.is_none() && today > last_free_day,
        next_notice_on: match extension {
            Some(_) => None,
            None => next_notice_on(last_free_day, today, &storage.notice_days_before),
        },
        extended_months,
        fee_accrued,
    }
}
