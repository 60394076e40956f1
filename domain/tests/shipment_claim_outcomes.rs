//! Shipment: claim outcomes (CLM-5) and exchanges under the warranty add-on (CLM-6).

#[path = "shipment_support.rs"]
mod support;

use chrono::NaiveDate;
use domain::facts::{DeclaredItem, ItemCategory};
use domain::money::{Currency, Money};
use domain::shipment::{
    ClaimStatus, ClaimType, PayoutBasis, ShipmentCommand, ShipmentError, ShipmentEvent,
    TrackingStatus,
};
use domain::{Issued, Policy, Rule};
use rust_decimal_macros::dec;
use support::*;

fn nov(day: u32) -> NaiveDate {
    d(2026, 11, day)
}

fn approve(claim: &str, payout: Money) -> ShipmentCommand {
    ShipmentCommand::ApproveClaim {
        claim_id: claim_id(claim),
        payout,
    }
}

fn defect(claim: &str, parcel: &str, quantity: u32, under_warranty: bool) -> ShipmentCommand {
    file(
        claim,
        ClaimType::Defect,
        full_evidence(),
        Some(item_ref(parcel, 0, quantity)),
        under_warranty,
    )
}

fn damage(claim: &str) -> ShipmentCommand {
    file(claim, ClaimType::Damage, full_evidence(), None, false)
}

// rule CLM-5: a rejection states its reason.
#[test]
fn clm_5_claim_is_rejected_with_a_reason() {
    let story = delivered_claim_story().on(nov(11), damage("c-1"));
    let at = morning(&story.policy, nov(12));
    let reject = |reason: &str| ShipmentCommand::RejectClaim {
        claim_id: claim_id("c-1"),
        reason: reason.into(),
    };
    story
        .given()
        .when(Issued::at(at, reject("damage predates shipping")))
        .then_expect_events(vec![ShipmentEvent::ClaimRejected {
            claim_id: claim_id("c-1"),
            reason: "damage predates shipping".into(),
            rejected_at: at,
        }]);
    assert_refused(
        story.when_on(nov(12), reject(" ")),
        ShipmentError::ReasonRequired,
        "claim.reason_required",
        Some(Rule::Clm5),
    );
    let rejected = story.run(at, reject("damage predates shipping"));
    assert_eq!(
        rejected
            .when_on(nov(12), approve("c-1", Money::jpy(1)))
            .unwrap_err(),
        ShipmentError::ClaimClosed {
            claim_id: claim_id("c-1"),
            status: ClaimStatus::Rejected
        }
    );
}

// rule CLM-5: a missed defect on apparel pays 100% of the item price, not a yen more; the
// approval carries the payout and the member to credit.
#[test]
fn clm_5_missed_apparel_defect_pays_full_item_price() {
    let story = delivered_claim_story().on(nov(11), defect("c-1", "p-1", 1, false));
    let at = morning(&story.policy, nov(12));
    story
        .given()
        .when(Issued::at(at, approve("c-1", Money::jpy(8_000))))
        .then_expect_events(vec![ShipmentEvent::ClaimApproved {
            claim_id: claim_id("c-1"),
            member_id: member_id(),
            payout: Money::jpy(8_000),
            cap: Money::jpy(8_000),
            basis: PayoutBasis::MissedDefect {
                item_price: Money::jpy(8_000),
                domestic_shipping: None,
                category: ItemCategory::Apparel,
                percent: dec!(100),
                other_cap: Money::jpy(2_000),
            },
            approved_at: at,
            policy: story.policy.version(),
        }]);
    assert_refused(
        story.when_on(nov(12), approve("c-1", Money::jpy(8_001))),
        ShipmentError::PayoutOverCap {
            payout: Money::jpy(8_001),
            cap: Money::jpy(8_000),
        },
        "claim.payout_over_cap",
        Some(Rule::Clm5),
    );
}

// rule CLM-5 / POL-2: a missed defect on other goods pays at most other_defect_cap
// (jp-forwarding example 2,000 JPY; cn-agency 100 CNY from seed 001).
#[test]
fn clm_5_missed_defect_on_other_goods_is_capped() {
    // Two cameras at 5,000 JPY: price 10,000, capped at 2,000.
    let story = delivered_claim_story().on(nov(11), defect("c-1", "p-2", 2, false));
    assert!(story
        .when_on(nov(12), approve("c-1", Money::jpy(2_000)))
        .is_ok());
    assert_eq!(
        story
            .when_on(nov(12), approve("c-1", Money::jpy(2_001)))
            .unwrap_err(),
        ShipmentError::PayoutOverCap {
            payout: Money::jpy(2_001),
            cap: Money::jpy(2_000)
        }
    );
    // A cheap item is capped at its own price.
    let cheap = parcel(
        "p-1",
        500,
        vec![item("mug", 1, Money::jpy(1_500), ItemCategory::Other)],
    );
    let story = Story::jp()
        .on(
            nov(2),
            ShipmentCommand::RequestPacking {
                shipment_id: shipment_id(),
                member: verified(),
                parcel: cheap,
            },
        )
        .on(nov(2), packing("EMS", 600, dims(200, 200, 200)))
        .on(nov(2), quote("EMS", "US"))
        .paid()
        .on(nov(4), ship_ems())
        .on(nov(10), tracked(TrackingStatus::Delivered, nov(10)))
        .on(nov(11), defect("c-1", "p-1", 1, false));
    assert_eq!(
        story
            .when_on(nov(12), approve("c-1", Money::jpy(1_501)))
            .unwrap_err(),
        ShipmentError::PayoutOverCap {
            payout: Money::jpy(1_501),
            cap: Money::jpy(1_500)
        }
    );
    // cn-agency: 100 CNY (a purchase-agency order: only those and OEM orders are compensated).
    let cny = parcel(
        "p-1",
        1_000,
        vec![ordered_item(
            item("lamp", 1, Money::cny(dec!(350)), ItemCategory::Other),
            Some("purchase-agency"),
            None,
        )],
    );
    let story = Story::cn()
        .on(
            nov(2),
            ShipmentCommand::RequestPacking {
                shipment_id: shipment_id(),
                member: verified(),
                parcel: cny,
            },
        )
        .on(nov(2), packing("EMS", 1_200, dims(300, 200, 150)))
        .on(nov(2), quote("EMS", "US"))
        .paid()
        .on(nov(4), ship_ems())
        .on(nov(10), tracked(TrackingStatus::Delivered, nov(10)))
        .on(nov(11), defect("c-1", "p-1", 1, false));
    assert!(story
        .when_on(nov(12), approve("c-1", Money::cny(dec!(100))))
        .is_ok());
    assert_eq!(
        story
            .when_on(nov(12), approve("c-1", Money::cny(dec!(100.01))))
            .unwrap_err(),
        ShipmentError::PayoutOverCap {
            payout: Money::cny(dec!(100.01)),
            cap: Money::cny(dec!(100))
        }
    );
}

// rule CLM-5 / FEE-3: carrier damage pays up to the insured amount; uninsured, nothing.
#[test]
fn clm_5_carrier_damage_is_capped_at_the_insured_amount() {
    let insured = delivered_with(dims(300, 200, 150), Some(Money::jpy(10_000)), false)
        .on(nov(11), damage("c-1"));
    let ok = insured
        .when_on(nov(12), approve("c-1", Money::jpy(10_000)))
        .unwrap();
    assert!(matches!(
        &ok[0],
        ShipmentEvent::ClaimApproved { basis: PayoutBasis::Insured { insured: Some(m) }, .. } if *m == Money::jpy(10_000)
    ));
    assert_eq!(
        insured
            .when_on(nov(12), approve("c-1", Money::jpy(10_001)))
            .unwrap_err(),
        ShipmentError::PayoutOverCap {
            payout: Money::jpy(10_001),
            cap: Money::jpy(10_000)
        }
    );
    let uninsured = delivered_claim_story().on(nov(11), damage("c-1"));
    assert_eq!(
        uninsured
            .when_on(nov(12), approve("c-1", Money::jpy(1)))
            .unwrap_err(),
        ShipmentError::PayoutOverCap {
            payout: Money::jpy(1),
            cap: Money::jpy(0)
        }
    );
}

// rule CLM-5: a shipment with a side over 600 mm gets no damage compensation (600 mm does).
#[test]
fn clm_5_side_over_600_mm_gets_no_damage_compensation() {
    let at_600 = delivered_with(dims(600, 200, 150), Some(Money::jpy(10_000)), false)
        .on(nov(11), damage("c-1"));
    assert!(at_600
        .when_on(nov(12), approve("c-1", Money::jpy(5_000)))
        .is_ok());
    let at_601 = delivered_with(dims(200, 601, 150), Some(Money::jpy(10_000)), false)
        .on(nov(11), damage("c-1"));
    assert_refused(
        at_601.when_on(nov(12), approve("c-1", Money::jpy(5_000))),
        ShipmentError::NoDamageCompensation {
            longest_side_mm: 601,
            limit_mm: 600,
        },
        "claim.no_damage_compensation",
        Some(Rule::Clm5),
    );
    // Other claim types on the same large shipment are not affected.
    let missing = at_601.on(
        nov(11),
        file(
            "c-2",
            ClaimType::MissingItem,
            full_evidence(),
            Some(item_ref("p-2", 0, 1)),
            false,
        ),
    );
    assert!(missing
        .when_on(nov(12), approve("c-2", Money::jpy(5_000)))
        .is_ok());
}

// rule CLM-5: a loss on an insured shipment is capped at the insured amount; a missing item
// at its price; a payout is positive and in the billing currency.
#[test]
fn clm_5_loss_missing_item_and_payout_checks() {
    let lost = Story::jp()
        .quoted_with(&[], Some(Money::jpy(50_000)), false)
        .shipped()
        .on(nov(30), tracked(TrackingStatus::Lost, nov(30)))
        .on(
            d(2026, 12, 1),
            file("c-1", ClaimType::Loss, full_evidence(), None, false),
        );
    assert!(lost
        .when_on(d(2026, 12, 2), approve("c-1", Money::jpy(50_000)))
        .is_ok());
    assert_eq!(
        lost.when_on(d(2026, 12, 2), approve("c-1", Money::jpy(50_001)))
            .unwrap_err(),
        ShipmentError::PayoutOverCap {
            payout: Money::jpy(50_001),
            cap: Money::jpy(50_000)
        }
    );
    let missing = delivered_claim_story().on(
        nov(11),
        file(
            "c-1",
            ClaimType::MissingItem,
            full_evidence(),
            Some(item_ref("p-2", 0, 1)),
            false,
        ),
    );
    let ok = missing
        .when_on(nov(12), approve("c-1", Money::jpy(5_000)))
        .unwrap();
    assert!(matches!(
        &ok[0],
        ShipmentEvent::ClaimApproved { basis: PayoutBasis::ItemPrice { item_price }, .. } if *item_price == Money::jpy(5_000)
    ));
    assert_refused(
        missing.when_on(nov(12), approve("c-1", Money::jpy(0))),
        ShipmentError::InvalidPayout {
            payout: Money::jpy(0),
        },
        "claim.invalid_payout",
        Some(Rule::Clm5),
    );
    assert_refused(
        missing.when_on(nov(12), approve("c-1", Money::cny(dec!(10)))),
        ShipmentError::CurrencyMismatch {
            expected: Currency::Jpy,
            found: Currency::Cny,
        },
        "money.currency_mismatch",
        Some(Rule::Mon1),
    );
}

/// Delivered 10 Nov with the warranty add-on (taken 3 Nov, so its claims close on 10 Nov,
/// FEE-2); warranty defect claim c-1 on a camera filed 10 Nov; exchange accepted Thu 12 Nov
/// (item due back by 26 Nov).
fn exchange_accepted() -> Story {
    delivered_with(dims(300, 200, 150), None, true)
        .on(nov(10), defect("c-1", "p-2", 1, true))
        .on(
            nov(12),
            ShipmentCommand::AcceptExchange {
                claim_id: claim_id("c-1"),
            },
        )
}

// rule CLM-6: an exchange under the add-on is accepted with a 14-day return deadline.
#[test]
fn clm_6_exchange_is_accepted_with_a_return_deadline() {
    let story =
        delivered_with(dims(300, 200, 150), None, true).on(nov(10), defect("c-1", "p-2", 1, true));
    story
        .given()
        .when(Issued::at(
            morning(&story.policy, nov(12)),
            ShipmentCommand::AcceptExchange {
                claim_id: claim_id("c-1"),
            },
        ))
        .then_expect_events(vec![ShipmentEvent::ClaimExchangeAccepted {
            claim_id: claim_id("c-1"),
            accepted_on: nov(12),
            return_by: nov(26),
            exchange_number: 1,
            policy: story.policy.version(),
        }]);
}

// rule CLM-6: the item may arrive until day 14 after acceptance; on day 15 the claim lapses.
#[test]
fn clm_6_item_must_reach_the_warehouse_within_14_days() {
    let story = exchange_accepted();
    let received = ShipmentCommand::RecordExchangeItemReceived {
        claim_id: claim_id("c-1"),
    };
    let lapse = ShipmentCommand::LapseExchange {
        claim_id: claim_id("c-1"),
    };
    assert_eq!(
        story.when_on(nov(26), received.clone()).unwrap(),
        vec![ShipmentEvent::ClaimExchangeItemReceived {
            claim_id: claim_id("c-1"),
            received_on: nov(26)
        }]
    );
    assert_refused(
        story.when_on(nov(27), received),
        ShipmentError::ExchangeLapsed { return_by: nov(26) },
        "claim.exchange_lapsed",
        Some(Rule::Clm6),
    );
    assert_refused(
        story.when(local(&story.policy, nov(26), 23, 59), lapse.clone()),
        ShipmentError::ExchangeNotLapsed { return_by: nov(26) },
        "claim.exchange_not_lapsed",
        Some(Rule::Clm6),
    );
    let lapsed = story.on(nov(27), lapse);
    assert_eq!(
        lapsed.events.last().unwrap(),
        &ShipmentEvent::ClaimExchangeLapsed {
            claim_id: claim_id("c-1"),
            return_by: nov(26),
            lapsed_on: nov(27)
        }
    );
    assert_eq!(
        lapsed.state.claim(&claim_id("c-1")).unwrap().status,
        ClaimStatus::Lapsed
    );
}

// rule CLM-6: at most one exchange per add-on; a lapsed exchange does not use it up.
#[test]
fn clm_6_at_most_one_exchange_per_add_on() {
    // Both warranty claims filed within the add-on's window (FEE-2), the first accepted.
    let story = delivered_with(dims(300, 200, 150), None, true)
        .on(nov(10), defect("c-1", "p-2", 1, true))
        .on(nov(10), defect("c-2", "p-1", 1, true))
        .on(
            nov(12),
            ShipmentCommand::AcceptExchange {
                claim_id: claim_id("c-1"),
            },
        );
    let accept_second = ShipmentCommand::AcceptExchange {
        claim_id: claim_id("c-2"),
    };
    assert_refused(
        story.when_on(nov(14), accept_second.clone()),
        ShipmentError::ExchangeLimit { max: 1 },
        "claim.exchange_limit",
        Some(Rule::Clm6),
    );
    let exchanged = story.clone().on(
        nov(20),
        ShipmentCommand::RecordExchangeItemReceived {
            claim_id: claim_id("c-1"),
        },
    );
    assert_eq!(
        exchanged
            .when_on(nov(21), accept_second.clone())
            .unwrap_err(),
        ShipmentError::ExchangeLimit { max: 1 }
    );
    // Decision: the first exchange lapsed (the seed treats it as withdrawn), so the add-on's
    // one exchange is still available.
    let lapsed = story.on(
        nov(27),
        ShipmentCommand::LapseExchange {
            claim_id: claim_id("c-1"),
        },
    );
    let events = lapsed.when_on(nov(27), accept_second).unwrap();
    assert!(matches!(
        events[0],
        ShipmentEvent::ClaimExchangeAccepted {
            exchange_number: 1,
            ..
        }
    ));
}

// rule CLM-6: exchanges are for claims under the add-on, with complete evidence, once accepted.
#[test]
fn clm_6_exchange_needs_a_warranty_claim_under_review() {
    let story = delivered_with(dims(300, 200, 150), None, true)
        .on(nov(10), defect("c-1", "p-2", 1, false))
        .on(
            nov(10),
            file(
                "c-2",
                ClaimType::Defect,
                Default::default(),
                Some(item_ref("p-2", 0, 1)),
                true,
            ),
        )
        .on(nov(10), defect("c-3", "p-2", 1, true));
    assert_refused(
        story.when_on(
            nov(12),
            ShipmentCommand::AcceptExchange {
                claim_id: claim_id("c-1"),
            },
        ),
        ShipmentError::NotUnderWarranty {
            claim_id: claim_id("c-1"),
        },
        "claim.not_under_warranty",
        Some(Rule::Clm6),
    );
    assert_eq!(
        story
            .when_on(
                nov(12),
                ShipmentCommand::AcceptExchange {
                    claim_id: claim_id("c-2")
                }
            )
            .unwrap_err(),
        ShipmentError::AwaitingEvidence {
            claim_id: claim_id("c-2")
        }
    );
    assert_refused(
        story.when_on(
            nov(12),
            ShipmentCommand::LapseExchange {
                claim_id: claim_id("c-3"),
            },
        ),
        ShipmentError::ClaimInvalidState {
            command: "lapse_exchange",
            claim_id: claim_id("c-3"),
            status: ClaimStatus::Open,
        },
        "claim.invalid_state",
        None,
    );
    // An exchange under way is not rejected or paid out; it may still be withdrawn (CLM-4).
    let accepted = story.on(
        nov(12),
        ShipmentCommand::AcceptExchange {
            claim_id: claim_id("c-3"),
        },
    );
    let reject = ShipmentCommand::RejectClaim {
        claim_id: claim_id("c-3"),
        reason: "no".into(),
    };
    assert_eq!(
        accepted.when_on(nov(13), reject).unwrap_err().to_string(),
        "reject_claim is not possible while claim c-3 is ExchangeAccepted"
    );
    assert!(accepted
        .when_on(nov(13), approve("c-3", Money::jpy(1)))
        .is_err());
    assert!(accepted
        .when_on(
            nov(13),
            ShipmentCommand::WithdrawClaim {
                claim_id: claim_id("c-3"),
                reason: None
            }
        )
        .is_ok());
}

// rule CLM-6 / POL-1: the exchange limit is the policy's; a profile without the add-on has none.
#[test]
fn clm_6_pol_1_exchange_limit_comes_from_policy() {
    let jp = Policy::jp_forwarding();
    assert_eq!(jp.fees.warranty.as_ref().unwrap().max_exchanges, 1);
    assert_eq!(jp.fees.warranty.as_ref().unwrap().exchange_return_days, 14);
    // Under a policy version allowing two, the second exchange is accepted.
    let mut generous = Policy::jp_forwarding();
    generous.version = "2026.12".into();
    generous.fees.warranty.as_mut().unwrap().max_exchanges = 2;
    let base = delivered_with(dims(300, 200, 150), None, true)
        .on(nov(10), defect("c-1", "p-2", 1, true))
        .on(nov(10), defect("c-2", "p-1", 1, true))
        .on(
            nov(12),
            ShipmentCommand::AcceptExchange {
                claim_id: claim_id("c-1"),
            },
        );
    let story = Story {
        policy: generous,
        events: base.events,
        state: base.state,
    };
    let events = story
        .when_on(
            nov(14),
            ShipmentCommand::AcceptExchange {
                claim_id: claim_id("c-2"),
            },
        )
        .unwrap();
    assert!(
        matches!(&events[0], ShipmentEvent::ClaimExchangeAccepted { exchange_number: 2, policy, .. } if policy.version == "2026.12")
    );
}

/// A cn-agency shipment of `item` (one parcel, p-1), delivered Tue 10 Nov, with a defect
/// claim on `quantity` units of it filed on 11 Nov.
fn cn_defect_story(item: DeclaredItem, quantity: u32) -> Story {
    cn_delivered(vec![parcel("p-1", 1_000, vec![item])], &[], None)
        .on(nov(11), defect("c-1", "p-1", quantity, false))
}

fn cap_of(story: &Story, payout: Money) -> Money {
    match story.when_on(nov(12), approve("c-1", payout)) {
        Err(ShipmentError::PayoutOverCap { cap, .. }) => cap,
        other => panic!("expected a payout over its cap, got {other:?}"),
    }
}

// rule CLM-5 (seed 001, 不具合見逃し: アパレル製品は商品代(=商品本体代+中国国内送料)の100%、
// それ以外は商品代の最大100元): a missed defect is capped on the item price plus the domestic
// shipping the member paid for it, shared by the units claimed; the approval records both.
#[test]
fn clm_5_missed_defect_cap_includes_domestic_shipping() {
    // Apparel: a 80 CNY dress with 12 CNY of domestic shipping pays up to 92 CNY.
    let dress = ordered_item(
        item("dress", 1, Money::cny(dec!(80)), ItemCategory::Apparel),
        Some("purchase-agency"),
        Some(Money::cny(dec!(12))),
    );
    let story = cn_defect_story(dress, 1);
    let at = morning(&story.policy, nov(12));
    story
        .given()
        .when(Issued::at(at, approve("c-1", Money::cny(dec!(92)))))
        .then_expect_events(vec![ShipmentEvent::ClaimApproved {
            claim_id: claim_id("c-1"),
            member_id: member_id(),
            payout: Money::cny(dec!(92)),
            cap: Money::cny(dec!(92)),
            basis: PayoutBasis::MissedDefect {
                item_price: Money::cny(dec!(80)),
                domestic_shipping: Some(Money::cny(dec!(12))),
                category: ItemCategory::Apparel,
                percent: dec!(100),
                other_cap: Money::cny(dec!(100)),
            },
            approved_at: at,
            policy: story.policy.version(),
        }]);
    assert_eq!(
        cap_of(&story, Money::cny(dec!(92.01))),
        Money::cny(dec!(92))
    );

    // Other goods: 90 CNY + 8 CNY = 98 CNY, under the 100 CNY cap.
    let lamp = ordered_item(
        item("lamp", 1, Money::cny(dec!(90)), ItemCategory::Other),
        Some("oem-odm"),
        Some(Money::cny(dec!(8))),
    );
    assert_eq!(
        cap_of(&cn_defect_story(lamp, 1), Money::cny(dec!(1000))),
        Money::cny(dec!(98))
    );
    // Two of three cups at 20 CNY, 9 CNY of shipping for the line: 40 + 6 = 46 CNY.
    let cups = ordered_item(
        item("cup", 3, Money::cny(dec!(20)), ItemCategory::Other),
        Some("purchase-agency"),
        Some(Money::cny(dec!(9))),
    );
    assert_eq!(
        cap_of(&cn_defect_story(cups, 2), Money::cny(dec!(1000))),
        Money::cny(dec!(46))
    );

    // jp-forwarding follows the same rule: an 8,000 JPY coat with 700 JPY of domestic shipping.
    let coat = ordered_item(
        item("coat", 1, Money::jpy(8_000), ItemCategory::Apparel),
        None,
        Some(Money::jpy(700)),
    );
    let story = Story::jp()
        .on(
            nov(2),
            ShipmentCommand::RequestPacking {
                shipment_id: shipment_id(),
                member: verified(),
                parcel: parcel("p-1", 1_000, vec![coat]),
            },
        )
        .on(nov(2), packing("EMS", 1_200, dims(300, 200, 150)))
        .on(nov(2), quote("EMS", "US"))
        .paid()
        .on(nov(4), ship_ems())
        .on(nov(10), tracked(TrackingStatus::Delivered, nov(10)))
        .on(nov(11), defect("c-1", "p-1", 1, false));
    assert_eq!(cap_of(&story, Money::jpy(8_701)), Money::jpy(8_700));
}

// rule CLM-5 (seed 001, 返金・補填の免責範囲: 「OEM/ODM」「購入代行」サービスが対象です。その他の
// プランは如何なる事由においてもサポート不可): in cn-agency a missed defect is compensated only on
// items bought under the purchase-agency or OEM/ODM service; free inspection, forwarding or an
// undeclared plan is refused with the rule id. jp-forwarding names no plans.
#[test]
fn clm_5_missed_defect_is_compensated_only_on_purchase_agency_and_oem_plans() {
    let shirt = |plan: Option<&str>| {
        ordered_item(
            item("shirt", 1, Money::cny(dec!(60)), ItemCategory::Apparel),
            plan,
            None,
        )
    };
    for plan in [None, Some("free-inspection"), Some("forwarding")] {
        let story = cn_defect_story(shirt(plan), 1);
        assert_refused(
            story.when_on(nov(12), approve("c-1", Money::cny(dec!(10)))),
            ShipmentError::PlanNotCompensated {
                order_service: plan.map(str::to_owned),
                plans: vec!["purchase-agency".into(), "oem-odm".into()],
            },
            "claim.plan_not_compensated",
            Some(Rule::Clm5),
        );
    }
    for plan in ["purchase-agency", "oem-odm"] {
        let story = cn_defect_story(shirt(Some(plan)), 1);
        assert!(story
            .when_on(nov(12), approve("c-1", Money::cny(dec!(60))))
            .is_ok());
    }
    // jp-forwarding: no plan declared, still compensated.
    let story = delivered_claim_story().on(nov(11), defect("c-1", "p-1", 1, false));
    assert!(story
        .when_on(nov(12), approve("c-1", Money::jpy(8_000)))
        .is_ok());
}

// rule CLM-5 (seed 001, 国際運送中での破損: 補填対象は①段ボールでの配送であること に加え ②プチプチ
// または ③緩衝材 の有料オプションを選択した場合に限ります): in cn-agency carrier damage is
// compensated only when the quote had cardboard plus bubble wrap or cushioning; jp-forwarding
// (seed 000, EMS insurance) has no packing condition.
#[test]
fn clm_5_carrier_damage_needs_cardboard_and_bubble_wrap_or_cushioning() {
    let insured = Some(Money::cny(dec!(500)));
    let lamp = || {
        vec![parcel(
            "p-1",
            1_000,
            vec![item("lamp", 1, Money::cny(dec!(500)), ItemCategory::Other)],
        )]
    };
    let cardboard = vec!["cardboard".to_string()];
    let cushioning = vec!["bubble-wrap".to_string(), "cushioning".to_string()];
    for (options, missing) in [
        (vec![], vec![cardboard.clone(), cushioning.clone()]),
        (vec!["bubble-wrap"], vec![cardboard.clone()]),
        (vec!["cardboard", "photo"], vec![cushioning.clone()]),
    ] {
        let story = cn_delivered(lamp(), &options, insured).on(nov(11), damage("c-1"));
        assert_refused(
            story.when_on(nov(12), approve("c-1", Money::cny(dec!(100)))),
            ShipmentError::PackingNotCompensated {
                missing,
                chosen: options.iter().map(|o| o.to_string()).collect(),
            },
            "claim.packing_not_compensated",
            Some(Rule::Clm5),
        );
    }
    for options in [["cardboard", "bubble-wrap"], ["cushioning", "cardboard"]] {
        let story = cn_delivered(lamp(), &options, insured).on(nov(11), damage("c-1"));
        assert!(story
            .when_on(nov(12), approve("c-1", Money::cny(dec!(500))))
            .is_ok());
    }
    // jp-forwarding: insured, no packing options, compensated.
    let story = delivered_with(dims(300, 200, 150), Some(Money::jpy(10_000)), false)
        .on(nov(11), damage("c-1"));
    assert!(story
        .when_on(nov(12), approve("c-1", Money::jpy(10_000)))
        .is_ok());
}
