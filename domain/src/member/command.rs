//! What can be asked of a member: one variant per command. Facts owned by other aggregates
//! (the charge account's rejection count and balance) arrive inside the command, looked up by
//! the caller; the time arrives in the [`crate::Issued`] wrapper (TIM-1).

use super::values::{
    AutoClosureFacts, EmailAddress, GuardianConsent, IdentityDocument, NoticeLanguage, PersonName,
    RefundReference, SuspensionCause,
};
use crate::ids::{AccountId, MemberId, ShipmentId, SuiteCode};
use crate::money::Money;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A command to the Member aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum MemberCommand {
    /// Register a member under a suite code the caller assigned, unique among members (MEM-1).
    Register {
        /// The new member's id.
        member_id: MemberId,
        /// The personal warehouse address code.
        suite_code: SuiteCode,
        /// Full name.
        name: PersonName,
        /// Birth date; a minor on the registration date needs `guardian_consent` (MEM-3).
        birth_date: NaiveDate,
        /// Contact address.
        email: EmailAddress,
        /// A parent's or guardian's consent, required for a minor (MEM-3).
        guardian_consent: Option<GuardianConsent>,
        /// The member accepted that the suite address may be used only for forwarding (MEM-1).
        forwarding_only_accepted: bool,
    },
    /// Record an identity document checked today (MEM-2).
    VerifyIdentity {
        /// The document and the parts that were checked.
        document: IdentityDocument,
        /// Its last valid day.
        expires_on: NaiveDate,
    },
    /// Daily job: record that the verified document has expired, if it has (MEM-2).
    CheckDocumentExpiry,
    /// Suspend for a cause with its reason (MEM-5), by an operator or a process.
    Suspend {
        /// The cause.
        cause: SuspensionCause,
        /// Why, in words; required.
        reason: String,
    },
    /// The charge account reports consecutive rejected top-up applications (ACC-3).
    SuspendForRejectedTopUps {
        /// The account that rejected them.
        account_id: AccountId,
        /// Rejections in a row, as the account counts them.
        consecutive_rejections: u32,
    },
    /// Lift every suspension (MEM-4).
    Reinstate {
        /// Why, in words; required.
        reason: String,
    },
    /// One failed login attempt (MEM-5).
    RecordFailedLogin,
    /// One successful login: the failure count restarts, the time is kept for MEM-9.
    RecordSuccessfulLogin,
    /// Choose the language the member is told things in (notices, #12).
    ChooseNoticeLanguage {
        /// The language.
        language: NoticeLanguage,
    },
    /// Turn Auto Pack on (MEM-6).
    SetAutoPack,
    /// Turn Auto Pack off (MEM-6).
    UnsetAutoPack,
    /// Turn Auto Ship on, or change its limit (MEM-7).
    SetAutoShip {
        /// Highest quote paid without asking, per shipment, in the billing currency.
        limit: Money,
    },
    /// Turn Auto Ship off (MEM-7).
    UnsetAutoShip,
    /// A shipment was paid automatically under Auto Ship (MEM-7).
    RecordAutoShipUse {
        /// The shipment paid.
        shipment_id: ShipmentId,
        /// The amount paid.
        amount: Money,
    },
    /// Daily job: record that Auto Ship has lapsed, if it has (MEM-7).
    LapseAutoShip,
    /// The member asks to withdraw (MEM-8).
    RequestWithdrawal,
    /// Close a withdrawing member once the charge account recorded the refund (MEM-8).
    Close {
        /// The refund the account recorded.
        refund_reference: RefundReference,
    },
    /// Daily job: close the member automatically if a condition of the policy holds (MEM-9).
    EvaluateAutoClosure {
        /// What the charge account reports.
        facts: AutoClosureFacts,
    },
    /// Erase the member's personal data (issue #10): allowed once the member is closed and the
    /// policy's retention period has passed. The engine then deletes the member's key, so
    /// every sealed copy of their personal data becomes unreadable; every event stays.
    ErasePersonalData,
}
