//! Commands to a [`super::ChargeAccount`]. Facts looked up elsewhere (the bank's deposit
//! record, exchange rates, the withdrawal request) arrive inside the command (MON-2, TIM-1).

use super::movement::{CreditReason, DebitReason, Period};
use crate::exchange::ExchangeRate;
use crate::ids::{AccountId, CauseId, MemberId};
use crate::money::{Currency, Money};
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a [`super::ChargeAccount`] can be asked to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum AccountCommand {
    /// Open the account of a member, in the policy's billing currency.
    Open {
        /// The account.
        account_id: AccountId,
        /// Its member.
        member_id: MemberId,
    },
    /// A member's top-up application (ACC-2, ACC-3). `deposit` is the bank's record of the
    /// deposit the caller found for it (`None` when none was found); `rate` prices the
    /// deposit's currency when it differs from the account's (MON-3).
    ApplyForTopUp {
        /// The application, decided once.
        application_id: CauseId,
        /// What the member declared.
        declared: DeclaredDeposit,
        /// What the bank recorded, if anything.
        deposit: Option<BankDeposit>,
        /// The reference rate of the day, needed only when a conversion is.
        rate: Option<ExchangeRate>,
    },
    /// Debit a fee or a payment (ACC-4). A regular debit must be covered by the balance; an
    /// owed one may take it below zero (see [`DebitReason::kind`]). A second debit with the
    /// same reason, cause and period is refused (PAY-1 at the account level).
    Debit {
        /// Why.
        reason: DebitReason,
        /// The parcel or shipment it is for.
        cause: CauseId,
        /// How much, in any currency `rate` can convert.
        amount: Money,
        /// The period a recurring charge covers (a month of storage), part of its identity.
        period: Option<Period>,
        /// Needed only when `amount` is not in the account currency.
        rate: Option<ExchangeRate>,
    },
    /// Credit the balance (a claim payout, CLM-5). Once per reason and cause.
    Credit {
        /// Why.
        reason: CreditReason,
        /// The claim it is for.
        cause: CauseId,
        /// How much, in any currency `rate` can convert.
        amount: Money,
        /// Needed only when `amount` is not in the account currency.
        rate: Option<ExchangeRate>,
    },
    /// Charge the disposal of a parcel (DSP-1), or the destruction of its items left behind at
    /// withdrawal (MEM-8): an owed debt, the fee the parcel priced when it was disposed of
    /// (`parcel.disposed`): the rule is computed once, by the parcel.
    ChargeDisposalFee {
        /// The parcel disposed of.
        parcel: CauseId,
        /// The recorded cause of the disposal.
        disposal: DisposalCause,
        /// The fee `parcel.disposed` recorded, in the account currency.
        fee: Money,
    },
    /// Credit what a disposed parcel sold for, less the costs of selling it (DSP-1).
    CreditSaleProceeds {
        /// The parcel sold.
        parcel: CauseId,
        /// What it sold for, in the account currency.
        gross: Money,
        /// The costs of the sale, in the account currency.
        costs: Money,
    },
    /// Accrue late interest on an overdue amount through a day (ACC-6).
    AccrueLateInterest {
        /// The unpaid invoice, quote or debt.
        cause: CauseId,
        /// The amount overdue, in the account currency.
        overdue: Money,
        /// Its due date: interest runs from the next day.
        due_on: NaiveDate,
        /// The last day to accrue, not after today.
        through: NaiveDate,
    },
    /// Advance the import duty of a shipment (ACC-8). `duty` is known now or billed later with
    /// [`AccountCommand::BillAdvancedDuty`]; `rate` compares the balance with a threshold in
    /// another currency, and converts the duty and fee if needed.
    AdvanceDuty {
        /// The shipment whose duty is advanced.
        shipment: CauseId,
        /// The duty, when already known.
        duty: Option<Money>,
        /// The reference rate used for the comparison and conversions.
        rate: Option<ExchangeRate>,
        /// Sea freight's taxable value, where the policy prices its advance by it (ACC-8:
        /// `account.sea_duty_advance`); none for any other freight.
        #[serde(default)]
        sea_taxable_value: Option<Money>,
    },
    /// Bill duty the warehouse advanced, after customs billed it (ACC-8): an owed debt.
    BillAdvancedDuty {
        /// The shipment.
        shipment: CauseId,
        /// The duty customs billed.
        duty: Money,
        /// Needed only when `duty` is not in the account currency.
        rate: Option<ExchangeRate>,
    },
    /// The member asked to withdraw on `requested_on` (MEM-8): schedule the refund (ACC-7).
    ScheduleRefund {
        /// The withdrawal request.
        request: CauseId,
        /// The day the request was accepted.
        requested_on: NaiveDate,
    },
    /// Pay the whole balance back, on or after its due date (ACC-7), and close the account.
    /// There is no amount: a refund is never partial.
    PayRefund {
        /// The currency paid out (JPY to a Japanese bank account).
        payout_currency: Currency,
        /// The two reference rates of MON-3, needed only when converting.
        rates: Option<RefundRates>,
    },
}

/// A deposit as the member declares it in a top-up application (ACC-2): one bank only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclaredDeposit {
    /// The day of the deposit.
    pub deposited_on: NaiveDate,
    /// The bank it was paid into.
    pub bank: String,
    /// The amount paid.
    pub amount: Money,
    /// The name the payment was made in.
    pub payer_name: String,
}

/// The bank's own record of a deposit into the operator's account, looked up by the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BankDeposit {
    /// The bank's id for the deposit: the cause of the top-up movement.
    pub deposit_id: CauseId,
    /// The day it arrived.
    pub deposited_on: NaiveDate,
    /// The bank it arrived at.
    pub bank: String,
    /// The amount received.
    pub amount: Money,
    /// The payer's name as the bank recorded it.
    pub payer_name: String,
}

/// Why a parcel was disposed of (DSP-1); it decides the fee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum DisposalCause {
    /// Past maximum storage (STO-2).
    PastMaxStorage,
    /// A prohibited item (INS-4).
    Prohibited,
    /// Quote unpaid past its due date (PAY-2).
    Unpaid,
    /// Its shipment came back and the member had it disposed of (SHP-2).
    ReturnAbandoned,
    /// Left behind, or arrived, after a withdrawal request (MEM-8): charged per item.
    LeftAtWithdrawal {
        /// Items destroyed.
        items: u32,
    },
}

/// The two reference rates of a refund conversion (MON-3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRates {
    /// The rate of the month the member last charged the account.
    pub charge_month: ExchangeRate,
    /// The rate of the month of the refund.
    pub refund_month: ExchangeRate,
}
