//! Inspection rules as pure functions (INS-1, INS-2): the level applied and how many units
//! of a variation are inspected.

use super::event::LargeItem;
use crate::measure::{Dimensions, Weight};
use crate::policy::{InspectionLevel, InspectionPolicy};

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
