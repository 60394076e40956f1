//! Each parcel's own stream tells its whole life: when the shipment it travels in is paid,
//! shipped, tracked, claimed against and a claim settled, the parcel records it too
//! (`parcel.paid`, `parcel.shipped`, `parcel.delivered`, `parcel.claimed`, ...), from the
//! facts `Shipment::parcel_facts` reads off the shipment's events (DOMAIN.md, Parcel).

mod parcel_support;
#[path = "shipment_support.rs"]
mod shipment_support;

use domain::ids::{ParcelId, ShipmentId};
use domain::money::Money;
use domain::parcel::{
    ClaimSettlement, ParcelCommand, ParcelError, ParcelEvent, ParcelStatus, ShipmentFact,
};
use domain::shipment::{ClaimType, Shipment, ShipmentCommand, ShipmentEvent, TrackingStatus};
use domain::Policy;
use parcel_support::{d, decide, on, state, stored_on};
use shipment_support::{
    claim_id, delivered_claim_story, full_evidence, morning, ship_ems, tracked, Story,
};
use std::collections::BTreeMap;

/// The claim story's parcels p-1 and p-2, stored on 26 Oct, reserved into its shipment and
/// packed on 2 Nov.
fn packed_parcels(policy: &Policy) -> BTreeMap<ParcelId, Vec<ParcelEvent>> {
    ["p-1", "p-2"]
        .into_iter()
        .map(|id| {
            let mut events = stored_on(policy, d(2026, 10, 26));
            for command in [
                ParcelCommand::ReserveForConsolidation {
                    shipment_id: shipment_support::shipment_id(),
                    member: parcel_support::verified(),
                },
                ParcelCommand::Pack {
                    shipment_id: shipment_support::shipment_id(),
                },
            ] {
                let more = decide(policy, &events, on(d(2026, 11, 2), command)).unwrap();
                events.extend(more);
            }
            (ParcelId::parse(id).unwrap(), events)
        })
        .collect()
}

/// Plays `story`'s shipment events from the `from`-th on, and has each parcel follow them as
/// the engine does: the facts read on the shipment's state after each event.
fn follow(
    story: &Story,
    from: usize,
    parcels: &mut BTreeMap<ParcelId, Vec<ParcelEvent>>,
) -> Vec<(ParcelId, ParcelEvent)> {
    let policy = &story.policy;
    let mut shipment = Shipment::default();
    let mut recorded = Vec::new();
    for (index, event) in story.events.iter().enumerate() {
        shipment.evolve(event.clone());
        if index < from {
            continue;
        }
        for (parcel_id, fact) in shipment.parcel_facts(event) {
            let given = parcels
                .get_mut(&parcel_id)
                .expect("a parcel of the shipment");
            let command = ParcelCommand::FollowShipment {
                shipment_id: shipment_support::shipment_id(),
                fact,
            };
            let today = policy.local_date(morning(policy, event_day(event)));
            let events = decide(policy, given, on(today, command)).unwrap();
            for event in events {
                given.push(event.clone());
                recorded.push((parcel_id.clone(), event));
            }
        }
    }
    recorded
}

/// The day a shipment event of the claim story happened, for the parcel's command.
fn event_day(event: &ShipmentEvent) -> chrono::NaiveDate {
    match event {
        ShipmentEvent::Paid { paid_on, .. } => *paid_on,
        ShipmentEvent::Shipped { shipped_on, .. } => *shipped_on,
        ShipmentEvent::Delivered { delivered_on, .. } => *delivered_on,
        _ => d(2026, 11, 12),
    }
}

fn types(recorded: &[(ParcelId, ParcelEvent)]) -> Vec<(String, String)> {
    use cqrs_es::DomainEvent;
    recorded
        .iter()
        .map(|(id, event)| (id.to_string(), event.event_type()))
        .collect()
}

fn pair(id: &str, event_type: &str) -> (String, String) {
    (id.to_owned(), event_type.to_owned())
}

fn status_of(parcels: &BTreeMap<ParcelId, Vec<ParcelEvent>>, id: &str) -> ParcelStatus {
    state(&parcels[&ParcelId::parse(id).unwrap()])
        .status()
        .clone()
}

fn shipment_id() -> ShipmentId {
    shipment_support::shipment_id()
}

// rule PAY-1, SHP-1, SHP-2: every parcel of a shipment records on its own stream that the
// shipment was paid, shipped and delivered, with the tracking number; the paid parcel is off
// the storage clock (STO-1), and a shipped one is no longer in the warehouse.
#[test]
fn shp_2_each_parcel_records_its_shipment_paid_shipped_and_delivered() {
    for parcel_policy in [Policy::jp_forwarding(), Policy::cn_agency()] {
        let story = delivered_claim_story();
        let mut parcels = packed_parcels(&parcel_policy);
        let recorded = follow(&story, 0, &mut parcels);
        assert_eq!(
            types(&recorded),
            vec![
                pair("p-1", "parcel.paid"),
                pair("p-2", "parcel.paid"),
                pair("p-1", "parcel.shipped"),
                pair("p-2", "parcel.shipped"),
                pair("p-1", "parcel.delivered"),
                pair("p-2", "parcel.delivered"),
            ]
        );
        let shipped = recorded
            .iter()
            .find_map(|(_, e)| match e {
                ParcelEvent::Shipped {
                    tracking_number,
                    carrier,
                    shipped_on,
                    ..
                } => Some((tracking_number.to_string(), carrier.clone(), *shipped_on)),
                _ => None,
            })
            .unwrap();
        assert_eq!(
            shipped,
            ("EJ123456789JP".into(), "EMS".into(), d(2026, 11, 4))
        );
        assert_eq!(
            status_of(&parcels, "p-2"),
            ParcelStatus::Delivered {
                shipment_id: shipment_id()
            }
        );
        let delivered = parcels[&ParcelId::parse("p-1").unwrap()].clone();
        assert!(!state(&delivered).status().on_premises());
        // Following the same facts again records nothing: a retried step appends nothing.
        let again = follow(&story, 0, &mut parcels);
        assert_eq!(again, vec![]);
    }
}

// rule STO-1: once its shipment is paid the parcel waits to leave off the storage clock: the
// disposable mark is refused for its state.
#[test]
fn sto_1_a_parcel_of_a_paid_shipment_is_off_the_storage_clock() {
    let policy = Policy::jp_forwarding();
    let mut parcels = packed_parcels(&policy);
    let given = parcels.get_mut(&ParcelId::parse("p-1").unwrap()).unwrap();
    let paid = ParcelCommand::FollowShipment {
        shipment_id: shipment_id(),
        fact: ShipmentFact::Paid {
            paid_on: d(2026, 11, 3),
        },
    };
    let events = decide(&policy, given, on(d(2026, 11, 3), paid)).unwrap();
    given.extend(events);
    let status = state(given).status().clone();
    assert!(status.on_premises() && !status.on_storage_clock());
    assert!(matches!(
        decide(
            &policy,
            given,
            on(
                d(2026, 12, 31),
                ParcelCommand::MarkDisposable {
                    earliest_waiting_arrival: None
                }
            )
        ),
        Err(ParcelError::InvalidState { .. })
    ));
}

// rule CLM-1, CLM-5: a claim naming an item is recorded on that item's parcel only, and its
// settlement with the payout; a claim on the whole shipment (a loss) on every parcel.
#[test]
fn clm_1_a_claim_is_recorded_on_the_parcels_it_concerns_and_so_is_its_settlement() {
    let policy = Policy::jp_forwarding();
    let delivered = delivered_claim_story();
    let story = delivered
        .on(
            d(2026, 11, 12),
            ShipmentCommand::FileClaim {
                claim_id: claim_id("c-1"),
                claim_type: ClaimType::Defect,
                evidence: full_evidence(),
                item: Some(domain::shipment::ClaimedItem {
                    parcel_id: ParcelId::parse("p-2").unwrap(),
                    line: 0,
                    quantity: 1,
                }),
                under_warranty: false,
            },
        )
        // Responses stay the shipment's: nothing for either parcel.
        .on(
            d(2026, 11, 12),
            ShipmentCommand::RespondToClaim {
                claim_id: claim_id("c-1"),
                message: "we are looking into it".into(),
            },
        )
        .on(
            d(2026, 11, 12),
            ShipmentCommand::ApproveClaim {
                claim_id: claim_id("c-1"),
                payout: Money::jpy(2_000),
            },
        );
    let mut parcels = packed_parcels(&policy);
    let recorded = follow(&story, 0, &mut parcels);
    assert_eq!(
        types(&recorded[6..]),
        vec![
            pair("p-2", "parcel.claimed"),
            pair("p-2", "parcel.claim_settled")
        ]
    );
    let p2 = &parcels[&ParcelId::parse("p-2").unwrap()];
    let claim_events: Vec<_> = p2.iter().rev().take(2).rev().cloned().collect();
    assert_eq!(
        claim_events,
        vec![
            ParcelEvent::Claimed {
                shipment_id: shipment_id(),
                claim_id: claim_id("c-1"),
                claim_type: ClaimType::Defect,
                filed_on: d(2026, 11, 12),
            },
            ParcelEvent::ClaimSettled {
                shipment_id: shipment_id(),
                claim_id: claim_id("c-1"),
                outcome: ClaimSettlement::Approved {
                    payout: Money::jpy(2_000)
                },
                settled_on: d(2026, 11, 12),
            },
        ]
    );
    let p1 = &parcels[&ParcelId::parse("p-1").unwrap()];
    assert!(matches!(p1.last(), Some(ParcelEvent::Delivered { .. })));

    // A loss names no item: every parcel of the lost shipment records it.
    let lost = Story::jp()
        .on(
            d(2026, 11, 2),
            shipment_support::consolidation(shipment_support::claim_parcels()),
        )
        .on(
            d(2026, 11, 2),
            shipment_support::packing("EMS", 1_200, shipment_support::dims(300, 200, 150)),
        )
        .on(d(2026, 11, 2), shipment_support::quote("EMS", "US"))
        .paid()
        .on(d(2026, 11, 4), ship_ems())
        .on(
            d(2026, 11, 20),
            tracked(TrackingStatus::Lost, d(2026, 11, 20)),
        )
        .on(
            d(2026, 11, 21),
            ShipmentCommand::FileClaim {
                claim_id: claim_id("c-2"),
                claim_type: ClaimType::Loss,
                evidence: full_evidence(),
                item: None,
                under_warranty: false,
            },
        );
    let mut parcels = packed_parcels(&policy);
    let recorded = follow(&lost, 0, &mut parcels);
    let tail: Vec<_> = types(&recorded).into_iter().skip(4).collect();
    assert_eq!(
        tail,
        vec![
            pair("p-1", "parcel.lost"),
            pair("p-2", "parcel.lost"),
            pair("p-1", "parcel.claimed"),
            pair("p-2", "parcel.claimed"),
        ]
    );
}

// rule SHP-2: a parcel whose history predates the parcel stream (packed, its shipment paid
// and shipped without it) catches up from packed; another shipment's fact is refused.
#[test]
fn shp_2_a_parcel_packed_before_the_stream_existed_catches_up() {
    let policy = Policy::jp_forwarding();
    let parcels = packed_parcels(&policy);
    let packed = &parcels[&ParcelId::parse("p-1").unwrap()];
    let delivered = ParcelCommand::FollowShipment {
        shipment_id: shipment_id(),
        fact: ShipmentFact::Delivered {
            delivered_on: d(2026, 11, 10),
        },
    };
    assert_eq!(
        decide(&policy, packed, on(d(2026, 11, 10), delivered)).unwrap(),
        vec![ParcelEvent::Delivered {
            shipment_id: shipment_id(),
            delivered_on: d(2026, 11, 10),
        }]
    );
    let other = ParcelCommand::FollowShipment {
        shipment_id: ShipmentId::parse("s-other").unwrap(),
        fact: ShipmentFact::Paid {
            paid_on: d(2026, 11, 3),
        },
    };
    assert!(matches!(
        decide(&policy, packed, on(d(2026, 11, 3), other)),
        Err(ParcelError::OtherShipment { .. })
    ));
}
