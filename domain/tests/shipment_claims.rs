//! Shipment: filing and handling claims (CLM-1, CLM-2, CLM-3, CLM-4, FEE-2's claim window).

#[path = "shipment_support.rs"]
mod support;

use chrono::NaiveDate;
use domain::facts::ItemCategory;
use domain::money::Money;
use domain::shipment::claim::{claim_response_due, missing_evidence};
use domain::shipment::{
    ClaimStatus, ClaimType, Evidence, EvidenceKind, ResponseClock, ShipmentCommand, ShipmentError,
    ShipmentEvent, ShipmentStatus, TrackingStatus,
};
use domain::{Issued, Policy, Refusal, Rule};
use rust_decimal_macros::dec;
use support::*;

fn nov(day: u32) -> NaiveDate {
    d(2026, 11, day)
}

fn damage(claim: &str, evidence: Evidence) -> ShipmentCommand {
    file(claim, ClaimType::Damage, evidence, None, false)
}

fn loss(claim: &str) -> ShipmentCommand {
    let evidence = Evidence {
        comment: Some("never arrived".into()),
        ..Evidence::default()
    };
    file(claim, ClaimType::Loss, evidence, None, false)
}

// rule CLM-1 / CLM-3: a complete claim on a delivered shipment is open, with its response clock.
#[test]
fn clm_1_complete_damage_claim_is_accepted_open() {
    let story = delivered_claim_story();
    let filed_at = morning(&story.policy, nov(11));
    story
        .given()
        .when(Issued::at(filed_at, damage("c-1", full_evidence())))
        .then_expect_events(vec![ShipmentEvent::Claimed {
            claim_id: claim_id("c-1"),
            member_id: member_id(),
            claim_type: ClaimType::Damage,
            item: None,
            evidence: full_evidence(),
            under_warranty: false,
            status: ClaimStatus::Open,
            missing_evidence: vec![],
            filed_at,
            response_clock: ResponseClock::BusinessDays(3),
            // Wed 11 Nov + 3 business days = Mon 16 Nov: respond before Tue 17 Nov 00:00 JST.
            response_due: local(&story.policy, nov(17), 0, 0),
            policy: story.policy.version(),
        }]);
}

// rule CLM-1: an incomplete claim is accepted but awaits evidence; evidence added completes it.
#[test]
fn clm_1_incomplete_claim_awaits_evidence_until_completed() {
    let comment_only = Evidence {
        comment: Some("box crushed".into()),
        ..Evidence::default()
    };
    let story = delivered_claim_story().on(nov(11), damage("c-1", comment_only));
    assert!(matches!(
        story.events.last().unwrap(),
        ShipmentEvent::Claimed { status: ClaimStatus::AwaitingEvidence, missing_evidence, .. }
            if *missing_evidence == [EvidenceKind::Photo, EvidenceKind::LabelPhoto, EvidenceKind::DamageReport]
    ));
    let photo = Evidence {
        photos: vec!["p1.jpg".into()],
        ..Evidence::default()
    };
    let story = story.on(
        nov(12),
        ShipmentCommand::AddClaimEvidence {
            claim_id: claim_id("c-1"),
            evidence: photo.clone(),
        },
    );
    assert_eq!(
        story.events.last().unwrap(),
        &ShipmentEvent::ClaimEvidenceAdded {
            claim_id: claim_id("c-1"),
            evidence: photo,
            missing_evidence: vec![EvidenceKind::LabelPhoto, EvidenceKind::DamageReport],
            status: ClaimStatus::AwaitingEvidence,
        }
    );
    // Not decided while evidence is missing.
    assert_refused(
        story.when_on(
            nov(12),
            ShipmentCommand::ApproveClaim {
                claim_id: claim_id("c-1"),
                payout: Money::jpy(1),
            },
        ),
        ShipmentError::AwaitingEvidence {
            claim_id: claim_id("c-1"),
        },
        "claim.awaiting_evidence",
        Some(Rule::Clm1),
    );
    let label = Evidence {
        label_photo: Some("label.jpg".into()),
        damage_report: Some("damage-report.pdf".into()),
        ..Evidence::default()
    };
    let story = story.on(
        nov(12),
        ShipmentCommand::AddClaimEvidence {
            claim_id: claim_id("c-1"),
            evidence: label,
        },
    );
    let claim = story.state.claim(&claim_id("c-1")).unwrap();
    assert_eq!(claim.status, ClaimStatus::Open);
    assert_eq!(claim.evidence.photos, ["p1.jpg"]);
    assert_eq!(claim.evidence.comment.as_deref(), Some("box crushed"));
    // Blank entries never overwrite evidence already given.
    let blank = Evidence {
        photos: vec![" ".into()],
        label_photo: Some("".into()),
        comment: Some(" ".into()),
        damage_report: Some(" ".into()),
    };
    let merged = claim.evidence.merged(&blank);
    assert_eq!(merged, claim.evidence);
    assert_refused(
        story.when_on(
            nov(12),
            ShipmentCommand::AddClaimEvidence {
                claim_id: claim_id("c-1"),
                evidence: Evidence::default(),
            },
        ),
        ShipmentError::EmptyEvidence,
        "claim.empty_evidence",
        Some(Rule::Clm1),
    );
}

// rule CLM-1: the evidence each claim type needs, as each profile's policy lists it: seed 000
// (jp-forwarding) asks for the post office's damage report on EMS damage; seed 001
// (cn-agency) asks for the photo, the address-label photo and a comment on a defect or a
// wrong item.
#[test]
fn clm_1_evidence_needed_per_claim_type() {
    use EvidenceKind::*;
    let none = Evidence {
        photos: vec!["  ".into()],
        ..Evidence::default()
    };
    let jp = Policy::jp_forwarding().claims;
    let cn = Policy::cn_agency().claims;
    assert_eq!(
        missing_evidence(ClaimType::Damage, &none, &jp),
        [Photo, LabelPhoto, DamageReport]
    );
    assert_eq!(
        missing_evidence(ClaimType::Damage, &none, &cn),
        [Photo, LabelPhoto]
    );
    assert_eq!(missing_evidence(ClaimType::Defect, &none, &jp), [Photo]);
    assert_eq!(missing_evidence(ClaimType::WrongItem, &none, &jp), [Photo]);
    for t in [ClaimType::Defect, ClaimType::WrongItem] {
        assert_eq!(
            missing_evidence(t, &none, &cn),
            [Photo, LabelPhoto, Comment]
        );
    }
    for claims in [&jp, &cn] {
        assert_eq!(
            missing_evidence(ClaimType::MissingItem, &none, claims),
            [LabelPhoto, Comment]
        );
        assert_eq!(missing_evidence(ClaimType::Loss, &none, claims), [Comment]);
        for t in [
            ClaimType::Damage,
            ClaimType::Defect,
            ClaimType::WrongItem,
            ClaimType::MissingItem,
            ClaimType::Loss,
        ] {
            assert!(missing_evidence(t, &full_evidence(), claims).is_empty());
        }
    }
}

// rule CLM-1: claims name a shipped shipment; before delivery only a loss can be claimed.
#[test]
fn clm_1_claims_need_a_shipped_shipment() {
    let paid = Story::jp().quoted().paid();
    assert_refused(
        paid.when_on(nov(4), damage("c-1", full_evidence())),
        ShipmentError::ClaimNotShipped {
            status: ShipmentStatus::Paid,
        },
        "claim.not_shipped",
        Some(Rule::Clm1),
    );
    let shipped = Story::jp().quoted().shipped();
    assert_refused(
        shipped.when_on(nov(6), damage("c-1", full_evidence())),
        ShipmentError::ClaimNeedsDelivery {
            claim_type: ClaimType::Damage,
        },
        "claim.needs_delivery",
        Some(Rule::Clm1),
    );
    assert!(shipped.when_on(nov(6), loss("c-1")).is_ok());
}

// rule CLM-1: defect, missing and wrong item claims name an item of the shipment.
#[test]
fn clm_1_item_claims_name_a_declared_item() {
    let story = delivered_claim_story();
    assert_refused(
        story.when_on(
            nov(11),
            file("c-1", ClaimType::Defect, full_evidence(), None, false),
        ),
        ShipmentError::ItemRequired {
            claim_type: ClaimType::Defect,
        },
        "claim.item_required",
        Some(Rule::Clm1),
    );
    for (bad, reason) in [
        (item_ref("p-9", 0, 1), "parcel p-9 is not in it"),
        (item_ref("p-2", 1, 1), "parcel p-2 has no line 1"),
        (item_ref("p-2", 0, 3), "quantity 3 is not within 1..=2"),
        (item_ref("p-2", 0, 0), "quantity 0 is not within 1..=2"),
    ] {
        assert_refused(
            story.when_on(
                nov(11),
                file(
                    "c-1",
                    ClaimType::WrongItem,
                    full_evidence(),
                    Some(bad),
                    false,
                ),
            ),
            ShipmentError::InvalidItem {
                reason: reason.into(),
            },
            "claim.invalid_item",
            Some(Rule::Clm1),
        );
    }
    assert!(story
        .when_on(
            nov(11),
            file(
                "c-1",
                ClaimType::MissingItem,
                full_evidence(),
                Some(item_ref("p-2", 0, 2)),
                false
            )
        )
        .is_ok());
}

// Claim ids are unique within the shipment; unknown ids are refused.
#[test]
fn claim_ids_are_unique_and_must_exist() {
    let story = delivered_claim_story().on(nov(11), damage("c-1", full_evidence()));
    assert_refused(
        story.when_on(nov(11), damage("c-1", full_evidence())),
        ShipmentError::DuplicateClaim {
            claim_id: claim_id("c-1"),
        },
        "claim.duplicate_id",
        None,
    );
    assert_refused(
        story.when_on(
            nov(11),
            ShipmentCommand::EscalateClaim {
                claim_id: claim_id("c-9"),
            },
        ),
        ShipmentError::ClaimNotFound {
            claim_id: claim_id("c-9"),
        },
        "claim.not_found",
        None,
    );
    // A second, different claim on the same shipment is fine.
    assert!(story.when_on(nov(11), loss("c-2")).is_ok());
}

// rule CLM-2: day 14 after delivery (24 Nov, to 23:59 local) is accepted; day 15 is rejected.
#[test]
fn clm_2_day_14_after_delivery_is_accepted_day_15_rejected() {
    let story = delivered_claim_story();
    assert!(story
        .when(
            local(&story.policy, nov(24), 23, 59),
            damage("c-1", full_evidence())
        )
        .is_ok());
    let late = story.when(
        local(&story.policy, nov(25), 0, 0),
        damage("c-1", full_evidence()),
    );
    let err = late.clone().unwrap_err();
    assert!(err.to_string().contains("CLM-2"), "{err}");
    assert_refused(
        late,
        ShipmentError::ClaimWindowClosed {
            basis_date: nov(10),
            last_day: nov(24),
        },
        "claim.window_closed",
        Some(Rule::Clm2),
    );
}

// rule CLM-2 (loss decision): a loss claim in transit has no window yet; once the carrier
// declares the shipment lost, the 14 days run from the lost status date.
#[test]
fn clm_2_loss_claim_window_runs_from_the_lost_status_date() {
    let in_transit = Story::jp().quoted().shipped();
    assert!(in_transit.when_on(d(2027, 1, 20), loss("c-1")).is_ok());
    let lost = in_transit.on(nov(30), tracked(TrackingStatus::Lost, nov(30)));
    assert!(lost.when_on(d(2026, 12, 14), loss("c-1")).is_ok());
    assert_refused(
        lost.when_on(d(2026, 12, 15), loss("c-1")),
        ShipmentError::ClaimWindowClosed {
            basis_date: nov(30),
            last_day: d(2026, 12, 14),
        },
        "claim.window_closed",
        Some(Rule::Clm2),
    );
    // Only a loss is claimed on a lost shipment.
    assert_eq!(
        lost.when_on(d(2026, 12, 1), damage("c-1", full_evidence()))
            .unwrap_err()
            .code(),
        "claim.needs_delivery"
    );
}

/// The claim parcels with the warranty add-on, paid (the add-on taken) Tue 3 Nov, shipped
/// Wed 4 Nov and delivered on `delivered`.
fn warranty_delivered_on(delivered: NaiveDate) -> Story {
    Story::jp()
        .on(nov(2), consolidation(claim_parcels()))
        .on(nov(2), packing("EMS", 1_200, dims(300, 200, 150)))
        .on(nov(2), quote_for(verified(), "EMS", "US", &[], None, true))
        .paid()
        .on(nov(4), ship_ems())
        .on(delivered, tracked(TrackingStatus::Delivered, delivered))
}

fn warranty_defect(claim: &str) -> ShipmentCommand {
    file(
        claim,
        ClaimType::Defect,
        full_evidence(),
        Some(item_ref("p-2", 0, 1)),
        true,
    )
}

// rule FEE-2 (seed 002 第9条): warranty add-on claims run 7 days from the day the add-on was
// taken (paid Tue 3 Nov: the window ends 10 Nov, TIM-1 counting), not from delivery.
#[test]
fn fee_2_warranty_claims_run_7_days_from_the_day_it_was_taken() {
    let story = warranty_delivered_on(nov(5));
    assert!(matches!(
        story.events.last().unwrap(),
        ShipmentEvent::Delivered { warranty_claim_last_day: Some(last), .. } if *last == nov(10)
    ));
    assert!(story.when_on(nov(10), warranty_defect("c-1")).is_ok());
    assert_refused(
        story.when_on(nov(11), warranty_defect("c-1")),
        ShipmentError::WarrantyWindowClosed {
            taken_on: nov(3),
            last_day: nov(10),
        },
        "claim.warranty_window_closed",
        Some(Rule::Fee2),
    );
    // The ordinary window still runs: the same defect without the add-on on 11 Nov is fine.
    let plain = file(
        "c-1",
        ClaimType::Defect,
        full_evidence(),
        Some(item_ref("p-2", 0, 1)),
        false,
    );
    assert!(story.when_on(nov(11), plain).is_ok());
    // No add-on bought: no warranty claim.
    assert_refused(
        delivered_claim_story().when_on(nov(11), warranty_defect("c-1")),
        ShipmentError::NoWarranty,
        "claim.no_warranty",
        Some(Rule::Fee2),
    );
}

// rule FEE-2 (seed 002 第9条 但し書き): a shipment that arrives after the 7 days may still be
// claimed under the add-on on the day of arrival itself, and only then.
#[test]
fn fee_2_warranty_serves_on_the_arrival_day_when_it_arrives_late() {
    let story = warranty_delivered_on(nov(12));
    assert!(story.when_on(nov(12), warranty_defect("c-1")).is_ok());
    assert_refused(
        story.when_on(nov(13), warranty_defect("c-1")),
        ShipmentError::WarrantyWindowClosed {
            taken_on: nov(3),
            last_day: nov(12),
        },
        "claim.warranty_window_closed",
        Some(Rule::Fee2),
    );
}

// rule CLM-3: escalation is refused before the 3-business-day deadline and accepted from it.
#[test]
fn clm_3_escalation_refused_before_due_and_accepted_after() {
    let story = delivered_claim_story().on(nov(11), damage("c-1", full_evidence()));
    let due = local(&story.policy, nov(17), 0, 0);
    let escalate = || ShipmentCommand::EscalateClaim {
        claim_id: claim_id("c-1"),
    };
    assert_refused(
        story.when(local(&story.policy, nov(16), 23, 59), escalate()),
        ShipmentError::ResponseNotOverdue {
            claim_id: claim_id("c-1"),
            response_due: due,
        },
        "claim.response_not_overdue",
        Some(Rule::Clm3),
    );
    story
        .given()
        .when(Issued::at(due, escalate()))
        .then_expect_events(vec![ShipmentEvent::ClaimEscalated {
            claim_id: claim_id("c-1"),
            response_due: due,
            escalated_at: due,
        }]);
    let escalated = story.run(due, escalate());
    assert_refused(
        escalated.when_on(nov(18), escalate()),
        ShipmentError::AlreadyEscalated {
            claim_id: claim_id("c-1"),
        },
        "claim.already_escalated",
        Some(Rule::Clm3),
    );
}

// rule CLM-3: responding in time prevents escalation.
#[test]
fn clm_3_response_in_time_prevents_escalation() {
    let story = delivered_claim_story()
        .on(nov(11), damage("c-1", full_evidence()))
        .on(
            nov(13),
            ShipmentCommand::RespondToClaim {
                claim_id: claim_id("c-1"),
                message: "checking with EMS".into(),
            },
        );
    assert!(matches!(
        story.events.last().unwrap(),
        ShipmentEvent::ClaimResponded { in_time: true, .. }
    ));
    assert_refused(
        story.when_on(
            nov(20),
            ShipmentCommand::EscalateClaim {
                claim_id: claim_id("c-1"),
            },
        ),
        ShipmentError::AlreadyResponded {
            claim_id: claim_id("c-1"),
        },
        "claim.already_responded",
        Some(Rule::Clm3),
    );
    // A response after the deadline is recorded as late.
    let late = delivered_claim_story()
        .on(nov(11), damage("c-1", full_evidence()))
        .when_on(
            nov(17),
            ShipmentCommand::RespondToClaim {
                claim_id: claim_id("c-1"),
                message: "sorry".into(),
            },
        )
        .unwrap();
    assert!(matches!(
        late[0],
        ShipmentEvent::ClaimResponded { in_time: false, .. }
    ));
}

// rule CLM-3: a missing item must be answered within 48 hours.
#[test]
fn clm_3_missing_item_is_due_in_48_hours() {
    let story = delivered_claim_story().on(
        nov(11),
        file(
            "c-1",
            ClaimType::MissingItem,
            full_evidence(),
            Some(item_ref("p-2", 0, 1)),
            false,
        ),
    );
    let ShipmentEvent::Claimed {
        response_clock,
        response_due,
        ..
    } = story.events.last().unwrap()
    else {
        panic!("expected claimed");
    };
    assert_eq!(*response_clock, ResponseClock::Hours(48));
    assert_eq!(*response_due, local(&story.policy, nov(13), 10, 0));
    let escalate = ShipmentCommand::EscalateClaim {
        claim_id: claim_id("c-1"),
    };
    assert_eq!(
        story
            .when(local(&story.policy, nov(13), 9, 59), escalate.clone())
            .unwrap_err()
            .code(),
        "claim.response_not_overdue"
    );
    assert!(story
        .when(local(&story.policy, nov(13), 10, 0), escalate)
        .is_ok());
}

// rule CLM-3 / TIM-2 / POL-2: business days skip the profile's closed days and holidays.
#[test]
fn clm_3_pol_2_business_days_follow_each_profile_calendar() {
    let jp = Policy::jp_forwarding();
    let cn = Policy::cn_agency();
    // Filed Fri 20 Nov 2026. jp: Sat, Sun and Mon 23 (holiday) closed → Tue 24, Wed 25,
    // Thu 26 → due Fri 27 00:00 JST. cn: open Saturdays → Sat 21, Mon 23, Tue 24 → Wed 25.
    let clock = ResponseClock::BusinessDays(3);
    assert_eq!(
        claim_response_due(&jp, clock, morning(&jp, nov(20))),
        Ok(local(&jp, nov(27), 0, 0))
    );
    assert_eq!(
        claim_response_due(&cn, clock, morning(&cn, nov(20))),
        Ok(local(&cn, nov(25), 0, 0))
    );
    // Filed on a closed day (Sun 22): counts from the next business day.
    assert_eq!(
        claim_response_due(&jp, clock, morning(&jp, nov(22))),
        Ok(local(&jp, nov(27), 0, 0))
    );
}

// rule TIM-2 / CLM-3: a claim whose business-day response deadline runs past the calendar is
// refused with the rule, not given a deadline counted on unknown days.
#[test]
fn tim_2_claim_response_past_the_calendar_is_refused() {
    let dec = |day| d(2027, 12, day);
    let story = Story::jp()
        .quoted()
        .shipped()
        .on(dec(29), tracked(TrackingStatus::Delivered, dec(29)));
    // Filed Wed 29 Dec 2027: Thu 30 and Fri 31 are covered, the third business day is not.
    assert_refused(
        story.when_on(dec(29), damage("c-1", full_evidence())),
        ShipmentError::OutsideCalendar(domain::calendar::OutsideCalendar {
            date: d(2028, 1, 1),
            covers_from: d(2026, 1, 1),
            covers_through: dec(31),
        }),
        "calendar.not_covered",
        Some(Rule::Tim2),
    );
    // A missing item (48 hours, no business days) is still accepted.
    let missing = file(
        "c-1",
        ClaimType::MissingItem,
        full_evidence(),
        Some(item_ref("p-2", 0, 1)),
        false,
    );
    assert!(story.when_on(dec(29), missing).is_ok());
}

// rule CLM-4: the member withdraws an open claim (also one awaiting evidence); not a closed one.
#[test]
fn clm_4_member_withdraws_an_open_claim() {
    let story = delivered_claim_story().on(nov(11), damage("c-1", Evidence::default()));
    let withdraw = || ShipmentCommand::WithdrawClaim {
        claim_id: claim_id("c-1"),
        reason: Some("found it".into()),
    };
    let at = morning(&story.policy, nov(12));
    story
        .given()
        .when(Issued::at(at, withdraw()))
        .then_expect_events(vec![ShipmentEvent::ClaimWithdrawn {
            claim_id: claim_id("c-1"),
            reason: Some("found it".into()),
            withdrawn_at: at,
        }]);
    let withdrawn = story.run(at, withdraw());
    assert_eq!(
        withdrawn.state.claim(&claim_id("c-1")).unwrap().status,
        ClaimStatus::Withdrawn
    );
    assert_refused(
        withdrawn.when_on(nov(12), withdraw()),
        ShipmentError::ClaimClosed {
            claim_id: claim_id("c-1"),
            status: ClaimStatus::Withdrawn,
        },
        "claim.closed",
        None,
    );
    // A withdrawn claim is not escalated either.
    assert_eq!(
        withdrawn
            .when_on(
                nov(30),
                ShipmentCommand::EscalateClaim {
                    claim_id: claim_id("c-1")
                }
            )
            .unwrap_err()
            .code(),
        "claim.closed"
    );
}

/// A cn-agency shipment of one parcel with a 350 CNY lamp, delivered Tue 10 Nov.
fn cn_lamp_delivered() -> Story {
    let lamp = parcel(
        "p-1",
        1_000,
        vec![item("lamp", 1, Money::cny(dec!(350)), ItemCategory::Other)],
    );
    cn_delivered(vec![lamp], &[], None)
}

fn claim_with(claim_type: ClaimType, evidence: Evidence) -> ShipmentCommand {
    let item = claim_type.names_an_item().then(|| item_ref("p-1", 0, 1));
    file("c-1", claim_type, evidence, item, false)
}

fn last_claim_status(story: &Story) -> (ClaimStatus, Vec<EvidenceKind>) {
    match story.events.last().unwrap() {
        ShipmentEvent::Claimed {
            status,
            missing_evidence,
            ..
        }
        | ShipmentEvent::ClaimEvidenceAdded {
            status,
            missing_evidence,
            ..
        } => (*status, missing_evidence.clone()),
        other => panic!("not a claim event: {other:?}"),
    }
}

// rule CLM-1 (seed 001, 不具合品の申告: 商品の状態がわかる写真, 宛名ラベル, 不具合の状況がわかる
// コメント; すべての資料が確認できた場合に限り精査): in cn-agency a defect or wrong-item claim with
// photos alone awaits the address-label photo and the comment, and opens only when both are
// in; in jp-forwarding photos are enough.
#[test]
fn clm_1_cn_defect_and_wrong_item_need_photo_label_photo_and_comment() {
    use EvidenceKind::*;
    let photos = Evidence {
        photos: vec!["defect.jpg".into()],
        ..Evidence::default()
    };
    for claim_type in [ClaimType::Defect, ClaimType::WrongItem] {
        let story = cn_lamp_delivered().on(nov(11), claim_with(claim_type, photos.clone()));
        assert_eq!(
            last_claim_status(&story),
            (ClaimStatus::AwaitingEvidence, vec![LabelPhoto, Comment])
        );
        let story = story.on(
            nov(12),
            ShipmentCommand::AddClaimEvidence {
                claim_id: claim_id("c-1"),
                evidence: Evidence {
                    label_photo: Some("label.jpg".into()),
                    ..Evidence::default()
                },
            },
        );
        assert_eq!(
            last_claim_status(&story),
            (ClaimStatus::AwaitingEvidence, vec![Comment])
        );
        let story = story.on(
            nov(12),
            ShipmentCommand::AddClaimEvidence {
                claim_id: claim_id("c-1"),
                evidence: Evidence {
                    comment: Some("the seam is torn".into()),
                    ..Evidence::default()
                },
            },
        );
        assert_eq!(last_claim_status(&story), (ClaimStatus::Open, vec![]));

        // jp-forwarding: photos alone complete it.
        let jp = delivered_claim_story().on(nov(11), claim_with(claim_type, photos.clone()));
        assert_eq!(last_claim_status(&jp), (ClaimStatus::Open, vec![]));
    }
}

// rule CLM-1 (seed 000, 破損: 写真・破損商品・配送控え を郵便局へ, ダメージレポート の作成): in
// jp-forwarding an EMS damage claim with photos, label photo and comment awaits the post
// office's damage report; in cn-agency it is complete without one.
#[test]
fn clm_1_jp_ems_damage_needs_the_post_office_damage_report() {
    let without_report = Evidence {
        damage_report: None,
        ..full_evidence()
    };
    let story = delivered_claim_story().on(nov(11), damage("c-1", without_report.clone()));
    assert_eq!(
        last_claim_status(&story),
        (
            ClaimStatus::AwaitingEvidence,
            vec![EvidenceKind::DamageReport]
        )
    );
    let story = story.on(
        nov(13),
        ShipmentCommand::AddClaimEvidence {
            claim_id: claim_id("c-1"),
            evidence: Evidence {
                damage_report: Some("ems-damage-report.pdf".into()),
                ..Evidence::default()
            },
        },
    );
    assert_eq!(last_claim_status(&story), (ClaimStatus::Open, vec![]));
    assert_eq!(
        story
            .state
            .claim(&claim_id("c-1"))
            .unwrap()
            .evidence
            .damage_report
            .as_deref(),
        Some("ems-damage-report.pdf")
    );

    let cn = cn_lamp_delivered().on(nov(11), damage("c-1", without_report));
    assert_eq!(last_claim_status(&cn), (ClaimStatus::Open, vec![]));
}
