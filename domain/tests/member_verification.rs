//! Identity verification (MEM-2): the documents accepted, their expiry, the standing other
//! aggregates receive, and the daily expiry check, with dates from the command's time (TIM-1).

mod member_support;

use chrono::{TimeZone, Utc};
use domain::facts::StandingStatus;
use domain::member::{
    document_valid_on, DocumentKind, IdentityDocument, MemberCommand, MemberError, MemberEvent,
};
use domain::{Issued, Refusal, Rule};
use member_support::*;

fn assert_incomplete(document: IdentityDocument, missing: &str) {
    let err = jp()
        .given(vec![registered()])
        .when(Issued::at(
            noon(d(2026, 1, 12)),
            verify(document, d(2030, 1, 1)),
        ))
        .inspect_result()
        .expect_err("an incomplete document must not verify");
    assert_eq!(err.code(), "member.document_incomplete");
    assert_eq!(err.rule(), Some(Rule::Mem2));
    match err {
        MemberError::DocumentIncomplete { missing: m } => assert!(m.contains(missing), "{m}"),
        other => panic!("unexpected {other:?}"),
    }
}

// rule MEM-2: each accepted document verifies when its required parts were checked.
#[test]
fn mem_2_each_accepted_document_verifies_when_complete() {
    let documents = [
        IdentityDocument::DrivingLicence {
            address_changed: false,
            back_side_checked: false,
        },
        IdentityDocument::DrivingLicence {
            address_changed: true,
            back_side_checked: true,
        },
        PASSPORT,
        IdentityDocument::HealthInsuranceCard {
            name_checked: true,
            current_address_checked: true,
        },
    ];
    for document in documents {
        jp().given(vec![registered()])
            .when(Issued::at(
                noon(d(2026, 1, 12)),
                verify(document, d(2030, 1, 1)),
            ))
            .then_expect_events(vec![MemberEvent::IdentityVerified {
                document,
                expires_on: d(2030, 1, 1),
                verified_on: d(2026, 1, 12),
            }]);
    }
}

// rule MEM-2: a licence whose address changed needs its back side checked.
#[test]
fn mem_2_driving_licence_with_changed_address_needs_the_back_side() {
    assert_incomplete(
        IdentityDocument::DrivingLicence {
            address_changed: true,
            back_side_checked: false,
        },
        "back side",
    );
}

// rule MEM-2: a passport needs the photo page and the address page.
#[test]
fn mem_2_passport_needs_photo_and_address_pages() {
    assert_incomplete(
        IdentityDocument::Passport {
            photo_page_checked: false,
            address_page_checked: true,
        },
        "photo page",
    );
    assert_incomplete(
        IdentityDocument::Passport {
            photo_page_checked: true,
            address_page_checked: false,
        },
        "address page",
    );
}

// rule MEM-2: a health-insurance card needs the name and the current address.
#[test]
fn mem_2_health_insurance_card_needs_name_and_current_address() {
    assert_incomplete(
        IdentityDocument::HealthInsuranceCard {
            name_checked: false,
            current_address_checked: true,
        },
        "name",
    );
    assert_incomplete(
        IdentityDocument::HealthInsuranceCard {
            name_checked: true,
            current_address_checked: false,
        },
        "current address",
    );
}

// rule MEM-2: the expiry date is the last valid day; the day after, the document is refused.
#[test]
fn mem_2_document_checked_on_its_expiry_day_verifies_and_the_day_after_is_refused() {
    jp().given(vec![registered()])
        .when(Issued::at(
            noon(d(2026, 3, 31)),
            verify(PASSPORT, d(2026, 3, 31)),
        ))
        .then_expect_events(vec![MemberEvent::IdentityVerified {
            document: PASSPORT,
            expires_on: d(2026, 3, 31),
            verified_on: d(2026, 3, 31),
        }]);
    let err = jp()
        .given(vec![registered()])
        .when(Issued::at(
            noon(d(2026, 4, 1)),
            verify(PASSPORT, d(2026, 3, 31)),
        ))
        .inspect_result()
        .unwrap_err();
    assert_eq!(
        err,
        MemberError::DocumentExpired {
            expires_on: d(2026, 3, 31),
            checked_on: d(2026, 4, 1),
        }
    );
    assert_eq!(err.code(), "member.document_expired");
    assert_eq!(err.rule(), Some(Rule::Mem2));
    assert!(document_valid_on(d(2026, 3, 31), d(2026, 3, 31)));
    assert!(!document_valid_on(d(2026, 3, 31), d(2026, 4, 1)));
}

// rule MEM-2: until verified, no shipment can be requested; verified, it can; past the
// expiry date the standing is unverified again, before any lapse event is recorded.
#[test]
fn mem_2_standing_turns_unverified_the_day_after_expiry_without_waiting_for_the_event() {
    let unverified = replay(vec![registered()]);
    let standing = unverified.standing(d(2026, 1, 11)).unwrap();
    assert_eq!(standing.status, StandingStatus::Unverified);
    assert!(!standing.may_request_shipments());

    let member = replay(vec![registered(), verified(d(2027, 3, 31))]);
    let on_expiry = member.standing(d(2027, 3, 31)).unwrap();
    assert_eq!(on_expiry.status, StandingStatus::Verified);
    assert!(on_expiry.may_request_shipments());
    let after = member.standing(d(2027, 4, 1)).unwrap();
    assert_eq!(after.status, StandingStatus::Unverified);
    assert!(!after.may_request_shipments());
}

// rule MEM-2: the daily check records the lapse once the expiry date has passed, not before.
#[test]
fn mem_2_daily_expiry_check_records_the_lapse_after_the_expiry_date() {
    jp().given(vec![registered(), verified(d(2027, 3, 31))])
        .when(Issued::at(
            noon(d(2027, 3, 31)),
            MemberCommand::CheckDocumentExpiry,
        ))
        .then_expect_events(vec![]);
    let lapsed = MemberEvent::VerificationLapsed {
        document: DocumentKind::Passport,
        expired_on: d(2027, 3, 31),
        unverified_from: d(2027, 4, 1),
    };
    jp().given(vec![registered(), verified(d(2027, 3, 31))])
        .when(Issued::at(
            noon(d(2027, 4, 1)),
            MemberCommand::CheckDocumentExpiry,
        ))
        .then_expect_events(vec![lapsed.clone()]);
    // Recorded once: the next day's check finds nothing left to lapse.
    jp().given(vec![registered(), verified(d(2027, 3, 31)), lapsed.clone()])
        .when(Issued::at(
            noon(d(2027, 4, 2)),
            MemberCommand::CheckDocumentExpiry,
        ))
        .then_expect_events(vec![]);
    // Unverified until a new document is checked.
    let member = replay(vec![registered(), verified(d(2027, 3, 31)), lapsed.clone()]);
    assert_eq!(
        member.standing(d(2027, 4, 2)).unwrap().status,
        StandingStatus::Unverified
    );
    let renewed = replay(vec![
        registered(),
        verified(d(2027, 3, 31)),
        lapsed,
        MemberEvent::IdentityVerified {
            document: PASSPORT,
            expires_on: d(2037, 4, 1),
            verified_on: d(2027, 4, 3),
        },
    ]);
    assert_eq!(
        renewed.standing(d(2027, 4, 3)).unwrap().status,
        StandingStatus::Verified
    );
}

// rule TIM-1: the expiry check uses the warehouse's local date of `cmd.at` (POL-2: Tokyo's
// midnight comes an hour before Shanghai's).
#[test]
fn tim_1_expiry_is_judged_on_the_local_date_of_the_command_time() {
    let tokyo_last_second = Utc.with_ymd_and_hms(2027, 3, 31, 14, 59, 59).unwrap();
    let tokyo_midnight = Utc.with_ymd_and_hms(2027, 3, 31, 15, 0, 0).unwrap();
    let shanghai_midnight = Utc.with_ymd_and_hms(2027, 3, 31, 16, 0, 0).unwrap();
    let given = || vec![registered(), verified(d(2027, 3, 31))];
    let lapsed = MemberEvent::VerificationLapsed {
        document: DocumentKind::Passport,
        expired_on: d(2027, 3, 31),
        unverified_from: d(2027, 4, 1),
    };
    jp().given(given())
        .when(Issued::at(
            tokyo_last_second,
            MemberCommand::CheckDocumentExpiry,
        ))
        .then_expect_events(vec![]);
    jp().given(given())
        .when(Issued::at(
            tokyo_midnight,
            MemberCommand::CheckDocumentExpiry,
        ))
        .then_expect_events(vec![lapsed.clone()]);
    cn().given(given())
        .when(Issued::at(
            tokyo_midnight,
            MemberCommand::CheckDocumentExpiry,
        ))
        .then_expect_events(vec![]);
    cn().given(given())
        .when(Issued::at(
            shanghai_midnight,
            MemberCommand::CheckDocumentExpiry,
        ))
        .then_expect_events(vec![lapsed]);
}
