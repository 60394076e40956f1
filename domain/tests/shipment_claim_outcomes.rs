//! Shipment: claim outcomes (CLM-5) and exchanges under the warranty add-on (CLM-6).

#[path = "shipment_support.rs"]
mod support;

use chrono::NaiveDate;
use domain::facts::ItemCategory;
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
    // cn-agency: 100 CNY.
    let cny = parcel(
        "p-1",
        1_000,
        vec![item("lamp", 1, Money::cny(dec!(350)), ItemCategory::Other)],
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
