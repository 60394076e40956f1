//! Parcel intake: suite codes and unidentified parcels (PAR-1), payment on delivery and proxy
//! payment (PAR-2), measurements and notice (PAR-3), declarations (PAR-4), the receiving
//! calendar (TIM-2) and Auto Pack on arrival (MEM-6).

mod parcel_support;

use domain::facts::StandingStatus;
use domain::money::Money;
use domain::parcel::{
    CollectKind, CollectOnDelivery, DeclarationSource, DoorRefusal, ParcelCommand, ParcelError,
    ParcelEvent, ParcelStatus, ReturnedFrom,
};
use domain::{Policy, Refusal, Rule};
use parcel_support::*;
use rust_decimal_macros::dec;

fn arrived_event(
    policy: &Policy,
    delivered: chrono::NaiveDate,
    received: chrono::NaiveDate,
) -> ParcelEvent {
    ParcelEvent::Arrived {
        parcel_id: parcel_id(),
        suite_code: Some(suite()),
        member_id: Some(member_id()),
        delivered_on: delivered,
        received_on: received,
        notify_by: Some(received),
        weight: weight(1_200),
        dimensions: dims(300, 200, 100),
        shop: None,
        auto_pack: false,
        policy: policy.version(),
    }
}

/// The arrival notice of the standard test parcel, received on `received`, sent on `sent`.
fn notice_event(
    policy: &Policy,
    received: chrono::NaiveDate,
    sent: chrono::NaiveDate,
) -> ParcelEvent {
    ParcelEvent::ArrivalNoticeSent {
        member_id: member_id(),
        received_on: received,
        sent_on: sent,
        shop: None,
        weight: weight(1_200),
        dimensions: dims(300, 200, 100),
        forwarding_fee: policy.fees.forwarding_fee_per_piece,
        rule: Rule::Par3,
        policy: policy.version(),
    }
}

// ---- PAR-3, TIM-2

// rule PAR-3: weight and dimensions are recorded at receipt, the notice is due the same business day.
#[test]
fn par_3_arrival_records_measurements_and_same_day_notice() {
    let policy = jp();
    let fri = d(2026, 11, 20);
    framework(policy.clone())
        .given_no_previous_events()
        .when(on(fri, ParcelCommand::Arrive(arrival())))
        .then_expect_events(vec![
            arrived_event(&policy, fri, fri),
            notice_event(&policy, fri, fri),
        ]);
    let parcel = state(&stored_on(&policy, fri));
    let receipt = parcel.receipt().unwrap();
    assert_eq!(
        (receipt.weight, receipt.dimensions),
        (weight(1_200), dims(300, 200, 100))
    );
    // Billing reads the warehouse's measurements (through the facts handed to the shipment).
    let facts = parcel.facts().unwrap();
    assert_eq!(
        (facts.weight, facts.dimensions),
        (weight(1_200), dims(300, 200, 100))
    );
}

// rule TIM-2: delivered on a Saturday before a Monday holiday, received (and notified) on Tuesday.
#[test]
fn tim_2_delivery_on_closed_day_is_received_next_business_day_jp() {
    let policy = jp();
    let (sat, tue) = (d(2026, 11, 21), d(2026, 11, 24));
    framework(policy.clone())
        .given_no_previous_events()
        .when(on(sat, ParcelCommand::Arrive(arrival())))
        .then_expect_events(vec![
            arrived_event(&policy, sat, tue),
            notice_event(&policy, tue, tue),
        ]);
}

// rule PAR-3 (seed 000: 計量が完了したところで、お荷物の到着とご利用料金をメールにてお知らせ):
// the arrival notice is an event: what it stated (the measurements billing uses, the forwarding
// fee from the policy) and the day it was sent, the receiving business day.
#[test]
fn par_3_arrival_notice_records_what_was_sent_when_and_the_fee() {
    // Delivered on Saturday 21 Nov: jp-forwarding receives (and tells) on Tuesday, past the
    // weekend and the Monday holiday; cn-agency, open on Saturdays, the same day.
    let sat = d(2026, 11, 21);
    for (policy, received, fee) in [
        (jp(), d(2026, 11, 24), Money::jpy(800)),
        (cn(), sat, Money::cny(dec!(40))),
    ] {
        let events = decide(&policy, &[], on(sat, ParcelCommand::Arrive(arrival()))).unwrap();
        let notices: Vec<_> = events
            .iter()
            .filter(|e| matches!(e, ParcelEvent::ArrivalNoticeSent { .. }))
            .collect();
        assert_eq!(notices, vec![&notice_event(&policy, received, received)]);
        let ParcelEvent::ArrivalNoticeSent { forwarding_fee, .. } = notices[0] else {
            unreachable!()
        };
        assert_eq!(*forwarding_fee, fee);
    }
}

// rule PAR-3 / PAR-1: an unidentified parcel's notice waits for its member: none at arrival,
// sent on the business day it is attached, with the day it was received.
#[test]
fn par_3_unidentified_parcel_is_notified_when_attached() {
    let policy = jp();
    let mut unknown = arrival();
    unknown.member = None;
    let given = history(
        &policy,
        vec![on(d(2026, 11, 20), ParcelCommand::Arrive(unknown))],
    );
    assert!(!given
        .iter()
        .any(|e| matches!(e, ParcelEvent::ArrivalNoticeSent { .. })));
    let attached = decide(
        &policy,
        &given,
        on(
            d(2026, 11, 26),
            ParcelCommand::AttachToMember { member: verified() },
        ),
    )
    .unwrap();
    assert!(attached.contains(&notice_event(&policy, d(2026, 11, 20), d(2026, 11, 26))));
}

// rule TIM-2: the cn-agency warehouse receives on Saturdays (POL-2); the storage clock starts
// on the received business day in both profiles.
#[test]
fn tim_2_cn_agency_receives_on_saturday_and_clock_starts_on_received_day() {
    let policy = cn();
    let sat = d(2026, 11, 21);
    framework(policy.clone())
        .given_no_previous_events()
        .when(on(sat, ParcelCommand::Arrive(arrival())))
        .then_expect_events(vec![
            arrived_event(&policy, sat, sat),
            notice_event(&policy, sat, sat),
        ]);
    let jp_parcel = state(&stored_on(&jp(), sat));
    assert_eq!(jp_parcel.stored_box().unwrap().received_on, d(2026, 11, 24));
}

// rule TIM-2 (seed 001: 振替営業日, holidays follow China's): the cn-agency calendar knows
// Qingming, Labour Day, Dragon Boat and Mid-Autumn, and opens on make-up working days.
#[test]
fn tim_2_cn_agency_calendar_has_make_up_days_and_the_spring_and_autumn_holidays() {
    let policy = cn();
    let received = |delivered| match decide(
        &policy,
        &[],
        on(delivered, ParcelCommand::Arrive(arrival())),
    )
    .unwrap()
    .first()
    {
        Some(ParcelEvent::Arrived { received_on, .. }) => *received_on,
        other => panic!("expected an arrival, got {other:?}"),
    };
    // Sun 20 Sep 2026 is a make-up working day (调休上班): received that Sunday.
    assert_eq!(received(d(2026, 9, 20)), d(2026, 9, 20));
    // An ordinary Sunday stays closed.
    assert_eq!(received(d(2026, 9, 13)), d(2026, 9, 14));
    // Qingming: Sat 4 to Mon 6 Apr → Tue 7 Apr.
    assert_eq!(received(d(2026, 4, 4)), d(2026, 4, 7));
    // Labour Day: Fri 1 to Tue 5 May → Wed 6 May.
    assert_eq!(received(d(2026, 5, 1)), d(2026, 5, 6));
    // Dragon Boat: Fri 19 to Sun 21 Jun → Mon 22 Jun.
    assert_eq!(received(d(2026, 6, 19)), d(2026, 6, 22));
    // Mid-Autumn: Fri 25 to Sun 27 Sep → Mon 28 Sep.
    assert_eq!(received(d(2026, 9, 25)), d(2026, 9, 28));
}

// rule TIM-2: a day past the calendar's last covered date is not a working day but a refusal
// naming the rule: arrivals (and attachments) after it cannot be given a receiving day.
#[test]
fn tim_2_arrival_past_the_calendar_is_refused() {
    for (policy, last) in [(jp(), d(2027, 12, 31)), (cn(), d(2026, 12, 31))] {
        let after = domain::calendar::add_days(last, 1);
        let err = decide(&policy, &[], on(after, ParcelCommand::Arrive(arrival())))
            .expect_err("past the calendar");
        assert_eq!(
            err,
            ParcelError::OutsideCalendar(domain::calendar::OutsideCalendar {
                date: after,
                covers_from: d(2026, 1, 1),
                covers_through: last,
            })
        );
        assert_eq!(err.code(), "calendar.not_covered");
        assert_eq!(err.rule(), Some(Rule::Tim2));
    }
    // jp: delivered Fri 31 Dec 2027 is still received that day (a business day in the list).
    let policy = jp();
    assert!(decide(
        &policy,
        &[],
        on(d(2027, 12, 31), ParcelCommand::Arrive(arrival()))
    )
    .is_ok());
}

// ---- PAR-1

// rule PAR-1: an unknown suite code is received as unidentified, never dropped.
#[test]
fn par_1_unknown_suite_code_is_received_unidentified() {
    let policy = jp();
    let day = d(2026, 11, 20);
    let mut unknown = arrival();
    unknown.member = None;
    let events = decide(&policy, &[], on(day, ParcelCommand::Arrive(unknown))).unwrap();
    assert_eq!(events.len(), 1);
    let ParcelEvent::Arrived {
        member_id,
        notify_by,
        suite_code,
        ..
    } = &events[0]
    else {
        panic!("expected an arrival, got {events:?}")
    };
    assert_eq!(
        (member_id, notify_by, suite_code),
        (&None, &None, &Some(suite()))
    );
    assert_eq!(state(&events).status(), &ParcelStatus::Unidentified);
}

// rule PAR-1: a label without a suite code is received as unidentified too.
#[test]
fn par_1_missing_suite_code_is_received_unidentified() {
    let policy = jp();
    let mut blank = arrival();
    blank.member = None;
    blank.suite_code = None;
    let events = decide(
        &policy,
        &[],
        on(d(2026, 11, 20), ParcelCommand::Arrive(blank)),
    )
    .unwrap();
    assert_eq!(state(&events).status(), &ParcelStatus::Unidentified);
    assert_eq!(state(&events).member_id(), None);
}

fn unidentified(policy: &Policy) -> Vec<ParcelEvent> {
    let mut unknown = arrival();
    unknown.member = None;
    history(
        policy,
        vec![on(d(2026, 11, 20), ParcelCommand::Arrive(unknown))],
    )
}

// rule PAR-1: an unidentified parcel is attached to its member later, who is notified that business day.
#[test]
fn par_1_unidentified_parcel_is_attached_later() {
    let policy = jp();
    let given = unidentified(&policy);
    framework(policy.clone())
        .given(given.clone())
        .when(on(
            d(2026, 11, 21),
            ParcelCommand::AttachToMember { member: verified() },
        ))
        .then_expect_events(vec![
            ParcelEvent::AttachedToMember {
                member_id: member_id(),
                attached_on: d(2026, 11, 21),
                notify_by: d(2026, 11, 24),
                auto_pack: false,
                policy: policy.version(),
            },
            notice_event(&policy, d(2026, 11, 20), d(2026, 11, 24)),
        ]);
    let mut events = given;
    events.extend(
        decide(
            &policy,
            &events,
            on(
                d(2026, 11, 24),
                ParcelCommand::AttachToMember { member: verified() },
            ),
        )
        .unwrap(),
    );
    assert_eq!(state(&events).status(), &ParcelStatus::Received);
}

// rule PAR-1: an unidentified parcel may be returned; it cannot be declared or inspected before attachment.
#[test]
fn par_1_unidentified_parcel_is_returned_or_waits() {
    let policy = jp();
    let given = unidentified(&policy);
    framework(policy.clone())
        .given(given.clone())
        .when(on(
            d(2026, 12, 1),
            ParcelCommand::Return {
                note: "no member found".into(),
            },
        ))
        .then_expect_events(vec![ParcelEvent::Returned {
            from: ReturnedFrom::Unidentified,
            returned_on: d(2026, 12, 1),
            note: "no member found".into(),
        }]);
    assert_refused(
        decide(&policy, &given, on(d(2026, 11, 20), inspect_quantity(1))),
        ParcelError::InvalidState {
            command: "inspect",
            status: "unidentified",
        },
        "parcel.invalid_state",
        None,
    );
}

// ---- PAR-2

fn cod(kind: CollectKind, yen: i64, shop: &str) -> domain::parcel::Arrival {
    let mut a = arrival();
    a.shop = Some(shop.into());
    a.collect_on_delivery = Some(CollectOnDelivery {
        kind,
        amount: Money::jpy(yen),
    });
    a
}

// rule PAR-2: cn-agency has no proxy payment: cash on delivery is refused at the door (POL-2).
#[test]
fn par_2_cash_on_delivery_is_refused_at_the_door_cn_agency() {
    let policy = cn();
    let day = d(2026, 11, 20);
    let a = cod(CollectKind::CashOnDelivery, 3_000, "shop-approved-1");
    framework(policy.clone())
        .given_no_previous_events()
        .when(on(day, ParcelCommand::Arrive(a.clone())))
        .then_expect_events(vec![ParcelEvent::Refused {
            parcel_id: parcel_id(),
            suite_code: Some(suite()),
            member_id: Some(member_id()),
            shop: Some("shop-approved-1".into()),
            collect_on_delivery: a.collect_on_delivery.unwrap(),
            delivered_on: day,
            reason: DoorRefusal::NoProxyPayment,
            rule: Rule::Par2,
            policy: policy.version(),
        }]);
}

// rule PAR-2: under jp-forwarding, carriage forward from a shop that is not approved is refused.
#[test]
fn par_2_carriage_forward_from_unapproved_shop_is_refused_jp() {
    let policy = jp();
    let events = decide(
        &policy,
        &[],
        on(
            d(2026, 11, 20),
            ParcelCommand::Arrive(cod(CollectKind::CarriageForward, 900, "some-shop")),
        ),
    )
    .unwrap();
    assert!(matches!(
        events.as_slice(),
        [ParcelEvent::Refused {
            reason: DoorRefusal::ShopNotApproved,
            rule: Rule::Par2,
            ..
        }]
    ));
    assert_eq!(state(&events).status(), &ParcelStatus::Refused);
}

// rule PAR-2: at an approved shop the warehouse pays the courier and charges amount + 10 %,
// the surcharge rounded half up (1,005 → 101; 1,004 → 100).
#[test]
fn par_2_proxy_payment_charges_amount_plus_ten_percent_half_up_jp() {
    let policy = jp();
    let day = d(2026, 11, 20);
    for (amount, surcharge) in [(1_005, 101), (1_004, 100), (3_000, 300)] {
        let a = cod(CollectKind::CashOnDelivery, amount, "shop-approved-1");
        let events = decide(&policy, &[], on(day, ParcelCommand::Arrive(a))).unwrap();
        assert!(
            matches!(events[0], ParcelEvent::Arrived { .. }),
            "{events:?}"
        );
        assert!(
            matches!(events[1], ParcelEvent::ArrivalNoticeSent { .. }),
            "{events:?}"
        );
        assert_eq!(
            events[2],
            ParcelEvent::ProxyPaymentCharged {
                member_id: member_id(),
                shop: "shop-approved-1".into(),
                courier_amount: Money::jpy(amount),
                collected: Some(CollectKind::CashOnDelivery),
                surcharge_percent: dec!(10),
                surcharge: Money::jpy(surcharge),
                charge: Money::jpy(amount + surcharge),
                rule: Rule::Par2,
                policy: policy.version(),
            }
        );
        assert_eq!(state(&events).status(), &ParcelStatus::Received);
    }
}

// rule PAR-2: carriage forward (着払い, the postage) from an approved shop is proxy-paid like
// cash on delivery: the courier is paid and the member charged the amount + 10 % (policy
// `collect_kinds`; seed 003 names cash on delivery only), the charge saying what was collected.
#[test]
fn par_2_carriage_forward_from_approved_shop_is_proxy_paid_at_ten_percent_jp() {
    let policy = jp();
    let a = cod(CollectKind::CarriageForward, 1_005, "shop-approved-2");
    let events = decide(&policy, &[], on(d(2026, 11, 20), ParcelCommand::Arrive(a))).unwrap();
    let charged = events
        .iter()
        .find(|e| matches!(e, ParcelEvent::ProxyPaymentCharged { .. }));
    assert_eq!(
        charged,
        Some(&ParcelEvent::ProxyPaymentCharged {
            member_id: member_id(),
            shop: "shop-approved-2".into(),
            courier_amount: Money::jpy(1_005),
            collected: Some(CollectKind::CarriageForward),
            surcharge_percent: dec!(10),
            surcharge: Money::jpy(101),
            charge: Money::jpy(1_106),
            rule: Rule::Par2,
            policy: policy.version(),
        })
    );
    assert_eq!(state(&events).status(), &ParcelStatus::Received);
}

// rule PAR-2: which collections are proxy-paid is the policy's: under the seed's strict reading
// (cash on delivery only), carriage forward from an approved shop is refused at the door.
#[test]
fn par_2_proxy_paid_collections_are_a_policy_choice() {
    let mut policy = jp();
    let proxy = policy.intake.proxy_payment.as_mut().unwrap();
    proxy.collect_kinds = vec![CollectKind::CashOnDelivery];
    let day = d(2026, 11, 20);
    let carriage_forward = cod(CollectKind::CarriageForward, 900, "shop-approved-1");
    let events = decide(
        &policy,
        &[],
        on(day, ParcelCommand::Arrive(carriage_forward)),
    )
    .unwrap();
    assert!(matches!(
        events.as_slice(),
        [ParcelEvent::Refused {
            reason: DoorRefusal::KindNotProxyPaid,
            rule: Rule::Par2,
            ..
        }]
    ));
    let cash = cod(CollectKind::CashOnDelivery, 900, "shop-approved-1");
    let events = decide(&policy, &[], on(day, ParcelCommand::Arrive(cash))).unwrap();
    assert!(events
        .iter()
        .any(|e| matches!(e, ParcelEvent::ProxyPaymentCharged { .. })));
}

// rule PAR-2: nobody to charge: a proxy-payment parcel with an unknown suite code is refused.
#[test]
fn par_2_proxy_payment_needs_a_member_to_charge() {
    let mut a = cod(CollectKind::CashOnDelivery, 1_000, "shop-approved-2");
    a.member = None;
    let events = decide(&jp(), &[], on(d(2026, 11, 20), ParcelCommand::Arrive(a))).unwrap();
    assert!(matches!(
        events.as_slice(),
        [ParcelEvent::Refused {
            reason: DoorRefusal::MemberUnknown,
            ..
        }]
    ));
}

fn expect_cmd(shop: &str) -> ParcelCommand {
    ParcelCommand::Expect {
        parcel_id: parcel_id(),
        member_id: member_id(),
        shop: shop.into(),
        purchased_on: d(2026, 9, 1),
    }
}

// rule PAR-2: an expected proxy-paid parcel that arrives with an unreadable label is charged
// to the member who announced it.
#[test]
fn par_2_expected_parcel_is_charged_to_the_announcing_member() {
    let policy = jp();
    let given = history(
        &policy,
        vec![on(d(2026, 9, 1), expect_cmd("shop-approved-1"))],
    );
    assert_eq!(
        given,
        vec![ParcelEvent::Expected {
            parcel_id: parcel_id(),
            member_id: member_id(),
            shop: "shop-approved-1".into(),
            purchased_on: d(2026, 9, 1),
            cancellable_from: d(2026, 10, 17),
            policy: policy.version(),
        }]
    );
    let mut a = arrival();
    a.member = None;
    a.suite_code = None;
    a.collect_on_delivery = Some(CollectOnDelivery {
        kind: CollectKind::CashOnDelivery,
        amount: Money::jpy(2_000),
    });
    let events = decide(
        &policy,
        &given,
        on(d(2026, 9, 10), ParcelCommand::Arrive(a)),
    )
    .unwrap();
    assert!(matches!(
        &events[..],
        [ParcelEvent::Arrived { member_id: Some(m), .. }, ParcelEvent::ArrivalNoticeSent { .. }, ParcelEvent::ProxyPaymentCharged { charge, .. }]
            if *m == member_id() && *charge == Money::jpy(2_200)
    ));
}

// rule PAR-2: announcing a proxy-paid purchase needs the proxy-payment policy and an approved shop (POL-2).
#[test]
fn par_2_expectation_needs_proxy_policy_and_approved_shop() {
    assert_refused(
        decide(&cn(), &[], on(d(2026, 9, 1), expect_cmd("shop-approved-1"))),
        ParcelError::ProxyPaymentUnavailable,
        "intake.proxy_payment_unavailable",
        Some(Rule::Par2),
    );
    assert_refused(
        decide(&jp(), &[], on(d(2026, 9, 1), expect_cmd("another-shop"))),
        ParcelError::ShopNotApproved {
            shop: "another-shop".into(),
        },
        "intake.shop_not_approved",
        Some(Rule::Par2),
    );
}

// rule PAR-2: not arrived 45 days after purchase: day 45 still waits, day 46 cancels.
#[test]
fn par_2_expected_parcel_is_cancelled_after_45_days_not_before() {
    let policy = jp();
    let given = history(
        &policy,
        vec![on(d(2026, 9, 1), expect_cmd("shop-approved-1"))],
    );
    // 1 Sep + 45 days = 16 Oct: still within the window.
    assert_refused(
        decide(
            &policy,
            &given,
            on(d(2026, 10, 16), ParcelCommand::CancelExpected),
        ),
        ParcelError::TooEarlyToCancel {
            cancellable_from: d(2026, 10, 17),
        },
        "intake.too_early_to_cancel",
        Some(Rule::Par2),
    );
    framework(policy.clone())
        .given(given)
        .when(on(d(2026, 10, 17), ParcelCommand::CancelExpected))
        .then_expect_events(vec![ParcelEvent::Cancelled {
            member_id: member_id(),
            purchased_on: d(2026, 9, 1),
            cancelled_on: d(2026, 10, 17),
            rule: Rule::Par2,
            policy: policy.version(),
        }]);
}

// rule PAR-2: once the proxy payment is cancelled, the courier asking for payment is refused.
#[test]
fn par_2_cancelled_proxy_parcel_arriving_with_cod_is_refused() {
    let policy = jp();
    let given = history(
        &policy,
        vec![
            on(d(2026, 9, 1), expect_cmd("shop-approved-1")),
            on(d(2026, 10, 20), ParcelCommand::CancelExpected),
        ],
    );
    let events = decide(
        &policy,
        &given,
        on(
            d(2026, 10, 21),
            ParcelCommand::Arrive(cod(CollectKind::CashOnDelivery, 1_000, "shop-approved-1")),
        ),
    )
    .unwrap();
    assert!(matches!(
        events.as_slice(),
        [ParcelEvent::Refused {
            reason: DoorRefusal::ProxyPaymentCancelled,
            ..
        }]
    ));
}

// ---- PAR-4

// rule PAR-4: no packing request before the declaration is confirmed.
#[test]
fn par_4_packing_request_refused_until_declaration_confirmed() {
    let policy = jp();
    let day = d(2026, 11, 20);
    let unconfirmed = history(
        &policy,
        vec![
            on(day, ParcelCommand::Arrive(arrival())),
            on(day, declare(1)),
            on(day, inspect_quantity(1)),
            on(day, store()),
        ],
    );
    assert_refused(
        decide(
            &policy,
            &unconfirmed,
            on(
                day,
                ParcelCommand::RequestPacking {
                    member: verified(),
                    shipment_id: shipment("s-1"),
                },
            ),
        ),
        ParcelError::DeclarationNotConfirmed,
        "declaration.not_confirmed",
        Some(Rule::Par4),
    );
    let mut confirmed = unconfirmed.clone();
    confirmed.extend(
        decide(
            &policy,
            &unconfirmed,
            on(day, ParcelCommand::ConfirmDeclaration),
        )
        .unwrap(),
    );
    framework(policy)
        .given(confirmed)
        .when(on(
            day,
            ParcelCommand::RequestPacking {
                member: verified(),
                shipment_id: shipment("s-1"),
            },
        ))
        .then_expect_events(vec![ParcelEvent::PackingRequested {
            member_id: member_id(),
            auto_pack: false,
            shipment_id: Some(shipment("s-1")),
        }]);
}

// rule PAR-4: a new declaration must be confirmed again; confirming twice records nothing new.
#[test]
fn par_4_redeclaring_needs_a_new_confirmation() {
    let policy = jp();
    let day = d(2026, 11, 20);
    let mut events = stored_on(&policy, day);
    assert_eq!(
        decide(&policy, &events, on(day, ParcelCommand::ConfirmDeclaration)).unwrap(),
        vec![]
    );
    events.extend(decide(&policy, &events, on(day, declare(3))).unwrap());
    assert!(state(&events).facts().is_none());
    assert_refused(
        decide(
            &policy,
            &events,
            on(
                day,
                ParcelCommand::RequestPacking {
                    member: verified(),
                    shipment_id: shipment("s-1"),
                },
            ),
        ),
        ParcelError::DeclarationNotConfirmed,
        "declaration.not_confirmed",
        Some(Rule::Par4),
    );
}

// rule PAR-4: a declaration lists items with quantities and names its sender; confirming needs one.
#[test]
fn par_4_declaration_is_complete() {
    let policy = jp();
    let day = d(2026, 11, 20);
    let received = history(&policy, vec![on(day, ParcelCommand::Arrive(arrival()))]);
    let declare_with = |items, sender: &str| ParcelCommand::Declare {
        items,
        sender: sender.into(),
        source: DeclarationSource::ShopListing,
    };
    assert_refused(
        decide(&policy, &received, on(day, declare_with(vec![], "Shop"))),
        ParcelError::EmptyDeclaration,
        "declaration.empty",
        Some(Rule::Par4),
    );
    assert_refused(
        decide(
            &policy,
            &received,
            on(day, declare_with(items(Money::jpy(100), 1), "  ")),
        ),
        ParcelError::SenderMissing,
        "declaration.sender_missing",
        Some(Rule::Par4),
    );
    assert_refused(
        decide(
            &policy,
            &received,
            on(day, declare_with(items(Money::jpy(100), 0), "Shop")),
        ),
        ParcelError::ZeroQuantity { line: 1 },
        "declaration.zero_quantity",
        Some(Rule::Par4),
    );
    assert_refused(
        decide(
            &policy,
            &received,
            on(day, ParcelCommand::ConfirmDeclaration),
        ),
        ParcelError::NoDeclaration,
        "declaration.missing",
        Some(Rule::Par4),
    );
    let ok = decide(
        &policy,
        &received,
        on(day, declare_with(items(Money::jpy(100), 2), "Shop")),
    )
    .unwrap();
    assert!(matches!(
        &ok[..],
        [ParcelEvent::ContentsDeclared {
            source: DeclarationSource::ShopListing,
            ..
        }]
    ));
}

// ---- MEM-6 on arrival

// rule MEM-6: under Auto Pack a packing request is made for the parcel on arrival.
#[test]
fn mem_6_auto_pack_requests_packing_on_arrival() {
    let policy = jp();
    let day = d(2026, 11, 20);
    let mut a = arrival();
    a.member = Some(auto_packer());
    let events = decide(&policy, &[], on(day, ParcelCommand::Arrive(a))).unwrap();
    assert!(matches!(
        &events[0],
        ParcelEvent::Arrived {
            auto_pack: true,
            ..
        }
    ));
    assert_eq!(
        events[2],
        ParcelEvent::PackingRequested {
            member_id: member_id(),
            auto_pack: true,
            shipment_id: None,
        }
    );
    assert_eq!(events.len(), 3);
    assert_eq!(state(&events).status(), &ParcelStatus::PackingRequested);
    assert!(state(&events).auto_pack());
}

// rule MEM-6: without Auto Pack no request is made on arrival.
#[test]
fn mem_6_no_auto_pack_no_request() {
    let events = decide(
        &jp(),
        &[],
        on(d(2026, 11, 20), ParcelCommand::Arrive(arrival())),
    )
    .unwrap();
    assert!(!events
        .iter()
        .any(|e| matches!(e, ParcelEvent::PackingRequested { .. })));
}

// rule MEM-6: an unverified member's Auto Pack makes no request (MEM-2), but the parcel stays
// an Auto Pack parcel, never consolidated.
#[test]
fn mem_6_auto_pack_waits_for_a_member_who_may_request() {
    let mut a = arrival();
    a.member = Some(standing(StandingStatus::Unverified, true));
    let events = decide(&jp(), &[], on(d(2026, 11, 20), ParcelCommand::Arrive(a))).unwrap();
    assert_eq!(events.len(), 2);
    assert!(matches!(
        &events[0],
        ParcelEvent::Arrived {
            auto_pack: true,
            ..
        }
    ));
}

// rule MEM-6: Auto Pack applies when an unidentified parcel is attached.
#[test]
fn mem_6_auto_pack_applies_on_attachment() {
    let policy = jp();
    let given = unidentified(&policy);
    let events = decide(
        &policy,
        &given,
        on(
            d(2026, 11, 24),
            ParcelCommand::AttachToMember {
                member: auto_packer(),
            },
        ),
    )
    .unwrap();
    assert_eq!(
        events[2],
        ParcelEvent::PackingRequested {
            member_id: member_id(),
            auto_pack: true,
            shipment_id: None,
        }
    );
}

// rule MEM-6: an auto-packed parcel is inspected, then packed once its declaration is confirmed (PAR-4).
#[test]
fn mem_6_auto_packed_parcel_is_packed_after_inspection_and_confirmation() {
    let policy = jp();
    let day = d(2026, 11, 20);
    let mut a = arrival();
    a.member = Some(auto_packer());
    let pack = || ParcelCommand::Pack {
        shipment_id: shipment("s-auto"),
    };
    let mut events = history(&policy, vec![on(day, ParcelCommand::Arrive(a))]);
    assert_refused(
        decide(&policy, &events, on(day, pack())),
        ParcelError::NotInspected,
        "inspection.pending",
        Some(Rule::Ins1),
    );
    events.extend(decide(&policy, &events, on(day, inspect_quantity(1))).unwrap());
    assert_eq!(state(&events).status(), &ParcelStatus::PackingRequested);
    assert_refused(
        decide(&policy, &events, on(day, pack())),
        ParcelError::DeclarationNotConfirmed,
        "declaration.not_confirmed",
        Some(Rule::Par4),
    );
    for cmd in [declare(1), ParcelCommand::ConfirmDeclaration] {
        let more = decide(&policy, &events, on(day, cmd)).unwrap();
        events.extend(more);
    }
    framework(policy)
        .given(events)
        .when(on(day, pack()))
        .then_expect_events(vec![ParcelEvent::Packed {
            shipment_id: shipment("s-auto"),
            packed_on: day,
        }]);
}

// Commands arrive as JSON from the API: unknown fields are refused, not ignored.
#[test]
fn parcel_commands_deserialize_strictly() {
    let ok = r#"{"store": {"location": "A-01", "earliest_waiting_arrival": "2026-11-02"}}"#;
    let command: ParcelCommand = serde_json::from_str(ok).unwrap();
    assert_eq!(
        command,
        ParcelCommand::Store {
            location: "A-01".into(),
            earliest_waiting_arrival: Some(d(2026, 11, 2))
        }
    );
    let typo = r#"{"store": {"location": "A-01", "earliest_waiting_arival": "2026-11-02"}}"#;
    assert!(serde_json::from_str::<ParcelCommand>(typo).is_err());
    let arrive = serde_json::to_string(&ParcelCommand::Arrive(arrival())).unwrap();
    assert_eq!(
        serde_json::from_str::<ParcelCommand>(&arrive).unwrap(),
        ParcelCommand::Arrive(arrival())
    );
    let extra = arrive.replacen("\"parcel_id\"", "\"colour\":\"red\",\"parcel_id\"", 1);
    assert!(serde_json::from_str::<ParcelCommand>(&extra).is_err());
}
