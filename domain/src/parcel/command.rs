//! What can be asked of a parcel: one variant per command. Facts owned by other aggregates
//! (the member's standing, the member's earliest waiting arrival, a held shipment) are looked
//! up by the caller and passed in; the parcel never reads another aggregate.

use super::event::ClaimSettlement;
use crate::facts::{DeclaredItem, MemberStanding};
use crate::ids::{ClaimId, MemberId, ParcelId, ShipmentId, SuiteCode};
use crate::measure::{Dimensions, Weight};
use crate::money::Money;
use crate::policy::InspectionLevel;
use crate::shipment::{ClaimType, TrackingNumber};
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A command to the [`super::Parcel`] aggregate. Issue it inside [`crate::Issued`]: its
/// instant is the time of the command (TIM-1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ParcelCommand {
    /// Announce a purchase the warehouse will pay the courier for on arrival (PAR-2,
    /// `proxy-payment` policy, approved shops only).
    Expect {
        /// The parcel's id (the aggregate id).
        parcel_id: ParcelId,
        /// The member who bought.
        member_id: MemberId,
        /// The approved shop.
        shop: String,
        /// The purchase date: the 45-day arrival window counts from it.
        purchased_on: NaiveDate,
    },
    /// Cancel an expected proxy-paid parcel that has not arrived in time (PAR-2).
    CancelExpected,
    /// The courier is at the door with the box (PAR-1, PAR-2, PAR-3, TIM-2, MEM-6).
    Arrive(Arrival),
    /// Attach an unidentified parcel to the member it belongs to (PAR-1).
    AttachToMember {
        /// The member, with their standing (MEM-6 Auto Pack applies on attachment).
        member: MemberStanding,
    },
    /// Declare the contents (PAR-4). Replaces any earlier declaration, which must then be
    /// confirmed again.
    Declare {
        /// The items.
        items: Vec<DeclaredItem>,
        /// Who sent the parcel.
        sender: String,
        /// Who declared.
        source: DeclarationSource,
    },
    /// The member confirms the declaration (PAR-4).
    ConfirmDeclaration,
    /// Record the inspection (INS-1 to INS-4).
    Inspect(InspectionReport),
    /// Put the inspected parcel on a shelf (STO-1, STO-2).
    Store {
        /// Shelf location.
        location: String,
        /// Arrival of the member's earliest parcel still waiting (STO-1,
        /// `first-waiting-arrival`; parcels reserved, packed or held wait too); `None` when
        /// this parcel is the earliest. For a parcel in a shipment (storage notices, the
        /// disposable mark), the earliest arrival of the shipment's parcels as well, under
        /// either anchor (STO-1: a packed shipment keeps its earliest arrival).
        earliest_waiting_arrival: Option<NaiveDate>,
    },
    /// The member asks for this parcel to be packed on its own (PAR-4, MEM-2, MEM-4).
    RequestPacking {
        /// The asking member's standing.
        member: MemberStanding,
        /// The shipment it is to be packed as: cancelling it before packing releases the
        /// parcel (CON-5).
        shipment_id: ShipmentId,
    },
    /// Take this stored parcel into shipment `shipment_id`'s consolidation (CON-3, MEM-6, PAR-4).
    ReserveForConsolidation {
        /// The shipment being consolidated.
        shipment_id: ShipmentId,
        /// The member's standing.
        member: MemberStanding,
    },
    /// The parcel was packed into shipment `shipment_id`: the shipment takes over (PAR-4).
    Pack {
        /// The shipment.
        shipment_id: ShipmentId,
    },
    /// The shipment lets the parcel go: cancelled before payment (or never opened), the
    /// parcel goes back to storage (CON-5).
    Release {
        /// The shipment.
        shipment_id: ShipmentId,
    },
    /// Its shipment, held for non-payment, was paid: the hold is released and the parcel is
    /// back in the state it was held from (PAY-2).
    ReleaseHold {
        /// The paid shipment.
        shipment_id: ShipmentId,
    },
    /// The parcel's shipment is held for non-payment (PAY-2).
    HoldForNonPayment {
        /// The fact, from the shipment.
        shipment: ShipmentHeld,
    },
    /// Send the storage-limit notice due today, if any (STO-2).
    SendStorageNotice {
        /// See [`ParcelCommand::Store`].
        earliest_waiting_arrival: Option<NaiveDate>,
    },
    /// Record that the parcel is past its maximum storage and may be disposed of (STO-2).
    MarkDisposable {
        /// See [`ParcelCommand::Store`].
        earliest_waiting_arrival: Option<NaiveDate>,
    },
    /// The member takes paid extended storage, before the free limit ends (STO-3).
    ExtendStorage {
        /// See [`ParcelCommand::Store`].
        earliest_waiting_arrival: Option<NaiveDate>,
    },
    /// Accrue the extended-storage fee of every started month not yet accrued (STO-3).
    AccrueStorageFee,
    /// Dispose of the parcel for a recorded cause (DSP-1).
    Dispose {
        /// Why, with the fact its precondition needs.
        cause: DisposalCause,
    },
    /// Return the parcel to its sender: unidentified (PAR-1) or quarantined (INS-4).
    Return {
        /// Free-text note for operations.
        note: String,
    },
    /// Its shipment moved on (paid, shipped, tracked, claimed against, a claim settled): the
    /// parcel's own stream records it too, so a subscriber following one parcel reads its
    /// whole life. Recording a fact already recorded records nothing.
    FollowShipment {
        /// The shipment the parcel travels in.
        shipment_id: ShipmentId,
        /// What happened to it, from the shipment's event.
        fact: ShipmentFact,
    },
}

impl ParcelCommand {
    /// The command's name, for refusals.
    pub fn name(&self) -> &'static str {
        match self {
            ParcelCommand::Expect { .. } => "expect",
            ParcelCommand::CancelExpected => "cancel_expected",
            ParcelCommand::Arrive(_) => "arrive",
            ParcelCommand::AttachToMember { .. } => "attach_to_member",
            ParcelCommand::Declare { .. } => "declare",
            ParcelCommand::ConfirmDeclaration => "confirm_declaration",
            ParcelCommand::Inspect(_) => "inspect",
            ParcelCommand::Store { .. } => "store",
            ParcelCommand::RequestPacking { .. } => "request_packing",
            ParcelCommand::ReserveForConsolidation { .. } => "reserve_for_consolidation",
            ParcelCommand::Pack { .. } => "pack",
            ParcelCommand::Release { .. } => "release",
            ParcelCommand::ReleaseHold { .. } => "release_hold",
            ParcelCommand::HoldForNonPayment { .. } => "hold_for_non_payment",
            ParcelCommand::SendStorageNotice { .. } => "send_storage_notice",
            ParcelCommand::MarkDisposable { .. } => "mark_disposable",
            ParcelCommand::ExtendStorage { .. } => "extend_storage",
            ParcelCommand::AccrueStorageFee => "accrue_storage_fee",
            ParcelCommand::Dispose { .. } => "dispose",
            ParcelCommand::Return { .. } => "return",
            ParcelCommand::FollowShipment { .. } => "follow_shipment",
        }
    }
}

/// A box at the door, as the receiving clerk records it (PAR-1, PAR-2, PAR-3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arrival {
    /// The parcel's id (the aggregate id).
    pub parcel_id: ParcelId,
    /// The suite code on the label, if readable (PAR-1).
    pub suite_code: Option<SuiteCode>,
    /// The member the suite code resolved to, with their standing; `None` when the code is
    /// missing or unknown: the parcel is then received as unidentified (PAR-1).
    pub member: Option<MemberStanding>,
    /// Measured weight (PAR-3).
    pub weight: Weight,
    /// Measured dimensions (PAR-3).
    pub dimensions: Dimensions,
    /// The shop that sent it, if known (PAR-2 approved shops).
    pub shop: Option<String>,
    /// Money the courier wants at the door, if any (PAR-2).
    pub collect_on_delivery: Option<CollectOnDelivery>,
}

/// Money a courier collects at the door (PAR-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectOnDelivery {
    /// Cash on delivery (goods) or carriage forward (postage).
    pub kind: CollectKind,
    /// The amount the courier asks.
    pub amount: Money,
}

/// Kinds of payment on delivery (PAR-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CollectKind {
    /// The goods are paid at the door (代引き).
    CashOnDelivery,
    /// The postage is paid at the door (着払い).
    CarriageForward,
}

/// Who declared the contents (PAR-4, seed 003 §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeclarationSource {
    /// The member.
    Member,
    /// Taken from the shop's listing (seed 003 §8.2).
    ShopListing,
}

/// What the inspector records (INS-1 to INS-4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectionReport {
    /// The level of the member's plan; `None` = the policy default (INS-1).
    pub level: Option<InspectionLevel>,
    /// Units found per variation (INS-1).
    pub variations: Vec<VariationCount>,
    /// Findings, each with evidence (INS-3).
    pub findings: Vec<Finding>,
    /// Categories of goods seen in the box; any on the policy's prohibited list
    /// quarantines the parcel (INS-4).
    pub observed_categories: Vec<String>,
    /// The actual cost (実費) of the defects of a parcel over the policy's oversize bound,
    /// in the billing currency (INS-3); required when such a parcel has a defect, not read
    /// otherwise.
    #[serde(default)]
    pub oversize_cost: Option<Money>,
}

/// Units of one variation (colour, size) in the box (INS-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VariationCount {
    /// The variation, for example `red / M`.
    pub variation: String,
    /// Units of it in the box.
    pub units: u32,
}

/// A finding of the inspection (INS-3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// What was found.
    pub kind: FindingKind,
    /// The variation concerned, if one.
    pub variation: Option<String>,
    /// Items affected (at least 1).
    pub items: u32,
    /// Photo or document references (at least 1).
    pub evidence: Vec<String>,
    /// Free text.
    pub note: Option<String>,
}

/// Kinds of finding (INS-3, seed 003 §13: "discrepancy, insufficient quantity, damage or dirt").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// Not what was ordered.
    Discrepancy,
    /// Fewer units than ordered.
    ShortQuantity,
    /// Broken or scratched.
    Damage,
    /// Stained or dirty.
    Dirt,
}

/// The Shipment aggregate's fact that a shipment is held because its quote was not paid by
/// its due date (PAY-2). Belongs in `facts.rs`; kept here until it moves there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShipmentHeld {
    /// The held shipment.
    pub shipment_id: ShipmentId,
    /// The quote's due date that passed.
    pub quote_due_on: NaiveDate,
}

/// What happened to the shipment a parcel travels in, as the Shipment aggregate recorded it
/// (`Shipment::parcel_facts`): the parcel records the same on its own stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ShipmentFact {
    /// Paid in full (PAY-1).
    Paid {
        /// The day.
        paid_on: NaiveDate,
    },
    /// Handed to the carrier (SHP-1).
    Shipped {
        /// Carrier code.
        carrier: String,
        /// The carrier's service.
        service: String,
        /// The tracking number.
        tracking_number: TrackingNumber,
        /// The day.
        shipped_on: NaiveDate,
    },
    /// Held by customs at destination (SHP-2).
    CustomsHeld {
        /// The tracking event's date.
        held_on: NaiveDate,
    },
    /// Delivered at destination (SHP-2).
    Delivered {
        /// The tracking event's date.
        delivered_on: NaiveDate,
    },
    /// Declared lost by the carrier (SHP-2).
    Lost {
        /// The tracking event's date.
        lost_on: NaiveDate,
    },
    /// Sent back by the carrier, it reached the warehouse again (SHP-2): in storage, its clock
    /// running from this day.
    ReturnReceived {
        /// The day it came back.
        received_on: NaiveDate,
    },
    /// A claim concerning the parcel was filed (CLM-1).
    Claimed {
        /// The claim.
        claim_id: ClaimId,
        /// What went wrong.
        claim_type: ClaimType,
    },
    /// A claim concerning the parcel was settled (CLM-4, CLM-5, CLM-6).
    ClaimSettled {
        /// The claim.
        claim_id: ClaimId,
        /// How.
        outcome: ClaimSettlement,
    },
}

/// Why a parcel is disposed of, with the fact the cause needs (DSP-1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum DisposalCause {
    /// Past maximum storage; the parcel must have been marked disposable (STO-2).
    PastMaxStorage,
    /// Prohibited; the parcel must be quarantined (INS-4).
    Prohibited,
    /// Left behind at the member's withdrawal (MEM-8).
    LeftAtWithdrawal {
        /// The owner's standing: must be withdrawing.
        member: MemberStanding,
    },
    /// Its shipment is held for non-payment (PAY-2).
    Unpaid {
        /// The fact, from the shipment.
        shipment: ShipmentHeld,
    },
    /// Its shipment came back to the warehouse and the member had it disposed of (SHP-2).
    ReturnAbandoned {
        /// The shipment, which recorded the member's choice.
        shipment_id: ShipmentId,
    },
}
