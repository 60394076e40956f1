//! What happened to a member: past-tense facts, published as `member.<snake_name>`, version 1.
//! Each event carries what readers need (dates already computed, the cause, the policy
//! version whenever a policy value decided it) so projections never recompute a rule.

use super::values::{
    AutoClosureCondition, AutoClosureFacts, DocumentKind, EmailAddress, GuardianConsent,
    IdentityDocument, NoticeLanguage, PersonName, RefundReference, SuspensionCause,
};
use crate::ids::{MemberId, ShipmentId, SuiteCode};
use crate::money::Money;
use crate::policy::PolicyVersion;
use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An event of the Member aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberEvent {
    /// A member registered and was given a suite code (MEM-1, MEM-3).
    Registered {
        /// The member.
        member_id: MemberId,
        /// The personal warehouse address code.
        suite_code: SuiteCode,
        /// Full name.
        name: PersonName,
        /// Birth date.
        birth_date: NaiveDate,
        /// Contact address.
        email: EmailAddress,
        /// Age in full years on the registration date.
        age_on_registration: u32,
        /// True when the member was a minor by the policy's age of majority (MEM-3).
        minor: bool,
        /// The guardian's consent, present whenever `minor` is.
        guardian_consent: Option<GuardianConsent>,
        /// The member accepted that the suite address may be used only for forwarding (MEM-1).
        /// Registration is refused otherwise: always true, kept so the acceptance is on record.
        forwarding_only_accepted: bool,
        /// When the registration was made.
        registered_at: DateTime<Utc>,
        /// The warehouse's local date of the registration.
        registered_on: NaiveDate,
        /// The policy whose age of majority applied.
        policy: PolicyVersion,
    },
    /// An identity document was checked and verifies the member until it expires (MEM-2).
    IdentityVerified {
        /// The document and the parts checked.
        document: IdentityDocument,
        /// Its last valid day.
        expires_on: NaiveDate,
        /// The day it was checked.
        verified_on: NaiveDate,
    },
    /// The verified document expired: the member is unverified again (MEM-2).
    VerificationLapsed {
        /// The kind of the expired document.
        document: DocumentKind,
        /// Its last valid day.
        expired_on: NaiveDate,
        /// The first day the member was unverified (the day after `expired_on`).
        unverified_from: NaiveDate,
    },
    /// The member was suspended for a cause (MEM-4, MEM-5). A suspended member suspended again
    /// for another cause collects the causes; reinstatement lifts them all.
    Suspended {
        /// The cause.
        cause: SuspensionCause,
        /// Why, in words.
        reason: String,
        /// The day of the suspension.
        suspended_on: NaiveDate,
        /// The policy in force (its thresholds decided automatic suspensions).
        policy: PolicyVersion,
    },
    /// Every suspension was lifted (MEM-4); the failed-login count restarts from zero.
    Reinstated {
        /// Why, in words.
        reason: String,
        /// The causes lifted.
        lifted_causes: Vec<SuspensionCause>,
        /// The day of the reinstatement.
        reinstated_on: NaiveDate,
    },
    /// A login attempt failed (MEM-5). Version 2: the count is `in_a_row` and the event records
    /// the limit in force, so a reader sees how near the member is to suspension without the
    /// policy; version 1 (`consecutive_failures`, no limit) is read through
    /// `crate::upcast::LoginFailedV1`.
    LoginFailed {
        /// When.
        at: DateTime<Utc>,
        /// Failed attempts in a row, this one included.
        in_a_row: u32,
        /// The policy's failed logins before suspension when this one failed; `None` for events
        /// recorded as version 1, which did not record it.
        limit: Option<u32>,
    },
    /// The member logged in; the failure count restarts (MEM-5) and the time counts for
    /// dormancy (MEM-9).
    LoggedIn {
        /// When.
        at: DateTime<Utc>,
    },
    /// The member chose the language they are told things in (notices, #12).
    NoticeLanguageChosen {
        /// The language.
        language: NoticeLanguage,
        /// The day.
        chosen_on: NaiveDate,
    },
    /// Auto Pack was turned on: each arriving parcel is packed on its own (MEM-6).
    AutoPackSet {
        /// The day.
        set_on: NaiveDate,
    },
    /// Auto Pack was turned off (MEM-6).
    AutoPackUnset {
        /// The day.
        unset_on: NaiveDate,
    },
    /// Auto Ship was turned on or its limit changed (MEM-7).
    AutoShipSet {
        /// Highest quote paid without asking, per shipment.
        limit: Money,
        /// The day it was set.
        set_on: NaiveDate,
        /// The day it lapses if it is not used.
        lapses_on: NaiveDate,
        /// The policy whose lapse period applied.
        policy: PolicyVersion,
    },
    /// Auto Ship was turned off (MEM-7).
    AutoShipUnset {
        /// The day.
        unset_on: NaiveDate,
    },
    /// A shipment was paid automatically under Auto Ship (MEM-7).
    AutoShipUsed {
        /// The shipment paid.
        shipment_id: ShipmentId,
        /// The amount paid, at or under `limit`.
        amount: Money,
        /// The limit in force.
        limit: Money,
        /// The day of use.
        used_on: NaiveDate,
        /// The day Auto Ship now lapses if not used again.
        lapses_on: NaiveDate,
        /// The policy whose lapse period applied.
        policy: PolicyVersion,
    },
    /// Auto Ship lapsed after a year set and unused (MEM-7): shipments are paid manually.
    AutoShipLapsed {
        /// The day it was last set.
        set_on: NaiveDate,
        /// The day it was last used, if ever.
        last_used_on: Option<NaiveDate>,
        /// The first day it was no longer active.
        lapsed_on: NaiveDate,
        /// The policy whose lapse period applied.
        policy: PolicyVersion,
    },
    /// The member asked to withdraw (MEM-8): parcels stored or arriving from now on are
    /// destroyed at `disposal_fee_per_item`, and the balance is refunded (ACC-7).
    WithdrawalRequested {
        /// The day of the request.
        requested_on: NaiveDate,
        /// The suspension causes still in force when the member asked (empty if none).
        suspension_causes: Vec<SuspensionCause>,
        /// Fee per item destroyed.
        disposal_fee_per_item: Money,
        /// The policy whose fee applied.
        policy: PolicyVersion,
    },
    /// The withdrawing member was closed after the refund was recorded (MEM-8).
    Closed {
        /// The refund the charge account recorded.
        refund_reference: RefundReference,
        /// The day of closure.
        closed_on: NaiveDate,
    },
    /// The member was closed automatically (MEM-9).
    AutoClosed {
        /// Every condition that held, at least one.
        conditions: Vec<AutoClosureCondition>,
        /// The account facts the decision read.
        facts: AutoClosureFacts,
        /// The day of closure.
        closed_on: NaiveDate,
        /// The policy whose closure conditions applied.
        policy: PolicyVersion,
    },
    /// The member's personal data was erased (issue #10): their key is deleted, so the sealed
    /// fields of their events (`domain::personal`) can no longer be read by anyone.
    PersonalDataErased {
        /// The day the member was closed.
        closed_on: NaiveDate,
        /// The last day the data had to be kept (the policy's retention period after closure).
        retained_until: NaiveDate,
        /// The day of erasure.
        erased_on: NaiveDate,
        /// The policy whose retention period applied.
        policy: PolicyVersion,
    },
}

impl MemberEvent {
    /// Every event type this aggregate publishes.
    pub const TYPES: &'static [&'static str] = &[
        "member.registered",
        "member.identity_verified",
        "member.verification_lapsed",
        "member.suspended",
        "member.reinstated",
        "member.login_failed",
        "member.logged_in",
        "member.notice_language_chosen",
        "member.auto_pack_set",
        "member.auto_pack_unset",
        "member.auto_ship_set",
        "member.auto_ship_unset",
        "member.auto_ship_used",
        "member.auto_ship_lapsed",
        "member.withdrawal_requested",
        "member.closed",
        "member.auto_closed",
        "member.personal_data_erased",
    ];
}

impl cqrs_es::DomainEvent for MemberEvent {
    fn event_type(&self) -> String {
        let name = match self {
            MemberEvent::Registered { .. } => "member.registered",
            MemberEvent::IdentityVerified { .. } => "member.identity_verified",
            MemberEvent::VerificationLapsed { .. } => "member.verification_lapsed",
            MemberEvent::Suspended { .. } => "member.suspended",
            MemberEvent::Reinstated { .. } => "member.reinstated",
            MemberEvent::LoginFailed { .. } => "member.login_failed",
            MemberEvent::LoggedIn { .. } => "member.logged_in",
            MemberEvent::NoticeLanguageChosen { .. } => "member.notice_language_chosen",
            MemberEvent::AutoPackSet { .. } => "member.auto_pack_set",
            MemberEvent::AutoPackUnset { .. } => "member.auto_pack_unset",
            MemberEvent::AutoShipSet { .. } => "member.auto_ship_set",
            MemberEvent::AutoShipUnset { .. } => "member.auto_ship_unset",
            MemberEvent::AutoShipUsed { .. } => "member.auto_ship_used",
            MemberEvent::AutoShipLapsed { .. } => "member.auto_ship_lapsed",
            MemberEvent::WithdrawalRequested { .. } => "member.withdrawal_requested",
            MemberEvent::Closed { .. } => "member.closed",
            MemberEvent::AutoClosed { .. } => "member.auto_closed",
            MemberEvent::PersonalDataErased { .. } => "member.personal_data_erased",
        };
        name.to_owned()
    }

    fn event_version(&self) -> String {
        crate::upcast::current_version(&self.event_type()).to_owned()
    }
}
