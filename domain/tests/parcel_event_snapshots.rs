//! The JSON of every parcel event is a permanent contract: one realistic example per variant,
//! snapshotted, round-tripped, and checked against `ParcelEvent::TYPES`.

mod parcel_support;

use cqrs_es::DomainEvent;
use domain::facts::{DeclaredItem, ItemCategory};
use domain::ids::ClaimId;
use domain::money::Money;
use domain::parcel::{
    ClaimSettlement, CollectKind, CollectOnDelivery, DeclarationSource, DisposedBecause,
    DoorRefusal, Finding, FindingKind, HeldFrom, InspectedVariation, InspectionRecord, LargeItem,
    OversizeDefect, ParcelEvent, ReturnedFrom,
};
use domain::policy::{InspectionLevel, StorageAnchor, StorageLimit};
use domain::shipment::{ClaimType, TrackingNumber};
use domain::Rule;
use parcel_support::*;
use rust_decimal_macros::dec;
use std::collections::BTreeSet;

fn examples() -> Vec<ParcelEvent> {
    let jp = jp().version();
    let cn = cn().version();
    vec![
        ParcelEvent::Expected {
            parcel_id: parcel_id(),
            member_id: member_id(),
            shop: "shop-approved-1".into(),
            purchased_on: d(2026, 9, 1),
            cancellable_from: d(2026, 10, 17),
            policy: jp.clone(),
        },
        ParcelEvent::Cancelled {
            member_id: member_id(),
            purchased_on: d(2026, 9, 1),
            cancelled_on: d(2026, 10, 17),
            rule: Rule::Par2,
            policy: jp.clone(),
        },
        ParcelEvent::Refused {
            parcel_id: parcel_id(),
            suite_code: Some(suite()),
            member_id: Some(member_id()),
            shop: Some("unknown-shop".into()),
            collect_on_delivery: CollectOnDelivery {
                kind: CollectKind::CarriageForward,
                amount: Money::jpy(1_200),
            },
            delivered_on: d(2026, 11, 20),
            reason: DoorRefusal::ShopNotApproved,
            rule: Rule::Par2,
            policy: jp.clone(),
        },
        ParcelEvent::Arrived {
            parcel_id: parcel_id(),
            suite_code: Some(suite()),
            member_id: Some(member_id()),
            delivered_on: d(2026, 11, 21),
            received_on: d(2026, 11, 24),
            notify_by: Some(d(2026, 11, 24)),
            weight: weight(1_200),
            dimensions: dims(300, 200, 100),
            shop: Some("shop-approved-1".into()),
            auto_pack: false,
            policy: jp.clone(),
        },
        ParcelEvent::ArrivalNoticeSent {
            member_id: member_id(),
            received_on: d(2026, 11, 24),
            sent_on: d(2026, 11, 24),
            shop: Some("shop-approved-1".into()),
            weight: weight(1_200),
            dimensions: dims(300, 200, 100),
            forwarding_fee: Money::jpy(800),
            rule: Rule::Par3,
            policy: jp.clone(),
        },
        ParcelEvent::ProxyPaymentCharged {
            member_id: member_id(),
            shop: "shop-approved-1".into(),
            courier_amount: Money::jpy(1_005),
            collected: Some(CollectKind::CashOnDelivery),
            surcharge_percent: dec!(10),
            surcharge: Money::jpy(101),
            charge: Money::jpy(1_106),
            rule: Rule::Par2,
            policy: jp.clone(),
        },
        ParcelEvent::AttachedToMember {
            member_id: member_id(),
            attached_on: d(2026, 11, 21),
            notify_by: d(2026, 11, 24),
            auto_pack: true,
            policy: jp.clone(),
        },
        ParcelEvent::ContentsDeclared {
            items: vec![DeclaredItem {
                description: "cotton T-shirt".into(),
                quantity: 2,
                unit_price: Money::cny(dec!(49.90)),
                category: ItemCategory::Apparel,
                domestic_shipping: None,
                order_service: None,
            }],
            sender: "Shop Example".into(),
            source: DeclarationSource::ShopListing,
        },
        ParcelEvent::DeclarationConfirmed {
            confirmed_on: d(2026, 11, 24),
        },
        ParcelEvent::Inspected(InspectionRecord {
            inspected_on: d(2026, 11, 24),
            level_planned: InspectionLevel::Detailed,
            level_applied: InspectionLevel::Quantity,
            large_item: Some(LargeItem {
                longest_side_mm: 620,
                weight_g: 12_000,
            }),
            variations: vec![InspectedVariation {
                variation: "white / M".into(),
                units: 21,
                inspected: 20,
                uninspected: 1,
            }],
            max_units_per_variation: 20,
            findings: vec![Finding {
                kind: FindingKind::Damage,
                variation: Some("white / M".into()),
                items: 1,
                evidence: vec!["insp/p-0001/1.jpg".into()],
                note: Some("torn seam".into()),
            }],
            defect_items: 1,
            defect_fee: Some(Money::cny(dec!(64))),
            oversize: Some(OversizeDefect {
                sides_total_mm: 1_320,
                over_size_cm: 100,
                cost: Money::cny(dec!(64)),
                min_fee: Money::cny(dec!(50)),
            }),
            detailed_inspection_fee: None,
            policy: cn.clone(),
        }),
        ParcelEvent::Quarantined {
            member_id: Some(member_id()),
            categories: vec!["aerosol".into()],
            member_may_be_suspended: true,
            rule: Rule::Ins4,
            policy: jp.clone(),
        },
        ParcelEvent::Stored {
            location: "A-01-03".into(),
            stored_on: d(2026, 11, 24),
            anchor: d(2026, 11, 2),
            last_free_day: d(2026, 11, 22),
            policy: jp.clone(),
        },
        ParcelEvent::PackingRequested {
            member_id: member_id(),
            auto_pack: false,
            shipment_id: Some(shipment("s-0001")),
        },
        ParcelEvent::Consolidated {
            shipment_id: shipment("s-0001"),
            member_id: member_id(),
        },
        ParcelEvent::Packed {
            shipment_id: shipment("s-0001"),
            packed_on: d(2026, 11, 25),
        },
        ParcelEvent::Released {
            shipment_id: shipment("s-0001"),
            released_on: d(2026, 11, 26),
        },
        ParcelEvent::Held {
            shipment_id: shipment("s-0001"),
            quote_due_on: d(2026, 12, 2),
            held_on: d(2026, 12, 3),
            rule: Rule::Pay2,
        },
        ParcelEvent::HoldReleased {
            shipment_id: shipment("s-0001"),
            restored: HeldFrom::Packed,
            released_on: d(2026, 12, 5),
            rule: Rule::Pay2,
        },
        ParcelEvent::StorageNoticeSent {
            member_id: member_id(),
            days_before: 7,
            last_free_day: d(2026, 11, 22),
            sent_on: d(2026, 11, 15),
            policy: jp.clone(),
        },
        ParcelEvent::MarkedDisposable {
            anchor_rule: StorageAnchor::FirstWaitingArrival,
            anchor: d(2026, 11, 2),
            last_free_day: d(2026, 11, 22),
            disposable_on: d(2026, 11, 23),
            rule: Rule::Sto2,
            policy: jp.clone(),
        },
        ParcelEvent::StorageExtended {
            anchor: d(2026, 1, 31),
            max_storage: StorageLimit::Months(1),
            last_free_day: d(2026, 2, 28),
            units: 2,
            fee_per_unit_month: Money::cny(dec!(60)),
            policy: cn.clone(),
        },
        ParcelEvent::StorageFeeAccrued {
            month: 1,
            period_start: d(2026, 3, 1),
            period_end: d(2026, 3, 31),
            units: 2,
            fee: Money::cny(dec!(120)),
            rule: Rule::Sto3,
            policy: cn.clone(),
        },
        ParcelEvent::Disposed {
            member_id: Some(member_id()),
            cause: DisposedBecause::LeftAtWithdrawal {
                items: 3,
                fee_per_item: Money::cny(dec!(5)),
            },
            fee: Money::cny(dec!(15)),
            rule: Rule::Mem8,
            policy: cn,
        },
        ParcelEvent::Returned {
            from: ReturnedFrom::Unidentified,
            returned_on: d(2026, 12, 10),
            note: "no member found".into(),
        },
        ParcelEvent::Paid {
            shipment_id: shipment("s-0001"),
            paid_on: d(2026, 11, 27),
        },
        ParcelEvent::Shipped {
            shipment_id: shipment("s-0001"),
            carrier: "EMS".into(),
            service: "EMS".into(),
            tracking_number: TrackingNumber::parse("EJ123456789JP").unwrap(),
            shipped_on: d(2026, 11, 30),
        },
        ParcelEvent::CustomsHeld {
            shipment_id: shipment("s-0001"),
            held_on: d(2026, 12, 2),
        },
        ParcelEvent::Delivered {
            shipment_id: shipment("s-0001"),
            delivered_on: d(2026, 12, 4),
        },
        ParcelEvent::Lost {
            shipment_id: shipment("s-0001"),
            lost_on: d(2026, 12, 20),
        },
        ParcelEvent::ReturnedToWarehouse {
            shipment_id: shipment("s-0001"),
            received_on: d(2026, 12, 21),
        },
        ParcelEvent::Claimed {
            shipment_id: shipment("s-0001"),
            claim_id: ClaimId::parse("clm-1").unwrap(),
            claim_type: ClaimType::Defect,
            filed_on: d(2026, 12, 5),
        },
        ParcelEvent::ClaimSettled {
            shipment_id: shipment("s-0001"),
            claim_id: ClaimId::parse("clm-1").unwrap(),
            outcome: ClaimSettlement::Approved {
                payout: Money::jpy(3_000),
            },
            settled_on: d(2026, 12, 8),
        },
    ]
}

#[test]
fn every_parcel_event_type_has_a_snapshot() {
    let covered: BTreeSet<String> = examples().iter().map(|e| e.event_type()).collect();
    let declared: BTreeSet<String> = ParcelEvent::TYPES.iter().map(|t| t.to_string()).collect();
    assert_eq!(covered, declared);
    assert_eq!(examples().len(), ParcelEvent::TYPES.len());
    for event in examples() {
        // Version 2 since their upcasters (domain::upcast); every other parcel event is at 1.
        let version = if [
            "parcel.inspected",
            "parcel.packing_requested",
            "parcel.proxy_payment_charged",
        ]
        .contains(&event.event_type().as_str())
        {
            "2"
        } else {
            "1"
        };
        assert_eq!(event.event_version(), version);
    }
}

#[test]
fn parcel_event_json_is_stable() {
    for event in examples() {
        let name = format!("parcel__{}", event.event_type());
        insta::assert_json_snapshot!(name, event);
        let json = serde_json::to_string(&event).unwrap();
        let back: ParcelEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event);
    }
}

// The other disposal causes' shapes, which readers (the account, the audit) parse.
#[test]
fn parcel_disposal_causes_json_is_stable() {
    let causes = vec![
        DisposedBecause::PastMaxStorage {
            last_free_day: d(2026, 11, 22),
            disposable_on: d(2026, 11, 23),
        },
        DisposedBecause::Prohibited {
            categories: vec!["aerosol".into()],
        },
        DisposedBecause::Unpaid {
            shipment_id: shipment("s-0001"),
            quote_due_on: d(2026, 12, 2),
        },
    ];
    insta::assert_json_snapshot!("parcel__disposal_causes", causes);
}

// The other claim settlements' shapes, which subscribers following a parcel parse.
#[test]
fn parcel_claim_settlements_json_is_stable() {
    let outcomes = vec![
        ClaimSettlement::Rejected,
        ClaimSettlement::Withdrawn,
        ClaimSettlement::Exchanged,
        ClaimSettlement::ExchangeLapsed,
    ];
    insta::assert_json_snapshot!("parcel__claim_settlements", outcomes);
}

// SHP-2: the disposal of a return the member abandoned, a cause added after the others.
#[test]
fn parcel_return_abandoned_disposal_cause_json_is_stable() {
    let causes = vec![DisposedBecause::ReturnAbandoned {
        shipment_id: shipment("s-0001"),
    }];
    insta::assert_json_snapshot!("parcel__disposal_cause_return_abandoned", causes);
}
