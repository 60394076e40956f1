//! Erasure of a member's personal data (issue #10): only once the member is closed and the
//! policy's retention period after closure has passed, and only once. The key deletion that
//! makes the data unreadable is the engine's; the domain decides whether it may happen.

mod member_support;

use domain::member::{MemberCommand, MemberError, MemberEvent, RefundReference};
use domain::money::Money;
use domain::{Issued, Policy};
use member_support::*;

fn closed_on(on: chrono::NaiveDate) -> Vec<MemberEvent> {
    vec![
        registered(),
        MemberEvent::WithdrawalRequested {
            requested_on: d(2026, 2, 1),
            suspension_causes: vec![],
            disposal_fee_per_item: Money::jpy(100),
            policy: Policy::jp_forwarding().version(),
        },
        MemberEvent::Closed {
            refund_reference: RefundReference::parse("rf-1").unwrap(),
            closed_on: on,
        },
    ]
}

fn erase_on(
    given: Vec<MemberEvent>,
    on: chrono::NaiveDate,
) -> Result<Vec<MemberEvent>, MemberError> {
    jp().given(given)
        .when(Issued::at(noon(on), MemberCommand::ErasePersonalData))
        .inspect_result()
}

#[test]
fn erasure_waits_for_the_retention_period_after_closure_and_happens_the_day_after() {
    let policy = Policy::jp_forwarding();
    assert_eq!(policy.member.personal_data_retention_months, 84);
    // Closed 30 April 2026: kept until 30 April 2033 inclusive.
    assert_refusal(
        erase_on(closed_on(d(2026, 4, 30)), d(2033, 4, 30)),
        MemberError::RetentionNotPassed {
            closed_on: d(2026, 4, 30),
            retained_until: d(2033, 4, 30),
        },
        "member.retention_not_passed",
        None,
    );
    assert_eq!(
        erase_on(closed_on(d(2026, 4, 30)), d(2033, 5, 1)).unwrap(),
        vec![MemberEvent::PersonalDataErased {
            closed_on: d(2026, 4, 30),
            retained_until: d(2033, 4, 30),
            erased_on: d(2033, 5, 1),
            policy: policy.version(),
        }]
    );
}

#[test]
fn only_a_closed_member_is_erased() {
    assert_refusal(
        erase_on(vec![registered()], d(2040, 1, 1)),
        MemberError::NotClosed,
        "member.not_closed",
        None,
    );
    let mut withdrawing = closed_on(d(2026, 4, 30));
    withdrawing.pop();
    assert_refusal(
        erase_on(withdrawing, d(2040, 1, 1)),
        MemberError::NotClosed,
        "member.not_closed",
        None,
    );
}

#[test]
fn a_member_is_erased_once_and_stays_closed() {
    let mut given = closed_on(d(2026, 4, 30));
    given.extend(erase_on(given.clone(), d(2034, 1, 1)).unwrap());
    assert_refusal(
        erase_on(given.clone(), d(2034, 1, 2)),
        MemberError::AlreadyErased,
        "member.personal_data_already_erased",
        None,
    );
    let member = replay(given);
    let record = member.record().expect("registered");
    assert!(record.personal_data_erased);
    assert!(matches!(
        record.status,
        domain::member::MemberStatus::Closed { .. }
    ));
}
