//! Matching a top-up application against the bank's deposit record (ACC-2).

use super::command::{BankDeposit, DeclaredDeposit};
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Why a top-up application was rejected (ACC-2). Each rejection records every reason found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TopUpRejection {
    /// The bank has no deposit for the application.
    NoDepositFound,
    /// The declared date is not the deposit's date.
    DateMismatch,
    /// The declared bank is not the bank the deposit arrived at. An application names one
    /// bank; a payment split across banks cannot match one deposit.
    BankMismatch,
    /// The declared amount (or currency) is not the deposit's.
    AmountMismatch,
    /// The declared payer name is not the one the bank recorded.
    PayerNameMismatch,
    /// Filed more than the filing window after the deposit.
    FiledTooLate,
    /// The deposit was already credited by an earlier application.
    DepositAlreadyApplied,
}

impl TopUpRejection {
    /// A stable code for the member-facing message.
    pub const fn code(self) -> &'static str {
        match self {
            TopUpRejection::NoDepositFound => "top_up.no_deposit_found",
            TopUpRejection::DateMismatch => "top_up.date_mismatch",
            TopUpRejection::BankMismatch => "top_up.bank_mismatch",
            TopUpRejection::AmountMismatch => "top_up.amount_mismatch",
            TopUpRejection::PayerNameMismatch => "top_up.payer_name_mismatch",
            TopUpRejection::FiledTooLate => "top_up.filed_too_late",
            TopUpRejection::DepositAlreadyApplied => "top_up.deposit_already_applied",
        }
    }
}

/// The last day a top-up application for a deposit of `deposited_on` may be filed: the same
/// date `window_months` calendar months later, clamped to the month's end (TIM-1: a deposit
/// of Jan 31 may be applied for until Feb 28, or Feb 29 in a leap year).
pub fn top_up_filing_deadline(deposited_on: NaiveDate, window_months: u32) -> NaiveDate {
    crate::calendar::add_months(deposited_on, window_months)
}

/// The day the filing window counts from: the bank's date when a deposit was found, else the
/// declared one.
pub fn top_up_deposit_date(declared: &DeclaredDeposit, deposit: Option<&BankDeposit>) -> NaiveDate {
    deposit.map_or(declared.deposited_on, |d| d.deposited_on)
}

/// Every reason the application fails ACC-2, empty when it is to be approved: the four
/// declared facts must match the bank's record exactly (no trimming, no case folding), and it
/// is due on or before [`top_up_filing_deadline`]. Whether lateness rejects is the policy's
/// decision (`late_top_up`): the account drops [`TopUpRejection::FiledTooLate`] when it does not.
pub fn top_up_rejections(
    declared: &DeclaredDeposit,
    deposit: Option<&BankDeposit>,
    filed_on: NaiveDate,
    window_months: u32,
) -> Vec<TopUpRejection> {
    let mut reasons = Vec::new();
    match deposit {
        None => reasons.push(TopUpRejection::NoDepositFound),
        Some(d) => {
            if declared.deposited_on != d.deposited_on {
                reasons.push(TopUpRejection::DateMismatch);
            }
            if declared.bank != d.bank {
                reasons.push(TopUpRejection::BankMismatch);
            }
            if declared.amount != d.amount {
                reasons.push(TopUpRejection::AmountMismatch);
            }
            if declared.payer_name != d.payer_name {
                reasons.push(TopUpRejection::PayerNameMismatch);
            }
        }
    }
    let deadline = top_up_filing_deadline(top_up_deposit_date(declared, deposit), window_months);
    if filed_on > deadline {
        reasons.push(TopUpRejection::FiledTooLate);
    }
    reasons
}
