//! Charge-account commands finance records by hand (`/v1/accounts/{account_id}`): fees
//! (ACC-4), sale proceeds (DSP-1), late interest (ACC-6) and advanced duty (ACC-8); and the
//! month's reference bank rates (`/v1/reference-rates`, MON-3) refunds are converted at.
//!
//! `Open`, `ApplyForTopUp`, `ChargeDisposalFee`, `ScheduleRefund`, `PayRefund`, every
//! `Credit` (claim payouts, payment reversals) and the shipment-payment `Debit` have no
//! endpoint here: the engine issues them inside the registration, top-up, disposal,
//! withdrawal, refund, claim and payment use cases, under the member's endpoints.

use super::roles::FINANCE;
use super::{command, Endpoint};
use crate::command::{Call, Collection, Command, NoId, OnAccount, Spec};
use crate::failure::Failure;
use crate::outcome::ReferenceRateRecorded;
use chrono::NaiveDate;
use domain::account::{AccountCommand, AccountEvent, ChargeAccount, DebitReason, Period};
use domain::exchange::ExchangeRate;
use domain::ids::{AccountId, CauseId};
use domain::money::{Currency, Money};
use engine::Executed;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::Deserialize;

pub(crate) fn endpoints() -> Vec<Endpoint> {
    vec![
        command::<DebitAccount>(),
        command::<CreditSaleProceeds>(),
        command::<AccrueLateInterest>(),
        command::<AdvanceDuty>(),
        command::<BillAdvancedDuty>(),
        command::<RecordReferenceRate>(),
    ]
}

async fn account(
    call: &Call<'_>,
    id: &AccountId,
    command: AccountCommand,
) -> Result<Executed<AccountEvent>, Failure> {
    call.execute::<ChargeAccount>(id.as_str(), command).await
}

/// Debits a fee for work done (ACC-4): storage, inspection, defect, proxy payment. Once per
/// reason, cause and period. Shipment payments go through `pay_shipment`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DebitAccount {
    /// Why.
    reason: DebitReason,
    /// The parcel or shipment it is for.
    cause: CauseId,
    /// How much, in any currency `rate` can convert.
    amount: Money,
    /// The period a recurring charge covers, part of its identity.
    #[serde(default)]
    period: Option<Period>,
    /// Needed only when `amount` is not in the account currency.
    #[serde(default)]
    rate: Option<ExchangeRate>,
}

impl Command for DebitAccount {
    const SPEC: Spec = Spec {
        operation: "debit_account",
        path: "/v1/accounts/{account_id}/debit",
        summary: "Debit a fee for work done, once per reason and cause (ACC-1, ACC-4)",
        roles: FINANCE,
        errors: &[
            (422, "account.amount_precision"),
            (422, "account.closed"),
            (422, "account.duplicate_debit"),
            (422, "account.exchange_rate_missing"),
            (422, "account.exchange_rate_stale"),
            (422, "account.exchange_rate_unusable"),
            (422, "account.non_positive_amount"),
            (422, "request.unprocessable"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnAccount;
    type Output = Executed<AccountEvent>;

    async fn run(self, call: &Call<'_>, id: AccountId) -> Result<Self::Output, Failure> {
        let command = AccountCommand::Debit {
            reason: self.reason,
            cause: self.cause,
            amount: self.amount,
            period: self.period,
            rate: self.rate,
        };
        account(call, &id, command).await
    }
}

/// Credits what a disposed parcel sold for, less the costs of selling it (DSP-1).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreditSaleProceeds {
    /// The parcel sold.
    parcel: CauseId,
    /// What it sold for, in the account currency.
    gross: Money,
    /// The costs of the sale, in the account currency.
    costs: Money,
}

impl Command for CreditSaleProceeds {
    const SPEC: Spec = Spec {
        operation: "credit_sale_proceeds",
        path: "/v1/accounts/{account_id}/credit-sale-proceeds",
        summary: "Credit a disposed parcel's sale proceeds less costs (DSP-1)",
        roles: FINANCE,
        errors: &[
            (422, "account.amount_precision"),
            (422, "account.closed"),
            (422, "account.currency_mismatch"),
            (422, "account.duplicate_credit"),
            (422, "account.non_positive_amount"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnAccount;
    type Output = Executed<AccountEvent>;

    async fn run(self, call: &Call<'_>, id: AccountId) -> Result<Self::Output, Failure> {
        let command = AccountCommand::CreditSaleProceeds {
            parcel: self.parcel,
            gross: self.gross,
            costs: self.costs,
        };
        account(call, &id, command).await
    }
}

/// Accrues late interest on an overdue amount through a day (ACC-6).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccrueLateInterest {
    /// The unpaid invoice, quote or debt.
    cause: CauseId,
    /// The amount overdue, in the account currency.
    overdue: Money,
    /// Its due date: interest runs from the next day.
    due_on: NaiveDate,
    /// The last day to accrue, not after today.
    through: NaiveDate,
}

impl Command for AccrueLateInterest {
    const SPEC: Spec = Spec {
        operation: "accrue_late_interest",
        path: "/v1/accounts/{account_id}/accrue-late-interest",
        summary: "Accrue late interest on an overdue amount (ACC-6)",
        roles: FINANCE,
        errors: &[
            (422, "account.amount_precision"),
            (422, "account.closed"),
            (422, "account.currency_mismatch"),
            (422, "account.interest_already_accrued"),
            (422, "account.interest_in_future"),
            (422, "account.non_positive_amount"),
            (422, "account.not_overdue"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnAccount;
    type Output = Executed<AccountEvent>;

    async fn run(self, call: &Call<'_>, id: AccountId) -> Result<Self::Output, Failure> {
        let command = AccountCommand::AccrueLateInterest {
            cause: self.cause,
            overdue: self.overdue,
            due_on: self.due_on,
            through: self.through,
        };
        account(call, &id, command).await
    }
}

/// Advances a shipment's import duty, when the balance is high enough (ACC-8).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AdvanceDuty {
    /// The shipment whose duty is advanced.
    shipment: CauseId,
    /// The duty, when already known.
    #[serde(default)]
    duty: Option<Money>,
    /// The reference rate, when currencies differ.
    #[serde(default)]
    rate: Option<ExchangeRate>,
    /// Sea freight's taxable value, which prices its advance where the policy says so.
    #[serde(default)]
    sea_taxable_value: Option<Money>,
}

impl Command for AdvanceDuty {
    const SPEC: Spec = Spec {
        operation: "advance_duty",
        path: "/v1/accounts/{account_id}/advance-duty",
        summary: "Advance a shipment's import duty for its fee (ACC-8)",
        roles: FINANCE,
        errors: &[
            (422, "account.amount_precision"),
            (422, "account.closed"),
            (422, "account.currency_mismatch"),
            (422, "account.duplicate_debit"),
            (422, "account.duty_advance_min_balance"),
            (422, "account.exchange_rate_missing"),
            (422, "account.exchange_rate_stale"),
            (422, "account.exchange_rate_unusable"),
            (422, "account.insufficient_balance"),
            (422, "account.non_positive_amount"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnAccount;
    type Output = Executed<AccountEvent>;

    async fn run(self, call: &Call<'_>, id: AccountId) -> Result<Self::Output, Failure> {
        let command = AccountCommand::AdvanceDuty {
            shipment: self.shipment,
            duty: self.duty,
            rate: self.rate,
            sea_taxable_value: self.sea_taxable_value,
        };
        account(call, &id, command).await
    }
}

/// Bills duty the warehouse advanced, once customs billed it (ACC-8): an owed debt.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BillAdvancedDuty {
    /// The shipment.
    shipment: CauseId,
    /// The duty customs billed.
    duty: Money,
    /// Needed only when `duty` is not in the account currency.
    #[serde(default)]
    rate: Option<ExchangeRate>,
}

impl Command for BillAdvancedDuty {
    const SPEC: Spec = Spec {
        operation: "bill_advanced_duty",
        path: "/v1/accounts/{account_id}/bill-advanced-duty",
        summary: "Bill duty advanced earlier, as customs billed it (ACC-8)",
        roles: FINANCE,
        errors: &[
            (422, "account.amount_precision"),
            (422, "account.closed"),
            (422, "account.duplicate_debit"),
            (422, "account.exchange_rate_missing"),
            (422, "account.exchange_rate_stale"),
            (422, "account.exchange_rate_unusable"),
            (422, "account.no_duty_advance"),
            (422, "account.non_positive_amount"),
        ],
        ..Spec::DEFAULT
    };
    type On = OnAccount;
    type Output = Executed<AccountEvent>;

    async fn run(self, call: &Call<'_>, id: AccountId) -> Result<Self::Output, Failure> {
        let command = AccountCommand::BillAdvancedDuty {
            shipment: self.shipment,
            duty: self.duty,
            rate: self.rate,
        };
        account(call, &id, command).await
    }
}

/// Records a reference bank rate (MON-3): units of `quote` for one unit of `base` on a day.
/// A refund in another currency than the account's is converted at the latest rate of the
/// charge month and of the refund month; the scheduler pays a refund falling due once both
/// are recorded (ACC-7). A second rate for the same pair and day replaces the first.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("not" = {
    "description": "base and quote are two currencies",
    "anyOf": [
        { "properties": { "base": { "const": "JPY" }, "quote": { "const": "JPY" } } },
        { "properties": { "base": { "const": "CNY" }, "quote": { "const": "CNY" } } }
    ]
}))]
pub(crate) struct RecordReferenceRate {
    /// The currency priced (CNY).
    base: Currency,
    /// The currency it is priced in (JPY); not `base`.
    quote: Currency,
    /// Units of `quote` per unit of `base`, before any markup; above zero.
    #[schemars(extend(
        "type" = "string",
        "pattern" = "^[0-9]{1,28}(\\.[0-9]{1,28})?$",
        "not" = { "description": "above zero", "pattern": "^[0.]+$" }
    ))]
    rate: Decimal,
    /// Who published it (the reference bank); not empty.
    #[schemars(length(min = 1))]
    source: String,
    /// The day it applies to.
    valid_on: NaiveDate,
}

impl Command for RecordReferenceRate {
    const SPEC: Spec = Spec {
        operation: "record_reference_rate",
        path: "/v1/reference-rates",
        summary: "Record a day's reference bank rate refunds are converted at (MON-3, ACC-7)",
        roles: FINANCE,
        ..Spec::DEFAULT
    };
    type On = Collection;
    type Output = ReferenceRateRecorded;

    async fn run(self, call: &Call<'_>, _: NoId) -> Result<Self::Output, Failure> {
        let rate = ExchangeRate {
            base: self.base,
            quote: self.quote,
            rate: self.rate,
            source: self.source,
            valid_on: self.valid_on,
        };
        call.engine.record_reference_rate(&rate).await?;
        Ok(ReferenceRateRecorded { rate })
    }
}
