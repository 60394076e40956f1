//! Shipment: payment, hold and cancellation (PAY-1, PAY-2, ACC-5, CON-5, MEM-2, MEM-4, MEM-7).

#[path = "shipment_support.rs"]
mod support;

use chrono::NaiveDate;
use domain::exchange::{ConversionPurpose, ExchangeRate};
use domain::facts::{ItemCategory, MemberStanding, StandingStatus};
use domain::money::{Currency, Money, Rounding};
use domain::shipment::pricing::paypal_fee_line;
use domain::shipment::{
    LineItem, PaymentMethod, ShipmentCommand, ShipmentError, ShipmentEvent, ShipmentStatus,
};
use domain::{Issued, Policy, Refusal, Rule};
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use support::*;

fn nov(day: u32) -> NaiveDate {
    d(2026, 11, day)
}

fn pay_as(member: MemberStanding, method: PaymentMethod, amount: Money) -> ShipmentCommand {
    ShipmentCommand::Pay {
        member,
        method,
        amount,
        exchange_rate: None,
    }
}

fn paypal_fee(total: i64) -> Money {
    paypal_fee_line(
        Money::jpy(total),
        &Policy::jp_forwarding().account,
        None,
        nov(3),
    )
    .unwrap()
    .amount
}

// rule PAY-1: paid once, in full, by card; the event carries what the account needs.
#[test]
fn pay_1_card_payment_in_full_is_recorded() {
    let story = Story::jp().quoted();
    story
        .given()
        .when(Issued::at(
            morning(&story.policy, nov(3)),
            pay(PaymentMethod::Card, Money::jpy(8_600)),
        ))
        .then_expect_events(vec![ShipmentEvent::Paid {
            member_id: member_id(),
            method: PaymentMethod::Card,
            quote_total: Money::jpy(8_600),
            fee_lines: vec![],
            amount: Money::jpy(8_600),
            auto_ship_limit: None,
            paid_on: nov(3),
            policy: story.policy.version(),
        }]);
    let by_balance = story
        .when_on(nov(3), pay(PaymentMethod::Balance, Money::jpy(8_600)))
        .unwrap();
    assert!(matches!(
        by_balance[0],
        ShipmentEvent::Paid {
            method: PaymentMethod::Balance,
            ..
        }
    ));
}

// rule PAY-1: a payment that is not the quote in full is refused (one yen short or over).
#[test]
fn pay_1_partial_or_excess_payment_is_refused() {
    let story = Story::jp().quoted();
    for offered in [8_599, 8_601] {
        assert_refused(
            story.when_on(nov(3), pay(PaymentMethod::Card, Money::jpy(offered))),
            ShipmentError::AmountMismatch {
                expected: Money::jpy(8_600),
                offered: Money::jpy(offered),
            },
            "payment.amount_mismatch",
            Some(Rule::Pay1),
        );
    }
}

// rule PAY-1: a second payment is refused (after payment, and after shipping).
#[test]
fn pay_1_second_payment_is_refused() {
    let paid = Story::jp().quoted().paid();
    assert_refused(
        paid.when_on(nov(3), pay(PaymentMethod::Card, Money::jpy(8_600))),
        ShipmentError::AlreadyPaid,
        "payment.already_paid",
        Some(Rule::Pay1),
    );
    let shipped = Story::jp().quoted().shipped();
    let err = shipped
        .when_on(nov(5), pay(PaymentMethod::Balance, Money::jpy(8_600)))
        .unwrap_err();
    assert_eq!(err, ShipmentError::AlreadyPaid);
    // Auto Ship already paid it: a manual payment is a second payment.
    let auto = Story::jp().packed().on(
        nov(2),
        quote_for(
            with_auto_ship(Money::jpy(10_000)),
            "EMS",
            "US",
            &[],
            None,
            false,
        ),
    );
    assert_eq!(auto.state.status(), ShipmentStatus::Paid);
    assert_eq!(
        auto.when_on(nov(3), pay(PaymentMethod::Card, Money::jpy(8_600)))
            .unwrap_err(),
        ShipmentError::AlreadyPaid
    );
}

// rule ACC-5 / PAY-1: PayPal adds 3.6% + 40 JPY (half up) as a line of the payment.
#[test]
fn acc_5_paypal_payment_carries_the_fee_line() {
    let story = Story::jp().quoted();
    // 8,600 × 3.6% = 309.6; + 40 = 349.6 → 350.
    let events = story
        .when_on(nov(3), pay(PaymentMethod::Paypal, Money::jpy(8_950)))
        .unwrap();
    let ShipmentEvent::Paid {
        fee_lines,
        amount,
        quote_total,
        ..
    } = &events[0]
    else {
        panic!("expected paid");
    };
    assert_eq!(*quote_total, Money::jpy(8_600));
    assert_eq!(*amount, Money::jpy(8_950));
    assert_eq!(fee_lines.len(), 1);
    assert_eq!(
        fee_lines[0].item,
        LineItem::PaypalFee {
            base: Money::jpy(8_600),
            percent: dec!(3.6),
            fixed: Money::jpy(40),
            conversion: None,
        }
    );
    assert_eq!(fee_lines[0].amount, Money::jpy(350));
    // Paying the quote alone by PayPal is short by the fee.
    assert_refused(
        story.when_on(nov(3), pay(PaymentMethod::Paypal, Money::jpy(8_600))),
        ShipmentError::AmountMismatch {
            expected: Money::jpy(8_950),
            offered: Money::jpy(8_600),
        },
        "payment.amount_mismatch",
        Some(Rule::Pay1),
    );
}

// rule ACC-5: the fee rounds half up: 10,125 × 3.6% = 364.5 → 405 with the 40; 10,124 → 404.
#[test]
fn acc_5_paypal_fee_rounds_half_up() {
    assert_eq!(paypal_fee(10_125), Money::jpy(405));
    assert_eq!(paypal_fee(10_124), Money::jpy(404));
    assert_eq!(paypal_fee(0), Money::jpy(40));
}

// rule ACC-5 / MON-2 / POL-2: in cn-agency the 40 JPY is converted at the charging rate
// (reference + 1.00 JPY per CNY) from a recorded rate, and the conversion is on the line.
#[test]
fn acc_5_pol_2_cn_agency_converts_the_fixed_fee_with_a_recorded_rate() {
    let cny = parcel(
        "p-1",
        1_000,
        vec![item("goods", 1, Money::cny(dec!(500)), ItemCategory::Other)],
    );
    let story = Story::cn()
        .on(
            nov(2),
            ShipmentCommand::RequestPacking {
                shipment_id: shipment_id(),
                member: verified(),
                parcel: cny,
            },
        )
        .on(nov(2), packing("EMS", 1_200, dims(300, 200, 150)))
        .on(nov(2), quote("EMS", "US"));
    assert_eq!(story.quote_total(), Money::cny(dec!(340)));
    let rate = ExchangeRate {
        base: Currency::Cny,
        quote: Currency::Jpy,
        rate: dec!(20.85),
        source: "reference-bank TTM".into(),
        valid_on: nov(3),
    };
    // 340 × 3.6% = 12.24 CNY; 40 JPY / 21.85 = 1.8306… → 1.83 CNY; fee 14.07 CNY.
    let events = story
        .when_on(
            nov(3),
            ShipmentCommand::Pay {
                member: verified(),
                method: PaymentMethod::Paypal,
                amount: Money::cny(dec!(354.07)),
                exchange_rate: Some(rate.clone()),
            },
        )
        .unwrap();
    let ShipmentEvent::Paid { fee_lines, .. } = &events[0] else {
        panic!("expected paid")
    };
    let LineItem::PaypalFee {
        conversion: Some(c),
        ..
    } = &fee_lines[0].item
    else {
        panic!("expected a converted PayPal fee");
    };
    assert_eq!(c.to, Money::cny(dec!(1.83)));
    assert_eq!(c.applied_rate, dec!(21.85));
    assert_eq!(c.purpose, ConversionPurpose::Charge);
    assert_eq!(c.rounding, Rounding::HalfUp);
    assert_eq!(fee_lines[0].amount, Money::cny(dec!(14.07)));

    assert_refused(
        story.when_on(nov(3), pay(PaymentMethod::Paypal, Money::cny(dec!(354.07)))),
        ShipmentError::ExchangeRateRequired {
            from: Currency::Jpy,
            to: Currency::Cny,
        },
        "payment.exchange_rate_required",
        Some(Rule::Mon2),
    );
    let wrong = ExchangeRate {
        base: Currency::Jpy,
        ..rate
    };
    let err = story
        .when_on(
            nov(3),
            ShipmentCommand::Pay {
                member: verified(),
                method: PaymentMethod::Paypal,
                amount: Money::cny(dec!(354.07)),
                exchange_rate: Some(wrong),
            },
        )
        .unwrap_err();
    assert!(matches!(err, ShipmentError::ExchangeRateUnusable { .. }));
    assert_eq!(
        (err.code(), err.rule()),
        ("payment.exchange_rate_unusable", Some(Rule::Mon2))
    );
}

// rule ACC-5 (seed 001: PayPal決済やPayPal社が提供するクレジットカード/デビットカード決済): in
// cn-agency a card payment goes through PayPal and carries the same fee line as PayPal; in
// jp-forwarding a card payment carries none (pay_1_card_payment_in_full_is_recorded).
#[test]
fn acc_5_card_payment_through_paypal_carries_the_fee() {
    let cny = parcel(
        "p-1",
        1_000,
        vec![item("goods", 1, Money::cny(dec!(500)), ItemCategory::Other)],
    );
    let story = Story::cn()
        .on(
            nov(2),
            ShipmentCommand::RequestPacking {
                shipment_id: shipment_id(),
                member: verified(),
                parcel: cny,
            },
        )
        .on(nov(2), packing("EMS", 1_200, dims(300, 200, 150)))
        .on(nov(2), quote("EMS", "US"));
    let rate = ExchangeRate {
        base: Currency::Cny,
        quote: Currency::Jpy,
        rate: dec!(20.85),
        source: "reference-bank TTM".into(),
        valid_on: nov(3),
    };
    let by_card = |amount| ShipmentCommand::Pay {
        member: verified(),
        method: PaymentMethod::Card,
        amount,
        exchange_rate: Some(rate.clone()),
    };
    // 340 CNY + 14.07 CNY, as by PayPal (acc_5_pol_2_cn_agency_converts_the_fixed_fee...).
    let events = story
        .when_on(nov(3), by_card(Money::cny(dec!(354.07))))
        .unwrap();
    let ShipmentEvent::Paid {
        method, fee_lines, ..
    } = &events[0]
    else {
        panic!("expected paid")
    };
    assert_eq!(*method, PaymentMethod::Card);
    assert!(matches!(fee_lines[..], [ref line] if matches!(line.item, LineItem::PaypalFee { .. })));
    assert_eq!(fee_lines[0].amount, Money::cny(dec!(14.07)));
    assert_refused(
        story.when_on(nov(3), by_card(Money::cny(dec!(340)))),
        ShipmentError::AmountMismatch {
            expected: Money::cny(dec!(354.07)),
            offered: Money::cny(dec!(340)),
        },
        "payment.amount_mismatch",
        Some(Rule::Pay1),
    );
}

// rule MON-2: the fixed fee converts only at the rate recorded for the day of the payment; a
// rate of the day before is stale and refused with the rule.
#[test]
fn mon_2_paypal_fee_at_a_stale_rate_is_refused() {
    let cny = parcel(
        "p-1",
        1_000,
        vec![item("goods", 1, Money::cny(dec!(500)), ItemCategory::Other)],
    );
    let story = Story::cn()
        .on(
            nov(2),
            ShipmentCommand::RequestPacking {
                shipment_id: shipment_id(),
                member: verified(),
                parcel: cny,
            },
        )
        .on(nov(2), packing("EMS", 1_200, dims(300, 200, 150)))
        .on(nov(2), quote("EMS", "US"));
    let rate_of = |day| ExchangeRate {
        base: Currency::Cny,
        quote: Currency::Jpy,
        rate: dec!(20.85),
        source: "reference-bank TTM".into(),
        valid_on: day,
    };
    let pay_at = |rate| ShipmentCommand::Pay {
        member: verified(),
        method: PaymentMethod::Paypal,
        amount: Money::cny(dec!(354.07)),
        exchange_rate: Some(rate),
    };
    assert_refused(
        story.when_on(nov(4), pay_at(rate_of(nov(3)))),
        ShipmentError::ExchangeRateStale {
            valid_on: nov(3),
            applied_on: nov(4),
        },
        "payment.exchange_rate_stale",
        Some(Rule::Mon2),
    );
    assert!(story.when_on(nov(4), pay_at(rate_of(nov(4)))).is_ok());
}

// rule MEM-7: a manual auto_ship payment is accepted only within the Auto Ship limit.
#[test]
fn mem_7_auto_ship_payment_needs_the_limit() {
    let story = Story::jp().quoted();
    let ok = story
        .when_on(
            nov(3),
            pay_as(
                with_auto_ship(Money::jpy(8_600)),
                PaymentMethod::AutoShip,
                Money::jpy(8_600),
            ),
        )
        .unwrap();
    assert!(matches!(
        &ok[0],
        ShipmentEvent::Paid { method: PaymentMethod::AutoShip, auto_ship_limit: Some(l), .. } if *l == Money::jpy(8_600)
    ));
    assert_refused(
        story.when_on(
            nov(3),
            pay_as(
                with_auto_ship(Money::jpy(8_599)),
                PaymentMethod::AutoShip,
                Money::jpy(8_600),
            ),
        ),
        ShipmentError::AutoShipOverLimit {
            total: Money::jpy(8_600),
            limit: Some(Money::jpy(8_599)),
        },
        "payment.auto_ship_over_limit",
        Some(Rule::Mem7),
    );
}

// rule MEM-4: a suspended member cannot pay; MEM-2: nor can an unverified one.
#[test]
fn mem_4_suspended_member_cannot_pay() {
    let story = Story::jp().quoted();
    assert_refused(
        story.when_on(
            nov(3),
            pay_as(
                standing(StandingStatus::Suspended),
                PaymentMethod::Card,
                Money::jpy(8_600),
            ),
        ),
        ShipmentError::MemberSuspended,
        "member.suspended",
        Some(Rule::Mem4),
    );
    assert_refused(
        story.when_on(
            nov(3),
            pay_as(
                standing(StandingStatus::Unverified),
                PaymentMethod::Card,
                Money::jpy(8_600),
            ),
        ),
        ShipmentError::MemberUnverified,
        "member.unverified",
        Some(Rule::Mem2),
    );
}

// rule PAY-2: not held on the due date (9 Nov, up to 23:59 local), held from the day after.
#[test]
fn pay_2_unpaid_quote_is_held_only_after_the_due_date() {
    let story = Story::jp().quoted();
    let last_minute = local(&story.policy, nov(9), 23, 59);
    assert_refused(
        story.when(last_minute, ShipmentCommand::HoldUnpaid),
        ShipmentError::NotYetDue { due_on: nov(9) },
        "payment.not_yet_due",
        Some(Rule::Pay2),
    );
    let midnight = local(&story.policy, nov(10), 0, 0);
    story
        .given()
        .when(Issued::at(midnight, ShipmentCommand::HoldUnpaid))
        .then_expect_events(vec![ShipmentEvent::Held {
            member_id: member_id(),
            parcels: vec![
                domain::ids::ParcelId::parse("p-1").unwrap(),
                domain::ids::ParcelId::parse("p-2").unwrap(),
            ],
            due_on: nov(9),
            held_on: nov(10),
            policy: story.policy.version(),
        }]);
}

// rule PAY-2: a held shipment can still be paid, in full, and paying it releases it (the
// shipment is paid and ships); a paid one is never held.
#[test]
fn pay_2_paying_a_held_shipment_releases_it() {
    let held = Story::jp()
        .quoted()
        .on(nov(10), ShipmentCommand::HoldUnpaid);
    assert_eq!(held.state.status(), ShipmentStatus::Held);
    assert_refused(
        held.when_on(nov(12), pay(PaymentMethod::Card, Money::jpy(8_599))),
        ShipmentError::AmountMismatch {
            expected: Money::jpy(8_600),
            offered: Money::jpy(8_599),
        },
        "payment.amount_mismatch",
        Some(Rule::Pay1),
    );
    let paid = held.on(nov(12), pay(PaymentMethod::Card, Money::jpy(8_600)));
    assert!(matches!(
        paid.events.last(),
        Some(ShipmentEvent::Paid { amount, paid_on, .. })
            if *amount == Money::jpy(8_600) && *paid_on == nov(12)
    ));
    assert_eq!(paid.state.status(), ShipmentStatus::Paid);
    assert!(paid.when_on(nov(13), ship_ems()).is_ok());
    assert_eq!(
        paid.when_on(nov(13), pay(PaymentMethod::Card, Money::jpy(8_600)))
            .unwrap_err()
            .code(),
        "payment.already_paid"
    );
    let paid = Story::jp().quoted().paid();
    assert_eq!(
        paid.when_on(nov(20), ShipmentCommand::HoldUnpaid)
            .unwrap_err()
            .code(),
        "shipment.invalid_state"
    );
}

// rule CON-5: cancelled until paid (requested, packed, quoted, held); the parcels are released.
#[test]
fn con_5_cancel_until_paid_releases_the_parcels() {
    let parcels = vec![
        domain::ids::ParcelId::parse("p-1").unwrap(),
        domain::ids::ParcelId::parse("p-2").unwrap(),
    ];
    let cancel = || ShipmentCommand::Cancel {
        reason: "changed my mind".into(),
    };
    for story in [
        Story::jp().requested(),
        Story::jp().packed(),
        Story::jp().quoted(),
        Story::jp()
            .quoted()
            .on(nov(10), ShipmentCommand::HoldUnpaid),
    ] {
        let status = story.state.status();
        story
            .given()
            .when(Issued::at(morning(&story.policy, nov(10)), cancel()))
            .then_expect_events(vec![ShipmentEvent::Cancelled {
                member_id: member_id(),
                parcels: parcels.clone(),
                reason: "changed my mind".into(),
                cancelled_on: nov(10),
            }]);
        assert!(status.is_cancellable());
    }
}

// rule CON-5: a paid (or shipped) shipment cannot be cancelled.
#[test]
fn con_5_cancel_after_payment_is_refused() {
    let cancel = ShipmentCommand::Cancel {
        reason: "too late".into(),
    };
    assert_refused(
        Story::jp().quoted().paid().when_on(nov(3), cancel.clone()),
        ShipmentError::CancelAfterPayment,
        "cancellation.after_payment",
        Some(Rule::Con5),
    );
    assert_eq!(
        Story::jp()
            .quoted()
            .shipped()
            .when_on(nov(5), cancel.clone())
            .unwrap_err(),
        ShipmentError::CancelAfterPayment
    );
    let cancelled = Story::jp().quoted().on(nov(3), cancel.clone());
    assert_eq!(
        cancelled.when_on(nov(3), cancel).unwrap_err(),
        ShipmentError::InvalidState {
            command: "cancel",
            status: ShipmentStatus::Cancelled
        }
    );
}

proptest! {
    // rule ACC-5: the PayPal fee is within half a yen of 3.6% + 40 and is whole yen.
    #[test]
    fn acc_5_paypal_fee_is_percent_plus_fixed_rounded(total in 0i64..50_000_000) {
        let fee = paypal_fee(total);
        let exact = Decimal::from(total) * dec!(0.036) + dec!(40);
        prop_assert_eq!(fee.amount.fract(), Decimal::ZERO);
        prop_assert!(fee.amount - exact <= dec!(0.5));
        prop_assert!(exact - fee.amount < dec!(0.5));
    }
}

// rule ACC-6: dunning, step one. The quote is due on 9 Nov: no reminder on the due date
// (23:59 local), a reminder from the day after, once; the dunning notice follows a week later.
#[test]
fn acc_6_payment_reminder_on_the_day_after_the_due_date() {
    let story = Story::jp().quoted();
    assert_refused(
        story.when(
            local(&story.policy, nov(9), 23, 59),
            ShipmentCommand::RemindPayment,
        ),
        ShipmentError::ReminderNotYetDue { due_on: nov(9) },
        "dunning.reminder_not_yet_due",
        Some(Rule::Acc6),
    );
    story
        .given()
        .when(Issued::at(
            local(&story.policy, nov(10), 0, 0),
            ShipmentCommand::RemindPayment,
        ))
        .then_expect_events(vec![ShipmentEvent::PaymentReminded {
            member_id: member_id(),
            amount: Money::jpy(8_600),
            due_on: nov(9),
            reminded_on: nov(10),
            dunning_from: nov(17),
            policy: story.policy.version(),
        }]);
    let reminded = story.on(nov(10), ShipmentCommand::RemindPayment);
    assert_refused(
        reminded.when_on(nov(11), ShipmentCommand::RemindPayment),
        ShipmentError::AlreadyReminded {
            reminded_on: nov(10),
        },
        "dunning.already_reminded",
        Some(Rule::Acc6),
    );
    // A held shipment is reminded too (PAY-2 and ACC-6 fall on the same day).
    let held = Story::jp()
        .quoted()
        .on(nov(10), ShipmentCommand::HoldUnpaid);
    assert!(held
        .when_on(nov(10), ShipmentCommand::RemindPayment)
        .is_ok());
}

// rule ACC-6: dunning, step two. Reminded on 10 Nov: the notice is refused on 16 Nov (day 6
// after the reminder), sent on 17 Nov (a week after) with a deadline 5 days later, 22 Nov;
// interest runs from 23 Nov. Once; never without a reminder; never once paid.
#[test]
fn acc_6_dunning_notice_a_week_after_the_reminder_with_a_five_day_deadline() {
    let quoted = Story::jp().quoted();
    assert_refused(
        quoted.when_on(nov(20), ShipmentCommand::SendDunningNotice),
        ShipmentError::NotReminded,
        "dunning.not_reminded",
        Some(Rule::Acc6),
    );
    let reminded = quoted.on(nov(10), ShipmentCommand::RemindPayment);
    assert_refused(
        reminded.when(
            local(&reminded.policy, nov(16), 23, 59),
            ShipmentCommand::SendDunningNotice,
        ),
        ShipmentError::DunningNotYetDue { from: nov(17) },
        "dunning.notice_not_yet_due",
        Some(Rule::Acc6),
    );
    let noticed = reminded.on(nov(17), ShipmentCommand::SendDunningNotice);
    assert_eq!(
        noticed.events.last(),
        Some(&ShipmentEvent::DunningNoticeSent {
            member_id: member_id(),
            amount: Money::jpy(8_600),
            due_on: nov(9),
            sent_on: nov(17),
            pay_by: nov(22),
            interest_from: nov(23),
            annual_interest_percent: dec!(14.5),
            policy: noticed.policy.version(),
        })
    );
    assert_refused(
        noticed.when_on(nov(18), ShipmentCommand::SendDunningNotice),
        ShipmentError::DunningAlreadySent { sent_on: nov(17) },
        "dunning.notice_already_sent",
        Some(Rule::Acc6),
    );
    assert_refused(
        noticed.when_on(nov(18), ShipmentCommand::RemindPayment),
        ShipmentError::DunningAlreadySent { sent_on: nov(17) },
        "dunning.notice_already_sent",
        Some(Rule::Acc6),
    );
    // Paying after the notice is still possible, and ends dunning.
    let paid = noticed.on(nov(24), pay(PaymentMethod::Card, Money::jpy(8_600)));
    assert_eq!(
        paid.when_on(nov(25), ShipmentCommand::SendDunningNotice)
            .unwrap_err()
            .code(),
        "payment.already_paid"
    );
    assert_eq!(
        Story::jp()
            .quoted()
            .paid()
            .when_on(nov(10), ShipmentCommand::RemindPayment)
            .unwrap_err()
            .code(),
        "payment.already_paid"
    );
}
