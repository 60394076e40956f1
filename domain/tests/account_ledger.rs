//! ChargeAccount: opening, the ledger invariant (ACC-1), amounts (MON-1) and the lifecycle.

#[path = "account_support.rs"]
mod support;

use domain::account::{
    sum_of_movements, AccountCommand, AccountError, AccountEvent, ChargeAccount, CreditReason,
    DebitKind, DebitReason, DisposalCause, Movement, Reason, RefundRates,
};
use domain::ids::{AccountId, CauseId};
use domain::money::{Currency, Money};
use domain::{Policy, Rule};
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use support::*;

fn open_cmd() -> AccountCommand {
    AccountCommand::Open {
        account_id: AccountId::parse("acc-1").unwrap(),
        member_id: member(),
    }
}

// rule POL-2: the account opens in the profile's billing currency.
#[test]
fn pol_2_account_opens_in_the_billing_currency_of_each_profile() {
    for policy in [Policy::jp_forwarding(), Policy::cn_agency()] {
        let expected = opened(&policy);
        framework(policy.clone())
            .given_no_previous_events()
            .when(issued(2026, 1, 5, open_cmd()))
            .then_expect_events(vec![expected]);
    }
    assert_eq!(
        replay(&[opened(&Policy::cn_agency())]).currency(),
        Some(Currency::Cny)
    );
    assert_eq!(
        replay(&[opened(&Policy::jp_forwarding())]).balance(),
        Some(Money::jpy(0))
    );
}

#[test]
fn lifecycle_refusals_before_opening_and_twice_opened() {
    let policy = Policy::jp_forwarding();
    let err = run(
        &policy,
        &[],
        issued(
            2026,
            1,
            5,
            AccountCommand::ScheduleRefund {
                request: cause("wd-1"),
                requested_on: on(2026, 1, 5),
            },
        ),
    )
    .unwrap_err();
    assert_eq!(err, AccountError::NotOpened);
    assert_refusal(&err, "account.not_opened", None);

    let err = run(&policy, &[opened(&policy)], issued(2026, 1, 6, open_cmd())).unwrap_err();
    assert_eq!(err, AccountError::AlreadyOpened);
    assert_refusal(&err, "account.already_opened", None);
}

// rule ACC-1: a movement records its signed amount, currency, reason code and cause.
#[test]
fn acc_1_every_movement_records_amount_currency_reason_and_cause() {
    let policy = Policy::jp_forwarding();
    framework(policy.clone())
        .given(vec![
            opened(&policy),
            topped_up(&policy, 1, Money::jpy(10_000), on(2026, 1, 6)),
        ])
        .when(issued(
            2026,
            1,
            7,
            AccountCommand::Debit {
                reason: DebitReason::ShipmentPayment,
                cause: cause("shp-1"),
                amount: Money::jpy(3_000),
                period: None,
                rate: None,
            },
        ))
        .then_expect_events(vec![AccountEvent::Debited {
            movement: Movement {
                amount: Money::jpy(-3_000),
                reason: Reason::ShipmentPayment,
                cause: cause("shp-1"),
            },
            kind: DebitKind::Regular,
            period: None,
            conversion: None,
            rule: Rule::Pay1,
            policy: policy.version(),
        }]);
    // The reason code is a stable snake_case string for the billing view.
    assert_eq!(
        serde_json::to_string(&Reason::WithdrawalDisposalFee).unwrap(),
        "\"withdrawal_disposal_fee\""
    );
}

// rule ACC-1: the balance is the sum of the movements, and the check sees a tampered history.
#[test]
fn acc_1_balance_is_the_sum_of_movements() {
    let policy = Policy::cn_agency();
    let mut events = vec![
        opened(&policy),
        topped_up(&policy, 1, cny(dec!(500)), on(2026, 1, 6)),
    ];
    events = run(
        &policy,
        &events,
        issued(
            2026,
            1,
            7,
            AccountCommand::Credit {
                reason: CreditReason::ClaimPayout,
                cause: cause("clm-1"),
                amount: cny(dec!(80.50)),
                rate: None,
            },
        ),
    )
    .unwrap();
    events = run(
        &policy,
        &events,
        issued(
            2026,
            1,
            8,
            AccountCommand::ChargeDisposalFee {
                parcel: cause("par-1"),
                disposal: DisposalCause::Prohibited,
                fee: Policy::cn_agency().disposal.fee_per_parcel,
            },
        ),
    )
    .unwrap();
    let account = replay(&events);
    // 500 + 80.50 - 5 (cn-agency disposal fee)
    assert_eq!(account.balance(), Some(cny(dec!(575.50))));
    assert_eq!(
        sum_of_movements(Currency::Cny, &events),
        Ok(cny(dec!(575.50)))
    );
    assert!(account.balance_matches(&events));
    // Drop one movement from the history: the check fails.
    assert!(!account.balance_matches(&events[..events.len() - 1]));
    assert!(ChargeAccount::default().balance_matches(&[]));
}

// rule ACC-1: a credit is made once per reason and cause (a claim is paid once).
#[test]
fn acc_1_a_claim_payout_is_credited_once() {
    let policy = Policy::cn_agency();
    let payout = || {
        issued(
            2026,
            2,
            1,
            AccountCommand::Credit {
                reason: CreditReason::ClaimPayout,
                cause: cause("clm-1"),
                amount: cny(dec!(100)),
                rate: None,
            },
        )
    };
    let events = run(&policy, &[opened(&policy)], payout()).unwrap();
    assert_eq!(balance_after(&events), cny(dec!(100)));
    let err = run(&policy, &events, payout()).unwrap_err();
    assert_eq!(
        err,
        AccountError::DuplicateCredit {
            reason: Reason::ClaimPayout,
            cause: cause("clm-1")
        }
    );
    assert_refusal(&err, "account.duplicate_credit", Some(Rule::Acc1));
}

// rule ACC-1: a movement needs a positive amount.
#[test]
fn acc_1_zero_and_negative_amounts_are_refused() {
    let policy = Policy::jp_forwarding();
    for amount in [Money::jpy(0), Money::jpy(-100)] {
        let err = run(
            &policy,
            &[opened(&policy)],
            issued(
                2026,
                2,
                1,
                AccountCommand::Debit {
                    reason: DebitReason::StorageFee,
                    cause: cause("par-1"),
                    amount,
                    period: None,
                    rate: None,
                },
            ),
        )
        .unwrap_err();
        assert_eq!(err, AccountError::NonPositiveAmount { amount });
        assert_refusal(&err, "account.non_positive_amount", Some(Rule::Acc1));
    }
}

// rule MON-1: amounts are whole units of their currency; fractions are refused, not rounded.
#[test]
fn mon_1_fractions_of_the_smallest_unit_are_refused() {
    let jp = Policy::jp_forwarding();
    let cn = Policy::cn_agency();
    let debit = |amount| AccountCommand::Debit {
        reason: DebitReason::InspectionFee,
        cause: cause("par-1"),
        amount,
        period: None,
        rate: None,
    };
    let err = run(
        &jp,
        &[opened(&jp)],
        issued(2026, 2, 1, debit(Money::new(dec!(100.5), Currency::Jpy))),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AccountError::AmountPrecision {
            amount: Money::new(dec!(100.5), Currency::Jpy)
        }
    );
    assert_refusal(&err, "account.amount_precision", Some(Rule::Mon1));
    assert!(run(
        &cn,
        &[opened(&cn)],
        issued(2026, 2, 1, debit(cny(dec!(10.005))))
    )
    .is_err());
    // 10.01 CNY and 10.010 CNY are whole fen.
    assert!(run(
        &cn,
        &[opened(&cn)],
        issued(2026, 2, 1, debit(cny(dec!(10.010))))
    )
    .is_ok());
}

// rule MON-2: an amount in another currency needs a rate; an unusable rate is refused.
#[test]
fn mon_2_conversions_need_a_usable_recorded_rate() {
    let cn = Policy::cn_agency();
    let debit = |rate| AccountCommand::Debit {
        reason: DebitReason::InspectionFee,
        cause: cause("par-1"),
        amount: Money::jpy(1_000),
        period: None,
        rate,
    };
    let err = run(&cn, &[opened(&cn)], issued(2026, 2, 1, debit(None))).unwrap_err();
    assert_eq!(
        err,
        AccountError::ExchangeRateMissing {
            from: Currency::Jpy,
            to: Currency::Cny
        }
    );
    assert_refusal(&err, "account.exchange_rate_missing", Some(Rule::Mon2));

    let broken = cny_jpy(dec!(-3), on(2026, 2, 1));
    let err = run(&cn, &[opened(&cn)], issued(2026, 2, 1, debit(Some(broken)))).unwrap_err();
    assert_eq!(
        err,
        AccountError::ExchangeRateUnusable(domain::exchange::ConversionError::NonPositiveRate)
    );
    assert_refusal(&err, "account.exchange_rate_unusable", Some(Rule::Mon2));
}

// rule MON-2: sale proceeds in a currency other than the account's are refused.
#[test]
fn mon_2_sale_proceeds_in_another_currency_are_refused() {
    let jp = Policy::jp_forwarding();
    let err = run(
        &jp,
        &[opened(&jp)],
        issued(
            2026,
            2,
            1,
            AccountCommand::CreditSaleProceeds {
                parcel: cause("par-1"),
                gross: cny(dec!(100)),
                costs: Money::jpy(0),
            },
        ),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AccountError::CurrencyMismatch {
            expected: Currency::Jpy,
            amount: cny(dec!(100))
        }
    );
    assert_refusal(&err, "account.currency_mismatch", Some(Rule::Mon2));
}

// rule ACC-7: a closed account moves no more money.
#[test]
fn acc_7_closed_account_refuses_everything() {
    let policy = Policy::jp_forwarding();
    let mut events = vec![
        opened(&policy),
        topped_up(&policy, 1, Money::jpy(1_000), on(2026, 1, 6)),
    ];
    events = run(
        &policy,
        &events,
        issued(
            2026,
            1,
            10,
            AccountCommand::ScheduleRefund {
                request: cause("wd-1"),
                requested_on: on(2026, 1, 10),
            },
        ),
    )
    .unwrap();
    events = run(
        &policy,
        &events,
        issued(
            2026,
            3,
            31,
            AccountCommand::PayRefund {
                payout_currency: Currency::Jpy,
                rates: None,
            },
        ),
    )
    .unwrap();
    assert!(replay(&events).is_closed());
    let err = run(
        &policy,
        &events,
        issued(
            2026,
            4,
            1,
            AccountCommand::ChargeDisposalFee {
                parcel: cause("par-9"),
                disposal: DisposalCause::Unpaid,
                fee: Policy::cn_agency().disposal.fee_per_parcel,
            },
        ),
    )
    .unwrap_err();
    assert_eq!(err, AccountError::Closed);
    assert_refusal(&err, "account.closed", Some(Rule::Acc7));
}

// ---------------------------------------------------------------- property: ACC-1

/// One step of a random history. Small id spaces make duplicates and repeats likely.
#[derive(Debug, Clone)]
enum Op {
    TopUp { units: u32, matching: bool },
    Pay { units: u32, shipment: u8 },
    Storage { units: u32, parcel: u8, month: u8 },
    Dispose { parcel: u8, items: Option<u8> },
    Claim { units: u32, claim: u8 },
    Sale { gross: u32, costs: u32, parcel: u8 },
    Interest { units: u32, item: u8 },
    AdvanceDuty { shipment: u8, duty: Option<u32> },
    BillDuty { shipment: u8, duty: u32 },
    Withdraw,
    Refund,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1u32..40_000, any::<bool>()).prop_map(|(units, matching)| Op::TopUp { units, matching }),
        3 => (1u32..20_000, 0u8..4).prop_map(|(units, shipment)| Op::Pay { units, shipment }),
        2 => (1u32..2_000, 0u8..3, 1u8..4).prop_map(|(units, parcel, month)| Op::Storage { units, parcel, month }),
        1 => (0u8..4, proptest::option::of(0u8..6)).prop_map(|(parcel, items)| Op::Dispose { parcel, items }),
        1 => (1u32..5_000, 0u8..3).prop_map(|(units, claim)| Op::Claim { units, claim }),
        1 => (1u32..5_000, 0u32..5_000, 0u8..4).prop_map(|(gross, costs, parcel)| Op::Sale { gross, costs, parcel }),
        1 => (1u32..50_000, 0u8..2).prop_map(|(units, item)| Op::Interest { units, item }),
        1 => (0u8..3, proptest::option::of(1u32..30_000)).prop_map(|(shipment, duty)| Op::AdvanceDuty { shipment, duty }),
        1 => (0u8..3, 1u32..30_000).prop_map(|(shipment, duty)| Op::BillDuty { shipment, duty }),
        1 => Just(Op::Withdraw),
        1 => Just(Op::Refund),
    ]
}

/// The command for `op` on day `day` of the history, in `policy`'s currency. `units` are
/// yen, or fen on a yuan account.
fn command(
    op: &Op,
    policy: &Policy,
    today: chrono::NaiveDate,
    last_top_up: Option<chrono::NaiveDate>,
) -> AccountCommand {
    let ccy = policy.billing_currency;
    let money = |units: u32| match ccy {
        Currency::Jpy => Money::jpy(i64::from(units)),
        Currency::Cny => cny(Decimal::new(i64::from(units), 2)),
    };
    let rate = Some(cny_jpy(dec!(20.85), today));
    match op {
        Op::TopUp { units, matching } => {
            // cn-agency members pay yen into the agency's Japanese bank: converted (MON-3).
            let dep = deposit(
                &format!("dep-{}", today),
                today,
                Money::jpy(i64::from(*units)),
            );
            let mut decl = declared(&dep);
            if !matching {
                decl.payer_name = "SOMEONE ELSE".into();
            }
            AccountCommand::ApplyForTopUp {
                application_id: cause(&format!("app-{}", today)),
                declared: decl,
                deposit: Some(dep),
                rate,
            }
        }
        Op::Pay { units, shipment } => AccountCommand::Debit {
            reason: DebitReason::ShipmentPayment,
            cause: cause(&format!("shp-{shipment}")),
            amount: money(*units),
            period: None,
            rate: None,
        },
        Op::Storage {
            units,
            parcel,
            month,
        } => {
            let from = on(2026, u32::from(*month), 1);
            AccountCommand::Debit {
                reason: DebitReason::StorageFee,
                cause: cause(&format!("par-{parcel}")),
                amount: money(*units),
                period: domain::account::Period::new(
                    from,
                    domain::calendar::last_day_of_month(from),
                ),
                rate: None,
            }
        }
        Op::Dispose { parcel, items } => AccountCommand::ChargeDisposalFee {
            parcel: cause(&format!("par-{parcel}")),
            disposal: match items {
                Some(items) => DisposalCause::LeftAtWithdrawal {
                    items: u32::from(*items),
                },
                None => DisposalCause::PastMaxStorage,
            },
            // The fee the parcel records (parcel.disposed).
            fee: match items {
                Some(items) => policy
                    .member
                    .withdrawal_disposal_fee_per_item
                    .times(Decimal::from(*items)),
                None => policy.disposal.fee_per_parcel,
            },
        },
        Op::Claim { units, claim } => AccountCommand::Credit {
            reason: CreditReason::ClaimPayout,
            cause: cause(&format!("clm-{claim}")),
            amount: money(*units),
            rate: None,
        },
        Op::Sale {
            gross,
            costs,
            parcel,
        } => AccountCommand::CreditSaleProceeds {
            parcel: cause(&format!("par-{parcel}")),
            gross: money(*gross),
            costs: money(*costs),
        },
        Op::Interest { units, item } => AccountCommand::AccrueLateInterest {
            cause: cause(&format!("inv-{item}")),
            overdue: money(*units),
            due_on: on(2026, 1, 5),
            through: today,
        },
        Op::AdvanceDuty { shipment, duty } => AccountCommand::AdvanceDuty {
            shipment: cause(&format!("shp-{shipment}")),
            duty: duty.map(|d| Money::jpy(i64::from(d))),
            rate,
            sea_taxable_value: None,
        },
        Op::BillDuty { shipment, duty } => AccountCommand::BillAdvancedDuty {
            shipment: cause(&format!("shp-{shipment}")),
            duty: Money::jpy(i64::from(*duty)),
            rate,
        },
        Op::Withdraw => AccountCommand::ScheduleRefund {
            request: cause("wd-1"),
            requested_on: today,
        },
        Op::Refund => AccountCommand::PayRefund {
            payout_currency: Currency::Jpy,
            rates: Some(RefundRates {
                charge_month: cny_jpy(dec!(21.40), last_top_up.unwrap_or(today)),
                refund_month: cny_jpy(dec!(20.95), today),
            }),
        },
    }
}

fn check_history(policy: &Policy, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut account = ChargeAccount::default();
    let mut history: Vec<AccountEvent> = Vec::new();
    let mut last_top_up = None;
    let start = on(2026, 1, 5);
    let first = account
        .decide(
            issued(
                2026,
                1,
                5,
                AccountCommand::Open {
                    account_id: AccountId::parse("acc-1").unwrap(),
                    member_id: member(),
                },
            ),
            policy,
        )
        .unwrap();
    for e in first {
        account.evolve(e.clone());
        history.push(e);
    }
    for (i, op) in ops.iter().enumerate() {
        // Ten days apart, so refunds come due within a history.
        let today = domain::calendar::add_days(start, 10 * (i as u32 + 1));
        let cmd = command(op, policy, today, last_top_up);
        let at =
            chrono::TimeZone::from_utc_datetime(&chrono::Utc, &today.and_hms_opt(3, 0, 0).unwrap());
        if let Ok(events) = account.decide(domain::Issued::at(at, cmd), policy) {
            for e in events {
                if let AccountEvent::TopUpApproved { approved_on, .. } = &e {
                    last_top_up = Some(*approved_on);
                }
                let regular = matches!(
                    e,
                    AccountEvent::Debited {
                        kind: DebitKind::Regular,
                        ..
                    }
                );
                account.evolve(e.clone());
                history.push(e);
                // ACC-4: a regular debit never leaves the balance below zero.
                prop_assert!(!regular || !account.balance().unwrap().is_negative());
            }
        }
        // ACC-1: after every command, the balance is the sum of the movements recorded.
        let balance = account.balance().unwrap();
        prop_assert_eq!(
            Ok(balance),
            sum_of_movements(policy.billing_currency, &history)
        );
        prop_assert!(account.balance_matches(&history));
        prop_assert_eq!(balance.currency, policy.billing_currency);
    }
    // Replaying the history gives the same account.
    prop_assert_eq!(&replay(&history), &account);
    // No charge was debited twice.
    let mut keys: Vec<(Reason, CauseId)> = history
        .iter()
        .filter_map(|e| match e {
            AccountEvent::Debited {
                movement,
                period: None,
                ..
            } => Some((movement.reason, movement.cause.clone())),
            _ => None,
        })
        .collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    prop_assert_eq!(keys.len(), n);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    // rule ACC-1: over random command sequences, the balance always equals the sum of the
    // movement events emitted (both profiles, POL-2).
    #[test]
    fn acc_1_balance_always_equals_sum_of_movement_events(
        ops in proptest::collection::vec(op(), 1..40),
    ) {
        check_history(&Policy::jp_forwarding(), &ops)?;
        check_history(&Policy::cn_agency(), &ops)?;
    }
}

#[test]
fn acc_1_movement_of_non_money_events_is_none() {
    let policy = Policy::jp_forwarding();
    assert!(opened(&policy).movement().is_none());
    let t = topped_up(&policy, 1, Money::jpy(5), on(2026, 1, 6));
    assert_eq!(t.movement().map(|m| m.amount), Some(Money::jpy(5)));
}
