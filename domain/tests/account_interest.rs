//! ChargeAccount late interest (ACC-6): 14.5 % a year, actual/365, accrued as events at full
//! precision and never twice for the same day; only what is charged is rounded (down), and the
//! remainder carries over, so the total never depends on how often interest is posted.

#[path = "account_support.rs"]
mod support;

use chrono::Datelike;
use domain::account::{
    late_interest, late_interest_until, overdue_days, AccountCommand, AccountError, AccountEvent,
    Movement, Period, Reason,
};
use domain::calendar::add_days;
use domain::money::{Currency, Money, Rounding};
use domain::{Policy, Rule};
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use support::*;

fn accrue(
    item: &str,
    overdue: Money,
    due_on: chrono::NaiveDate,
    through: chrono::NaiveDate,
) -> AccountCommand {
    AccountCommand::AccrueLateInterest {
        cause: cause(item),
        overdue,
        due_on,
        through,
    }
}

// rule ACC-6: 14.5 % a year, actual/365, what is charged rounded down: 100,000 JPY for 30
// days is 1,191 JPY.
#[test]
fn acc_6_interest_is_simple_actual_365_charged_rounded_down() {
    let terms = Policy::jp_forwarding().account;
    // 100,000 * 14.5% * 30/365 = 1,191.78
    assert_eq!(
        late_interest_until(
            Money::jpy(100_000),
            on(2026, 3, 31),
            on(2026, 4, 30),
            &terms
        ),
        Money::jpy(1_191)
    );
    // 36,500 * 14.5% * 1/365 = 14.5 exactly: 14 charged, the half carries over.
    assert_eq!(
        late_interest(Money::jpy(36_500), 1, dec!(14.5), 365),
        Money::jpy(14)
    );
    // 36,400 * 14.5% / 365 = 14.46 -> 14.
    assert_eq!(
        late_interest(Money::jpy(36_400), 1, dec!(14.5), 365),
        Money::jpy(14)
    );
    // A leap year still counts 365 in the basis: 29 Feb 2028 is one more day.
    assert_eq!(overdue_days(on(2028, 2, 28), on(2028, 3, 1)), 2);
}

// rule ACC-6: no interest on or before the due date; the day after is the first day.
#[test]
fn acc_6_no_interest_on_or_before_the_due_date() {
    let terms = Policy::cn_agency().account;
    let due = on(2026, 3, 31);
    let overdue = cny(dec!(1000));
    assert_eq!(
        late_interest_until(overdue, due, on(2026, 3, 1), &terms),
        cny(dec!(0))
    );
    assert_eq!(late_interest_until(overdue, due, due, &terms), cny(dec!(0)));
    assert_eq!(overdue_days(due, on(2026, 4, 1)), 1);
    // 1,000 * 14.5% / 365 = 0.397 -> 0.39
    assert_eq!(
        late_interest_until(overdue, due, on(2026, 4, 1), &terms),
        cny(dec!(0.39))
    );
}

// rule ACC-6: the accrual is an event recording days, rate, basis and policy version, an owed
// debt that may take the balance below zero.
#[test]
fn acc_6_accrual_is_recorded_as_an_owed_debt() {
    let cn = Policy::cn_agency();
    let due = on(2026, 3, 31);
    framework(cn.clone())
        .given(vec![opened(&cn)])
        .when(issued(
            2026,
            4,
            30,
            accrue("inv-1", cny(dec!(1000)), due, on(2026, 4, 30)),
        ))
        .then_expect_events(vec![AccountEvent::LateInterestAccrued {
            // 1,000 * 14.5% * 30/365 = 11.9178 -> 11.91, 0.0078 carried
            movement: Movement {
                amount: cny(dec!(-11.91)),
                reason: Reason::LateInterest,
                cause: cause("inv-1"),
            },
            overdue: cny(dec!(1000)),
            due_on: due,
            period: Period::new(on(2026, 4, 1), on(2026, 4, 30)).unwrap(),
            days: 30,
            annual_percent: dec!(14.5),
            day_count_basis: 365,
            rounding: Rounding::Down,
            policy: cn.version(),
        }]);
}

// rule ACC-6: never twice for the same period: a second accrual covers only the new days.
#[test]
fn acc_6_interest_is_never_accrued_twice_for_a_day() {
    let jp = Policy::jp_forwarding();
    let due = on(2026, 3, 31);
    let events = run(
        &jp,
        &[opened(&jp)],
        issued(
            2026,
            4,
            30,
            accrue("inv-1", Money::jpy(100_000), due, on(2026, 4, 30)),
        ),
    )
    .unwrap();
    assert_eq!(
        replay(&events).interest_accrued_through(&cause("inv-1")),
        Some(on(2026, 4, 30))
    );

    for through in [on(2026, 4, 30), on(2026, 4, 15)] {
        let err = run(
            &jp,
            &events,
            issued(
                2026,
                5,
                15,
                accrue("inv-1", Money::jpy(100_000), due, through),
            ),
        )
        .unwrap_err();
        assert_eq!(
            err,
            AccountError::InterestAlreadyAccrued {
                cause: cause("inv-1"),
                accrued_through: on(2026, 4, 30)
            }
        );
        assert_refusal(&err, "account.interest_already_accrued", Some(Rule::Acc6));
    }

    let events = run(
        &jp,
        &events,
        issued(
            2026,
            5,
            15,
            accrue("inv-1", Money::jpy(100_000), due, on(2026, 5, 15)),
        ),
    )
    .unwrap();
    match events.last().unwrap() {
        AccountEvent::LateInterestAccrued {
            period,
            days,
            movement,
            ..
        } => {
            assert_eq!(
                *period,
                Period::new(on(2026, 5, 1), on(2026, 5, 15)).unwrap()
            );
            assert_eq!(*days, 15);
            // 100,000 * 14.5% * 15/365 = 595.89, plus 0.78 carried from April -> 596
            assert_eq!(movement.amount, Money::jpy(-596));
        }
        other => panic!("unexpected {other:?}"),
    }
    // 1,191 + 596 = 1,787, owed: the balance is negative. 45 days at once: 1,787.67 -> 1,787.
    assert_eq!(balance_after(&events), Money::jpy(-1_787));
    // Another overdue item accrues on its own.
    assert!(run(
        &jp,
        &events,
        issued(
            2026,
            5,
            15,
            accrue("inv-2", Money::jpy(1_000), due, on(2026, 5, 15))
        )
    )
    .is_ok());
}

/// Accrues interest on 1,000 JPY due 31 March 2026 through each day of `throughs`, in order,
/// on the day itself; returns the history.
fn posted(throughs: impl IntoIterator<Item = chrono::NaiveDate>) -> Vec<AccountEvent> {
    let jp = Policy::jp_forwarding();
    let mut events = vec![opened(&jp)];
    for through in throughs {
        let cmd = AccountCommand::AccrueLateInterest {
            cause: cause("inv-1"),
            overdue: Money::jpy(1_000),
            due_on: on(2026, 3, 31),
            through,
        };
        let day = issued(through.year(), through.month(), through.day(), cmd);
        events = run(&jp, &events, day).unwrap();
    }
    events
}

// rule ACC-6: 1,000 JPY overdue for a year at 14.5 % is 145 JPY however often it is posted:
// daily (0.397 JPY a day, never a whole yen on its own), monthly or once. The remainder carries
// over in the account, rebuilt from the events alone.
#[test]
fn acc_6_interest_posted_daily_totals_what_posting_once_charges() {
    let due = on(2026, 3, 31);
    let year_end = add_days(due, 365);
    let daily = posted((1..=365).map(|n| add_days(due, n)));
    // Month ends: the twelfth is the year's end (no 29 February in between).
    assert_eq!(domain::calendar::add_months(due, 12), year_end);
    let monthly = posted((1..=12).map(|m| domain::calendar::add_months(due, m)));
    let once = posted([year_end]);
    for history in [&daily, &monthly, &once] {
        assert_eq!(balance_after(history), Money::jpy(-145));
        assert_eq!(
            replay(history).interest_carried(&cause("inv-1")).value(),
            Decimal::ZERO
        );
    }
    // After the first day, 0 JPY charged and 0.397… JPY carried.
    let first = posted([add_days(due, 1)]);
    assert_eq!(balance_after(&first), Money::jpy(0));
    let carried = replay(&first).interest_carried(&cause("inv-1")).value();
    assert!(carried > dec!(0.397) && carried < dec!(0.398), "{carried}");
    // Day by day, the total charged is what one posting through that day would charge.
    for n in [1u32, 2, 3, 30, 100, 364] {
        let through = add_days(due, n);
        let partial = posted((1..=n).map(|k| add_days(due, k)));
        assert_eq!(
            -balance_after(&partial).amount,
            late_interest_until(
                Money::jpy(1_000),
                due,
                through,
                &Policy::jp_forwarding().account
            )
            .amount,
            "day {n}"
        );
    }
}

// rule ACC-6: a history recorded when each accrual was rounded half up on its own still
// replays; its over-charge is carried (negative) so the totals come back to the exact ones.
#[test]
fn acc_6_a_history_rounded_half_up_replays_and_carries_its_difference() {
    let jp = Policy::jp_forwarding();
    let due = on(2026, 3, 31);
    let old = AccountEvent::LateInterestAccrued {
        // 100,000 * 14.5% * 30/365 = 1,191.78, charged 1,192 under the earlier rule.
        movement: Movement {
            amount: Money::jpy(-1_192),
            reason: Reason::LateInterest,
            cause: cause("inv-1"),
        },
        overdue: Money::jpy(100_000),
        due_on: due,
        period: Period::new(on(2026, 4, 1), on(2026, 4, 30)).unwrap(),
        days: 30,
        annual_percent: dec!(14.5),
        day_count_basis: 365,
        rounding: Rounding::HalfUp,
        policy: jp.version(),
    };
    let history = vec![opened(&jp), old];
    let carried = replay(&history).interest_carried(&cause("inv-1")).value();
    assert!(
        carried < Decimal::ZERO && carried > dec!(-0.23),
        "{carried}"
    );
    let events = run(
        &jp,
        &history,
        issued(
            2026,
            5,
            15,
            accrue("inv-1", Money::jpy(100_000), due, on(2026, 5, 15)),
        ),
    )
    .unwrap();
    // 595.89 less the 0.22 over-charged: 595; 1,192 + 595 = 1,787, the 45 days' 1,787.67.
    assert_eq!(
        events
            .last()
            .and_then(AccountEvent::movement)
            .map(|m| m.amount),
        Some(Money::jpy(-595))
    );
}

// rule ACC-6: nothing accrues through the due date, nor through a day that has not come.
#[test]
fn acc_6_not_overdue_and_future_days_are_refused() {
    let jp = Policy::jp_forwarding();
    let due = on(2026, 3, 31);
    let err = run(
        &jp,
        &[opened(&jp)],
        issued(2026, 4, 10, accrue("inv-1", Money::jpy(1_000), due, due)),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AccountError::NotOverdue {
            due_on: due,
            through: due
        }
    );
    assert_refusal(&err, "account.not_overdue", Some(Rule::Acc6));

    let err = run(
        &jp,
        &[opened(&jp)],
        issued(
            2026,
            4,
            10,
            accrue("inv-1", Money::jpy(1_000), due, on(2026, 4, 11)),
        ),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AccountError::InterestInFuture {
            through: on(2026, 4, 11),
            today: on(2026, 4, 10)
        }
    );
    assert_refusal(&err, "account.interest_in_future", Some(Rule::Acc6));
    // Through today is fine.
    assert!(run(
        &jp,
        &[opened(&jp)],
        issued(
            2026,
            4,
            10,
            accrue("inv-1", Money::jpy(1_000), due, on(2026, 4, 10))
        )
    )
    .is_ok());
}

proptest! {
    // rule ACC-6: interest over a period equals the sum over any split of it, within the
    // rounding of the parts (at most one unit) when each part is rounded alone (accruals carry
    // the remainder, see the posting test); nothing accrues on or before the due date;
    // and it never decreases with time.
    #[test]
    fn acc_6_interest_is_additive_across_split_periods(
        units in 1i64..100_000_000,
        first in 0u32..400,
        second in 0u32..400,
        before in 0u32..60,
        yuan in any::<bool>(),
    ) {
        let terms = Policy::cn_agency().account;
        let (overdue, unit) = if yuan {
            (cny(Decimal::new(units, 2)), dec!(0.01))
        } else {
            (Money::jpy(units), Decimal::ONE)
        };
        let due = on(2026, 3, 31);
        let split = add_days(due, first);
        let end = add_days(split, second);
        let whole = late_interest_until(overdue, due, end, &terms);
        let parts = late_interest_until(overdue, due, split, &terms).amount
            + late_interest(overdue, overdue_days(split, end), terms.late_interest_annual_percent, terms.late_interest_day_count_basis).amount;
        prop_assert!((whole.amount - parts).abs() <= unit);
        // What is charged is the unrounded value rounded down.
        let exact = overdue.amount * dec!(14.5) * Decimal::from(first + second) / dec!(36500);
        prop_assert!(whole.amount <= exact && exact - whole.amount < unit);
        prop_assert_eq!(whole.currency, overdue.currency);
        // Zero on or before the due date.
        let earlier = chrono::NaiveDate::from_ymd_opt(2026, 3, 31).unwrap() - chrono::Days::new(u64::from(before));
        prop_assert!(late_interest_until(overdue, due, earlier, &terms).is_zero());
        // Monotonic in time.
        prop_assert!(late_interest_until(overdue, due, split, &terms).amount <= whole.amount);
        prop_assert_eq!(whole.currency == Currency::Cny, yuan);
    }
}
