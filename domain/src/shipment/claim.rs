//! Claims against a shipment (CLM-1 to CLM-6): their types, evidence, windows, response
//! clock and payout caps. A claim lives inside its shipment, under a claim id.
//!
//! Windows count whole days after the day that starts them: with a 14-day window after a
//! delivery on 1 Nov, 15 Nov (day 14) is the last day a claim is accepted, 16 Nov is late.
//!
//! Decision on loss claims (CLM-2): a shipment that was never delivered has no delivery date
//! to count from. A loss claim on a shipment still in transit (shipped or held by customs) is
//! accepted with no window running yet; once the carrier declares the shipment lost, the
//! 14-day window runs from the lost status date, as it would from a delivery. A loss claim on
//! a shipment tracked as delivered counts from the delivery.

use crate::calendar::{add_days, OutsideCalendar};
use crate::facts::ItemCategory;
use crate::ids::ParcelId;
use crate::money::{Currency, Money, Rounding};
use crate::policy::{ClaimPolicy, Policy};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What went wrong (CLM-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClaimType {
    /// Damaged in transit.
    Damage,
    /// Never arrived.
    Loss,
    /// A defect, missed at inspection or under the warranty add-on.
    Defect,
    /// An item missing from the shipment.
    MissingItem,
    /// A different item than declared.
    WrongItem,
}

impl ClaimType {
    /// True for claims that must name the item concerned (defect, missing item, wrong item).
    pub fn names_an_item(self) -> bool {
        matches!(
            self,
            ClaimType::Defect | ClaimType::MissingItem | ClaimType::WrongItem
        )
    }
}

/// The evidence a member gives for a claim (CLM-1): references to uploaded photos, a photo of
/// the carrier's label, a comment. Blank entries count as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// Photos of the goods or packaging.
    #[serde(default)]
    pub photos: Vec<String>,
    /// Photo of the carrier's label (the delivery slip).
    #[serde(default)]
    pub label_photo: Option<String>,
    /// The member's account of what happened.
    #[serde(default)]
    pub comment: Option<String>,
    /// The carrier's damage report (seed 000: the post office's damage report for EMS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub damage_report: Option<String>,
}

impl Evidence {
    /// True when nothing usable is given.
    pub fn is_empty(&self) -> bool {
        self.provided().is_empty()
    }

    /// The kinds of evidence given.
    pub fn provided(&self) -> Vec<EvidenceKind> {
        let present = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.trim().is_empty());
        let mut kinds = Vec::new();
        if self.photos.iter().any(|p| !p.trim().is_empty()) {
            kinds.push(EvidenceKind::Photo);
        }
        if present(&self.label_photo) {
            kinds.push(EvidenceKind::LabelPhoto);
        }
        if present(&self.comment) {
            kinds.push(EvidenceKind::Comment);
        }
        if present(&self.damage_report) {
            kinds.push(EvidenceKind::DamageReport);
        }
        kinds
    }

    /// This evidence with `more` added: photos appended, a new label photo or comment replaces
    /// the old one; blank entries of `more` are ignored.
    pub fn merged(&self, more: &Evidence) -> Evidence {
        let given = |s: &Option<String>| s.clone().filter(|s| !s.trim().is_empty());
        let mut photos = self.photos.clone();
        photos.extend(more.photos.iter().filter(|p| !p.trim().is_empty()).cloned());
        Evidence {
            photos,
            label_photo: given(&more.label_photo).or_else(|| self.label_photo.clone()),
            comment: given(&more.comment).or_else(|| self.comment.clone()),
            damage_report: given(&more.damage_report).or_else(|| self.damage_report.clone()),
        }
    }
}

/// A kind of evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// At least one photo of the goods or packaging.
    Photo,
    /// A photo of the carrier's label.
    LabelPhoto,
    /// A written account.
    Comment,
    /// The carrier's damage report (seed 000: issued by the post office for EMS).
    DamageReport,
}

/// The evidence a claim of `claim_type` needs and `evidence` lacks (CLM-1), as the policy
/// lists it per claim type (`claims.required_evidence`): seed 001 asks for the photo, the
/// address-label photo and a comment for a defect or a wrong item; seed 000 asks for the
/// photos, the delivery slip and the post office's damage report for EMS damage. A claim with
/// something missing is accepted but waits for evidence.
pub fn missing_evidence(
    claim_type: ClaimType,
    evidence: &Evidence,
    claims: &ClaimPolicy,
) -> Vec<EvidenceKind> {
    let needed = claims.required_evidence.of(claim_type);
    let provided = evidence.provided();
    needed
        .iter()
        .copied()
        .filter(|kind| !provided.contains(kind))
        .collect()
}

/// The item a claim is about: a line of one parcel's declaration (PAR-4), 0-based, and how
/// many units of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimedItem {
    /// The parcel the item came in.
    pub parcel_id: ParcelId,
    /// 0-based index of the item in that parcel's declaration.
    pub line: u32,
    /// Units concerned, at least 1 and at most the declared quantity.
    pub quantity: u32,
}

/// Where a claim stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClaimStatus {
    /// Accepted, waiting for the evidence its type needs (CLM-1).
    AwaitingEvidence,
    /// Complete, under review.
    Open,
    /// An exchange under the warranty add-on was accepted; the item is on its way back (CLM-6).
    ExchangeAccepted,
    /// Approved with a payout (CLM-5).
    Approved,
    /// Rejected with a reason (CLM-5).
    Rejected,
    /// Withdrawn by the member (CLM-4).
    Withdrawn,
    /// The exchanged item reached the warehouse (CLM-6).
    Exchanged,
    /// The exchanged item did not reach the warehouse in time (CLM-6).
    Lapsed,
}

impl ClaimStatus {
    /// True until the claim is decided, withdrawn, exchanged or lapsed.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            ClaimStatus::AwaitingEvidence | ClaimStatus::Open | ClaimStatus::ExchangeAccepted
        )
    }
}

/// The last day a claim is accepted when the window runs from `basis` (delivery or the lost
/// status date): `basis + days` (CLM-2).
pub fn claim_window_last_day(basis: NaiveDate, days: u32) -> NaiveDate {
    add_days(basis, days)
}

/// The last day of claims under the warranty add-on (FEE-2, seed 002 第9条): `days` from the
/// day it was taken (加入日; here the day the quote that bought it was paid), counted as
/// TIM-1 counts. When the shipment arrives after that, the add-on still serves on the day of
/// arrival itself (第9条 但し書き), so the window never ends before `delivered_on`.
pub fn warranty_claim_last_day(
    taken_on: NaiveDate,
    delivered_on: NaiveDate,
    days: u32,
) -> NaiveDate {
    add_days(taken_on, days).max(delivered_on)
}

/// How long the warehouse has to respond to a claim (CLM-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResponseClock {
    /// Business days of the warehouse calendar after the filing day.
    BusinessDays(u32),
    /// Hours after filing (missing items).
    Hours(u32),
}

/// The response clock of a claim type (CLM-3): 48 hours for a missing item, else 3 business
/// days.
pub fn response_clock(claim_type: ClaimType, claims: &ClaimPolicy) -> ResponseClock {
    match claim_type {
        ClaimType::MissingItem => ResponseClock::Hours(claims.missing_item_response_hours),
        _ => ResponseClock::BusinessDays(claims.response_business_days),
    }
}

/// The instant a claim filed at `filed_at` must be answered before (CLM-3); from then on it
/// may be escalated. For business days: the end (the following local midnight) of the `n`th
/// business day strictly after the local filing day, on the policy's calendar, so a claim
/// filed on a closed day gets the same next `n` business days as one filed on the business day
/// before it; an error when those days run past the calendar (TIM-2). For hours: `filed_at`
/// plus the hours.
pub fn claim_response_due(
    policy: &Policy,
    clock: ResponseClock,
    filed_at: DateTime<Utc>,
) -> Result<DateTime<Utc>, OutsideCalendar> {
    match clock {
        ResponseClock::Hours(h) => Ok(filed_at + Duration::hours(i64::from(h))),
        ResponseClock::BusinessDays(n) => {
            let mut due_day = policy.local_date(filed_at);
            let mut counted = 0;
            // Ends: every step moves a day on, and past the calendar's end is an error.
            while counted < n {
                due_day = add_days(due_day, 1);
                if policy.calendar.is_business_day(due_day)? {
                    counted += 1;
                }
            }
            let next_local_midnight = add_days(due_day, 1)
                .and_hms_opt(0, 0, 0)
                .expect("midnight exists");
            Ok(
                (next_local_midnight - Duration::minutes(i64::from(policy.utc_offset_minutes)))
                    .and_utc(),
            )
        }
    }
}

/// Why a payout is capped where it is (CLM-5), carried by the approval for auditors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayoutBasis {
    /// A defect the inspection missed: apparel pays `percent` of the item price, other goods
    /// at most `other_cap`.
    MissedDefect {
        /// Price of the units claimed.
        item_price: Money,
        /// The domestic shipping the member paid for them, added to the item price when the
        /// policy says so (seed 001: 商品代 = 商品本体代 + 中国国内送料).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        domestic_shipping: Option<Money>,
        /// Apparel or other.
        category: ItemCategory,
        /// Percent paid for apparel.
        percent: rust_decimal::Decimal,
        /// Cap for other goods.
        other_cap: Money,
    },
    /// Carrier damage or loss: up to the insured amount (FEE-3); nothing when uninsured.
    Insured {
        /// The insured amount, if any.
        insured: Option<Money>,
    },
    /// A missing or wrong item: up to the price of the units claimed.
    ItemPrice {
        /// Price of the units claimed.
        item_price: Money,
    },
}

/// The units a claim names as the shipment knows them (CLM-5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedValue {
    /// Price of the units claimed.
    pub item_price: Money,
    /// Their share of the domestic shipping the member paid for the line, if declared.
    pub domestic_shipping: Option<Money>,
    /// Apparel or other.
    pub category: ItemCategory,
    /// The order service (plan) the item was bought under, if declared.
    pub order_service: Option<String>,
}

/// The most a claim may pay out (CLM-5), with its basis. `item` is the value of the units
/// claimed; `insured` the shipment's insured amount; `currency` the billing currency. A
/// missed defect is capped on the item price plus its domestic shipping when the policy says
/// so (seed 001: 商品代). Whether the claim is compensated at all (the side limit, the packing
/// options, the plan) is checked by the caller, who reports each as its own refusal.
pub fn payout_cap(
    claim_type: ClaimType,
    item: Option<&ClaimedValue>,
    insured: Option<Money>,
    claims: &ClaimPolicy,
    currency: Currency,
) -> Result<Option<(Money, PayoutBasis)>, crate::money::CurrencyMismatch> {
    Ok(match (claim_type, item) {
        (ClaimType::Damage | ClaimType::Loss, _) => Some((
            insured.unwrap_or_else(|| Money::zero(currency)),
            PayoutBasis::Insured { insured },
        )),
        (ClaimType::Defect, Some(value)) => {
            let (item_price, category) = (value.item_price, value.category);
            let domestic_shipping = value
                .domestic_shipping
                .filter(|_| claims.missed_defect_includes_domestic_shipping);
            let goods = match domestic_shipping {
                Some(shipping) => item_price.checked_add(shipping)?,
                None => item_price,
            };
            let cap = match category {
                ItemCategory::Apparel => {
                    goods.percent(claims.apparel_defect_percent, Rounding::Down)
                }
                ItemCategory::Other if claims.other_defect_cap.amount < goods.amount => {
                    claims.other_defect_cap
                }
                ItemCategory::Other => goods,
            };
            let basis = PayoutBasis::MissedDefect {
                item_price,
                domestic_shipping,
                category,
                percent: claims.apparel_defect_percent,
                other_cap: claims.other_defect_cap,
            };
            Some((cap, basis))
        }
        (ClaimType::MissingItem | ClaimType::WrongItem, Some(value)) => Some((
            value.item_price,
            PayoutBasis::ItemPrice {
                item_price: value.item_price,
            },
        )),
        (_, None) => None,
    })
}

/// The packing options groups carrier damage needs and `chosen` lacks (CLM-5, seed 001:
/// cardboard, plus bubble wrap or cushioning): each returned group had none of its options.
pub fn missing_packing(claims: &ClaimPolicy, chosen: &[String]) -> Vec<Vec<String>> {
    claims
        .damage_packing_options
        .iter()
        .filter(|group| !group.iter().any(|option| chosen.contains(option)))
        .cloned()
        .collect()
}

/// True when a missed defect on an item bought under `order_service` is compensated (CLM-5,
/// seed 001: only purchase-agency and OEM/ODM orders).
pub fn plan_compensated(claims: &ClaimPolicy, order_service: Option<&str>) -> bool {
    match &claims.missed_defect_plans {
        None => true,
        Some(plans) => order_service.is_some_and(|s| plans.iter().any(|p| p == s)),
    }
}

/// A claim as the shipment keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// What went wrong.
    pub claim_type: ClaimType,
    /// Filed under the warranty add-on (FEE-2, CLM-6).
    pub under_warranty: bool,
    /// The item concerned.
    pub item: Option<ClaimedItem>,
    /// Evidence so far.
    pub evidence: Evidence,
    /// Where it stands.
    pub status: ClaimStatus,
    /// When it was filed.
    pub filed_at: DateTime<Utc>,
    /// Respond before this instant, or it may be escalated (CLM-3).
    pub response_due: DateTime<Utc>,
    /// The warehouse has responded (CLM-3).
    pub responded: bool,
    /// Escalated for a late response (CLM-3).
    pub escalated: bool,
    /// The exchanged item must reach the warehouse by this day (CLM-6).
    pub exchange_return_by: Option<NaiveDate>,
}
