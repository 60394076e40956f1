//! Pricing a shipment: splitting it into pieces (CON-4), the quote's lines (FEE-1, FEE-2,
//! FEE-3), its due date (PAY-2) and the PayPal fee line of a payment (ACC-5).
//!
//! Every function here is pure and public so that read models show the same numbers the
//! decision used; the events carry the results, so projections never need to call them.

use super::error::ShipmentError;
use crate::account::{paypal_fee, PaypalFeeError};
use crate::calendar::add_days;
use crate::exchange::{Conversion, ConversionError, ExchangeRate};
use crate::facts::ParcelFacts;
use crate::measure::{Dimensions, Weight};
use crate::money::{Currency, CurrencyMismatch, Money, Rounding};
use crate::policy::{AccountPolicy, Carrier, PaymentPolicy, Policy, WarrantyPolicy};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One piece of a shipment as the carrier charges it (CON-4, FEE-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Piece {
    /// 1-based number of the piece.
    pub number: u32,
    /// Its share of the measured weight, in grams.
    pub actual_g: u32,
    /// Its share of the volumetric weight, for carriers that use it (FEE-1).
    pub volumetric_g: Option<u32>,
    /// The weight the carrier charges: the larger of the two (FEE-1).
    pub chargeable_g: u32,
}

/// Splits a packed shipment into the fewest equal pieces the carrier takes to `destination`
/// (CON-4): no piece heavier than the carrier's limit for that destination
/// ([`Carrier::max_piece_weight_g_to`]; its general limit when the destination is not known
/// yet), and no piece's chargeable weight above the tariff's last step (FEE-1). Weights are shared out evenly, the first pieces taking the odd
/// grams. For a volumetric carrier the volumetric weight is shared the same way, a planning
/// figure until the pieces are repacked and measured.
pub fn plan_pieces(
    weight: Weight,
    dimensions: Dimensions,
    carrier: &Carrier,
    destination: Option<&str>,
    volumetric_divisor: u32,
) -> Vec<Piece> {
    let actual = u64::from(weight.grams());
    let volumetric = carrier
        .volumetric
        .then(|| dimensions.volumetric_grams(volumetric_divisor));
    let chargeable = volumetric.map_or(actual, |v| v.max(actual));
    let max_piece = u64::from(carrier.max_piece_weight_g_to(destination).max(1));
    let last_step = carrier
        .steps
        .last()
        .map_or(max_piece, |s| u64::from(s.up_to_g.max(1)));
    let count = actual
        .div_ceil(max_piece)
        .max(chargeable.div_ceil(last_step))
        .max(1);
    let share = |total: u64, i: u64| -> u32 {
        let g = total / count + u64::from(i < total % count);
        u32::try_from(g).unwrap_or(u32::MAX)
    };
    (0..count)
        .map(|i| {
            let actual_g = share(actual, i);
            let volumetric_g = volumetric.map(|v| share(v, i));
            Piece {
                number: u32::try_from(i + 1).unwrap_or(u32::MAX),
                actual_g,
                volumetric_g,
                chargeable_g: volumetric_g.map_or(actual_g, |v| v.max(actual_g)),
            }
        })
        .collect()
}

/// The carrier's price for one piece of `chargeable_g` grams to `zone`: the first rate step
/// whose `up_to_g` is at or above the weight (FEE-1). `None` above the last step.
pub fn carrier_rate(carrier: &Carrier, zone: &str, chargeable_g: u32) -> Option<Money> {
    carrier
        .steps
        .iter()
        .find(|step| step.up_to_g >= chargeable_g)
        .and_then(|step| step.prices.get(zone).copied())
}

/// What a quote line charges for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LineItem {
    /// The forwarding fee, charged per piece (CON-4, FEE-1).
    ForwardingFee,
    /// The carrier's charge for one piece (FEE-1).
    CarrierCharge {
        /// Carrier code.
        carrier: String,
        /// Tariff zone of the destination.
        zone: String,
        /// Which piece.
        piece: u32,
        /// The weight charged, grams.
        chargeable_g: u32,
    },
    /// A packing option, charged per piece (CON-4, FEE-1).
    Option {
        /// Option code of the policy's price list.
        code: String,
    },
    /// Insurance premium (FEE-3).
    Insurance {
        /// The amount the member asked to insure.
        requested: Money,
        /// The amount insured: the request capped at `cap`.
        insured: Money,
        /// The carrier's compensation cap, or the declared value where the carrier has none.
        cap: Money,
        /// Premium percent of the insured amount.
        percent: Decimal,
    },
    /// The warranty add-on of one parcel (FEE-2: priced per parcel, seed 002 第2条): one line
    /// per parcel, in the order the shipment lists its parcels.
    WarrantyAddOn {
        /// That parcel's items' tax-inclusive price total.
        items_total: Money,
        /// True when the flat fee applied (total at or under the threshold).
        flat: bool,
        /// The percent applied when not flat.
        percent: Decimal,
    },
    /// The PayPal fee of a PayPal payment, charged to the member (ACC-5).
    PaypalFee {
        /// The amount the percent applies to (the quote total).
        base: Money,
        /// Percent of the base.
        percent: Decimal,
        /// Fixed part as configured.
        fixed: Money,
        /// The conversion of the fixed part when it is in another currency (MON-2).
        conversion: Option<Conversion>,
    },
}

/// One line of a quote or payment: `amount = unit_price × quantity`, already rounded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct QuoteLine {
    /// What it charges for.
    pub item: LineItem,
    /// How many (pieces for per-piece fees, else 1).
    pub quantity: u32,
    /// Price of one.
    pub unit_price: Money,
    /// The line's amount.
    pub amount: Money,
}

impl QuoteLine {
    fn new(item: LineItem, quantity: u32, unit_price: Money) -> Self {
        Self {
            item,
            quantity,
            unit_price,
            amount: unit_price.times(Decimal::from(quantity)),
        }
    }
}

/// What the member asked to be quoted (FEE-1).
#[derive(Debug, Clone, Copy)]
pub struct QuoteRequest<'a> {
    /// Carrier code of the tariff.
    pub carrier: &'a str,
    /// Destination country, ISO 3166 alpha-2.
    pub destination: &'a str,
    /// Packing options by code.
    pub options: &'a [String],
    /// Amount to insure, if any (FEE-3).
    pub insurance: Option<Money>,
    /// Whether the warranty add-on is bought (FEE-2).
    pub warranty: bool,
}

/// A priced quote: its pieces and lines; the total is the sum of the lines (FEE-1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedQuote {
    /// Tariff zone of the destination.
    pub zone: String,
    /// The pieces charged (CON-4).
    pub pieces: Vec<Piece>,
    /// The lines, in order: forwarding fee, carrier charges, options, insurance, warranty.
    pub lines: Vec<QuoteLine>,
    /// The insured amount, when insured (FEE-3).
    pub insured: Option<Money>,
    /// Sum of the lines.
    pub total: Money,
}

/// The declared value of the parcels: the sum of their items' tax-inclusive prices times
/// quantities (CON-2, FEE-2). All items must be in `currency`.
pub fn declared_value(parcels: &[ParcelFacts], currency: Currency) -> Result<Money, ShipmentError> {
    let amounts = parcel_values(parcels, currency)?;
    Ok(Money::sum(currency, &amounts)?)
}

/// Each parcel's declared value, in the order given: what the warranty add-on is priced on,
/// one parcel at a time (FEE-2). All items must be in `currency`.
pub fn parcel_values(
    parcels: &[ParcelFacts],
    currency: Currency,
) -> Result<Vec<Money>, ShipmentError> {
    parcels
        .iter()
        .map(|p| {
            let amounts: Vec<Money> = p
                .items
                .iter()
                .map(|item| item.unit_price.times(Decimal::from(item.quantity)))
                .collect();
            Ok(Money::sum(currency, &amounts)?)
        })
        .collect()
}

/// The warranty add-on's price for one parcel (FEE-2): the flat fee when its items' total is at or under
/// `flat_up_to`, else `percent` of the total rounded half up. Returns the price and whether
/// the flat fee applied.
pub fn warranty_fee(
    items_total: Money,
    warranty: &WarrantyPolicy,
) -> Result<(Money, bool), CurrencyMismatch> {
    if items_total.checked_sub(warranty.flat_up_to)?.is_positive() {
        Ok((
            items_total.percent(warranty.percent, Rounding::HalfUp),
            false,
        ))
    } else {
        Ok((warranty.flat_fee, true))
    }
}

/// The insured amount and the premium (FEE-3): the request capped at the carrier's
/// compensation cap (EMS: 2,000,000 JPY), or at the declared value where the carrier has no
/// cap; the premium is `percent` of the insured amount, rounded half up.
pub fn insurance(
    requested: Money,
    cap: Money,
    percent: Decimal,
) -> Result<(Money, Money), CurrencyMismatch> {
    let insured = if requested.checked_sub(cap)?.is_positive() {
        cap
    } else {
        requested
    };
    Ok((insured, insured.percent(percent, Rounding::HalfUp)))
}

/// Prices a quote for a packed shipment (FEE-1): forwarding fee and options per piece
/// (CON-4), the carrier charge of each piece from the tariff, insurance (FEE-3) and the
/// warranty add-on, one line per parcel (FEE-2). `parcel_values` are the declared values of
/// the packed parcels, one per parcel in the shipment's order ([`parcel_values`]); their sum
/// is the shipment's declared value.
pub fn price_quote(
    policy: &Policy,
    weight: Weight,
    dimensions: Dimensions,
    parcel_values: &[Money],
    request: QuoteRequest<'_>,
) -> Result<PricedQuote, ShipmentError> {
    let items_total = Money::sum(policy.billing_currency, parcel_values)?;
    let carrier = policy
        .carrier(request.carrier)
        .ok_or_else(|| ShipmentError::UnknownCarrier {
            carrier: request.carrier.to_owned(),
        })?;
    let not_served = || ShipmentError::DestinationNotServed {
        carrier: carrier.code.clone(),
        destination: request.destination.to_owned(),
    };
    let zone = carrier
        .zones
        .get(request.destination)
        .ok_or_else(not_served)?;
    let pieces = plan_pieces(
        weight,
        dimensions,
        carrier,
        Some(request.destination),
        policy.tariff.volumetric_divisor,
    );
    let count = u32::try_from(pieces.len()).unwrap_or(u32::MAX);
    let fees = &policy.fees;

    let mut lines = vec![QuoteLine::new(
        LineItem::ForwardingFee,
        count,
        fees.forwarding_fee_per_piece,
    )];
    for piece in &pieces {
        let price = carrier_rate(carrier, zone, piece.chargeable_g).ok_or_else(not_served)?;
        let item = LineItem::CarrierCharge {
            carrier: carrier.code.clone(),
            zone: zone.clone(),
            piece: piece.number,
            chargeable_g: piece.chargeable_g,
        };
        lines.push(QuoteLine::new(item, 1, price));
    }
    for (i, code) in request.options.iter().enumerate() {
        if request.options[..i].contains(code) {
            return Err(ShipmentError::DuplicateOption {
                option: code.clone(),
            });
        }
        let price = fees
            .options
            .get(code)
            .ok_or_else(|| ShipmentError::UnknownOption {
                option: code.clone(),
            })?;
        lines.push(QuoteLine::new(
            LineItem::Option { code: code.clone() },
            count,
            *price,
        ));
    }
    let mut insured = None;
    if let Some(requested) = request.insurance {
        if !requested.is_positive() {
            return Err(ShipmentError::InvalidInsuredAmount { requested });
        }
        let cap = carrier.compensation_cap.unwrap_or(items_total);
        let (amount, premium) = insurance(requested, cap, fees.insurance_percent)?;
        insured = Some(amount);
        let item = LineItem::Insurance {
            requested,
            insured: amount,
            cap,
            percent: fees.insurance_percent,
        };
        lines.push(QuoteLine::new(item, 1, premium));
    }
    if request.warranty {
        let warranty = fees
            .warranty
            .as_ref()
            .ok_or(ShipmentError::WarrantyNotOffered)?;
        // FEE-2: the add-on is bought for each parcel, priced on that parcel's items.
        for &parcel_total in parcel_values {
            let (price, flat) = warranty_fee(parcel_total, warranty)?;
            let item = LineItem::WarrantyAddOn {
                items_total: parcel_total,
                flat,
                percent: warranty.percent,
            };
            lines.push(QuoteLine::new(item, 1, price));
        }
    }
    let total = Money::sum(policy.billing_currency, lines.iter().map(|l| &l.amount))?;
    Ok(PricedQuote {
        zone: zone.clone(),
        pieces,
        lines,
        insured,
        total,
    })
}

/// The day a quote falls due (PAY-2): the quote's local date plus `quote_due_days`. The
/// shipment may be held from the day after.
pub fn quote_due_on(quoted_on: NaiveDate, payment: &PaymentPolicy) -> NaiveDate {
    add_days(quoted_on, payment.quote_due_days)
}

/// The PayPal fee line of a payment made on `paid_on` (ACC-5): the fee of
/// [`paypal_fee`](crate::account::paypal_fee) on `base` (3.6% + 40 JPY, rounded half up; a
/// fixed fee in another currency converted at the charging rate of `paid_on` and recorded on
/// the line, MON-2).
pub fn paypal_fee_line(
    base: Money,
    account: &AccountPolicy,
    rate: Option<&ExchangeRate>,
    paid_on: NaiveDate,
) -> Result<QuoteLine, ShipmentError> {
    let computed = paypal_fee(base, account, rate, paid_on).map_err(|e| match e {
        PaypalFeeError::RateRequired { from, to } => {
            ShipmentError::ExchangeRateRequired { from, to }
        }
        PaypalFeeError::Conversion(ConversionError::StaleRate {
            valid_on,
            applied_on,
        }) => ShipmentError::ExchangeRateStale {
            valid_on,
            applied_on,
        },
        PaypalFeeError::Conversion(other) => ShipmentError::ExchangeRateUnusable {
            reason: other.to_string(),
        },
    })?;
    let item = LineItem::PaypalFee {
        base,
        percent: computed.percent,
        fixed: computed.fixed,
        conversion: computed.conversion,
    };
    Ok(QuoteLine::new(item, 1, computed.fee))
}
