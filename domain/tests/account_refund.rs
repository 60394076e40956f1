//! ChargeAccount withdrawal refund (ACC-7): never partial, only on withdrawal, due on the last
//! day of the month after the month in which a month has passed, at the refund rate (MON-3).

#[path = "account_support.rs"]
mod support;

use domain::account::{
    refund_due_on, AccountCommand, AccountError, AccountEvent, Movement, Reason, RefundRateRole,
    RefundRates,
};
use domain::exchange::{Conversion, ConversionPurpose};
use domain::money::{Currency, Money, Rounding};
use domain::{Policy, Rule};
use rust_decimal_macros::dec;
use support::*;

fn schedule(requested_on: chrono::NaiveDate) -> AccountCommand {
    AccountCommand::ScheduleRefund {
        request: cause("wd-1"),
        requested_on,
    }
}

fn pay_in(payout_currency: Currency, rates: Option<RefundRates>) -> AccountCommand {
    AccountCommand::PayRefund {
        payout_currency,
        rates,
    }
}

fn scheduled(policy: &Policy, requested_on: chrono::NaiveDate) -> AccountEvent {
    AccountEvent::RefundScheduled {
        request: cause("wd-1"),
        requested_on,
        wait_months: 1,
        due_on: refund_due_on(requested_on, 1),
        policy: policy.version(),
    }
}

// rule ACC-7: requested 1 Oct, due 31 Dec; month ends clamp (TIM-1).
#[test]
fn acc_7_refund_is_due_on_the_last_day_of_the_month_after_a_month_has_passed() {
    assert_eq!(refund_due_on(on(2026, 10, 1), 1), on(2026, 12, 31));
    assert_eq!(refund_due_on(on(2026, 10, 31), 1), on(2026, 12, 31));
    assert_eq!(refund_due_on(on(2026, 9, 30), 1), on(2026, 11, 30));
    // 31 Jan: a month has passed on 28 Feb, so the following month is March.
    assert_eq!(refund_due_on(on(2026, 1, 31), 1), on(2026, 3, 31));
    assert_eq!(refund_due_on(on(2026, 12, 15), 1), on(2027, 2, 28));
    assert_eq!(refund_due_on(on(2027, 12, 31), 1), on(2028, 2, 29));
}

// rule ACC-7: the withdrawal request schedules the refund with its due date.
#[test]
fn acc_7_withdrawal_request_schedules_the_refund() {
    for policy in [Policy::jp_forwarding(), Policy::cn_agency()] {
        framework(policy.clone())
            .given(vec![opened(&policy)])
            .when(issued(2026, 10, 1, schedule(on(2026, 10, 1))))
            .then_expect_events(vec![scheduled(&policy, on(2026, 10, 1))]);
    }
    let jp = Policy::jp_forwarding();
    let events = vec![opened(&jp), scheduled(&jp, on(2026, 10, 1))];
    assert_eq!(replay(&events).refund_due_on(), Some(on(2026, 12, 31)));
    let err = run(&jp, &events, issued(2026, 10, 2, schedule(on(2026, 10, 2)))).unwrap_err();
    assert_eq!(
        err,
        AccountError::WithdrawalAlreadyRequested {
            due_on: on(2026, 12, 31)
        }
    );
    assert_refusal(
        &err,
        "account.withdrawal_already_requested",
        Some(Rule::Acc7),
    );
}

// rule ACC-7: no refund without withdrawal: the balance is never paid back in part or early.
#[test]
fn acc_7_refund_without_withdrawal_is_refused() {
    let jp = Policy::jp_forwarding();
    let given = vec![
        opened(&jp),
        topped_up(&jp, 1, Money::jpy(12_345), on(2026, 1, 6)),
    ];
    let err = run(
        &jp,
        &given,
        issued(2026, 3, 31, pay_in(Currency::Jpy, None)),
    )
    .unwrap_err();
    assert_eq!(err, AccountError::RefundWithoutWithdrawal);
    assert_refusal(&err, "account.refund_without_withdrawal", Some(Rule::Acc7));
}

// rule ACC-7: paid on the due date (31 Dec), not the day before.
#[test]
fn acc_7_refund_is_paid_on_or_after_its_due_date() {
    let jp = Policy::jp_forwarding();
    let given = vec![
        opened(&jp),
        topped_up(&jp, 1, Money::jpy(12_345), on(2026, 9, 6)),
        scheduled(&jp, on(2026, 10, 1)),
    ];
    let err = run(
        &jp,
        &given,
        issued(2026, 12, 30, pay_in(Currency::Jpy, None)),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AccountError::RefundNotDue {
            due_on: on(2026, 12, 31),
            today: on(2026, 12, 30)
        }
    );
    assert_refusal(&err, "account.refund_not_due", Some(Rule::Acc7));
    assert!(run(
        &jp,
        &given,
        issued(2026, 12, 31, pay_in(Currency::Jpy, None))
    )
    .is_ok());
}

// rule ACC-7: the whole balance is refunded, the balance goes to zero and the account closes.
#[test]
fn acc_7_refund_pays_the_whole_balance_and_closes_the_account() {
    let jp = Policy::jp_forwarding();
    let given = vec![
        opened(&jp),
        topped_up(&jp, 1, Money::jpy(12_345), on(2026, 9, 6)),
        scheduled(&jp, on(2026, 10, 1)),
    ];
    let refunded = AccountEvent::Refunded {
        movement: Movement {
            amount: Money::jpy(-12_345),
            reason: Reason::Refund,
            cause: cause("wd-1"),
        },
        paid: Money::jpy(12_345),
        conversion: None,
        due_on: on(2026, 12, 31),
        paid_on: on(2027, 1, 4),
        policy: jp.version(),
    };
    framework(jp.clone())
        .given(given.clone())
        .when(issued(2027, 1, 4, pay_in(Currency::Jpy, None)))
        .then_expect_events(vec![refunded.clone()]);
    let mut events = given;
    events.push(refunded);
    let account = replay(&events);
    assert!(account.is_closed());
    assert_eq!(account.balance(), Some(Money::jpy(0)));
    assert!(account.balance_matches(&events));
}

// rule ACC-7 / MON-3: a yuan balance is paid in yen at the lower of the charge-month and
// refund-month rates minus 1.00, rounded down; the conversion is recorded (MON-2).
#[test]
fn mon_3_refund_converts_at_the_lower_rate_minus_one_rounded_down() {
    let cn = Policy::cn_agency();
    let given = vec![
        opened(&cn),
        topped_up(&cn, 1, cny(dec!(123.45)), on(2026, 9, 6)),
        scheduled(&cn, on(2026, 10, 1)),
    ];
    let charge_month = cny_jpy(dec!(21.40), on(2026, 9, 1));
    let refund_month = cny_jpy(dec!(20.95), on(2026, 12, 31));
    let rates = RefundRates {
        charge_month: charge_month.clone(),
        refund_month: refund_month.clone(),
    };
    framework(cn.clone())
        .given(given)
        .when(issued(2026, 12, 31, pay_in(Currency::Jpy, Some(rates))))
        .then_expect_events(vec![AccountEvent::Refunded {
            movement: Movement {
                amount: cny(dec!(-123.45)),
                reason: Reason::Refund,
                cause: cause("wd-1"),
            },
            // 123.45 * (20.95 - 1.00) = 2,462.8275 -> 2,462
            paid: Money::jpy(2_462),
            conversion: Some(Conversion {
                from: cny(dec!(123.45)),
                to: Money::jpy(2_462),
                applied_rate: dec!(19.95),
                reference: vec![charge_month, refund_month],
                markup: dec!(1.00),
                purpose: ConversionPurpose::Refund,
                rounding: Rounding::Down,
            }),
            due_on: on(2026, 12, 31),
            paid_on: on(2026, 12, 31),
            policy: cn.version(),
        }]);
}

// rule MON-3: the refund-month rate is of the month paid; the charge-month rate of the month
// of the last top-up.
#[test]
fn mon_3_refund_rates_must_be_of_the_right_months() {
    let cn = Policy::cn_agency();
    let given = vec![
        opened(&cn),
        topped_up(&cn, 1, cny(dec!(100)), on(2026, 9, 6)),
        scheduled(&cn, on(2026, 10, 1)),
    ];
    let rates = |charge: chrono::NaiveDate, refund: chrono::NaiveDate| {
        Some(RefundRates {
            charge_month: cny_jpy(dec!(21.40), charge),
            refund_month: cny_jpy(dec!(20.95), refund),
        })
    };
    let err = run(
        &cn,
        &given,
        issued(
            2026,
            12,
            31,
            pay_in(Currency::Jpy, rates(on(2026, 9, 1), on(2026, 11, 30))),
        ),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AccountError::RefundRateMonth {
            role: RefundRateRole::RefundMonth,
            valid_on: on(2026, 11, 30),
            expected_month: on(2026, 12, 31)
        }
    );
    assert_refusal(&err, "account.refund_rate_month", Some(Rule::Mon3));
    let err = run(
        &cn,
        &given,
        issued(
            2026,
            12,
            31,
            pay_in(Currency::Jpy, rates(on(2026, 8, 31), on(2026, 12, 1))),
        ),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        AccountError::RefundRateMonth {
            role: RefundRateRole::ChargeMonth,
            ..
        }
    ));
    let err = run(
        &cn,
        &given,
        issued(2026, 12, 31, pay_in(Currency::Jpy, None)),
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

// rule ACC-7: a negative balance is a debt, not a refund; a zero balance is "refunded" as zero
// and the account closes.
#[test]
fn acc_7_negative_balance_is_refused_and_zero_balance_closes() {
    let cn = Policy::cn_agency();
    let owing = vec![
        opened(&cn),
        scheduled(&cn, on(2026, 10, 1)),
        AccountEvent::DisposalFeeCharged {
            movement: Movement {
                amount: cny(dec!(-10)),
                reason: Reason::WithdrawalDisposalFee,
                cause: cause("par-1"),
            },
            disposal: domain::account::DisposalCause::LeftAtWithdrawal { items: 2 },
            unit_fee: cny(dec!(5)),
            units: 2,
            rule: Rule::Mem8,
            policy: cn.version(),
        },
    ];
    let err = run(
        &cn,
        &owing,
        issued(2026, 12, 31, pay_in(Currency::Cny, None)),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AccountError::RefundOfDebt {
            balance: cny(dec!(-10))
        }
    );
    assert_refusal(&err, "account.refund_of_debt", Some(Rule::Acc7));

    let settled = vec![opened(&cn), scheduled(&cn, on(2026, 10, 1))];
    let events = run(
        &cn,
        &settled,
        issued(2026, 12, 31, pay_in(Currency::Cny, None)),
    )
    .unwrap();
    assert!(matches!(
        events.last(),
        Some(AccountEvent::Refunded { paid, .. }) if paid.is_zero()
    ));
    assert!(replay(&events).is_closed());
}

// rule ACC-7: a top-up after the withdrawal request (to settle a debt) is refunded with the rest.
#[test]
fn acc_7_refund_takes_everything_credited_until_payment() {
    let jp = Policy::jp_forwarding();
    let given = vec![
        opened(&jp),
        topped_up(&jp, 1, Money::jpy(1_000), on(2026, 9, 6)),
        scheduled(&jp, on(2026, 10, 1)),
        topped_up(&jp, 2, Money::jpy(2_000), on(2026, 10, 20)),
    ];
    let events = run(
        &jp,
        &given,
        issued(2026, 12, 31, pay_in(Currency::Jpy, None)),
    )
    .unwrap();
    assert!(matches!(
        events.last(),
        Some(AccountEvent::Refunded { paid, .. }) if *paid == Money::jpy(3_000)
    ));
}
