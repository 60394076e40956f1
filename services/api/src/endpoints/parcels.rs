//! Parcel commands (`/v1/parcels`): arrival and expectation (PAR-1..PAR-3), declaration
//! (PAR-4), inspection (INS-1..INS-4), the storage clock (STO-1..STO-3), packing on its own,
//! disposal (DSP-1) and return.
//!
//! `ReserveForConsolidation`, `Pack`, `Release` and `HoldForNonPayment` have no endpoint of
//! their own: the engine issues them inside the consolidation, packing, cancellation and
//! hold use cases, under the shipment's endpoints.

use super::roles::{FINANCE, MEMBER, MEMBER_OR_OPS, MEMBER_OR_STAFF, OPS, STAFF};
use super::{command, Endpoint};
use crate::command::{Call, Collection, Command, NoId, OnParcel, Spec};
use crate::failure::Failure;
use crate::outcome::Created;
use chrono::NaiveDate;
use domain::facts::DeclaredItem;
use domain::ids::{MemberId, ParcelId, SuiteCode};
use domain::measure::{Dimensions, Weight};
use domain::money::Money;
use domain::parcel::{
    CollectOnDelivery, DeclarationSource, Finding, InspectionReport, Parcel, ParcelCommand,
    ParcelEvent, VariationCount,
};
use domain::policy::InspectionLevel;
use engine::use_cases::disposal::{DisposalReason, Disposed};
use engine::use_cases::intake::{
    DeclarationConfirmed, ParcelArrival, ParcelInspected, ParcelReceived,
};
use engine::use_cases::packing::PackingRequested;
use engine::use_cases::storage::{StorageAction, StorageFeesAccrued};
use engine::{EngineError, Executed};
use schemars::JsonSchema;
use serde::Deserialize;

pub(crate) fn endpoints() -> Vec<Endpoint> {
    vec![
        command::<ReceiveParcel>(),
        command::<ExpectParcel>(),
        command::<CancelExpectedParcel>(),
        command::<AttachParcel>(),
        command::<DeclareContents>(),
        command::<ConfirmDeclaration>(),
        command::<InspectParcel>(),
        command::<StoreParcel>(),
        command::<RequestPacking>(),
        command::<SendStorageNotice>(),
        command::<MarkDisposable>(),
        command::<ExtendStorage>(),
        command::<AccrueStorageFee>(),
        command::<DisposeParcel>(),
        command::<ReturnParcel>(),
    ]
}

async fn parcel(
    call: &Call<'_>,
    id: &ParcelId,
    command: ParcelCommand,
) -> Result<Executed<ParcelEvent>, Failure> {
    call.execute::<Parcel>(id.as_str(), command).await
}

/// A box at the door, as the receiving clerk records it (PAR-1, PAR-2, PAR-3). The member is
/// looked up from the label's suite code; without a known one the parcel is unidentified.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReceiveParcel {
    /// The id of an expected parcel (PAR-2); a new id is allocated when absent.
    #[serde(default)]
    parcel_id: Option<ParcelId>,
    /// The label as read (the suite code on it), if readable (PAR-1).
    #[serde(default)]
    label: Option<String>,
    /// Measured weight in grams (PAR-3).
    weight: Weight,
    /// Measured dimensions (PAR-3).
    dimensions: Dimensions,
    /// The shop that sent it, if known (PAR-2).
    #[serde(default)]
    shop: Option<String>,
    /// Money the courier wants at the door, if any (PAR-2).
    #[serde(default)]
    collect_on_delivery: Option<CollectOnDelivery>,
}

impl Command for ReceiveParcel {
    const SPEC: Spec = Spec {
        operation: "receive_parcel",
        path: "/v1/parcels",
        summary:
            "Record a parcel's arrival against the suite code on its label (PAR-1..PAR-3, TIM-2)",
        roles: STAFF,
        creates: Some("parcel_id"),
        errors: &[
            (404, "member.not_found"),
            (422, "account.amount_precision"),
            (422, "account.closed"),
            (422, "account.duplicate_debit"),
            (422, "account.exchange_rate_missing"),
            (422, "account.non_positive_amount"),
            (422, "calendar.not_covered"),
            (422, "parcel.invalid_state"),
            (422, "quarantine.dispose_or_return_only"),
        ],
    };
    type On = Collection;
    type Output = ParcelReceived;

    async fn run(self, call: &Call<'_>, _: NoId) -> Result<Self::Output, Failure> {
        let arrival = ParcelArrival {
            parcel_id: self.parcel_id,
            label: self.label,
            weight: self.weight,
            dimensions: self.dimensions,
            shop: self.shop,
            collect_on_delivery: self.collect_on_delivery,
        };
        Ok(call.engine.receive_parcel(arrival, call.ctx).await?)
    }
}

/// Announces a purchase the warehouse pays the courier for on arrival (PAR-2): the parcel's
/// id is the path's, chosen by the client.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExpectParcel {
    /// The member who bought; a member's token names itself.
    member_id: MemberId,
    /// The approved shop.
    shop: String,
    /// The purchase date: the arrival window counts from it.
    purchased_on: NaiveDate,
}

impl Command for ExpectParcel {
    const SPEC: Spec = Spec {
        operation: "expect_parcel",
        path: "/v1/parcels/{parcel_id}/expect",
        summary: "Announce a proxy-paid purchase from an approved shop (PAR-2)",
        roles: MEMBER_OR_OPS,
        creates: Some("parcel_id"),
        errors: &[
            (403, "auth.other_member"),
            (422, "intake.proxy_payment_unavailable"),
            (422, "intake.shop_not_approved"),
            (422, "parcel.invalid_state"),
            (422, "quarantine.dispose_or_return_only"),
        ],
    };
    const EXISTING: bool = false;
    type On = OnParcel;
    type Output = Created<Executed<ParcelEvent>>;

    async fn run(self, call: &Call<'_>, id: ParcelId) -> Result<Self::Output, Failure> {
        call.may_act_for(&self.member_id)?;
        let command = ParcelCommand::Expect {
            parcel_id: id.clone(),
            member_id: self.member_id,
            shop: self.shop,
            purchased_on: self.purchased_on,
        };
        Ok(Created {
            id: id.to_string(),
            result: parcel(call, &id, command).await?,
        })
    }
}

/// Cancels an expected proxy-paid parcel that did not arrive in time (PAR-2).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CancelExpectedParcel {}

impl Command for CancelExpectedParcel {
    const SPEC: Spec = Spec {
        operation: "cancel_expected_parcel",
        path: "/v1/parcels/{parcel_id}/cancel-expected",
        summary: "Cancel an expected parcel that did not arrive in time (PAR-2)",
        roles: MEMBER_OR_OPS,
        errors: &[
            (422, "intake.too_early_to_cancel"),
            (422, "parcel.invalid_state"),
            (422, "quarantine.dispose_or_return_only"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnParcel;
    type Output = Executed<ParcelEvent>;

    async fn run(self, call: &Call<'_>, id: ParcelId) -> Result<Self::Output, Failure> {
        parcel(call, &id, ParcelCommand::CancelExpected).await
    }
}

/// Attaches an unidentified parcel to the member of a suite code (PAR-1).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AttachParcel {
    /// The member's suite code.
    suite_code: SuiteCode,
}

impl Command for AttachParcel {
    const SPEC: Spec = Spec {
        operation: "attach_parcel",
        path: "/v1/parcels/{parcel_id}/attach-to-member",
        summary: "Attach an unidentified parcel to the member of a suite code (PAR-1, MEM-6)",
        roles: STAFF,
        errors: &[
            (404, "suite_code.not_found"),
            (422, "calendar.not_covered"),
            (422, "parcel.invalid_state"),
            (422, "quarantine.dispose_or_return_only"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnParcel;
    type Output = Executed<ParcelEvent>;

    async fn run(self, call: &Call<'_>, id: ParcelId) -> Result<Self::Output, Failure> {
        Ok(call
            .engine
            .attach_parcel(&id, &self.suite_code, call.ctx)
            .await?)
    }
}

/// Declares the contents (PAR-4); replaces an earlier declaration, which must then be
/// confirmed again.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeclareContents {
    /// The items.
    items: Vec<DeclaredItem>,
    /// Who sent the parcel.
    sender: String,
    /// Who declared.
    source: DeclarationSource,
}

impl Command for DeclareContents {
    const SPEC: Spec = Spec {
        operation: "declare_contents",
        path: "/v1/parcels/{parcel_id}/declare",
        summary: "Declare a parcel's contents (PAR-4)",
        roles: MEMBER_OR_STAFF,
        errors: &[
            (422, "declaration.empty"),
            (422, "declaration.sender_missing"),
            (422, "declaration.zero_quantity"),
            (422, "parcel.invalid_state"),
            (422, "quarantine.dispose_or_return_only"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnParcel;
    type Output = Executed<ParcelEvent>;

    async fn run(self, call: &Call<'_>, id: ParcelId) -> Result<Self::Output, Failure> {
        let command = ParcelCommand::Declare {
            items: self.items,
            sender: self.sender,
            source: self.source,
        };
        parcel(call, &id, command).await
    }
}

/// The member confirms the declaration (PAR-4); an Auto Pack parcel's shipment is then
/// requested (MEM-6).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfirmDeclaration {}

impl Command for ConfirmDeclaration {
    const SPEC: Spec = Spec {
        operation: "confirm_declaration",
        path: "/v1/parcels/{parcel_id}/confirm-declaration",
        summary: "Confirm a parcel's declaration (PAR-4; Auto Pack requests its shipment, MEM-6)",
        roles: MEMBER,
        errors: &[
            (422, "declaration.missing"),
            (422, "parcel.invalid_state"),
            (422, "quarantine.dispose_or_return_only"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnParcel;
    type Output = DeclarationConfirmed;

    async fn run(self, call: &Call<'_>, id: ParcelId) -> Result<Self::Output, Failure> {
        Ok(call.engine.confirm_declaration(&id, call.ctx).await?)
    }
}

/// Records the inspection (INS-1..INS-4); its fees are debited from the member's balance.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct InspectParcel {
    /// The level of the member's plan; absent for the policy's default (INS-1).
    #[serde(default)]
    level: Option<InspectionLevel>,
    /// Units found per variation (INS-1).
    variations: Vec<VariationCount>,
    /// Findings, each with evidence (INS-3).
    #[serde(default)]
    findings: Vec<Finding>,
    /// Categories of goods seen; a prohibited one quarantines the parcel (INS-4).
    #[serde(default)]
    observed_categories: Vec<String>,
    /// The actual cost of the defects of a parcel over the policy's size bound, in the billing
    /// currency: such a parcel is charged it, at least the policy's minimum, instead of the fee
    /// per item (INS-3, cn-agency: over size 100, at least 50 CNY). Required then
    /// (`inspection.oversize_cost_missing`), not read otherwise.
    #[serde(default)]
    oversize_cost: Option<Money>,
}

impl Command for InspectParcel {
    const SPEC: Spec = Spec {
        operation: "inspect_parcel",
        path: "/v1/parcels/{parcel_id}/inspect",
        summary: "Record a parcel's inspection and charge its fees (INS-1..INS-4)",
        roles: STAFF,
        errors: &[
            (422, "account.closed"),
            (422, "account.duplicate_debit"),
            (422, "inspection.finding_incomplete"),
            (422, "inspection.oversize_cost_invalid"),
            (422, "inspection.oversize_cost_missing"),
            (422, "parcel.invalid_state"),
            (422, "quarantine.dispose_or_return_only"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnParcel;
    type Output = ParcelInspected;

    async fn run(self, call: &Call<'_>, id: ParcelId) -> Result<Self::Output, Failure> {
        let report = InspectionReport {
            level: self.level,
            variations: self.variations,
            findings: self.findings,
            observed_categories: self.observed_categories,
            oversize_cost: self.oversize_cost,
        };
        Ok(call.engine.inspect_parcel(&id, report, call.ctx).await?)
    }
}

/// Shelves an inspected parcel; its storage clock starts (STO-1, STO-2).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoreParcel {
    /// Shelf location.
    location: String,
}

impl Command for StoreParcel {
    const SPEC: Spec = Spec {
        operation: "store_parcel",
        path: "/v1/parcels/{parcel_id}/store",
        summary: "Shelve an inspected parcel; its storage clock starts (STO-1, STO-2)",
        roles: STAFF,
        errors: &[
            (422, "parcel.invalid_state"),
            (422, "quarantine.dispose_or_return_only"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnParcel;
    type Output = Executed<ParcelEvent>;

    async fn run(self, call: &Call<'_>, id: ParcelId) -> Result<Self::Output, Failure> {
        Ok(call
            .engine
            .store_parcel(&id, &self.location, call.ctx)
            .await?)
    }
}

/// The member asks for one stored parcel to be packed on its own: a shipment of one.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestPacking {}

impl Command for RequestPacking {
    const SPEC: Spec = Spec {
        operation: "request_packing",
        path: "/v1/parcels/{parcel_id}/request-packing",
        summary:
            "Ask for a stored parcel to be packed on its own: a new shipment (PAR-4, MEM-2, MEM-4)",
        roles: MEMBER,
        creates: Some("shipment_id"),
        errors: &[
            (404, "member.not_found"),
            (422, "declaration.not_confirmed"),
            (422, "member.inactive"),
            (422, "member.suspended"),
            (422, "member.unverified"),
            (422, "parcel.invalid_state"),
            (422, "quarantine.dispose_or_return_only"),
            (422, "request.unprocessable"),
            (422, "shipment.invalid_state"),
        ],
    };
    type On = OnParcel;
    type Output = PackingRequested;

    async fn run(self, call: &Call<'_>, id: ParcelId) -> Result<Self::Output, Failure> {
        let loaded = call.engine.load::<Parcel>(id.as_str()).await?;
        let owner =
            loaded.state.member_id().cloned().ok_or_else(|| {
                EngineError::invalid(format!("parcel {id} belongs to no member yet"))
            })?;
        Ok(call.engine.request_packing(&owner, &id, call.ctx).await?)
    }
}

/// The storage clock's command `$name` (`$action`), with the member's earliest waiting
/// arrival looked up by the engine (STO-1).
macro_rules! storage_clock {
    ($(#[$doc:meta])* $name:ident, $action:expr, $operation:literal, $path:literal, $summary:literal, $roles:expr, $errors:expr) => {
        $(#[$doc])*
        #[derive(Debug, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub(crate) struct $name {}

        impl Command for $name {
            const SPEC: Spec = Spec {
                operation: $operation,
                path: $path,
                summary: $summary,
                roles: $roles,
                errors: $errors,
                ..Spec::DEFAULT
            };
            type On = OnParcel;
            type Output = Executed<ParcelEvent>;

            async fn run(self, call: &Call<'_>, id: ParcelId) -> Result<Self::Output, Failure> {
                Ok(call.engine.storage_clock(&id, $action, call.ctx).await?)
            }
        }
    };
}

storage_clock!(
    /// Sends the storage-limit notice due today, if any (STO-2).
    SendStorageNotice,
    StorageAction::SendNotice,
    "send_storage_notice",
    "/v1/parcels/{parcel_id}/send-storage-notice",
    "Send the storage-limit notice due today (STO-2)",
    OPS,
    &[
        (422, "parcel.invalid_state"),
        (422, "quarantine.dispose_or_return_only"),
        (422, "storage.notice_not_due")
    ]
);
storage_clock!(
    /// Marks a parcel past its maximum storage as disposable (STO-2).
    MarkDisposable,
    StorageAction::MarkDisposable,
    "mark_disposable",
    "/v1/parcels/{parcel_id}/mark-disposable",
    "Mark a parcel past its maximum storage as disposable (STO-2)",
    OPS,
    &[
        (422, "parcel.invalid_state"),
        (422, "quarantine.dispose_or_return_only"),
        (422, "storage.already_disposable"),
        (422, "storage.limit_not_reached"),
        (422, "storage.on_paid_extension")
    ]
);
storage_clock!(
    /// The member takes paid extended storage, before the free limit ends (STO-3).
    ExtendStorage,
    StorageAction::Extend,
    "extend_storage",
    "/v1/parcels/{parcel_id}/extend-storage",
    "Take paid extended storage before the free limit ends (STO-3)",
    MEMBER,
    &[
        (422, "parcel.invalid_state"),
        (422, "quarantine.dispose_or_return_only"),
        (422, "storage.already_extended"),
        (422, "storage.extension_too_late"),
        (422, "storage.extension_unavailable")
    ]
);

/// Accrues the extended-storage fee of every started month and debits it (STO-3).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccrueStorageFee {}

impl Command for AccrueStorageFee {
    const SPEC: Spec = Spec {
        operation: "accrue_storage_fee",
        path: "/v1/parcels/{parcel_id}/accrue-storage-fee",
        summary: "Accrue and debit extended-storage fees, once per month (STO-3)",
        roles: FINANCE,
        errors: &[
            (422, "account.closed"),
            (422, "account.duplicate_debit"),
            (422, "parcel.invalid_state"),
            (422, "quarantine.dispose_or_return_only"),
            (422, "request.unprocessable"),
            (422, "storage.not_extended"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnParcel;
    type Output = StorageFeesAccrued;

    async fn run(self, call: &Call<'_>, id: ParcelId) -> Result<Self::Output, Failure> {
        Ok(call.engine.accrue_storage_fee(&id, call.ctx).await?)
    }
}

/// Why a parcel is disposed of (DSP-1); the engine looks up the fact each cause needs.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Disposal {
    /// Past maximum storage, marked disposable (STO-2).
    PastMaxStorage,
    /// Prohibited, quarantined (INS-4).
    Prohibited,
    /// Left behind at the member's withdrawal (MEM-8).
    LeftAtWithdrawal,
    /// Its shipment is held for an unpaid quote (PAY-2).
    Unpaid,
}

/// Disposes of a parcel for a recorded cause and charges the member the fee (DSP-1).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DisposeParcel {
    /// Why.
    reason: Disposal,
}

impl Command for DisposeParcel {
    const SPEC: Spec = Spec {
        operation: "dispose_parcel",
        path: "/v1/parcels/{parcel_id}/dispose",
        summary: "Dispose of a parcel for a recorded cause and charge its fee (DSP-1)",
        roles: OPS,
        errors: &[
            (404, "member.not_found"),
            (422, "account.closed"),
            (422, "disposal.member_not_withdrawing"),
            (422, "disposal.not_disposable"),
            (422, "disposal.not_quarantined"),
            (422, "disposal.shipment_not_held"),
            (422, "disposal.unpaid_before_storage_limit"),
            (422, "parcel.invalid_state"),
            (422, "quarantine.dispose_or_return_only"),
            (422, "request.unprocessable"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnParcel;
    type Output = Disposed;

    async fn run(self, call: &Call<'_>, id: ParcelId) -> Result<Self::Output, Failure> {
        let reason = match self.reason {
            Disposal::PastMaxStorage => DisposalReason::PastMaxStorage,
            Disposal::Prohibited => DisposalReason::Prohibited,
            Disposal::LeftAtWithdrawal => DisposalReason::LeftAtWithdrawal,
            Disposal::Unpaid => DisposalReason::Unpaid,
        };
        Ok(call.engine.dispose_parcel(&id, reason, call.ctx).await?)
    }
}

/// Returns an unidentified or quarantined parcel to its sender (PAR-1, INS-4).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReturnParcel {
    /// A note for operations.
    note: String,
}

impl Command for ReturnParcel {
    const SPEC: Spec = Spec {
        operation: "return_parcel",
        path: "/v1/parcels/{parcel_id}/return",
        summary: "Return an unidentified or quarantined parcel to its sender (PAR-1, INS-4)",
        roles: STAFF,
        errors: &[(422, "parcel.invalid_state")],
        ..Spec::DEFAULT
    };
    type On = OnParcel;
    type Output = Executed<ParcelEvent>;

    async fn run(self, call: &Call<'_>, id: ParcelId) -> Result<Self::Output, Failure> {
        parcel(call, &id, ParcelCommand::Return { note: self.note }).await
    }
}
