//! Member registration: suite code and forwarding-only term (MEM-1), guardian consent for
//! minors with calendar ages (MEM-3), dates from the command's time (TIM-1).

mod member_support;

use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use domain::facts::StandingStatus;
use domain::ids::{MemberId, SuiteCode};
use domain::member::{
    age_on, is_minor_on, EmailAddress, GuardianConsent, Member, MemberCommand, MemberError,
    MemberEvent, PersonName,
};
use domain::{Issued, Policy, Rule};
use member_support::*;
use proptest::prelude::*;

fn consent() -> GuardianConsent {
    GuardianConsent {
        guardian_name: PersonName::parse("Hanako Sato").unwrap(),
        relationship: "mother".into(),
        consented_on: d(2026, 11, 1),
    }
}

// rule MEM-1
#[test]
fn mem_1_registration_assigns_the_suite_code_and_records_the_forwarding_only_term() {
    let at = noon(d(2026, 11, 21));
    jp().given_no_previous_events()
        .when(Issued::at(at, register(d(1990, 5, 5), None)))
        .then_expect_events(vec![MemberEvent::Registered {
            member_id: MemberId::parse("m-1").unwrap(),
            suite_code: SuiteCode::parse("TYO-004217").unwrap(),
            name: PersonName::parse("Taro Sato").unwrap(),
            birth_date: d(1990, 5, 5),
            email: EmailAddress::parse("taro@example.jp").unwrap(),
            age_on_registration: 36,
            minor: false,
            guardian_consent: None,
            forwarding_only_accepted: true,
            registered_at: at,
            registered_on: d(2026, 11, 21),
            policy: Policy::jp_forwarding().version(),
        }]);
}

// rule MEM-1: the address is for forwarding only; registering without accepting that is refused.
#[test]
fn mem_1_registration_without_accepting_forwarding_only_use_is_refused() {
    let mut command = register(d(1990, 5, 5), None);
    if let MemberCommand::Register {
        forwarding_only_accepted,
        ..
    } = &mut command
    {
        *forwarding_only_accepted = false;
    }
    let result = jp()
        .given_no_previous_events()
        .when(Issued::at(noon(d(2026, 11, 21)), command))
        .inspect_result();
    assert_refusal(
        result,
        MemberError::ForwardingOnlyNotAccepted,
        "member.forwarding_only_not_accepted",
        Some(Rule::Mem1),
    );
}

// rule MEM-1: a member registers once, under one suite code.
#[test]
fn mem_1_registering_twice_is_refused() {
    let policy = Policy::jp_forwarding();
    let mut member = Member::default();
    for event in member
        .decide(
            Issued::at(noon(d(2026, 11, 21)), register(d(1990, 5, 5), None)),
            &policy,
        )
        .unwrap()
    {
        member.evolve(event);
    }
    let again = member.decide(
        Issued::at(noon(d(2026, 11, 22)), register(d(1990, 5, 5), None)),
        &policy,
    );
    assert_refusal(
        again,
        MemberError::AlreadyRegistered,
        "member.already_registered",
        Some(Rule::Mem1),
    );
    // The registered member receives parcels under its suite code but is not yet verified (MEM-2).
    let record = member.record().unwrap();
    assert_eq!(record.suite_code.as_str(), "TYO-004217");
    let standing = member.standing(d(2026, 11, 21)).unwrap();
    assert_eq!(standing.status, StandingStatus::Unverified);
    assert!(!standing.may_request_shipments());
}

#[test]
fn commands_before_registration_are_refused() {
    let result = jp()
        .given_no_previous_events()
        .when(Issued::at(
            noon(d(2026, 11, 21)),
            MemberCommand::RecordSuccessfulLogin,
        ))
        .inspect_result();
    assert_refusal(
        result,
        MemberError::NotRegistered,
        "member.not_registered",
        None,
    );
    assert_eq!(Member::default().standing(d(2026, 11, 21)), None);
}

// rule MEM-3: 17 on the registration date (birthday tomorrow) without consent: refused.
#[test]
fn mem_3_minor_without_guardian_consent_is_refused() {
    let result = jp()
        .given_no_previous_events()
        .when(Issued::at(
            noon(d(2026, 11, 21)),
            register(d(2008, 11, 22), None),
        ))
        .inspect_result();
    assert_refusal(
        result,
        MemberError::GuardianConsentRequired {
            age: 17,
            age_of_majority: 18,
        },
        "member.guardian_consent_required",
        Some(Rule::Mem3),
    );
}

// rule MEM-3: 18 on the registration date (the birthday itself): no consent needed.
#[test]
fn mem_3_eighteenth_birthday_registers_without_consent() {
    let events = jp()
        .given_no_previous_events()
        .when(Issued::at(
            noon(d(2026, 11, 21)),
            register(d(2008, 11, 21), None),
        ))
        .inspect_result()
        .unwrap();
    assert!(matches!(
        &events[..],
        [MemberEvent::Registered {
            age_on_registration: 18,
            minor: false,
            guardian_consent: None,
            ..
        }]
    ));
}

// rule MEM-3: a minor with a guardian's consent registers, and the consent is on record.
#[test]
fn mem_3_minor_with_guardian_consent_registers_and_the_consent_is_recorded() {
    let events = cn()
        .given_no_previous_events()
        .when(Issued::at(
            noon(d(2026, 11, 21)),
            register(d(2010, 1, 1), Some(consent())),
        ))
        .inspect_result()
        .unwrap();
    match &events[..] {
        [MemberEvent::Registered {
            age_on_registration,
            minor,
            guardian_consent,
            policy,
            ..
        }] => {
            assert_eq!(*age_on_registration, 16);
            assert!(*minor);
            assert_eq!(guardian_consent.as_ref(), Some(&consent()));
            assert_eq!(policy, &Policy::cn_agency().version());
        }
        other => panic!("unexpected events {other:?}"),
    }
}

// rule MEM-3: born on 29 February, the 18th birthday in a common year is 1 March.
#[test]
fn mem_3_feb_29_birthday_comes_of_age_on_1_march_in_a_common_year() {
    let born = d(2008, 2, 29);
    let on_feb_28 = jp()
        .given_no_previous_events()
        .when(Issued::at(noon(d(2026, 2, 28)), register(born, None)))
        .inspect_result();
    assert_refusal(
        on_feb_28,
        MemberError::GuardianConsentRequired {
            age: 17,
            age_of_majority: 18,
        },
        "member.guardian_consent_required",
        Some(Rule::Mem3),
    );
    let on_mar_1 = jp()
        .given_no_previous_events()
        .when(Issued::at(noon(d(2026, 3, 1)), register(born, None)))
        .inspect_result()
        .unwrap();
    assert!(matches!(
        &on_mar_1[..],
        [MemberEvent::Registered {
            age_on_registration: 18,
            minor: false,
            ..
        }]
    ));
    // In a leap year the birthday itself exists.
    assert_eq!(age_on(born, d(2028, 2, 28)), Some(19));
    assert_eq!(age_on(born, d(2028, 2, 29)), Some(20));
    assert!(is_minor_on(born, d(2026, 2, 28), 18));
    assert!(!is_minor_on(born, d(2026, 3, 1), 18));
}

// rule MEM-3: a birth date after the registration date cannot give an age.
#[test]
fn mem_3_birth_date_after_registration_is_refused() {
    let result = jp()
        .given_no_previous_events()
        .when(Issued::at(
            noon(d(2026, 11, 21)),
            register(d(2026, 11, 22), Some(consent())),
        ))
        .inspect_result();
    assert_refusal(
        result,
        MemberError::BirthDateInFuture {
            birth_date: d(2026, 11, 22),
            registered_on: d(2026, 11, 21),
        },
        "member.birth_date_in_future",
        Some(Rule::Mem3),
    );
    assert_eq!(age_on(d(2026, 11, 22), d(2026, 11, 21)), None);
    assert_eq!(age_on(d(2026, 11, 21), d(2026, 11, 21)), Some(0));
}

// rule TIM-1: the age is taken on the warehouse's local date of `cmd.at`, not on UTC's:
// 15:00 UTC on 20 Nov is already 21 Nov in Tokyo but still 20 Nov in Shanghai (POL-2).
#[test]
fn tim_1_registration_age_uses_the_local_date_of_the_command_time() {
    let born = d(2008, 11, 21);
    let just_before_tokyo_midnight = Utc.with_ymd_and_hms(2026, 11, 20, 14, 59, 59).unwrap();
    let tokyo_midnight = Utc.with_ymd_and_hms(2026, 11, 20, 15, 0, 0).unwrap();
    let shanghai_midnight = Utc.with_ymd_and_hms(2026, 11, 20, 16, 0, 0).unwrap();

    let refused = jp()
        .given_no_previous_events()
        .when(Issued::at(just_before_tokyo_midnight, register(born, None)))
        .inspect_result();
    assert!(matches!(
        refused,
        Err(MemberError::GuardianConsentRequired { age: 17, .. })
    ));

    let jp = jp()
        .given_no_previous_events()
        .when(Issued::at(tokyo_midnight, register(born, None)))
        .inspect_result()
        .unwrap();
    assert!(matches!(
        &jp[..],
        [MemberEvent::Registered { registered_on, minor: false, .. }] if *registered_on == d(2026, 11, 21)
    ));

    let cn_refused = cn()
        .given_no_previous_events()
        .when(Issued::at(tokyo_midnight, register(born, None)))
        .inspect_result();
    assert!(matches!(
        cn_refused,
        Err(MemberError::GuardianConsentRequired { age: 17, .. })
    ));
    let cn = cn()
        .given_no_previous_events()
        .when(Issued::at(shanghai_midnight, register(born, None)))
        .inspect_result()
        .unwrap();
    assert!(matches!(
        &cn[..],
        [MemberEvent::Registered { registered_on, minor: false, .. }] if *registered_on == d(2026, 11, 21)
    ));
}

#[test]
fn names_and_emails_are_parsed_once() {
    assert_eq!(PersonName::parse("  Taro  ").unwrap().as_str(), "Taro");
    assert!(PersonName::parse("   ").is_err());
    assert!(PersonName::parse(&"x".repeat(201)).is_err());
    assert_eq!(EmailAddress::parse(" a@b.jp ").unwrap().as_str(), "a@b.jp");
    for bad in [
        "", "a", "a@b", "@b.jp", "a@.jp", "a@b.", "a b@c.jp", "a@b@c.jp",
    ] {
        assert!(EmailAddress::parse(bad).is_err(), "{bad} should be refused");
    }
    assert!(serde_json::from_str::<EmailAddress>("\"nobody\"").is_err());
}

proptest! {
    // rule MEM-3: a year of age is completed exactly on the birthday (29 Feb aside, tested above).
    #[test]
    fn mem_3_age_changes_exactly_on_the_birthday(
        year in 1930i32..2020,
        ordinal in 1u32..366,
        years in 1u32..90,
    ) {
        let born = NaiveDate::from_yo_opt(year, ordinal).unwrap();
        prop_assume!(!(born.month() == 2 && born.day() == 29));
        let birthday = born.with_year(year + i32::try_from(years).unwrap()).unwrap();
        let eve = birthday.pred_opt().unwrap();
        prop_assert_eq!(age_on(born, birthday), Some(years));
        prop_assert_eq!(age_on(born, eve), Some(years - 1));
    }
}
