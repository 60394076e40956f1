//! The small values the Member aggregate's commands and events carry: the member's name and
//! email (parsed once), the guardian's consent (MEM-3), identity documents (MEM-2), suspension
//! causes (MEM-5), the account facts automatic closure reads and the conditions it found (MEM-9).

use crate::ids::InvalidValue;
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The characters `char::is_whitespace` finds (Unicode's White_Space), which an email address
/// may not hold, spelled out: `\s` means a different set in ECMA, Rust and Python regexes.
macro_rules! spaces {
    () => {
        r"\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
    };
}

/// The JSON Schema pattern of [`EmailAddress::parse`]: `local@domain.tld`, no spaces, the
/// domain neither starting nor ending with a dot.
const EMAIL_PATTERN: &str = concat!(
    "^[^@",
    spaces!(),
    "]+@[^@.",
    spaces!(),
    "][^@",
    spaces!(),
    "]*\\.[^@",
    spaces!(),
    "]*[^@.",
    spaces!(),
    "]$"
);

/// The JSON Schema pattern of a trimmed, non-blank text.
const TRIMMED_PATTERN: &str = r"^\S([\s\S]*\S)?$";

/// A person's name as registered: 1 to 200 characters, not blank, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "String", into = "String")]
#[schemars(extend("minLength" = 1, "maxLength" = 200, "pattern" = TRIMMED_PATTERN))]
pub struct PersonName(String);

impl PersonName {
    /// Parses a name, trimming surrounding spaces.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let s = s.trim();
        if s.is_empty() || s.chars().count() > 200 {
            return Err(InvalidValue {
                kind: "person name",
                reason: "must be 1 to 200 characters, not blank".into(),
            });
        }
        Ok(Self(s.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PersonName {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        Self::parse(&s)
    }
}

impl From<PersonName> for String {
    fn from(n: PersonName) -> String {
        n.0
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address, checked for shape only (`local@domain.tld`, no spaces, at most 254
/// characters); whether it receives mail is the sign-up flow's business.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "String", into = "String")]
#[schemars(extend("maxLength" = 254, "pattern" = EMAIL_PATTERN))]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Parses an address, trimming surrounding spaces.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let s = s.trim();
        let bad = || InvalidValue {
            kind: "email address",
            reason: format!("{s:?} is not local@domain"),
        };
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        let shape_ok = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && s.chars().count() <= 254
            && !s.chars().any(char::is_whitespace);
        if shape_ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(bad())
        }
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        Self::parse(&s)
    }
}

impl From<EmailAddress> for String {
    fn from(e: EmailAddress) -> String {
        e.0
    }
}

/// The reference of the refund the charge account recorded at withdrawal (MEM-8, ACC-7):
/// 1 to 64 characters, not blank.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "String", into = "String")]
#[schemars(extend("minLength" = 1, "maxLength" = 64, "pattern" = TRIMMED_PATTERN))]
pub struct RefundReference(String);

impl RefundReference {
    /// Parses a refund reference.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let s = s.trim();
        if s.is_empty() || s.chars().count() > 64 {
            return Err(InvalidValue {
                kind: "refund reference",
                reason: "must be 1 to 64 characters, not blank".into(),
            });
        }
        Ok(Self(s.to_owned()))
    }

    /// The reference as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RefundReference {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        Self::parse(&s)
    }
}

impl From<RefundReference> for String {
    fn from(r: RefundReference) -> String {
        r.0
    }
}

/// A parent's or legal guardian's consent to a minor's registration (MEM-3, seed 003 §5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GuardianConsent {
    /// Who consented.
    pub guardian_name: PersonName,
    /// The guardian's relation to the member, as declared (for example `mother`).
    pub relationship: String,
    /// The day the consent was given.
    pub consented_on: NaiveDate,
}

/// An identity document as the clerk checked it (MEM-2, seed 000). Each kind lists the parts
/// that must have been seen; a document with a part unchecked does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum IdentityDocument {
    /// A driving licence; the back side carries a changed address, so it must be checked too
    /// when the address changed.
    DrivingLicence {
        /// The address differs from the one printed on the front.
        address_changed: bool,
        /// The back side was checked.
        back_side_checked: bool,
    },
    /// A passport: the photo page and the address page.
    Passport {
        /// The photo page was checked.
        photo_page_checked: bool,
        /// The address page was checked.
        address_page_checked: bool,
    },
    /// A health-insurance card: the holder's name and current address.
    HealthInsuranceCard {
        /// The page with the holder's name was checked.
        name_checked: bool,
        /// The page with the current address was checked.
        current_address_checked: bool,
    },
}

impl IdentityDocument {
    /// The kind of document, without the check marks.
    pub fn kind(self) -> DocumentKind {
        match self {
            IdentityDocument::DrivingLicence { .. } => DocumentKind::DrivingLicence,
            IdentityDocument::Passport { .. } => DocumentKind::Passport,
            IdentityDocument::HealthInsuranceCard { .. } => DocumentKind::HealthInsuranceCard,
        }
    }

    /// The first required part that was not checked, if any (MEM-2).
    pub fn missing_part(self) -> Option<&'static str> {
        match self {
            IdentityDocument::DrivingLicence {
                address_changed: true,
                back_side_checked: false,
            } => Some("the back side of the driving licence (the address changed)"),
            IdentityDocument::DrivingLicence { .. } => None,
            IdentityDocument::Passport {
                photo_page_checked: false,
                ..
            } => Some("the photo page of the passport"),
            IdentityDocument::Passport {
                address_page_checked: false,
                ..
            } => Some("the address page of the passport"),
            IdentityDocument::Passport { .. } => None,
            IdentityDocument::HealthInsuranceCard {
                name_checked: false,
                ..
            } => Some("the name on the health-insurance card"),
            IdentityDocument::HealthInsuranceCard {
                current_address_checked: false,
                ..
            } => Some("the current address on the health-insurance card"),
            IdentityDocument::HealthInsuranceCard { .. } => None,
        }
    }
}

/// The kinds of identity document accepted (MEM-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// Driving licence.
    DrivingLicence,
    /// Passport.
    Passport,
    /// Health-insurance card.
    HealthInsuranceCard,
}

/// Why a member was suspended (MEM-5, seeds 001 and 003 §19).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SuspensionCause {
    /// A bill unpaid past its due date.
    UnpaidPastDue,
    /// A false cargo declaration.
    FalseDeclaration,
    /// A prohibited item sent to the warehouse (INS-4).
    ProhibitedItem,
    /// Consecutive rejected top-up applications reached the policy's count (ACC-3).
    RejectedTopUps,
    /// Failed logins in a row reached the policy's count.
    FailedLogins,
}

/// The language a member is told things in (notices, #12): the server's default until the
/// member chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeLanguage {
    /// Japanese.
    Ja,
    /// English.
    En,
}

impl NoticeLanguage {
    /// As stored and in templates (`ja`, `en`).
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeLanguage::Ja => "ja",
            NoticeLanguage::En => "en",
        }
    }
}

/// The sign of a charge-account balance, with the day it went negative: the account facts
/// automatic closure reads (MEM-9). Looked up from the account by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum BalanceSign {
    /// Below zero, continuously since `since`.
    Negative {
        /// The first day of the current run below zero.
        since: NaiveDate,
    },
    /// Exactly zero.
    Zero,
    /// Above zero.
    Positive,
}

/// What the charge account reports for automatic closure (MEM-9). The member's own facts (its
/// registration date and last login) come from the Member aggregate itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoClosureFacts {
    /// The balance's sign now.
    pub balance: BalanceSign,
    /// The day of the member's first top-up application, if there was one.
    pub first_top_up_on: Option<NaiveDate>,
}

/// A condition of automatic closure that held (MEM-9, seed 001), with the dates that made it hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum AutoClosureCondition {
    /// The balance stayed negative for the policy's months.
    NegativeBalance {
        /// First day below zero.
        negative_since: NaiveDate,
        /// The day the run reached the policy's months.
        reached_on: NaiveDate,
    },
    /// No login for the policy's months, with a zero balance.
    Dormant {
        /// Local date of the last login (the registration when the member never logged in).
        last_login_on: NaiveDate,
        /// The day the policy's months had passed.
        reached_on: NaiveDate,
    },
    /// No top-up application within the policy's months of registration.
    NoTopUp {
        /// The registration date.
        registered_on: NaiveDate,
        /// The last day a top-up application counted.
        deadline: NaiveDate,
    },
}
