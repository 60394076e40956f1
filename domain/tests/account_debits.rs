//! ChargeAccount debits: regular versus owed (ACC-4), a charge made once (PAY-1 at the
//! account level), disposal fees and sale proceeds (DSP-1, MEM-8), conversions (MON-2).

#[path = "account_support.rs"]
mod support;

use domain::account::{
    AccountCommand, AccountError, AccountEvent, CreditReason, DebitKind, DebitReason,
    DisposalCause, Movement, Period, Reason,
};
use domain::calendar::last_day_of_month;
use domain::exchange::{Conversion, ConversionPurpose};
use domain::money::{Currency, Money, Rounding};
use domain::{Policy, Rule};
use rust_decimal_macros::dec;
use support::*;

fn pay(shipment: &str, amount: Money) -> AccountCommand {
    AccountCommand::Debit {
        reason: DebitReason::ShipmentPayment,
        cause: cause(shipment),
        amount,
        period: None,
        rate: None,
    }
}

fn month(y: i32, m: u32) -> Option<Period> {
    let from = on(y, m, 1);
    Period::new(from, last_day_of_month(from))
}

fn storage(parcel: &str, amount: Money, period: Option<Period>) -> AccountCommand {
    AccountCommand::Debit {
        reason: DebitReason::StorageFee,
        cause: cause(parcel),
        amount,
        period,
        rate: None,
    }
}

/// jp-forwarding account holding `yen`.
fn jp_with(yen: i64) -> (Policy, Vec<AccountEvent>) {
    let policy = Policy::jp_forwarding();
    let events = vec![
        opened(&policy),
        topped_up(&policy, 1, Money::jpy(yen), on(2026, 1, 6)),
    ];
    (policy, events)
}

// rule ACC-4: a regular debit that would take the balance below zero is refused: 5,001 on 5,000.
#[test]
fn acc_4_regular_debit_below_zero_is_refused() {
    let (policy, given) = jp_with(5_000);
    let err = run(
        &policy,
        &given,
        issued(2026, 1, 7, pay("shp-1", Money::jpy(5_001))),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AccountError::InsufficientBalance {
            balance: Money::jpy(5_000),
            debit: Money::jpy(5_001)
        }
    );
    assert_refusal(&err, "account.insufficient_balance", Some(Rule::Acc4));
    // The same on a yuan account: 100.00 on 99.99.
    let cn = Policy::cn_agency();
    let given = vec![
        opened(&cn),
        topped_up(&cn, 1, cny(dec!(99.99)), on(2026, 1, 6)),
    ];
    let err = run(
        &cn,
        &given,
        issued(2026, 1, 7, pay("shp-1", cny(dec!(100)))),
    )
    .unwrap_err();
    assert!(matches!(err, AccountError::InsufficientBalance { .. }));
}

// rule ACC-4: a regular debit down to exactly zero passes: 5,000 on 5,000.
#[test]
fn acc_4_regular_debit_to_exactly_zero_passes() {
    let (policy, given) = jp_with(5_000);
    let events = run(
        &policy,
        &given,
        issued(2026, 1, 7, pay("shp-1", Money::jpy(5_000))),
    )
    .unwrap();
    assert_eq!(balance_after(&events), Money::jpy(0));
}

// rule ACC-4: owed debts (storage, defect, proxy payment) may take the balance below zero.
#[test]
fn acc_4_owed_debts_may_make_the_balance_negative() {
    let (policy, given) = jp_with(100);
    framework(policy.clone())
        .given(given.clone())
        .when(issued(
            2026,
            2,
            1,
            storage("par-1", Money::jpy(600), month(2026, 1)),
        ))
        .then_expect_events(vec![AccountEvent::Debited {
            movement: Movement {
                amount: Money::jpy(-600),
                reason: Reason::StorageFee,
                cause: cause("par-1"),
            },
            kind: DebitKind::Owed,
            period: month(2026, 1),
            conversion: None,
            rule: Rule::Sto3,
            policy: policy.version(),
        }]);
    let events = run(
        &policy,
        &given,
        issued(
            2026,
            2,
            1,
            storage("par-1", Money::jpy(600), month(2026, 1)),
        ),
    )
    .unwrap();
    assert_eq!(balance_after(&events), Money::jpy(-500));
    // A regular debit is then refused even for 1 yen.
    let err = run(
        &policy,
        &events,
        issued(2026, 2, 2, pay("shp-1", Money::jpy(1))),
    )
    .unwrap_err();
    assert!(matches!(err, AccountError::InsufficientBalance { .. }));

    let cn = Policy::cn_agency();
    let mut events = vec![opened(&cn)];
    for (reason, parcel) in [
        (DebitReason::DefectFee, "par-1"),
        (DebitReason::ProxyPayment, "par-2"),
        (DebitReason::InspectionFee, "par-3"),
    ] {
        events = run(
            &cn,
            &events,
            issued(
                2026,
                2,
                1,
                AccountCommand::Debit {
                    reason,
                    cause: cause(parcel),
                    amount: cny(dec!(30)),
                    period: None,
                    rate: None,
                },
            ),
        )
        .unwrap();
    }
    assert_eq!(balance_after(&events), cny(dec!(-90)));
    assert_eq!(DebitReason::ShipmentPayment.kind(), DebitKind::Regular);
}

// rule ACC-4 / PAY-1: one shipment cannot be paid twice from the balance.
#[test]
fn acc_4_second_payment_of_the_same_shipment_is_refused() {
    let (policy, given) = jp_with(50_000);
    let events = run(
        &policy,
        &given,
        issued(2026, 1, 7, pay("shp-1", Money::jpy(8_000))),
    )
    .unwrap();
    let err = run(
        &policy,
        &events,
        issued(2026, 1, 7, pay("shp-1", Money::jpy(8_000))),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AccountError::DuplicateDebit {
            reason: Reason::ShipmentPayment,
            cause: cause("shp-1")
        }
    );
    assert_refusal(&err, "account.duplicate_debit", Some(Rule::Pay1));
    // Another shipment is paid normally.
    assert!(run(
        &policy,
        &events,
        issued(2026, 1, 7, pay("shp-2", Money::jpy(8_000)))
    )
    .is_ok());
}

// rule PAY-1: a shipment payment the shipment refused is credited back once, only after the
// debit.
#[test]
fn pay_1_refused_payment_is_credited_back_once() {
    let (policy, given) = jp_with(50_000);
    let reverse = || {
        issued(
            2026,
            1,
            7,
            AccountCommand::Credit {
                reason: CreditReason::PaymentReversal,
                cause: cause("shp-1"),
                amount: Money::jpy(8_000),
                rate: None,
            },
        )
    };
    let err = run(&policy, &given, reverse()).unwrap_err();
    assert_eq!(
        err,
        AccountError::NoPaymentToReverse {
            cause: cause("shp-1")
        }
    );
    assert_refusal(&err, "account.no_payment_to_reverse", Some(Rule::Pay1));
    let events = run(
        &policy,
        &given,
        issued(2026, 1, 7, pay("shp-1", Money::jpy(8_000))),
    )
    .unwrap();
    let events = run(&policy, &events, reverse()).unwrap();
    assert_eq!(balance_after(&events), Money::jpy(50_000));
    assert_eq!(
        events.last().and_then(AccountEvent::movement),
        Some(&Movement {
            amount: Money::jpy(8_000),
            reason: Reason::PaymentReversal,
            cause: cause("shp-1"),
        })
    );
    let err = run(&policy, &events, reverse()).unwrap_err();
    assert_refusal(&err, "account.no_payment_to_reverse", Some(Rule::Pay1));
}

// rule PAY-1: a shipment whose balance payment was reversed is unpaid: it can be paid from the
// balance again (once), and that payment reversed in its turn.
#[test]
fn pay_1_a_reversed_payment_can_be_paid_from_the_balance_again() {
    let (policy, given) = jp_with(50_000);
    let reverse = || {
        issued(
            2026,
            1,
            8,
            AccountCommand::Credit {
                reason: CreditReason::PaymentReversal,
                cause: cause("shp-1"),
                amount: Money::jpy(8_000),
                rate: None,
            },
        )
    };
    let pay_again = || issued(2026, 1, 8, pay("shp-1", Money::jpy(8_000)));
    let paid = run(
        &policy,
        &given,
        issued(2026, 1, 7, pay("shp-1", Money::jpy(8_000))),
    )
    .unwrap();
    let reversed = run(&policy, &paid, reverse()).unwrap();
    let paid_again = run(&policy, &reversed, pay_again()).unwrap();
    assert_eq!(balance_after(&paid_again), Money::jpy(42_000));
    // Paid again: a further debit for it is refused, as for any paid shipment.
    let err = run(&policy, &paid_again, pay_again()).unwrap_err();
    assert_refusal(&err, "account.duplicate_debit", Some(Rule::Pay1));
    // Its second payment may be reversed too, once.
    let reversed_again = run(&policy, &paid_again, reverse()).unwrap();
    assert_eq!(balance_after(&reversed_again), Money::jpy(50_000));
    let err = run(&policy, &reversed_again, reverse()).unwrap_err();
    assert_refusal(&err, "account.no_payment_to_reverse", Some(Rule::Pay1));
}

// rule ACC-4: a recurring charge is made once per period; the next period is a new charge.
#[test]
fn acc_4_storage_month_is_charged_once() {
    let cn = Policy::cn_agency();
    let events = run(
        &cn,
        &[opened(&cn)],
        issued(2026, 2, 1, storage("par-1", cny(dec!(60)), month(2026, 1))),
    )
    .unwrap();
    let err = run(
        &cn,
        &events,
        issued(2026, 2, 2, storage("par-1", cny(dec!(60)), month(2026, 1))),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AccountError::DuplicateDebit {
            reason: Reason::StorageFee,
            cause: cause("par-1")
        }
    );
    assert_refusal(&err, "account.duplicate_debit", Some(Rule::Acc4));
    let events = run(
        &cn,
        &events,
        issued(2026, 3, 1, storage("par-1", cny(dec!(60)), month(2026, 2))),
    )
    .unwrap();
    assert_eq!(balance_after(&events), cny(dec!(-120)));
}

// rule MON-2 / MON-1: a yen fee on a yuan account is converted at the charging rate, rounded
// half up (owed to the warehouse), and the conversion is recorded in the debit.
#[test]
fn mon_2_yen_fee_on_yuan_account_records_its_conversion() {
    let cn = Policy::cn_agency();
    let rate = cny_jpy(dec!(20.85), on(2026, 2, 1));
    framework(cn.clone())
        .given(vec![opened(&cn)])
        .when(issued(
            2026,
            2,
            1,
            AccountCommand::Debit {
                reason: DebitReason::InspectionFee,
                cause: cause("par-1"),
                amount: Money::jpy(1_000),
                period: None,
                rate: Some(rate.clone()),
            },
        ))
        .then_expect_events(vec![AccountEvent::Debited {
            // 1,000 / 21.85 = 45.7665... -> 45.77
            movement: Movement {
                amount: cny(dec!(-45.77)),
                reason: Reason::InspectionFee,
                cause: cause("par-1"),
            },
            kind: DebitKind::Owed,
            period: None,
            conversion: Some(Conversion {
                from: Money::jpy(1_000),
                to: cny(dec!(45.77)),
                applied_rate: dec!(21.85),
                reference: vec![rate],
                markup: dec!(1.00),
                purpose: ConversionPurpose::Charge,
                rounding: Rounding::HalfUp,
            }),
            rule: Rule::Ins1,
            policy: cn.version(),
        }]);
}

/// The charge of a disposal at the fee the parcel records under `policy` (parcel.disposed):
/// per item at withdrawal, else per parcel.
fn dispose(policy: &Policy, parcel: &str, disposal: DisposalCause) -> AccountCommand {
    let fee = match disposal {
        DisposalCause::LeftAtWithdrawal { items } => policy
            .member
            .withdrawal_disposal_fee_per_item
            .times(rust_decimal::Decimal::from(items)),
        _ => policy.disposal.fee_per_parcel,
    };
    AccountCommand::ChargeDisposalFee {
        parcel: cause(parcel),
        disposal,
        fee,
    }
}

// rule MEM-8: items left behind at withdrawal are destroyed at 5 CNY each, debited as an owed
// debt that may take the balance below zero.
#[test]
fn mem_8_items_left_at_withdrawal_cost_5_cny_each_as_an_owed_debt() {
    let cn = Policy::cn_agency();
    let given = vec![
        opened(&cn),
        topped_up(&cn, 1, cny(dec!(10)), on(2026, 1, 6)),
    ];
    let disposal = DisposalCause::LeftAtWithdrawal { items: 3 };
    framework(cn.clone())
        .given(given.clone())
        .when(issued(2026, 2, 1, dispose(&cn, "par-1", disposal)))
        .then_expect_events(vec![AccountEvent::DisposalFeeCharged {
            movement: Movement {
                amount: cny(dec!(-15)),
                reason: Reason::WithdrawalDisposalFee,
                cause: cause("par-1"),
            },
            disposal,
            unit_fee: cny(dec!(5)),
            units: 3,
            rule: Rule::Mem8,
            policy: cn.version(),
        }]);
    let events = run(
        &cn,
        &given,
        issued(2026, 2, 1, dispose(&cn, "par-1", disposal)),
    )
    .unwrap();
    assert_eq!(balance_after(&events), cny(dec!(-5)));
    // Charged once per parcel.
    let err = run(
        &cn,
        &events,
        issued(2026, 2, 2, dispose(&cn, "par-1", disposal)),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        AccountError::DuplicateDebit {
            reason: Reason::WithdrawalDisposalFee,
            ..
        }
    ));
    // No items, no fee.
    let err = run(
        &cn,
        &given,
        issued(
            2026,
            2,
            1,
            dispose(&cn, "par-2", DisposalCause::LeftAtWithdrawal { items: 0 }),
        ),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AccountError::NonPositiveAmount {
            amount: cny(dec!(0))
        }
    );
}

// rule MEM-8 / POL-2: the per-item fee is the profile's (jp-forwarding: 100 JPY, example).
#[test]
fn mem_8_per_item_fee_follows_the_profile() {
    let jp = Policy::jp_forwarding();
    let events = run(
        &jp,
        &[opened(&jp)],
        issued(
            2026,
            2,
            1,
            dispose(&jp, "par-1", DisposalCause::LeftAtWithdrawal { items: 4 }),
        ),
    )
    .unwrap();
    assert_eq!(balance_after(&events), Money::jpy(-400));
}

// rule DSP-1: a disposal fee is an owed debt, recorded with the disposal's cause.
#[test]
fn dsp_1_disposal_fee_is_debited_as_an_owed_debt() {
    let jp = Policy::jp_forwarding();
    framework(jp.clone())
        .given(vec![opened(&jp)])
        .when(issued(
            2026,
            2,
            1,
            dispose(&jp, "par-1", DisposalCause::PastMaxStorage),
        ))
        .then_expect_events(vec![AccountEvent::DisposalFeeCharged {
            movement: Movement {
                amount: Money::jpy(-500),
                reason: Reason::DisposalFee,
                cause: cause("par-1"),
            },
            disposal: DisposalCause::PastMaxStorage,
            unit_fee: Money::jpy(500),
            units: 1,
            rule: Rule::Dsp1,
            policy: jp.version(),
        }]);
    let cn = Policy::cn_agency();
    let events = run(
        &cn,
        &[opened(&cn)],
        issued(2026, 2, 1, dispose(&cn, "par-1", DisposalCause::Unpaid)),
    )
    .unwrap();
    assert_eq!(balance_after(&events), cny(dec!(-5)));
}

// rule DSP-1: the account charges the fee parcel.disposed recorded, never its own reckoning
// of the policy: a parcel disposed of at 300 JPY under an earlier tariff is charged 300 JPY
// even where the policy now says 500; a fee in another currency, or not a whole positive
// amount, is refused.
#[test]
fn dsp_1_the_account_charges_the_fee_the_disposal_recorded() {
    let jp = Policy::jp_forwarding();
    assert_eq!(jp.disposal.fee_per_parcel, Money::jpy(500));
    let charge = |fee| AccountCommand::ChargeDisposalFee {
        parcel: cause("par-1"),
        disposal: DisposalCause::PastMaxStorage,
        fee,
    };
    let events = run(
        &jp,
        &[opened(&jp)],
        issued(2026, 2, 1, charge(Money::jpy(300))),
    )
    .unwrap();
    assert_eq!(balance_after(&events), Money::jpy(-300));
    assert!(matches!(
        events.last(),
        Some(AccountEvent::DisposalFeeCharged { unit_fee, units: 1, .. }) if *unit_fee == Money::jpy(300)
    ));
    for wrong in [cny(dec!(5)), Money::jpy(0)] {
        assert!(run(&jp, &[opened(&jp)], issued(2026, 2, 1, charge(wrong))).is_err());
    }
    // Per item at withdrawal: 3 items recorded at 450 JPY are 150 JPY each.
    let events = run(
        &jp,
        &[opened(&jp)],
        issued(
            2026,
            2,
            1,
            AccountCommand::ChargeDisposalFee {
                parcel: cause("par-2"),
                disposal: DisposalCause::LeftAtWithdrawal { items: 3 },
                fee: Money::jpy(450),
            },
        ),
    )
    .unwrap();
    assert!(matches!(
        events.last(),
        Some(AccountEvent::DisposalFeeCharged { unit_fee, units: 3, .. }) if *unit_fee == Money::jpy(150)
    ));
}

fn sale(parcel: &str, gross: Money, costs: Money) -> AccountCommand {
    AccountCommand::CreditSaleProceeds {
        parcel: cause(parcel),
        gross,
        costs,
    }
}

// rule DSP-1: sale proceeds are credited less the costs of the sale.
#[test]
fn dsp_1_sale_proceeds_are_credited_less_costs() {
    let jp = Policy::jp_forwarding();
    framework(jp.clone())
        .given(vec![opened(&jp)])
        .when(issued(
            2026,
            2,
            1,
            sale("par-1", Money::jpy(3_000), Money::jpy(800)),
        ))
        .then_expect_events(vec![AccountEvent::SaleProceedsCredited {
            movement: Movement {
                amount: Money::jpy(2_200),
                reason: Reason::SaleProceeds,
                cause: cause("par-1"),
            },
            gross: Money::jpy(3_000),
            costs: Money::jpy(800),
            policy: jp.version(),
        }]);
}

// rule DSP-1: a sale that does not cover its costs leaves the shortfall as an owed debt; a
// parcel's proceeds are credited once.
#[test]
fn dsp_1_sale_shortfall_is_owed_and_proceeds_are_credited_once() {
    let cn = Policy::cn_agency();
    let events = run(
        &cn,
        &[opened(&cn)],
        issued(2026, 2, 1, sale("par-1", cny(dec!(5)), cny(dec!(8.50)))),
    )
    .unwrap();
    assert_eq!(balance_after(&events), cny(dec!(-3.50)));
    let err = run(
        &cn,
        &events,
        issued(2026, 2, 2, sale("par-1", cny(dec!(5)), cny(dec!(0)))),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AccountError::DuplicateCredit {
            reason: Reason::SaleProceeds,
            cause: cause("par-1")
        }
    );
    let err = run(
        &cn,
        &[opened(&cn)],
        issued(2026, 2, 1, sale("par-2", cny(dec!(0)), cny(dec!(0)))),
    )
    .unwrap_err();
    assert!(matches!(err, AccountError::NonPositiveAmount { .. }));
    assert_eq!(
        run(
            &cn,
            &[opened(&cn)],
            issued(2026, 2, 1, sale("par-2", cny(dec!(5)), cny(dec!(-1))))
        )
        .unwrap_err(),
        AccountError::NonPositiveAmount {
            amount: cny(dec!(-1))
        }
    );
    assert_eq!(Currency::Cny, balance_after(&events).currency);
}
