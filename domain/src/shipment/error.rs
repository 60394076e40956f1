//! The refusals of the Shipment aggregate, each with a stable code and the rule it enforces.

use super::claim::{ClaimStatus, ClaimType};
use super::ShipmentStatus;
use crate::calendar::OutsideCalendar;
use crate::facts::StandingStatus;
use crate::ids::{ClaimId, MemberId, ParcelId};
use crate::money::{Currency, CurrencyMismatch, Money};
use crate::rules::{Refusal, Rule};
use chrono::{DateTime, NaiveDate, Utc};

/// Why a shipment command was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ShipmentError {
    // ---------------------------------------------------------------- lifecycle
    /// The command makes no sense in the shipment's current state.
    #[error("{command} is not possible while the shipment is {status:?}")]
    InvalidState {
        /// The command refused.
        command: &'static str,
        /// The shipment's status.
        status: ShipmentStatus,
    },
    /// The member's standing given is another member's.
    #[error("member {given} is not the owner of this shipment ({owner})")]
    NotMembersShipment {
        /// The shipment's member.
        owner: MemberId,
        /// The member given.
        given: MemberId,
    },

    // ---------------------------------------------------------------- member (MEM-2, MEM-4)
    /// An unverified member may receive and store, but request or pay nothing (MEM-2).
    #[error("member identity is not verified: no shipment can be requested or paid (MEM-2)")]
    MemberUnverified,
    /// A suspended member requests nothing and pays nothing but debts (MEM-4).
    #[error("member is suspended: nothing can be requested or paid (MEM-4)")]
    MemberSuspended,
    /// A withdrawing or closed member requests nothing (MEM-4).
    #[error("member is {status:?}: nothing can be requested or paid (MEM-4)")]
    MemberInactive {
        /// Where the member stands.
        status: StandingStatus,
    },

    // ---------------------------------------------------------------- consolidation (CON-*)
    /// Consolidation needs at least `min` parcels (CON-1).
    #[error("consolidation needs at least {min} parcels, {given} given (CON-1)")]
    TooFewParcels {
        /// The policy's minimum.
        min: u32,
        /// Parcels given.
        given: usize,
    },
    /// The same parcel twice in one request (CON-3).
    #[error("parcel {parcel_id} is listed twice (CON-3)")]
    DuplicateParcel {
        /// The parcel.
        parcel_id: ParcelId,
    },
    /// A parcel of another member (CON-1).
    #[error("parcel {parcel_id} belongs to another member (CON-1)")]
    ForeignParcel {
        /// The parcel.
        parcel_id: ParcelId,
    },
    /// A parcel under Auto Pack is never consolidated (CON-1, MEM-6).
    #[error("parcel {parcel_id} is under Auto Pack and cannot be consolidated (CON-1, MEM-6)")]
    AutoPackParcel {
        /// The parcel.
        parcel_id: ParcelId,
    },
    /// Total weight at or above the limit (CON-2).
    #[error(
        "total weight {total_g} g is at or above the consolidation limit of {limit_g} g (CON-2)"
    )]
    WeightLimit {
        /// Total weight of the parcels.
        total_g: u64,
        /// The limit.
        limit_g: u32,
    },
    /// Declared value total at or above the limit (CON-2).
    #[error("declared value {total} is at or above the consolidation limit of {limit} (CON-2)")]
    ValueLimit {
        /// Declared value total.
        total: Money,
        /// The limit.
        limit: Money,
    },

    // ---------------------------------------------------------------- money
    /// Amounts in different currencies met without a recorded rate (MON-1).
    #[error("amount in {found} where {expected} was expected (MON-1)")]
    CurrencyMismatch {
        /// The currency expected.
        expected: Currency,
        /// The currency found.
        found: Currency,
    },

    // ---------------------------------------------------------------- quote (FEE-*)
    /// The carrier is not in the tariff (FEE-1).
    #[error("carrier {carrier:?} is not in the tariff (FEE-1)")]
    UnknownCarrier {
        /// The carrier code given.
        carrier: String,
    },
    /// The carrier does not serve the destination (FEE-1).
    #[error("carrier {carrier} does not serve {destination:?} (FEE-1)")]
    DestinationNotServed {
        /// The carrier.
        carrier: String,
        /// The destination given.
        destination: String,
    },
    /// An option not in the price list (FEE-1).
    #[error("option {option:?} is not offered (FEE-1)")]
    UnknownOption {
        /// The option code.
        option: String,
    },
    /// The same option twice (FEE-1).
    #[error("option {option:?} is listed twice (FEE-1)")]
    DuplicateOption {
        /// The option code.
        option: String,
    },
    /// Insurance for nothing (FEE-3).
    #[error("the insured amount must be positive, {requested} given (FEE-3)")]
    InvalidInsuredAmount {
        /// The amount requested.
        requested: Money,
    },
    /// This operator offers no warranty add-on (FEE-2).
    #[error("the warranty add-on is not offered (FEE-2)")]
    WarrantyNotOffered,

    // ---------------------------------------------------------------- payment (PAY-*, MEM-7, ACC-5)
    /// A shipment is paid once (PAY-1).
    #[error("the shipment is already paid (PAY-1)")]
    AlreadyPaid,
    /// A payment must be the quote in full, plus the PayPal fee for PayPal (PAY-1, ACC-5).
    #[error("payment of {offered} does not match the amount due, {expected} (PAY-1)")]
    AmountMismatch {
        /// The amount due.
        expected: Money,
        /// The amount offered.
        offered: Money,
    },
    /// Auto Ship pays only quotes at or under the member's limit (MEM-7).
    #[error("quote total {total} is over the Auto Ship limit {limit:?} (MEM-7)")]
    AutoShipOverLimit {
        /// The quote total.
        total: Money,
        /// The member's limit, if Auto Ship is set.
        limit: Option<Money>,
    },
    /// The PayPal fixed fee is in another currency and no rate was given (MON-2).
    #[error("a recorded {from}/{to} exchange rate is needed for the PayPal fee (MON-2)")]
    ExchangeRateRequired {
        /// Currency of the fixed fee.
        from: Currency,
        /// Currency of the payment.
        to: Currency,
    },
    /// The rate given cannot convert the PayPal fixed fee (MON-2).
    #[error("exchange rate unusable for the PayPal fee: {reason} (MON-2)")]
    ExchangeRateUnusable {
        /// Why.
        reason: String,
    },
    /// The rate given is recorded for another day than the payment's (MON-2).
    #[error("the exchange rate is valid on {valid_on}, not on {applied_on}, the day of the payment (MON-2)")]
    ExchangeRateStale {
        /// The day the rate is valid on.
        valid_on: NaiveDate,
        /// The day of the payment.
        applied_on: NaiveDate,
    },
    /// Held only after the due date (PAY-2).
    #[error("the quote is due on {due_on}: it cannot be held before the day after (PAY-2)")]
    NotYetDue {
        /// The due date.
        due_on: NaiveDate,
    },
    /// A payment reminder is sent only after the due date (ACC-6).
    #[error("the quote is due on {due_on}: no reminder before the day after (ACC-6)")]
    ReminderNotYetDue {
        /// The due date.
        due_on: NaiveDate,
    },
    /// One payment reminder per quote (ACC-6).
    #[error("the member was already reminded on {reminded_on} (ACC-6)")]
    AlreadyReminded {
        /// The day of the reminder.
        reminded_on: NaiveDate,
    },
    /// The dunning notice follows a reminder (ACC-6).
    #[error("no payment reminder was sent yet: a dunning notice follows one (ACC-6)")]
    NotReminded,
    /// The dunning notice waits a week after the reminder (ACC-6).
    #[error("the dunning notice is due from {from}, a week after the reminder (ACC-6)")]
    DunningNotYetDue {
        /// The first day it may be sent.
        from: NaiveDate,
    },
    /// Late interest runs only after a dunning notice's deadline (ACC-6).
    #[error("no dunning notice was sent: no late interest runs (ACC-6)")]
    NoDunningNotice,
    /// One dunning notice per quote (ACC-6).
    #[error("the dunning notice was already sent on {sent_on} (ACC-6)")]
    DunningAlreadySent {
        /// The day it was sent.
        sent_on: NaiveDate,
    },

    // ---------------------------------------------------------------- cancellation (CON-5)
    /// Cancelled only until paid (CON-5).
    #[error("a paid shipment cannot be cancelled (CON-5)")]
    CancelAfterPayment,

    // ---------------------------------------------------------------- shipping (SHP-*)
    /// Only paid shipments ship (SHP-1).
    #[error("the shipment is not paid and cannot ship (SHP-1)")]
    NotPaid,
    /// Shipping with a carrier not in the tariff (SHP-1).
    #[error("carrier {carrier:?} is not in the carrier list (SHP-1)")]
    ShippingUnknownCarrier {
        /// The carrier code given.
        carrier: String,
    },
    /// Shipping with another carrier than the one quoted and paid for (SHP-1).
    #[error("the shipment was quoted for {quoted}, not {given} (SHP-1)")]
    CarrierNotQuoted {
        /// The quoted carrier.
        quoted: String,
        /// The carrier given.
        given: String,
    },
    /// Shipping needs the carrier's service name (SHP-1).
    #[error("the carrier service must be named (SHP-1)")]
    ServiceRequired,
    /// A negative declared value (SHP-1).
    #[error("declared value {declared_value} must not be negative (SHP-1)")]
    InvalidDeclaredValue {
        /// The value given.
        declared_value: Money,
    },
    /// A held shipment some of whose parcels were disposed of for non-payment can no longer
    /// be paid (PAY-2): what it would ship is gone.
    #[error("parcels {parcels:?} of the held shipment were disposed of; it can no longer be paid (PAY-2)")]
    ParcelsDisposed {
        /// The parcels disposed of.
        parcels: Vec<ParcelId>,
    },
    /// The policy offers no redelivery abroad through the warehouse (SHP-2).
    #[error("this warehouse arranges no redelivery abroad (SHP-2)")]
    RedeliveryNotOffered,
    /// A redelivery cost not in the billing currency, or negative (SHP-2).
    #[error("redelivery cost {cost} must be zero or more, in {currency} (SHP-2)")]
    InvalidRedeliveryCost {
        /// The cost given.
        cost: Money,
        /// The billing currency.
        currency: Currency,
    },
    /// The duty payment is chosen before dispatch (ACC-8).
    #[error("how duty is paid is chosen before the shipment leaves; it is {status:?} (ACC-8)")]
    DutyChoiceAfterDispatch {
        /// Where the shipment stands.
        status: ShipmentStatus,
    },
    /// Sea freight's duty can only be advanced under this policy (ACC-8).
    #[error("sea freight ({carrier}) has its duty advanced by the warehouse only (ACC-8)")]
    SeaFreightDutyAdvanceOnly {
        /// The sea carrier quoted.
        carrier: String,
    },
    /// A return cost that is negative or not in the billing currency (SHP-2).
    #[error("return cost {return_cost} must be zero or more, in {currency} (SHP-2)")]
    InvalidReturnCost {
        /// The cost given.
        return_cost: Money,
        /// The billing currency.
        currency: Currency,
    },
    /// Tracking updates apply to shipments in transit (SHP-2).
    #[error("tracking updates apply to a shipment in transit; it is {status:?} (SHP-2)")]
    NotInTransit {
        /// The shipment's status.
        status: ShipmentStatus,
    },
    /// A tracking date before the shipment shipped, or after the command (SHP-2).
    #[error("tracking date {on} is outside {shipped_on}..={today} (SHP-2)")]
    TrackingDateOutOfRange {
        /// The date reported.
        on: NaiveDate,
        /// The day it shipped.
        shipped_on: NaiveDate,
        /// The local date of the command.
        today: NaiveDate,
    },

    // ---------------------------------------------------------------- claims (CLM-*)
    /// A claim id already used on this shipment.
    #[error("claim {claim_id} already exists")]
    DuplicateClaim {
        /// The claim id.
        claim_id: ClaimId,
    },
    /// No claim with this id.
    #[error("claim {claim_id} not found")]
    ClaimNotFound {
        /// The claim id.
        claim_id: ClaimId,
    },
    /// Claims are made on shipments that shipped (CLM-1).
    #[error("claims can be made only on a shipped shipment; it is {status:?} (CLM-1)")]
    ClaimNotShipped {
        /// The shipment's status.
        status: ShipmentStatus,
    },
    /// Only a loss can be claimed before delivery (CLM-1).
    #[error("a {claim_type:?} claim needs the shipment delivered (CLM-1)")]
    ClaimNeedsDelivery {
        /// The claim type.
        claim_type: ClaimType,
    },
    /// The claim type needs the item named (CLM-1).
    #[error("a {claim_type:?} claim must name the item concerned (CLM-1)")]
    ItemRequired {
        /// The claim type.
        claim_type: ClaimType,
    },
    /// The item named is not in the shipment's declarations (CLM-1).
    #[error("claimed item is not in the shipment: {reason} (CLM-1)")]
    InvalidItem {
        /// Why.
        reason: String,
    },
    /// Evidence with nothing in it (CLM-1).
    #[error("no evidence given (CLM-1)")]
    EmptyEvidence,
    /// Decided only with complete evidence (CLM-1).
    #[error("claim {claim_id} is still waiting for evidence (CLM-1)")]
    AwaitingEvidence {
        /// The claim id.
        claim_id: ClaimId,
    },
    /// Past the claim window (CLM-2).
    #[error("claim window closed: claims are accepted until {last_day}, counted from {basis_date} (CLM-2)")]
    ClaimWindowClosed {
        /// Delivery or lost status date.
        basis_date: NaiveDate,
        /// The last day a claim was accepted.
        last_day: NaiveDate,
    },
    /// Warranty add-on claims within its own window from the day it was taken (FEE-2).
    #[error("warranty add-on claims closed on {last_day}, counted from the day it was taken, {taken_on} (FEE-2)")]
    WarrantyWindowClosed {
        /// The day the add-on was taken (the quote buying it was paid).
        taken_on: NaiveDate,
        /// The last day.
        last_day: NaiveDate,
    },
    /// No warranty add-on was bought for this shipment (FEE-2).
    #[error("the shipment has no warranty add-on (FEE-2)")]
    NoWarranty,
    /// The claim is closed.
    #[error("claim {claim_id} is {status:?} and can no longer change")]
    ClaimClosed {
        /// The claim id.
        claim_id: ClaimId,
        /// Its status.
        status: ClaimStatus,
    },
    /// The command does not apply to the claim as it stands.
    #[error("{command} is not possible while claim {claim_id} is {status:?}")]
    ClaimInvalidState {
        /// The command refused.
        command: &'static str,
        /// The claim id.
        claim_id: ClaimId,
        /// Its status.
        status: ClaimStatus,
    },
    /// Escalated only once the response is overdue (CLM-3).
    #[error("the response to claim {claim_id} is due before {response_due}: not overdue (CLM-3)")]
    ResponseNotOverdue {
        /// The claim id.
        claim_id: ClaimId,
        /// The response deadline.
        response_due: DateTime<Utc>,
    },
    /// A claim answered is not escalated (CLM-3).
    #[error("claim {claim_id} was responded to and is not escalated (CLM-3)")]
    AlreadyResponded {
        /// The claim id.
        claim_id: ClaimId,
    },
    /// Escalated once (CLM-3).
    #[error("claim {claim_id} is already escalated (CLM-3)")]
    AlreadyEscalated {
        /// The claim id.
        claim_id: ClaimId,
    },
    /// A rejection states its reason (CLM-5).
    #[error("a rejection needs a reason (CLM-5)")]
    ReasonRequired,
    /// A payout must be positive (CLM-5).
    #[error("a payout must be positive, {payout} given (CLM-5)")]
    InvalidPayout {
        /// The payout given.
        payout: Money,
    },
    /// The payout is over its cap (CLM-5).
    #[error("payout {payout} is over the cap of {cap} (CLM-5)")]
    PayoutOverCap {
        /// The payout asked.
        payout: Money,
        /// The cap.
        cap: Money,
    },
    /// A shipment with a side over the limit gets no damage compensation (CLM-5).
    #[error("a shipment with a side of {longest_side_mm} mm (over {limit_mm} mm) gets no damage compensation (CLM-5)")]
    NoDamageCompensation {
        /// The packed shipment's longest side.
        longest_side_mm: u32,
        /// The policy's limit.
        limit_mm: u32,
    },
    /// Carrier damage is compensated only with the packing options the policy names (CLM-5).
    #[error("carrier damage is compensated only with the packing options {missing:?} (CLM-5)")]
    PackingNotCompensated {
        /// The option groups the shipment's quote had none of.
        missing: Vec<Vec<String>>,
        /// The options it had.
        chosen: Vec<String>,
    },
    /// A missed defect is compensated only on the plans the policy names (CLM-5).
    #[error("a missed defect on an item bought under {order_service:?} is not compensated; only {plans:?} are (CLM-5)")]
    PlanNotCompensated {
        /// The item's order service, if declared.
        order_service: Option<String>,
        /// The plans compensated.
        plans: Vec<String>,
    },
    /// Exchanges are made under the warranty add-on (CLM-6).
    #[error("claim {claim_id} is not under the warranty add-on: no exchange (CLM-6)")]
    NotUnderWarranty {
        /// The claim id.
        claim_id: ClaimId,
    },
    /// At most `max` exchanges per add-on (CLM-6).
    #[error("the warranty add-on allows {max} exchange(s), all used (CLM-6)")]
    ExchangeLimit {
        /// The policy's maximum.
        max: u32,
    },
    /// The exchanged item may still arrive (CLM-6).
    #[error("the exchanged item may reach the warehouse until {return_by}: not lapsed (CLM-6)")]
    ExchangeNotLapsed {
        /// The last day.
        return_by: NaiveDate,
    },
    /// The exchanged item came too late (CLM-6).
    #[error(
        "the exchanged item had to reach the warehouse by {return_by}: the claim lapsed (CLM-6)"
    )]
    ExchangeLapsed {
        /// The last day.
        return_by: NaiveDate,
    },

    // ---------------------------------------------------------------- calendar
    /// A business-day deadline runs outside the warehouse calendar's known dates (TIM-2).
    #[error(transparent)]
    OutsideCalendar(#[from] OutsideCalendar),
}

impl From<CurrencyMismatch> for ShipmentError {
    fn from(e: CurrencyMismatch) -> Self {
        ShipmentError::CurrencyMismatch {
            expected: e.left,
            found: e.right,
        }
    }
}

impl Refusal for ShipmentError {
    fn code(&self) -> &'static str {
        use ShipmentError::*;
        match self {
            InvalidState { .. } => "shipment.invalid_state",
            NotMembersShipment { .. } => "shipment.not_members_shipment",
            MemberUnverified => "member.unverified",
            MemberSuspended => "member.suspended",
            MemberInactive { .. } => "member.inactive",
            TooFewParcels { .. } => "consolidation.too_few_parcels",
            DuplicateParcel { .. } => "consolidation.duplicate_parcel",
            ForeignParcel { .. } => "shipment.foreign_parcel",
            AutoPackParcel { .. } => "consolidation.auto_pack_parcel",
            WeightLimit { .. } => "consolidation.weight_limit",
            ValueLimit { .. } => "consolidation.value_limit",
            CurrencyMismatch { .. } => "money.currency_mismatch",
            UnknownCarrier { .. } => "tariff.unknown_carrier",
            DestinationNotServed { .. } => "tariff.destination_not_served",
            UnknownOption { .. } => "quote.unknown_option",
            DuplicateOption { .. } => "quote.duplicate_option",
            InvalidInsuredAmount { .. } => "quote.invalid_insured_amount",
            WarrantyNotOffered => "quote.warranty_not_offered",
            AlreadyPaid => "payment.already_paid",
            AmountMismatch { .. } => "payment.amount_mismatch",
            AutoShipOverLimit { .. } => "payment.auto_ship_over_limit",
            ExchangeRateRequired { .. } => "payment.exchange_rate_required",
            ExchangeRateUnusable { .. } => "payment.exchange_rate_unusable",
            ExchangeRateStale { .. } => "payment.exchange_rate_stale",
            NotYetDue { .. } => "payment.not_yet_due",
            ReminderNotYetDue { .. } => "dunning.reminder_not_yet_due",
            AlreadyReminded { .. } => "dunning.already_reminded",
            NotReminded => "dunning.not_reminded",
            NoDunningNotice => "dunning.no_notice",
            DunningNotYetDue { .. } => "dunning.notice_not_yet_due",
            DunningAlreadySent { .. } => "dunning.notice_already_sent",
            CancelAfterPayment => "cancellation.after_payment",
            NotPaid => "shipping.not_paid",
            ShippingUnknownCarrier { .. } => "shipping.unknown_carrier",
            CarrierNotQuoted { .. } => "shipping.carrier_not_quoted",
            ServiceRequired => "shipping.service_required",
            InvalidDeclaredValue { .. } => "shipping.invalid_declared_value",
            InvalidReturnCost { .. } => "return.invalid_cost",
            DutyChoiceAfterDispatch { .. } => "duty.after_dispatch",
            RedeliveryNotOffered => "redelivery.not_offered",
            ParcelsDisposed { .. } => "payment.parcels_disposed",
            InvalidRedeliveryCost { .. } => "redelivery.invalid_cost",
            SeaFreightDutyAdvanceOnly { .. } => "duty.sea_freight_advance_only",
            NotInTransit { .. } => "tracking.not_in_transit",
            TrackingDateOutOfRange { .. } => "tracking.date_out_of_range",
            DuplicateClaim { .. } => "claim.duplicate_id",
            ClaimNotFound { .. } => "claim.not_found",
            ClaimNotShipped { .. } => "claim.not_shipped",
            ClaimNeedsDelivery { .. } => "claim.needs_delivery",
            ItemRequired { .. } => "claim.item_required",
            InvalidItem { .. } => "claim.invalid_item",
            EmptyEvidence => "claim.empty_evidence",
            AwaitingEvidence { .. } => "claim.awaiting_evidence",
            ClaimWindowClosed { .. } => "claim.window_closed",
            WarrantyWindowClosed { .. } => "claim.warranty_window_closed",
            NoWarranty => "claim.no_warranty",
            ClaimClosed { .. } => "claim.closed",
            ClaimInvalidState { .. } => "claim.invalid_state",
            ResponseNotOverdue { .. } => "claim.response_not_overdue",
            AlreadyResponded { .. } => "claim.already_responded",
            AlreadyEscalated { .. } => "claim.already_escalated",
            ReasonRequired => "claim.reason_required",
            InvalidPayout { .. } => "claim.invalid_payout",
            PayoutOverCap { .. } => "claim.payout_over_cap",
            NoDamageCompensation { .. } => "claim.no_damage_compensation",
            PackingNotCompensated { .. } => "claim.packing_not_compensated",
            PlanNotCompensated { .. } => "claim.plan_not_compensated",
            NotUnderWarranty { .. } => "claim.not_under_warranty",
            ExchangeLimit { .. } => "claim.exchange_limit",
            ExchangeNotLapsed { .. } => "claim.exchange_not_lapsed",
            ExchangeLapsed { .. } => "claim.exchange_lapsed",
            OutsideCalendar(_) => "calendar.not_covered",
        }
    }

    fn rule(&self) -> Option<Rule> {
        use ShipmentError::*;
        Some(match self {
            InvalidState { .. }
            | NotMembersShipment { .. }
            | DuplicateClaim { .. }
            | ClaimNotFound { .. }
            | ClaimClosed { .. }
            | ClaimInvalidState { .. } => return None,
            MemberUnverified => Rule::Mem2,
            MemberSuspended | MemberInactive { .. } => Rule::Mem4,
            TooFewParcels { .. } | ForeignParcel { .. } | AutoPackParcel { .. } => Rule::Con1,
            DuplicateParcel { .. } => Rule::Con3,
            WeightLimit { .. } | ValueLimit { .. } => Rule::Con2,
            CurrencyMismatch { .. } => Rule::Mon1,
            UnknownCarrier { .. }
            | DestinationNotServed { .. }
            | UnknownOption { .. }
            | DuplicateOption { .. } => Rule::Fee1,
            InvalidInsuredAmount { .. } => Rule::Fee3,
            WarrantyNotOffered | WarrantyWindowClosed { .. } | NoWarranty => Rule::Fee2,
            AlreadyPaid | AmountMismatch { .. } => Rule::Pay1,
            AutoShipOverLimit { .. } => Rule::Mem7,
            ExchangeRateRequired { .. }
            | ExchangeRateUnusable { .. }
            | ExchangeRateStale { .. } => Rule::Mon2,
            NotYetDue { .. } => Rule::Pay2,
            ReminderNotYetDue { .. }
            | AlreadyReminded { .. }
            | NotReminded
            | NoDunningNotice
            | DunningNotYetDue { .. }
            | DunningAlreadySent { .. } => Rule::Acc6,
            CancelAfterPayment => Rule::Con5,
            NotPaid
            | ShippingUnknownCarrier { .. }
            | CarrierNotQuoted { .. }
            | ServiceRequired
            | InvalidDeclaredValue { .. } => Rule::Shp1,
            NotInTransit { .. } | TrackingDateOutOfRange { .. } | InvalidReturnCost { .. } => {
                Rule::Shp2
            }
            DutyChoiceAfterDispatch { .. } | SeaFreightDutyAdvanceOnly { .. } => Rule::Acc8,
            RedeliveryNotOffered | InvalidRedeliveryCost { .. } => Rule::Shp2,
            ParcelsDisposed { .. } => Rule::Pay2,
            ClaimNotShipped { .. }
            | ClaimNeedsDelivery { .. }
            | ItemRequired { .. }
            | InvalidItem { .. }
            | EmptyEvidence
            | AwaitingEvidence { .. } => Rule::Clm1,
            ClaimWindowClosed { .. } => Rule::Clm2,
            ResponseNotOverdue { .. } | AlreadyResponded { .. } | AlreadyEscalated { .. } => {
                Rule::Clm3
            }
            ReasonRequired
            | InvalidPayout { .. }
            | PayoutOverCap { .. }
            | NoDamageCompensation { .. }
            | PackingNotCompensated { .. }
            | PlanNotCompensated { .. } => Rule::Clm5,
            NotUnderWarranty { .. }
            | ExchangeLimit { .. }
            | ExchangeNotLapsed { .. }
            | ExchangeLapsed { .. } => Rule::Clm6,
            OutsideCalendar(_) => Rule::Tim2,
        })
    }
}
