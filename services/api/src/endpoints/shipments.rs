//! Shipment commands (`/v1/shipments`): consolidation (CON-1..CON-3), packing (CON-4),
//! quote and payment (FEE-1..FEE-3, PAY-1, PAY-2, MEM-7), cancellation (CON-5), shipping and
//! tracking (SHP-1, SHP-2) and claims (CLM-1..CLM-6).
//!
//! `RequestPacking` is the parcel's `request-packing` endpoint, which creates the shipment;
//! the parcel's reservations, packing, release and hold happen inside these use cases.

use super::roles::{FINANCE, MEMBER, MEMBER_OR_OPS, MEMBER_OR_STAFF, OPS, STAFF, STAFF_OR_OPS};
use super::{command, Endpoint};
use crate::command::{Call, Collection, Command, NoId, OnShipment, Spec};
use crate::failure::{not_found, ownerless, Failure};
use crate::outcome::Created;
use chrono::NaiveDate;
use domain::exchange::ExchangeRate;
use domain::ids::{ClaimId, MemberId, ParcelId, ShipmentId};
use domain::measure::{Dimensions, Weight};
use domain::money::Money;
use domain::parcel::Parcel;
use domain::shipment::{
    ClaimType, ClaimedItem, DutyPayment, Evidence, PaymentMethod, Shipment, ShipmentCommand,
    ShipmentEvent, TrackingNumber, TrackingStatus,
};
use engine::use_cases::claims::ClaimPaid;
use engine::use_cases::consolidate::Consolidated;
use engine::use_cases::follow::{Advanced, Shipped, Shipping};
use engine::use_cases::packing::{Packed, Packing};
use engine::use_cases::payment::{Paid, Payment, QuoteRequest, Quoted};
use engine::use_cases::return_to_origin::{RedeliveryCharged, ReturnAbandoned, ReturnReceived};
use engine::use_cases::shipment_flow::ShipmentClosed;
use engine::{EngineError, Executed};
use schemars::JsonSchema;
use serde::Deserialize;
use web::auth::Role;

pub(crate) fn endpoints() -> Vec<Endpoint> {
    vec![
        command::<Consolidate>(),
        command::<RecordPacking>(),
        command::<QuoteShipment>(),
        command::<PayShipment>(),
        command::<HoldUnpaid>(),
        command::<RemindPayment>(),
        command::<SendDunningNotice>(),
        command::<CancelShipment>(),
        command::<ShipShipment>(),
        command::<RecordTracking>(),
        command::<ReceiveReturn>(),
        command::<ChooseDutyPayment>(),
        command::<ChargeRedelivery>(),
        command::<AbandonReturn>(),
        command::<FileClaim>(),
        command::<AddClaimEvidence>(),
        command::<RespondToClaim>(),
        command::<EscalateClaim>(),
        command::<WithdrawClaim>(),
        command::<RejectClaim>(),
        command::<ApproveClaim>(),
        command::<AcceptExchange>(),
        command::<RecordExchangeItemReceived>(),
        command::<LapseExchange>(),
    ]
}

async fn shipment(
    call: &Call<'_>,
    id: &ShipmentId,
    command: ShipmentCommand,
) -> Result<Executed<ShipmentEvent>, Failure> {
    call.execute::<Shipment>(id.as_str(), command).await
}

/// A shipment command whose parcels record it too: each parcel's stream tells its whole life.
async fn advance(
    call: &Call<'_>,
    id: &ShipmentId,
    command: ShipmentCommand,
) -> Result<Advanced, Failure> {
    Ok(call.engine.advance_shipment(id, command, call.ctx).await?)
}

/// The member asks for stored parcels to be packed as one shipment (CON-1..CON-3, MEM-2,
/// MEM-4, MEM-6). Of two consolidations racing for a parcel exactly one succeeds.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Consolidate {
    /// The parcels, all the member's own, stored (the policy sets how many at least: CON-1).
    #[schemars(length(min = 1))]
    parcel_ids: Vec<ParcelId>,
}

impl Command for Consolidate {
    const SPEC: Spec = Spec {
        operation: "consolidate",
        path: "/v1/shipments",
        summary: "Consolidate stored parcels into one new shipment (CON-1..CON-3, MEM-2)",
        roles: MEMBER,
        creates: Some("shipment_id"),
        errors: &[
            (403, "auth.other_member"),
            (404, "member.not_found"),
            (404, "parcel.not_found"),
            (422, "consolidation.auto_pack"),
            (422, "consolidation.duplicate_parcel"),
            (422, "consolidation.other_member"),
            (422, "consolidation.parcel_not_stored"),
            (422, "consolidation.parcel_taken"),
            (422, "consolidation.too_few_parcels"),
            (422, "consolidation.value_limit"),
            (422, "consolidation.weight_limit"),
            (422, "declaration.not_confirmed"),
            (422, "member.may_not_request"),
            (422, "money.currency_mismatch"),
            (422, "quarantine.dispose_or_return_only"),
            (422, "request.unprocessable"),
        ],
    };
    type On = Collection;
    type Output = Consolidated;

    async fn run(self, call: &Call<'_>, _: NoId) -> Result<Self::Output, Failure> {
        let mut owners: Vec<MemberId> = Vec::new();
        for parcel_id in &self.parcel_ids {
            let loaded = call.engine.load::<Parcel>(parcel_id.as_str()).await?;
            if loaded.version == 0 {
                return Err(not_found("parcel", parcel_id.as_str()).into());
            }
            match loaded.state.member_id() {
                Some(owner) => {
                    call.may_act_for(owner)?;
                    owners.push(owner.clone());
                }
                None if call.caller.role == Role::Member => return Err(ownerless("parcel").into()),
                None => {}
            }
        }
        let member = match (&call.caller.member_id, owners.first()) {
            (Some(own), _) => own.clone(),
            (None, Some(owner)) => owner.clone(),
            (None, None) => {
                return Err(EngineError::invalid("the parcels belong to no member").into())
            }
        };
        Ok(call
            .engine
            .consolidate(&member, &self.parcel_ids, call.ctx)
            .await?)
    }
}

/// The warehouse records the packed shipment as measured; each parcel is packed into it (CON-4).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecordPacking {
    /// Carrier code of the tariff it was packed for.
    carrier: String,
    /// Measured weight in grams.
    weight: Weight,
    /// Measured outer dimensions.
    dimensions: Dimensions,
}

impl Command for RecordPacking {
    const SPEC: Spec = Spec {
        operation: "record_packing",
        path: "/v1/shipments/{shipment_id}/record-packing",
        summary: "Record a shipment as packed and measured; its parcels are packed (CON-4)",
        roles: STAFF,
        errors: &[
            (422, "declaration.not_confirmed"),
            (422, "inspection.pending"),
            (422, "parcel.invalid_state"),
            (422, "quarantine.dispose_or_return_only"),
            (422, "shipment.invalid_state"),
            (422, "tariff.unknown_carrier"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnShipment;
    type Output = Packed;

    async fn run(self, call: &Call<'_>, id: ShipmentId) -> Result<Self::Output, Failure> {
        let packing = Packing {
            carrier: self.carrier,
            weight: self.weight,
            dimensions: self.dimensions,
        };
        Ok(call.engine.record_packing(&id, packing, call.ctx).await?)
    }
}

/// Quotes a packed shipment for a carrier and destination; within the member's Auto Ship
/// limit it is paid from the balance at once (FEE-1..FEE-3, MEM-7).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct QuoteShipment {
    /// Carrier code of the tariff.
    carrier: String,
    /// Destination country, ISO 3166 alpha-2.
    destination: String,
    /// Packing options by code.
    #[serde(default)]
    options: Vec<String>,
    /// Amount to insure (FEE-3).
    #[serde(default)]
    insurance: Option<Money>,
    /// Buy the warranty add-on (FEE-2).
    #[serde(default)]
    warranty: bool,
}

impl Command for QuoteShipment {
    const SPEC: Spec = Spec {
        operation: "quote_shipment",
        path: "/v1/shipments/{shipment_id}/quote",
        summary:
            "Quote a packed shipment; Auto Ship pays it within the limit (FEE-1..FEE-3, MEM-7)",
        roles: MEMBER_OR_STAFF,
        errors: &[
            (422, "money.currency_mismatch"),
            (422, "quote.duplicate_option"),
            (422, "quote.invalid_insured_amount"),
            (422, "quote.unknown_option"),
            (422, "quote.warranty_not_offered"),
            (422, "shipment.invalid_state"),
            (422, "tariff.destination_not_served"),
            (422, "tariff.unknown_carrier"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnShipment;
    type Output = Quoted;

    async fn run(self, call: &Call<'_>, id: ShipmentId) -> Result<Self::Output, Failure> {
        let quote = QuoteRequest {
            carrier: self.carrier,
            destination: self.destination,
            options: self.options,
            insurance: self.insurance,
            warranty: self.warranty,
        };
        Ok(call.engine.quote(&id, quote, call.ctx).await?)
    }
}

/// The member pays the quote: from the balance (debit first, credited back if the shipment
/// then refuses), or by card or PayPal as confirmed by the provider (PAY-1, ACC-4, ACC-5).
/// Of two payments racing for a shipment exactly one succeeds.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PayShipment {
    /// Balance, card or PayPal (`auto_ship` pays at quote time only).
    method: PaymentMethod,
    /// The quote total, plus the PayPal fee when PayPal processes the method (PayPal, and card
    /// where the policy's `paypal_processed_methods` lists it, ACC-5).
    amount: Money,
    /// Converts the PayPal fixed fee when it is in another currency (MON-2).
    #[serde(default)]
    exchange_rate: Option<ExchangeRate>,
}

impl Command for PayShipment {
    const SPEC: Spec = Spec {
        operation: "pay_shipment",
        path: "/v1/shipments/{shipment_id}/pay",
        summary: "Pay a quoted shipment; exactly one of racing payments succeeds (PAY-1, ACC-4)",
        roles: MEMBER,
        errors: &[
            (422, "account.duplicate_debit"),
            (422, "account.insufficient_balance"),
            (422, "member.inactive"),
            (422, "member.suspended"),
            (422, "member.unverified"),
            (422, "payment.already_paid"),
            (422, "payment.amount_mismatch"),
            (422, "payment.exchange_rate_required"),
            (422, "payment.exchange_rate_stale"),
            (422, "payment.exchange_rate_unusable"),
            (422, "payment.parcels_disposed"),
            (422, "request.unprocessable"),
            (422, "shipment.invalid_state"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnShipment;
    type Output = Paid;

    async fn run(self, call: &Call<'_>, id: ShipmentId) -> Result<Self::Output, Failure> {
        let payment = Payment {
            method: self.method,
            amount: self.amount,
            exchange_rate: self.exchange_rate,
        };
        Ok(call.engine.pay(&id, payment, call.ctx).await?)
    }
}

/// Holds a shipment whose quote is unpaid past its due date, and its parcels (PAY-2).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HoldUnpaid {}

impl Command for HoldUnpaid {
    const SPEC: Spec = Spec {
        operation: "hold_unpaid",
        path: "/v1/shipments/{shipment_id}/hold-unpaid",
        summary: "Hold a shipment unpaid past its quote's due date, and its parcels (PAY-2)",
        roles: OPS,
        errors: &[
            (422, "payment.not_yet_due"),
            (422, "shipment.invalid_state"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnShipment;
    type Output = ShipmentClosed;

    async fn run(self, call: &Call<'_>, id: ShipmentId) -> Result<Self::Output, Failure> {
        Ok(call.engine.hold_unpaid(&id, call.ctx).await?)
    }
}

/// Reminds the member of a quote unpaid on its due date (ACC-6, first step of dunning).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RemindPayment {}

impl Command for RemindPayment {
    const SPEC: Spec = Spec {
        operation: "remind_payment",
        path: "/v1/shipments/{shipment_id}/remind-payment",
        summary: "Remind the member of a quote unpaid on its due date (ACC-6)",
        roles: OPS,
        errors: &[
            (422, "dunning.already_reminded"),
            (422, "dunning.notice_already_sent"),
            (422, "dunning.reminder_not_yet_due"),
            (422, "payment.already_paid"),
            (422, "shipment.invalid_state"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnShipment;
    type Output = Executed<ShipmentEvent>;

    async fn run(self, call: &Call<'_>, id: ShipmentId) -> Result<Self::Output, Failure> {
        shipment(call, &id, ShipmentCommand::RemindPayment).await
    }
}

/// Sends the dunning notice of a quote still unpaid a week after the reminder, with its
/// deadline; late interest runs from the day after it (ACC-6).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SendDunningNotice {}

impl Command for SendDunningNotice {
    const SPEC: Spec = Spec {
        operation: "send_dunning_notice",
        path: "/v1/shipments/{shipment_id}/send-dunning-notice",
        summary: "Send the dunning notice of a quote unpaid a week after its reminder (ACC-6)",
        roles: OPS,
        errors: &[
            (422, "dunning.not_reminded"),
            (422, "dunning.notice_already_sent"),
            (422, "dunning.notice_not_yet_due"),
            (422, "payment.already_paid"),
            (422, "shipment.invalid_state"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnShipment;
    type Output = Executed<ShipmentEvent>;

    async fn run(self, call: &Call<'_>, id: ShipmentId) -> Result<Self::Output, Failure> {
        shipment(call, &id, ShipmentCommand::SendDunningNotice).await
    }
}

/// Cancels a shipment until it is paid; its parcels go back to storage (CON-5).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CancelShipment {
    /// Why.
    reason: String,
}

impl Command for CancelShipment {
    const SPEC: Spec = Spec {
        operation: "cancel_shipment",
        path: "/v1/shipments/{shipment_id}/cancel",
        summary: "Cancel an unpaid shipment; its parcels return to storage (CON-5)",
        roles: MEMBER_OR_OPS,
        errors: &[
            (422, "cancellation.after_payment"),
            (422, "shipment.invalid_state"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnShipment;
    type Output = ShipmentClosed;

    async fn run(self, call: &Call<'_>, id: ShipmentId) -> Result<Self::Output, Failure> {
        Ok(call
            .engine
            .cancel_shipment(&id, &self.reason, call.ctx)
            .await?)
    }
}

/// The warehouse hands a paid shipment to the carrier (SHP-1).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShipShipment {
    /// Carrier code; must be the carrier quoted.
    carrier: String,
    /// The carrier's service (`EMS`).
    service: String,
    /// The tracking number, letters in either case (kept upper-cased).
    #[schemars(with = "String", extend("pattern" = "^[A-Za-z0-9]{1,40}$"))]
    tracking_number: TrackingNumber,
    /// Value declared to customs (for sea freight whose duty is advanced, the taxable value
    /// that prices the advance, ACC-8).
    declared_value: Money,
    /// The reference rate, when the duty advance's fee or minimum is in another currency
    /// than the account's (MON-2).
    #[serde(default)]
    exchange_rate: Option<ExchangeRate>,
}

impl Command for ShipShipment {
    const SPEC: Spec = Spec {
        operation: "ship_shipment",
        path: "/v1/shipments/{shipment_id}/ship",
        summary: "Hand a paid shipment to its carrier with a tracking number (SHP-1)",
        roles: STAFF,
        errors: &[
            (422, "account.closed"),
            (422, "account.currency_mismatch"),
            (422, "account.duplicate_debit"),
            (422, "account.duty_advance_min_balance"),
            (422, "account.exchange_rate_missing"),
            (422, "account.exchange_rate_stale"),
            (422, "account.exchange_rate_unusable"),
            (422, "account.insufficient_balance"),
            (422, "duty.sea_freight_advance_only"),
            (422, "request.unprocessable"),
            (422, "shipment.invalid_state"),
            (422, "shipping.carrier_not_quoted"),
            (422, "shipping.invalid_declared_value"),
            (422, "shipping.not_paid"),
            (422, "shipping.service_required"),
            (422, "shipping.unknown_carrier"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnShipment;
    type Output = Shipped;

    async fn run(self, call: &Call<'_>, id: ShipmentId) -> Result<Self::Output, Failure> {
        let shipping = Shipping {
            carrier: self.carrier,
            service: self.service,
            tracking_number: self.tracking_number,
            declared_value: self.declared_value,
            exchange_rate: self.exchange_rate,
        };
        Ok(call.engine.ship(&id, shipping, call.ctx).await?)
    }
}

/// A carrier tracking update (SHP-2): delivered, held by customs, returned, lost.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecordTracking {
    /// What tracking reports.
    status: TrackingStatus,
    /// The date of the tracking event.
    on: NaiveDate,
    /// Free text from the carrier.
    #[serde(default)]
    note: Option<String>,
}

impl Command for RecordTracking {
    const SPEC: Spec = Spec {
        operation: "record_tracking",
        path: "/v1/shipments/{shipment_id}/record-tracking",
        summary: "Record a carrier tracking update (SHP-2)",
        roles: STAFF_OR_OPS,
        errors: &[
            (422, "shipment.invalid_state"),
            (422, "tracking.date_out_of_range"),
            (422, "tracking.not_in_transit"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnShipment;
    type Output = Advanced;

    async fn run(self, call: &Call<'_>, id: ShipmentId) -> Result<Self::Output, Failure> {
        let command = ShipmentCommand::RecordTracking {
            status: self.status,
            on: self.on,
            note: self.note,
        };
        advance(call, &id, command).await
    }
}

/// The shipment the carrier sent back reached the warehouse (SHP-2): it re-enters storage,
/// its clock running again, and its return cost is charged to the member.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReceiveReturn {
    /// What the return cost, as the carrier billed it, in the billing currency.
    return_cost: Money,
}

impl Command for ReceiveReturn {
    const SPEC: Spec = Spec {
        operation: "receive_return",
        path: "/v1/shipments/{shipment_id}/receive-return",
        summary: "Receive a shipment sent back to the warehouse; charge its return cost (SHP-2)",
        roles: STAFF_OR_OPS,
        errors: &[
            (422, "account.amount_precision"),
            (422, "account.closed"),
            (422, "account.duplicate_debit"),
            (422, "request.unprocessable"),
            (422, "return.invalid_cost"),
            (422, "shipment.invalid_state"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnShipment;
    type Output = ReturnReceived;

    async fn run(self, call: &Call<'_>, id: ShipmentId) -> Result<Self::Output, Failure> {
        Ok(call
            .engine
            .receive_return(&id, self.return_cost, call.ctx)
            .await?)
    }
}

/// The recipient did not receive the shipment and it is redelivered abroad (SHP-2): what the
/// carrier or broker billed, at least the policy's minimum, is charged to the member.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChargeRedelivery {
    /// What the redelivery cost, as billed, in the billing currency.
    cost: Money,
}

impl Command for ChargeRedelivery {
    const SPEC: Spec = Spec {
        operation: "charge_redelivery",
        path: "/v1/shipments/{shipment_id}/charge-redelivery",
        summary: "Charge a redelivery abroad: its cost, at least the policy's minimum (SHP-2)",
        roles: STAFF_OR_OPS,
        errors: &[
            (422, "account.amount_precision"),
            (422, "account.closed"),
            (422, "account.duplicate_debit"),
            (422, "redelivery.invalid_cost"),
            (422, "redelivery.not_offered"),
            (422, "request.unprocessable"),
            (422, "shipment.invalid_state"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnShipment;
    type Output = RedeliveryCharged;

    async fn run(self, call: &Call<'_>, id: ShipmentId) -> Result<Self::Output, Failure> {
        Ok(call
            .engine
            .charge_redelivery(&id, self.cost, call.ctx)
            .await?)
    }
}

/// The member chooses, before dispatch, how the import duty is paid (ACC-8): by the recipient
/// on delivery (the default) or advanced by the warehouse, charged when customs bills it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChooseDutyPayment {
    /// `recipient_on_delivery` or `advance`.
    payment: DutyPayment,
}

impl Command for ChooseDutyPayment {
    const SPEC: Spec = Spec {
        operation: "choose_duty_payment",
        path: "/v1/shipments/{shipment_id}/choose-duty-payment",
        summary: "Choose before dispatch how import duty is paid: on delivery or advanced (ACC-8)",
        roles: MEMBER_OR_OPS,
        errors: &[
            (422, "duty.after_dispatch"),
            (422, "duty.sea_freight_advance_only"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnShipment;
    type Output = Executed<ShipmentEvent>;

    async fn run(self, call: &Call<'_>, id: ShipmentId) -> Result<Self::Output, Failure> {
        let command = ShipmentCommand::ChooseDutyPayment {
            payment: self.payment,
        };
        shipment(call, &id, command).await
    }
}

/// The member has a shipment that came back disposed of instead of re-shipped (SHP-2); to
/// re-ship it, quote it again.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AbandonReturn {}

impl Command for AbandonReturn {
    const SPEC: Spec = Spec {
        operation: "abandon_return",
        path: "/v1/shipments/{shipment_id}/abandon-return",
        summary: "Have a shipment that came back disposed of rather than re-shipped (SHP-2, DSP-1)",
        roles: MEMBER_OR_OPS,
        errors: &[(422, "shipment.invalid_state")],
        ..Spec::DEFAULT
    };
    type On = OnShipment;
    type Output = ReturnAbandoned;

    async fn run(self, call: &Call<'_>, id: ShipmentId) -> Result<Self::Output, Failure> {
        Ok(call.engine.abandon_return(&id, call.ctx).await?)
    }
}

/// The member files a claim, with the id the client chose for it (CLM-1, CLM-2, FEE-2).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileClaim {
    /// The new claim's id.
    claim_id: ClaimId,
    /// What went wrong.
    claim_type: ClaimType,
    /// The evidence so far.
    evidence: Evidence,
    /// The item concerned (required for defect, missing item, wrong item).
    #[serde(default)]
    item: Option<ClaimedItem>,
    /// Filed under the warranty add-on.
    #[serde(default)]
    under_warranty: bool,
}

impl Command for FileClaim {
    const SPEC: Spec = Spec {
        operation: "file_claim",
        path: "/v1/shipments/{shipment_id}/file-claim",
        summary: "File a claim on a shipment (CLM-1, CLM-2)",
        roles: MEMBER,
        creates: Some("claim_id"),
        errors: &[
            (422, "calendar.not_covered"),
            (422, "claim.duplicate_id"),
            (422, "claim.invalid_item"),
            (422, "claim.item_required"),
            (422, "claim.needs_delivery"),
            (422, "claim.no_warranty"),
            (422, "claim.not_shipped"),
            (422, "claim.warranty_window_closed"),
            (422, "claim.window_closed"),
        ],
    };
    type On = OnShipment;
    type Output = Created<Advanced>;

    async fn run(self, call: &Call<'_>, id: ShipmentId) -> Result<Self::Output, Failure> {
        let claim_id = self.claim_id.to_string();
        let command = ShipmentCommand::FileClaim {
            claim_id: self.claim_id,
            claim_type: self.claim_type,
            evidence: self.evidence,
            item: self.item,
            under_warranty: self.under_warranty,
        };
        Ok(Created {
            id: claim_id,
            result: advance(call, &id, command).await?,
        })
    }
}

/// The member adds evidence to a claim (CLM-1).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AddClaimEvidence {
    /// The claim.
    claim_id: ClaimId,
    /// The evidence added.
    evidence: Evidence,
}

impl Command for AddClaimEvidence {
    const SPEC: Spec = Spec {
        operation: "add_claim_evidence",
        path: "/v1/shipments/{shipment_id}/add-claim-evidence",
        summary: "Add evidence to a claim (CLM-1)",
        roles: MEMBER,
        errors: &[
            (404, "claim.not_found"),
            (422, "claim.closed"),
            (422, "claim.empty_evidence"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnShipment;
    type Output = Executed<ShipmentEvent>;

    async fn run(self, call: &Call<'_>, id: ShipmentId) -> Result<Self::Output, Failure> {
        let command = ShipmentCommand::AddClaimEvidence {
            claim_id: self.claim_id,
            evidence: self.evidence,
        };
        shipment(call, &id, command).await
    }
}

/// The warehouse responds to a claim (CLM-3).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RespondToClaim {
    /// The claim.
    claim_id: ClaimId,
    /// The response.
    message: String,
}

impl Command for RespondToClaim {
    const SPEC: Spec = Spec {
        operation: "respond_to_claim",
        path: "/v1/shipments/{shipment_id}/respond-to-claim",
        summary: "Respond to a claim (CLM-3)",
        roles: OPS,
        errors: &[(404, "claim.not_found"), (422, "claim.closed")],
        ..Spec::DEFAULT
    };
    type On = OnShipment;
    type Output = Executed<ShipmentEvent>;

    async fn run(self, call: &Call<'_>, id: ShipmentId) -> Result<Self::Output, Failure> {
        let command = ShipmentCommand::RespondToClaim {
            claim_id: self.claim_id,
            message: self.message,
        };
        shipment(call, &id, command).await
    }
}

/// A claim by id, for the claim commands that carry nothing else.
macro_rules! claim_command {
    ($(#[$doc:meta])* $name:ident, $variant:ident, $operation:literal, $path:literal, $summary:literal, $roles:expr, $errors:expr) => {
        $(#[$doc])*
        #[derive(Debug, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub(crate) struct $name {
            /// The claim.
            claim_id: ClaimId,
        }

        impl Command for $name {
            const SPEC: Spec = Spec {
                operation: $operation,
                path: $path,
                summary: $summary,
                roles: $roles,
                errors: $errors,
                ..Spec::DEFAULT
            };
            type On = OnShipment;
            type Output = Advanced;

            async fn run(self, call: &Call<'_>, id: ShipmentId) -> Result<Self::Output, Failure> {
                let command = ShipmentCommand::$variant {
                    claim_id: self.claim_id,
                };
                // Settling a claim (an exchange received or lapsed) is recorded by its parcels.
                if <Shipment as engine::EngineAggregate>::use_case_for(&command).is_some() {
                    return advance(call, &id, command).await;
                }
                Ok(Advanced {
                    shipment: shipment(call, &id, command).await?,
                    parcels: Vec::new(),
                    refused: Vec::new(),
                })
            }
        }
    };
}

claim_command!(
    /// Escalates a claim not responded to in time (CLM-3).
    EscalateClaim,
    EscalateClaim,
    "escalate_claim",
    "/v1/shipments/{shipment_id}/escalate-claim",
    "Escalate a claim not responded to in time (CLM-3)",
    OPS,
    &[
        (404, "claim.not_found"),
        (422, "claim.already_escalated"),
        (422, "claim.already_responded"),
        (422, "claim.closed"),
        (422, "claim.response_not_overdue")
    ]
);
claim_command!(
    /// The warehouse accepts an exchange under the warranty add-on (CLM-6).
    AcceptExchange,
    AcceptExchange,
    "accept_exchange",
    "/v1/shipments/{shipment_id}/accept-exchange",
    "Accept an exchange under the warranty add-on (CLM-6)",
    OPS,
    &[
        (404, "claim.not_found"),
        (422, "claim.awaiting_evidence"),
        (422, "claim.closed"),
        (422, "claim.exchange_limit"),
        (422, "claim.invalid_state"),
        (422, "claim.not_under_warranty")
    ]
);
claim_command!(
    /// The item sent back for an exchange reached the warehouse (CLM-6).
    RecordExchangeItemReceived,
    RecordExchangeItemReceived,
    "record_exchange_item_received",
    "/v1/shipments/{shipment_id}/record-exchange-item-received",
    "Record that the item sent back for an exchange arrived (CLM-6)",
    STAFF,
    &[
        (404, "claim.not_found"),
        (422, "claim.closed"),
        (422, "claim.exchange_lapsed"),
        (422, "claim.invalid_state")
    ]
);
claim_command!(
    /// The item sent back for an exchange did not arrive in time (CLM-6).
    LapseExchange,
    LapseExchange,
    "lapse_exchange",
    "/v1/shipments/{shipment_id}/lapse-exchange",
    "Record that an exchange's item did not come back in time (CLM-6)",
    OPS,
    &[
        (404, "claim.not_found"),
        (422, "claim.closed"),
        (422, "claim.exchange_not_lapsed"),
        (422, "claim.invalid_state")
    ]
);

/// The member withdraws an open claim (CLM-4).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WithdrawClaim {
    /// The claim.
    claim_id: ClaimId,
    /// Why, if said.
    #[serde(default)]
    reason: Option<String>,
}

impl Command for WithdrawClaim {
    const SPEC: Spec = Spec {
        operation: "withdraw_claim",
        path: "/v1/shipments/{shipment_id}/withdraw-claim",
        summary: "Withdraw an open claim (CLM-4)",
        roles: MEMBER,
        errors: &[(404, "claim.not_found"), (422, "claim.closed")],
        ..Spec::DEFAULT
    };
    type On = OnShipment;
    type Output = Advanced;

    async fn run(self, call: &Call<'_>, id: ShipmentId) -> Result<Self::Output, Failure> {
        let command = ShipmentCommand::WithdrawClaim {
            claim_id: self.claim_id,
            reason: self.reason,
        };
        advance(call, &id, command).await
    }
}

/// The warehouse rejects a claim (CLM-5).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RejectClaim {
    /// The claim.
    claim_id: ClaimId,
    /// Why; required.
    reason: String,
}

impl Command for RejectClaim {
    const SPEC: Spec = Spec {
        operation: "reject_claim",
        path: "/v1/shipments/{shipment_id}/reject-claim",
        summary: "Reject a claim, with the reason (CLM-5)",
        roles: FINANCE,
        errors: &[
            (404, "claim.not_found"),
            (422, "claim.closed"),
            (422, "claim.invalid_state"),
            (422, "claim.reason_required"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnShipment;
    type Output = Advanced;

    async fn run(self, call: &Call<'_>, id: ShipmentId) -> Result<Self::Output, Failure> {
        let command = ShipmentCommand::RejectClaim {
            claim_id: self.claim_id,
            reason: self.reason,
        };
        advance(call, &id, command).await
    }
}

/// The warehouse approves a claim with a payout within its cap, credited to the member's
/// balance (CLM-5, ACC-1).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApproveClaim {
    /// The claim.
    claim_id: ClaimId,
    /// The amount credited to the member.
    payout: Money,
}

impl Command for ApproveClaim {
    const SPEC: Spec = Spec {
        operation: "approve_claim",
        path: "/v1/shipments/{shipment_id}/approve-claim",
        summary: "Approve a claim and credit its payout, within the cap (CLM-5)",
        roles: FINANCE,
        errors: &[
            (404, "claim.not_found"),
            (422, "account.amount_precision"),
            (422, "account.closed"),
            (422, "account.duplicate_credit"),
            (422, "claim.awaiting_evidence"),
            (422, "claim.closed"),
            (422, "claim.invalid_payout"),
            (422, "claim.invalid_state"),
            (422, "claim.no_damage_compensation"),
            (422, "claim.packing_not_compensated"),
            (422, "claim.payout_over_cap"),
            (422, "claim.plan_not_compensated"),
            (422, "money.currency_mismatch"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnShipment;
    type Output = ClaimPaid;

    async fn run(self, call: &Call<'_>, id: ShipmentId) -> Result<Self::Output, Failure> {
        Ok(call
            .engine
            .approve_claim(&id, &self.claim_id, self.payout, call.ctx)
            .await?)
    }
}
