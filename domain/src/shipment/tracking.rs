//! Carrier tracking: the tracking number recorded when a shipment ships (SHP-1) and the
//! statuses a carrier's tracking reports afterwards (SHP-2).

use crate::ids::InvalidValue;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A carrier tracking number: 1 to 40 characters of `[A-Z0-9]` (SHP-1), for example
/// `EJ123456789JP`. Parsed once: surrounding spaces are trimmed and letters upper-cased,
/// as numbers are often typed from labels.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(try_from = "String", into = "String")]
#[schemars(extend("pattern" = "^[A-Z0-9]{1,40}$"))]
pub struct TrackingNumber(String);

impl TrackingNumber {
    /// The longest tracking number accepted.
    pub const MAX_LEN: usize = 40;

    /// Parses a tracking number.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let s = s.trim().to_ascii_uppercase();
        let bad = |reason: &str| InvalidValue {
            kind: "tracking number",
            reason: reason.to_owned(),
        };
        if s.is_empty() || s.len() > Self::MAX_LEN {
            return Err(bad("must be 1 to 40 characters"));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return Err(bad("only letters A-Z and digits are allowed"));
        }
        Ok(Self(s))
    }

    /// The tracking number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TrackingNumber {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        Self::parse(&s)
    }
}

impl From<TrackingNumber> for String {
    fn from(t: TrackingNumber) -> String {
        t.0
    }
}

impl fmt::Display for TrackingNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a carrier's tracking reports about a shipment in transit (SHP-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrackingStatus {
    /// Delivered at destination: the claim windows start (CLM-2).
    Delivered,
    /// Held by customs at destination.
    CustomsHold,
    /// Sent back to the warehouse by the carrier.
    ReturnedToOrigin,
    /// Declared lost by the carrier: the loss-claim window starts (CLM-2).
    Lost,
}

#[cfg(test)]
mod tests {
    use super::*;

    // rule SHP-1: tracking numbers are parsed once and are always well formed.
    #[test]
    fn shp_1_tracking_numbers_parse_strictly() {
        assert_eq!(
            TrackingNumber::parse(" ej123456789jp ").unwrap().as_str(),
            "EJ123456789JP"
        );
        assert!(TrackingNumber::parse(&"A".repeat(40)).is_ok());
        for bad in ["", "  ", "EJ-123", "EJ 123", "ÉJ1", &"A".repeat(41)] {
            assert!(
                TrackingNumber::parse(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
        assert!(serde_json::from_str::<TrackingNumber>("\"ab/1\"").is_err());
    }
}
