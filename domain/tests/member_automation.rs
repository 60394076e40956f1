//! Auto Pack (MEM-6) and Auto Ship (MEM-7): setting, use under the limit, and the lapse after
//! a year set and unused, on month ends and leap days (TIM-1).

mod member_support;

use chrono::{Days, NaiveDate};
use domain::calendar::add_months;
use domain::ids::ShipmentId;
use domain::member::{
    auto_ship_active_on, auto_ship_lapses_on, Member, MemberCommand, MemberError, MemberEvent,
};
use domain::money::{Currency, Money};
use domain::{Issued, Policy, Refusal, Rule};
use member_support::*;
use proptest::prelude::*;
use rust_decimal_macros::dec;

fn ship_set(limit: Money, set_on: NaiveDate, lapses_on: NaiveDate) -> MemberEvent {
    MemberEvent::AutoShipSet {
        limit,
        set_on,
        lapses_on,
        policy: Policy::jp_forwarding().version(),
    }
}

fn ship_used(on: NaiveDate, lapses_on: NaiveDate) -> MemberEvent {
    MemberEvent::AutoShipUsed {
        shipment_id: ShipmentId::parse("s-1").unwrap(),
        amount: Money::jpy(4200),
        limit: Money::jpy(5000),
        used_on: on,
        lapses_on,
        policy: Policy::jp_forwarding().version(),
    }
}

fn use_auto_ship(amount: Money) -> MemberCommand {
    MemberCommand::RecordAutoShipUse {
        shipment_id: ShipmentId::parse("s-2").unwrap(),
        amount,
    }
}

fn limit_on(member: &Member, on: NaiveDate) -> Option<Money> {
    member.standing(on).unwrap().auto_ship_limit
}

// rule MEM-6: Auto Pack on and off, reported in the standing other aggregates receive.
#[test]
fn mem_6_auto_pack_is_set_and_unset_and_reported_in_the_standing() {
    let on = d(2026, 2, 1);
    jp().given(vec![registered()])
        .when(Issued::at(noon(on), MemberCommand::SetAutoPack))
        .then_expect_events(vec![MemberEvent::AutoPackSet { set_on: on }]);
    let set = vec![registered(), MemberEvent::AutoPackSet { set_on: on }];
    assert!(replay(set.clone()).standing(on).unwrap().auto_pack);
    assert!(!replay(vec![registered()]).standing(on).unwrap().auto_pack);
    // Asking for the state it is already in records nothing.
    jp().given(set.clone())
        .when(Issued::at(noon(on), MemberCommand::SetAutoPack))
        .then_expect_events(vec![]);
    jp().given(vec![registered()])
        .when(Issued::at(noon(on), MemberCommand::UnsetAutoPack))
        .then_expect_events(vec![]);
    jp().given(set.clone())
        .when(Issued::at(
            noon(d(2026, 2, 3)),
            MemberCommand::UnsetAutoPack,
        ))
        .then_expect_events(vec![MemberEvent::AutoPackUnset {
            unset_on: d(2026, 2, 3),
        }]);
    let unset = [
        set,
        vec![MemberEvent::AutoPackUnset {
            unset_on: d(2026, 2, 3),
        }],
    ]
    .concat();
    assert!(!replay(unset).standing(d(2026, 2, 3)).unwrap().auto_pack);
}

// rule MEM-7: setting records the limit and the day it lapses if unused, a year later.
#[test]
fn mem_7_auto_ship_set_records_the_limit_and_the_lapse_date() {
    jp().given(vec![registered()])
        .when(Issued::at(
            noon(d(2026, 3, 15)),
            MemberCommand::SetAutoShip {
                limit: Money::jpy(5000),
            },
        ))
        .then_expect_events(vec![ship_set(
            Money::jpy(5000),
            d(2026, 3, 15),
            d(2027, 3, 15),
        )]);
    let cn = Policy::cn_agency();
    framework(cn.clone())
        .given(vec![registered()])
        .when(Issued::at(
            noon(d(2026, 3, 15)),
            MemberCommand::SetAutoShip {
                limit: Money::cny(dec!(250.50)),
            },
        ))
        .then_expect_events(vec![MemberEvent::AutoShipSet {
            limit: Money::cny(dec!(250.50)),
            set_on: d(2026, 3, 15),
            lapses_on: d(2027, 3, 15),
            policy: cn.version(),
        }]);
}

// rule MEM-7: the limit is in the profile's billing currency (POL-2: JPY / CNY) and above zero.
#[test]
fn mem_7_auto_ship_limit_must_be_positive_in_the_billing_currency() {
    let refused = |policy: Policy, limit: Money| {
        framework(policy)
            .given(vec![registered()])
            .when(Issued::at(
                noon(d(2026, 3, 15)),
                MemberCommand::SetAutoShip { limit },
            ))
            .inspect_result()
            .unwrap_err()
    };
    let err = refused(Policy::jp_forwarding(), Money::cny(dec!(250)));
    assert_eq!(
        err,
        MemberError::AutoShipLimitCurrency {
            expected: Currency::Jpy,
            found: Currency::Cny,
        }
    );
    assert_eq!(err.code(), "member.auto_ship_limit_currency");
    assert_eq!(err.rule(), Some(Rule::Mem7));
    assert_eq!(
        refused(Policy::cn_agency(), Money::jpy(5000)),
        MemberError::AutoShipLimitCurrency {
            expected: Currency::Cny,
            found: Currency::Jpy,
        }
    );
    let err = refused(Policy::jp_forwarding(), Money::jpy(0));
    assert_eq!(
        err,
        MemberError::AutoShipLimitNotPositive {
            limit: Money::jpy(0)
        }
    );
    assert_eq!(err.code(), "member.auto_ship_limit_not_positive");
    assert_eq!(err.rule(), Some(Rule::Mem7));
}

// rule MEM-7: a payment at the limit is recorded and moves the lapse a year on; one yen over
// the limit was not an automatic payment.
#[test]
fn mem_7_use_at_the_limit_is_recorded_and_over_the_limit_is_refused() {
    let given = || {
        vec![
            registered(),
            ship_set(Money::jpy(5000), d(2026, 3, 15), d(2027, 3, 15)),
        ]
    };
    jp().given(given())
        .when(Issued::at(
            noon(d(2026, 9, 1)),
            use_auto_ship(Money::jpy(5000)),
        ))
        .then_expect_events(vec![MemberEvent::AutoShipUsed {
            shipment_id: ShipmentId::parse("s-2").unwrap(),
            amount: Money::jpy(5000),
            limit: Money::jpy(5000),
            used_on: d(2026, 9, 1),
            lapses_on: d(2027, 9, 1),
            policy: Policy::jp_forwarding().version(),
        }]);
    let err = jp()
        .given(given())
        .when(Issued::at(
            noon(d(2026, 9, 1)),
            use_auto_ship(Money::jpy(5001)),
        ))
        .inspect_result()
        .unwrap_err();
    assert_eq!(
        err,
        MemberError::AutoShipOverLimit {
            amount: Money::jpy(5001),
            limit: Money::jpy(5000),
        }
    );
    assert_eq!(err.code(), "member.auto_ship_over_limit");
    assert_eq!(err.rule(), Some(Rule::Mem7));
}

// rule MEM-7: set and never used, Auto Ship is active for exactly 12 months: the day before
// the anniversary it still pays, on the anniversary it has lapsed.
#[test]
fn mem_7_unused_auto_ship_lapses_exactly_twelve_months_after_it_was_set() {
    let events = vec![
        registered(),
        ship_set(Money::jpy(5000), d(2026, 3, 15), d(2027, 3, 15)),
    ];
    let member = replay(events.clone());
    assert_eq!(limit_on(&member, d(2027, 3, 14)), Some(Money::jpy(5000)));
    assert_eq!(limit_on(&member, d(2027, 3, 15)), None);

    jp().given(events.clone())
        .when(Issued::at(
            noon(d(2027, 3, 14)),
            MemberCommand::LapseAutoShip,
        ))
        .then_expect_events(vec![]);
    jp().given(events.clone())
        .when(Issued::at(
            noon(d(2027, 3, 15)),
            MemberCommand::LapseAutoShip,
        ))
        .then_expect_events(vec![MemberEvent::AutoShipLapsed {
            set_on: d(2026, 3, 15),
            last_used_on: None,
            lapsed_on: d(2027, 3, 15),
            policy: Policy::jp_forwarding().version(),
        }]);
    let err = jp()
        .given(events)
        .when(Issued::at(
            noon(d(2027, 3, 15)),
            use_auto_ship(Money::jpy(100)),
        ))
        .inspect_result()
        .unwrap_err();
    assert_eq!(err, MemberError::AutoShipNotActive);
    assert_eq!(err.code(), "member.auto_ship_not_active");
    assert_eq!(err.rule(), Some(Rule::Mem7));
}

// rule MEM-7: used within the past year, it does not lapse on the anniversary of its setting,
// but a year after its last use.
#[test]
fn mem_7_use_within_the_past_year_keeps_auto_ship_active() {
    let events = vec![
        registered(),
        ship_set(Money::jpy(5000), d(2026, 3, 15), d(2027, 3, 15)),
        ship_used(d(2026, 9, 1), d(2027, 9, 1)),
    ];
    let member = replay(events.clone());
    assert_eq!(limit_on(&member, d(2027, 3, 15)), Some(Money::jpy(5000)));
    assert_eq!(limit_on(&member, d(2027, 8, 31)), Some(Money::jpy(5000)));
    assert_eq!(limit_on(&member, d(2027, 9, 1)), None);
    jp().given(events.clone())
        .when(Issued::at(
            noon(d(2027, 3, 15)),
            MemberCommand::LapseAutoShip,
        ))
        .then_expect_events(vec![]);
    jp().given(events)
        .when(Issued::at(
            noon(d(2027, 9, 2)),
            MemberCommand::LapseAutoShip,
        ))
        .then_expect_events(vec![MemberEvent::AutoShipLapsed {
            set_on: d(2026, 3, 15),
            last_used_on: Some(d(2026, 9, 1)),
            lapsed_on: d(2027, 9, 1),
            policy: Policy::jp_forwarding().version(),
        }]);
    assert_eq!(
        auto_ship_lapses_on(d(2026, 3, 15), Some(d(2026, 9, 1)), 12),
        d(2027, 9, 1)
    );
}

// rule MEM-7: set on 29 February, a year has passed on 28 February of the common year.
#[test]
fn mem_7_auto_ship_set_on_feb_29_lapses_on_feb_28() {
    jp().given(vec![registered()])
        .when(Issued::at(
            noon(d(2028, 2, 29)),
            MemberCommand::SetAutoShip {
                limit: Money::jpy(5000),
            },
        ))
        .then_expect_events(vec![ship_set(
            Money::jpy(5000),
            d(2028, 2, 29),
            d(2029, 2, 28),
        )]);
    assert!(auto_ship_active_on(
        d(2028, 2, 29),
        None,
        12,
        d(2029, 2, 27)
    ));
    assert!(!auto_ship_active_on(
        d(2028, 2, 29),
        None,
        12,
        d(2029, 2, 28)
    ));
    // Used on 29 February: same anniversary.
    assert_eq!(
        auto_ship_lapses_on(d(2027, 6, 1), Some(d(2028, 2, 29)), 12),
        d(2029, 2, 28)
    );
}

// rule MEM-7: month ends clamp with a shorter lapse period (a policy setting): set on 31
// January with 1 month, it lapses on 28 February; 13 months from 31 January 2027 is 29 February 2028.
#[test]
fn mem_7_lapse_period_clamps_month_ends() {
    assert_eq!(auto_ship_lapses_on(d(2026, 1, 31), None, 1), d(2026, 2, 28));
    assert_eq!(
        auto_ship_lapses_on(d(2027, 1, 31), None, 13),
        d(2028, 2, 29)
    );
    assert_eq!(
        auto_ship_lapses_on(d(2026, 1, 31), None, 12),
        d(2027, 1, 31)
    );
    let mut monthly = Policy::jp_forwarding();
    monthly.member.auto_ship_lapse_months = 1;
    framework(monthly.clone())
        .given(vec![registered()])
        .when(Issued::at(
            noon(d(2026, 1, 31)),
            MemberCommand::SetAutoShip {
                limit: Money::jpy(5000),
            },
        ))
        .then_expect_events(vec![MemberEvent::AutoShipSet {
            limit: Money::jpy(5000),
            set_on: d(2026, 1, 31),
            lapses_on: d(2026, 2, 28),
            policy: monthly.version(),
        }]);
}

// rule MEM-7: unset records nothing when it is not set; a use without Auto Ship is refused.
#[test]
fn mem_7_unset_and_use_without_auto_ship() {
    jp().given(vec![
        registered(),
        ship_set(Money::jpy(5000), d(2026, 3, 15), d(2027, 3, 15)),
    ])
    .when(Issued::at(
        noon(d(2026, 4, 1)),
        MemberCommand::UnsetAutoShip,
    ))
    .then_expect_events(vec![MemberEvent::AutoShipUnset {
        unset_on: d(2026, 4, 1),
    }]);
    jp().given(vec![registered()])
        .when(Issued::at(
            noon(d(2026, 4, 1)),
            MemberCommand::UnsetAutoShip,
        ))
        .then_expect_events(vec![]);
    let unset = vec![
        registered(),
        ship_set(Money::jpy(5000), d(2026, 3, 15), d(2027, 3, 15)),
        MemberEvent::AutoShipUnset {
            unset_on: d(2026, 4, 1),
        },
    ];
    assert_eq!(limit_on(&replay(unset.clone()), d(2026, 4, 1)), None);
    jp().given(unset)
        .when(Issued::at(
            noon(d(2026, 4, 2)),
            use_auto_ship(Money::jpy(100)),
        ))
        .then_expect_error(MemberError::AutoShipNotActive);
}

// rule MEM-7: setting again (a new limit) restarts the year from the new setting.
#[test]
fn mem_7_setting_again_restarts_the_year() {
    let events = vec![
        registered(),
        ship_set(Money::jpy(5000), d(2026, 3, 15), d(2027, 3, 15)),
        ship_set(Money::jpy(8000), d(2026, 12, 1), d(2027, 12, 1)),
    ];
    let member = replay(events);
    assert_eq!(limit_on(&member, d(2027, 3, 15)), Some(Money::jpy(8000)));
    assert_eq!(limit_on(&member, d(2027, 12, 1)), None);
}

proptest! {
    // rule MEM-7: active every day from the setting until the anniversary, inactive from it on,
    // and a use never brings the lapse forward.
    #[test]
    fn mem_7_lapse_is_a_single_switch_at_the_later_anniversary(
        set_offset in 0u64..3000,
        use_after in proptest::option::of(0u64..800),
        probe in 0u64..1500,
        months in 1u32..25,
    ) {
        let set_on = d(2024, 1, 1) + Days::new(set_offset);
        let used_on = use_after.map(|n| set_on + Days::new(n));
        let lapses_on = auto_ship_lapses_on(set_on, used_on, months);
        prop_assert!(lapses_on >= add_months(set_on, months));
        if let Some(used) = used_on {
            prop_assert!(lapses_on >= add_months(used, months));
        }
        prop_assert!(
            lapses_on == add_months(set_on, months)
                || used_on.is_some_and(|used| lapses_on == add_months(used, months))
        );
        let eve = lapses_on.pred_opt().unwrap();
        prop_assert!(auto_ship_active_on(set_on, used_on, months, set_on));
        prop_assert!(auto_ship_active_on(set_on, used_on, months, eve));
        prop_assert!(!auto_ship_active_on(set_on, used_on, months, lapses_on));
        let day = set_on + Days::new(probe);
        // Once lapsed, it stays lapsed.
        if !auto_ship_active_on(set_on, used_on, months, day) {
            prop_assert!(!auto_ship_active_on(set_on, used_on, months, day + Days::new(1)));
        }
    }
}

// Notices (#12): the member's own language, kept until changed; asking again records nothing;
// a closed member chooses nothing.
#[test]
fn a_member_chooses_the_language_notices_are_worded_in() {
    use domain::member::NoticeLanguage;
    let on = d(2026, 2, 1);
    let choose = |language| MemberCommand::ChooseNoticeLanguage { language };
    jp().given(vec![registered()])
        .when(Issued::at(noon(on), choose(NoticeLanguage::En)))
        .then_expect_events(vec![MemberEvent::NoticeLanguageChosen {
            language: NoticeLanguage::En,
            chosen_on: on,
        }]);
    let chosen = vec![
        registered(),
        MemberEvent::NoticeLanguageChosen {
            language: NoticeLanguage::En,
            chosen_on: on,
        },
    ];
    assert_eq!(
        replay(chosen.clone()).record().unwrap().notice_language,
        Some(NoticeLanguage::En)
    );
    assert_eq!(
        replay(vec![registered()]).record().unwrap().notice_language,
        None
    );
    jp().given(chosen.clone())
        .when(Issued::at(noon(on), choose(NoticeLanguage::En)))
        .then_expect_events(vec![]);
    jp().given(chosen)
        .when(Issued::at(noon(on), choose(NoticeLanguage::Ja)))
        .then_expect_events(vec![MemberEvent::NoticeLanguageChosen {
            language: NoticeLanguage::Ja,
            chosen_on: on,
        }]);
    let closed = vec![
        registered(),
        MemberEvent::Closed {
            refund_reference: domain::member::RefundReference::parse("refund-1").unwrap(),
            closed_on: on,
        },
    ];
    assert_refusal(
        jp().given(closed)
            .when(Issued::at(noon(on), choose(NoticeLanguage::Ja)))
            .inspect_result(),
        MemberError::Closed,
        "member.closed",
        Some(Rule::Mem4),
    );
}
