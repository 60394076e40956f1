//! Weights and dimensions as the warehouse measures them (PAR-3): whole grams and millimetres.

use crate::ids::InvalidValue;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A positive weight in grams.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(try_from = "u32", into = "u32")]
#[schemars(extend("minimum" = 1))]
pub struct Weight(u32);

impl Weight {
    /// A weight of `grams`, which must be positive.
    pub fn from_grams(grams: u32) -> Result<Self, InvalidValue> {
        if grams == 0 {
            Err(InvalidValue {
                kind: "weight",
                reason: "must be at least 1 g".into(),
            })
        } else {
            Ok(Self(grams))
        }
    }

    /// The weight in grams.
    pub const fn grams(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for Weight {
    type Error = InvalidValue;
    fn try_from(g: u32) -> Result<Self, InvalidValue> {
        Self::from_grams(g)
    }
}

impl From<Weight> for u32 {
    fn from(w: Weight) -> u32 {
        w.0
    }
}

/// Outer dimensions in millimetres, each positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "RawDimensions")]
pub struct Dimensions {
    /// Length in mm.
    #[schemars(range(min = 1, max = 10_000))]
    pub length_mm: u32,
    /// Width in mm.
    #[schemars(range(min = 1, max = 10_000))]
    pub width_mm: u32,
    /// Height in mm.
    #[schemars(range(min = 1, max = 10_000))]
    pub height_mm: u32,
}

/// What a client sends; its schema is the one documented (`serde(try_from)`), so it states
/// the bounds [`Dimensions::from_mm`] enforces.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawDimensions {
    /// Length in mm.
    #[schemars(range(min = 1, max = 10_000))]
    length_mm: u32,
    /// Width in mm.
    #[schemars(range(min = 1, max = 10_000))]
    width_mm: u32,
    /// Height in mm.
    #[schemars(range(min = 1, max = 10_000))]
    height_mm: u32,
}

impl TryFrom<RawDimensions> for Dimensions {
    type Error = InvalidValue;
    fn try_from(r: RawDimensions) -> Result<Self, InvalidValue> {
        Dimensions::from_mm(r.length_mm, r.width_mm, r.height_mm)
    }
}

impl Dimensions {
    /// Dimensions of `l × w × h` mm, each between 1 mm and 10 m.
    pub fn from_mm(length_mm: u32, width_mm: u32, height_mm: u32) -> Result<Self, InvalidValue> {
        let ok = |v: u32| (1..=10_000).contains(&v);
        if ok(length_mm) && ok(width_mm) && ok(height_mm) {
            Ok(Self {
                length_mm,
                width_mm,
                height_mm,
            })
        } else {
            Err(InvalidValue {
                kind: "dimensions",
                reason: "each side must be 1 to 10,000 mm".into(),
            })
        }
    }

    /// The longest side in mm (INS-2, CLM-5).
    pub fn longest_side_mm(self) -> u32 {
        self.length_mm.max(self.width_mm).max(self.height_mm)
    }

    /// Length + width + height in mm: a parcel's "size" as couriers count it (INS-3: size
    /// 100 is a 100 cm sum).
    pub fn sides_total_mm(self) -> u32 {
        self.length_mm + self.width_mm + self.height_mm
    }

    /// Volume in cubic millimetres.
    pub fn volume_mm3(self) -> u64 {
        u64::from(self.length_mm) * u64::from(self.width_mm) * u64::from(self.height_mm)
    }

    /// Volumetric weight for a carrier that uses it (FEE-1): L×W×H in cm / divisor gives kg,
    /// which is exactly mm³ / divisor in grams; rounded up to the next gram.
    pub fn volumetric_grams(self, divisor: u32) -> u64 {
        self.volume_mm3().div_ceil(u64::from(divisor.max(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // rule FEE-1: volumetric weight is L×W×H/5000 (cm, kg).
    #[test]
    fn fee_1_volumetric_weight() {
        // 50 × 40 × 30 cm / 5000 = 12 kg.
        let d = Dimensions::from_mm(500, 400, 300).unwrap();
        assert_eq!(d.volumetric_grams(5000), 12_000);
        // Fractions of a gram round up.
        assert_eq!(
            Dimensions::from_mm(1, 1, 1).unwrap().volumetric_grams(5000),
            1
        );
        assert_eq!(d.longest_side_mm(), 500);
    }

    // rule PAR-3: measurements are whole, positive grams and millimetres.
    #[test]
    fn par_3_measurements_parse() {
        assert!(Weight::from_grams(0).is_err());
        assert_eq!(Weight::from_grams(19_999).unwrap().grams(), 19_999);
        assert!(Dimensions::from_mm(0, 1, 1).is_err());
        assert!(serde_json::from_str::<Dimensions>(
            r#"{"length_mm":0,"width_mm":1,"height_mm":1}"#
        )
        .is_err());
        assert!(serde_json::from_str::<Weight>("0").is_err());
        assert!(serde_json::from_str::<Weight>("-5").is_err());
    }
}
