//! ChargeAccount duty advance (ACC-8): only on a balance of at least the amount the policy
//! states in the account's currency (10,000 JPY, about 500 CNY), for the policy fee plus the duty, which may be billed after shipping as an owed debt.

#[path = "account_support.rs"]
mod support;

use domain::account::{AccountCommand, AccountError, AccountEvent, DebitKind, Movement, Reason};
use domain::exchange::{Conversion, ConversionPurpose, ExchangeRate};
use domain::money::{Currency, Money, Rounding};
use domain::{Policy, Rule};
use rust_decimal_macros::dec;
use support::*;

fn advance(shipment: &str, duty: Option<Money>, rate: Option<ExchangeRate>) -> AccountCommand {
    AccountCommand::AdvanceDuty {
        shipment: cause(shipment),
        duty,
        rate,
        sea_taxable_value: None,
    }
}

fn bill(shipment: &str, duty: Money, rate: Option<ExchangeRate>) -> AccountCommand {
    AccountCommand::BillAdvancedDuty {
        shipment: cause(shipment),
        duty,
        rate,
    }
}

/// The reference rate of Sat 2 May 2026, the day of the advances below (MON-2).
fn rate() -> ExchangeRate {
    rate_on(2026, 5, 2)
}

/// The same reference rate, recorded for another day.
fn rate_on(y: i32, m: u32, d: u32) -> ExchangeRate {
    cny_jpy(dec!(20.00), on(y, m, d))
}

fn cn_with(yuan: rust_decimal::Decimal) -> (Policy, Vec<AccountEvent>) {
    let cn = Policy::cn_agency();
    let given = vec![opened(&cn), topped_up(&cn, 1, cny(yuan), on(2026, 4, 6))];
    (cn, given)
}

// rule ACC-8: a balance of exactly 10,000 JPY allows the advance; the fee is debited at once.
#[test]
fn acc_8_duty_advance_at_10000_jpy_is_granted() {
    let jp = Policy::jp_forwarding();
    framework(jp.clone())
        .given(vec![
            opened(&jp),
            topped_up(&jp, 1, Money::jpy(10_000), on(2026, 5, 1)),
        ])
        .when(issued(2026, 5, 2, advance("shp-1", None, None)))
        .then_expect_events(vec![
            AccountEvent::DutyAdvanced {
                shipment: cause("shp-1"),
                balance: Money::jpy(10_000),
                compared_balance: Money::jpy(10_000),
                minimum: Money::jpy(10_000),
                comparison: None,
                policy: jp.version(),
            },
            AccountEvent::Debited {
                movement: Movement {
                    amount: Money::jpy(-1_000),
                    reason: Reason::DutyAdvanceFee,
                    cause: cause("shp-1"),
                },
                kind: DebitKind::Regular,
                period: None,
                conversion: None,
                rule: Rule::Acc8,
                policy: jp.version(),
            },
        ]);
}

// rule ACC-8: 9,999 JPY is not enough.
#[test]
fn acc_8_duty_advance_at_9999_jpy_is_refused() {
    let jp = Policy::jp_forwarding();
    let given = vec![
        opened(&jp),
        topped_up(&jp, 1, Money::jpy(9_999), on(2026, 5, 1)),
    ];
    let err = run(
        &jp,
        &given,
        issued(2026, 5, 2, advance("shp-1", None, None)),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AccountError::DutyAdvanceBalanceTooLow {
            compared_balance: Money::jpy(9_999),
            minimum: Money::jpy(10_000)
        }
    );
    assert_refusal(&err, "account.duty_advance_min_balance", Some(Rule::Acc8));
}

// rule ACC-8 / POL-2: on a yuan account the balance is compared with the amount the policy
// states in yuan, 500 CNY (seed 001: 10,000円(約500元)), as it is: no rate needed, no
// conversion recorded; 499.99 CNY is refused, 500 CNY passes; the fee is 50 CNY.
#[test]
fn acc_8_yuan_balance_is_compared_with_the_stated_yuan_amount() {
    let (cn, given) = cn_with(dec!(499.99));
    let err = run(
        &cn,
        &given,
        issued(2026, 5, 2, advance("shp-1", None, None)),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AccountError::DutyAdvanceBalanceTooLow {
            compared_balance: cny(dec!(499.99)),
            minimum: cny(dec!(500))
        }
    );
    assert_refusal(&err, "account.duty_advance_min_balance", Some(Rule::Acc8));

    let (cn, given) = cn_with(dec!(500));
    framework(cn.clone())
        .given(given)
        .when(issued(2026, 5, 2, advance("shp-1", None, None)))
        .then_expect_events(vec![
            AccountEvent::DutyAdvanced {
                shipment: cause("shp-1"),
                balance: cny(dec!(500)),
                compared_balance: cny(dec!(500)),
                minimum: cny(dec!(500)),
                comparison: None,
                policy: cn.version(),
            },
            AccountEvent::Debited {
                movement: Movement {
                    amount: cny(dec!(-50)),
                    reason: Reason::DutyAdvanceFee,
                    cause: cause("shp-1"),
                },
                kind: DebitKind::Regular,
                period: None,
                conversion: None,
                rule: Rule::Acc8,
                policy: cn.version(),
            },
        ]);
}

/// cn-agency stating its minimum in yen only: the yuan account falls back to a conversion.
fn cn_stating_yen_only() -> Policy {
    let mut cn = Policy::cn_agency();
    cn.account.duty_advance_min_balance = vec![Money::jpy(10_000)];
    cn
}

// rule ACC-8 / MON-2: where the policy states no amount in the account's currency, the balance
// is compared with the first stated one at the recorded rate (20.00 + 1.00), rounded down:
// 476.19 CNY = 9,999.99 JPY is refused, 476.20 CNY = 10,000.20 JPY passes; the comparison is
// recorded; without a rate, refused.
#[test]
fn acc_8_unstated_currency_is_compared_at_the_recorded_rate() {
    let cn = cn_stating_yen_only();
    let (_, given) = cn_with(dec!(476.19));
    let err = run(
        &cn,
        &given,
        issued(2026, 5, 2, advance("shp-1", None, Some(rate()))),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AccountError::DutyAdvanceBalanceTooLow {
            compared_balance: Money::jpy(9_999),
            minimum: Money::jpy(10_000)
        }
    );

    let (_, given) = cn_with(dec!(476.20));
    framework(cn.clone())
        .given(given)
        .when(issued(2026, 5, 2, advance("shp-1", None, Some(rate()))))
        .then_expect_events(vec![
            AccountEvent::DutyAdvanced {
                shipment: cause("shp-1"),
                balance: cny(dec!(476.20)),
                compared_balance: Money::jpy(10_000),
                minimum: Money::jpy(10_000),
                comparison: Some(Conversion {
                    from: cny(dec!(476.20)),
                    to: Money::jpy(10_000),
                    applied_rate: dec!(21.00),
                    reference: vec![rate()],
                    markup: dec!(1.00),
                    purpose: ConversionPurpose::Charge,
                    rounding: Rounding::Down,
                }),
                policy: cn.version(),
            },
            AccountEvent::Debited {
                movement: Movement {
                    amount: cny(dec!(-50)),
                    reason: Reason::DutyAdvanceFee,
                    cause: cause("shp-1"),
                },
                kind: DebitKind::Regular,
                period: None,
                conversion: None,
                rule: Rule::Acc8,
                policy: cn.version(),
            },
        ]);

    let err = run(
        &cn,
        &cn_with(dec!(600)).1,
        issued(2026, 5, 2, advance("shp-1", None, None)),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AccountError::ExchangeRateMissing {
            from: Currency::Cny,
            to: Currency::Jpy
        }
    );
}

// rule ACC-8 / POL-1: the minimum is at least one stated amount, one per currency.
#[test]
fn acc_8_duty_advance_minimum_is_one_amount_per_currency() {
    let text = include_str!("../policies/cn-agency.toml");
    for (bad, why) in [
        ("duty_advance_min_balance = []", "none"),
        (
            r#"duty_advance_min_balance = [{ amount = "500", currency = "CNY" }, { amount = "600", currency = "CNY" }]"#,
            "two in yuan",
        ),
    ] {
        let start = text.find("duty_advance_min_balance = [").unwrap();
        let end = start + text[start..].find('\n').unwrap();
        let edited = format!("{}{bad}{}", &text[..start], &text[end..]);
        assert!(Policy::from_toml(&edited).is_err(), "{why}");
    }
}

// rule ACC-8: a duty known at the advance is debited with the fee, as an owed debt, converted
// and recorded (MON-2): 3,000 JPY / 21.00 = 142.857 -> 142.86 CNY.
#[test]
fn acc_8_duty_known_at_the_advance_is_debited_with_the_fee() {
    let (cn, given) = cn_with(dec!(500));
    let events = run(
        &cn,
        &given,
        issued(
            2026,
            5,
            2,
            advance("shp-1", Some(Money::jpy(3_000)), Some(rate())),
        ),
    )
    .unwrap();
    match events.last().unwrap() {
        AccountEvent::Debited {
            movement,
            kind,
            conversion,
            rule,
            ..
        } => {
            assert_eq!(movement.amount, cny(dec!(-142.86)));
            assert_eq!(movement.reason, Reason::Duty);
            assert_eq!(*kind, DebitKind::Owed);
            assert_eq!(*rule, Rule::Acc8);
            assert_eq!(
                conversion.as_ref().map(|c| c.rounding),
                Some(Rounding::HalfUp)
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    // 500 - 50 - 142.86
    assert_eq!(balance_after(&events), cny(dec!(307.14)));
}

// rule ACC-8: duty billed about a month after shipping is an owed debt: it may take the
// balance below zero; it is billed once, and only for an advanced shipment.
#[test]
fn acc_8_duty_billed_later_is_an_owed_debt() {
    let (cn, given) = cn_with(dec!(500));
    let events = run(
        &cn,
        &given,
        issued(2026, 5, 2, advance("shp-1", None, Some(rate()))),
    )
    .unwrap();
    // The member spends the rest on a shipment.
    let events = run(
        &cn,
        &events,
        issued(
            2026,
            5,
            3,
            AccountCommand::Debit {
                reason: domain::account::DebitReason::ShipmentPayment,
                cause: cause("shp-2"),
                amount: cny(dec!(450)),
                period: None,
                rate: None,
            },
        ),
    )
    .unwrap();
    assert_eq!(balance_after(&events), cny(dec!(0)));
    let billed = run(
        &cn,
        &events,
        issued(
            2026,
            6,
            5,
            bill("shp-1", Money::jpy(5_000), Some(rate_on(2026, 6, 5))),
        ),
    )
    .unwrap();
    // 5,000 / 21 = 238.095 -> 238.10
    assert_eq!(balance_after(&billed), cny(dec!(-238.10)));

    let err = run(
        &cn,
        &billed,
        issued(
            2026,
            6,
            6,
            bill("shp-1", Money::jpy(5_000), Some(rate_on(2026, 6, 6))),
        ),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AccountError::DuplicateDebit {
            reason: Reason::Duty,
            cause: cause("shp-1")
        }
    );
    let err = run(
        &cn,
        &events,
        issued(
            2026,
            6,
            5,
            bill("shp-2", Money::jpy(5_000), Some(rate_on(2026, 6, 5))),
        ),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AccountError::NoDutyAdvance {
            shipment: cause("shp-2")
        }
    );
    assert_refusal(&err, "account.no_duty_advance", Some(Rule::Acc8));
}

// rule ACC-8: one advance per shipment.
#[test]
fn acc_8_a_shipment_duty_is_advanced_once() {
    let jp = Policy::jp_forwarding();
    let given = vec![
        opened(&jp),
        topped_up(&jp, 1, Money::jpy(50_000), on(2026, 5, 1)),
    ];
    let events = run(
        &jp,
        &given,
        issued(2026, 5, 2, advance("shp-1", None, None)),
    )
    .unwrap();
    let err = run(
        &jp,
        &events,
        issued(2026, 5, 3, advance("shp-1", None, None)),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AccountError::DuplicateDebit {
            reason: Reason::DutyAdvanceFee,
            cause: cause("shp-1")
        }
    );
    assert_eq!(balance_after(&events), Money::jpy(49_000));
}

/// The fee `advance` debits on a cn-agency account of 1,000 CNY for sea freight of
/// `taxable` yen, before conversion (ACC-8, MON-2).
fn sea_fee_before_conversion(policy: &Policy, taxable: i64) -> Money {
    let given = vec![
        opened(policy),
        topped_up(policy, 1, cny(dec!(1000)), on(2026, 4, 6)),
    ];
    let command = AccountCommand::AdvanceDuty {
        shipment: cause("shp-sea"),
        duty: None,
        rate: Some(rate()),
        sea_taxable_value: Some(Money::jpy(taxable)),
    };
    let events = run(policy, &given, issued(2026, 5, 2, command)).unwrap();
    events
        .iter()
        .find_map(|e| match e {
            AccountEvent::Debited {
                movement,
                conversion,
                ..
            } if movement.reason == Reason::DutyAdvanceFee => Some(
                conversion
                    .as_ref()
                    .map_or(-movement.amount.amount, |c| c.from.amount),
            ),
            _ => None,
        })
        .map(|amount| Money::new(amount, conversion_currency(policy)))
        .unwrap()
}

fn conversion_currency(policy: &Policy) -> Currency {
    match &policy.account.sea_duty_advance {
        Some(sea) => sea.flat_fee.currency,
        None => policy.account.duty_advance_fee.currency,
    }
}

// rule ACC-8: sea freight's advance fee is tiered by the invoice's taxable value (seed 001:
// 1,500 JPY under 30,000 JPY, 5% of it from 30,000 JPY), converted into the yuan account at the
// charging rate; where the policy sets no sea tier (jp-forwarding), the flat fee applies.
#[test]
fn acc_8_sea_freight_duty_advance_fee_is_tiered_by_taxable_value() {
    let cn = Policy::cn_agency();
    assert_eq!(sea_fee_before_conversion(&cn, 1_000), Money::jpy(1_500));
    assert_eq!(sea_fee_before_conversion(&cn, 29_999), Money::jpy(1_500));
    assert_eq!(sea_fee_before_conversion(&cn, 30_000), Money::jpy(1_500));
    assert_eq!(sea_fee_before_conversion(&cn, 40_000), Money::jpy(2_000));
    assert_eq!(sea_fee_before_conversion(&cn, 100_001), Money::jpy(5_000));
    // A taxable value in another currency than the tiers' is refused, not guessed.
    let given = vec![
        opened(&cn),
        topped_up(&cn, 1, cny(dec!(1000)), on(2026, 4, 6)),
    ];
    let command = AccountCommand::AdvanceDuty {
        shipment: cause("shp-sea"),
        duty: None,
        rate: Some(rate()),
        sea_taxable_value: Some(cny(dec!(3000))),
    };
    let err = run(&cn, &given, issued(2026, 5, 2, command)).unwrap_err();
    assert_refusal(&err, "account.currency_mismatch", Some(Rule::Mon2));

    // jp-forwarding states no sea tier: the policy's fee, whatever the value.
    let jp = Policy::jp_forwarding();
    assert!(jp.account.sea_duty_advance.is_none());
    let given = vec![
        opened(&jp),
        topped_up(&jp, 1, Money::jpy(20_000), on(2026, 4, 6)),
    ];
    let command = AccountCommand::AdvanceDuty {
        shipment: cause("shp-sea"),
        duty: None,
        rate: None,
        sea_taxable_value: Some(Money::jpy(40_000)),
    };
    let events = run(&jp, &given, issued(2026, 5, 2, command)).unwrap();
    assert_eq!(
        balance_after(&events),
        Money::jpy(20_000)
            .checked_sub(jp.account.duty_advance_fee)
            .unwrap()
    );
}
