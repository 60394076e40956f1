//! Refusals of a [`super::ChargeAccount`], each with a stable code and the rule it enforces.

use super::movement::Reason;
use super::paypal::PaypalFeeError;
use crate::exchange::ConversionError;
use crate::ids::CauseId;
use crate::money::{Currency, Money};
use crate::rules::{Refusal, Rule};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Which of the two refund rates of MON-3 was for the wrong month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundRateRole {
    /// The rate of the month the account was last charged.
    ChargeMonth,
    /// The rate of the refund month.
    RefundMonth,
}

/// Why a charge-account command was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AccountError {
    /// Nothing can happen before the account is opened.
    #[error("the account is not opened")]
    NotOpened,
    /// An account is opened once.
    #[error("the account is already opened")]
    AlreadyOpened,
    /// The balance was refunded and the account closed (ACC-7).
    #[error("the account is closed")]
    Closed,
    /// The application was already approved or rejected (ACC-2).
    #[error("top-up application {application} was already decided")]
    ApplicationAlreadyDecided {
        /// The application.
        application: CauseId,
    },
    /// A conversion is needed and the command carries no rate (MON-2).
    #[error("converting {from} into {to} needs a recorded exchange rate")]
    ExchangeRateMissing {
        /// Currency of the amount.
        from: Currency,
        /// Currency needed.
        to: Currency,
    },
    /// The rate given cannot make the conversion (MON-2).
    #[error("the exchange rate cannot be used: {0}")]
    ExchangeRateUnusable(ConversionError),
    /// The rate given is recorded for another day than the charge's (MON-2).
    #[error(
        "the exchange rate is valid on {valid_on}, not on {applied_on}, the day of the charge"
    )]
    ExchangeRateStale {
        /// The day the rate is valid on.
        valid_on: NaiveDate,
        /// The day of the charge.
        applied_on: NaiveDate,
    },
    /// Amounts must be whole units of their currency (MON-1).
    #[error("{amount} is not a whole number of the currency's smallest unit")]
    AmountPrecision {
        /// The amount.
        amount: Money,
    },
    /// A movement needs a positive amount (ACC-1).
    #[error("{amount} must be positive")]
    NonPositiveAmount {
        /// The amount.
        amount: Money,
    },
    /// The amount is not in the account currency and no conversion applies (MON-2).
    #[error("{amount} is not in the account currency {expected}")]
    CurrencyMismatch {
        /// The account currency.
        expected: Currency,
        /// The amount given.
        amount: Money,
    },
    /// A regular debit would take the balance below zero (ACC-4).
    #[error("a debit of {debit} exceeds the balance of {balance}")]
    InsufficientBalance {
        /// The balance.
        balance: Money,
        /// The debit refused.
        debit: Money,
    },
    /// The same charge was already debited (ACC-4; PAY-1 for a shipment payment).
    #[error("{reason:?} for {cause} was already debited")]
    DuplicateDebit {
        /// Reason of the charge.
        reason: Reason,
        /// Its cause.
        cause: CauseId,
    },
    /// The same credit was already made (ACC-1).
    #[error("{reason:?} for {cause} was already credited")]
    DuplicateCredit {
        /// Reason of the credit.
        reason: Reason,
        /// Its cause.
        cause: CauseId,
    },
    /// A payment reversal without a shipment payment debited for its cause (PAY-1).
    #[error("no shipment payment for {cause} was debited, so none can be credited back")]
    NoPaymentToReverse {
        /// The shipment named.
        cause: CauseId,
    },
    /// Duty is advanced only on a balance of at least the minimum (ACC-8).
    #[error(
        "a duty advance needs a balance of at least {minimum}, the balance is {compared_balance}"
    )]
    DutyAdvanceBalanceTooLow {
        /// The balance as compared, in the minimum's currency.
        compared_balance: Money,
        /// The minimum.
        minimum: Money,
    },
    /// Duty is billed only for a shipment whose duty the warehouse advanced (ACC-8).
    #[error("no duty advance was granted for shipment {shipment}")]
    NoDutyAdvance {
        /// The shipment.
        shipment: CauseId,
    },
    /// No interest accrues on or before the due date (ACC-6).
    #[error("nothing is overdue through {through}: due on {due_on}")]
    NotOverdue {
        /// The due date.
        due_on: NaiveDate,
        /// The day asked for.
        through: NaiveDate,
    },
    /// Interest for the period was already accrued (ACC-6).
    #[error("interest on {cause} is already accrued through {accrued_through}")]
    InterestAlreadyAccrued {
        /// The overdue item.
        cause: CauseId,
        /// The last day already accrued.
        accrued_through: NaiveDate,
    },
    /// Interest cannot accrue for days that have not happened (ACC-6, TIM-1).
    #[error("interest cannot accrue through {through}, after today {today}")]
    InterestInFuture {
        /// The day asked for.
        through: NaiveDate,
        /// Today's local date.
        today: NaiveDate,
    },
    /// A withdrawal refund is already scheduled (ACC-7).
    #[error("a withdrawal refund is already scheduled, due {due_on}")]
    WithdrawalAlreadyRequested {
        /// Its due date.
        due_on: NaiveDate,
    },
    /// The balance is refunded only on withdrawal, never in part (ACC-7).
    #[error("the balance is refunded only on withdrawal")]
    RefundWithoutWithdrawal,
    /// The refund waits until its due date (ACC-7), so late bills can still be charged.
    #[error("the refund is due on {due_on}, not yet on {today}")]
    RefundNotDue {
        /// The due date.
        due_on: NaiveDate,
        /// Today's local date.
        today: NaiveDate,
    },
    /// A negative balance is a debt, not a refund (ACC-7).
    #[error("the balance {balance} is a debt: settle it before the refund")]
    RefundOfDebt {
        /// The balance.
        balance: Money,
    },
    /// A refund rate is not from the month MON-3 requires.
    #[error("the {role:?} rate is valid on {valid_on}, not in the month of {expected_month}")]
    RefundRateMonth {
        /// Which rate.
        role: RefundRateRole,
        /// Its date.
        valid_on: NaiveDate,
        /// A day of the month it should be from.
        expected_month: NaiveDate,
    },
}

impl Refusal for AccountError {
    fn code(&self) -> &'static str {
        match self {
            AccountError::NotOpened => "account.not_opened",
            AccountError::AlreadyOpened => "account.already_opened",
            AccountError::Closed => "account.closed",
            AccountError::ApplicationAlreadyDecided { .. } => "account.application_already_decided",
            AccountError::ExchangeRateMissing { .. } => "account.exchange_rate_missing",
            AccountError::ExchangeRateUnusable(_) => "account.exchange_rate_unusable",
            AccountError::ExchangeRateStale { .. } => "account.exchange_rate_stale",
            AccountError::AmountPrecision { .. } => "account.amount_precision",
            AccountError::NonPositiveAmount { .. } => "account.non_positive_amount",
            AccountError::CurrencyMismatch { .. } => "account.currency_mismatch",
            AccountError::InsufficientBalance { .. } => "account.insufficient_balance",
            AccountError::DuplicateDebit { .. } => "account.duplicate_debit",
            AccountError::DuplicateCredit { .. } => "account.duplicate_credit",
            AccountError::NoPaymentToReverse { .. } => "account.no_payment_to_reverse",
            AccountError::DutyAdvanceBalanceTooLow { .. } => "account.duty_advance_min_balance",
            AccountError::NoDutyAdvance { .. } => "account.no_duty_advance",
            AccountError::NotOverdue { .. } => "account.not_overdue",
            AccountError::InterestAlreadyAccrued { .. } => "account.interest_already_accrued",
            AccountError::InterestInFuture { .. } => "account.interest_in_future",
            AccountError::WithdrawalAlreadyRequested { .. } => {
                "account.withdrawal_already_requested"
            }
            AccountError::RefundWithoutWithdrawal => "account.refund_without_withdrawal",
            AccountError::RefundNotDue { .. } => "account.refund_not_due",
            AccountError::RefundOfDebt { .. } => "account.refund_of_debt",
            AccountError::RefundRateMonth { .. } => "account.refund_rate_month",
        }
    }

    fn rule(&self) -> Option<Rule> {
        match self {
            AccountError::NotOpened | AccountError::AlreadyOpened => None,
            AccountError::Closed => Some(Rule::Acc7),
            AccountError::ApplicationAlreadyDecided { .. } => Some(Rule::Acc2),
            AccountError::ExchangeRateMissing { .. }
            | AccountError::ExchangeRateUnusable(_)
            | AccountError::ExchangeRateStale { .. }
            | AccountError::CurrencyMismatch { .. } => Some(Rule::Mon2),
            AccountError::AmountPrecision { .. } => Some(Rule::Mon1),
            AccountError::NonPositiveAmount { .. } | AccountError::DuplicateCredit { .. } => {
                Some(Rule::Acc1)
            }
            AccountError::InsufficientBalance { .. } => Some(Rule::Acc4),
            AccountError::NoPaymentToReverse { .. } => Some(Rule::Pay1),
            AccountError::DuplicateDebit { reason, .. } => Some(match reason {
                Reason::ShipmentPayment => Rule::Pay1,
                _ => Rule::Acc4,
            }),
            AccountError::DutyAdvanceBalanceTooLow { .. } | AccountError::NoDutyAdvance { .. } => {
                Some(Rule::Acc8)
            }
            AccountError::NotOverdue { .. }
            | AccountError::InterestAlreadyAccrued { .. }
            | AccountError::InterestInFuture { .. } => Some(Rule::Acc6),
            AccountError::WithdrawalAlreadyRequested { .. }
            | AccountError::RefundWithoutWithdrawal
            | AccountError::RefundNotDue { .. }
            | AccountError::RefundOfDebt { .. } => Some(Rule::Acc7),
            AccountError::RefundRateMonth { .. } => Some(Rule::Mon3),
        }
    }
}

impl From<PaypalFeeError> for AccountError {
    fn from(e: PaypalFeeError) -> Self {
        match e {
            PaypalFeeError::RateRequired { from, to } => {
                AccountError::ExchangeRateMissing { from, to }
            }
            PaypalFeeError::Conversion(e) => e.into(),
        }
    }
}

impl From<ConversionError> for AccountError {
    fn from(e: ConversionError) -> Self {
        match e {
            ConversionError::StaleRate {
                valid_on,
                applied_on,
            } => AccountError::ExchangeRateStale {
                valid_on,
                applied_on,
            },
            other => AccountError::ExchangeRateUnusable(other),
        }
    }
}
