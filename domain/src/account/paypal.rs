//! The PayPal fee (ACC-5, seed 001: PayPal決済やPayPal社が提供するクレジットカード/デビットカード
//! 決済の際にPayPal社より請求される決済手数料(3.6%+40円)はユーザー様負担): charged to the member
//! on every payment PayPal processes, whether a shipment payment (PayPal itself, or a card
//! PayPal provides) or a top-up received through PayPal. Which ones those are is the policy's
//! (`account.paypal_processed_methods`, `account.paypal_institution`).

use crate::exchange::{convert_for_charge, Conversion, ConversionError, ExchangeRate};
use crate::money::{Currency, Money, Rounding};
use crate::policy::AccountPolicy;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The PayPal fee of one payment, with what it was computed from (ACC-5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PaypalFee {
    /// The amount PayPal processed, which the percent applies to.
    pub base: Money,
    /// Percent of the base.
    pub percent: Decimal,
    /// Fixed part as configured.
    pub fixed: Money,
    /// The conversion of the fixed part when it is in another currency than the base (MON-2).
    pub conversion: Option<Conversion>,
    /// The fee: percent of the base plus the fixed part, rounded half up, in the base's
    /// currency.
    pub fee: Money,
}

/// Why the PayPal fee could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PaypalFeeError {
    /// The fixed part is in another currency and no rate was given (MON-2).
    #[error("a {from}/{to} exchange rate is needed for the PayPal fee")]
    RateRequired {
        /// The fixed part's currency.
        from: Currency,
        /// The base's currency.
        to: Currency,
    },
    /// The rate given cannot convert the fixed part (MON-2).
    #[error(transparent)]
    Conversion(#[from] ConversionError),
}

/// The PayPal fee of a payment of `base` made on `paid_on` (ACC-5): `paypal_fee_percent` of
/// `base` plus the fixed fee, rounded half up to the currency's unit. A fixed fee in another
/// currency than `base` is converted at the charging rate of MON-3 from `rate`, which must be
/// the rate of `paid_on` (MON-2).
pub fn paypal_fee(
    base: Money,
    account: &AccountPolicy,
    rate: Option<&ExchangeRate>,
    paid_on: NaiveDate,
) -> Result<PaypalFee, PaypalFeeError> {
    let fixed = account.paypal_fee_fixed;
    let conversion = if fixed.currency == base.currency {
        None
    } else {
        let rate = rate.ok_or(PaypalFeeError::RateRequired {
            from: fixed.currency,
            to: base.currency,
        })?;
        Some(convert_for_charge(
            fixed,
            base.currency,
            rate,
            account.charge_rate_markup,
            Rounding::HalfUp,
            paid_on,
        )?)
    };
    // The fixed part is in the base's currency, converted to it when it was not.
    let fixed_in_base = conversion.as_ref().map_or(fixed.amount, |c| c.to.amount);
    let percent_of_base = base.amount * account.paypal_fee_percent / Decimal::ONE_HUNDRED;
    let fee = Money::new(percent_of_base + fixed_in_base, base.currency).rounded(Rounding::HalfUp);
    Ok(PaypalFee {
        base,
        percent: account.paypal_fee_percent,
        fixed,
        conversion,
        fee,
    })
}
