//! Exchange rates as recorded facts, and the charging and refund rates of MON-3.
//!
//! A rate is never looked up at replay time (MON-2): the rate a command used arrives inside
//! the command and is written into the event that charges or refunds, as a [`Conversion`].

use crate::money::{Currency, Money, Rounding};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A reference rate published by a bank: `rate` units of `quote` for one unit of `base`
/// (for example 20.85 JPY per CNY), valid on one date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExchangeRate {
    /// The currency being priced (CNY).
    pub base: Currency,
    /// The currency it is priced in (JPY).
    pub quote: Currency,
    /// Units of `quote` per unit of `base`, before any markup.
    pub rate: Decimal,
    /// Who published it (for example the reference bank).
    pub source: String,
    /// The day it applies to.
    pub valid_on: NaiveDate,
}

/// What a conversion was for; it decides the markup direction of MON-3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConversionPurpose {
    /// Money coming in: the reference rate plus the markup.
    Charge,
    /// Money going back to the member: the lower of two rates minus the markup.
    Refund,
}

/// A conversion as it was applied, recorded in the event that charged or refunded (MON-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Conversion {
    /// The amount before conversion.
    pub from: Money,
    /// The amount after conversion and rounding.
    pub to: Money,
    /// The rate actually applied (`quote` per `base`, markup included).
    pub applied_rate: Decimal,
    /// The reference rate(s) it was derived from.
    pub reference: Vec<ExchangeRate>,
    /// The markup added (charge) or taken off (refund), in `quote` per `base`.
    pub markup: Decimal,
    /// Charge or refund.
    pub purpose: ConversionPurpose,
    /// The rounding applied to the result.
    pub rounding: Rounding,
}

/// A conversion that cannot be made with the rates given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConversionError {
    /// The rate does not price the currencies involved.
    #[error("rate {base}/{quote} cannot convert {from} into {to}")]
    WrongPair {
        /// Rate base.
        base: Currency,
        /// Rate quote.
        quote: Currency,
        /// Currency converted from.
        from: Currency,
        /// Currency converted to.
        to: Currency,
    },
    /// A non-positive rate after the markup.
    #[error("exchange rate must be positive after the markup")]
    NonPositiveRate,
    /// The rate is recorded for another day than the one it would be applied on (MON-2).
    #[error(
        "the exchange rate is valid on {valid_on}, not on {applied_on}, the day of the charge"
    )]
    StaleRate {
        /// The day the rate is valid on.
        valid_on: NaiveDate,
        /// The day of the charge.
        applied_on: NaiveDate,
    },
}

/// Converts `amount` into `to` at the charging rate: reference `+ markup` (MON-3: +1.00 JPY
/// per CNY), for a charge made on `applied_on`. The rate must be the one valid that day
/// (MON-2: a rate is a fact of one date, so a stale one is refused, never reused). Works in
/// either direction of the pair; the result is rounded with `rounding`.
pub fn convert_for_charge(
    amount: Money,
    to: Currency,
    rate: &ExchangeRate,
    markup: Decimal,
    rounding: Rounding,
    applied_on: NaiveDate,
) -> Result<Conversion, ConversionError> {
    if rate.valid_on != applied_on {
        return Err(ConversionError::StaleRate {
            valid_on: rate.valid_on,
            applied_on,
        });
    }
    let applied = rate.rate + markup;
    convert(
        amount,
        to,
        applied,
        vec![rate.clone()],
        markup,
        ConversionPurpose::Charge,
        rounding,
    )
}

/// Converts `amount` into `to` at the refund rate of MON-3: the **lower** of the charge-month
/// and refund-month reference rates, minus `markdown` (1.00 JPY per CNY), rounded down
/// (fractions of a yen owed to the member are dropped).
pub fn convert_for_refund(
    amount: Money,
    to: Currency,
    charge_month: &ExchangeRate,
    refund_month: &ExchangeRate,
    markdown: Decimal,
) -> Result<Conversion, ConversionError> {
    let lower = charge_month.rate.min(refund_month.rate);
    convert(
        amount,
        to,
        lower - markdown,
        vec![charge_month.clone(), refund_month.clone()],
        markdown,
        ConversionPurpose::Refund,
        Rounding::Down,
    )
}

fn convert(
    amount: Money,
    to: Currency,
    applied_rate: Decimal,
    reference: Vec<ExchangeRate>,
    markup: Decimal,
    purpose: ConversionPurpose,
    rounding: Rounding,
) -> Result<Conversion, ConversionError> {
    if applied_rate <= Decimal::ZERO {
        return Err(ConversionError::NonPositiveRate);
    }
    let pair = &reference[0];
    let converted = if amount.currency == pair.base && to == pair.quote {
        amount.amount * applied_rate
    } else if amount.currency == pair.quote && to == pair.base {
        amount.amount / applied_rate
    } else {
        return Err(ConversionError::WrongPair {
            base: pair.base,
            quote: pair.quote,
            from: amount.currency,
            to,
        });
    };
    Ok(Conversion {
        from: amount,
        to: Money::new(converted, to).rounded(rounding),
        applied_rate,
        reference,
        markup,
        purpose,
        rounding,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn oct(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 10, day).unwrap()
    }

    fn rate(r: Decimal, day: u32) -> ExchangeRate {
        ExchangeRate {
            base: Currency::Cny,
            quote: Currency::Jpy,
            rate: r,
            source: "reference-bank TTM".into(),
            valid_on: NaiveDate::from_ymd_opt(2026, 10, day).unwrap(),
        }
    }

    // rule MON-3: charging rate is the reference rate + 1.00 JPY per CNY.
    #[test]
    fn mon_3_charge_adds_one_yen_per_yuan() {
        let c = convert_for_charge(
            Money::jpy(21_850),
            Currency::Cny,
            &rate(dec!(20.85), 1),
            dec!(1.00),
            Rounding::Down,
            oct(1),
        )
        .unwrap();
        assert_eq!(c.applied_rate, dec!(21.85));
        assert_eq!(c.to, Money::cny(dec!(1000)));
        assert_eq!(c.purpose, ConversionPurpose::Charge);
    }

    // rule MON-3: refund at the lower of the two months' rates, minus 1.00, yen rounded down.
    #[test]
    fn mon_3_refund_uses_lower_rate_minus_one_rounded_down() {
        let charge_month = rate(dec!(21.40), 1);
        let refund_month = rate(dec!(20.95), 31);
        let c = convert_for_refund(
            Money::cny(dec!(123.45)),
            Currency::Jpy,
            &charge_month,
            &refund_month,
            dec!(1.00),
        )
        .unwrap();
        assert_eq!(c.applied_rate, dec!(19.95));
        // 123.45 * 19.95 = 2462.8275 -> 2462 (never rounded up in the warehouse's favour... nor the member's)
        assert_eq!(c.to, Money::jpy(2462));
        assert_eq!(c.rounding, Rounding::Down);
        // The order of the two rates does not matter.
        let swapped = convert_for_refund(
            Money::cny(dec!(123.45)),
            Currency::Jpy,
            &refund_month,
            &charge_month,
            dec!(1.00),
        )
        .unwrap();
        assert_eq!(swapped.to, c.to);
    }

    // rule MON-2: the conversion records the reference rates it used.
    #[test]
    fn mon_2_conversion_records_its_rates() {
        let c = convert_for_refund(
            Money::cny(dec!(1)),
            Currency::Jpy,
            &rate(dec!(21), 1),
            &rate(dec!(22), 31),
            dec!(1),
        )
        .unwrap();
        assert_eq!(c.reference.len(), 2);
        assert_eq!(c.reference[0].source, "reference-bank TTM");
        let wrong = convert_for_charge(
            Money::jpy(1),
            Currency::Jpy,
            &rate(dec!(21), 1),
            dec!(1),
            Rounding::Down,
            oct(1),
        );
        assert!(matches!(wrong, Err(ConversionError::WrongPair { .. })));
    }

    // rule MON-2: a charge converts only at the rate recorded for its own day.
    #[test]
    fn mon_2_charge_at_a_stale_rate_is_refused() {
        let charge = |on| {
            convert_for_charge(
                Money::jpy(1_000),
                Currency::Cny,
                &rate(dec!(20.85), 1),
                dec!(1),
                Rounding::Down,
                on,
            )
        };
        assert!(charge(oct(1)).is_ok());
        assert_eq!(
            charge(oct(2)),
            Err(ConversionError::StaleRate {
                valid_on: oct(1),
                applied_on: oct(2),
            })
        );
    }

    proptest! {
        // rule MON-3: a refund never pays more than the lower rate would, and is whole yen.
        #[test]
        fn mon_3_refund_never_exceeds_lower_rate(fen in 0i64..100_000_000, a in 1500i64..3000, b in 1500i64..3000) {
            let amount = Money::cny(Decimal::new(fen, 2));
            let (ra, rb) = (rate(Decimal::new(a, 2), 1), rate(Decimal::new(b, 2), 31));
            let c = convert_for_refund(amount, Currency::Jpy, &ra, &rb, dec!(1)).unwrap();
            let ceiling = amount.amount * (Decimal::new(a.min(b), 2) - dec!(1));
            prop_assert!(c.to.amount <= ceiling);
            prop_assert!(ceiling - c.to.amount < Decimal::ONE);
            prop_assert_eq!(c.to.amount.fract(), Decimal::ZERO);
        }
    }
}
