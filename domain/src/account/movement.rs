//! Movements of a charge account (ACC-1): the signed amounts every balance is the sum of,
//! their reason codes, and which debts may take the balance below zero (ACC-4).

use super::event::AccountEvent;
use crate::ids::CauseId;
use crate::money::{Currency, CurrencyMismatch, Money};
use crate::rules::Rule;
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Why money moved: the reason code recorded with every movement (ACC-1). The billing view
/// groups fees by this code.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// An approved top-up application (ACC-2).
    TopUp,
    /// A shipment paid from the balance (PAY-1).
    ShipmentPayment,
    /// Paid extended storage (STO-3).
    StorageFee,
    /// A paid inspection (INS-1).
    InspectionFee,
    /// A defect found at inspection (INS-3).
    DefectFee,
    /// Cash on delivery paid to the courier for the member, with its surcharge (PAR-2).
    ProxyPayment,
    /// A parcel disposed of (DSP-1).
    DisposalFee,
    /// Items destroyed because they were left behind at withdrawal (MEM-8).
    WithdrawalDisposalFee,
    /// Import duty the warehouse advanced, billed after shipping (ACC-8).
    Duty,
    /// The fee for advancing duty (ACC-8).
    DutyAdvanceFee,
    /// Interest on an overdue amount (ACC-6).
    LateInterest,
    /// A claim paid out to the balance (CLM-5).
    ClaimPayout,
    /// What the carrier billed for sending a shipment back to the warehouse (SHP-2).
    ReturnCost,
    /// A redelivery abroad, at least the policy's minimum (SHP-2).
    RedeliveryFee,
    /// What a disposed parcel sold for, less the costs of selling it (DSP-1).
    SaleProceeds,
    /// The whole balance paid back at withdrawal (ACC-7).
    Refund,
    /// A shipment payment credited back because the shipment refused it after the debit
    /// (PAY-1: the write side debits first, then pays the shipment; it never deletes the debit).
    PaymentReversal,
}

/// Whether a debit must be covered by the balance (ACC-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DebitKind {
    /// Buys something not yet delivered (a shipment, a duty advance): refused when it would
    /// take the balance below zero.
    Regular,
    /// A debt the warehouse is owed regardless, for work already done or money already paid
    /// out for the member: it may take the balance below zero.
    Owed,
}

/// The debits the generic [`super::AccountCommand::Debit`] accepts. The other debits have
/// commands of their own because a rule computes or gates them (duty, disposal, interest,
/// refund).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DebitReason {
    /// Paying a quoted shipment (PAY-1).
    ShipmentPayment,
    /// Paid extended storage accrued by the parcel (STO-3).
    StorageFee,
    /// A paid inspection performed (INS-1).
    InspectionFee,
    /// A defect found at inspection (INS-3).
    DefectFee,
    /// Cash on delivery the warehouse paid for the member (PAR-2).
    ProxyPayment,
    /// A shipment sent back to the warehouse: what the return cost (SHP-2).
    ReturnCost,
    /// A redelivery abroad (SHP-2).
    RedeliveryFee,
}

impl DebitReason {
    /// The movement reason recorded.
    pub const fn reason(self) -> Reason {
        match self {
            DebitReason::ShipmentPayment => Reason::ShipmentPayment,
            DebitReason::StorageFee => Reason::StorageFee,
            DebitReason::InspectionFee => Reason::InspectionFee,
            DebitReason::DefectFee => Reason::DefectFee,
            DebitReason::ProxyPayment => Reason::ProxyPayment,
            DebitReason::ReturnCost => Reason::ReturnCost,
            DebitReason::RedeliveryFee => Reason::RedeliveryFee,
        }
    }

    /// Whether the balance must cover it (ACC-4). Only a shipment payment buys something not
    /// yet delivered; storage, inspection and defect fees are for work already done, and a
    /// proxy payment is money the warehouse already paid the courier: like the debts ACC-4
    /// names (disposal fees, duty billed after shipping, late interest), they are owed
    /// regardless, and refusing them would lose a fact another aggregate already recorded.
    pub const fn kind(self) -> DebitKind {
        match self {
            DebitReason::ShipmentPayment => DebitKind::Regular,
            DebitReason::StorageFee
            | DebitReason::InspectionFee
            | DebitReason::DefectFee
            | DebitReason::ProxyPayment
            | DebitReason::ReturnCost
            | DebitReason::RedeliveryFee => DebitKind::Owed,
        }
    }

    /// The rule that gave rise to the charge, recorded for the audit view.
    pub const fn rule(self) -> Rule {
        match self {
            DebitReason::ShipmentPayment => Rule::Pay1,
            DebitReason::StorageFee => Rule::Sto3,
            DebitReason::InspectionFee => Rule::Ins1,
            DebitReason::DefectFee => Rule::Ins3,
            DebitReason::ProxyPayment => Rule::Par2,
            DebitReason::ReturnCost | DebitReason::RedeliveryFee => Rule::Shp2,
        }
    }
}

/// The credits the generic [`super::AccountCommand::Credit`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditReason {
    /// An approved claim paid to the balance (CLM-5).
    ClaimPayout,
    /// A shipment payment debited from the balance and then refused by the shipment (a
    /// payment race lost, a cancellation): credited back once, only after such a debit (PAY-1).
    PaymentReversal,
}

impl CreditReason {
    /// The movement reason recorded.
    pub const fn reason(self) -> Reason {
        match self {
            CreditReason::ClaimPayout => Reason::ClaimPayout,
            CreditReason::PaymentReversal => Reason::PaymentReversal,
        }
    }
}

/// One movement of the balance (ACC-1).
///
/// Invariant: `amount` is in the account's currency and already rounded to its unit; it is
/// positive for a credit and negative for a debit (zero only for an interest accrual too
/// small to round to a unit, a sale that just covered its costs, or the refund of a zero
/// balance).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Movement {
    /// Signed amount: credits are positive, debits negative.
    pub amount: Money,
    /// Why it moved.
    pub reason: Reason,
    /// What caused it: the parcel, shipment, claim, deposit or withdrawal request.
    pub cause: CauseId,
}

/// A span of days, both ends included. Once held, `from <= through`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(try_from = "RawPeriod")]
pub struct Period {
    from: NaiveDate,
    through: NaiveDate,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawPeriod {
    from: NaiveDate,
    through: NaiveDate,
}

impl TryFrom<RawPeriod> for Period {
    type Error = String;
    fn try_from(raw: RawPeriod) -> Result<Self, String> {
        Period::new(raw.from, raw.through).ok_or_else(|| {
            format!(
                "period {} .. {} ends before it starts",
                raw.from, raw.through
            )
        })
    }
}

impl Period {
    /// The days `from` through `through`; `None` when `through` is before `from`.
    pub fn new(from: NaiveDate, through: NaiveDate) -> Option<Self> {
        (from <= through).then_some(Self { from, through })
    }

    /// The first day.
    pub fn from(self) -> NaiveDate {
        self.from
    }

    /// The last day, included.
    pub fn through(self) -> NaiveDate {
        self.through
    }

    /// Number of days covered, both ends included.
    pub fn days(self) -> u32 {
        let days = crate::calendar::days_between(self.from, self.through) + 1;
        u32::try_from(days).expect("a period is never longer than u32 days")
    }
}

/// The sum of the movements among `events`: what the balance must be (ACC-1). The billing
/// view uses it; [`super::ChargeAccount::balance_matches`] checks an aggregate against it.
pub fn sum_of_movements<'a>(
    currency: Currency,
    events: impl IntoIterator<Item = &'a AccountEvent>,
) -> Result<Money, CurrencyMismatch> {
    Money::sum(
        currency,
        events
            .into_iter()
            .filter_map(AccountEvent::movement)
            .map(|m| &m.amount),
    )
}
