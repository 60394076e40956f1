//! Shipment: return to origin (SHP-2). A shipment the carrier sent back re-enters storage at
//! the warehouse with its storage clock running again, its return costs are charged to the
//! member, and the member has it re-shipped (a new quote, paid as a payment of its own) or
//! disposed of (DSP-1).

mod parcel_support;
#[path = "shipment_support.rs"]
mod support;

use chrono::NaiveDate;
use domain::facts::ItemCategory;
use domain::ids::{ParcelId, ShipmentId};
use domain::money::Money;
use domain::parcel::{
    DisposalCause, DisposedBecause, ParcelCommand, ParcelError, ParcelEvent, ParcelStatus,
    ShipmentFact,
};
use domain::shipment::{
    PaymentMethod, ShipmentCommand, ShipmentError, ShipmentEvent, ShipmentStatus, TrackingStatus,
};
use domain::{Policy, Rule};
use rust_decimal_macros::dec;
use support::*;

fn nov(day: u32) -> NaiveDate {
    d(2026, 11, day)
}

/// One parcel packed, quoted to the US, paid 3 Nov, shipped 4 Nov and reported returned to
/// origin on 20 Nov, in the profile's billing currency.
fn returned_story(policy: Policy) -> Story {
    let cn = policy.billing_currency == domain::money::Currency::Cny;
    let price = if cn {
        Money::cny(dec!(200))
    } else {
        Money::jpy(8_000)
    };
    let parcel = parcel(
        "p-1",
        1_000,
        vec![item("coat", 1, price, ItemCategory::Apparel)],
    );
    let mut ship = ship_ems();
    if let ShipmentCommand::Ship { declared_value, .. } = &mut ship {
        *declared_value = price;
    }
    Story::new(policy)
        .on(
            nov(2),
            ShipmentCommand::RequestPacking {
                shipment_id: shipment_id(),
                member: verified(),
                parcel,
            },
        )
        .on(nov(2), packing("EMS", 1_200, dims(300, 200, 150)))
        .on(nov(2), quote("EMS", "US"))
        .paid()
        .on(nov(4), ship)
        .on(nov(20), tracked(TrackingStatus::ReturnedToOrigin, nov(20)))
}

fn cost(policy: &Policy, amount: i64) -> Money {
    Money::new(amount.into(), policy.billing_currency)
}

// rule SHP-2: the returned shipment re-enters storage: its status, its parcels' storage clock
// running again from the day it came back (STO-1), the return costs as billed, and its next
// payment a payment of its own; both profiles.
#[test]
fn shp_2_returned_shipment_reenters_storage_with_its_clock_and_its_return_cost() {
    for policy in [Policy::jp_forwarding(), Policy::cn_agency()] {
        let story = returned_story(policy.clone());
        assert_eq!(story.state.payment_cause().as_deref(), Some("s-1"));
        let received = story
            .when_on(
                nov(24),
                ShipmentCommand::ReceiveReturn {
                    return_cost: cost(&policy, 30),
                },
            )
            .unwrap();
        assert_eq!(
            received,
            vec![ShipmentEvent::ReturnReceived {
                member_id: member_id(),
                parcels: vec![ParcelId::parse("p-1").unwrap()],
                received_on: nov(24),
                return_cost: cost(&policy, 30),
                return_number: 1,
                policy: policy.version(),
            }]
        );
        let back = story.on(
            nov(24),
            ShipmentCommand::ReceiveReturn {
                return_cost: cost(&policy, 30),
            },
        );
        assert_eq!(back.state.status(), ShipmentStatus::Returned);
        assert!(back.state.status().keeps_storage_clock());
        assert_eq!(back.state.earliest_received_on(), Some(nov(24)));
        assert_eq!(back.state.payment_cause().as_deref(), Some("s-1-r1"));
        // Each parcel is told, to re-enter storage with it.
        let facts = back.state.parcel_facts(back.events.last().unwrap());
        assert_eq!(
            facts,
            vec![(
                ParcelId::parse("p-1").unwrap(),
                ShipmentFact::ReturnReceived {
                    received_on: nov(24)
                }
            )]
        );
    }
}

// rule SHP-2: a return is received only once the carrier reported it, and its cost is in the
// billing currency and not negative.
#[test]
fn shp_2_a_return_is_received_after_tracking_reports_it_at_its_cost() {
    let policy = Policy::jp_forwarding();
    let story = returned_story(policy.clone());
    assert_refused(
        story.when_on(
            nov(24),
            ShipmentCommand::ReceiveReturn {
                return_cost: Money::cny(dec!(30)),
            },
        ),
        ShipmentError::InvalidReturnCost {
            return_cost: Money::cny(dec!(30)),
            currency: policy.billing_currency,
        },
        "return.invalid_cost",
        Some(Rule::Shp2),
    );
    let shipped = Story::jp().quoted().paid().on(nov(4), ship_ems());
    assert!(matches!(
        shipped.when_on(
            nov(24),
            ShipmentCommand::ReceiveReturn {
                return_cost: Money::jpy(3_000),
            },
        ),
        Err(ShipmentError::InvalidState { .. })
    ));
}

// rule SHP-2: the member chooses: a new quote re-ships it (paid, shipped again), or the return
// is abandoned and its parcels are disposed of; both profiles.
#[test]
fn shp_2_a_returned_shipment_is_re_shipped_on_a_new_quote_or_abandoned() {
    for policy in [Policy::jp_forwarding(), Policy::cn_agency()] {
        let back = returned_story(policy.clone()).on(
            nov(24),
            ShipmentCommand::ReceiveReturn {
                return_cost: cost(&policy, 30),
            },
        );
        let requoted = back.clone().on(nov(25), quote("EMS", "US"));
        assert_eq!(requoted.state.status(), ShipmentStatus::Quoted);
        let total = requoted.quote_total();
        let reshipped = requoted
            .on(nov(26), pay(PaymentMethod::Balance, total))
            .on(nov(27), ship_ems());
        assert_eq!(reshipped.state.status(), ShipmentStatus::Shipped);

        let abandoned = back
            .when_on(nov(25), ShipmentCommand::AbandonReturn)
            .unwrap();
        assert_eq!(
            abandoned,
            vec![ShipmentEvent::ReturnAbandoned {
                member_id: member_id(),
                parcels: vec![ParcelId::parse("p-1").unwrap()],
                abandoned_on: nov(25),
            }]
        );
        // Only a shipment back at the warehouse can be abandoned.
        assert!(returned_story(policy)
            .when_on(nov(25), ShipmentCommand::AbandonReturn)
            .is_err());
    }
}

// rule SHP-2: the parcel re-enters storage with its shipment, its clock running from the day
// it came back (it becomes disposable only past the limit from then), and is disposed of,
// with the disposal fee, when the member abandons the return; both profiles.
#[test]
fn shp_2_returned_parcel_reenters_storage_and_is_disposed_of_when_abandoned() {
    for policy in [Policy::jp_forwarding(), Policy::cn_agency()] {
        let s = ShipmentId::parse("s-1").unwrap();
        let mut events = parcel_support::stored_on(&policy, d(2026, 10, 26));
        let follow = |fact| ParcelCommand::FollowShipment {
            shipment_id: s.clone(),
            fact,
        };
        for (day, command) in [
            (
                nov(2),
                ParcelCommand::ReserveForConsolidation {
                    shipment_id: s.clone(),
                    member: parcel_support::verified(),
                },
            ),
            (
                nov(2),
                ParcelCommand::Pack {
                    shipment_id: s.clone(),
                },
            ),
            (nov(3), follow(ShipmentFact::Paid { paid_on: nov(3) })),
            (
                nov(4),
                follow(ShipmentFact::Shipped {
                    carrier: "EMS".into(),
                    service: "EMS".into(),
                    tracking_number: tracking("EJ123456789JP"),
                    shipped_on: nov(4),
                }),
            ),
        ] {
            let more =
                parcel_support::decide(&policy, &events, parcel_support::on(day, command)).unwrap();
            events.extend(more);
        }
        // Not back yet: it cannot be disposed of as an abandoned return.
        let abandon = || ParcelCommand::Dispose {
            cause: DisposalCause::ReturnAbandoned {
                shipment_id: s.clone(),
            },
        };
        assert!(
            parcel_support::decide(&policy, &events, parcel_support::on(nov(4), abandon()))
                .is_err()
        );
        let back = parcel_support::decide(
            &policy,
            &events,
            parcel_support::on(
                nov(24),
                follow(ShipmentFact::ReturnReceived {
                    received_on: nov(24),
                }),
            ),
        )
        .unwrap();
        assert_eq!(
            back,
            vec![ParcelEvent::ReturnedToWarehouse {
                shipment_id: s.clone(),
                received_on: nov(24),
            }]
        );
        events.extend(back);
        let state = parcel_support::state(&events);
        assert_eq!(
            state.status(),
            &ParcelStatus::Packed {
                shipment_id: s.clone()
            }
        );
        assert!(state.status().on_storage_clock());
        assert_eq!(state.receipt().unwrap().received_on, nov(24));
        // The limit counts from the return: not reached the day after it came back.
        let mark = ParcelCommand::MarkDisposable {
            earliest_waiting_arrival: None,
        };
        assert!(matches!(
            parcel_support::decide(&policy, &events, parcel_support::on(nov(25), mark)),
            Err(ParcelError::LimitNotReached { last_free_day }) if last_free_day > nov(25)
        ));
        let disposed =
            parcel_support::decide(&policy, &events, parcel_support::on(nov(26), abandon()))
                .unwrap();
        assert_eq!(
            disposed,
            vec![ParcelEvent::Disposed {
                member_id: Some(parcel_support::member_id()),
                cause: DisposedBecause::ReturnAbandoned {
                    shipment_id: s.clone()
                },
                fee: policy.disposal.fee_per_parcel,
                rule: Rule::Shp2,
                policy: policy.version(),
            }]
        );
    }
}

// rule SHP-2: a redelivery abroad costs what the carrier or broker billed, at least the
// policy's minimum (cn-agency, seed 001: 150 CNY or more); jp-forwarding arranges none.
#[test]
fn shp_2_a_redelivery_abroad_costs_at_least_the_policy_minimum() {
    let cn = Policy::cn_agency();
    let min_fee = cn.redelivery.as_ref().unwrap().min_fee;
    assert_eq!(min_fee, Money::cny(dec!(150)));
    let story = {
        let s = returned_story(cn.clone());
        // Held at the destination instead of sent back: the story up to shipping.
        let shipped: Vec<_> = s.events[..s.events.len() - 1].to_vec();
        let mut story = Story::new(cn.clone());
        for event in shipped {
            story.state.evolve(event.clone());
            story.events.push(event);
        }
        story
    };
    for (cost, fee) in [
        (dec!(90), dec!(150)),
        (dec!(150), dec!(150)),
        (dec!(210), dec!(210)),
    ] {
        let charged = story
            .when_on(
                nov(20),
                ShipmentCommand::ChargeRedelivery {
                    cost: Money::cny(cost),
                },
            )
            .unwrap();
        assert_eq!(
            charged,
            vec![ShipmentEvent::RedeliveryCharged {
                member_id: member_id(),
                cost: Money::cny(cost),
                min_fee,
                fee: Money::cny(fee),
                redelivery_number: 1,
                charged_on: nov(20),
                policy: cn.version(),
            }]
        );
    }
    assert_refused(
        story.when_on(
            nov(20),
            ShipmentCommand::ChargeRedelivery {
                cost: Money::jpy(3_000),
            },
        ),
        ShipmentError::InvalidRedeliveryCost {
            cost: Money::jpy(3_000),
            currency: domain::money::Currency::Cny,
        },
        "redelivery.invalid_cost",
        Some(Rule::Shp2),
    );
    // jp-forwarding: the member deals with the carrier abroad (seed 000).
    let jp = Story::jp().quoted().paid().on(nov(4), ship_ems());
    assert_refused(
        jp.when_on(
            nov(20),
            ShipmentCommand::ChargeRedelivery {
                cost: Money::jpy(3_000),
            },
        ),
        ShipmentError::RedeliveryNotOffered,
        "redelivery.not_offered",
        Some(Rule::Shp2),
    );
}
