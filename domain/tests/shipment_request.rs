//! Shipment: packing and consolidation requests (CON-1, CON-2, MEM-2, MEM-4, MEM-6, POL-2).

#[path = "shipment_support.rs"]
mod support;

use domain::facts::{ItemCategory, StandingStatus};
use domain::money::{Currency, Money};
use domain::shipment::{ShipmentCommand, ShipmentError, ShipmentEvent, ShipmentStatus};
use domain::{Issued, Policy, Rule};
use rust_decimal_macros::dec;
use support::*;

fn request_by(
    member: domain::facts::MemberStanding,
    parcels: Vec<domain::facts::ParcelFacts>,
) -> ShipmentCommand {
    ShipmentCommand::RequestConsolidation {
        shipment_id: shipment_id(),
        member,
        parcels,
    }
}

// rule CON-1
#[test]
fn con_1_two_parcels_of_one_member_are_consolidated() {
    let story = Story::jp();
    let mut later = parcel_jpy("p-2", 200, 4_000);
    later.received_on = d(2026, 10, 30);
    let parcels = vec![parcel_jpy("p-1", 1_000, 8_000), later];
    story
        .given()
        .when(Issued::at(
            morning(&story.policy, d(2026, 11, 2)),
            consolidation(parcels.clone()),
        ))
        .then_expect_events(vec![ShipmentEvent::Consolidated {
            shipment_id: shipment_id(),
            member_id: member_id(),
            parcels,
            total_weight_g: 1_200,
            declared_value: Money::jpy(12_000),
            earliest_received_on: d(2026, 10, 26),
            requested_on: d(2026, 11, 2),
            policy: story.policy.version(),
        }]);
}

// rule CON-1: a consolidation needs at least `min_parcels` (2) parcels.
#[test]
fn con_1_one_parcel_is_not_a_consolidation() {
    let story = Story::jp();
    assert_refused(
        story.when_on(
            d(2026, 11, 2),
            consolidation(vec![parcel_jpy("p-1", 1_000, 8_000)]),
        ),
        ShipmentError::TooFewParcels { min: 2, given: 1 },
        "consolidation.too_few_parcels",
        Some(Rule::Con1),
    );
}

// rule CON-1: all the parcels are the requesting member's.
#[test]
fn con_1_a_parcel_of_another_member_is_refused() {
    let story = Story::jp();
    let mut foreign = parcel_jpy("p-2", 200, 4_000);
    foreign.member_id = domain::ids::MemberId::parse("m-2").unwrap();
    assert_refused(
        story.when_on(
            d(2026, 11, 2),
            consolidation(vec![parcel_jpy("p-1", 1_000, 8_000), foreign]),
        ),
        ShipmentError::ForeignParcel {
            parcel_id: domain::ids::ParcelId::parse("p-2").unwrap(),
        },
        "shipment.foreign_parcel",
        Some(Rule::Con1),
    );
}

// rule CON-1 / MEM-6: a parcel under Auto Pack is never consolidated.
#[test]
fn con_1_mem_6_auto_pack_parcel_cannot_be_consolidated() {
    let story = Story::jp();
    let mut auto = parcel_jpy("p-2", 200, 4_000);
    auto.auto_pack = true;
    assert_refused(
        story.when_on(
            d(2026, 11, 2),
            consolidation(vec![parcel_jpy("p-1", 1_000, 8_000), auto]),
        ),
        ShipmentError::AutoPackParcel {
            parcel_id: domain::ids::ParcelId::parse("p-2").unwrap(),
        },
        "consolidation.auto_pack_parcel",
        Some(Rule::Con1),
    );
}

// rule CON-1 (and CON-3 inside one request): the same parcel cannot count twice.
#[test]
fn con_1_the_same_parcel_twice_is_refused() {
    let story = Story::jp();
    let p = parcel_jpy("p-1", 1_000, 8_000);
    assert_refused(
        story.when_on(d(2026, 11, 2), consolidation(vec![p.clone(), p])),
        ShipmentError::DuplicateParcel {
            parcel_id: domain::ids::ParcelId::parse("p-1").unwrap(),
        },
        "consolidation.duplicate_parcel",
        Some(Rule::Con3),
    );
}

// rule CON-1 / MEM-6: a single parcel is packed on its own, also under Auto Pack.
#[test]
fn con_1_mem_6_single_parcel_packing_request_is_accepted() {
    let story = Story::jp();
    let mut auto = parcel_jpy("p-1", 1_000, 8_000);
    auto.auto_pack = true;
    let events = story
        .when_on(
            d(2026, 11, 2),
            ShipmentCommand::RequestPacking {
                shipment_id: shipment_id(),
                member: verified(),
                parcel: auto.clone(),
            },
        )
        .unwrap();
    assert_eq!(
        events,
        vec![ShipmentEvent::PackingRequested {
            shipment_id: shipment_id(),
            member_id: member_id(),
            parcel: auto,
            requested_on: d(2026, 11, 2),
        }]
    );
    let mut foreign = parcel_jpy("p-9", 1_000, 8_000);
    foreign.member_id = domain::ids::MemberId::parse("m-2").unwrap();
    let refused = story.when_on(
        d(2026, 11, 2),
        ShipmentCommand::RequestPacking {
            shipment_id: shipment_id(),
            member: verified(),
            parcel: foreign,
        },
    );
    assert_eq!(refused.unwrap_err().rule(), Some(Rule::Con1));
}

use domain::Refusal;

// rule CON-2: 19,999 g passes (jp-forwarding, inclusive bound at 20 kg).
#[test]
fn con_2_total_weight_19_999_g_passes() {
    let story = Story::jp();
    let events = story
        .when_on(
            d(2026, 11, 2),
            consolidation(vec![
                parcel_jpy("p-1", 10_000, 8_000),
                parcel_jpy("p-2", 9_999, 4_000),
            ]),
        )
        .unwrap();
    assert!(matches!(
        events[..],
        [ShipmentEvent::Consolidated {
            total_weight_g: 19_999,
            ..
        }]
    ));
}

// rule CON-2: a total of exactly 20,000 g is refused.
#[test]
fn con_2_total_weight_at_20kg_is_refused() {
    let story = Story::jp();
    assert_refused(
        story.when_on(
            d(2026, 11, 2),
            consolidation(vec![
                parcel_jpy("p-1", 10_000, 8_000),
                parcel_jpy("p-2", 10_000, 4_000),
            ]),
        ),
        ShipmentError::WeightLimit {
            total_g: 20_000,
            limit_g: 20_000,
        },
        "consolidation.weight_limit",
        Some(Rule::Con2),
    );
}

// rule CON-2: declared value 199,999 JPY passes; 200,000 JPY is refused.
#[test]
fn con_2_declared_value_at_200_000_jpy_is_refused() {
    let story = Story::jp();
    let ok = story
        .when_on(
            d(2026, 11, 2),
            consolidation(vec![
                parcel_jpy("p-1", 1_000, 100_000),
                parcel_jpy("p-2", 200, 99_999),
            ]),
        )
        .unwrap();
    assert!(
        matches!(&ok[..], [ShipmentEvent::Consolidated { declared_value, .. }] if *declared_value == Money::jpy(199_999))
    );
    assert_refused(
        story.when_on(
            d(2026, 11, 2),
            consolidation(vec![
                parcel_jpy("p-1", 1_000, 100_000),
                parcel_jpy("p-2", 200, 100_000),
            ]),
        ),
        ShipmentError::ValueLimit {
            total: Money::jpy(200_000),
            limit: Money::jpy(200_000),
        },
        "consolidation.value_limit",
        Some(Rule::Con2),
    );
}

// rule CON-2: the declared value counts every unit (quantity × unit price).
#[test]
fn con_2_declared_value_counts_quantities() {
    let story = Story::jp();
    let many = parcel(
        "p-1",
        1_000,
        vec![item("shirt", 40, Money::jpy(5_000), ItemCategory::Apparel)],
    );
    let err = story
        .when_on(
            d(2026, 11, 2),
            consolidation(vec![many, parcel_jpy("p-2", 200, 1)]),
        )
        .unwrap_err();
    assert_eq!(err.code(), "consolidation.value_limit");
}

// rule CON-2 / POL-2: cn-agency has no weight or value limit on consolidation.
#[test]
fn con_2_pol_2_cn_agency_has_no_consolidation_limits() {
    let story = Story::cn();
    let cny = |id: &str, g: u32, yuan| {
        parcel(
            id,
            g,
            vec![item("goods", 1, Money::cny(yuan), ItemCategory::Other)],
        )
    };
    let events = story
        .when_on(
            d(2026, 11, 2),
            consolidation(vec![
                cny("p-1", 15_000, dec!(30000)),
                cny("p-2", 15_000, dec!(30000)),
            ]),
        )
        .unwrap();
    assert!(matches!(
        &events[..],
        [ShipmentEvent::Consolidated { total_weight_g: 30_000, declared_value, .. }]
            if *declared_value == Money::cny(dec!(60000))
    ));
    assert_eq!(Policy::cn_agency().consolidation.max_total_weight_g, None);
}

// rule MON-1: a declaration in a currency the limit is not in is refused, never guessed.
#[test]
fn mon_1_declared_value_in_another_currency_is_refused() {
    let story = Story::jp();
    let cny = parcel(
        "p-2",
        200,
        vec![item("goods", 1, Money::cny(dec!(100)), ItemCategory::Other)],
    );
    assert_refused(
        story.when_on(
            d(2026, 11, 2),
            consolidation(vec![parcel_jpy("p-1", 1_000, 8_000), cny]),
        ),
        ShipmentError::CurrencyMismatch {
            expected: Currency::Jpy,
            found: Currency::Cny,
        },
        "money.currency_mismatch",
        Some(Rule::Mon1),
    );
}

// rule MEM-2: an unverified member cannot request packing or consolidation.
#[test]
fn mem_2_unverified_member_cannot_request_packing_or_consolidation() {
    let story = Story::jp();
    let parcels = vec![
        parcel_jpy("p-1", 1_000, 8_000),
        parcel_jpy("p-2", 200, 4_000),
    ];
    assert_refused(
        story.when_on(
            d(2026, 11, 2),
            request_by(standing(StandingStatus::Unverified), parcels.clone()),
        ),
        ShipmentError::MemberUnverified,
        "member.unverified",
        Some(Rule::Mem2),
    );
    assert_refused(
        story.when_on(
            d(2026, 11, 2),
            ShipmentCommand::RequestPacking {
                shipment_id: shipment_id(),
                member: standing(StandingStatus::Unverified),
                parcel: parcels[0].clone(),
            },
        ),
        ShipmentError::MemberUnverified,
        "member.unverified",
        Some(Rule::Mem2),
    );
}

// rule MEM-4: a suspended member requests nothing; nor does a withdrawing or closed one.
#[test]
fn mem_4_suspended_member_cannot_request() {
    let story = Story::jp();
    let parcels = vec![
        parcel_jpy("p-1", 1_000, 8_000),
        parcel_jpy("p-2", 200, 4_000),
    ];
    assert_refused(
        story.when_on(
            d(2026, 11, 2),
            request_by(standing(StandingStatus::Suspended), parcels.clone()),
        ),
        ShipmentError::MemberSuspended,
        "member.suspended",
        Some(Rule::Mem4),
    );
    for status in [StandingStatus::Withdrawing, StandingStatus::Closed] {
        assert_refused(
            story.when_on(
                d(2026, 11, 2),
                request_by(standing(status), parcels.clone()),
            ),
            ShipmentError::MemberInactive { status },
            "member.inactive",
            Some(Rule::Mem4),
        );
    }
}

// A shipment is requested once; commands out of order are lifecycle refusals without a rule.
#[test]
fn a_second_request_is_refused_as_invalid_state() {
    let story = Story::jp().requested();
    assert_refused(
        story.when_on(
            d(2026, 11, 2),
            consolidation(vec![
                parcel_jpy("p-3", 1_000, 8_000),
                parcel_jpy("p-4", 200, 4_000),
            ]),
        ),
        ShipmentError::InvalidState {
            command: "request_consolidation",
            status: ShipmentStatus::PackingRequested,
        },
        "shipment.invalid_state",
        None,
    );
    assert_eq!(story.state.status(), ShipmentStatus::PackingRequested);
    assert_eq!(story.state.parcel_ids().len(), 2);
}
