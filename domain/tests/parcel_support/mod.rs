//! Shared helpers of the parcel tests: policies, dates, members, and histories built by
//! running real commands through `decide` and `evolve`.
#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use domain::facts::{DeclaredItem, ItemCategory, MemberStanding, StandingStatus};
use domain::ids::{MemberId, ParcelId, ShipmentId, SuiteCode};
use domain::measure::{Dimensions, Weight};
use domain::money::Money;
use domain::parcel::{
    Arrival, DeclarationSource, InspectionReport, Parcel, ParcelCommand, ParcelError, ParcelEvent,
    VariationCount,
};
use domain::{Issued, Policy, Refusal, Rule, Services};

pub fn jp() -> Policy {
    Policy::jp_forwarding()
}

pub fn cn() -> Policy {
    Policy::cn_agency()
}

pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// 03:00 UTC: noon in Tokyo, 11:00 in Shanghai, the same local date in both profiles.
pub fn at(date: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&date.and_hms_opt(3, 0, 0).unwrap())
}

pub fn on(date: NaiveDate, command: ParcelCommand) -> Issued<ParcelCommand> {
    Issued::at(at(date), command)
}

pub fn parcel_id() -> ParcelId {
    ParcelId::parse("p-0001").unwrap()
}

pub fn member_id() -> MemberId {
    MemberId::parse("m-0001").unwrap()
}

pub fn shipment(id: &str) -> ShipmentId {
    ShipmentId::parse(id).unwrap()
}

pub fn suite() -> SuiteCode {
    SuiteCode::parse("TYO-004217").unwrap()
}

pub fn standing(status: StandingStatus, auto_pack: bool) -> MemberStanding {
    MemberStanding {
        member_id: member_id(),
        status,
        auto_pack,
        auto_ship_limit: None,
    }
}

pub fn verified() -> MemberStanding {
    standing(StandingStatus::Verified, false)
}

pub fn auto_packer() -> MemberStanding {
    standing(StandingStatus::Verified, true)
}

pub fn weight(g: u32) -> Weight {
    Weight::from_grams(g).unwrap()
}

pub fn dims(l: u32, w: u32, h: u32) -> Dimensions {
    Dimensions::from_mm(l, w, h).unwrap()
}

/// A 1.2 kg box of 300×200×100 mm for the verified member, no payment on delivery.
pub fn arrival() -> Arrival {
    Arrival {
        parcel_id: parcel_id(),
        suite_code: Some(suite()),
        member: Some(verified()),
        weight: weight(1_200),
        dimensions: dims(300, 200, 100),
        shop: None,
        collect_on_delivery: None,
    }
}

pub fn items(currency_amount: Money, quantity: u32) -> Vec<DeclaredItem> {
    vec![DeclaredItem {
        description: "cotton T-shirt".into(),
        quantity,
        unit_price: currency_amount,
        category: ItemCategory::Apparel,
        domestic_shipping: None,
        order_service: None,
    }]
}

pub fn declare(quantity: u32) -> ParcelCommand {
    ParcelCommand::Declare {
        items: items(Money::jpy(2_500), quantity),
        sender: "Shop Example".into(),
        source: DeclarationSource::Member,
    }
}

pub fn inspect_quantity(units: u32) -> ParcelCommand {
    ParcelCommand::Inspect(InspectionReport {
        level: None,
        variations: vec![VariationCount {
            variation: "white / M".into(),
            units,
        }],
        findings: vec![],
        observed_categories: vec![],
        oversize_cost: None,
    })
}

pub fn store() -> ParcelCommand {
    ParcelCommand::Store {
        location: "A-01-03".into(),
        earliest_waiting_arrival: None,
    }
}

/// Runs `commands` in order through `decide` and `evolve`, returning every event; panics on a
/// refusal, so a test's given history is one the aggregate itself would produce.
pub fn history(policy: &Policy, commands: Vec<Issued<ParcelCommand>>) -> Vec<ParcelEvent> {
    let mut parcel = Parcel::default();
    let mut all = Vec::new();
    for command in commands {
        let name = command.command.name();
        let events = parcel
            .decide(command, policy)
            .unwrap_or_else(|e| panic!("history step {name} refused: {e}"));
        for event in events {
            parcel.evolve(event.clone());
            all.push(event);
        }
    }
    all
}

/// The state after `events`.
pub fn state(events: &[ParcelEvent]) -> Parcel {
    let mut parcel = Parcel::default();
    for event in events {
        parcel.evolve(event.clone());
    }
    parcel
}

/// Arrived on `received`, declared (2 items), confirmed, inspected (2 units), stored: all the same day.
pub fn stored_on(policy: &Policy, received: NaiveDate) -> Vec<ParcelEvent> {
    history(
        policy,
        vec![
            on(received, ParcelCommand::Arrive(arrival())),
            on(received, declare(2)),
            on(received, ParcelCommand::ConfirmDeclaration),
            on(received, inspect_quantity(2)),
            on(received, store()),
        ],
    )
}

pub fn framework(policy: Policy) -> TestFramework<Parcel> {
    TestFramework::<Parcel>::with(Services::new(policy))
}

/// Asserts a refusal's variant, stable code and rule.
pub fn assert_refused(
    result: Result<Vec<ParcelEvent>, ParcelError>,
    expected: ParcelError,
    code: &str,
    rule: Option<Rule>,
) {
    let err = result.expect_err("the command should be refused");
    assert_eq!(err, expected);
    assert_eq!(err.code(), code);
    assert_eq!(err.rule(), rule);
}

/// The events `command` produces after `given`, or its refusal.
pub fn decide(
    policy: &Policy,
    given: &[ParcelEvent],
    command: Issued<ParcelCommand>,
) -> Result<Vec<ParcelEvent>, ParcelError> {
    state(given).decide(command, policy)
}
