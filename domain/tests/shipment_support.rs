//! Shared helpers for the Shipment tests: members, parcels, local times and a `Story` that
//! builds a shipment's history by running real commands, so `given` events are always ones
//! the aggregate could have produced. Included by the `shipment_*` test files with `#[path]`.
#![allow(dead_code)]

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use cqrs_es::test::{AggregateTestExecutor, TestFramework};
use domain::facts::{DeclaredItem, ItemCategory, MemberStanding, ParcelFacts, StandingStatus};
use domain::ids::{ClaimId, MemberId, ParcelId, ShipmentId};
use domain::measure::{Dimensions, Weight};
use domain::money::Money;
use domain::shipment::{
    ClaimType, ClaimedItem, Evidence, PaymentMethod, Shipment, ShipmentCommand, ShipmentError,
    ShipmentEvent, TrackingNumber, TrackingStatus,
};
use domain::{Issued, Policy, Refusal, Rule, Services};

pub const MEMBER: &str = "m-1";

/// A calendar date.
pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// The instant of a local wall-clock time at the policy's warehouse.
pub fn local(policy: &Policy, date: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    let naive = date.and_hms_opt(hour, minute, 0).unwrap();
    Utc.from_utc_datetime(&(naive - Duration::minutes(i64::from(policy.utc_offset_minutes))))
}

/// 10:00 warehouse time on `date`.
pub fn morning(policy: &Policy, date: NaiveDate) -> DateTime<Utc> {
    local(policy, date, 10, 0)
}

pub fn member_id() -> MemberId {
    MemberId::parse(MEMBER).unwrap()
}

/// A verified member without Auto Pack or Auto Ship.
pub fn verified() -> MemberStanding {
    MemberStanding {
        member_id: member_id(),
        status: StandingStatus::Verified,
        auto_pack: false,
        auto_ship_limit: None,
    }
}

pub fn standing(status: StandingStatus) -> MemberStanding {
    MemberStanding {
        status,
        ..verified()
    }
}

pub fn with_auto_ship(limit: Money) -> MemberStanding {
    MemberStanding {
        auto_ship_limit: Some(limit),
        ..verified()
    }
}

pub fn item(
    description: &str,
    quantity: u32,
    unit_price: Money,
    category: ItemCategory,
) -> DeclaredItem {
    DeclaredItem {
        description: description.into(),
        quantity,
        unit_price,
        category,
        domestic_shipping: None,
        order_service: None,
    }
}

/// A stored parcel of the member: `grams`, 300×200×100 mm, received 26 Oct 2026.
pub fn parcel(id: &str, grams: u32, items: Vec<DeclaredItem>) -> ParcelFacts {
    ParcelFacts {
        parcel_id: ParcelId::parse(id).unwrap(),
        member_id: member_id(),
        weight: Weight::from_grams(grams).unwrap(),
        dimensions: Dimensions::from_mm(300, 200, 100).unwrap(),
        items,
        received_on: d(2026, 10, 26),
        auto_pack: false,
    }
}

/// A parcel with one "other" item worth `value` JPY.
pub fn parcel_jpy(id: &str, grams: u32, value: i64) -> ParcelFacts {
    parcel(
        id,
        grams,
        vec![item("goods", 1, Money::jpy(value), ItemCategory::Other)],
    )
}

pub fn shipment_id() -> ShipmentId {
    ShipmentId::parse("s-1").unwrap()
}

pub fn claim_id(s: &str) -> ClaimId {
    ClaimId::parse(s).unwrap()
}

pub fn dims(l: u32, w: u32, h: u32) -> Dimensions {
    Dimensions::from_mm(l, w, h).unwrap()
}

pub fn grams(g: u32) -> Weight {
    Weight::from_grams(g).unwrap()
}

pub fn tracking(s: &str) -> TrackingNumber {
    TrackingNumber::parse(s).unwrap()
}

pub fn consolidation(parcels: Vec<ParcelFacts>) -> ShipmentCommand {
    ShipmentCommand::RequestConsolidation {
        shipment_id: shipment_id(),
        member: verified(),
        parcels,
    }
}

pub fn packing(carrier: &str, weight: u32, dimensions: Dimensions) -> ShipmentCommand {
    ShipmentCommand::RecordPacking {
        carrier: carrier.into(),
        weight: grams(weight),
        dimensions,
    }
}

/// A quote request for a verified member without Auto Ship.
pub fn quote(carrier: &str, destination: &str) -> ShipmentCommand {
    quote_for(verified(), carrier, destination, &[], None, false)
}

pub fn quote_for(
    member: MemberStanding,
    carrier: &str,
    destination: &str,
    options: &[&str],
    insurance: Option<Money>,
    warranty: bool,
) -> ShipmentCommand {
    ShipmentCommand::Quote {
        member,
        carrier: carrier.into(),
        destination: destination.into(),
        options: options.iter().map(|s| s.to_string()).collect(),
        insurance,
        warranty,
    }
}

pub fn pay(method: PaymentMethod, amount: Money) -> ShipmentCommand {
    ShipmentCommand::Pay {
        member: verified(),
        method,
        amount,
        exchange_rate: None,
    }
}

pub fn ship_ems() -> ShipmentCommand {
    ShipmentCommand::Ship {
        carrier: "EMS".into(),
        service: "EMS".into(),
        tracking_number: tracking("EJ123456789JP"),
        declared_value: Money::jpy(12_000),
    }
}

pub fn tracked(status: TrackingStatus, on: NaiveDate) -> ShipmentCommand {
    ShipmentCommand::RecordTracking {
        status,
        on,
        note: None,
    }
}

/// Asserts a refusal: the variant, its stable code and its rule.
pub fn assert_refused(
    result: Result<Vec<ShipmentEvent>, ShipmentError>,
    expected: ShipmentError,
    code: &str,
    rule: Option<Rule>,
) {
    let err = result.expect_err("expected a refusal");
    assert_eq!(err, expected);
    assert_eq!(err.code(), code);
    assert_eq!(err.rule(), rule);
}

/// A shipment's history, built by running commands through `decide` and `evolve`.
#[derive(Clone)]
pub struct Story {
    pub policy: Policy,
    pub events: Vec<ShipmentEvent>,
    pub state: Shipment,
}

impl Story {
    pub fn new(policy: Policy) -> Self {
        Self {
            policy,
            events: Vec::new(),
            state: Shipment::default(),
        }
    }

    pub fn jp() -> Self {
        Self::new(Policy::jp_forwarding())
    }

    pub fn cn() -> Self {
        Self::new(Policy::cn_agency())
    }

    /// Runs `command` at `at`; it must succeed.
    pub fn run(mut self, at: DateTime<Utc>, command: ShipmentCommand) -> Self {
        let events = self
            .state
            .decide(Issued::at(at, command.clone()), &self.policy)
            .unwrap_or_else(|e| panic!("{command:?} refused: {e}"));
        for event in events {
            self.state.evolve(event.clone());
            self.events.push(event);
        }
        self
    }

    /// Runs `command` on `date` at 10:00 local time.
    pub fn on(self, date: NaiveDate, command: ShipmentCommand) -> Self {
        let at = morning(&self.policy, date);
        self.run(at, command)
    }

    /// The cqrs-es test framework, given this history.
    pub fn given(&self) -> AggregateTestExecutor<Shipment> {
        TestFramework::<Shipment>::with(Services::new(self.policy.clone()))
            .given(self.events.clone())
    }

    /// What `command` at `at` decides, through the cqrs-es test framework.
    pub fn when(
        &self,
        at: DateTime<Utc>,
        command: ShipmentCommand,
    ) -> Result<Vec<ShipmentEvent>, ShipmentError> {
        self.given().when(Issued::at(at, command)).inspect_result()
    }

    /// What `command` on `date` at 10:00 local decides.
    pub fn when_on(
        &self,
        date: NaiveDate,
        command: ShipmentCommand,
    ) -> Result<Vec<ShipmentEvent>, ShipmentError> {
        self.when(morning(&self.policy, date), command)
    }

    /// The total of the last quote.
    pub fn quote_total(&self) -> Money {
        self.events
            .iter()
            .rev()
            .find_map(|e| match e {
                ShipmentEvent::Quoted { total, .. } => Some(*total),
                _ => None,
            })
            .expect("quoted")
    }

    // ---------------------------------------------------------------- standard steps (jp dates)

    /// Two parcels of 1,000 g and 200 g, worth 8,000 + 4,000 JPY, requested Mon 2 Nov 2026.
    pub fn requested(self) -> Self {
        self.on(
            d(2026, 11, 2),
            consolidation(vec![
                parcel_jpy("p-1", 1_000, 8_000),
                parcel_jpy("p-2", 200, 4_000),
            ]),
        )
    }

    /// Packed for EMS on Mon 2 Nov: 1,200 g, 300×200×150 mm.
    pub fn packed(self) -> Self {
        self.requested()
            .on(d(2026, 11, 2), packing("EMS", 1_200, dims(300, 200, 150)))
    }

    /// Quoted EMS to the US on Mon 2 Nov (due Mon 9 Nov), with `options`, insurance, warranty.
    pub fn quoted_with(self, options: &[&str], insurance: Option<Money>, warranty: bool) -> Self {
        self.packed().on(
            d(2026, 11, 2),
            quote_for(verified(), "EMS", "US", options, insurance, warranty),
        )
    }

    /// Quoted EMS to the US, nothing extra: 800 + 7,800 = 8,600 JPY.
    pub fn quoted(self) -> Self {
        self.quoted_with(&[], None, false)
    }

    /// Paid in full from the balance on Tue 3 Nov (a method without a PayPal fee under both
    /// profiles, ACC-5).
    pub fn paid(self) -> Self {
        let total = self.quote_total();
        self.on(d(2026, 11, 3), pay(PaymentMethod::Balance, total))
    }

    /// Shipped by EMS on Wed 4 Nov.
    pub fn shipped(self) -> Self {
        self.paid().on(d(2026, 11, 4), ship_ems())
    }

    /// Delivered on Tue 10 Nov (recorded that day).
    pub fn delivered(self) -> Self {
        self.shipped().on(
            d(2026, 11, 10),
            tracked(TrackingStatus::Delivered, d(2026, 11, 10)),
        )
    }
}

// -------------------------------------------------------------------- claims

/// p-1: one apparel coat at 8,000 JPY; p-2: two cameras at 5,000 JPY each (18,000 JPY in all).
pub fn claim_parcels() -> Vec<ParcelFacts> {
    vec![
        parcel(
            "p-1",
            1_000,
            vec![item("coat", 1, Money::jpy(8_000), ItemCategory::Apparel)],
        ),
        parcel(
            "p-2",
            200,
            vec![item("camera", 2, Money::jpy(5_000), ItemCategory::Other)],
        ),
    ]
}

/// The claim parcels in jp-forwarding: requested and packed (in `packed`) on Mon 2 Nov 2026,
/// quoted EMS to the US with `insurance` and `warranty`, paid 3 Nov, shipped 4 Nov,
/// delivered Tue 10 Nov.
pub fn delivered_with(packed: Dimensions, insurance: Option<Money>, warranty: bool) -> Story {
    Story::jp()
        .on(d(2026, 11, 2), consolidation(claim_parcels()))
        .on(d(2026, 11, 2), packing("EMS", 1_200, packed))
        .on(
            d(2026, 11, 2),
            quote_for(verified(), "EMS", "US", &[], insurance, warranty),
        )
        .paid()
        .on(d(2026, 11, 4), ship_ems())
        .on(
            d(2026, 11, 10),
            tracked(TrackingStatus::Delivered, d(2026, 11, 10)),
        )
}

/// The claim parcels delivered on 10 Nov, 300×200×150 mm, without insurance or add-on.
pub fn delivered_claim_story() -> Story {
    delivered_with(dims(300, 200, 150), None, false)
}

/// Photos, label photo, comment and damage report: complete for every claim type.
pub fn full_evidence() -> Evidence {
    Evidence {
        photos: vec!["photo-1.jpg".into()],
        label_photo: Some("label.jpg".into()),
        comment: Some("box crushed, lens cracked".into()),
        damage_report: Some("damage-report.pdf".into()),
    }
}

pub fn item_ref(parcel: &str, line: u32, quantity: u32) -> ClaimedItem {
    ClaimedItem {
        parcel_id: ParcelId::parse(parcel).unwrap(),
        line,
        quantity,
    }
}

pub fn file(
    claim: &str,
    claim_type: ClaimType,
    evidence: Evidence,
    item: Option<ClaimedItem>,
    under_warranty: bool,
) -> ShipmentCommand {
    ShipmentCommand::FileClaim {
        claim_id: claim_id(claim),
        claim_type,
        evidence,
        item,
        under_warranty,
    }
}

/// `parcels` in cn-agency: consolidated and packed (300×200×150 mm) on Mon 2 Nov 2026, quoted
/// EMS to the US with `options` and `insurance`, paid 3 Nov, shipped 4 Nov, delivered 10 Nov.
pub fn cn_delivered(
    parcels: Vec<ParcelFacts>,
    options: &[&str],
    insurance: Option<Money>,
) -> Story {
    let story = if parcels.len() == 1 {
        Story::cn().on(
            d(2026, 11, 2),
            ShipmentCommand::RequestPacking {
                shipment_id: shipment_id(),
                member: verified(),
                parcel: parcels.into_iter().next().expect("one parcel"),
            },
        )
    } else {
        Story::cn().on(d(2026, 11, 2), consolidation(parcels))
    };
    story
        .on(
            d(2026, 11, 2),
            packing("EMS", 1_200, Dimensions::from_mm(300, 200, 150).unwrap()),
        )
        .on(
            d(2026, 11, 2),
            quote_for(verified(), "EMS", "US", options, insurance, false),
        )
        .paid()
        .on(d(2026, 11, 4), ship_ems())
        .on(
            d(2026, 11, 10),
            tracked(TrackingStatus::Delivered, d(2026, 11, 10)),
        )
}

/// A declared item bought under `order_service` with `domestic_shipping` paid for its line.
pub fn ordered_item(
    item: DeclaredItem,
    order_service: Option<&str>,
    domestic_shipping: Option<Money>,
) -> DeclaredItem {
    DeclaredItem {
        order_service: order_service.map(str::to_owned),
        domestic_shipping,
        ..item
    }
}
