//! Policies: the rules that vary between operators, versioned and loaded from TOML (POL-1, POL-2).
//!
//! Two profiles ship in `domain/policies/`: `jp-forwarding` (seeds 000 and 003) and
//! `cn-agency` (seed 001). Amounts the sources do not state (the base forwarding fee, the carrier
//! tariff, option prices) sit in those files under sections marked as example configuration;
//! no business number is hidden in code. Every event that applied a policy records its
//! [`PolicyVersion`], so a replay reproduces the decision made at the time.
//!
//! Parsing is pure: the caller reads the file, [`Policy::from_toml`] parses and validates it.

use crate::calendar::BusinessCalendar;
use crate::money::{Currency, Money};
use crate::parcel::{CollectKind, FindingKind};
use crate::shipment::claim::{ClaimType, EvidenceKind};
use crate::shipment::PaymentMethod;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// `profile@version`, for example `jp-forwarding@2026.11`. Serialized as that string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "String", into = "String")]
#[schemars(extend("pattern" = "^[^@]+@.+$"))]
pub struct PolicyVersion {
    /// The profile name.
    pub profile: String,
    /// The version of that profile.
    pub version: String,
}

impl fmt::Display for PolicyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.profile, self.version)
    }
}

impl From<PolicyVersion> for String {
    fn from(v: PolicyVersion) -> String {
        v.to_string()
    }
}

impl TryFrom<String> for PolicyVersion {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.split_once('@') {
            Some((p, v)) if !p.is_empty() && !v.is_empty() => Ok(PolicyVersion {
                profile: p.to_owned(),
                version: v.to_owned(),
            }),
            _ => Err(format!("policy version {s:?} is not profile@version")),
        }
    }
}

/// A complete operator policy. Field docs name the rule each setting parameterises.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Profile name, for example `jp-forwarding` (POL-2).
    pub profile: String,
    /// Version of this profile (POL-1). Bump it on any change.
    pub version: String,
    /// The currency balances and fees are kept in.
    pub billing_currency: Currency,
    /// The warehouse's offset from UTC in minutes; local dates drive deadlines.
    pub utc_offset_minutes: i32,
    /// Receiving days, with the dates they are known for (TIM-2).
    pub calendar: BusinessCalendar,
    /// Member rules (MEM-*).
    pub member: MemberPolicy,
    /// Charge account rules (ACC-*, MON-3).
    pub account: AccountPolicy,
    /// Intake rules (PAR-*).
    pub intake: IntakePolicy,
    /// Inspection rules (INS-*).
    pub inspection: InspectionPolicy,
    /// Storage rules (STO-*).
    pub storage: StoragePolicy,
    /// Consolidation rules (CON-*).
    pub consolidation: ConsolidationPolicy,
    /// Fees (FEE-*), partly example configuration.
    pub fees: FeePolicy,
    /// Payment rules (PAY-*).
    pub payment: PaymentPolicy,
    /// Carrier tariff (FEE-1, FEE-3, CON-4, SHP-1); example configuration.
    pub tariff: Tariff,
    /// Claim rules (CLM-*).
    pub claims: ClaimPolicy,
    /// Disposal rules (DSP-1).
    pub disposal: DisposalPolicy,
    /// Redelivery abroad of a shipment the recipient did not receive, charged through the
    /// warehouse (SHP-2); absent where the warehouse offers none.
    #[serde(default)]
    pub redelivery: Option<RedeliveryPolicy>,
}

/// Redelivery abroad (SHP-2; seed 001: 出庫費用および再配達費用として150元以上): the cost the
/// carrier or broker bills, at least the minimum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeliveryPolicy {
    /// The least a redelivery costs, in the billing currency.
    pub min_fee: Money,
}

/// Member settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberPolicy {
    /// Age below which registration needs a guardian's consent (MEM-3).
    pub age_of_majority: u32,
    /// Consecutive rejected top-up applications that suspend (ACC-3, MEM-5).
    pub rejected_top_ups_before_suspension: u32,
    /// Failed logins in a row that suspend (MEM-5).
    pub failed_logins_before_suspension: u32,
    /// Auto Ship lapses when unused for this many months since set or last used (MEM-7).
    pub auto_ship_lapse_months: u32,
    /// Fee per item destroyed at withdrawal (MEM-8).
    pub withdrawal_disposal_fee_per_item: Money,
    /// Automatic closure (MEM-9); absent where the profile has none.
    pub auto_closure: Option<AutoClosurePolicy>,
    /// Months after closure during which a member's personal data is kept; it may be erased
    /// from the day after (issue #10).
    pub personal_data_retention_months: u32,
}

/// Automatic closure conditions (MEM-9, cn-agency).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoClosurePolicy {
    /// Close when the balance has been negative this many months.
    pub negative_balance_months: u32,
    /// Close when the last login is this many months ago and the balance is zero.
    pub dormant_months: u32,
    /// Close when no top-up arrived this many months after registration.
    pub no_top_up_months: u32,
}

/// Charge account settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountPolicy {
    /// A top-up application is due within this many months of the deposit (ACC-2).
    pub top_up_filing_window_months: u32,
    /// What an application filed after that window gets (ACC-2, ACC-3).
    pub late_top_up: LateTopUpPolicy,
    /// PayPal fee percent (ACC-5).
    pub paypal_fee_percent: Decimal,
    /// PayPal fixed fee (ACC-5).
    pub paypal_fee_fixed: Money,
    /// The shipment payment methods PayPal processes, each charged the PayPal fee (ACC-5;
    /// seed 001: PayPal itself and the card payments PayPal provides).
    pub paypal_processed_methods: Vec<PaymentMethod>,
    /// The institution a deposit record names when the deposit was received through PayPal:
    /// such a top-up is credited less the PayPal fee (ACC-5).
    pub paypal_institution: String,
    /// Late interest per year, percent (ACC-6).
    pub late_interest_annual_percent: Decimal,
    /// Day-count basis of late interest: actual/`day_count_basis` (ACC-6).
    pub late_interest_day_count_basis: u32,
    /// Months after a withdrawal request that the refund clock waits (ACC-7).
    pub refund_wait_months: u32,
    /// The currency refunds are paid out in (ACC-7, MON-3: a balance in another currency is
    /// converted at the refund rate, from the month's reference rates).
    pub refund_payout_currency: Currency,
    /// Added to the reference rate when charging, quote units per base unit (MON-3).
    pub charge_rate_markup: Decimal,
    /// Taken off the lower rate when refunding (MON-3).
    pub refund_rate_markdown: Decimal,
    /// Minimum balance for a duty advance, a stated amount per currency (ACC-8; seed 001:
    /// 10,000円(約500元)): an account compares its balance with the amount in its own
    /// currency as it is; one in a currency not listed is compared, converted at the charging
    /// rate, with the first (MON-2, MON-3). At least one, at most one per currency.
    pub duty_advance_min_balance: Vec<Money>,
    /// Fee for a duty advance, on top of the duty (ACC-8).
    pub duty_advance_fee: Money,
    /// Sea freight's duty: set where it can only be advanced, at its own tiered fee (ACC-8;
    /// seed 001: 船便は、本サービスでの立替払いのみ); absent where sea freight's duty is paid
    /// like any other.
    #[serde(default)]
    pub sea_duty_advance: Option<SeaDutyAdvance>,
}

/// The duty advance fee of sea freight (ACC-8; seed 001: invoice上の課税価格に応じ
/// ①3万円未満:一律1,500円、②3万円以上:課税価格×5%): a flat fee under a taxable value,
/// a percent of it from there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeaDutyAdvance {
    /// The fee under `flat_below`.
    pub flat_fee: Money,
    /// The taxable value from which the percent applies, in the flat fee's currency.
    pub flat_below: Money,
    /// Percent of the taxable value from `flat_below` on.
    pub percent: Decimal,
}

impl SeaDutyAdvance {
    /// The fee for a shipment of `taxable_value`, which must be in the tiers' currency (the
    /// invoice's taxable value at import); fractions rounded half up (MON-1).
    pub fn fee(&self, taxable_value: Money) -> Option<Money> {
        if taxable_value.currency != self.flat_below.currency {
            return None;
        }
        Some(if taxable_value.amount < self.flat_below.amount {
            self.flat_fee
        } else {
            taxable_value
                .times(self.percent / Decimal::ONE_HUNDRED)
                .rounded(crate::money::Rounding::HalfUp)
        })
    }
}

/// What a top-up application filed after its window gets (ACC-2). Seed 001 asks members to
/// file within a month and *may* reject, and refuse the refund, when lateness repeats
/// (1ヵ月を過ぎることが続く場合、チャージ申請を棄却…こともございます): a decision of the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LateTopUp {
    /// Every late application is rejected for lateness.
    Reject,
    /// Lateness alone never rejects; the application is judged on its facts.
    Accept,
    /// Lateness is tolerated until it repeats: a late application is rejected for lateness
    /// once `tolerated` applications in a row before it were late too.
    RejectWhenRepeated {
        /// Late applications in a row tolerated before lateness rejects.
        tolerated: u32,
    },
}

impl LateTopUp {
    /// True when a late application, after `late_in_a_row` late applications in a row, is
    /// rejected for lateness.
    pub fn rejects(self, late_in_a_row: u32) -> bool {
        match self {
            LateTopUp::Reject => true,
            LateTopUp::Accept => false,
            LateTopUp::RejectWhenRepeated { tolerated } => late_in_a_row >= tolerated,
        }
    }
}

/// Late top-up applications (ACC-2) and whether their rejection counts toward ACC-3.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LateTopUpPolicy {
    /// What a late application gets.
    pub decision: LateTopUp,
    /// Whether a rejection for lateness alone counts toward the consecutive rejections that
    /// suspend (ACC-3). When false it neither counts nor breaks the streak.
    pub counts_toward_suspension: bool,
}

/// Intake settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakePolicy {
    /// Proxy payment of cash-on-delivery at approved shops (PAR-2); absent = all COD refused.
    pub proxy_payment: Option<ProxyPaymentPolicy>,
}

/// The `proxy-payment` policy of PAR-2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyPaymentPolicy {
    /// Surcharge on the amount paid to the courier, percent.
    pub surcharge_percent: Decimal,
    /// A proxy-paid parcel not arrived this many days after purchase is cancelled.
    pub cancel_after_days: u32,
    /// Shops approved for proxy payment.
    pub approved_shops: Vec<String>,
    /// What the warehouse pays the courier for at an approved shop: cash on delivery (the
    /// goods; seed 003 names only this) and, in this reading, carriage forward (着払い, the
    /// postage). A kind not listed is refused at the door like any payment on delivery.
    pub collect_kinds: Vec<CollectKind>,
}

/// Inspection levels (INS-1).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum InspectionLevel {
    /// No inspection.
    None,
    /// Count only (the forwarding default).
    Quantity,
    /// Quantity, colour, size.
    Basic,
    /// Paid: adds design, damage, scratches, stains, fading.
    Detailed,
}

/// Inspection settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectionPolicy {
    /// Level when the member's plan names none (INS-1).
    pub default_level: InspectionLevel,
    /// Units inspected per variation; the rest are marked uninspected (INS-1).
    pub max_units_per_variation: u32,
    /// Any side at or above this gets no basic inspection (INS-2).
    pub large_item_side_mm: u32,
    /// Weight at or above this gets no basic inspection (INS-2).
    pub large_item_weight_g: u32,
    /// The kinds of finding that are defects (INS-3, seed 001: 不具合品); other findings are
    /// recorded and notified but are not defects.
    pub defect_kinds: Vec<FindingKind>,
    /// Fee per defective item found (INS-3); absent where the profile charges none.
    pub defect_fee_per_item: Option<Money>,
    /// A defective parcel over this size is charged at cost instead of per item (INS-3);
    /// absent where the profile has no such rule.
    #[serde(default)]
    pub oversize_defect: Option<OversizeDefectPolicy>,
    /// Price per item of a detailed inspection; example configuration.
    pub detailed_fee_per_item: Money,
    /// Categories that put a parcel in quarantine (INS-4).
    pub prohibited_categories: Vec<String>,
}

/// The large-parcel rule for defects (INS-3, seed 001: 100サイズを越える荷物は大型扱いとなり
/// 実費請求(50元以上)): a parcel whose length + width + height exceeds `over_size_cm` is charged
/// the actual cost of its defects, never less than `min_fee`, in place of the fee per item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OversizeDefectPolicy {
    /// The size (length + width + height, cm) a parcel must exceed to be large.
    pub over_size_cm: u32,
    /// The least charged for a large parcel's defects.
    pub min_fee: Money,
}

/// Where the storage clock starts (STO-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StorageAnchor {
    /// From the arrival of the member's earliest parcel still waiting.
    FirstWaitingArrival,
    /// From each parcel's own arrival.
    PerParcel,
}

/// The maximum free storage (STO-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StorageLimit {
    /// A number of days after the anchor.
    Days(u32),
    /// A number of calendar months after the anchor.
    Months(u32),
}

impl StorageLimit {
    /// The last day of free storage for a clock anchored on `anchor`, counted as every period
    /// is (TIM-1, Civil Code art. 140): the arrival day is not counted, so 21 days from an
    /// arrival on the 1st end at the end of the 22nd, and a month from 15 January ends at the
    /// end of 15 February (clamped: a month from 31 January ends on 28 February).
    pub fn last_day(self, anchor: NaiveDate) -> NaiveDate {
        match self {
            StorageLimit::Days(n) => crate::calendar::add_days(anchor, n),
            StorageLimit::Months(n) => crate::calendar::add_months(anchor, n),
        }
    }
}

/// Storage settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoragePolicy {
    /// Where the clock starts (STO-1).
    pub anchor: StorageAnchor,
    /// Maximum storage (STO-2).
    pub max_storage: StorageLimit,
    /// Notices go out this many days before the limit (STO-2).
    pub notice_days_before: Vec<u32>,
    /// Paid extended storage (STO-3); absent where the profile offers none.
    pub extended: Option<ExtendedStoragePolicy>,
}

/// Paid extended storage (STO-3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtendedStoragePolicy {
    /// Fee per volume unit per started month.
    pub fee_per_unit_month: Money,
    /// The volume unit's sides in mm (50×60×50 cm).
    pub unit_mm: [u32; 3],
}

/// Consolidation settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsolidationPolicy {
    /// Fewest parcels in a consolidation (CON-1).
    pub min_parcels: u32,
    /// Refused when the total weight is at or above this (CON-2); absent = no limit.
    pub max_total_weight_g: Option<u32>,
    /// Refused when the declared value total is at or above this (CON-2); absent = no limit.
    pub max_declared_value: Option<Money>,
}

/// Fee settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeePolicy {
    /// Marks the amounts below as example configuration, not from the sources.
    pub example: bool,
    /// Forwarding fee per piece (CON-4, FEE-1); example configuration.
    pub forwarding_fee_per_piece: Money,
    /// Option prices per piece by option code (FEE-1); example configuration.
    pub options: BTreeMap<String, Money>,
    /// Insurance premium, percent of the insured amount (FEE-3); example configuration.
    pub insurance_percent: Decimal,
    /// The warranty add-on (FEE-2, CLM-6); absent where not offered.
    pub warranty: Option<WarrantyPolicy>,
}

/// The warranty add-on (FEE-2, CLM-6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarrantyPolicy {
    /// Percent of the items' tax-inclusive total.
    pub percent: Decimal,
    /// Flat price when the total is at or below `flat_up_to`.
    pub flat_fee: Money,
    /// Threshold for the flat price (inclusive).
    pub flat_up_to: Money,
    /// Claims under the add-on within this many days of delivery.
    pub claim_days: u32,
    /// Exchanges per add-on (CLM-6).
    pub max_exchanges: u32,
    /// Days for an exchanged item to reach the warehouse (CLM-6).
    pub exchange_return_days: u32,
}

/// Payment settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentPolicy {
    /// A quote is due this many days after it is issued (PAY-2).
    pub quote_due_days: u32,
    /// Still unpaid this many days after the payment reminder, the dunning notice is sent
    /// (ACC-6: one week in seed 001).
    pub dunning_after_reminder_days: u32,
    /// The dunning notice's deadline, this many days after it is sent; late interest runs
    /// from the day after (ACC-6: 5 days in seed 001).
    pub dunning_deadline_days: u32,
}

/// A carrier tariff: example configuration, versioned on its own (FEE-1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tariff {
    /// Version recorded in every quote (FEE-1).
    pub version: String,
    /// Marks the rates as example configuration.
    pub example: bool,
    /// Divisor of volumetric weight: L×W×H (cm) / divisor, in kg (FEE-1).
    pub volumetric_divisor: u32,
    /// The carriers offered (SHP-1).
    pub carriers: Vec<Carrier>,
}

/// One carrier of the tariff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Carrier {
    /// Code, for example `EMS`.
    pub code: String,
    /// Whether volumetric weight applies (FEE-1).
    pub volumetric: bool,
    /// Heaviest piece the carrier takes to a destination `max_piece_weight_g_to` does not
    /// list; heavier shipments are split (CON-4).
    pub max_piece_weight_g: u32,
    /// Heaviest piece per destination country (ISO 3166 alpha-2) where its conditions differ:
    /// the limit is the destination's and the carrier's (CON-4, seed 000: 仕向け国発送条件の
    /// 重量制限).
    #[serde(default)]
    pub max_piece_weight_g_to: BTreeMap<String, u32>,
    /// Carrier compensation cap (FEE-3); absent = uninsurable beyond the declared value.
    pub compensation_cap: Option<Money>,
    /// Destination country (ISO 3166 alpha-2) to zone.
    pub zones: BTreeMap<String, String>,
    /// Price steps, ascending by weight.
    pub steps: Vec<RateStep>,
    /// Sea freight: its duty may only be advanced where the policy says so (ACC-8).
    #[serde(default)]
    pub sea: bool,
}

impl Carrier {
    /// The heaviest piece this carrier takes to `destination` (CON-4); without a destination
    /// (a shipment packed before it is quoted), the carrier's general limit.
    pub fn max_piece_weight_g_to(&self, destination: Option<&str>) -> u32 {
        destination
            .and_then(|d| self.max_piece_weight_g_to.get(d).copied())
            .unwrap_or(self.max_piece_weight_g)
    }
}

/// Price of a piece up to a weight, per zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateStep {
    /// Chargeable weight up to and including this many grams.
    pub up_to_g: u32,
    /// Price by zone.
    pub prices: BTreeMap<String, Money>,
}

/// Claim settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimPolicy {
    /// Days after delivery a claim is accepted (CLM-2).
    pub window_days: u32,
    /// Business days to respond before escalation (CLM-3).
    pub response_business_days: u32,
    /// Hours to respond to a missing-item claim (CLM-3).
    pub missing_item_response_hours: u32,
    /// Percent of item price paid for a missed defect on apparel (CLM-5).
    pub apparel_defect_percent: Decimal,
    /// Cap for a missed defect on anything else (CLM-5).
    pub other_defect_cap: Money,
    /// A parcel with a side above this gets no damage compensation (CLM-5).
    pub no_damage_compensation_side_mm: u32,
    /// The evidence each claim type needs before it is complete (CLM-1).
    pub required_evidence: RequiredEvidence,
    /// A missed defect's cap is taken on the item price plus the domestic shipping the member
    /// paid for it (CLM-5, seed 001: 商品代 = 商品本体代 + 中国国内送料).
    pub missed_defect_includes_domestic_shipping: bool,
    /// The order services (plans) whose items are compensated for a defect the inspection
    /// missed (CLM-5, seed 001: only 「OEM/ODM」「購入代行」); absent: every item is.
    #[serde(default)]
    pub missed_defect_plans: Option<Vec<String>>,
    /// The packing options carrier damage needs to be compensated (CLM-5, seed 001): every
    /// group needs one of its options on the shipment's quote; empty: no requirement.
    pub damage_packing_options: Vec<Vec<String>>,
}

/// The evidence kinds each claim type needs (CLM-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredEvidence {
    /// Damage in transit.
    pub damage: Vec<EvidenceKind>,
    /// Loss.
    pub loss: Vec<EvidenceKind>,
    /// A defect.
    pub defect: Vec<EvidenceKind>,
    /// A missing item.
    pub missing_item: Vec<EvidenceKind>,
    /// A wrong item.
    pub wrong_item: Vec<EvidenceKind>,
}

impl RequiredEvidence {
    /// The kinds a claim of `claim_type` needs.
    pub fn of(&self, claim_type: ClaimType) -> &[EvidenceKind] {
        match claim_type {
            ClaimType::Damage => &self.damage,
            ClaimType::Loss => &self.loss,
            ClaimType::Defect => &self.defect,
            ClaimType::MissingItem => &self.missing_item,
            ClaimType::WrongItem => &self.wrong_item,
        }
    }
}

/// Disposal settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisposalPolicy {
    /// Fee per parcel disposed of (DSP-1); example configuration.
    pub fee_per_parcel: Money,
}

/// A policy file that does not parse or does not make sense.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// Not valid TOML for a policy.
    #[error("policy does not parse: {0}")]
    Parse(#[from] toml::de::Error),
    /// Parsed, but inconsistent.
    #[error("policy {profile}: {problem}")]
    Invalid {
        /// The profile.
        profile: String,
        /// What is wrong.
        problem: String,
    },
}

impl Policy {
    /// Parses and validates a policy file's text.
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        let policy: Policy = toml::from_str(text)?;
        policy.validate()?;
        Ok(policy)
    }

    /// The `jp-forwarding` profile shipped with parcelport.
    pub fn jp_forwarding() -> Policy {
        Policy::from_toml(include_str!("../policies/jp-forwarding.toml"))
            .expect("the shipped jp-forwarding policy is valid")
    }

    /// The `cn-agency` profile shipped with parcelport.
    pub fn cn_agency() -> Policy {
        Policy::from_toml(include_str!("../policies/cn-agency.toml"))
            .expect("the shipped cn-agency policy is valid")
    }

    /// The version stamp recorded by every event that applied this policy (POL-1).
    pub fn version(&self) -> PolicyVersion {
        PolicyVersion {
            profile: self.profile.clone(),
            version: self.version.clone(),
        }
    }

    /// The warehouse's local date at an instant.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        let offset = FixedOffset::east_opt(self.utc_offset_minutes * 60).expect("validated offset");
        at.with_timezone(&offset).date_naive()
    }

    /// The carrier with this code.
    pub fn carrier(&self, code: &str) -> Option<&Carrier> {
        self.tariff.carriers.iter().find(|c| c.code == code)
    }

    fn validate(&self) -> Result<(), PolicyError> {
        let invalid = |problem: String| PolicyError::Invalid {
            profile: self.profile.clone(),
            problem,
        };
        if self.profile.is_empty() || self.version.is_empty() || self.profile.contains('@') {
            return Err(invalid(
                "profile and version must be non-empty, without '@'".into(),
            ));
        }
        if FixedOffset::east_opt(self.utc_offset_minutes * 60).is_none() {
            return Err(invalid("utc_offset_minutes out of range".into()));
        }
        if !self.calendar.has_open_days() {
            return Err(invalid("the calendar has no open weekday".into()));
        }
        if let Some(problem) = self.calendar.problem() {
            return Err(invalid(format!("calendar (TIM-2): {problem}")));
        }
        if self.consolidation.min_parcels < 2 {
            return Err(invalid(
                "consolidation needs at least 2 parcels (CON-1)".into(),
            ));
        }
        if self.tariff.volumetric_divisor == 0 {
            return Err(invalid("volumetric_divisor must be positive".into()));
        }
        if let Some(redelivery) = &self.redelivery {
            if redelivery.min_fee.currency != self.billing_currency {
                return Err(invalid(
                    "redelivery.min_fee: in the billing currency (SHP-2)".into(),
                ));
            }
        }
        if let Some(sea) = &self.account.sea_duty_advance {
            if sea.flat_fee.currency != sea.flat_below.currency {
                return Err(invalid(
                    "account.sea_duty_advance: flat_fee and flat_below in one currency (ACC-8)"
                        .into(),
                ));
            }
        }
        if self.account.late_interest_day_count_basis == 0 {
            return Err(invalid(
                "late_interest_day_count_basis must be positive".into(),
            ));
        }
        let minimums = &self.account.duty_advance_min_balance;
        if minimums.is_empty()
            || minimums
                .iter()
                .enumerate()
                .any(|(i, m)| minimums[..i].iter().any(|n| n.currency == m.currency))
        {
            return Err(invalid(
                "account.duty_advance_min_balance: at least one amount, one per currency (ACC-8)"
                    .into(),
            ));
        }
        if self
            .account
            .paypal_processed_methods
            .iter()
            .any(|m| matches!(m, PaymentMethod::Balance | PaymentMethod::AutoShip))
        {
            return Err(invalid(
                "account.paypal_processed_methods: the balance is not paid through PayPal (ACC-5)"
                    .into(),
            ));
        }
        for option in self.claims.damage_packing_options.iter().flatten() {
            if !self.fees.options.contains_key(option) {
                return Err(invalid(format!(
                    "claims.damage_packing_options: {option} is not a priced option (CLM-5)"
                )));
            }
        }
        if self.claims.damage_packing_options.iter().any(Vec::is_empty) {
            return Err(invalid(
                "claims.damage_packing_options: a group names no option (CLM-5)".into(),
            ));
        }
        for carrier in &self.tariff.carriers {
            if carrier.steps.is_empty() || carrier.max_piece_weight_g == 0 {
                return Err(invalid(format!(
                    "carrier {} has no rate steps",
                    carrier.code
                )));
            }
            for (destination, &limit) in &carrier.max_piece_weight_g_to {
                if limit == 0 || !carrier.zones.contains_key(destination) {
                    return Err(invalid(format!(
                        "carrier {}: a piece limit for {destination} needs a zone and a positive weight",
                        carrier.code
                    )));
                }
            }
            if !carrier
                .steps
                .windows(2)
                .all(|w| w[0].up_to_g < w[1].up_to_g)
            {
                return Err(invalid(format!(
                    "carrier {} steps must ascend",
                    carrier.code
                )));
            }
            for zone in carrier.zones.values() {
                if carrier.steps.iter().any(|s| !s.prices.contains_key(zone)) {
                    return Err(invalid(format!(
                        "carrier {} has a step without a price for zone {zone}",
                        carrier.code
                    )));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    // rule POL-2: both profiles ship, parse and differ where the sources differ.
    #[test]
    fn pol_2_both_profiles_load() {
        let jp = Policy::jp_forwarding();
        let cn = Policy::cn_agency();
        assert_eq!(jp.profile, "jp-forwarding");
        assert_eq!(cn.profile, "cn-agency");
        assert_eq!(jp.billing_currency, Currency::Jpy);
        assert_eq!(cn.billing_currency, Currency::Cny);
        assert_eq!(jp.storage.anchor, StorageAnchor::FirstWaitingArrival);
        assert_eq!(cn.storage.anchor, StorageAnchor::PerParcel);
        assert_eq!(jp.storage.max_storage, StorageLimit::Days(21));
        assert_eq!(cn.storage.max_storage, StorageLimit::Months(1));
        assert!(jp.fees.example && jp.tariff.example);
        assert!(cn.member.auto_closure.is_some() && jp.member.auto_closure.is_none());
    }

    // rule POL-1: the version stamp round-trips as `profile@version`.
    #[test]
    fn pol_1_version_stamp_is_stable() {
        let v = Policy::jp_forwarding().version();
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(json, format!("\"jp-forwarding@{}\"", v.version));
        assert_eq!(serde_json::from_str::<PolicyVersion>(&json).unwrap(), v);
        assert!(serde_json::from_str::<PolicyVersion>("\"no-version\"").is_err());
    }

    // rule POL-1: a policy with an unknown key or an impossible setting is refused, not guessed.
    #[test]
    fn pol_1_bad_policy_files_are_refused() {
        let text = include_str!("../policies/jp-forwarding.toml");
        let unknown = format!("surprise = 1\n{text}");
        assert!(matches!(
            Policy::from_toml(&unknown),
            Err(PolicyError::Parse(_))
        ));
        let closed = text.replace(
            r#"closed_weekdays = ["Sat", "Sun"]"#,
            r#"closed_weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]"#,
        );
        assert_ne!(closed, text);
        assert!(matches!(
            Policy::from_toml(&closed),
            Err(PolicyError::Invalid { .. })
        ));
    }

    // rule TIM-1: local dates use the warehouse's offset, not UTC.
    #[test]
    fn tim_1_local_date_uses_warehouse_offset() {
        let jp = Policy::jp_forwarding();
        let late_utc = Utc.with_ymd_and_hms(2026, 11, 20, 16, 0, 0).unwrap();
        assert_eq!(
            jp.local_date(late_utc),
            NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
        );
    }

    // rule STO-2: the limit is inclusive of its last day, with month ends clamped; the
    // arrival day is not counted (TIM-1).
    #[test]
    fn sto_2_limit_last_day() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        // Arrived 1 Nov: day 21 after it, 22 Nov, is the last free day; 23 Nov is past.
        assert_eq!(StorageLimit::Days(21).last_day(d(11, 1)), d(11, 22));
        assert_eq!(StorageLimit::Months(1).last_day(d(1, 31)), d(2, 28));
    }
}
