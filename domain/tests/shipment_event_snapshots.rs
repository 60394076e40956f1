//! The JSON of every Shipment event is a permanent contract: one realistic example of each
//! variant, produced by running real commands, is snapshotted. A changed snapshot means a new
//! event version and an upcaster, never a silent edit.

#[path = "shipment_support.rs"]
mod support;

use chrono::NaiveDate;
use cqrs_es::DomainEvent;
use domain::money::Money;
use domain::shipment::{
    ClaimType, Evidence, PaymentMethod, ShipmentCommand, ShipmentEvent, TrackingStatus,
};
use std::collections::BTreeSet;
use support::*;

fn nov(day: u32) -> NaiveDate {
    d(2026, 11, day)
}

fn claim_cmd(command: fn(domain::ids::ClaimId) -> ShipmentCommand, claim: &str) -> ShipmentCommand {
    command(claim_id(claim))
}

/// Histories that between them produce every event variant.
fn histories() -> Vec<Story> {
    let full = Story::jp()
        .on(nov(2), consolidation(claim_parcels()))
        .on(nov(2), packing("EMS", 1_200, dims(300, 200, 150)))
        .on(
            nov(2),
            quote_for(
                verified(),
                "EMS",
                "US",
                &["photo"],
                Some(Money::jpy(18_000)),
                true,
            ),
        );
    let total = full.quote_total();
    let paypal_fee =
        domain::shipment::pricing::paypal_fee_line(total, &full.policy.account, None, nov(3))
            .unwrap()
            .amount;
    let full = full
        .on(
            nov(3),
            pay(
                PaymentMethod::Paypal,
                total.checked_add(paypal_fee).unwrap(),
            ),
        )
        .on(nov(4), ship_ems())
        .on(
            nov(8),
            ShipmentCommand::RecordTracking {
                status: TrackingStatus::CustomsHold,
                on: nov(7),
                note: Some("inspection".into()),
            },
        )
        .on(nov(10), tracked(TrackingStatus::Delivered, nov(10)))
        // c-1: damage filed without photos, completed, answered, approved.
        .on(
            nov(11),
            file(
                "c-1",
                ClaimType::Damage,
                Evidence {
                    comment: Some("crushed".into()),
                    damage_report: None,
                    ..Evidence::default()
                },
                None,
                false,
            ),
        )
        .on(
            nov(11),
            ShipmentCommand::AddClaimEvidence {
                claim_id: claim_id("c-1"),
                evidence: full_evidence(),
            },
        )
        .on(
            nov(12),
            ShipmentCommand::RespondToClaim {
                claim_id: claim_id("c-1"),
                message: "we asked EMS".into(),
            },
        )
        .on(
            nov(13),
            ShipmentCommand::ApproveClaim {
                claim_id: claim_id("c-1"),
                payout: Money::jpy(6_000),
            },
        )
        // c-2: missing item, escalated after 48 hours, then withdrawn.
        .on(
            nov(11),
            file(
                "c-2",
                ClaimType::MissingItem,
                full_evidence(),
                Some(item_ref("p-2", 0, 1)),
                false,
            ),
        )
        .on(
            nov(13),
            claim_cmd(
                |claim_id| ShipmentCommand::EscalateClaim { claim_id },
                "c-2",
            ),
        )
        .on(
            nov(14),
            ShipmentCommand::WithdrawClaim {
                claim_id: claim_id("c-2"),
                reason: Some("found it".into()),
            },
        )
        // c-3: wrong item, rejected.
        .on(
            nov(11),
            file(
                "c-3",
                ClaimType::WrongItem,
                full_evidence(),
                Some(item_ref("p-1", 0, 1)),
                false,
            ),
        )
        .on(
            nov(12),
            ShipmentCommand::RejectClaim {
                claim_id: claim_id("c-3"),
                reason: "matches the listing".into(),
            },
        );

    // c-4: defect under the add-on, filed on the day of delivery, the add-on's last day (it
    // was taken when paid, 3 Nov: FEE-2), exchanged.
    let exchanged = Story::jp()
        .quoted_with(&[], None, true)
        .delivered()
        .on(
            nov(10),
            file(
                "c-4",
                ClaimType::Defect,
                full_evidence(),
                Some(item_ref("p-2", 0, 1)),
                true,
            ),
        )
        .on(
            nov(12),
            claim_cmd(
                |claim_id| ShipmentCommand::AcceptExchange { claim_id },
                "c-4",
            ),
        )
        .on(
            nov(20),
            claim_cmd(
                |claim_id| ShipmentCommand::RecordExchangeItemReceived { claim_id },
                "c-4",
            ),
        );

    let lapsed = Story::jp()
        .quoted_with(&[], None, true)
        .delivered()
        .on(
            nov(10),
            file(
                "c-1",
                ClaimType::Defect,
                full_evidence(),
                Some(item_ref("p-1", 0, 1)),
                true,
            ),
        )
        .on(
            nov(12),
            claim_cmd(
                |claim_id| ShipmentCommand::AcceptExchange { claim_id },
                "c-1",
            ),
        )
        .on(
            nov(27),
            claim_cmd(
                |claim_id| ShipmentCommand::LapseExchange { claim_id },
                "c-1",
            ),
        );

    let held = Story::jp()
        .on(
            nov(2),
            ShipmentCommand::RequestPacking {
                shipment_id: shipment_id(),
                member: verified(),
                parcel: parcel_jpy("p-1", 1_000, 8_000),
            },
        )
        .on(nov(2), packing("EMS", 1_100, dims(300, 200, 100)))
        .on(nov(2), quote("EMS", "KR"))
        .on(nov(10), ShipmentCommand::HoldUnpaid)
        .on(nov(10), ShipmentCommand::RemindPayment)
        .on(nov(17), ShipmentCommand::SendDunningNotice)
        .on(
            nov(18),
            ShipmentCommand::Cancel {
                reason: "member asked".into(),
            },
        );

    let returned = Story::jp().quoted().shipped().on(
        nov(20),
        ShipmentCommand::RecordTracking {
            status: TrackingStatus::ReturnedToOrigin,
            on: nov(19),
            note: Some("addressee unknown".into()),
        },
    );
    let lost = Story::jp()
        .quoted()
        .shipped()
        .on(nov(30), tracked(TrackingStatus::Lost, nov(30)));
    // SHP-2: back at the warehouse, then abandoned by the member.
    let abandoned = returned
        .clone()
        .on(
            nov(23),
            ShipmentCommand::ReceiveReturn {
                return_cost: Money::jpy(3_200),
            },
        )
        .on(nov(25), ShipmentCommand::AbandonReturn);
    // ACC-8: the member chooses the warehouse's duty advance before dispatch.
    let dutied = Story::jp().quoted().on(
        nov(3),
        ShipmentCommand::ChooseDutyPayment {
            payment: domain::shipment::DutyPayment::Advance,
        },
    );
    // SHP-2: a redelivery abroad, under cn-agency: billed 90 CNY, charged the 150 CNY minimum.
    let lamp = parcel(
        "p-1",
        1_000,
        vec![item(
            "lamp",
            1,
            Money::cny(rust_decimal::Decimal::from(200)),
            domain::facts::ItemCategory::Other,
        )],
    );
    let redelivered = Story::cn()
        .on(
            nov(2),
            ShipmentCommand::RequestPacking {
                shipment_id: shipment_id(),
                member: verified(),
                parcel: lamp,
            },
        )
        .on(nov(2), packing("EMS", 1_200, dims(300, 200, 150)))
        .on(nov(2), quote("EMS", "US"))
        .paid()
        .on(nov(4), ship_ems())
        .on(
            nov(20),
            ShipmentCommand::ChargeRedelivery {
                cost: Money::cny(rust_decimal::Decimal::from(90)),
            },
        );
    vec![
        full,
        exchanged,
        lapsed,
        held,
        returned,
        lost,
        abandoned,
        dutied,
        redelivered,
    ]
}

/// The first example of each event type, in the order of `ShipmentEvent::TYPES`.
fn examples() -> Vec<ShipmentEvent> {
    let all: Vec<ShipmentEvent> = histories().into_iter().flat_map(|s| s.events).collect();
    ShipmentEvent::TYPES
        .iter()
        .filter_map(|t| all.iter().find(|e| e.event_type() == *t).cloned())
        .collect()
}

#[test]
fn every_event_type_has_a_snapshot_example() {
    let examples = examples();
    let covered: BTreeSet<String> = examples.iter().map(|e| e.event_type()).collect();
    let declared: BTreeSet<String> = ShipmentEvent::TYPES.iter().map(|t| t.to_string()).collect();
    assert_eq!(covered, declared);
    assert_eq!(
        declared.len(),
        ShipmentEvent::TYPES.len(),
        "TYPES has duplicates"
    );
    for event in &examples {
        assert_eq!(event.event_version(), "1");
        assert!(event.event_type().starts_with("shipment."));
    }
}

#[test]
fn event_json_snapshots() {
    for event in examples() {
        let event_type = event.event_type();
        let name = format!("shipment__{}", event_type.trim_start_matches("shipment."));
        insta::assert_json_snapshot!(name, event);
        // The JSON reads back into the same event.
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(serde_json::from_str::<ShipmentEvent>(&json).unwrap(), event);
    }
}

// The words subscribers expect stay in the type names.
#[test]
fn expected_event_type_words_are_kept() {
    for t in [
        "shipment.consolidated",
        "shipment.quoted",
        "shipment.paid",
        "shipment.shipped",
        "shipment.delivered",
        "shipment.claimed",
        "shipment.packed",
        "shipment.held",
        "shipment.cancelled",
    ] {
        assert!(ShipmentEvent::TYPES.contains(&t), "{t} missing");
    }
}
