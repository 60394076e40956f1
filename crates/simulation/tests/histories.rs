//! The simulation is deterministic and tells a varied story: the same seed gives the same
//! commands, and a few thousand commands reach most of the event types of every aggregate; its
//! events serialize in issue order with each aggregate's sequences contiguous.

use cqrs_es::DomainEvent;
use domain::account::AccountEvent;
use domain::member::MemberEvent;
use domain::parcel::ParcelEvent;
use domain::shipment::ShipmentEvent;
use domain::Policy;
use simulation::{AnyEvents, Simulation};
use std::collections::BTreeMap;

fn histogram(sim: &Simulation) -> BTreeMap<String, usize> {
    let mut types = BTreeMap::new();
    for command in sim.commands() {
        let names: Vec<String> = match &command.events {
            AnyEvents::Member(e) => e.iter().map(DomainEvent::event_type).collect(),
            AnyEvents::Account(e) => e.iter().map(DomainEvent::event_type).collect(),
            AnyEvents::Parcel(e) => e.iter().map(DomainEvent::event_type).collect(),
            AnyEvents::Shipment(e) => e.iter().map(DomainEvent::event_type).collect(),
        };
        for name in names {
            *types.entry(name).or_insert(0) += 1;
        }
    }
    types
}

#[test]
fn the_same_seed_gives_the_same_commands() {
    let mut a = Simulation::new(7, Policy::jp_forwarding());
    let mut b = Simulation::new(7, Policy::jp_forwarding());
    a.run(500);
    b.run(500);
    assert_eq!(a.commands(), b.commands());
    let mut c = Simulation::new(8, Policy::jp_forwarding());
    c.run(500);
    assert_ne!(a.commands(), c.commands());
}

fn covers_most_event_types(policy: Policy, expected_missing: usize) {
    let mut sim = Simulation::new(42, policy);
    sim.run(4_000);
    let seen = histogram(&sim);
    eprintln!(
        "{} commands, {} events: {seen:#?}",
        sim.commands().len(),
        sim.event_count()
    );
    let all = [
        MemberEvent::TYPES,
        AccountEvent::TYPES,
        ParcelEvent::TYPES,
        ShipmentEvent::TYPES,
    ]
    .concat();
    let missing: Vec<&str> = all
        .iter()
        .copied()
        .filter(|t| !seen.contains_key(*t))
        .collect();
    eprintln!("missing: {missing:?}");
    assert!(
        missing.len() <= expected_missing,
        "{} event types never happen: {missing:?}",
        missing.len()
    );
}

#[test]
fn a_jp_forwarding_history_covers_most_event_types() {
    // 33: since parcels follow their shipments (their seven new event types all happen), the
    // seed's run misses one more rare shipment outcome than before, a return to origin, and so
    // the three events of its receipt and abandonment (SHP-2), which the cn-agency run covers;
    // and jp-forwarding arranges no redelivery abroad (shipment.redelivery_charged, SHP-2).
    covers_most_event_types(Policy::jp_forwarding(), 33);
}

#[test]
fn a_cn_agency_history_covers_most_event_types() {
    // 29: the simulation charges no redelivery abroad (shipment.redelivery_charged, SHP-2):
    // every charge moves a balance, and any such move reshapes the seed's whole history.
    covers_most_event_types(Policy::cn_agency(), 29);
}

#[test]
fn serialized_events_follow_the_issue_order_with_contiguous_sequences() {
    let mut sim = Simulation::new(7, Policy::jp_forwarding());
    sim.run_until_events(2_000);
    let commands = sim.drain_commands();
    let mut sequences = std::collections::HashMap::new();
    let events = simulation::serialized_events(&commands, &mut sequences).unwrap();
    let issued: Vec<&str> = commands
        .iter()
        .flat_map(|c| std::iter::repeat_n(c.aggregate_id.as_str(), c.events.len()))
        .collect();
    let serialized: Vec<&str> = events.iter().map(|e| e.aggregate_id.as_str()).collect();
    assert_eq!(serialized, issued);
    let mut last = std::collections::HashMap::new();
    for event in &events {
        let previous = last
            .insert(event.aggregate_id.clone(), event.sequence)
            .unwrap_or(0);
        assert_eq!(event.sequence, previous + 1, "{}", event.aggregate_id);
    }
    assert_eq!(sequences, last);
}
