//! Why a member command was refused: one variant per refusal, each with a stable code and the
//! rule it enforces.

use super::values::SuspensionCause;
use crate::money::{Currency, Money};
use crate::rules::{Refusal, Rule};
use chrono::NaiveDate;

/// A refused member command.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MemberError {
    /// The member has not registered.
    #[error("the member is not registered")]
    NotRegistered,
    /// The member registered already.
    #[error("the member is already registered")]
    AlreadyRegistered,
    /// The member did not accept that the suite address is for forwarding only.
    #[error(
        "registration needs the member's acceptance that the address is used only for forwarding"
    )]
    ForwardingOnlyNotAccepted,
    /// The birth date is after the registration date.
    #[error("the birth date {birth_date} is after the registration date {registered_on}")]
    BirthDateInFuture {
        /// The declared birth date.
        birth_date: NaiveDate,
        /// The registration date.
        registered_on: NaiveDate,
    },
    /// A minor registered without a guardian's consent.
    #[error(
        "a member aged {age} (under {age_of_majority}) needs a guardian's consent to register"
    )]
    GuardianConsentRequired {
        /// Age on the registration date.
        age: u32,
        /// The policy's age of majority.
        age_of_majority: u32,
    },
    /// A required part of the identity document was not checked.
    #[error("the identity document does not verify: {missing} was not checked")]
    DocumentIncomplete {
        /// The missing part.
        missing: &'static str,
    },
    /// The identity document had expired on the day it was checked.
    #[error(
        "the identity document expired on {expires_on}, before it was checked on {checked_on}"
    )]
    DocumentExpired {
        /// Its last valid day.
        expires_on: NaiveDate,
        /// The day of the check.
        checked_on: NaiveDate,
    },
    /// A suspension or reinstatement without a reason.
    #[error("a suspension or reinstatement must record its reason")]
    ReasonMissing,
    /// The member is already suspended for this cause.
    #[error("the member is already suspended for {cause:?}")]
    AlreadySuspended {
        /// The cause.
        cause: SuspensionCause,
    },
    /// The account reported fewer rejected top-ups than suspend.
    #[error("{reported} consecutive rejected top-ups do not suspend (the limit is {limit})")]
    TopUpRejectionsBelowLimit {
        /// Rejections in a row reported.
        reported: u32,
        /// The policy's limit.
        limit: u32,
    },
    /// Reinstatement of a member who is not suspended.
    #[error("the member is not suspended")]
    NotSuspended,
    /// The command is not open to a suspended member.
    #[error("a suspended member cannot do this (suspended for {causes:?})")]
    Suspended {
        /// The causes in force.
        causes: Vec<SuspensionCause>,
    },
    /// The Auto Ship limit is not in the billing currency.
    #[error("the Auto Ship limit must be in {expected}, not {found}")]
    AutoShipLimitCurrency {
        /// The billing currency.
        expected: Currency,
        /// The currency given.
        found: Currency,
    },
    /// The Auto Ship limit is zero or negative.
    #[error("the Auto Ship limit must be above zero, not {limit}")]
    AutoShipLimitNotPositive {
        /// The limit given.
        limit: Money,
    },
    /// Auto Ship is not set, or has lapsed.
    #[error("Auto Ship is not active")]
    AutoShipNotActive,
    /// An automatic payment above the Auto Ship limit.
    #[error("{amount} is over the Auto Ship limit of {limit}")]
    AutoShipOverLimit {
        /// The amount paid.
        amount: Money,
        /// The limit in force.
        limit: Money,
    },
    /// A second withdrawal request.
    #[error("the member has already asked to withdraw")]
    AlreadyWithdrawing,
    /// The command is not open to a withdrawing member.
    #[error("the member is withdrawing: only the closure remains")]
    Withdrawing,
    /// Closure of a member who has not asked to withdraw.
    #[error("only a withdrawing member is closed after the refund")]
    NotWithdrawing,
    /// The member is closed.
    #[error("the member is closed")]
    Closed,
    /// Personal data is erased only from a closed member.
    #[error("personal data is erased only once the member is closed")]
    NotClosed,
    /// Erasure before the retention period has passed.
    #[error(
        "the member's personal data must be kept until {retained_until} (closed on {closed_on})"
    )]
    RetentionNotPassed {
        /// The day the member was closed.
        closed_on: NaiveDate,
        /// The last day of the retention period.
        retained_until: NaiveDate,
    },
    /// A second erasure.
    #[error("the member's personal data is already erased")]
    AlreadyErased,
}

impl Refusal for MemberError {
    fn code(&self) -> &'static str {
        match self {
            MemberError::NotRegistered => "member.not_registered",
            MemberError::AlreadyRegistered => "member.already_registered",
            MemberError::ForwardingOnlyNotAccepted => "member.forwarding_only_not_accepted",
            MemberError::BirthDateInFuture { .. } => "member.birth_date_in_future",
            MemberError::GuardianConsentRequired { .. } => "member.guardian_consent_required",
            MemberError::DocumentIncomplete { .. } => "member.document_incomplete",
            MemberError::DocumentExpired { .. } => "member.document_expired",
            MemberError::ReasonMissing => "member.reason_missing",
            MemberError::AlreadySuspended { .. } => "member.already_suspended",
            MemberError::TopUpRejectionsBelowLimit { .. } => "member.top_up_rejections_below_limit",
            MemberError::NotSuspended => "member.not_suspended",
            MemberError::Suspended { .. } => "member.suspended",
            MemberError::AutoShipLimitCurrency { .. } => "member.auto_ship_limit_currency",
            MemberError::AutoShipLimitNotPositive { .. } => "member.auto_ship_limit_not_positive",
            MemberError::AutoShipNotActive => "member.auto_ship_not_active",
            MemberError::AutoShipOverLimit { .. } => "member.auto_ship_over_limit",
            MemberError::AlreadyWithdrawing => "member.already_withdrawing",
            MemberError::Withdrawing => "member.withdrawing",
            MemberError::NotWithdrawing => "member.not_withdrawing",
            MemberError::Closed => "member.closed",
            MemberError::NotClosed => "member.not_closed",
            MemberError::RetentionNotPassed { .. } => "member.retention_not_passed",
            MemberError::AlreadyErased => "member.personal_data_already_erased",
        }
    }

    fn rule(&self) -> Option<Rule> {
        match self {
            MemberError::NotRegistered
            | MemberError::NotClosed
            | MemberError::RetentionNotPassed { .. }
            | MemberError::AlreadyErased => None,
            MemberError::AlreadyRegistered | MemberError::ForwardingOnlyNotAccepted => {
                Some(Rule::Mem1)
            }
            MemberError::BirthDateInFuture { .. } | MemberError::GuardianConsentRequired { .. } => {
                Some(Rule::Mem3)
            }
            MemberError::DocumentIncomplete { .. } | MemberError::DocumentExpired { .. } => {
                Some(Rule::Mem2)
            }
            MemberError::ReasonMissing | MemberError::AlreadySuspended { .. } => Some(Rule::Mem5),
            MemberError::TopUpRejectionsBelowLimit { .. } => Some(Rule::Acc3),
            MemberError::NotSuspended | MemberError::Suspended { .. } | MemberError::Closed => {
                Some(Rule::Mem4)
            }
            MemberError::AutoShipLimitCurrency { .. }
            | MemberError::AutoShipLimitNotPositive { .. }
            | MemberError::AutoShipNotActive
            | MemberError::AutoShipOverLimit { .. } => Some(Rule::Mem7),
            MemberError::AlreadyWithdrawing
            | MemberError::Withdrawing
            | MemberError::NotWithdrawing => Some(Rule::Mem8),
        }
    }
}
