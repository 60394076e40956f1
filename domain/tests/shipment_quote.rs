//! Shipment: packing into pieces and quoting (CON-4, FEE-1, FEE-2, FEE-3, MEM-7, PAY-2, POL-2).

#[path = "shipment_support.rs"]
mod support;

use domain::facts::{ItemCategory, StandingStatus};
use domain::money::{Currency, Money};
use domain::shipment::pricing::{self, plan_pieces, warranty_fee};
use domain::shipment::{
    LineItem, PaymentMethod, Piece, QuoteLine, ShipmentCommand, ShipmentError, ShipmentEvent,
};
use domain::{Issued, Policy, Refusal, Rule};
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use support::*;

const NOV_2: (i32, u32, u32) = (2026, 11, 2);

fn nov(day: u32) -> chrono::NaiveDate {
    d(NOV_2.0, NOV_2.1, day)
}

/// One stored parcel of `grams` worth `value` JPY, requested for packing on its own, packed
/// for `carrier` at `packed_g` and `dimensions`.
fn single_packed(
    policy: Policy,
    grams: u32,
    value: i64,
    carrier: &str,
    packed_g: u32,
    dimensions: domain::measure::Dimensions,
) -> Story {
    Story::new(policy)
        .on(
            nov(2),
            ShipmentCommand::RequestPacking {
                shipment_id: shipment_id(),
                member: verified(),
                parcel: parcel_jpy("p-1", grams, value),
            },
        )
        .on(nov(2), packing(carrier, packed_g, dimensions))
}

fn quoted_event(events: &[ShipmentEvent]) -> (&[Piece], &[QuoteLine], Money) {
    match events.first() {
        Some(ShipmentEvent::Quoted {
            pieces,
            lines,
            total,
            ..
        }) => (pieces, lines, *total),
        other => panic!("expected quoted, got {other:?}"),
    }
}

fn line(item: LineItem, quantity: u32, unit: i64) -> QuoteLine {
    QuoteLine {
        item,
        quantity,
        unit_price: Money::jpy(unit),
        amount: Money::jpy(unit * i64::from(quantity)),
    }
}

fn ems_charge(zone: &str, piece: u32, chargeable_g: u32, price: i64) -> QuoteLine {
    line(
        LineItem::CarrierCharge {
            carrier: "EMS".into(),
            zone: zone.into(),
            piece,
            chargeable_g,
        },
        1,
        price,
    )
}

// rule FEE-1 / PAY-2: the quote lists its lines, totals them, records the tariff and policy
// versions, and falls due quote_due_days (7) later.
#[test]
fn fee_1_quote_lists_lines_and_records_tariff_version() {
    let story = Story::jp().packed();
    story
        .given()
        .when(Issued::at(
            morning(&story.policy, nov(2)),
            quote("EMS", "US"),
        ))
        .then_expect_events(vec![ShipmentEvent::Quoted {
            member_id: member_id(),
            carrier: "EMS".into(),
            destination: "US".into(),
            zone: "3".into(),
            pieces: vec![Piece {
                number: 1,
                actual_g: 1_200,
                volumetric_g: None,
                chargeable_g: 1_200,
            }],
            options: vec![],
            insured: None,
            warranty: false,
            lines: vec![
                line(LineItem::ForwardingFee, 1, 800),
                ems_charge("3", 1, 1_200, 7_800),
            ],
            total: Money::jpy(8_600),
            quoted_on: nov(2),
            due_on: nov(9),
            tariff_version: "example-2026.11".into(),
            policy: story.policy.version(),
        }]);
}

// rule FEE-1: a volumetric carrier charges max(actual, L×W×H/5000); a non-volumetric one
// charges the actual weight.
#[test]
fn fee_1_volumetric_weight_applies_only_to_volumetric_carriers() {
    // 1,000 g in 400×300×200 mm: volumetric 24,000,000 mm³ / 5000 = 4,800 g.
    let story = single_packed(
        Policy::jp_forwarding(),
        900,
        8_000,
        "DHL",
        1_000,
        dims(400, 300, 200),
    );
    let dhl = story.when_on(nov(2), quote("DHL", "US")).unwrap();
    let (pieces, lines, total) = quoted_event(&dhl);
    assert_eq!(
        pieces,
        [Piece {
            number: 1,
            actual_g: 1_000,
            volumetric_g: Some(4_800),
            chargeable_g: 4_800
        }]
    );
    // DHL zone 3, step up to 10,000 g: 19,800.
    assert_eq!(lines[1].amount, Money::jpy(19_800));
    assert_eq!(total, Money::jpy(800 + 19_800));
    // The same box by EMS (not volumetric): 1,000 g, step up to 1,000 g, zone 3: 5,300.
    let ems = story.when_on(nov(2), quote("EMS", "US")).unwrap();
    let (pieces, lines, _) = quoted_event(&ems);
    assert_eq!(pieces[0].chargeable_g, 1_000);
    assert_eq!(lines[1], ems_charge("3", 1, 1_000, 5_300));
}

// rule FEE-1: the step boundary is inclusive (1,000 g is the 1,000 g step, 1,001 g the next).
#[test]
fn fee_1_rate_steps_are_inclusive_of_their_weight() {
    let policy = Policy::jp_forwarding();
    let ems = policy.carrier("EMS").unwrap();
    assert_eq!(
        pricing::carrier_rate(ems, "3", 1_000),
        Some(Money::jpy(5_300))
    );
    assert_eq!(
        pricing::carrier_rate(ems, "3", 1_001),
        Some(Money::jpy(7_800))
    );
    assert_eq!(pricing::carrier_rate(ems, "3", 30_001), None);
}

// rule FEE-1: unknown carrier, destination not served, unknown or repeated option: typed refusals.
#[test]
fn fee_1_unknown_carrier_destination_and_options_are_refused() {
    let story = Story::jp().packed();
    assert_refused(
        story.when_on(nov(2), quote("UPS", "US")),
        ShipmentError::UnknownCarrier {
            carrier: "UPS".into(),
        },
        "tariff.unknown_carrier",
        Some(Rule::Fee1),
    );
    assert_refused(
        story.when_on(nov(2), quote("EMS", "BR")),
        ShipmentError::DestinationNotServed {
            carrier: "EMS".into(),
            destination: "BR".into(),
        },
        "tariff.destination_not_served",
        Some(Rule::Fee1),
    );
    assert_refused(
        story.when_on(
            nov(2),
            quote_for(verified(), "EMS", "US", &["gift-wrap"], None, false),
        ),
        ShipmentError::UnknownOption {
            option: "gift-wrap".into(),
        },
        "quote.unknown_option",
        Some(Rule::Fee1),
    );
    assert_refused(
        story.when_on(
            nov(2),
            quote_for(verified(), "EMS", "US", &["photo", "photo"], None, false),
        ),
        ShipmentError::DuplicateOption {
            option: "photo".into(),
        },
        "quote.duplicate_option",
        Some(Rule::Fee1),
    );
    // Packing for a carrier that is not in the tariff is refused the same way.
    let requested = Story::jp().requested();
    let err = requested
        .when_on(nov(2), packing("UPS", 1_200, dims(300, 200, 150)))
        .unwrap_err();
    assert_eq!(err.code(), "tariff.unknown_carrier");
}

// rule CON-4: over the carrier's max piece weight the shipment is split into pieces; the
// forwarding fee and options are charged per piece.
#[test]
fn con_4_heavy_shipment_is_split_and_fees_charged_per_piece() {
    let story = single_packed(
        Policy::jp_forwarding(),
        34_000,
        8_000,
        "EMS",
        35_000,
        dims(600, 500, 400),
    );
    let packed = story.events.last().unwrap();
    let ShipmentEvent::Packed {
        pieces,
        max_piece_weight_g,
        ..
    } = packed
    else {
        panic!("expected packed, got {packed:?}");
    };
    assert_eq!(*max_piece_weight_g, 30_000);
    assert_eq!(
        pieces.iter().map(|p| p.actual_g).collect::<Vec<_>>(),
        [17_500, 17_500]
    );

    let events = story
        .when_on(
            nov(2),
            quote_for(verified(), "EMS", "US", &["photo"], None, false),
        )
        .unwrap();
    let (_, lines, total) = quoted_event(&events);
    assert_eq!(
        lines,
        [
            line(LineItem::ForwardingFee, 2, 800),
            ems_charge("3", 1, 17_500, 47_000),
            ems_charge("3", 2, 17_500, 47_000),
            line(
                LineItem::Option {
                    code: "photo".into()
                },
                2,
                200
            ),
        ]
    );
    assert_eq!(total, Money::jpy(1_600 + 94_000 + 400));
}

// rule CON-4: 30,000 g is one EMS piece; 30,001 g is two (15,001 g + 15,000 g).
#[test]
fn con_4_split_starts_one_gram_over_the_max_piece_weight() {
    let policy = Policy::jp_forwarding();
    let ems = policy.carrier("EMS").unwrap();
    let box_ = dims(500, 400, 300);
    assert_eq!(
        plan_pieces(grams(30_000), box_, ems, Some("US"), 5000).len(),
        1
    );
    let two = plan_pieces(grams(30_001), box_, ems, Some("US"), 5000);
    assert_eq!(
        two.iter().map(|p| p.actual_g).collect::<Vec<_>>(),
        [15_001, 15_000]
    );
}

// rule CON-4: the split limit is the destination's and the carrier's (seed 000: 仕向け国発送条件
// の重量制限): 25,000 g by EMS is one piece to the US (30,000 g) and two to a destination whose
// conditions take 20,000 g (jp-forwarding's example: AU), each charged the per-piece fees.
#[test]
fn con_4_split_limit_is_per_destination_and_carrier() {
    let policy = Policy::jp_forwarding();
    let ems = policy.carrier("EMS").unwrap();
    let box_ = dims(500, 400, 300);
    assert_eq!(ems.max_piece_weight_g_to(Some("US")), 30_000);
    assert_eq!(ems.max_piece_weight_g_to(Some("AU")), 20_000);
    assert_eq!(ems.max_piece_weight_g_to(None), 30_000);
    assert_eq!(
        plan_pieces(grams(20_000), box_, ems, Some("AU"), 5000).len(),
        1
    );
    assert_eq!(
        plan_pieces(grams(20_001), box_, ems, Some("AU"), 5000).len(),
        2
    );
    // The same limit for another carrier is its own: DHL takes 70,000 g to AU.
    let dhl = policy.carrier("DHL").unwrap();
    assert_eq!(dhl.max_piece_weight_g_to(Some("AU")), 70_000);

    let story = || single_packed(Policy::jp_forwarding(), 24_000, 8_000, "EMS", 25_000, box_);
    let to_us = story().when_on(nov(2), quote("EMS", "US")).unwrap();
    let (pieces, lines, _) = quoted_event(&to_us);
    assert_eq!(pieces.len(), 1);
    assert_eq!(lines[0], line(LineItem::ForwardingFee, 1, 800));
    let to_au = story().when_on(nov(2), quote("EMS", "AU")).unwrap();
    let (pieces, lines, _) = quoted_event(&to_au);
    assert_eq!(
        pieces.iter().map(|p| p.actual_g).collect::<Vec<_>>(),
        [12_500, 12_500]
    );
    assert_eq!(lines[0], line(LineItem::ForwardingFee, 2, 800));
}

// rule CON-4: the quote splits for the quoted carrier (ePacket takes 2,000 g pieces).
#[test]
fn con_4_quote_splits_for_the_quoted_carrier() {
    let story = single_packed(
        Policy::jp_forwarding(),
        4_400,
        8_000,
        "EMS",
        4_500,
        dims(300, 200, 150),
    );
    let events = story.when_on(nov(2), quote("ePacket", "US")).unwrap();
    let (pieces, lines, total) = quoted_event(&events);
    assert_eq!(
        pieces.iter().map(|p| p.actual_g).collect::<Vec<_>>(),
        [1_500, 1_500, 1_500]
    );
    assert_eq!(lines[0], line(LineItem::ForwardingFee, 3, 800));
    // ePacket zone 3, step up to 2,000 g: 4,300 each.
    assert_eq!(total, Money::jpy(3 * 800 + 3 * 4_300));
}

// rule FEE-1 / CON-4: a chargeable weight above the tariff's last step is split first.
#[test]
fn fee_1_volumetric_weight_above_last_step_is_split_first() {
    let policy = Policy::jp_forwarding();
    let dhl = policy.carrier("DHL").unwrap();
    // 1 m³ = 200,000 g volumetric; DHL's last step is 70,000 g: 3 pieces.
    let pieces = plan_pieces(
        grams(10_000),
        dims(1_000, 1_000, 1_000),
        dhl,
        Some("US"),
        5000,
    );
    assert_eq!(
        pieces,
        vec![
            Piece {
                number: 1,
                actual_g: 3_334,
                volumetric_g: Some(66_667),
                chargeable_g: 66_667
            },
            Piece {
                number: 2,
                actual_g: 3_333,
                volumetric_g: Some(66_667),
                chargeable_g: 66_667
            },
            Piece {
                number: 3,
                actual_g: 3_333,
                volumetric_g: Some(66_666),
                chargeable_g: 66_666
            },
        ]
    );
}

// rule FEE-2: the add-on is 300 JPY flat up to 20,000 JPY inclusive, else 1.5% rounded half up.
#[test]
fn fee_2_warranty_is_flat_at_20000_and_percent_above() {
    let policy = Policy::jp_forwarding();
    let w = policy.fees.warranty.as_ref().unwrap();
    assert_eq!(
        warranty_fee(Money::jpy(20_000), w).unwrap(),
        (Money::jpy(300), true)
    );
    // 20,001 × 1.5% = 300.015 → 300, by percent.
    assert_eq!(
        warranty_fee(Money::jpy(20_001), w).unwrap(),
        (Money::jpy(300), false)
    );
    // 20,033 × 1.5% = 300.495 → 300; 20,034 × 1.5% = 300.51 → 301; 20,100 → 301.5 → 302.
    assert_eq!(
        warranty_fee(Money::jpy(20_033), w).unwrap().0,
        Money::jpy(300)
    );
    assert_eq!(
        warranty_fee(Money::jpy(20_034), w).unwrap().0,
        Money::jpy(301)
    );
    assert_eq!(
        warranty_fee(Money::jpy(20_100), w).unwrap().0,
        Money::jpy(302)
    );
    assert_eq!(
        warranty_fee(Money::jpy(100_000), w).unwrap().0,
        Money::jpy(1_500)
    );
}

// rule FEE-2 (seed 002 第2条: 以转送包裹个数为单位): the add-on is priced per parcel, one
// quote line each on that parcel's items: two 10,000 JPY parcels cost 2 × 300 = 600 JPY.
#[test]
fn fee_2_warranty_is_priced_per_parcel() {
    let story = Story::jp()
        .on(
            nov(2),
            consolidation(vec![
                parcel_jpy("p-1", 1_000, 10_000),
                parcel_jpy("p-2", 200, 10_000),
            ]),
        )
        .on(nov(2), packing("EMS", 1_200, dims(300, 200, 150)));
    let events = story
        .when_on(nov(2), quote_for(verified(), "EMS", "US", &[], None, true))
        .unwrap();
    let (_, lines, total) = quoted_event(&events);
    let flat = line(
        LineItem::WarrantyAddOn {
            items_total: Money::jpy(10_000),
            flat: true,
            percent: dec!(1.5),
        },
        1,
        300,
    );
    assert_eq!(lines[2..], [flat.clone(), flat]);
    assert_eq!(total, Money::jpy(8_600 + 600));
}

// rule FEE-2: each parcel's line is flat or by percent on its own items' tax-inclusive total.
#[test]
fn fee_2_warranty_line_in_quote() {
    // Items of the standard story: 8,000 and 4,000 JPY in two parcels → flat 300 each.
    let story = Story::jp().packed();
    let events = story
        .when_on(nov(2), quote_for(verified(), "EMS", "US", &[], None, true))
        .unwrap();
    let (_, lines, total) = quoted_event(&events);
    let flat = |value| {
        line(
            LineItem::WarrantyAddOn {
                items_total: Money::jpy(value),
                flat: true,
                percent: dec!(1.5),
            },
            1,
            300,
        )
    };
    assert_eq!(lines[2..], [flat(8_000), flat(4_000)]);
    assert_eq!(total, Money::jpy(8_600 + 600));
    // An items total of 30,000 JPY (quantity 3 × 10,000) pays 1.5% = 450.
    let three = parcel(
        "p-1",
        1_000,
        vec![item("coat", 3, Money::jpy(10_000), ItemCategory::Apparel)],
    );
    let story = Story::jp()
        .on(
            nov(2),
            ShipmentCommand::RequestPacking {
                shipment_id: shipment_id(),
                member: verified(),
                parcel: three,
            },
        )
        .on(nov(2), packing("EMS", 1_200, dims(300, 200, 150)));
    let events = story
        .when_on(nov(2), quote_for(verified(), "EMS", "US", &[], None, true))
        .unwrap();
    assert_eq!(
        quoted_event(&events).1.last().unwrap().amount,
        Money::jpy(450)
    );
}

// rule FEE-2 / POL-2: cn-agency offers no warranty add-on.
#[test]
fn fee_2_pol_2_cn_agency_offers_no_warranty() {
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
        .on(nov(2), packing("EMS", 1_200, dims(300, 200, 150)));
    assert_refused(
        story.when_on(nov(2), quote_for(verified(), "EMS", "US", &[], None, true)),
        ShipmentError::WarrantyNotOffered,
        "quote.warranty_not_offered",
        Some(Rule::Fee2),
    );
    // The same quote without it is in CNY: 40 forwarding + 300 (EMS zone 2, up to 2,000 g).
    let events = story.when_on(nov(2), quote("EMS", "US")).unwrap();
    assert_eq!(quoted_event(&events).2, Money::cny(dec!(340)));
}

// rule FEE-3: insurance is optional, capped at the carrier's compensation cap (EMS
// 2,000,000 JPY); the premium is insurance_percent (2%) of the insured amount, half up.
#[test]
fn fee_3_insurance_is_capped_at_the_ems_compensation_cap() {
    let story = Story::jp().packed();
    let insured = |amount: i64| {
        let events = story
            .when_on(
                nov(2),
                quote_for(
                    verified(),
                    "EMS",
                    "US",
                    &[],
                    Some(Money::jpy(amount)),
                    false,
                ),
            )
            .unwrap();
        match (&events[0], quoted_event(&events).1.last().unwrap()) {
            (ShipmentEvent::Quoted { insured, .. }, last) => (*insured, last.clone()),
            _ => unreachable!(),
        }
    };
    let (at_cap, line_at_cap) = insured(2_000_000);
    assert_eq!(at_cap, Some(Money::jpy(2_000_000)));
    assert_eq!(line_at_cap.amount, Money::jpy(40_000));
    let (over, line_over) = insured(3_000_000);
    assert_eq!(over, Some(Money::jpy(2_000_000)));
    assert_eq!(
        line_over,
        line(
            LineItem::Insurance {
                requested: Money::jpy(3_000_000),
                insured: Money::jpy(2_000_000),
                cap: Money::jpy(2_000_000),
                percent: dec!(2),
            },
            1,
            40_000
        )
    );
    // 100,025 × 2% = 2,000.5 → 2,001 (half up); 100,024 → 2,000.48 → 2,000.
    assert_eq!(insured(100_025).1.amount, Money::jpy(2_001));
    assert_eq!(insured(100_024).1.amount, Money::jpy(2_000));
}

// rule FEE-3: a carrier without a compensation cap insures up to the declared value; a
// non-positive amount is refused.
#[test]
fn fee_3_uncapped_carrier_insures_up_to_declared_value() {
    let story = Story::jp()
        .requested()
        .on(nov(2), packing("DHL", 1_200, dims(300, 200, 150)));
    let events = story
        .when_on(
            nov(2),
            quote_for(
                verified(),
                "DHL",
                "US",
                &[],
                Some(Money::jpy(50_000)),
                false,
            ),
        )
        .unwrap();
    assert!(
        matches!(&events[0], ShipmentEvent::Quoted { insured: Some(m), .. } if *m == Money::jpy(12_000))
    );
    assert_eq!(
        quoted_event(&events).1.last().unwrap().amount,
        Money::jpy(240)
    );
    assert_refused(
        story.when_on(
            nov(2),
            quote_for(verified(), "DHL", "US", &[], Some(Money::jpy(0)), false),
        ),
        ShipmentError::InvalidInsuredAmount {
            requested: Money::jpy(0),
        },
        "quote.invalid_insured_amount",
        Some(Rule::Fee3),
    );
}

// rule MEM-7: a quote at the Auto Ship limit is paid in the same decision (auto_ship).
#[test]
fn mem_7_quote_at_auto_ship_limit_is_paid_automatically() {
    let story = Story::jp().packed();
    let member = with_auto_ship(Money::jpy(8_600));
    let events = story
        .when_on(nov(2), quote_for(member, "EMS", "US", &[], None, false))
        .unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[1],
        ShipmentEvent::Paid {
            member_id: member_id(),
            method: PaymentMethod::AutoShip,
            quote_total: Money::jpy(8_600),
            fee_lines: vec![],
            amount: Money::jpy(8_600),
            auto_ship_limit: Some(Money::jpy(8_600)),
            paid_on: nov(2),
            policy: story.policy.version(),
        }
    );
}

// rule MEM-7: one yen over the limit falls back to manual payment (quoted only).
#[test]
fn mem_7_quote_over_auto_ship_limit_stays_quoted() {
    let story = Story::jp().packed();
    let events = story
        .when_on(
            nov(2),
            quote_for(
                with_auto_ship(Money::jpy(8_599)),
                "EMS",
                "US",
                &[],
                None,
                false,
            ),
        )
        .unwrap();
    assert_eq!(events.len(), 1);
    assert!(matches!(events[0], ShipmentEvent::Quoted { .. }));
    // A suspended member is not paid for automatically either (MEM-4).
    let suspended = domain::facts::MemberStanding {
        status: StandingStatus::Suspended,
        ..with_auto_ship(Money::jpy(100_000))
    };
    let events = story
        .when_on(nov(2), quote_for(suspended, "EMS", "US", &[], None, false))
        .unwrap();
    assert_eq!(events.len(), 1);
    // A limit in another currency never applies.
    assert!(!domain::shipment::auto_ship_applies(
        &with_auto_ship(Money::cny(dec!(100000))),
        Money::jpy(1)
    ));
}

// A quote is for the shipment's member only.
#[test]
fn quote_for_another_member_is_refused() {
    let story = Story::jp().packed();
    let other = domain::facts::MemberStanding {
        member_id: domain::ids::MemberId::parse("m-2").unwrap(),
        ..verified()
    };
    assert_refused(
        story.when_on(nov(2), quote_for(other, "EMS", "US", &[], None, false)),
        ShipmentError::NotMembersShipment {
            owner: member_id(),
            given: domain::ids::MemberId::parse("m-2").unwrap(),
        },
        "shipment.not_members_shipment",
        None,
    );
}

// rule PAY-2: the due date is the quote's local date + quote_due_days, month ends included.
#[test]
fn pay_2_due_date_counts_calendar_days() {
    let policy = Policy::jp_forwarding();
    assert_eq!(
        pricing::quote_due_on(d(2026, 1, 28), &policy.payment),
        d(2026, 2, 4)
    );
    assert_eq!(
        pricing::quote_due_on(d(2028, 2, 25), &policy.payment),
        d(2028, 3, 3)
    );
}

fn option_codes() -> impl Strategy<Value = Vec<String>> {
    proptest::sample::subsequence(vec!["photo", "bubble-wrap", "remove-invoice"], 0..=3)
        .prop_map(|v| v.into_iter().map(String::from).collect())
}

proptest! {
    // rule FEE-1 / CON-4: the total is the sum of the lines; every line is unit × quantity;
    // per-piece fees count the pieces; pieces share out the weight and respect the limits.
    #[test]
    fn fee_1_total_is_the_sum_of_the_lines(
        weight in 1u32..200_000,
        l in 1u32..1_500, w in 1u32..1_500, h in 1u32..1_500,
        carrier in prop_oneof![Just("EMS"), Just("DHL"), Just("ePacket")],
        destination in prop_oneof![Just("US"), Just("CN"), Just("GB"), Just("AU")],
        options in option_codes(),
        insurance in proptest::option::of(1i64..5_000_000),
        warranty in any::<bool>(),
        value in 1i64..500_000,
    ) {
        let policy = Policy::jp_forwarding();
        let request = pricing::QuoteRequest {
            carrier,
            destination,
            options: &options,
            insurance: insurance.map(Money::jpy),
            warranty,
        };
        let priced = pricing::price_quote(&policy, grams(weight), dims(l, w, h), &[Money::jpy(value)], request).unwrap();
        let sum: Decimal = priced.lines.iter().map(|l| l.amount.amount).sum();
        prop_assert_eq!(priced.total, Money::new(sum, Currency::Jpy));
        for line in &priced.lines {
            prop_assert_eq!(line.amount.amount, line.unit_price.amount * Decimal::from(line.quantity));
            prop_assert_eq!(line.amount.amount.fract(), Decimal::ZERO);
        }
        let c = policy.carrier(carrier).unwrap();
        let n = u32::try_from(priced.pieces.len()).unwrap();
        prop_assert_eq!(&priced.lines[0], &QuoteLine {
            item: LineItem::ForwardingFee,
            quantity: n,
            unit_price: policy.fees.forwarding_fee_per_piece,
            amount: policy.fees.forwarding_fee_per_piece.times(Decimal::from(n)),
        });
        let carrier_lines = priced.lines.iter().filter(|l| matches!(l.item, LineItem::CarrierCharge { .. })).count();
        prop_assert_eq!(carrier_lines, priced.pieces.len());
        prop_assert_eq!(priced.pieces.iter().map(|p| u64::from(p.actual_g)).sum::<u64>(), u64::from(weight));
        let last_step = c.steps.last().unwrap().up_to_g;
        for p in &priced.pieces {
            prop_assert!(p.actual_g <= c.max_piece_weight_g_to(Some(destination)));
            prop_assert!(p.chargeable_g <= last_step);
            prop_assert!(p.chargeable_g >= p.actual_g);
        }
        if let Some(insured) = priced.insured {
            let cap = c.compensation_cap.unwrap_or(Money::jpy(value));
            prop_assert!(insured.amount <= cap.amount);
        }
    }
}
