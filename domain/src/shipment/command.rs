//! Commands of the Shipment aggregate. Facts owned by other aggregates (the member's
//! standing, the parcels as measured and declared) are looked up by the caller and passed in.

use super::claim::{ClaimType, ClaimedItem, Evidence};
use super::tracking::{TrackingNumber, TrackingStatus};
use crate::exchange::ExchangeRate;
use crate::facts::{MemberStanding, ParcelFacts};
use crate::ids::{ClaimId, ShipmentId};
use crate::measure::{Dimensions, Weight};
use crate::money::Money;
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How the import duty of a shipment is paid (ACC-8), chosen by the member before dispatch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DutyPayment {
    /// By the recipient to the carrier on delivery: the default (seed 001: デフォルトはⅡ).
    #[default]
    RecipientOnDelivery,
    /// Advanced by the warehouse, for its fee, and charged to the balance when customs bills
    /// it (ACC-8).
    Advance,
}

/// How a shipment is paid (PAY-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    /// From the prepaid charge-account balance.
    Balance,
    /// By card; the PayPal fee is charged when PayPal provides the card payment (ACC-5, the
    /// policy's `paypal_processed_methods`).
    Card,
    /// By PayPal; the PayPal fee is charged to the member (ACC-5).
    Paypal,
    /// Automatically under the member's Auto Ship limit (MEM-7).
    AutoShip,
}

/// What can be asked of a shipment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ShipmentCommand {
    /// The member asks for stored parcels to be packed as one shipment (CON-1, CON-2,
    /// MEM-2, MEM-4, MEM-6).
    RequestConsolidation {
        /// The new shipment's id.
        shipment_id: ShipmentId,
        /// The member's standing (Member aggregate).
        member: MemberStanding,
        /// The parcels as the Parcel aggregates report them.
        parcels: Vec<ParcelFacts>,
    },
    /// The member (or Auto Pack, MEM-6) asks for one stored parcel to be packed on its own
    /// (MEM-2, MEM-4).
    RequestPacking {
        /// The new shipment's id.
        shipment_id: ShipmentId,
        /// The member's standing.
        member: MemberStanding,
        /// The parcel.
        parcel: ParcelFacts,
    },
    /// The warehouse records the packed shipment as measured, packed for `carrier`; it is
    /// split into pieces where the carrier needs it (CON-4).
    RecordPacking {
        /// Carrier code of the tariff the shipment was packed for.
        carrier: String,
        /// Measured weight of the packed shipment.
        weight: Weight,
        /// Measured outer dimensions.
        dimensions: Dimensions,
    },
    /// The warehouse quotes the shipment for a carrier and destination (FEE-1, FEE-2, FEE-3);
    /// a quote within the member's Auto Ship limit is paid at once (MEM-7).
    Quote {
        /// The member's standing now (Auto Ship limit, MEM-7).
        member: MemberStanding,
        /// Carrier code of the tariff.
        carrier: String,
        /// Destination country, ISO 3166 alpha-2.
        destination: String,
        /// Packing options by code, charged per piece.
        #[serde(default)]
        options: Vec<String>,
        /// Amount to insure (FEE-3), in the billing currency.
        #[serde(default)]
        insurance: Option<Money>,
        /// Buy the warranty add-on (FEE-2).
        #[serde(default)]
        warranty: bool,
    },
    /// The member pays the quote (PAY-1, ACC-5, MEM-4).
    Pay {
        /// The member's standing now.
        member: MemberStanding,
        /// How.
        method: PaymentMethod,
        /// The amount paid: the quote total, plus the PayPal fee when PayPal processes the
        /// method (the policy's `paypal_processed_methods`, ACC-5).
        amount: Money,
        /// The reference rate for converting the PayPal fixed fee when it is in another
        /// currency than the quote (MON-2).
        #[serde(default)]
        exchange_rate: Option<ExchangeRate>,
    },
    /// Holds a shipment whose quote is unpaid past its due date (PAY-2).
    HoldUnpaid,
    /// Reminds the member of a quote unpaid on its due date (ACC-6, first step).
    RemindPayment,
    /// Sends the dunning notice of a quote still unpaid a week after the reminder, with its
    /// deadline; late interest runs from the day after it (ACC-6).
    SendDunningNotice,
    /// Cancels the shipment until it is paid; its parcels return to storage (CON-5).
    Cancel {
        /// Why.
        reason: String,
    },
    /// The warehouse hands a paid shipment to the carrier (SHP-1).
    Ship {
        /// Carrier code; must be the carrier quoted.
        carrier: String,
        /// The carrier's service (for example `EMS`, `Express Worldwide`).
        service: String,
        /// The tracking number.
        tracking_number: TrackingNumber,
        /// Value declared to customs.
        declared_value: Money,
    },
    /// A carrier tracking update (SHP-2).
    RecordTracking {
        /// What tracking reports.
        status: TrackingStatus,
        /// The date of the tracking event (at destination, for a delivery).
        on: NaiveDate,
        /// Free text from the carrier.
        #[serde(default)]
        note: Option<String>,
    },
    /// The member files a claim (CLM-1, CLM-2, FEE-2).
    FileClaim {
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
    },
    /// The member adds evidence to a claim (CLM-1).
    AddClaimEvidence {
        /// The claim.
        claim_id: ClaimId,
        /// The evidence added.
        evidence: Evidence,
    },
    /// The warehouse responds to a claim (CLM-3).
    RespondToClaim {
        /// The claim.
        claim_id: ClaimId,
        /// The response.
        message: String,
    },
    /// Escalates a claim not responded to in time (CLM-3).
    EscalateClaim {
        /// The claim.
        claim_id: ClaimId,
    },
    /// The member withdraws an open claim (CLM-4).
    WithdrawClaim {
        /// The claim.
        claim_id: ClaimId,
        /// Why, if said.
        #[serde(default)]
        reason: Option<String>,
    },
    /// The warehouse rejects a claim (CLM-5).
    RejectClaim {
        /// The claim.
        claim_id: ClaimId,
        /// Why.
        reason: String,
    },
    /// The warehouse approves a claim with a payout, within its cap (CLM-5).
    ApproveClaim {
        /// The claim.
        claim_id: ClaimId,
        /// The amount credited to the member.
        payout: Money,
    },
    /// The warehouse accepts an exchange under the warranty add-on (CLM-6).
    AcceptExchange {
        /// The claim.
        claim_id: ClaimId,
    },
    /// The item sent back for an exchange reached the warehouse (CLM-6).
    RecordExchangeItemReceived {
        /// The claim.
        claim_id: ClaimId,
    },
    /// The item sent back for an exchange did not arrive in time (CLM-6).
    LapseExchange {
        /// The claim.
        claim_id: ClaimId,
    },
    /// The shipment the carrier sent back reached the warehouse (SHP-2): it re-enters storage,
    /// its storage clock running again from today, and its return costs, as billed, are
    /// charged to the member. The member then has it re-shipped (a new quote) or disposed of.
    ReceiveReturn {
        /// What the return cost, as the carrier billed it, in the billing currency.
        return_cost: Money,
    },
    /// The member has the shipment that came back disposed of instead of re-shipped (SHP-2).
    AbandonReturn,
    /// The recipient did not receive it and it is redelivered abroad from the carrier's or
    /// broker's warehouse, for what they bill, at least the policy's minimum (SHP-2).
    ChargeRedelivery {
        /// What the redelivery cost, as billed, in the billing currency.
        cost: Money,
    },
    /// The member chooses, before dispatch, how the import duty is paid (ACC-8).
    ChooseDutyPayment {
        /// Paid by the recipient on delivery, or advanced by the warehouse.
        payment: DutyPayment,
    },
}

impl ShipmentCommand {
    /// The command's name, for refusals.
    pub fn name(&self) -> &'static str {
        match self {
            ShipmentCommand::RequestConsolidation { .. } => "request_consolidation",
            ShipmentCommand::RequestPacking { .. } => "request_packing",
            ShipmentCommand::RecordPacking { .. } => "record_packing",
            ShipmentCommand::Quote { .. } => "quote",
            ShipmentCommand::Pay { .. } => "pay",
            ShipmentCommand::HoldUnpaid => "hold_unpaid",
            ShipmentCommand::RemindPayment => "remind_payment",
            ShipmentCommand::SendDunningNotice => "send_dunning_notice",
            ShipmentCommand::Cancel { .. } => "cancel",
            ShipmentCommand::Ship { .. } => "ship",
            ShipmentCommand::RecordTracking { .. } => "record_tracking",
            ShipmentCommand::FileClaim { .. } => "file_claim",
            ShipmentCommand::AddClaimEvidence { .. } => "add_claim_evidence",
            ShipmentCommand::RespondToClaim { .. } => "respond_to_claim",
            ShipmentCommand::EscalateClaim { .. } => "escalate_claim",
            ShipmentCommand::WithdrawClaim { .. } => "withdraw_claim",
            ShipmentCommand::RejectClaim { .. } => "reject_claim",
            ShipmentCommand::ApproveClaim { .. } => "approve_claim",
            ShipmentCommand::AcceptExchange { .. } => "accept_exchange",
            ShipmentCommand::RecordExchangeItemReceived { .. } => "record_exchange_item_received",
            ShipmentCommand::LapseExchange { .. } => "lapse_exchange",
            ShipmentCommand::ReceiveReturn { .. } => "receive_return",
            ShipmentCommand::AbandonReturn => "abandon_return",
            ShipmentCommand::ChooseDutyPayment { .. } => "choose_duty_payment",
            ShipmentCommand::ChargeRedelivery { .. } => "charge_redelivery",
        }
    }
}
