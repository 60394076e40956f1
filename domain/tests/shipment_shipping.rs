//! Shipment: shipping and tracking (SHP-1, SHP-2).

#[path = "shipment_support.rs"]
mod support;

use chrono::NaiveDate;
use domain::money::Money;
use domain::shipment::{
    ShipmentCommand, ShipmentError, ShipmentEvent, ShipmentStatus, TrackingStatus,
};
use domain::{Issued, Rule};
use support::*;

fn nov(day: u32) -> NaiveDate {
    d(2026, 11, day)
}

fn ship(carrier: &str, service: &str, declared: i64) -> ShipmentCommand {
    ShipmentCommand::Ship {
        carrier: carrier.into(),
        service: service.into(),
        tracking_number: tracking("EJ123456789JP"),
        declared_value: Money::jpy(declared),
    }
}

// rule SHP-1: a paid shipment ships, recording carrier, service, tracking number, declared value.
#[test]
fn shp_1_paid_shipment_ships_with_its_tracking_number() {
    let story = Story::jp().quoted().paid();
    story
        .given()
        .when(Issued::at(morning(&story.policy, nov(4)), ship_ems()))
        .then_expect_events(vec![ShipmentEvent::Shipped {
            carrier: "EMS".into(),
            service: "EMS".into(),
            tracking_number: tracking("EJ123456789JP"),
            declared_value: Money::jpy(12_000),
            pieces: 1,
            shipped_on: nov(4),
            policy: story.policy.version(),
        }]);
}

// rule SHP-1: only paid shipments ship.
#[test]
fn shp_1_unpaid_shipment_cannot_ship() {
    for story in [Story::jp().packed(), Story::jp().quoted()] {
        assert_refused(
            story.when_on(nov(4), ship_ems()),
            ShipmentError::NotPaid,
            "shipping.not_paid",
            Some(Rule::Shp1),
        );
    }
    let shipped = Story::jp().quoted().shipped();
    assert_eq!(
        shipped.when_on(nov(5), ship_ems()).unwrap_err(),
        ShipmentError::InvalidState {
            command: "ship",
            status: ShipmentStatus::Shipped
        }
    );
}

// rule SHP-1: the carrier is one of the list and the one quoted; a service is named; the
// declared value is not negative.
#[test]
fn shp_1_shipping_details_are_checked() {
    let story = Story::jp().quoted().paid();
    assert_refused(
        story.when_on(nov(4), ship("Yamato", "TA-Q-BIN", 12_000)),
        ShipmentError::ShippingUnknownCarrier {
            carrier: "Yamato".into(),
        },
        "shipping.unknown_carrier",
        Some(Rule::Shp1),
    );
    assert_refused(
        story.when_on(nov(4), ship("DHL", "Express Worldwide", 12_000)),
        ShipmentError::CarrierNotQuoted {
            quoted: "EMS".into(),
            given: "DHL".into(),
        },
        "shipping.carrier_not_quoted",
        Some(Rule::Shp1),
    );
    assert_refused(
        story.when_on(nov(4), ship("EMS", "  ", 12_000)),
        ShipmentError::ServiceRequired,
        "shipping.service_required",
        Some(Rule::Shp1),
    );
    assert_refused(
        story.when_on(nov(4), ship("EMS", "EMS", -1)),
        ShipmentError::InvalidDeclaredValue {
            declared_value: Money::jpy(-1),
        },
        "shipping.invalid_declared_value",
        Some(Rule::Shp1),
    );
    assert!(story.when_on(nov(4), ship("EMS", "EMS", 0)).is_ok());
}

// rule SHP-1: a command with a malformed tracking number does not even parse.
#[test]
fn shp_1_tracking_number_is_parsed_in_the_command() {
    let json = |tn: &str| {
        format!(
            r#"{{"ship":{{"carrier":"EMS","service":"EMS","tracking_number":"{tn}","declared_value":{{"amount":"1","currency":"JPY"}}}}}}"#
        )
    };
    assert!(serde_json::from_str::<ShipmentCommand>(&json("EJ123456789JP")).is_ok());
    assert!(serde_json::from_str::<ShipmentCommand>(&json("EJ-1234")).is_err());
    assert!(serde_json::from_str::<ShipmentCommand>(&json("")).is_err());
    assert!(serde_json::from_str::<ShipmentCommand>(&json(&"9".repeat(41))).is_err());
}

// rule SHP-2: delivery is recorded from tracking, with the claim windows it opens.
#[test]
fn shp_2_delivery_is_recorded_with_claim_windows() {
    let story = Story::jp().quoted().shipped();
    story
        .given()
        .when(Issued::at(
            morning(&story.policy, nov(11)),
            tracked(TrackingStatus::Delivered, nov(10)),
        ))
        .then_expect_events(vec![ShipmentEvent::Delivered {
            delivered_on: nov(10),
            claim_window_last_day: nov(24),
            warranty_claim_last_day: None,
            policy: story.policy.version(),
        }]);
    // The add-on was taken when paid, 3 Nov: its claims run to 10 Nov (FEE-2).
    let with_warranty = Story::jp().quoted_with(&[], None, true).shipped();
    let events = with_warranty
        .when_on(nov(11), tracked(TrackingStatus::Delivered, nov(10)))
        .unwrap();
    assert!(matches!(
        events[0],
        ShipmentEvent::Delivered { warranty_claim_last_day: Some(day), .. } if day == nov(10)
    ));
}

// rule SHP-2: customs hold, then delivery; return to origin; loss (which opens the loss window).
#[test]
fn shp_2_customs_hold_return_and_loss_are_recorded() {
    let held = Story::jp().quoted().shipped().on(
        nov(8),
        ShipmentCommand::RecordTracking {
            status: TrackingStatus::CustomsHold,
            on: nov(7),
            note: Some("duty unpaid".into()),
        },
    );
    assert_eq!(
        held.events.last().unwrap(),
        &ShipmentEvent::CustomsHeld {
            held_on: nov(7),
            note: Some("duty unpaid".into())
        }
    );
    assert_eq!(held.state.status(), ShipmentStatus::CustomsHold);
    let delivered = held
        .when_on(nov(12), tracked(TrackingStatus::Delivered, nov(12)))
        .unwrap();
    assert!(matches!(delivered[0], ShipmentEvent::Delivered { .. }));
    let returned = held
        .when_on(nov(20), tracked(TrackingStatus::ReturnedToOrigin, nov(19)))
        .unwrap();
    assert_eq!(
        returned,
        vec![ShipmentEvent::ReturnedToOrigin {
            returned_on: nov(19),
            note: None
        }]
    );
    let lost = held
        .when_on(nov(30), tracked(TrackingStatus::Lost, nov(30)))
        .unwrap();
    assert_eq!(
        lost,
        vec![ShipmentEvent::Lost {
            lost_on: nov(30),
            claim_window_last_day: d(2026, 12, 14),
            note: None,
            policy: held.policy.version(),
        }]
    );
}

// rule SHP-2: tracking applies only in transit, with a date between shipping and today.
#[test]
fn shp_2_tracking_outside_transit_or_dates_is_refused() {
    let paid = Story::jp().quoted().paid();
    assert_refused(
        paid.when_on(nov(4), tracked(TrackingStatus::Delivered, nov(4))),
        ShipmentError::NotInTransit {
            status: ShipmentStatus::Paid,
        },
        "tracking.not_in_transit",
        Some(Rule::Shp2),
    );
    let delivered = Story::jp().quoted().delivered();
    assert_eq!(
        delivered
            .when_on(nov(12), tracked(TrackingStatus::Lost, nov(12)))
            .unwrap_err(),
        ShipmentError::NotInTransit {
            status: ShipmentStatus::Delivered
        }
    );
    let shipped = Story::jp().quoted().shipped();
    assert_refused(
        shipped.when_on(nov(6), tracked(TrackingStatus::Delivered, nov(3))),
        ShipmentError::TrackingDateOutOfRange {
            on: nov(3),
            shipped_on: nov(4),
            today: nov(6),
        },
        "tracking.date_out_of_range",
        Some(Rule::Shp2),
    );
    assert_eq!(
        shipped
            .when_on(nov(6), tracked(TrackingStatus::Delivered, nov(7)))
            .unwrap_err()
            .to_string(),
        "tracking date 2026-11-07 is outside 2026-11-04..=2026-11-06 (SHP-2)"
    );
    assert!(shipped
        .when_on(nov(6), tracked(TrackingStatus::Delivered, nov(4)))
        .is_ok());
}
