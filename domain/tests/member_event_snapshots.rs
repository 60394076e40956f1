//! The JSON of every member event is a permanent contract: one realistic example per variant,
//! snapshotted. A changed snapshot means a new event version and an upcaster, never an edit.

mod member_support;

use chrono::{TimeZone, Utc};
use cqrs_es::DomainEvent;
use domain::ids::{MemberId, ShipmentId, SuiteCode};
use domain::member::{
    AutoClosureCondition, AutoClosureFacts, BalanceSign, DocumentKind, EmailAddress,
    GuardianConsent, IdentityDocument, MemberEvent, NoticeLanguage, PersonName, RefundReference,
    SuspensionCause,
};
use domain::money::Money;
use domain::Policy;
use member_support::*;
use rust_decimal_macros::dec;
use std::collections::BTreeSet;

fn examples() -> Vec<MemberEvent> {
    let jp = Policy::jp_forwarding().version();
    let cn = Policy::cn_agency().version();
    vec![
        MemberEvent::Registered {
            member_id: MemberId::parse("m-01HZX3").unwrap(),
            suite_code: SuiteCode::parse("TYO-004217").unwrap(),
            name: PersonName::parse("Ken Sato").unwrap(),
            birth_date: d(2009, 6, 2),
            email: EmailAddress::parse("ken@example.jp").unwrap(),
            age_on_registration: 17,
            minor: true,
            guardian_consent: Some(GuardianConsent {
                guardian_name: PersonName::parse("Hanako Sato").unwrap(),
                relationship: "mother".into(),
                consented_on: d(2026, 11, 18),
            }),
            forwarding_only_accepted: true,
            registered_at: Utc.with_ymd_and_hms(2026, 11, 20, 1, 30, 0).unwrap(),
            registered_on: d(2026, 11, 20),
            policy: jp.clone(),
        },
        MemberEvent::IdentityVerified {
            document: IdentityDocument::DrivingLicence {
                address_changed: true,
                back_side_checked: true,
            },
            expires_on: d(2029, 7, 2),
            verified_on: d(2026, 11, 21),
        },
        MemberEvent::VerificationLapsed {
            document: DocumentKind::DrivingLicence,
            expired_on: d(2029, 7, 2),
            unverified_from: d(2029, 7, 3),
        },
        MemberEvent::Suspended {
            cause: SuspensionCause::FailedLogins,
            reason: "10 failed logins in a row (limit 10)".into(),
            suspended_on: d(2026, 12, 3),
            policy: jp.clone(),
        },
        MemberEvent::Reinstated {
            reason: "identity confirmed by phone, password reset".into(),
            lifted_causes: vec![SuspensionCause::FailedLogins],
            reinstated_on: d(2026, 12, 4),
        },
        MemberEvent::LoginFailed {
            at: Utc.with_ymd_and_hms(2026, 12, 3, 8, 15, 2).unwrap(),
            in_a_row: 10,
            limit: Some(10),
        },
        MemberEvent::LoggedIn {
            at: Utc.with_ymd_and_hms(2026, 12, 4, 0, 5, 40).unwrap(),
        },
        MemberEvent::NoticeLanguageChosen {
            language: NoticeLanguage::En,
            chosen_on: d(2026, 11, 21),
        },
        MemberEvent::AutoPackSet {
            set_on: d(2026, 11, 22),
        },
        MemberEvent::AutoPackUnset {
            unset_on: d(2027, 1, 8),
        },
        MemberEvent::AutoShipSet {
            limit: Money::jpy(8000),
            set_on: d(2028, 2, 29),
            lapses_on: d(2029, 2, 28),
            policy: jp.clone(),
        },
        MemberEvent::AutoShipUnset {
            unset_on: d(2028, 6, 1),
        },
        MemberEvent::AutoShipUsed {
            shipment_id: ShipmentId::parse("s-7781").unwrap(),
            amount: Money::jpy(6430),
            limit: Money::jpy(8000),
            used_on: d(2028, 4, 10),
            lapses_on: d(2029, 4, 10),
            policy: jp.clone(),
        },
        MemberEvent::AutoShipLapsed {
            set_on: d(2026, 3, 15),
            last_used_on: Some(d(2026, 9, 1)),
            lapsed_on: d(2027, 9, 1),
            policy: jp,
        },
        MemberEvent::WithdrawalRequested {
            requested_on: d(2026, 10, 1),
            suspension_causes: vec![SuspensionCause::RejectedTopUps],
            disposal_fee_per_item: Money::cny(dec!(5)),
            policy: cn.clone(),
        },
        MemberEvent::Closed {
            refund_reference: RefundReference::parse("refund-2026-12-31-0001").unwrap(),
            closed_on: d(2026, 12, 31),
        },
        MemberEvent::AutoClosed {
            conditions: vec![AutoClosureCondition::NegativeBalance {
                negative_since: d(2026, 3, 31),
                reached_on: d(2026, 4, 30),
            }],
            facts: AutoClosureFacts {
                balance: BalanceSign::Negative {
                    since: d(2026, 3, 31),
                },
                first_top_up_on: Some(d(2026, 1, 12)),
            },
            closed_on: d(2026, 4, 30),
            policy: cn.clone(),
        },
        MemberEvent::PersonalDataErased {
            closed_on: d(2026, 4, 30),
            retained_until: d(2033, 4, 30),
            erased_on: d(2033, 5, 1),
            policy: cn,
        },
    ]
}

#[test]
fn every_member_event_has_a_snapshot_and_a_listed_type() {
    let examples = examples();
    for event in &examples {
        // Version 2 since its upcaster (domain::upcast); every other member event is at 1.
        let version = if event.event_type() == "member.login_failed" {
            "2"
        } else {
            "1"
        };
        assert_eq!(event.event_version(), version);
        let name = format!("member__{}", event.event_type());
        insta::assert_json_snapshot!(name, event);
    }
    let covered: BTreeSet<String> = examples.iter().map(DomainEvent::event_type).collect();
    let listed: BTreeSet<String> = MemberEvent::TYPES.iter().map(|t| (*t).to_owned()).collect();
    assert_eq!(covered, listed);
    assert_eq!(
        listed.len(),
        MemberEvent::TYPES.len(),
        "TYPES lists a type twice"
    );
}

#[test]
fn member_events_round_trip_through_json() {
    for event in examples() {
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(
            serde_json::from_str::<MemberEvent>(&json).unwrap(),
            event,
            "{json}"
        );
    }
}
