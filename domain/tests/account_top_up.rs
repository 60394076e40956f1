//! ChargeAccount top-up applications: matching the bank's record (ACC-2), counting rejections
//! (ACC-3) and converting at the charging rate (MON-2, MON-3).

#[path = "account_support.rs"]
mod support;

use chrono::{DateTime, Utc};
use domain::account::{
    top_up_filing_deadline, AccountCommand, AccountError, AccountEvent, BankDeposit,
    DeclaredDeposit, Movement, PaypalFee, Reason, TopUpRejection,
};
use domain::exchange::{Conversion, ConversionPurpose, ExchangeRate};
use domain::money::{Currency, Money, Rounding};
use domain::{Issued, Policy, Rule};
use rust_decimal_macros::dec;
use support::*;

/// A 30,000 JPY deposit at Rakuten Bank on 10 Mar 2026.
fn march_deposit() -> BankDeposit {
    deposit("dep-1", on(2026, 3, 10), Money::jpy(30_000))
}

fn apply(
    id: &str,
    declared: DeclaredDeposit,
    deposit: Option<BankDeposit>,
    rate: Option<ExchangeRate>,
) -> AccountCommand {
    AccountCommand::ApplyForTopUp {
        application_id: cause(id),
        declared,
        deposit,
        rate,
    }
}

/// The rejection reasons of applying `declared` against `deposit` on `filed` (jp-forwarding).
fn reasons(
    declared: DeclaredDeposit,
    deposit: Option<BankDeposit>,
    filed: DateTime<Utc>,
) -> Vec<TopUpRejection> {
    let policy = Policy::jp_forwarding();
    let cmd = Issued::at(filed, apply("app-1", declared, deposit, None));
    match run(&policy, &[opened(&policy)], cmd).unwrap()[1].clone() {
        AccountEvent::TopUpRejected { reasons, .. } => reasons,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn rejected(id: &str, consecutive: u32, policy: &Policy) -> AccountEvent {
    let dep = march_deposit();
    let mut decl = declared(&dep);
    decl.payer_name = "TARO YAMADA".into();
    AccountEvent::TopUpRejected {
        application_id: cause(id),
        declared: decl,
        deposit: Some(dep),
        reasons: vec![TopUpRejection::PayerNameMismatch],
        filing_deadline: on(2026, 4, 10),
        consecutive_rejections: consecutive,
        rejected_on: on(2026, 3, 12),
        policy: policy.version(),
    }
}

/// An application that will be rejected (wrong payer name), filed 12 Mar 2026.
fn bad_application(id: &str) -> Issued<AccountCommand> {
    let dep = march_deposit();
    let mut decl = declared(&dep);
    decl.payer_name = "TARO YAMADA".into();
    issued(2026, 3, 12, apply(id, decl, Some(dep), None))
}

// rule ACC-2: date, bank, amount and payer name all match: approved and credited.
#[test]
fn acc_2_matching_application_is_approved_and_credited() {
    let policy = Policy::jp_forwarding();
    let dep = march_deposit();
    framework(policy.clone())
        .given(vec![opened(&policy)])
        .when(issued(
            2026,
            3,
            12,
            apply("app-1", declared(&dep), Some(dep.clone()), None),
        ))
        .then_expect_events(vec![AccountEvent::TopUpApproved {
            application_id: cause("app-1"),
            movement: Movement {
                amount: Money::jpy(30_000),
                reason: Reason::TopUp,
                cause: cause("dep-1"),
            },
            deposit: dep,
            paypal_fee: None,
            conversion: None,
            filing_deadline: on(2026, 4, 10),
            approved_on: on(2026, 3, 12),
            policy: policy.version(),
        }]);
}

// rule ACC-2: each of the four facts must match exactly; every reason is recorded.
#[test]
fn acc_2_each_mismatch_is_rejected_with_its_reason() {
    let dep = march_deposit();
    let filed = || at(2026, 3, 12);

    let mut d = declared(&dep);
    d.deposited_on = on(2026, 3, 9);
    assert_eq!(
        reasons(d, Some(dep.clone()), filed()),
        vec![TopUpRejection::DateMismatch]
    );

    let mut d = declared(&dep);
    d.bank = "Japan Post Bank".into();
    assert_eq!(
        reasons(d, Some(dep.clone()), filed()),
        vec![TopUpRejection::BankMismatch]
    );

    let mut d = declared(&dep);
    d.amount = Money::jpy(30_001);
    assert_eq!(
        reasons(d, Some(dep.clone()), filed()),
        vec![TopUpRejection::AmountMismatch]
    );

    // Same figure, other currency: not the same amount.
    let mut d = declared(&dep);
    d.amount = cny(dec!(30000));
    assert_eq!(
        reasons(d, Some(dep.clone()), filed()),
        vec![TopUpRejection::AmountMismatch]
    );

    // Exactly: no case folding, no trimming.
    for name in ["Yamada Taro", "YAMADA TARO ", "YAMADA  TARO"] {
        let mut d = declared(&dep);
        d.payer_name = name.into();
        assert_eq!(
            reasons(d, Some(dep.clone()), filed()),
            vec![TopUpRejection::PayerNameMismatch]
        );
    }

    let d = DeclaredDeposit {
        deposited_on: on(2026, 3, 11),
        bank: "GMO Aozora Net Bank".into(),
        amount: Money::jpy(3_000),
        payer_name: "YAMADA".into(),
    };
    assert_eq!(
        reasons(d, Some(dep.clone()), filed()),
        vec![
            TopUpRejection::DateMismatch,
            TopUpRejection::BankMismatch,
            TopUpRejection::AmountMismatch,
            TopUpRejection::PayerNameMismatch,
        ]
    );
    assert_eq!(
        TopUpRejection::PayerNameMismatch.code(),
        "top_up.payer_name_mismatch"
    );
}

// rule ACC-2: no deposit found at the bank: rejected.
#[test]
fn acc_2_application_without_deposit_is_rejected() {
    let dep = march_deposit();
    assert_eq!(
        reasons(declared(&dep), None, at(2026, 3, 12)),
        vec![TopUpRejection::NoDepositFound]
    );
}

// rule ACC-2: one bank per application: a payment split across two banks matches no single
// deposit and is rejected.
#[test]
fn acc_2_payment_split_across_banks_is_rejected() {
    // The member paid 10,000 at Rakuten Bank and 20,000 at Japan Post Bank, and declares 30,000.
    let rakuten_part = deposit("dep-1", on(2026, 3, 10), Money::jpy(10_000));
    let mut d = declared(&rakuten_part);
    d.amount = Money::jpy(30_000);
    assert_eq!(
        reasons(d.clone(), Some(rakuten_part), at(2026, 3, 12)),
        vec![TopUpRejection::AmountMismatch]
    );
    let mut post_part = deposit("dep-2", on(2026, 3, 10), Money::jpy(20_000));
    post_part.bank = "Japan Post Bank".into();
    assert_eq!(
        reasons(d, Some(post_part), at(2026, 3, 12)),
        vec![TopUpRejection::BankMismatch, TopUpRejection::AmountMismatch]
    );
}

// rule ACC-2: filed exactly one month after the deposit passes; one day later is rejected.
#[test]
fn acc_2_filed_one_month_after_passes_and_one_day_later_is_rejected() {
    let dep = march_deposit();
    assert_eq!(reasons_or_approved(&dep, at(2026, 4, 10)), None);
    assert_eq!(
        reasons_or_approved(&dep, at(2026, 4, 11)),
        Some(vec![TopUpRejection::FiledTooLate])
    );
}

// rule ACC-2 / TIM-1: a Jan 31 deposit may be applied for until Feb 28 (Feb 29 in 2028).
#[test]
fn acc_2_jan_31_deposit_window_ends_on_the_last_day_of_february() {
    let dep = deposit("dep-1", on(2026, 1, 31), Money::jpy(5_000));
    assert_eq!(top_up_filing_deadline(on(2026, 1, 31), 1), on(2026, 2, 28));
    assert_eq!(reasons_or_approved(&dep, at(2026, 2, 28)), None);
    assert_eq!(
        reasons_or_approved(&dep, at(2026, 3, 1)),
        Some(vec![TopUpRejection::FiledTooLate])
    );
    let leap = deposit("dep-1", on(2028, 1, 31), Money::jpy(5_000));
    assert_eq!(reasons_or_approved(&leap, at(2028, 2, 29)), None);
    assert_eq!(
        reasons_or_approved(&leap, at(2028, 3, 1)),
        Some(vec![TopUpRejection::FiledTooLate])
    );
}

// rule ACC-2: the window counts from the bank's date, whatever the member declared.
#[test]
fn acc_2_window_counts_from_the_actual_deposit_date() {
    let dep = march_deposit();
    let mut d = declared(&dep);
    d.deposited_on = on(2026, 3, 20);
    assert_eq!(
        reasons(d, Some(dep), at(2026, 4, 15)),
        vec![TopUpRejection::DateMismatch, TopUpRejection::FiledTooLate]
    );
}

/// Applies for `dep` (declared exactly) on `filed`, after `history`; the decision's events.
fn decide_top_up(
    policy: &Policy,
    history: &[AccountEvent],
    id: &str,
    dep: &BankDeposit,
    filed: DateTime<Utc>,
) -> Vec<AccountEvent> {
    let cmd = Issued::at(filed, apply(id, declared(dep), Some(dep.clone()), None));
    run(policy, history, cmd).unwrap()[history.len()..].to_vec()
}

// rule ACC-2: a late application is the operator's policy decision. cn-agency (seed 001:
// rejected when lateness repeats) approves a first late application and rejects the second
// late one in a row for lateness; an on-time application in between starts over;
// jp-forwarding rejects every late one; a policy that accepts lateness never rejects for it.
#[test]
fn acc_2_late_top_up_is_a_policy_decision() {
    let cn = Policy::cn_agency();
    let first = deposit("dep-1", on(2026, 3, 10), Money::cny(dec!(500)));
    let second = deposit("dep-2", on(2026, 3, 20), Money::cny(dec!(300)));
    let third = deposit("dep-3", on(2026, 5, 1), Money::cny(dec!(200)));
    // dep-1 is due by 10 Apr and filed 15 Apr: late, tolerated once.
    let history = vec![opened(&cn)];
    let approved = decide_top_up(&cn, &history, "app-1", &first, at(2026, 4, 15));
    assert!(
        matches!(&approved[..], [AccountEvent::TopUpApproved { filing_deadline, approved_on, .. }]
            if *filing_deadline == on(2026, 4, 10) && *approved_on == on(2026, 4, 15)),
        "{approved:?}"
    );
    // dep-2, due by 20 Apr, filed 25 Apr: late again, in a row: rejected for lateness.
    let history = [history, approved].concat();
    let rejected = decide_top_up(&cn, &history, "app-2", &second, at(2026, 4, 25));
    assert!(
        matches!(&rejected[..], [AccountEvent::TopUpRejected { reasons, .. }]
            if *reasons == [TopUpRejection::FiledTooLate]),
        "{rejected:?}"
    );
    // An on-time application breaks the run: the next late one (dep-2 filed again) is
    // tolerated again.
    let history = [history, rejected].concat();
    let on_time = decide_top_up(&cn, &history, "app-3", &third, at(2026, 5, 2));
    let history = [history, on_time].concat();
    let late_again = decide_top_up(&cn, &history, "app-4", &second, at(2026, 5, 3));
    assert!(matches!(
        &late_again[..],
        [AccountEvent::TopUpApproved { .. }]
    ));

    // jp-forwarding: the first late application is already rejected.
    let jp = Policy::jp_forwarding();
    let yen = march_deposit();
    let events = decide_top_up(&jp, &[opened(&jp)], "app-1", &yen, at(2026, 4, 11));
    assert!(matches!(
        &events[..],
        [AccountEvent::TopUpRejected { reasons, .. }] if *reasons == [TopUpRejection::FiledTooLate]
    ));
    // A policy accepting lateness approves it.
    let text = include_str!("../policies/jp-forwarding.toml").replace(
        r#"late_top_up = { decision = "reject","#,
        r#"late_top_up = { decision = "accept","#,
    );
    let accepting = Policy::from_toml(&text).unwrap();
    let events = decide_top_up(
        &accepting,
        &[opened(&accepting)],
        "app-1",
        &yen,
        at(2026, 6, 1),
    );
    assert!(matches!(&events[..], [AccountEvent::TopUpApproved { .. }]));
}

// rule ACC-3 / ACC-2: a rejection for lateness alone does not count toward the three strikes
// (nor break the streak) unless the policy says so; lateness with a mismatch counts.
#[test]
fn acc_3_rejection_for_lateness_alone_counts_only_if_the_policy_says_so() {
    let jp = Policy::jp_forwarding();
    let two = vec![
        opened(&jp),
        rejected("app-1", 1, &jp),
        rejected("app-2", 2, &jp),
    ];
    let yen = march_deposit();
    // Filed 11 Apr, a day late, every fact matching: rejected, the streak stays at 2.
    let events = decide_top_up(&jp, &two, "app-3", &yen, at(2026, 4, 11));
    assert!(
        matches!(&events[..], [AccountEvent::TopUpRejected { consecutive_rejections: 2, reasons, .. }]
            if *reasons == [TopUpRejection::FiledTooLate]),
        "{events:?}"
    );
    let three = [two.clone(), events].concat();
    assert_eq!(replay(&three).consecutive_rejected_top_ups(), 2);
    // The next mismatch is the third strike.
    let events = run(&jp, &three, bad_application("app-4")).unwrap();
    assert!(matches!(
        events.last(),
        Some(AccountEvent::TopUpRejectionLimitReached {
            consecutive_rejections: 3,
            ..
        })
    ));
    // Late and mismatched: counts.
    let mut wrong = declared(&yen);
    wrong.payer_name = "TARO YAMADA".into();
    let cmd = Issued::at(
        at(2026, 4, 11),
        apply("app-3", wrong, Some(yen.clone()), None),
    );
    assert!(matches!(
        run(&jp, &two, cmd).unwrap().last(),
        Some(AccountEvent::TopUpRejectionLimitReached { .. })
    ));
    // A policy counting lateness: the late application is the third strike.
    let text = include_str!("../policies/jp-forwarding.toml").replace(
        "counts_toward_suspension = false",
        "counts_toward_suspension = true",
    );
    let counting = Policy::from_toml(&text).unwrap();
    let two = vec![
        opened(&counting),
        rejected("app-1", 1, &counting),
        rejected("app-2", 2, &counting),
    ];
    let events = decide_top_up(&counting, &two, "app-3", &yen, at(2026, 4, 11));
    assert!(matches!(
        &events[..],
        [
            AccountEvent::TopUpRejected {
                consecutive_rejections: 3,
                ..
            },
            AccountEvent::TopUpRejectionLimitReached { .. }
        ]
    ));
}

/// `None` when approved, else the rejection reasons (jp-forwarding).
fn reasons_or_approved(dep: &BankDeposit, filed: DateTime<Utc>) -> Option<Vec<TopUpRejection>> {
    let policy = Policy::jp_forwarding();
    let cmd = Issued::at(
        filed,
        apply("app-1", declared(dep), Some(dep.clone()), None),
    );
    match run(&policy, &[opened(&policy)], cmd).unwrap()[1].clone() {
        AccountEvent::TopUpApproved { .. } => None,
        AccountEvent::TopUpRejected { reasons, .. } => Some(reasons),
        other => panic!("unexpected {other:?}"),
    }
}

// rule ACC-2: a deposit is credited once; filing it again is rejected.
#[test]
fn acc_2_deposit_already_credited_is_rejected() {
    let policy = Policy::jp_forwarding();
    let dep = march_deposit();
    let events = run(
        &policy,
        &[opened(&policy)],
        issued(
            2026,
            3,
            12,
            apply("app-1", declared(&dep), Some(dep.clone()), None),
        ),
    )
    .unwrap();
    let events = run(
        &policy,
        &events,
        issued(
            2026,
            3,
            13,
            apply("app-2", declared(&dep), Some(dep.clone()), None),
        ),
    )
    .unwrap();
    assert!(matches!(
        &events[2],
        AccountEvent::TopUpRejected { reasons, .. } if reasons == &vec![TopUpRejection::DepositAlreadyApplied]
    ));
    assert_eq!(balance_after(&events), Money::jpy(30_000));
}

// rule ACC-2: an application is decided once (a retried command is refused, not re-counted).
#[test]
fn acc_2_application_is_decided_once() {
    let policy = Policy::jp_forwarding();
    let events = run(&policy, &[opened(&policy)], bad_application("app-1")).unwrap();
    let err = run(&policy, &events, bad_application("app-1")).unwrap_err();
    assert_eq!(
        err,
        AccountError::ApplicationAlreadyDecided {
            application: cause("app-1")
        }
    );
    assert_refusal(
        &err,
        "account.application_already_decided",
        Some(Rule::Acc2),
    );
}

// rule ACC-3: the third rejection in a row reaches the limit and says which member to suspend.
#[test]
fn acc_3_third_consecutive_rejection_reaches_the_suspension_limit() {
    for policy in [Policy::jp_forwarding(), Policy::cn_agency()] {
        framework(policy.clone())
            .given(vec![
                opened(&policy),
                rejected("app-1", 1, &policy),
                rejected("app-2", 2, &policy),
            ])
            .when(bad_application("app-3"))
            .then_expect_events(vec![
                rejected("app-3", 3, &policy),
                AccountEvent::TopUpRejectionLimitReached {
                    member_id: member(),
                    consecutive_rejections: 3,
                    limit: 3,
                    policy: policy.version(),
                },
            ]);
    }
}

// rule ACC-3: two rejections in a row do not.
#[test]
fn acc_3_second_consecutive_rejection_does_not_reach_the_limit() {
    let policy = Policy::cn_agency();
    framework(policy.clone())
        .given(vec![opened(&policy), rejected("app-1", 1, &policy)])
        .when(bad_application("app-2"))
        .then_expect_events(vec![rejected("app-2", 2, &policy)]);
}

// rule ACC-3: an approval resets the count.
#[test]
fn acc_3_approval_resets_the_count() {
    let policy = Policy::jp_forwarding();
    let given = vec![
        opened(&policy),
        rejected("app-1", 1, &policy),
        rejected("app-2", 2, &policy),
        topped_up(&policy, 3, Money::jpy(1_000), on(2026, 3, 11)),
    ];
    assert_eq!(replay(&given[..3]).consecutive_rejected_top_ups(), 2);
    assert_eq!(replay(&given).consecutive_rejected_top_ups(), 0);
    framework(policy.clone())
        .given(given)
        .when(bad_application("app-4"))
        .then_expect_events(vec![rejected("app-4", 1, &policy)]);
}

// rule ACC-3: after the limit is reached (and the member suspended) a new streak starts.
#[test]
fn acc_3_streak_starts_again_after_the_limit() {
    let policy = Policy::jp_forwarding();
    let mut events = vec![opened(&policy)];
    for n in 1..=3 {
        events = run(&policy, &events, bad_application(&format!("app-{n}"))).unwrap();
    }
    let limits = events
        .iter()
        .filter(|e| matches!(e, AccountEvent::TopUpRejectionLimitReached { .. }))
        .count();
    assert_eq!(limits, 1);
    assert_eq!(replay(&events).consecutive_rejected_top_ups(), 0);
    let next = run(&policy, &events, bad_application("app-4")).unwrap();
    assert!(matches!(
        next.last(),
        Some(AccountEvent::TopUpRejected {
            consecutive_rejections: 1,
            ..
        })
    ));
}

// rule ACC-3: the limit is the policy's setting, not a number in code.
#[test]
fn acc_3_limit_comes_from_the_policy() {
    let text = include_str!("../policies/cn-agency.toml").replace(
        "rejected_top_ups_before_suspension = 3",
        "rejected_top_ups_before_suspension = 2",
    );
    let policy = Policy::from_toml(&text).unwrap();
    let events = run(
        &policy,
        &[opened(&policy), rejected("app-1", 1, &policy)],
        bad_application("app-2"),
    )
    .unwrap();
    assert!(matches!(
        events.last(),
        Some(AccountEvent::TopUpRejectionLimitReached {
            consecutive_rejections: 2,
            limit: 2,
            ..
        })
    ));
}

// rule MON-3 / MON-2 / MON-1: a yen deposit on a yuan account is converted at the reference
// rate + 1.00, the credit rounded down to the fen, and the conversion recorded in the event.
#[test]
fn mon_3_yen_top_up_on_yuan_account_converts_at_the_charging_rate() {
    let policy = Policy::cn_agency();
    let dep = deposit("dep-1", on(2026, 3, 10), Money::jpy(10_000));
    let rate = cny_jpy(dec!(20.85), on(2026, 3, 12));
    framework(policy.clone())
        .given(vec![opened(&policy)])
        .when(issued(
            2026,
            3,
            12,
            apply(
                "app-1",
                declared(&dep),
                Some(dep.clone()),
                Some(rate.clone()),
            ),
        ))
        .then_expect_events(vec![AccountEvent::TopUpApproved {
            application_id: cause("app-1"),
            // 10,000 / 21.85 = 457.6659... -> 457.66 (down: owed to the member)
            movement: Movement {
                amount: cny(dec!(457.66)),
                reason: Reason::TopUp,
                cause: cause("dep-1"),
            },
            deposit: dep,
            paypal_fee: None,
            conversion: Some(Conversion {
                from: Money::jpy(10_000),
                to: cny(dec!(457.66)),
                applied_rate: dec!(21.85),
                reference: vec![rate],
                markup: dec!(1.00),
                purpose: ConversionPurpose::Charge,
                rounding: Rounding::Down,
            }),
            filing_deadline: on(2026, 4, 10),
            approved_on: on(2026, 3, 12),
            policy: policy.version(),
        }]);
}

// rule MON-2: a top-up needing a conversion without a rate is refused (and not counted as a
// rejection of the member's application).
#[test]
fn mon_2_yen_top_up_on_yuan_account_needs_a_rate() {
    let policy = Policy::cn_agency();
    let dep = deposit("dep-1", on(2026, 3, 10), Money::jpy(10_000));
    let err = run(
        &policy,
        &[opened(&policy)],
        issued(
            2026,
            3,
            12,
            apply("app-1", declared(&dep), Some(dep.clone()), None),
        ),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AccountError::ExchangeRateMissing {
            from: Currency::Jpy,
            to: Currency::Cny
        }
    );
    // A rate for the wrong pair is unusable.
    let wrong = ExchangeRate {
        base: Currency::Jpy,
        quote: Currency::Jpy,
        rate: dec!(1),
        source: "nonsense".into(),
        valid_on: on(2026, 3, 12),
    };
    let err = run(
        &policy,
        &[opened(&policy)],
        issued(
            2026,
            3,
            12,
            apply("app-1", declared(&dep), Some(dep), Some(wrong)),
        ),
    )
    .unwrap_err();
    assert!(matches!(err, AccountError::ExchangeRateUnusable(_)));
    assert_refusal(&err, "account.exchange_rate_unusable", Some(Rule::Mon2));
}

// rule MON-2: a conversion is made only at the rate recorded for the day it is applied: a
// yen top-up approved on 12 Mar with the rate of 11 Mar is refused with the rule, and so is
// a charge (debit) in yen with a stale rate; the rate of the day converts.
#[test]
fn mon_2_conversion_at_a_stale_rate_is_refused() {
    let policy = Policy::cn_agency();
    let dep = deposit("dep-1", on(2026, 3, 10), Money::jpy(10_000));
    let top_up = |rate| {
        run(
            &policy,
            &[opened(&policy)],
            issued(
                2026,
                3,
                12,
                apply("app-1", declared(&dep), Some(dep.clone()), Some(rate)),
            ),
        )
    };
    let err = top_up(cny_jpy(dec!(20.85), on(2026, 3, 11))).unwrap_err();
    assert_eq!(
        err,
        AccountError::ExchangeRateStale {
            valid_on: on(2026, 3, 11),
            applied_on: on(2026, 3, 12),
        }
    );
    assert_refusal(&err, "account.exchange_rate_stale", Some(Rule::Mon2));
    let events = top_up(cny_jpy(dec!(20.85), on(2026, 3, 12))).unwrap();

    let debit = |rate| {
        run(
            &policy,
            &events,
            issued(
                2026,
                3,
                13,
                AccountCommand::Debit {
                    reason: domain::account::DebitReason::ShipmentPayment,
                    cause: cause("shp-1"),
                    amount: Money::jpy(1_000),
                    period: None,
                    rate: Some(rate),
                },
            ),
        )
    };
    assert_refusal(
        &debit(cny_jpy(dec!(20.85), on(2026, 3, 12))).unwrap_err(),
        "account.exchange_rate_stale",
        Some(Rule::Mon2),
    );
    assert!(debit(cny_jpy(dec!(20.85), on(2026, 3, 13))).is_ok());
}

/// The credit and the PayPal fee of an approved top-up.
fn credit_and_fee(events: &[AccountEvent]) -> (Money, Option<PaypalFee>) {
    match events.last() {
        Some(AccountEvent::TopUpApproved {
            movement,
            paypal_fee,
            ..
        }) => (movement.amount, paypal_fee.as_deref().cloned()),
        other => panic!("expected an approval, got {other:?}"),
    }
}

// rule ACC-5 (seed 001: PayPal決済…の決済手数料(3.6%+40円)はユーザー様負担): a top-up received
// through PayPal is credited less PayPal's fee, recorded on the approval; a bank deposit of the
// same amount is credited whole.
#[test]
fn acc_5_paypal_top_up_is_credited_less_the_fee() {
    let policy = Policy::jp_forwarding();
    let mut dep = march_deposit();
    dep.bank = policy.account.paypal_institution.clone();
    let events = run(
        &policy,
        &[opened(&policy)],
        issued(
            2026,
            3,
            12,
            apply("app-1", declared(&dep), Some(dep.clone()), None),
        ),
    )
    .unwrap();
    // 30,000 × 3.6% = 1,080; + 40 = 1,120.
    assert_eq!(
        credit_and_fee(&events),
        (
            Money::jpy(28_880),
            Some(PaypalFee {
                base: Money::jpy(30_000),
                percent: dec!(3.6),
                fixed: Money::jpy(40),
                conversion: None,
                fee: Money::jpy(1_120),
            })
        )
    );
    assert_eq!(balance_after(&events), Money::jpy(28_880));

    let bank = march_deposit();
    let events = run(
        &policy,
        &[opened(&policy)],
        issued(
            2026,
            3,
            12,
            apply("app-1", declared(&bank), Some(bank.clone()), None),
        ),
    )
    .unwrap();
    assert_eq!(credit_and_fee(&events), (Money::jpy(30_000), None));
}

// rule ACC-5 / MON-3: on a yuan account, a yen PayPal top-up is credited less the fee in yen,
// what remains converted at the charging rate and rounded down.
#[test]
fn acc_5_paypal_top_up_on_a_yuan_account() {
    let policy = Policy::cn_agency();
    let mut dep = deposit("dep-1", on(2026, 3, 10), Money::jpy(10_000));
    dep.bank = policy.account.paypal_institution.clone();
    let rate = cny_jpy(dec!(20.85), on(2026, 3, 12));
    let events = run(
        &policy,
        &[opened(&policy)],
        issued(
            2026,
            3,
            12,
            apply("app-1", declared(&dep), Some(dep.clone()), Some(rate)),
        ),
    )
    .unwrap();
    // Fee 10,000 × 3.6% + 40 = 400 JPY; 9,600 / 21.85 = 439.359... -> 439.35 CNY.
    let (credit, fee) = credit_and_fee(&events);
    assert_eq!(credit, cny(dec!(439.35)));
    assert_eq!(fee.map(|f| f.fee), Some(Money::jpy(400)));
    let Some(AccountEvent::TopUpApproved {
        conversion: Some(conversion),
        ..
    }) = events.last()
    else {
        panic!("expected a converted approval");
    };
    assert_eq!(conversion.from, Money::jpy(9_600));
}
