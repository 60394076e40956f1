//! Shared helpers of the member tests: dates, the given/when/then harness per profile, the
//! registered member, identity documents, and replaying a history. Included by each
//! `member_*.rs` test file with `mod member_support;`; each file uses part of it.
#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use domain::ids::{MemberId, SuiteCode};
use domain::member::{
    EmailAddress, GuardianConsent, IdentityDocument, Member, MemberCommand, MemberError,
    MemberEvent, PersonName,
};
use domain::{Policy, Refusal, Rule, Services};

/// A calendar date.
pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// Noon in Tokyo (11:00 in Shanghai) on that date: the same local date in both profiles.
pub fn noon(date: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&date.and_hms_opt(3, 0, 0).unwrap())
}

/// The given/when/then harness over `policy`.
pub fn framework(policy: Policy) -> TestFramework<Member> {
    TestFramework::with(Services::new(policy))
}

/// The harness over the jp-forwarding profile.
pub fn jp() -> TestFramework<Member> {
    framework(Policy::jp_forwarding())
}

/// The harness over the cn-agency profile.
pub fn cn() -> TestFramework<Member> {
    framework(Policy::cn_agency())
}

/// Taro Sato (born 5 May 1990, an adult), registered under `suite_code` at noon on `on`
/// with `policy`.
pub fn registered_with(policy: &Policy, suite_code: &str, on: NaiveDate) -> MemberEvent {
    MemberEvent::Registered {
        member_id: MemberId::parse("m-1").unwrap(),
        suite_code: SuiteCode::parse(suite_code).unwrap(),
        name: PersonName::parse("Taro Sato").unwrap(),
        birth_date: d(1990, 5, 5),
        email: EmailAddress::parse("taro@example.jp").unwrap(),
        age_on_registration: 35,
        minor: false,
        guardian_consent: None,
        forwarding_only_accepted: true,
        registered_at: noon(on),
        registered_on: on,
        policy: policy.version(),
    }
}

/// Taro Sato registered in jp-forwarding under TYO-004217 on 10 January 2026.
pub fn registered() -> MemberEvent {
    registered_with(&Policy::jp_forwarding(), "TYO-004217", d(2026, 1, 10))
}

/// The command registering Taro Sato under TYO-004217, with the forwarding-only term accepted.
pub fn register(birth_date: NaiveDate, guardian_consent: Option<GuardianConsent>) -> MemberCommand {
    MemberCommand::Register {
        member_id: MemberId::parse("m-1").unwrap(),
        suite_code: SuiteCode::parse("TYO-004217").unwrap(),
        name: PersonName::parse("Taro Sato").unwrap(),
        birth_date,
        email: EmailAddress::parse("taro@example.jp").unwrap(),
        guardian_consent,
        forwarding_only_accepted: true,
    }
}

/// A passport with both required pages checked (MEM-2).
pub const PASSPORT: IdentityDocument = IdentityDocument::Passport {
    photo_page_checked: true,
    address_page_checked: true,
};

/// Verified with a passport on 12 January 2026, valid until `expires_on`.
pub fn verified(expires_on: NaiveDate) -> MemberEvent {
    MemberEvent::IdentityVerified {
        document: PASSPORT,
        expires_on,
        verified_on: d(2026, 1, 12),
    }
}

/// The command verifying the member with `document`, valid until `expires_on` (MEM-2).
pub fn verify(document: IdentityDocument, expires_on: NaiveDate) -> MemberCommand {
    MemberCommand::VerifyIdentity {
        document,
        expires_on,
    }
}

/// The member after `events`.
pub fn replay(events: Vec<MemberEvent>) -> Member {
    let mut member = Member::default();
    for event in events {
        member.evolve(event);
    }
    member
}

/// Asserts that `result` is the refusal `expected`, with its stable code and rule.
pub fn assert_refusal(
    result: Result<Vec<MemberEvent>, MemberError>,
    expected: MemberError,
    code: &str,
    rule: Option<Rule>,
) {
    let err = result.expect_err("expected a refusal");
    assert_eq!(err, expected);
    assert_eq!(err.code(), code);
    assert_eq!(err.rule(), rule);
}
