//! Identifiers and codes, parsed once at the edge so that a held value is always valid.
//!
//! Ids arrive inside commands (the domain generates none). They are opaque strings of
//! 1 to 64 characters from `[A-Za-z0-9._-]`, which fits UUIDs, ULIDs and readable ids alike.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A value that failed to parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind}: {reason}")]
pub struct InvalidValue {
    /// What was being parsed.
    pub kind: &'static str,
    /// Why it was refused.
    pub reason: String,
}

/// The JSON Schema pattern of every id, as [`parse_id`] accepts it.
const ID_PATTERN: &str = "^[A-Za-z0-9._-]{1,64}$";

fn parse_id(kind: &'static str, s: &str) -> Result<String, InvalidValue> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if s.is_empty() || s.len() > 64 {
        return Err(InvalidValue {
            kind,
            reason: "must be 1 to 64 characters".into(),
        });
    }
    if !s.chars().all(ok_char) {
        return Err(InvalidValue {
            kind,
            reason: "only letters, digits, '.', '_' and '-' are allowed".into(),
        });
    }
    Ok(s.to_owned())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        #[serde(try_from = "String", into = "String")]
        #[schemars(extend("pattern" = ID_PATTERN))]
        pub struct $name(String);

        impl $name {
            /// Parses an id.
            pub fn parse(s: &str) -> Result<Self, InvalidValue> {
                parse_id($kind, s).map(Self)
            }
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidValue;
            fn try_from(s: String) -> Result<Self, InvalidValue> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A member.
    MemberId, "member id"
);
id_type!(
    /// A member's charge account.
    AccountId, "account id"
);
id_type!(
    /// A parcel: one box received at the warehouse.
    ParcelId, "parcel id"
);
id_type!(
    /// A shipment packed from one or more parcels.
    ShipmentId, "shipment id"
);
id_type!(
    /// A claim on a shipment.
    ClaimId, "claim id"
);
id_type!(
    /// Whatever caused a charge-account movement: a parcel, shipment, claim or deposit id.
    CauseId, "cause id"
);

/// A member's personal warehouse address code (MEM-1): 2 to 4 capital letters, a dash and
/// 4 to 8 digits, for example `TYO-004217`.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(try_from = "String", into = "String")]
#[schemars(extend("pattern" = "^[A-Z]{2,4}-[0-9]{4,8}$"))]
pub struct SuiteCode(String);

impl SuiteCode {
    /// Parses a suite code, accepting lower case and surrounding spaces as written on labels.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let s = s.trim().to_ascii_uppercase();
        let bad = || InvalidValue {
            kind: "suite code",
            reason: format!("{s:?} is not LETTERS-DIGITS (2-4 letters, 4-8 digits)"),
        };
        let (letters, digits) = s.split_once('-').ok_or_else(bad)?;
        let letters_ok =
            (2..=4).contains(&letters.len()) && letters.chars().all(|c| c.is_ascii_uppercase());
        let digits_ok =
            (4..=8).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit());
        if letters_ok && digits_ok {
            Ok(Self(s))
        } else {
            Err(bad())
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SuiteCode {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        Self::parse(&s)
    }
}

impl From<SuiteCode> for String {
    fn from(c: SuiteCode) -> String {
        c.0
    }
}

impl fmt::Display for SuiteCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // rule MEM-1: a suite code is parsed once and is always well formed.
    #[test]
    fn mem_1_suite_codes_parse_strictly() {
        assert_eq!(
            SuiteCode::parse(" tyo-004217 ").unwrap().as_str(),
            "TYO-004217"
        );
        for bad in [
            "",
            "TYO",
            "T-1234",
            "TOKYO-1234",
            "TYO-123",
            "TYO-123456789",
            "TYO-12a4",
        ] {
            assert!(SuiteCode::parse(bad).is_err(), "{bad} should be refused");
        }
        assert!(serde_json::from_str::<SuiteCode>("\"XX\"").is_err());
    }

    #[test]
    fn ids_refuse_empty_long_and_odd_characters() {
        assert!(ParcelId::parse("p-01.a_b").is_ok());
        assert!(ParcelId::parse("").is_err());
        assert!(ParcelId::parse(&"x".repeat(65)).is_err());
        assert!(ParcelId::parse("a b").is_err());
        assert!(serde_json::from_str::<MemberId>("\"a/b\"").is_err());
    }
}
