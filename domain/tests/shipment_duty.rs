//! Shipment: how import duty is paid (ACC-8). The member chooses before dispatch: by the
//! recipient on delivery (the default) or advanced by the warehouse; sea freight only by
//! advance where the policy says so (cn-agency, seed 001: 船便は、本サービスでの立替払いのみ).

#[path = "shipment_support.rs"]
mod support;

use chrono::NaiveDate;
use domain::facts::ItemCategory;
use domain::money::Money;
use domain::shipment::{DutyPayment, ShipmentCommand, ShipmentError, ShipmentEvent};
use domain::{Policy, Rule};
use rust_decimal_macros::dec;
use support::*;

fn nov(day: u32) -> NaiveDate {
    d(2026, 11, day)
}

fn choose(payment: DutyPayment) -> ShipmentCommand {
    ShipmentCommand::ChooseDutyPayment { payment }
}

fn ship_by(carrier: &str, declared: Money) -> ShipmentCommand {
    ShipmentCommand::Ship {
        carrier: carrier.into(),
        service: carrier.into(),
        tracking_number: tracking("RR123456789CN"),
        declared_value: declared,
    }
}

/// A cn-agency parcel packed and quoted for `carrier` to Japan, and paid.
fn cn_paid_for(carrier: &str) -> Story {
    let parcel = parcel(
        "p-1",
        1_000,
        vec![item("lamp", 1, Money::cny(dec!(200)), ItemCategory::Other)],
    );
    Story::cn()
        .on(
            nov(2),
            ShipmentCommand::RequestPacking {
                shipment_id: shipment_id(),
                member: verified(),
                parcel,
            },
        )
        .on(nov(2), packing(carrier, 1_200, dims(300, 200, 150)))
        .on(nov(2), quote(carrier, "JP"))
        .paid()
}

// rule ACC-8: the member chooses before dispatch how duty is paid; by the recipient on delivery
// unless they choose the warehouse's advance; once shipped, the choice is closed. Both profiles.
#[test]
fn acc_8_the_member_chooses_how_duty_is_paid_before_dispatch() {
    for story in [Story::jp().quoted().paid(), cn_paid_for("EMS")] {
        assert_eq!(story.state.duty_payment(), DutyPayment::RecipientOnDelivery);
        let chosen = story.when_on(nov(3), choose(DutyPayment::Advance)).unwrap();
        assert_eq!(
            chosen,
            vec![ShipmentEvent::DutyPaymentChosen {
                member_id: member_id(),
                payment: DutyPayment::Advance,
                chosen_on: nov(3),
            }]
        );
        let advanced = story.on(nov(3), choose(DutyPayment::Advance));
        assert_eq!(advanced.state.duty_payment(), DutyPayment::Advance);
        let shipped = advanced.on(nov(4), ship_ems());
        assert_refused(
            shipped.when_on(nov(5), choose(DutyPayment::RecipientOnDelivery)),
            ShipmentError::DutyChoiceAfterDispatch {
                status: domain::shipment::ShipmentStatus::Shipped,
            },
            "duty.after_dispatch",
            Some(Rule::Acc8),
        );
    }
}

// rule ACC-8: under cn-agency sea freight's duty is only advanced: a sea shipment does not ship,
// and cannot be set to be paid on delivery, until the advance is chosen.
#[test]
fn acc_8_sea_freight_ships_only_with_its_duty_advanced() {
    let policy = Policy::cn_agency();
    assert!(policy.carrier("surface").unwrap().sea);
    let story = cn_paid_for("surface");
    let refusal = ShipmentError::SeaFreightDutyAdvanceOnly {
        carrier: "surface".into(),
    };
    assert_refused(
        story.when_on(nov(4), ship_by("surface", Money::jpy(20_000))),
        refusal.clone(),
        "duty.sea_freight_advance_only",
        Some(Rule::Acc8),
    );
    assert_refused(
        story.when_on(nov(3), choose(DutyPayment::RecipientOnDelivery)),
        refusal,
        "duty.sea_freight_advance_only",
        Some(Rule::Acc8),
    );
    let shipped = story
        .on(nov(3), choose(DutyPayment::Advance))
        .on(nov(4), ship_by("surface", Money::jpy(20_000)));
    assert!(matches!(
        shipped.events.last(),
        Some(ShipmentEvent::Shipped { .. })
    ));
    // Air freight ships with duty paid on delivery, the default.
    cn_paid_for("EMS").on(nov(4), ship_by("EMS", Money::jpy(20_000)));
}
