//! Member commands (`/v1/members`): registration (MEM-1, MEM-3), identity (MEM-2), standing
//! (MEM-4, MEM-5), logins, Auto Pack and Auto Ship (MEM-6, MEM-7), withdrawal and refund
//! (MEM-8, ACC-7), closure (MEM-9) and top-up applications (ACC-2, ACC-3).
//!
//! `SuspendForRejectedTopUps`, `RecordAutoShipUse` and `Close` have no endpoint of their own:
//! the engine issues them inside the top-up, quote and refund use cases.

use super::roles::{FINANCE, MEMBER, OPS};
use super::{command, Endpoint};
use crate::command::{Call, Collection, Command, OnMember, Spec};
use crate::failure::Failure;
use chrono::NaiveDate;
use domain::account::{BankDeposit, DeclaredDeposit, RefundRates};
use domain::exchange::ExchangeRate;
use domain::ids::MemberId;
use domain::member::{
    EmailAddress, GuardianConsent, IdentityDocument, Member, MemberCommand, MemberEvent,
    NoticeLanguage, PersonName, SuspensionCause,
};
use domain::money::{Currency, Money};
use engine::use_cases::auto_closure::AutoClosureEvaluated;
use engine::use_cases::erasure::PersonalDataErased;
use engine::use_cases::register::{Registered, Registration};
use engine::use_cases::top_up::{TopUpApplication, TopUpDecided};
use engine::use_cases::withdrawal::{RefundedAndClosed, WithdrawalRequested};
use engine::Executed;
use schemars::JsonSchema;
use serde::Deserialize;

pub(crate) fn endpoints() -> Vec<Endpoint> {
    vec![
        command::<RegisterMember>(),
        command::<VerifyIdentity>(),
        command::<CheckDocumentExpiry>(),
        command::<SuspendMember>(),
        command::<ReinstateMember>(),
        command::<RecordFailedLogin>(),
        command::<RecordSuccessfulLogin>(),
        command::<ChooseNoticeLanguage>(),
        command::<SetAutoPack>(),
        command::<UnsetAutoPack>(),
        command::<SetAutoShip>(),
        command::<UnsetAutoShip>(),
        command::<LapseAutoShip>(),
        command::<RequestWithdrawal>(),
        command::<EvaluateAutoClosure>(),
        command::<ApplyForTopUp>(),
        command::<RefundAndClose>(),
        command::<ErasePersonalData>(),
    ]
}

/// A member command issued as given.
async fn member(
    call: &Call<'_>,
    id: &MemberId,
    command: MemberCommand,
) -> Result<Executed<MemberEvent>, Failure> {
    call.execute::<Member>(id.as_str(), command).await
}

/// Registers a member: a unique suite code, the member, their charge account (MEM-1, MEM-3).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegisterMember {
    /// Full name.
    name: PersonName,
    /// Birth date; a minor needs `guardian_consent` (MEM-3).
    birth_date: NaiveDate,
    /// Contact address.
    email: EmailAddress,
    /// A parent's or guardian's consent, required for a minor (MEM-3).
    #[serde(default)]
    guardian_consent: Option<GuardianConsent>,
    /// The member accepted that the suite address is for forwarding only (MEM-1): `true`, as
    /// a registration without it is refused.
    #[schemars(extend("const" = true))]
    forwarding_only_accepted: bool,
}

impl Command for RegisterMember {
    const SPEC: Spec = Spec {
        operation: "register_member",
        path: "/v1/members",
        summary: "Register a member with a new suite code and charge account (MEM-1, MEM-3)",
        roles: OPS,
        creates: Some("member_id"),
        errors: &[
            (422, "member.birth_date_in_future"),
            (422, "member.guardian_consent_required"),
        ],
    };
    type On = Collection;
    type Output = Registered;

    async fn run(self, call: &Call<'_>, _: crate::command::NoId) -> Result<Registered, Failure> {
        let registration = Registration {
            name: self.name,
            birth_date: self.birth_date,
            email: self.email,
            guardian_consent: self.guardian_consent,
            forwarding_only_accepted: self.forwarding_only_accepted,
        };
        Ok(call.engine.register_member(registration, call.ctx).await?)
    }
}

/// Records an identity document checked today (MEM-2).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VerifyIdentity {
    /// The document and the parts that were checked.
    document: IdentityDocument,
    /// Its last valid day.
    expires_on: NaiveDate,
}

impl Command for VerifyIdentity {
    const SPEC: Spec = Spec {
        operation: "verify_identity",
        path: "/v1/members/{member_id}/verify-identity",
        summary: "Record an identity document checked today (MEM-2)",
        roles: OPS,
        errors: &[
            (422, "member.closed"),
            (422, "member.document_expired"),
            (422, "member.document_incomplete"),
            (422, "member.withdrawing"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnMember;
    type Output = Executed<MemberEvent>;

    async fn run(self, call: &Call<'_>, id: MemberId) -> Result<Self::Output, Failure> {
        let command = MemberCommand::VerifyIdentity {
            document: self.document,
            expires_on: self.expires_on,
        };
        member(call, &id, command).await
    }
}

/// Daily job: records that the verified document has expired, if it has (MEM-2).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckDocumentExpiry {}

impl Command for CheckDocumentExpiry {
    const SPEC: Spec = Spec {
        operation: "check_document_expiry",
        path: "/v1/members/{member_id}/check-document-expiry",
        summary: "Daily job: record that the identity document expired, if it did (MEM-2)",
        roles: OPS,
        ..Spec::DEFAULT
    };
    type On = OnMember;
    type Output = Executed<MemberEvent>;

    async fn run(self, call: &Call<'_>, id: MemberId) -> Result<Self::Output, Failure> {
        member(call, &id, MemberCommand::CheckDocumentExpiry).await
    }
}

/// Suspends a member for a cause, with the reason in words (MEM-5).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SuspendMember {
    /// The cause.
    cause: SuspensionCause,
    /// Why, in words; required.
    reason: String,
}

impl Command for SuspendMember {
    const SPEC: Spec = Spec {
        operation: "suspend_member",
        path: "/v1/members/{member_id}/suspend",
        summary: "Suspend a member for a cause (MEM-4, MEM-5)",
        roles: OPS,
        errors: &[
            (422, "member.already_suspended"),
            (422, "member.closed"),
            (422, "member.reason_missing"),
            (422, "member.withdrawing"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnMember;
    type Output = Executed<MemberEvent>;

    async fn run(self, call: &Call<'_>, id: MemberId) -> Result<Self::Output, Failure> {
        let command = MemberCommand::Suspend {
            cause: self.cause,
            reason: self.reason,
        };
        member(call, &id, command).await
    }
}

/// Lifts every suspension (MEM-4).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReinstateMember {
    /// Why, in words; required.
    reason: String,
}

impl Command for ReinstateMember {
    const SPEC: Spec = Spec {
        operation: "reinstate_member",
        path: "/v1/members/{member_id}/reinstate",
        summary: "Lift every suspension of a member (MEM-4)",
        roles: OPS,
        errors: &[
            (422, "member.closed"),
            (422, "member.not_suspended"),
            (422, "member.reason_missing"),
            (422, "member.withdrawing"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnMember;
    type Output = Executed<MemberEvent>;

    async fn run(self, call: &Call<'_>, id: MemberId) -> Result<Self::Output, Failure> {
        member(
            call,
            &id,
            MemberCommand::Reinstate {
                reason: self.reason,
            },
        )
        .await
    }
}

/// One failed login attempt (MEM-5).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecordFailedLogin {}

impl Command for RecordFailedLogin {
    const SPEC: Spec = Spec {
        operation: "record_failed_login",
        path: "/v1/members/{member_id}/record-failed-login",
        summary: "Record a failed login; too many in a row suspend the member (MEM-5)",
        roles: OPS,
        errors: &[(422, "member.closed")],
        ..Spec::DEFAULT
    };
    type On = OnMember;
    type Output = Executed<MemberEvent>;

    async fn run(self, call: &Call<'_>, id: MemberId) -> Result<Self::Output, Failure> {
        member(call, &id, MemberCommand::RecordFailedLogin).await
    }
}

/// One successful login (MEM-5, MEM-9).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecordSuccessfulLogin {}

impl Command for RecordSuccessfulLogin {
    const SPEC: Spec = Spec {
        operation: "record_successful_login",
        path: "/v1/members/{member_id}/record-successful-login",
        summary: "Record a successful login (MEM-5, MEM-9)",
        roles: OPS,
        errors: &[(422, "member.closed")],
        ..Spec::DEFAULT
    };
    type On = OnMember;
    type Output = Executed<MemberEvent>;

    async fn run(self, call: &Call<'_>, id: MemberId) -> Result<Self::Output, Failure> {
        member(call, &id, MemberCommand::RecordSuccessfulLogin).await
    }
}

/// Chooses the language the member's notices are worded in (#12); until then, the server's.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChooseNoticeLanguage {
    /// `ja` or `en`.
    language: NoticeLanguage,
}

impl Command for ChooseNoticeLanguage {
    const SPEC: Spec = Spec {
        operation: "choose_notice_language",
        path: "/v1/members/{member_id}/notice-language",
        summary: "Choose the language the member's notices are worded in: ja or en",
        roles: MEMBER,
        errors: &[(422, "member.closed")],
        ..Spec::DEFAULT
    };
    type On = OnMember;
    type Output = Executed<MemberEvent>;

    async fn run(self, call: &Call<'_>, id: MemberId) -> Result<Self::Output, Failure> {
        let command = MemberCommand::ChooseNoticeLanguage {
            language: self.language,
        };
        member(call, &id, command).await
    }
}

/// Turns Auto Pack on (MEM-6).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetAutoPack {}

impl Command for SetAutoPack {
    const SPEC: Spec = Spec {
        operation: "set_auto_pack",
        path: "/v1/members/{member_id}/set-auto-pack",
        summary: "Turn Auto Pack on: each arriving parcel is packed on its own (MEM-6)",
        roles: MEMBER,
        errors: &[
            (422, "member.closed"),
            (422, "member.suspended"),
            (422, "member.withdrawing"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnMember;
    type Output = Executed<MemberEvent>;

    async fn run(self, call: &Call<'_>, id: MemberId) -> Result<Self::Output, Failure> {
        member(call, &id, MemberCommand::SetAutoPack).await
    }
}

/// Turns Auto Pack off (MEM-6).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UnsetAutoPack {}

impl Command for UnsetAutoPack {
    const SPEC: Spec = Spec {
        operation: "unset_auto_pack",
        path: "/v1/members/{member_id}/unset-auto-pack",
        summary: "Turn Auto Pack off (MEM-6)",
        roles: MEMBER,
        errors: &[(422, "member.closed")],
        ..Spec::DEFAULT
    };
    type On = OnMember;
    type Output = Executed<MemberEvent>;

    async fn run(self, call: &Call<'_>, id: MemberId) -> Result<Self::Output, Failure> {
        member(call, &id, MemberCommand::UnsetAutoPack).await
    }
}

/// Turns Auto Ship on, or changes its limit (MEM-7).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetAutoShip {
    /// Highest quote paid without asking, per shipment, in the billing currency.
    limit: Money,
}

impl Command for SetAutoShip {
    const SPEC: Spec = Spec {
        operation: "set_auto_ship",
        path: "/v1/members/{member_id}/set-auto-ship",
        summary: "Turn Auto Ship on with a limit per shipment (MEM-7)",
        roles: MEMBER,
        errors: &[
            (422, "member.auto_ship_limit_currency"),
            (422, "member.auto_ship_limit_not_positive"),
            (422, "member.closed"),
            (422, "member.suspended"),
            (422, "member.withdrawing"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnMember;
    type Output = Executed<MemberEvent>;

    async fn run(self, call: &Call<'_>, id: MemberId) -> Result<Self::Output, Failure> {
        member(call, &id, MemberCommand::SetAutoShip { limit: self.limit }).await
    }
}

/// Turns Auto Ship off (MEM-7).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UnsetAutoShip {}

impl Command for UnsetAutoShip {
    const SPEC: Spec = Spec {
        operation: "unset_auto_ship",
        path: "/v1/members/{member_id}/unset-auto-ship",
        summary: "Turn Auto Ship off (MEM-7)",
        roles: MEMBER,
        errors: &[(422, "member.closed")],
        ..Spec::DEFAULT
    };
    type On = OnMember;
    type Output = Executed<MemberEvent>;

    async fn run(self, call: &Call<'_>, id: MemberId) -> Result<Self::Output, Failure> {
        member(call, &id, MemberCommand::UnsetAutoShip).await
    }
}

/// Daily job: records that Auto Ship has lapsed, if it has (MEM-7).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LapseAutoShip {}

impl Command for LapseAutoShip {
    const SPEC: Spec = Spec {
        operation: "lapse_auto_ship",
        path: "/v1/members/{member_id}/lapse-auto-ship",
        summary: "Daily job: record that Auto Ship lapsed, if it did (MEM-7)",
        roles: OPS,
        ..Spec::DEFAULT
    };
    type On = OnMember;
    type Output = Executed<MemberEvent>;

    async fn run(self, call: &Call<'_>, id: MemberId) -> Result<Self::Output, Failure> {
        member(call, &id, MemberCommand::LapseAutoShip).await
    }
}

/// The member asks to withdraw: stored parcels are destroyed at the per-item fee and the
/// refund of the balance is scheduled (MEM-8, ACC-7).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestWithdrawal {}

impl Command for RequestWithdrawal {
    const SPEC: Spec = Spec {
        operation: "request_withdrawal",
        path: "/v1/members/{member_id}/request-withdrawal",
        summary:
            "Withdraw: stored parcels destroyed, the balance's refund scheduled (MEM-8, ACC-7)",
        roles: MEMBER,
        errors: &[(422, "member.already_withdrawing"), (422, "member.closed")],
        ..Spec::DEFAULT
    };
    type On = OnMember;
    type Output = WithdrawalRequested;

    async fn run(self, call: &Call<'_>, id: MemberId) -> Result<Self::Output, Failure> {
        Ok(call.engine.request_withdrawal(&id, call.ctx).await?)
    }
}

/// Daily job: closes the member if a closure condition of the policy holds (MEM-9), on the
/// charge account's facts, which the engine looks up.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EvaluateAutoClosure {
    /// The first day of the balance's current run below zero (the billing view's), needed
    /// only when the balance is negative: the account's events do not date it.
    #[serde(default)]
    negative_since: Option<NaiveDate>,
}

impl Command for EvaluateAutoClosure {
    const SPEC: Spec = Spec {
        operation: "evaluate_auto_closure",
        path: "/v1/members/{member_id}/evaluate-auto-closure",
        summary: "Daily job: close the member if a closure condition holds (MEM-9); money left \
                  on the account is refunded (ACC-7)",
        roles: OPS,
        errors: &[(422, "request.unprocessable")],
        ..Spec::DEFAULT
    };
    type On = OnMember;
    type Output = AutoClosureEvaluated;

    async fn run(self, call: &Call<'_>, id: MemberId) -> Result<Self::Output, Failure> {
        Ok(call
            .engine
            .evaluate_auto_closure(&id, self.negative_since, call.ctx)
            .await?)
    }
}

/// A member's top-up application, decided against the bank's record the operator matched
/// to it (ACC-2); the policy's count of rejections in a row suspends the member (ACC-3).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApplyForTopUp {
    /// What the member declared.
    declared: DeclaredDeposit,
    /// The bank's record of the deposit, if finance found one.
    #[serde(default)]
    deposit: Option<BankDeposit>,
    /// The reference rate of the day, when the deposit is in another currency (MON-3).
    #[serde(default)]
    rate: Option<ExchangeRate>,
}

impl Command for ApplyForTopUp {
    const SPEC: Spec = Spec {
        operation: "apply_for_top_up",
        path: "/v1/members/{member_id}/top-up-applications",
        summary: "Decide a member's top-up application against the bank's record (ACC-2, ACC-3)",
        roles: FINANCE,
        errors: &[
            (422, "account.amount_precision"),
            (422, "account.closed"),
            (422, "account.exchange_rate_missing"),
            (422, "account.exchange_rate_stale"),
            (422, "account.exchange_rate_unusable"),
            (422, "account.non_positive_amount"),
            (422, "member.closed"),
            (422, "member.withdrawing"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnMember;
    type Output = TopUpDecided;

    async fn run(self, call: &Call<'_>, id: MemberId) -> Result<Self::Output, Failure> {
        let application = TopUpApplication {
            declared: self.declared,
            deposit: self.deposit,
            rate: self.rate,
        };
        Ok(call
            .engine
            .apply_for_top_up(&id, application, call.ctx)
            .await?)
    }
}

/// Pays a withdrawing member's whole balance back and closes the member (ACC-7, MEM-8).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefundAndClose {
    /// The currency paid out.
    payout_currency: Currency,
    /// The two reference rates of MON-3, needed only when converting.
    #[serde(default)]
    rates: Option<RefundRates>,
}

impl Command for RefundAndClose {
    const SPEC: Spec = Spec {
        operation: "refund_and_close",
        path: "/v1/members/{member_id}/refund-and-close",
        summary: "Pay a withdrawing member's balance back and close the member (ACC-7, MEM-8)",
        roles: FINANCE,
        errors: &[
            (422, "account.closed"),
            (422, "account.exchange_rate_missing"),
            (422, "account.exchange_rate_unusable"),
            (422, "account.refund_not_due"),
            (422, "account.refund_of_debt"),
            (422, "account.refund_rate_month"),
            (422, "account.refund_without_withdrawal"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnMember;
    type Output = RefundedAndClosed;

    async fn run(self, call: &Call<'_>, id: MemberId) -> Result<Self::Output, Failure> {
        Ok(call
            .engine
            .refund_and_close(&id, self.payout_currency, self.rates, call.ctx)
            .await?)
    }
}

/// Erases a closed member's personal data once the policy's retention period has passed: the
/// member's key is deleted, so their name, birth date, e-mail and payer names can no longer be
/// read anywhere; every event stays and the chain still verifies (issue #10).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ErasePersonalData {}

impl Command for ErasePersonalData {
    const SPEC: Spec = Spec {
        operation: "erase_personal_data",
        path: "/v1/members/{member_id}/erase-personal-data",
        summary:
            "Erase a closed member's personal data after the retention period (crypto-shredding)",
        roles: OPS,
        errors: &[
            (422, "member.not_closed"),
            (422, "member.personal_data_already_erased"),
            (422, "member.retention_not_passed"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnMember;
    type Output = PersonalDataErased;

    async fn run(self, call: &Call<'_>, id: MemberId) -> Result<Self::Output, Failure> {
        Ok(call.engine.erase_personal_data(&id, call.ctx).await?)
    }
}
