//! What happened to a parcel: past-tense facts, published as `parcel.<snake_name>`.
//!
//! Each event carries what its readers need (dates, amounts, the rule and the policy version
//! applied), so projections and the charge account never recompute a business rule.

use super::command::{CollectKind, CollectOnDelivery, DeclarationSource, Finding};
use crate::facts::DeclaredItem;
use crate::ids::{ClaimId, MemberId, ParcelId, ShipmentId, SuiteCode};
use crate::measure::{Dimensions, Weight};
use crate::money::Money;
use crate::policy::{InspectionLevel, PolicyVersion, StorageAnchor, StorageLimit};
use crate::rules::Rule;
use crate::shipment::{ClaimType, TrackingNumber};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An event of the [`super::Parcel`] aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParcelEvent {
    /// A proxy-paid purchase was announced (PAR-2).
    Expected {
        /// The parcel.
        parcel_id: ParcelId,
        /// The buyer.
        member_id: MemberId,
        /// The approved shop.
        shop: String,
        /// Purchase date.
        purchased_on: NaiveDate,
        /// First day the expectation may be cancelled if the parcel has not arrived.
        cancellable_from: NaiveDate,
        /// Policy applied.
        policy: PolicyVersion,
    },
    /// An expected proxy-paid parcel did not arrive in time and was cancelled (PAR-2).
    Cancelled {
        /// The buyer.
        member_id: MemberId,
        /// Purchase date.
        purchased_on: NaiveDate,
        /// The day of cancellation.
        cancelled_on: NaiveDate,
        /// PAR-2.
        rule: Rule,
        /// Policy applied.
        policy: PolicyVersion,
    },
    /// The box was refused at the door: payment on delivery (PAR-2).
    Refused {
        /// The parcel.
        parcel_id: ParcelId,
        /// The suite code on the label, if any.
        suite_code: Option<SuiteCode>,
        /// The member, if known.
        member_id: Option<MemberId>,
        /// The shop, if known.
        shop: Option<String>,
        /// What the courier asked for.
        collect_on_delivery: CollectOnDelivery,
        /// The day the courier came.
        delivered_on: NaiveDate,
        /// Why proxy payment did not apply.
        reason: DoorRefusal,
        /// PAR-2.
        rule: Rule,
        /// Policy applied.
        policy: PolicyVersion,
    },
    /// The box was received, weighed and measured (PAR-1, PAR-3, TIM-2).
    Arrived {
        /// The parcel.
        parcel_id: ParcelId,
        /// The suite code on the label, if any.
        suite_code: Option<SuiteCode>,
        /// The owner; `None` = received as unidentified, waiting in the queue (PAR-1).
        member_id: Option<MemberId>,
        /// The day the courier came.
        delivered_on: NaiveDate,
        /// The business day it was received: `delivered_on` or the next business day (TIM-2).
        /// The storage clock starts here.
        received_on: NaiveDate,
        /// The member is notified by this day: the receiving business day (PAR-3);
        /// `None` while unidentified.
        notify_by: Option<NaiveDate>,
        /// Measured weight: billing uses it (PAR-3).
        weight: Weight,
        /// Measured dimensions: billing uses them (PAR-3).
        dimensions: Dimensions,
        /// The shop, if known.
        shop: Option<String>,
        /// The member had Auto Pack set (MEM-6): this parcel is never consolidated.
        auto_pack: bool,
        /// Policy applied (calendar).
        policy: PolicyVersion,
    },
    /// The member was sent the arrival notice (PAR-3, seed 000: 当社で荷物の計量が完了したところ
    /// で、お客様にお荷物の到着とご利用料金をメールにてお知らせします): what it told, on the
    /// receiving business day.
    ArrivalNoticeSent {
        /// The member told.
        member_id: MemberId,
        /// The business day the parcel counts as received (TIM-2).
        received_on: NaiveDate,
        /// The day the notice is sent: the business day of the arrival, or of the attachment of
        /// an unidentified parcel (PAR-1), the same day (PAR-3).
        sent_on: NaiveDate,
        /// The shop, if known.
        shop: Option<String>,
        /// The weight measured, as stated: billing uses it (PAR-3).
        weight: Weight,
        /// The dimensions measured, as stated: billing uses them (PAR-3).
        dimensions: Dimensions,
        /// The fee stated: the forwarding fee of the parcel sent as one piece (FEE-1); the
        /// carrier's charge follows in the quote, once the carrier and destination are chosen.
        forwarding_fee: Money,
        /// PAR-3.
        rule: Rule,
        /// Policy applied.
        policy: PolicyVersion,
    },
    /// The warehouse paid the courier and charges the member the amount plus the surcharge (PAR-2).
    ProxyPaymentCharged {
        /// Who is charged.
        member_id: MemberId,
        /// The approved shop.
        shop: String,
        /// Paid to the courier.
        courier_amount: Money,
        /// What the courier collected, cash on delivery (the goods) or carriage forward (the
        /// postage); `None` when recorded at version 1, before it was.
        collected: Option<CollectKind>,
        /// Surcharge percent applied.
        surcharge_percent: Decimal,
        /// The surcharge, rounded half up.
        surcharge: Money,
        /// Charged to the member: amount + surcharge.
        charge: Money,
        /// PAR-2.
        rule: Rule,
        /// Policy applied.
        policy: PolicyVersion,
    },
    /// An unidentified parcel was attached to its member (PAR-1).
    AttachedToMember {
        /// The owner.
        member_id: MemberId,
        /// The day of attachment.
        attached_on: NaiveDate,
        /// The member is notified by this business day (PAR-3).
        notify_by: NaiveDate,
        /// The member had Auto Pack set (MEM-6).
        auto_pack: bool,
        /// Policy applied (calendar).
        policy: PolicyVersion,
    },
    /// The contents were declared (PAR-4).
    ContentsDeclared {
        /// The items.
        items: Vec<DeclaredItem>,
        /// The sender.
        sender: String,
        /// Who declared.
        source: DeclarationSource,
    },
    /// The member confirmed the declaration (PAR-4).
    DeclarationConfirmed {
        /// The day of confirmation.
        confirmed_on: NaiveDate,
    },
    /// The parcel was inspected (INS-1, INS-2, INS-3).
    Inspected(InspectionRecord),
    /// A prohibited item was found: quarantined, only disposal or return remain (INS-4).
    Quarantined {
        /// The owner, if known.
        member_id: Option<MemberId>,
        /// The prohibited categories found.
        categories: Vec<String>,
        /// The member may be suspended for it (MEM-5); the Member aggregate decides.
        member_may_be_suspended: bool,
        /// INS-4.
        rule: Rule,
        /// Policy applied (prohibited list).
        policy: PolicyVersion,
    },
    /// The parcel was put on a shelf (STO-1, STO-2).
    Stored {
        /// Shelf location.
        location: String,
        /// The day.
        stored_on: NaiveDate,
        /// The storage clock's anchor at that moment.
        anchor: NaiveDate,
        /// The last free day at that moment.
        last_free_day: NaiveDate,
        /// Policy applied.
        policy: PolicyVersion,
    },
    /// A packing request for this parcel alone was made (PAR-4; automatic under Auto Pack, MEM-6).
    PackingRequested {
        /// The owner.
        member_id: MemberId,
        /// Made automatically on arrival under Auto Pack (MEM-6).
        auto_pack: bool,
        /// The shipment it is to be packed as, which releases it if cancelled before packing
        /// (CON-5); `None` for an Auto Pack request, whose shipment the write side requests
        /// after it (MEM-6), and in version 1.
        shipment_id: Option<ShipmentId>,
    },
    /// The parcel was taken into shipment `shipment_id`'s consolidation (CON-3).
    Consolidated {
        /// The shipment.
        shipment_id: ShipmentId,
        /// The owner.
        member_id: MemberId,
    },
    /// The parcel was packed into shipment `shipment_id`: the shipment takes over.
    Packed {
        /// The shipment.
        shipment_id: ShipmentId,
        /// The day.
        packed_on: NaiveDate,
    },
    /// Its shipment was cancelled before payment: back in storage (CON-5).
    Released {
        /// The cancelled shipment.
        shipment_id: ShipmentId,
        /// The day.
        released_on: NaiveDate,
    },
    /// Its shipment is held for non-payment: the parcel may be disposed of (PAY-2).
    Held {
        /// The shipment.
        shipment_id: ShipmentId,
        /// The quote's due date that passed.
        quote_due_on: NaiveDate,
        /// The day.
        held_on: NaiveDate,
        /// PAY-2.
        rule: Rule,
    },
    /// Its held shipment was paid: the hold is released and the parcel is back in the state
    /// it was held from (PAY-2).
    HoldReleased {
        /// The paid shipment.
        shipment_id: ShipmentId,
        /// The state it is back in.
        restored: HeldFrom,
        /// The day.
        released_on: NaiveDate,
        /// PAY-2.
        rule: Rule,
    },
    /// The member was told the free storage ends soon (STO-2).
    StorageNoticeSent {
        /// The owner.
        member_id: MemberId,
        /// Which notice of the policy: days before the last free day.
        days_before: u32,
        /// The last free day announced.
        last_free_day: NaiveDate,
        /// The day sent.
        sent_on: NaiveDate,
        /// Policy applied.
        policy: PolicyVersion,
    },
    /// The parcel is past its maximum storage and may be disposed of (STO-1, STO-2).
    MarkedDisposable {
        /// The storage anchor rule applied (STO-1).
        anchor_rule: StorageAnchor,
        /// The storage clock's anchor.
        anchor: NaiveDate,
        /// The last free day, past.
        last_free_day: NaiveDate,
        /// The day it was marked.
        disposable_on: NaiveDate,
        /// STO-2.
        rule: Rule,
        /// Policy applied.
        policy: PolicyVersion,
    },
    /// The member took paid extended storage (STO-3).
    StorageExtended {
        /// The storage clock's anchor.
        anchor: NaiveDate,
        /// The free storage agreed: paid months run in calendar months after it.
        max_storage: StorageLimit,
        /// The last free day; paid months start the day after.
        last_free_day: NaiveDate,
        /// Volume units charged per month.
        units: u64,
        /// Fee per unit per started month.
        fee_per_unit_month: Money,
        /// Policy applied.
        policy: PolicyVersion,
    },
    /// One started month of extended storage was charged (STO-3).
    StorageFeeAccrued {
        /// The extended month, 1 for the first.
        month: u32,
        /// Its first day.
        period_start: NaiveDate,
        /// Its last day.
        period_end: NaiveDate,
        /// Volume units.
        units: u64,
        /// The fee: units × fee per unit month.
        fee: Money,
        /// STO-3.
        rule: Rule,
        /// Policy applied.
        policy: PolicyVersion,
    },
    /// The parcel was disposed of, with its recorded cause and fee (DSP-1).
    Disposed {
        /// The owner charged, if known.
        member_id: Option<MemberId>,
        /// Why.
        cause: DisposedBecause,
        /// The disposal fee to debit (ACC-4: may take the balance negative).
        fee: Money,
        /// The rule behind the cause: STO-2, INS-4, MEM-8 or PAY-2.
        rule: Rule,
        /// Policy applied.
        policy: PolicyVersion,
    },
    /// The parcel was returned to its sender (PAR-1, INS-4).
    Returned {
        /// Returned from which state.
        from: ReturnedFrom,
        /// The day.
        returned_on: NaiveDate,
        /// Note for operations.
        note: String,
    },
    /// Its shipment was paid (PAY-1): the parcel waits to leave, off the storage clock (STO-1).
    Paid {
        /// The shipment.
        shipment_id: ShipmentId,
        /// The day the shipment was paid.
        paid_on: NaiveDate,
    },
    /// Its shipment was handed to the carrier (SHP-1): the parcel left the warehouse.
    Shipped {
        /// The shipment.
        shipment_id: ShipmentId,
        /// Carrier code.
        carrier: String,
        /// The carrier's service.
        service: String,
        /// The shipment's tracking number.
        tracking_number: TrackingNumber,
        /// The day.
        shipped_on: NaiveDate,
    },
    /// Its shipment is held by customs at destination (SHP-2).
    CustomsHeld {
        /// The shipment.
        shipment_id: ShipmentId,
        /// The tracking event's date.
        held_on: NaiveDate,
    },
    /// Its shipment was delivered at destination (SHP-2).
    Delivered {
        /// The shipment.
        shipment_id: ShipmentId,
        /// The tracking event's date.
        delivered_on: NaiveDate,
    },
    /// Its shipment was declared lost by the carrier (SHP-2).
    Lost {
        /// The shipment.
        shipment_id: ShipmentId,
        /// The tracking event's date.
        lost_on: NaiveDate,
    },
    /// Its shipment, sent back by the carrier, reached the warehouse again (SHP-2): the parcel
    /// is in storage, packed in it, its storage clock running from `received_on` (STO-1).
    ReturnedToWarehouse {
        /// The shipment.
        shipment_id: ShipmentId,
        /// The day it came back.
        received_on: NaiveDate,
    },
    /// A claim concerning this parcel was filed on its shipment (CLM-1): one naming an item
    /// of this parcel, or one on the whole shipment.
    Claimed {
        /// The shipment claimed against.
        shipment_id: ShipmentId,
        /// The claim.
        claim_id: ClaimId,
        /// What went wrong.
        claim_type: ClaimType,
        /// The day it was recorded here.
        filed_on: NaiveDate,
    },
    /// A claim concerning this parcel was settled (CLM-4, CLM-5, CLM-6).
    ClaimSettled {
        /// The shipment claimed against.
        shipment_id: ShipmentId,
        /// The claim.
        claim_id: ClaimId,
        /// How it ended.
        outcome: ClaimSettlement,
        /// The day it was recorded here.
        settled_on: NaiveDate,
    },
}

/// How a claim ended, as its parcels record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClaimSettlement {
    /// Approved, with the payout credited to the member (CLM-5).
    Approved {
        /// The payout.
        payout: Money,
    },
    /// Rejected, with a reason the shipment records (CLM-5).
    Rejected,
    /// Withdrawn by the member (CLM-4).
    Withdrawn,
    /// Exchanged under the warranty add-on: the item came back (CLM-6).
    Exchanged,
    /// The exchange lapsed: the item did not come back in time (CLM-6).
    ExchangeLapsed,
}

/// The state a parcel was in when its shipment was held, and returns to when the hold is
/// released by payment (PAY-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HeldFrom {
    /// Taken into the shipment's consolidation, not packed yet (CON-3).
    Reserved,
    /// Packed into the shipment.
    Packed,
}

/// Why proxy payment did not apply at the door (PAR-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DoorRefusal {
    /// The policy has no proxy payment: all payment on delivery is refused.
    NoProxyPayment,
    /// The policy proxy-pays other collections than this one (`collect_kinds`).
    KindNotProxyPaid,
    /// The shop is unknown or not approved.
    ShopNotApproved,
    /// No member to charge.
    MemberUnknown,
    /// The proxy-paid expectation was cancelled after 45 days.
    ProxyPaymentCancelled,
}

/// The inspection as recorded (INS-1, INS-2, INS-3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InspectionRecord {
    /// The day.
    pub inspected_on: NaiveDate,
    /// The level of the member's plan (INS-1).
    pub level_planned: InspectionLevel,
    /// The level applied (INS-2 may lower it).
    pub level_applied: InspectionLevel,
    /// Set when a large item's basic or detailed inspection was lowered to quantity (INS-2).
    pub large_item: Option<LargeItem>,
    /// Units per variation, inspected and not (INS-1).
    pub variations: Vec<InspectedVariation>,
    /// Units inspected per variation at most (INS-1).
    pub max_units_per_variation: u32,
    /// Findings with evidence (INS-3).
    pub findings: Vec<Finding>,
    /// Items found defective: those of findings of the policy's defect kinds (INS-3).
    pub defect_items: u32,
    /// Defect fee charged: items × fee per item, or for a large parcel its cost, at least the
    /// minimum (`oversize`); `None` where the policy charges none (INS-3).
    pub defect_fee: Option<Money>,
    /// Set when the parcel's defects were charged at cost as a large parcel (INS-3).
    pub oversize: Option<OversizeDefect>,
    /// Fee for a detailed inspection: units inspected × price; `None` below detailed (INS-1).
    pub detailed_inspection_fee: Option<Money>,
    /// Policy applied.
    pub policy: PolicyVersion,
}

/// Why a parcel's defects were charged at cost (INS-3): its size over the policy's bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OversizeDefect {
    /// Length + width + height measured, mm (PAR-3).
    pub sides_total_mm: u32,
    /// The policy's bound: a parcel over this size (length + width + height, cm) is large.
    pub over_size_cm: u32,
    /// The actual cost stated at inspection.
    pub cost: Money,
    /// The least charged (the fee is the greater of the two).
    pub min_fee: Money,
}

/// Why a large item got a quantity inspection only (INS-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LargeItem {
    /// The longest side measured, mm.
    pub longest_side_mm: u32,
    /// The weight measured, g.
    pub weight_g: u32,
}

/// One variation's inspection count (INS-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InspectedVariation {
    /// The variation.
    pub variation: String,
    /// Units in the box.
    pub units: u32,
    /// Units inspected.
    pub inspected: u32,
    /// Units marked uninspected.
    pub uninspected: u32,
}

/// A disposal's cause as recorded (DSP-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DisposedBecause {
    /// Past maximum storage (STO-2).
    PastMaxStorage {
        /// The last free day.
        last_free_day: NaiveDate,
        /// The day it was marked disposable.
        disposable_on: NaiveDate,
    },
    /// Prohibited (INS-4).
    Prohibited {
        /// The prohibited categories found.
        categories: Vec<String>,
    },
    /// Left behind at withdrawal (MEM-8).
    LeftAtWithdrawal {
        /// Items destroyed.
        items: u32,
        /// Fee per item.
        fee_per_item: Money,
    },
    /// Its shipment held for non-payment (PAY-2).
    Unpaid {
        /// The shipment.
        shipment_id: ShipmentId,
        /// The quote's due date that passed.
        quote_due_on: NaiveDate,
    },
    /// Its shipment came back and the member had it disposed of rather than re-shipped (SHP-2).
    ReturnAbandoned {
        /// The shipment.
        shipment_id: ShipmentId,
    },
}

/// From where a parcel was returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReturnedFrom {
    /// Never attached to a member (PAR-1).
    Unidentified,
    /// Quarantined (INS-4).
    Quarantined,
}

impl ParcelEvent {
    /// Every event type string this aggregate publishes.
    pub const TYPES: &'static [&'static str] = &[
        "parcel.expected",
        "parcel.cancelled",
        "parcel.refused",
        "parcel.arrived",
        "parcel.arrival_notice_sent",
        "parcel.proxy_payment_charged",
        "parcel.attached_to_member",
        "parcel.contents_declared",
        "parcel.declaration_confirmed",
        "parcel.inspected",
        "parcel.quarantined",
        "parcel.stored",
        "parcel.packing_requested",
        "parcel.consolidated",
        "parcel.packed",
        "parcel.released",
        "parcel.held",
        "parcel.hold_released",
        "parcel.storage_notice_sent",
        "parcel.marked_disposable",
        "parcel.storage_extended",
        "parcel.storage_fee_accrued",
        "parcel.disposed",
        "parcel.returned",
        "parcel.paid",
        "parcel.shipped",
        "parcel.customs_held",
        "parcel.delivered",
        "parcel.lost",
        "parcel.returned_to_warehouse",
        "parcel.claimed",
        "parcel.claim_settled",
    ];
}

impl cqrs_es::DomainEvent for ParcelEvent {
    fn event_type(&self) -> String {
        let name = match self {
            ParcelEvent::Expected { .. } => "parcel.expected",
            ParcelEvent::Cancelled { .. } => "parcel.cancelled",
            ParcelEvent::Refused { .. } => "parcel.refused",
            ParcelEvent::Arrived { .. } => "parcel.arrived",
            ParcelEvent::ProxyPaymentCharged { .. } => "parcel.proxy_payment_charged",
            ParcelEvent::ArrivalNoticeSent { .. } => "parcel.arrival_notice_sent",
            ParcelEvent::AttachedToMember { .. } => "parcel.attached_to_member",
            ParcelEvent::ContentsDeclared { .. } => "parcel.contents_declared",
            ParcelEvent::DeclarationConfirmed { .. } => "parcel.declaration_confirmed",
            ParcelEvent::Inspected(_) => "parcel.inspected",
            ParcelEvent::Quarantined { .. } => "parcel.quarantined",
            ParcelEvent::Stored { .. } => "parcel.stored",
            ParcelEvent::PackingRequested { .. } => "parcel.packing_requested",
            ParcelEvent::Consolidated { .. } => "parcel.consolidated",
            ParcelEvent::Packed { .. } => "parcel.packed",
            ParcelEvent::Released { .. } => "parcel.released",
            ParcelEvent::Held { .. } => "parcel.held",
            ParcelEvent::HoldReleased { .. } => "parcel.hold_released",
            ParcelEvent::StorageNoticeSent { .. } => "parcel.storage_notice_sent",
            ParcelEvent::MarkedDisposable { .. } => "parcel.marked_disposable",
            ParcelEvent::StorageExtended { .. } => "parcel.storage_extended",
            ParcelEvent::StorageFeeAccrued { .. } => "parcel.storage_fee_accrued",
            ParcelEvent::Disposed { .. } => "parcel.disposed",
            ParcelEvent::Returned { .. } => "parcel.returned",
            ParcelEvent::Paid { .. } => "parcel.paid",
            ParcelEvent::Shipped { .. } => "parcel.shipped",
            ParcelEvent::CustomsHeld { .. } => "parcel.customs_held",
            ParcelEvent::Delivered { .. } => "parcel.delivered",
            ParcelEvent::Lost { .. } => "parcel.lost",
            ParcelEvent::ReturnedToWarehouse { .. } => "parcel.returned_to_warehouse",
            ParcelEvent::Claimed { .. } => "parcel.claimed",
            ParcelEvent::ClaimSettled { .. } => "parcel.claim_settled",
        };
        name.to_owned()
    }

    fn event_version(&self) -> String {
        crate::upcast::current_version(&self.event_type()).to_owned()
    }
}
