//! Intake rules as pure functions (PAR-2, TIM-2): the proxy-payment charge and window, and
//! the receiving business day.

use crate::calendar::{add_days, BusinessCalendar, OutsideCalendar};
use crate::money::{Money, Rounding};
use crate::policy::ProxyPaymentPolicy;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What the member is charged for a courier paid on their behalf (PAR-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyCharge {
    /// Paid to the courier.
    pub courier_amount: Money,
    /// The surcharge (10 % in the shipped profile), rounded half up (MON-1).
    pub surcharge: Money,
    /// Charged to the member.
    pub charge: Money,
}

/// The proxy-payment charge for `courier_amount` (PAR-2): the amount plus the policy's
/// surcharge, the surcharge rounded half up to the currency's unit.
pub fn proxy_payment_charge(courier_amount: Money, policy: &ProxyPaymentPolicy) -> ProxyCharge {
    let surcharge = courier_amount.percent(policy.surcharge_percent, Rounding::HalfUp);
    ProxyCharge {
        courier_amount,
        surcharge,
        charge: Money::new(
            courier_amount.amount + surcharge.amount,
            courier_amount.currency,
        ),
    }
}

/// The first day an expected proxy-paid parcel that has not arrived may be cancelled
/// (PAR-2): it may arrive "within 45 days of the purchase", so day 45 after the purchase
/// still waits and day 46 cancels.
pub fn proxy_cancellable_from(purchased_on: NaiveDate, policy: &ProxyPaymentPolicy) -> NaiveDate {
    add_days(purchased_on, policy.cancel_after_days + 1)
}

/// The business day a parcel delivered on `delivered_on` is received (TIM-2): that day if
/// the warehouse receives then, else the next business day; an error when the calendar does
/// not cover the days needed.
pub fn receiving_day(
    delivered_on: NaiveDate,
    calendar: &BusinessCalendar,
) -> Result<NaiveDate, OutsideCalendar> {
    calendar.on_or_next_business_day(delivered_on)
}
