//! Money: an exact decimal amount with its ISO currency, and explicit rounding (MON-1).
//!
//! There is no float anywhere money is computed. Arithmetic across currencies is refused:
//! converting needs a recorded exchange rate (see [`crate::exchange`]).

use rust_decimal::{Decimal, RoundingStrategy};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The currencies parcelport bills in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Currency {
    /// Japanese yen: no minor unit.
    #[serde(rename = "JPY")]
    Jpy,
    /// Chinese yuan: two decimals (fen).
    #[serde(rename = "CNY")]
    Cny,
}

impl Currency {
    /// Decimal places of the currency's smallest unit.
    pub const fn minor_units(self) -> u32 {
        match self {
            Currency::Jpy => 0,
            Currency::Cny => 2,
        }
    }

    /// The ISO 4217 code.
    pub const fn code(self) -> &'static str {
        match self {
            Currency::Jpy => "JPY",
            Currency::Cny => "CNY",
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// How a computed amount is brought to the currency's smallest unit. Every rule that
/// computes money names one (MON-1): fractions owed *to the member* are dropped
/// ([`Rounding::Down`]), fees round half up ([`Rounding::HalfUp`]) unless a rule says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Drop the fraction (towards zero).
    Down,
    /// Half a unit or more rounds away from zero.
    HalfUp,
    /// Any fraction rounds away from zero.
    Up,
}

impl Rounding {
    fn strategy(self) -> RoundingStrategy {
        match self {
            Rounding::Down => RoundingStrategy::ToZero,
            Rounding::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            Rounding::Up => RoundingStrategy::AwayFromZero,
        }
    }

    /// Rounds a bare decimal to `places` decimals.
    pub fn apply(self, value: Decimal, places: u32) -> Decimal {
        value.round_dp_with_strategy(places, self.strategy())
    }
}

/// Two amounts in different currencies were combined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot combine {left} with {right} without a recorded exchange rate")]
pub struct CurrencyMismatch {
    /// Currency of the left operand.
    pub left: Currency,
    /// Currency of the right operand.
    pub right: Currency,
}

/// An amount of money. Serialized as `{"amount": "1234.5", "currency": "CNY"}`, the amount
/// as a decimal string so no JSON reader turns it into a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Money {
    /// The exact amount; may carry more decimals than the currency until rounded.
    pub amount: Decimal,
    /// Its currency.
    pub currency: Currency,
}

impl Money {
    /// An amount in `currency`.
    pub const fn new(amount: Decimal, currency: Currency) -> Self {
        Self { amount, currency }
    }

    /// Whole yen.
    pub fn jpy(yen: i64) -> Self {
        Self::new(Decimal::from(yen), Currency::Jpy)
    }

    /// Yuan, exact decimal.
    pub fn cny(yuan: Decimal) -> Self {
        Self::new(yuan, Currency::Cny)
    }

    /// Zero in `currency`.
    pub fn zero(currency: Currency) -> Self {
        Self::new(Decimal::ZERO, currency)
    }

    /// `self + other`, same currency only.
    pub fn checked_add(self, other: Money) -> Result<Money, CurrencyMismatch> {
        self.same_currency(other)?;
        Ok(Self::new(self.amount + other.amount, self.currency))
    }

    /// `self - other`, same currency only.
    pub fn checked_sub(self, other: Money) -> Result<Money, CurrencyMismatch> {
        self.same_currency(other)?;
        Ok(Self::new(self.amount - other.amount, self.currency))
    }

    /// The sum of `amounts`, all in `currency`.
    pub fn sum<'a>(
        currency: Currency,
        amounts: impl IntoIterator<Item = &'a Money>,
    ) -> Result<Money, CurrencyMismatch> {
        amounts
            .into_iter()
            .try_fold(Money::zero(currency), |acc, m| acc.checked_add(*m))
    }

    /// The amount with its sign flipped.
    pub fn negated(self) -> Money {
        Self::new(-self.amount, self.currency)
    }

    /// `self * factor`, unrounded.
    pub fn times(self, factor: Decimal) -> Money {
        Self::new(self.amount * factor, self.currency)
    }

    /// `percent` % of the amount, rounded to the currency's unit with `rounding`.
    pub fn percent(self, percent: Decimal, rounding: Rounding) -> Money {
        self.times(percent / Decimal::ONE_HUNDRED).rounded(rounding)
    }

    /// Brought to the currency's smallest unit with an explicit rounding (MON-1).
    pub fn rounded(self, rounding: Rounding) -> Money {
        Self::new(
            rounding.apply(self.amount, self.currency.minor_units()),
            self.currency,
        )
    }

    /// True below zero.
    pub fn is_negative(self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    /// True above zero.
    pub fn is_positive(self) -> bool {
        self.amount > Decimal::ZERO
    }

    /// True at zero.
    pub fn is_zero(self) -> bool {
        self.amount.is_zero()
    }

    fn same_currency(self, other: Money) -> Result<(), CurrencyMismatch> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount.normalize(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    // rule MON-1: JPY has no minor unit; rounding is explicit.
    #[test]
    fn mon_1_jpy_rounding_is_explicit() {
        let fee = Money::new(dec!(1440.5), Currency::Jpy);
        assert_eq!(fee.rounded(Rounding::HalfUp), Money::jpy(1441));
        assert_eq!(fee.rounded(Rounding::Down), Money::jpy(1440));
        let owed = Money::new(dec!(1440.99), Currency::Jpy);
        assert_eq!(owed.rounded(Rounding::Down), Money::jpy(1440));
        assert_eq!(
            Money::new(dec!(1440.01), Currency::Jpy).rounded(Rounding::Up),
            Money::jpy(1441)
        );
        assert_eq!(
            Money::cny(dec!(12.345)).rounded(Rounding::HalfUp),
            Money::cny(dec!(12.35))
        );
    }

    // rule MON-1: no silent cross-currency arithmetic.
    #[test]
    fn mon_1_currencies_do_not_mix() {
        let err = Money::jpy(1).checked_add(Money::cny(dec!(1))).unwrap_err();
        assert_eq!(err.left, Currency::Jpy);
        assert!(Money::sum(Currency::Jpy, &[Money::jpy(1), Money::cny(dec!(1))]).is_err());
    }

    // rule MON-1: amounts serialize as decimal strings with an ISO code, never floats.
    #[test]
    fn mon_1_money_json_shape_is_exact() {
        let json = serde_json::to_string(&Money::cny(dec!(0.10))).unwrap();
        assert_eq!(json, r#"{"amount":"0.10","currency":"CNY"}"#);
        let back: Money = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Money::cny(dec!(0.10)));
    }

    proptest! {
        // rule MON-1: rounding lands on the currency's unit and never moves by a unit or more.
        #[test]
        fn mon_1_rounding_is_within_one_unit(cents in -10_000_000i64..10_000_000, scale in 0u32..4) {
            let amount = Decimal::new(cents, scale);
            for currency in [Currency::Jpy, Currency::Cny] {
                let unit = Decimal::new(1, currency.minor_units());
                for rounding in [Rounding::Down, Rounding::HalfUp, Rounding::Up] {
                    let r = Money::new(amount, currency).rounded(rounding);
                    prop_assert!((r.amount - amount).abs() < unit);
                    prop_assert_eq!(r.amount, r.amount.round_dp(currency.minor_units()));
                }
                // Down never gives the member more than computed; Up never less.
                prop_assert!(Money::new(amount, currency).rounded(Rounding::Down).amount.abs() <= amount.abs());
                prop_assert!(Money::new(amount, currency).rounded(Rounding::Up).amount.abs() >= amount.abs());
            }
        }
    }
}
