//! Events of the Shipment aggregate, published as `shipment.<name>`. Each carries what
//! readers need (amounts, dates, deadlines, the policy version applied), so projections never
//! recompute a business rule.

use super::claim::{
    ClaimStatus, ClaimType, ClaimedItem, Evidence, EvidenceKind, PayoutBasis, ResponseClock,
};
use super::command::{DutyPayment, PaymentMethod};
use super::pricing::{Piece, QuoteLine};
use super::tracking::TrackingNumber;
use crate::facts::ParcelFacts;
use crate::ids::{ClaimId, MemberId, ParcelId, ShipmentId};
use crate::measure::{Dimensions, Weight};
use crate::money::Money;
use crate::policy::PolicyVersion;
use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Something that happened to a shipment.
// Events are records, mostly serialized; keeping the quote inline reads better than boxing it.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShipmentEvent {
    /// A consolidation request was accepted: the parcels will be packed as one (CON-1, CON-2).
    Consolidated {
        /// The shipment.
        shipment_id: ShipmentId,
        /// Its member.
        member_id: MemberId,
        /// The parcels, as they were when requested.
        parcels: Vec<ParcelFacts>,
        /// Their total weight, grams (CON-2).
        total_weight_g: u64,
        /// Their declared value total (CON-2).
        declared_value: Money,
        /// The earliest arrival among them (STO-1: the shipment keeps it).
        earliest_received_on: NaiveDate,
        /// The local date of the request.
        requested_on: NaiveDate,
        /// The policy that admitted it.
        policy: PolicyVersion,
    },
    /// A single parcel is to be packed on its own (by the member, or Auto Pack, MEM-6).
    PackingRequested {
        /// The shipment.
        shipment_id: ShipmentId,
        /// Its member.
        member_id: MemberId,
        /// The parcel, as it was when requested.
        parcel: ParcelFacts,
        /// The local date of the request.
        requested_on: NaiveDate,
    },
    /// The shipment was packed and measured; split into pieces where the carrier needs (CON-4).
    Packed {
        /// The carrier it was packed for.
        carrier: String,
        /// Measured weight.
        weight: Weight,
        /// Measured outer dimensions (CLM-5 uses the longest side).
        dimensions: Dimensions,
        /// The pieces (CON-4).
        pieces: Vec<Piece>,
        /// The carrier's heaviest piece, grams.
        max_piece_weight_g: u32,
        /// The local date packed.
        packed_on: NaiveDate,
        /// The policy (tariff) applied.
        policy: PolicyVersion,
    },
    /// The shipment was quoted (FEE-1, FEE-2, FEE-3, PAY-2).
    Quoted {
        /// The member to pay.
        member_id: MemberId,
        /// Carrier code.
        carrier: String,
        /// Destination country.
        destination: String,
        /// Tariff zone.
        zone: String,
        /// The pieces charged (CON-4).
        pieces: Vec<Piece>,
        /// Options chosen.
        options: Vec<String>,
        /// Insured amount, if insured (FEE-3).
        insured: Option<Money>,
        /// Warranty add-on bought (FEE-2).
        warranty: bool,
        /// The lines.
        lines: Vec<QuoteLine>,
        /// The sum of the lines.
        total: Money,
        /// The local date quoted.
        quoted_on: NaiveDate,
        /// Pay by this day; held from the day after (PAY-2).
        due_on: NaiveDate,
        /// The tariff version used (FEE-1).
        tariff_version: String,
        /// The policy applied.
        policy: PolicyVersion,
    },
    /// The shipment was paid, once and in full (PAY-1, MEM-7, ACC-5).
    Paid {
        /// The member who paid.
        member_id: MemberId,
        /// How.
        method: PaymentMethod,
        /// The quote total.
        quote_total: Money,
        /// Lines charged on top of the quote: the PayPal fee (ACC-5).
        fee_lines: Vec<QuoteLine>,
        /// The amount charged: quote total plus fee lines.
        amount: Money,
        /// The member's Auto Ship limit, when paid under Auto Ship (MEM-7).
        auto_ship_limit: Option<Money>,
        /// The local date paid.
        paid_on: NaiveDate,
        /// The policy applied.
        policy: PolicyVersion,
    },
    /// The quote went unpaid past its due date: the shipment is held and its parcels may be
    /// disposed of under STO-2 (PAY-2).
    Held {
        /// The member.
        member_id: MemberId,
        /// The parcels concerned.
        parcels: Vec<ParcelId>,
        /// The due date missed.
        due_on: NaiveDate,
        /// The local date held.
        held_on: NaiveDate,
        /// The policy applied.
        policy: PolicyVersion,
    },
    /// The quote went unpaid on its due date: the member was reminded to pay (ACC-6, the
    /// first step of dunning).
    PaymentReminded {
        /// The member to pay.
        member_id: MemberId,
        /// The amount unpaid: the quote total.
        amount: Money,
        /// The due date missed.
        due_on: NaiveDate,
        /// The local date of the reminder.
        reminded_on: NaiveDate,
        /// Still unpaid on this day, a dunning notice follows (a week after the reminder).
        dunning_from: NaiveDate,
        /// The policy applied.
        policy: PolicyVersion,
    },
    /// Still unpaid a week after the reminder: the dunning notice was sent, with a deadline;
    /// late interest runs from the day after it (ACC-6).
    DunningNoticeSent {
        /// The member to pay.
        member_id: MemberId,
        /// The amount unpaid: the quote total.
        amount: Money,
        /// The quote's due date.
        due_on: NaiveDate,
        /// The local date the notice was sent.
        sent_on: NaiveDate,
        /// The notice's deadline: pay by this day.
        pay_by: NaiveDate,
        /// Late interest accrues from this day on, the day after the deadline.
        interest_from: NaiveDate,
        /// The yearly rate of the late interest, percent.
        annual_interest_percent: rust_decimal::Decimal,
        /// The policy applied.
        policy: PolicyVersion,
    },
    /// The shipment was cancelled before payment; the parcels return to storage (CON-5).
    Cancelled {
        /// The member.
        member_id: MemberId,
        /// The parcels to release.
        parcels: Vec<ParcelId>,
        /// Why.
        reason: String,
        /// The local date cancelled.
        cancelled_on: NaiveDate,
    },
    /// The shipment was handed to the carrier (SHP-1).
    Shipped {
        /// Carrier code.
        carrier: String,
        /// The carrier's service.
        service: String,
        /// Tracking number.
        tracking_number: TrackingNumber,
        /// Value declared to customs.
        declared_value: Money,
        /// Number of pieces.
        pieces: u32,
        /// The local date shipped.
        shipped_on: NaiveDate,
        /// The policy whose carrier list admitted it.
        policy: PolicyVersion,
    },
    /// Tracking shows the shipment delivered at destination (SHP-2); claim windows start.
    Delivered {
        /// Delivery date at destination.
        delivered_on: NaiveDate,
        /// Last day for claims (CLM-2).
        claim_window_last_day: NaiveDate,
        /// Last day for warranty add-on claims, when bought (FEE-2).
        warranty_claim_last_day: Option<NaiveDate>,
        /// The policy applied.
        policy: PolicyVersion,
    },
    /// Tracking shows the shipment held by customs (SHP-2).
    CustomsHeld {
        /// The date of the hold.
        held_on: NaiveDate,
        /// The carrier's note.
        note: Option<String>,
    },
    /// Tracking shows the shipment returned to origin (SHP-2).
    ReturnedToOrigin {
        /// The date of the return.
        returned_on: NaiveDate,
        /// The carrier's note.
        note: Option<String>,
    },
    /// The carrier declared the shipment lost (SHP-2); the loss-claim window starts (CLM-2).
    Lost {
        /// The date of the lost status.
        lost_on: NaiveDate,
        /// Last day for a loss claim (CLM-2).
        claim_window_last_day: NaiveDate,
        /// The carrier's note.
        note: Option<String>,
        /// The policy applied.
        policy: PolicyVersion,
    },
    /// A claim was filed and accepted, complete or awaiting evidence (CLM-1, CLM-2, CLM-3).
    Claimed {
        /// The claim.
        claim_id: ClaimId,
        /// The member.
        member_id: MemberId,
        /// What went wrong.
        claim_type: ClaimType,
        /// The item concerned.
        item: Option<ClaimedItem>,
        /// The evidence given.
        evidence: Evidence,
        /// Filed under the warranty add-on.
        under_warranty: bool,
        /// `open` or `awaiting_evidence`.
        status: ClaimStatus,
        /// Evidence still missing (CLM-1).
        missing_evidence: Vec<EvidenceKind>,
        /// When filed.
        filed_at: DateTime<Utc>,
        /// The response clock applied (CLM-3).
        response_clock: ResponseClock,
        /// Respond before this instant, or it may be escalated (CLM-3).
        response_due: DateTime<Utc>,
        /// The policy applied.
        policy: PolicyVersion,
    },
    /// Evidence was added to a claim (CLM-1).
    ClaimEvidenceAdded {
        /// The claim.
        claim_id: ClaimId,
        /// The evidence added.
        evidence: Evidence,
        /// Evidence still missing.
        missing_evidence: Vec<EvidenceKind>,
        /// The claim's status after: `open` once complete.
        status: ClaimStatus,
    },
    /// The warehouse responded to a claim (CLM-3).
    ClaimResponded {
        /// The claim.
        claim_id: ClaimId,
        /// The response.
        message: String,
        /// When.
        responded_at: DateTime<Utc>,
        /// Before the response deadline.
        in_time: bool,
    },
    /// A claim was escalated for a late response (CLM-3).
    ClaimEscalated {
        /// The claim.
        claim_id: ClaimId,
        /// The deadline missed.
        response_due: DateTime<Utc>,
        /// When escalated.
        escalated_at: DateTime<Utc>,
    },
    /// The member withdrew a claim (CLM-4).
    ClaimWithdrawn {
        /// The claim.
        claim_id: ClaimId,
        /// Why, if said.
        reason: Option<String>,
        /// When.
        withdrawn_at: DateTime<Utc>,
    },
    /// A claim was rejected (CLM-5).
    ClaimRejected {
        /// The claim.
        claim_id: ClaimId,
        /// Why.
        reason: String,
        /// When.
        rejected_at: DateTime<Utc>,
    },
    /// A claim was approved; the payout is credited to the member's balance (CLM-5).
    ClaimApproved {
        /// The claim.
        claim_id: ClaimId,
        /// The member to credit.
        member_id: MemberId,
        /// The amount to credit.
        payout: Money,
        /// The cap it was checked against.
        cap: Money,
        /// Why the cap is what it is.
        basis: PayoutBasis,
        /// When.
        approved_at: DateTime<Utc>,
        /// The policy applied.
        policy: PolicyVersion,
    },
    /// An exchange under the warranty add-on was accepted (CLM-6).
    ClaimExchangeAccepted {
        /// The claim.
        claim_id: ClaimId,
        /// The local date accepted.
        accepted_on: NaiveDate,
        /// The item must reach the warehouse by this day.
        return_by: NaiveDate,
        /// Which exchange of the add-on this is (1-based).
        exchange_number: u32,
        /// The policy applied.
        policy: PolicyVersion,
    },
    /// The item sent back for an exchange reached the warehouse (CLM-6).
    ClaimExchangeItemReceived {
        /// The claim.
        claim_id: ClaimId,
        /// The local date received.
        received_on: NaiveDate,
    },
    /// The exchange lapsed: the item did not reach the warehouse in time (CLM-6).
    ClaimExchangeLapsed {
        /// The claim.
        claim_id: ClaimId,
        /// The day it was due.
        return_by: NaiveDate,
        /// The local date of the lapse.
        lapsed_on: NaiveDate,
    },
    /// The shipment the carrier sent back reached the warehouse (SHP-2): it is in storage
    /// again, its parcels' storage clock running from `received_on`, and its return costs are
    /// charged to the member. A new quote re-ships it; the member may have it disposed of.
    ReturnReceived {
        /// The member charged.
        member_id: MemberId,
        /// Its parcels, back in storage.
        parcels: Vec<ParcelId>,
        /// The day it came back: the storage clock runs again from it (STO-1).
        received_on: NaiveDate,
        /// The return costs as billed, charged to the member's balance (ACC-4: owed).
        return_cost: Money,
        /// Which return of this shipment, 1 for the first: names its charges.
        return_number: u32,
        /// The policy applied.
        policy: PolicyVersion,
    },
    /// A redelivery abroad was charged (SHP-2): what was billed, at least the policy's minimum.
    RedeliveryCharged {
        /// The member charged.
        member_id: MemberId,
        /// What the carrier or broker billed.
        cost: Money,
        /// The policy's minimum.
        min_fee: Money,
        /// The fee charged: the cost, at least the minimum.
        fee: Money,
        /// Which redelivery of this shipment, 1 for the first: names its charge.
        redelivery_number: u32,
        /// The day.
        charged_on: NaiveDate,
        /// The policy applied.
        policy: PolicyVersion,
    },
    /// The member chose, before dispatch, how the import duty is paid (ACC-8).
    DutyPaymentChosen {
        /// The member.
        member_id: MemberId,
        /// By the recipient on delivery, or advanced by the warehouse.
        payment: DutyPayment,
        /// The day.
        chosen_on: NaiveDate,
    },
    /// The member had the shipment that came back disposed of rather than re-shipped (SHP-2);
    /// its parcels are disposed of (DSP-1).
    ReturnAbandoned {
        /// The member.
        member_id: MemberId,
        /// Its parcels, to dispose of.
        parcels: Vec<ParcelId>,
        /// The day.
        abandoned_on: NaiveDate,
    },
}

impl ShipmentEvent {
    /// Every event type this aggregate publishes.
    pub const TYPES: &'static [&'static str] = &[
        "shipment.consolidated",
        "shipment.packing_requested",
        "shipment.packed",
        "shipment.quoted",
        "shipment.paid",
        "shipment.held",
        "shipment.payment_reminded",
        "shipment.dunning_notice_sent",
        "shipment.cancelled",
        "shipment.shipped",
        "shipment.delivered",
        "shipment.customs_held",
        "shipment.returned_to_origin",
        "shipment.lost",
        "shipment.claimed",
        "shipment.claim_evidence_added",
        "shipment.claim_responded",
        "shipment.claim_escalated",
        "shipment.claim_withdrawn",
        "shipment.claim_rejected",
        "shipment.claim_approved",
        "shipment.claim_exchange_accepted",
        "shipment.claim_exchange_item_received",
        "shipment.claim_exchange_lapsed",
        "shipment.return_received",
        "shipment.return_abandoned",
        "shipment.duty_payment_chosen",
        "shipment.redelivery_charged",
    ];

    fn type_name(&self) -> &'static str {
        match self {
            ShipmentEvent::Consolidated { .. } => "shipment.consolidated",
            ShipmentEvent::PackingRequested { .. } => "shipment.packing_requested",
            ShipmentEvent::Packed { .. } => "shipment.packed",
            ShipmentEvent::Quoted { .. } => "shipment.quoted",
            ShipmentEvent::Paid { .. } => "shipment.paid",
            ShipmentEvent::Held { .. } => "shipment.held",
            ShipmentEvent::PaymentReminded { .. } => "shipment.payment_reminded",
            ShipmentEvent::DunningNoticeSent { .. } => "shipment.dunning_notice_sent",
            ShipmentEvent::Cancelled { .. } => "shipment.cancelled",
            ShipmentEvent::Shipped { .. } => "shipment.shipped",
            ShipmentEvent::Delivered { .. } => "shipment.delivered",
            ShipmentEvent::CustomsHeld { .. } => "shipment.customs_held",
            ShipmentEvent::ReturnedToOrigin { .. } => "shipment.returned_to_origin",
            ShipmentEvent::Lost { .. } => "shipment.lost",
            ShipmentEvent::Claimed { .. } => "shipment.claimed",
            ShipmentEvent::ClaimEvidenceAdded { .. } => "shipment.claim_evidence_added",
            ShipmentEvent::ClaimResponded { .. } => "shipment.claim_responded",
            ShipmentEvent::ClaimEscalated { .. } => "shipment.claim_escalated",
            ShipmentEvent::ClaimWithdrawn { .. } => "shipment.claim_withdrawn",
            ShipmentEvent::ClaimRejected { .. } => "shipment.claim_rejected",
            ShipmentEvent::ClaimApproved { .. } => "shipment.claim_approved",
            ShipmentEvent::ClaimExchangeAccepted { .. } => "shipment.claim_exchange_accepted",
            ShipmentEvent::ClaimExchangeItemReceived { .. } => {
                "shipment.claim_exchange_item_received"
            }
            ShipmentEvent::ClaimExchangeLapsed { .. } => "shipment.claim_exchange_lapsed",
            ShipmentEvent::ReturnReceived { .. } => "shipment.return_received",
            ShipmentEvent::ReturnAbandoned { .. } => "shipment.return_abandoned",
            ShipmentEvent::DutyPaymentChosen { .. } => "shipment.duty_payment_chosen",
            ShipmentEvent::RedeliveryCharged { .. } => "shipment.redelivery_charged",
        }
    }
}

impl cqrs_es::DomainEvent for ShipmentEvent {
    fn event_type(&self) -> String {
        self.type_name().to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
