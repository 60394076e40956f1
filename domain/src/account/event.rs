//! Events of a [`super::ChargeAccount`]. Every movement of money is one event carrying a
//! [`Movement`] (ACC-1); the others record decisions (a rejected top-up, a granted duty
//! advance, a scheduled refund) with what readers need to show them.

use super::command::{BankDeposit, DeclaredDeposit, DisposalCause};
use super::movement::{DebitKind, Movement, Period};
use super::paypal::PaypalFee;
use super::top_up::TopUpRejection;
use crate::exchange::Conversion;
use crate::ids::{AccountId, CauseId, MemberId};
use crate::money::{Currency, Money, Rounding};
use crate::policy::PolicyVersion;
use crate::rules::Rule;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What happened to a charge account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountEvent {
    /// The account was opened, in the policy's billing currency.
    Opened {
        /// The account.
        account_id: AccountId,
        /// Its member.
        member_id: MemberId,
        /// The currency of the balance, for life.
        currency: Currency,
        /// Local date of opening.
        opened_on: NaiveDate,
        /// Policy applied.
        policy: PolicyVersion,
    },
    /// A top-up application matched its deposit and the deposit was credited (ACC-2). The
    /// conversion, when the deposit's currency differs, is at the charging rate (MON-2, MON-3).
    TopUpApproved {
        /// The application.
        application_id: CauseId,
        /// The deposit credited.
        deposit: BankDeposit,
        /// The credit (reason `top_up`, cause the deposit): the deposit, less the PayPal fee
        /// when it was received through PayPal (ACC-5).
        movement: Movement,
        /// The PayPal fee kept from a deposit received through PayPal (ACC-5), in the
        /// deposit's currency; `None` for any other deposit. Boxed: rarely present, and large.
        paypal_fee: Option<Box<PaypalFee>>,
        /// The conversion applied, if any.
        conversion: Option<Conversion>,
        /// Last day the application could be filed.
        filing_deadline: NaiveDate,
        /// Local date of the decision.
        approved_on: NaiveDate,
        /// Policy applied.
        policy: PolicyVersion,
    },
    /// A top-up application was rejected, with every reason found (ACC-2).
    TopUpRejected {
        /// The application.
        application_id: CauseId,
        /// What the member declared.
        declared: DeclaredDeposit,
        /// What the bank recorded, if anything was found.
        deposit: Option<BankDeposit>,
        /// Every reason found, at least one.
        reasons: Vec<TopUpRejection>,
        /// Last day the application could be filed.
        filing_deadline: NaiveDate,
        /// Rejections in a row that count toward suspension, this one included when it counts
        /// (ACC-3; a rejection for lateness alone counts only if the policy says so, ACC-2).
        consecutive_rejections: u32,
        /// Local date of the decision.
        rejected_on: NaiveDate,
        /// Policy applied.
        policy: PolicyVersion,
    },
    /// Consecutive rejections reached the policy's limit: the member is to be suspended
    /// (ACC-3, MEM-5). The streak starts again from zero.
    TopUpRejectionLimitReached {
        /// The member to suspend.
        member_id: MemberId,
        /// Rejections in a row.
        consecutive_rejections: u32,
        /// The limit of the policy.
        limit: u32,
        /// Policy applied.
        policy: PolicyVersion,
    },
    /// A fee or payment was debited (ACC-4).
    Debited {
        /// The debit (negative).
        movement: Movement,
        /// Whether the balance had to cover it.
        kind: DebitKind,
        /// The period a recurring charge covers.
        period: Option<Period>,
        /// The conversion applied, if the charge was in another currency (MON-2).
        conversion: Option<Conversion>,
        /// The rule that gave rise to the charge.
        rule: Rule,
        /// Policy applied.
        policy: PolicyVersion,
    },
    /// The balance was credited (a claim payout).
    Credited {
        /// The credit (positive).
        movement: Movement,
        /// The conversion applied, if the credit was in another currency (MON-2).
        conversion: Option<Conversion>,
        /// Policy applied.
        policy: PolicyVersion,
    },
    /// The fee of a disposal was debited as an owed debt (DSP-1), per item when the parcel
    /// was left behind at withdrawal (MEM-8).
    DisposalFeeCharged {
        /// The debit (negative), reason `disposal_fee` or `withdrawal_disposal_fee`.
        movement: Movement,
        /// Why the parcel was disposed of.
        disposal: DisposalCause,
        /// Fee per unit (parcel or item) from the policy.
        unit_fee: Money,
        /// Units charged.
        units: u32,
        /// DSP-1, or MEM-8 for items left at withdrawal.
        rule: Rule,
        /// Policy applied.
        policy: PolicyVersion,
    },
    /// What a disposed parcel sold for, less the costs, was credited (DSP-1). A sale that
    /// did not cover its costs leaves a negative movement: the shortfall is owed.
    SaleProceedsCredited {
        /// Net movement, reason `sale_proceeds`.
        movement: Movement,
        /// The sale price.
        gross: Money,
        /// The costs deducted.
        costs: Money,
        /// Policy applied.
        policy: PolicyVersion,
    },
    /// Late interest accrued on an overdue amount for a period (ACC-6): an owed debt.
    LateInterestAccrued {
        /// The debit (negative or zero), reason `late_interest`.
        movement: Movement,
        /// The amount overdue.
        overdue: Money,
        /// Its due date.
        due_on: NaiveDate,
        /// Days covered, after the due date and after any earlier accrual.
        period: Period,
        /// Number of days in `period`.
        days: u32,
        /// Percent a year.
        annual_percent: Decimal,
        /// Days in the year of the day count (actual/basis).
        day_count_basis: u32,
        /// Rounding applied.
        rounding: Rounding,
        /// Policy applied.
        policy: PolicyVersion,
    },
    /// The warehouse agreed to advance a shipment's duty (ACC-8); the fee and the duty follow
    /// as [`AccountEvent::Debited`].
    DutyAdvanced {
        /// The shipment.
        shipment: CauseId,
        /// The balance before the advance, in the account currency.
        balance: Money,
        /// The balance as compared with the minimum, in the minimum's currency.
        compared_balance: Money,
        /// The minimum balance the policy states: in the account currency where it states one
        /// (ACC-8: 10,000 JPY, 500 CNY).
        minimum: Money,
        /// The conversion used for the comparison, when the policy states no minimum in the
        /// account currency (MON-2); none otherwise.
        comparison: Option<Conversion>,
        /// Policy applied.
        policy: PolicyVersion,
    },
    /// The member asked to withdraw: the whole balance will be refunded on `due_on` (ACC-7).
    RefundScheduled {
        /// The withdrawal request.
        request: CauseId,
        /// The day it was accepted.
        requested_on: NaiveDate,
        /// Months waited before the refund month.
        wait_months: u32,
        /// The day the refund is due.
        due_on: NaiveDate,
        /// Policy applied.
        policy: PolicyVersion,
    },
    /// The whole balance was refunded and the account closed (ACC-7).
    Refunded {
        /// The debit of the whole balance, reason `refund`, cause the withdrawal request.
        movement: Movement,
        /// What was paid out.
        paid: Money,
        /// The refund conversion (MON-3), if the payout currency differs.
        conversion: Option<Conversion>,
        /// The due date.
        due_on: NaiveDate,
        /// Local date of payment.
        paid_on: NaiveDate,
        /// Policy applied.
        policy: PolicyVersion,
    },
}

impl AccountEvent {
    /// Every event type string, in declaration order.
    pub const TYPES: &'static [&'static str] = &[
        "account.opened",
        "account.top_up_approved",
        "account.top_up_rejected",
        "account.top_up_rejection_limit_reached",
        "account.debited",
        "account.credited",
        "account.disposal_fee_charged",
        "account.sale_proceeds_credited",
        "account.late_interest_accrued",
        "account.duty_advanced",
        "account.refund_scheduled",
        "account.refunded",
    ];

    /// The movement of money this event records, if any (ACC-1). The balance is the sum of
    /// these.
    pub fn movement(&self) -> Option<&Movement> {
        match self {
            AccountEvent::TopUpApproved { movement, .. }
            | AccountEvent::Debited { movement, .. }
            | AccountEvent::Credited { movement, .. }
            | AccountEvent::DisposalFeeCharged { movement, .. }
            | AccountEvent::SaleProceedsCredited { movement, .. }
            | AccountEvent::LateInterestAccrued { movement, .. }
            | AccountEvent::Refunded { movement, .. } => Some(movement),
            AccountEvent::Opened { .. }
            | AccountEvent::TopUpRejected { .. }
            | AccountEvent::TopUpRejectionLimitReached { .. }
            | AccountEvent::DutyAdvanced { .. }
            | AccountEvent::RefundScheduled { .. } => None,
        }
    }
}

impl cqrs_es::DomainEvent for AccountEvent {
    fn event_type(&self) -> String {
        let name = match self {
            AccountEvent::Opened { .. } => "account.opened",
            AccountEvent::TopUpApproved { .. } => "account.top_up_approved",
            AccountEvent::TopUpRejected { .. } => "account.top_up_rejected",
            AccountEvent::TopUpRejectionLimitReached { .. } => {
                "account.top_up_rejection_limit_reached"
            }
            AccountEvent::Debited { .. } => "account.debited",
            AccountEvent::Credited { .. } => "account.credited",
            AccountEvent::DisposalFeeCharged { .. } => "account.disposal_fee_charged",
            AccountEvent::SaleProceedsCredited { .. } => "account.sale_proceeds_credited",
            AccountEvent::LateInterestAccrued { .. } => "account.late_interest_accrued",
            AccountEvent::DutyAdvanced { .. } => "account.duty_advanced",
            AccountEvent::RefundScheduled { .. } => "account.refund_scheduled",
            AccountEvent::Refunded { .. } => "account.refunded",
        };
        name.to_owned()
    }

    fn event_version(&self) -> String {
        crate::upcast::current_version(&self.event_type()).to_owned()
    }
}
