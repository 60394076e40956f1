//! Inspection rules as pure functions (INS-1, INS-2, INS-3): the level applied, how many
//! units of a variation are inspected, and when a defective parcel is charged at cost.

use super::error::ParcelError;
use super::event::{LargeItem, OversizeDefect};
use crate::measure::{Dimensions, Weight};
use crate::money::{Money, Rounding};
use crate::policy::{InspectionLevel, InspectionPolicy, OversizeDefectPolicy};

/// The level applied to a parcel whose plan says `planned` (INS-1, INS-2): a large item (any
/// side at or above 600 mm, or 30 kg or more) gets a quantity inspection instead of a basic
/// or detailed one, and the measurements that caused it are returned.
pub fn applied_level(
    planned: InspectionLevel,
    weight: Weight,
    dimensions: Dimensions,
    policy: &InspectionPolicy,
) -> (InspectionLevel, Option<LargeItem>) {
    let large = dimensions.longest_side_mm() >= policy.large_item_side_mm
        || weight.grams() >= policy.large_item_weight_g;
    if large && planned > InspectionLevel::Quantity {
        let item = LargeItem {
            longest_side_mm: dimensions.longest_side_mm(),
            weight_g: weight.grams(),
        };
        (InspectionLevel::Quantity, Some(item))
    } else {
        (planned, None)
    }
}

/// Units of one variation inspected and left uninspected at `level` (INS-1): at most
/// `max_per_variation`; none at level `none`.
pub fn split_units(units: u32, level: InspectionLevel, max_per_variation: u32) -> (u32, u32) {
    let inspected = match level {
        InspectionLevel::None => 0,
        _ => units.min(max_per_variation),
    };
    (inspected, units - inspected)
}

/// Whether a parcel with defects is large under `rule` (INS-3: length + width + height over
/// `over_size_cm`), and then the charge's facts with the `cost` the inspector stated. A large
/// parcel without a cost, or with one in another currency than the minimum's, is refused.
pub fn oversize_defect(
    dimensions: Dimensions,
    cost: Option<Money>,
    rule: &OversizeDefectPolicy,
) -> Result<Option<OversizeDefect>, ParcelError> {
    let sides_total_mm = dimensions.sides_total_mm();
    if u64::from(sides_total_mm) <= u64::from(rule.over_size_cm) * 10 {
        return Ok(None);
    }
    let cost = cost.ok_or(ParcelError::OversizeCostMissing {
        sides_total_mm,
        over_size_cm: rule.over_size_cm,
    })?;
    if cost.currency != rule.min_fee.currency || cost.is_negative() {
        return Err(ParcelError::OversizeCostInvalid {
            currency: rule.min_fee.currency,
        });
    }
    Ok(Some(OversizeDefect {
        sides_total_mm,
        over_size_cm: rule.over_size_cm,
        cost,
        min_fee: rule.min_fee,
    }))
}

/// The fee of a large parcel's defects (INS-3): its cost, never less than the minimum.
pub fn oversize_fee(large: OversizeDefect) -> Money {
    let fee = if large.cost.amount > large.min_fee.amount {
        large.cost
    } else {
        large.min_fee
    };
    fee.rounded(Rounding::HalfUp)
}
