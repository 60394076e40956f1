//! Automatic closure (MEM-9): the cn-agency profile closes members whose balance stayed
//! negative for a month, who have not logged in for three months with a zero balance, or who
//! did not top up within a month of registering and hold nothing; jp-forwarding never does
//! (POL-2).

mod member_support;

use chrono::{NaiveDate, TimeZone, Utc};
use domain::facts::StandingStatus;
use domain::member::{
    auto_closure_conditions, auto_closure_due_on, AutoClosureCondition, AutoClosureFacts,
    BalanceSign, MemberCommand, MemberEvent, SuspensionCause,
};
use domain::money::Money;
use domain::{Issued, Policy};
use member_support::*;
use rust_decimal_macros::dec;

/// Taro Sato registered in cn-agency under QD-000042 on `on`.
fn registered_on(on: NaiveDate) -> MemberEvent {
    registered_with(&Policy::cn_agency(), "QD-000042", on)
}

fn evaluate(facts: AutoClosureFacts) -> MemberCommand {
    MemberCommand::EvaluateAutoClosure { facts }
}

fn facts(balance: BalanceSign, first_top_up_on: Option<NaiveDate>) -> AutoClosureFacts {
    AutoClosureFacts {
        balance,
        first_top_up_on,
    }
}

fn auto_closed(
    conditions: Vec<AutoClosureCondition>,
    facts: AutoClosureFacts,
    on: NaiveDate,
) -> MemberEvent {
    MemberEvent::AutoClosed {
        conditions,
        facts,
        closed_on: on,
        policy: Policy::cn_agency().version(),
    }
}

// rule MEM-9: the balance negative since 31 January has been negative for a month on
// 28 February (calendar month clamped), not on the 27th.
#[test]
fn mem_9_balance_negative_for_one_month_closes_the_member() {
    let given = || {
        vec![
            registered_on(d(2026, 1, 10)),
            MemberEvent::LoggedIn {
                at: noon(d(2026, 2, 20)),
            },
        ]
    };
    let negative = facts(
        BalanceSign::Negative {
            since: d(2026, 1, 31),
        },
        Some(d(2026, 1, 12)),
    );
    cn().given(given())
        .when(Issued::at(noon(d(2026, 2, 27)), evaluate(negative)))
        .then_expect_events(vec![]);
    cn().given(given())
        .when(Issued::at(noon(d(2026, 2, 28)), evaluate(negative)))
        .then_expect_events(vec![auto_closed(
            vec![AutoClosureCondition::NegativeBalance {
                negative_since: d(2026, 1, 31),
                reached_on: d(2026, 2, 28),
            }],
            negative,
            d(2026, 2, 28),
        )]);
}

// rule MEM-9: three months after the last login with a zero balance closes; a positive
// balance never does.
#[test]
fn mem_9_dormant_three_months_with_zero_balance_closes_the_member() {
    let given = || {
        vec![
            registered_on(d(2026, 1, 10)),
            MemberEvent::LoggedIn {
                at: noon(d(2026, 1, 31)),
            },
        ]
    };
    let zero = facts(BalanceSign::Zero, Some(d(2026, 1, 12)));
    cn().given(given())
        .when(Issued::at(noon(d(2026, 4, 29)), evaluate(zero)))
        .then_expect_events(vec![]);
    cn().given(given())
        .when(Issued::at(noon(d(2026, 4, 30)), evaluate(zero)))
        .then_expect_events(vec![auto_closed(
            vec![AutoClosureCondition::Dormant {
                last_login_on: d(2026, 1, 31),
                reached_on: d(2026, 4, 30),
            }],
            zero,
            d(2026, 4, 30),
        )]);
    cn().given(given())
        .when(Issued::at(
            noon(d(2027, 4, 30)),
            evaluate(facts(BalanceSign::Positive, Some(d(2026, 1, 12)))),
        ))
        .then_expect_events(vec![]);
}

// rule MEM-9: a member who never logged in after registering is dormant from the registration.
#[test]
fn mem_9_never_logged_in_counts_from_the_registration() {
    let zero = facts(BalanceSign::Zero, Some(d(2026, 1, 12)));
    cn().given(vec![registered_on(d(2026, 1, 10))])
        .when(Issued::at(noon(d(2026, 4, 10)), evaluate(zero)))
        .then_expect_events(vec![auto_closed(
            vec![AutoClosureCondition::Dormant {
                last_login_on: d(2026, 1, 10),
                reached_on: d(2026, 4, 10),
            }],
            zero,
            d(2026, 4, 10),
        )]);
}

// rule MEM-9: no top-up application within a month of registration: the anniversary day still
// counts (registered 31 January: up to 28 February), the condition holds from the next day.
#[test]
fn mem_9_no_top_up_within_one_month_of_registration_closes_the_member() {
    let given = || {
        vec![
            registered_on(d(2026, 1, 31)),
            MemberEvent::LoggedIn {
                at: noon(d(2026, 2, 27)),
            },
        ]
    };
    let never = facts(BalanceSign::Zero, None);
    cn().given(given())
        .when(Issued::at(noon(d(2026, 2, 28)), evaluate(never)))
        .then_expect_events(vec![]);
    cn().given(given())
        .when(Issued::at(noon(d(2026, 3, 1)), evaluate(never)))
        .then_expect_events(vec![auto_closed(
            vec![AutoClosureCondition::NoTopUp {
                registered_on: d(2026, 1, 31),
                deadline: d(2026, 2, 28),
            }],
            never,
            d(2026, 3, 1),
        )]);
    // A top-up on the last day counts; one the day after does not.
    cn().given(given())
        .when(Issued::at(
            noon(d(2026, 3, 1)),
            evaluate(facts(BalanceSign::Positive, Some(d(2026, 2, 28)))),
        ))
        .then_expect_events(vec![]);
    let late_and_spent = facts(BalanceSign::Zero, Some(d(2026, 3, 1)));
    cn().given(given())
        .when(Issued::at(noon(d(2026, 3, 2)), evaluate(late_and_spent)))
        .then_expect_events(vec![auto_closed(
            vec![AutoClosureCondition::NoTopUp {
                registered_on: d(2026, 1, 31),
                deadline: d(2026, 2, 28),
            }],
            late_and_spent,
            d(2026, 3, 2),
        )]);
}

// rule MEM-9: the no-top-up closure is for empty accounts (seed 001: 「残高0のため」). A member
// whose first top-up came a day late and who holds money is not closed, on any day after;
// once the money is spent down to zero, the condition holds.
#[test]
fn mem_9_a_late_first_top_up_with_money_left_does_not_close_the_member() {
    let given = || vec![registered_on(d(2026, 1, 31))];
    let late_with_money = facts(BalanceSign::Positive, Some(d(2026, 3, 1)));
    for on in [d(2026, 3, 2), d(2026, 6, 30), d(2027, 3, 1)] {
        cn().given(given())
            .when(Issued::at(noon(on), evaluate(late_with_money)))
            .then_expect_events(vec![]);
    }
    let policy = Policy::cn_agency().member.auto_closure.unwrap();
    assert!(auto_closure_conditions(
        &policy,
        d(2026, 1, 31),
        None,
        &late_with_money,
        d(2026, 3, 2)
    )
    .is_empty());
    assert_eq!(
        auto_closure_conditions(
            &policy,
            d(2026, 1, 31),
            Some(d(2026, 3, 2)),
            &facts(BalanceSign::Zero, Some(d(2026, 3, 1))),
            d(2026, 3, 2)
        ),
        vec![AutoClosureCondition::NoTopUp {
            registered_on: d(2026, 1, 31),
            deadline: d(2026, 2, 28),
        }]
    );
}

// rule MEM-9: jp-forwarding has no automatic closure: with every condition holding, nothing
// happens (POL-2); cn-agency records every condition that held. A zero balance never topped
// up and never logged into holds two; a negative one holds only its own (the no-top-up
// condition is for a zero balance).
#[test]
fn mem_9_jp_forwarding_never_closes_automatically_and_cn_agency_records_every_condition() {
    let given = || vec![registered_on(d(2026, 1, 10))];
    let empty = facts(BalanceSign::Zero, None);
    let negative = facts(
        BalanceSign::Negative {
            since: d(2026, 1, 11),
        },
        None,
    );
    for everything in [empty, negative] {
        jp().given(given())
            .when(Issued::at(noon(d(2027, 1, 1)), evaluate(everything)))
            .then_expect_events(vec![]);
    }
    cn().given(given())
        .when(Issued::at(noon(d(2027, 1, 1)), evaluate(empty)))
        .then_expect_events(vec![auto_closed(
            vec![
                AutoClosureCondition::Dormant {
                    last_login_on: d(2026, 1, 10),
                    reached_on: d(2026, 4, 10),
                },
                AutoClosureCondition::NoTopUp {
                    registered_on: d(2026, 1, 10),
                    deadline: d(2026, 2, 10),
                },
            ],
            empty,
            d(2027, 1, 1),
        )]);
    cn().given(given())
        .when(Issued::at(noon(d(2027, 1, 1)), evaluate(negative)))
        .then_expect_events(vec![auto_closed(
            vec![AutoClosureCondition::NegativeBalance {
                negative_since: d(2026, 1, 11),
                reached_on: d(2026, 2, 11),
            }],
            negative,
            d(2027, 1, 1),
        )]);
}

// rule MEM-9: a suspended member is closed too; a withdrawing member waits for its refund (MEM-8).
#[test]
fn mem_9_applies_to_suspended_members_but_not_to_withdrawing_ones() {
    let suspended = MemberEvent::Suspended {
        cause: SuspensionCause::RejectedTopUps,
        reason: "3 rejected".into(),
        suspended_on: d(2026, 1, 20),
        policy: Policy::cn_agency().version(),
    };
    let zero = facts(BalanceSign::Zero, None);
    let events = cn()
        .given(vec![registered_on(d(2026, 1, 10)), suspended])
        .when(Issued::at(noon(d(2026, 3, 1)), evaluate(zero)))
        .inspect_result()
        .unwrap();
    assert!(matches!(&events[..], [MemberEvent::AutoClosed { .. }]));
    let member = replay([vec![registered_on(d(2026, 1, 10))], events].concat());
    assert_eq!(
        member.standing(d(2026, 3, 1)).unwrap().status,
        StandingStatus::Closed
    );

    let withdrawing = MemberEvent::WithdrawalRequested {
        requested_on: d(2026, 1, 20),
        suspension_causes: vec![],
        disposal_fee_per_item: Money::cny(dec!(5)),
        policy: Policy::cn_agency().version(),
    };
    cn().given(vec![registered_on(d(2026, 1, 10)), withdrawing])
        .when(Issued::at(noon(d(2026, 6, 1)), evaluate(zero)))
        .then_expect_events(vec![]);
}

// rule TIM-1: the last login counts by the warehouse's local date: 16:30 UTC on 31 January is
// 1 February in Shanghai, so three months pass on 1 May, not 30 April.
#[test]
fn tim_1_dormancy_counts_from_the_local_date_of_the_last_login() {
    let given = || {
        vec![
            registered_on(d(2026, 1, 10)),
            MemberEvent::LoggedIn {
                at: Utc.with_ymd_and_hms(2026, 1, 31, 16, 30, 0).unwrap(),
            },
        ]
    };
    let zero = facts(BalanceSign::Zero, Some(d(2026, 1, 12)));
    cn().given(given())
        .when(Issued::at(noon(d(2026, 4, 30)), evaluate(zero)))
        .then_expect_events(vec![]);
    cn().given(given())
        .when(Issued::at(noon(d(2026, 5, 1)), evaluate(zero)))
        .then_expect_events(vec![auto_closed(
            vec![AutoClosureCondition::Dormant {
                last_login_on: d(2026, 2, 1),
                reached_on: d(2026, 5, 1),
            }],
            zero,
            d(2026, 5, 1),
        )]);
}

// rule MEM-9: the pure function read models use agrees with the aggregate on the edges.
#[test]
fn mem_9_conditions_function_for_read_models() {
    let policy = Policy::cn_agency().member.auto_closure.unwrap();
    let healthy = facts(BalanceSign::Positive, Some(d(2026, 1, 11)));
    assert!(
        auto_closure_conditions(&policy, d(2026, 1, 10), None, &healthy, d(2030, 1, 1)).is_empty()
    );
    let negative = facts(
        BalanceSign::Negative {
            since: d(2026, 3, 31),
        },
        Some(d(2026, 1, 11)),
    );
    assert!(auto_closure_conditions(
        &policy,
        d(2026, 1, 10),
        Some(d(2026, 4, 1)),
        &negative,
        d(2026, 4, 29)
    )
    .is_empty());
    assert_eq!(
        auto_closure_conditions(
            &policy,
            d(2026, 1, 10),
            Some(d(2026, 4, 1)),
            &negative,
            d(2026, 4, 30)
        ),
        vec![AutoClosureCondition::NegativeBalance {
            negative_since: d(2026, 3, 31),
            reached_on: d(2026, 4, 30),
        }]
    );
}

// rule MEM-9: the day the business clock closes a member is the first day a condition holds:
// none the day before, one on it, for every kind of facts (both edges of each deadline).
#[test]
fn mem_9_the_closure_day_is_the_first_day_a_condition_holds() {
    let policy = Policy::cn_agency().member.auto_closure.unwrap();
    let registered = d(2026, 1, 31);
    let cases = [
        // Never topped up, never logged in: the day after a month from registration.
        (None, facts(BalanceSign::Zero, None), Some(d(2026, 3, 1))),
        // A late first application does not count; still the day after the month.
        (
            None,
            facts(BalanceSign::Zero, Some(d(2026, 3, 2))),
            Some(d(2026, 3, 1)),
        ),
        // Topped up in time, spent down to zero: dormant 3 months after the last login.
        (
            Some(d(2026, 2, 10)),
            facts(BalanceSign::Zero, Some(d(2026, 2, 28))),
            Some(d(2026, 5, 10)),
        ),
        // Topped up in time, never logged in: dormant from the registration.
        (
            None,
            facts(BalanceSign::Zero, Some(d(2026, 2, 1))),
            Some(d(2026, 4, 30)),
        ),
        // Below zero since 31 March: a month later.
        (
            Some(d(2026, 3, 1)),
            facts(
                BalanceSign::Negative {
                    since: d(2026, 3, 31),
                },
                Some(d(2026, 2, 1)),
            ),
            Some(d(2026, 4, 30)),
        ),
        // Money on the account: never.
        (None, facts(BalanceSign::Positive, None), None),
    ];
    for (last_login, facts, expected) in cases {
        let due_on = auto_closure_due_on(&policy, registered, last_login, &facts);
        assert_eq!(due_on, expected, "{last_login:?} {facts:?}");
        let Some(due_on) = due_on else {
            assert!(auto_closure_conditions(
                &policy,
                registered,
                last_login,
                &facts,
                d(2031, 1, 1)
            )
            .is_empty());
            continue;
        };
        let eve = due_on.pred_opt().unwrap();
        assert!(
            auto_closure_conditions(&policy, registered, last_login, &facts, eve).is_empty(),
            "a condition holds on {eve}, before {due_on}: {facts:?}"
        );
        assert!(
            !auto_closure_conditions(&policy, registered, last_login, &facts, due_on).is_empty(),
            "no condition holds on {due_on}: {facts:?}"
        );
    }
}
