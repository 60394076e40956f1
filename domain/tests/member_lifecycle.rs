//! The member's lifecycle (MEM-4): suspension with causes and reasons (MEM-5), failed logins,
//! rejected top-ups reported by the charge account (ACC-3), withdrawal and closure (MEM-8).

mod member_support;

use chrono::{NaiveDate, TimeZone, Utc};
use domain::facts::StandingStatus;
use domain::ids::AccountId;
use domain::member::{
    AutoClosureFacts, BalanceSign, Member, MemberCommand, MemberError, MemberEvent, MemberStatus,
    RefundReference, SuspensionCause,
};
use domain::money::Money;
use domain::{Issued, Policy, Refusal, Rule};
use member_support::*;
use rust_decimal_macros::dec;

fn suspended(cause: SuspensionCause, reason: &str, on: NaiveDate) -> MemberEvent {
    MemberEvent::Suspended {
        cause,
        reason: reason.into(),
        suspended_on: on,
        policy: Policy::jp_forwarding().version(),
    }
}

fn failures(n: u32) -> Vec<MemberEvent> {
    (1..=n)
        .map(|i| MemberEvent::LoginFailed {
            at: noon(d(2026, 2, 1)),
            in_a_row: i,
            limit: Some(10),
        })
        .collect()
}

fn with(mut events: Vec<MemberEvent>, more: Vec<MemberEvent>) -> Vec<MemberEvent> {
    events.extend(more);
    events
}

fn suspend(cause: SuspensionCause, reason: &str) -> MemberCommand {
    MemberCommand::Suspend {
        cause,
        reason: reason.into(),
    }
}

fn withdrawal_requested(on: NaiveDate) -> MemberEvent {
    MemberEvent::WithdrawalRequested {
        requested_on: on,
        suspension_causes: vec![],
        disposal_fee_per_item: Money::jpy(100),
        policy: Policy::jp_forwarding().version(),
    }
}

fn refund(reference: &str) -> RefundReference {
    RefundReference::parse(reference).unwrap()
}

/// Asserts that `command`, given `given`, is refused on 1 March 2026 in jp-forwarding.
fn assert_refused(
    given: Vec<MemberEvent>,
    command: MemberCommand,
    expected: MemberError,
    code: &str,
    rule: Option<Rule>,
) {
    let result = jp()
        .given(given)
        .when(Issued::at(noon(d(2026, 3, 1)), command))
        .inspect_result();
    assert_refusal(result, expected, code, rule);
}

/// Decides and applies, returning the events.
fn step(member: &mut Member, on: NaiveDate, command: MemberCommand) -> Vec<MemberEvent> {
    let events = member
        .decide(Issued::at(noon(on), command), &Policy::jp_forwarding())
        .unwrap();
    for event in events.clone() {
        member.evolve(event);
    }
    events
}

// rule MEM-4: Registered → Verified → Suspended → Verified → Withdrawing → Closed, and the
// standing other aggregates receive at each step.
#[test]
fn mem_4_member_walks_the_whole_lifecycle() {
    let mut member = Member::default();
    let status = |m: &Member, on| m.standing(on).unwrap().status;
    step(&mut member, d(2026, 1, 10), register(d(1990, 5, 5), None));
    assert_eq!(status(&member, d(2026, 1, 10)), StandingStatus::Unverified);
    step(&mut member, d(2026, 1, 12), verify(PASSPORT, d(2030, 1, 1)));
    assert_eq!(status(&member, d(2026, 1, 12)), StandingStatus::Verified);
    step(
        &mut member,
        d(2026, 2, 1),
        suspend(SuspensionCause::UnpaidPastDue, "invoice 7 unpaid"),
    );
    let standing = member.standing(d(2026, 2, 1)).unwrap();
    assert_eq!(standing.status, StandingStatus::Suspended);
    assert!(!standing.may_request_shipments());
    step(
        &mut member,
        d(2026, 2, 5),
        MemberCommand::Reinstate {
            reason: "paid".into(),
        },
    );
    assert_eq!(status(&member, d(2026, 2, 5)), StandingStatus::Verified);
    step(&mut member, d(2026, 3, 1), MemberCommand::RequestWithdrawal);
    assert_eq!(status(&member, d(2026, 3, 1)), StandingStatus::Withdrawing);
    step(
        &mut member,
        d(2026, 5, 31),
        MemberCommand::Close {
            refund_reference: refund("rf-1"),
        },
    );
    assert_eq!(status(&member, d(2026, 5, 31)), StandingStatus::Closed);
    assert_eq!(
        member.record().unwrap().status,
        MemberStatus::Closed {
            closed_on: d(2026, 5, 31)
        }
    );
}

// rule MEM-4: reinstatement returns to active; verified only if the document still is (MEM-2).
#[test]
fn mem_4_reinstated_member_is_verified_only_while_its_document_is_valid() {
    let unverified = with(
        vec![registered()],
        vec![
            suspended(
                SuspensionCause::FailedLogins,
                "10 failed logins",
                d(2026, 2, 1),
            ),
            MemberEvent::Reinstated {
                reason: "identity confirmed by phone".into(),
                lifted_causes: vec![SuspensionCause::FailedLogins],
                reinstated_on: d(2026, 2, 2),
            },
        ],
    );
    let member = replay(unverified);
    assert_eq!(
        member.standing(d(2026, 2, 2)).unwrap().status,
        StandingStatus::Unverified
    );

    let member = replay(vec![
        registered(),
        verified(d(2026, 2, 10)),
        suspended(
            SuspensionCause::UnpaidPastDue,
            "invoice 7 unpaid",
            d(2026, 2, 1),
        ),
        MemberEvent::Reinstated {
            reason: "paid".into(),
            lifted_causes: vec![SuspensionCause::UnpaidPastDue],
            reinstated_on: d(2026, 2, 20),
        },
    ]);
    assert_eq!(
        member.standing(d(2026, 2, 10)).unwrap().status,
        StandingStatus::Verified
    );
    assert_eq!(
        member.standing(d(2026, 2, 20)).unwrap().status,
        StandingStatus::Unverified
    );
}

// rule MEM-4: only a suspended member is reinstated.
#[test]
fn mem_4_reinstating_a_member_who_is_not_suspended_is_refused() {
    assert_refused(
        vec![registered(), verified(d(2030, 1, 1))],
        MemberCommand::Reinstate {
            reason: "why not".into(),
        },
        MemberError::NotSuspended,
        "member.not_suspended",
        Some(Rule::Mem4),
    );
}

// rule MEM-4: a suspended member requests nothing: Auto Pack and Auto Ship cannot be turned on,
// but can be turned off.
#[test]
fn mem_4_suspended_member_cannot_turn_automatic_requests_on() {
    let given = || {
        vec![
            registered(),
            verified(d(2030, 1, 1)),
            MemberEvent::AutoPackSet {
                set_on: d(2026, 1, 20),
            },
            suspended(
                SuspensionCause::ProhibitedItem,
                "aerosol in parcel p-9",
                d(2026, 2, 1),
            ),
        ]
    };
    let expected = MemberError::Suspended {
        causes: vec![SuspensionCause::ProhibitedItem],
    };
    assert_refused(
        given(),
        MemberCommand::SetAutoPack,
        expected.clone(),
        "member.suspended",
        Some(Rule::Mem4),
    );
    assert_refused(
        given(),
        MemberCommand::SetAutoShip {
            limit: Money::jpy(5000),
        },
        expected,
        "member.suspended",
        Some(Rule::Mem4),
    );
    jp().given(given())
        .when(Issued::at(
            noon(d(2026, 3, 1)),
            MemberCommand::UnsetAutoPack,
        ))
        .then_expect_events(vec![MemberEvent::AutoPackUnset {
            unset_on: d(2026, 3, 1),
        }]);
}

// rule MEM-4: a closed member does nothing more; the daily jobs pass it by.
#[test]
fn mem_4_closed_member_refuses_commands_and_daily_jobs_find_nothing() {
    let closed = || {
        vec![
            registered(),
            withdrawal_requested(d(2026, 2, 1)),
            MemberEvent::Closed {
                refund_reference: refund("rf-1"),
                closed_on: d(2026, 4, 30),
            },
        ]
    };
    for command in [
        MemberCommand::RecordSuccessfulLogin,
        MemberCommand::RequestWithdrawal,
        suspend(SuspensionCause::UnpaidPastDue, "late"),
        MemberCommand::UnsetAutoPack,
    ] {
        assert_refused(
            closed(),
            command,
            MemberError::Closed,
            "member.closed",
            Some(Rule::Mem4),
        );
    }
    for job in [
        MemberCommand::CheckDocumentExpiry,
        MemberCommand::LapseAutoShip,
        MemberCommand::EvaluateAutoClosure {
            facts: AutoClosureFacts {
                balance: BalanceSign::Zero,
                first_top_up_on: None,
            },
        },
    ] {
        cn().given(closed())
            .when(Issued::at(noon(d(2027, 1, 1)), job))
            .then_expect_events(vec![]);
    }
}

// rule MEM-5: each cause is recorded with its reason; a second cause is collected and one
// reinstatement lifts them all.
#[test]
fn mem_5_suspension_records_its_cause_and_reason() {
    let causes = [
        SuspensionCause::UnpaidPastDue,
        SuspensionCause::FalseDeclaration,
        SuspensionCause::ProhibitedItem,
        SuspensionCause::RejectedTopUps,
        SuspensionCause::FailedLogins,
    ];
    for cause in causes {
        jp().given(vec![registered(), verified(d(2030, 1, 1))])
            .when(Issued::at(
                noon(d(2026, 3, 1)),
                suspend(cause, "  declared 1,000 JPY for a 90,000 JPY camera "),
            ))
            .then_expect_events(vec![suspended(
                cause,
                "declared 1,000 JPY for a 90,000 JPY camera",
                d(2026, 3, 1),
            )]);
    }
    let first = suspended(
        SuspensionCause::UnpaidPastDue,
        "invoice 7 unpaid",
        d(2026, 2, 1),
    );
    jp().given(vec![registered(), first.clone()])
        .when(Issued::at(
            noon(d(2026, 3, 1)),
            suspend(SuspensionCause::FalseDeclaration, "parcel p-3"),
        ))
        .then_expect_events(vec![suspended(
            SuspensionCause::FalseDeclaration,
            "parcel p-3",
            d(2026, 3, 1),
        )]);
    jp().given(vec![
        registered(),
        first,
        suspended(
            SuspensionCause::FalseDeclaration,
            "parcel p-3",
            d(2026, 3, 1),
        ),
    ])
    .when(Issued::at(
        noon(d(2026, 3, 5)),
        MemberCommand::Reinstate {
            reason: "cleared by ops".into(),
        },
    ))
    .then_expect_events(vec![MemberEvent::Reinstated {
        reason: "cleared by ops".into(),
        lifted_causes: vec![
            SuspensionCause::UnpaidPastDue,
            SuspensionCause::FalseDeclaration,
        ],
        reinstated_on: d(2026, 3, 5),
    }]);
}

// rule MEM-5: no suspension or reinstatement without a reason; no cause recorded twice.
#[test]
fn mem_5_suspension_without_reason_or_for_the_same_cause_twice_is_refused() {
    assert_refused(
        vec![registered()],
        suspend(SuspensionCause::UnpaidPastDue, "   "),
        MemberError::ReasonMissing,
        "member.reason_missing",
        Some(Rule::Mem5),
    );
    let suspended_unpaid = vec![
        registered(),
        suspended(
            SuspensionCause::UnpaidPastDue,
            "invoice 7 unpaid",
            d(2026, 2, 1),
        ),
    ];
    assert_refused(
        suspended_unpaid.clone(),
        MemberCommand::Reinstate {
            reason: String::new(),
        },
        MemberError::ReasonMissing,
        "member.reason_missing",
        Some(Rule::Mem5),
    );
    assert_refused(
        suspended_unpaid,
        suspend(SuspensionCause::UnpaidPastDue, "invoice 8 unpaid"),
        MemberError::AlreadySuspended {
            cause: SuspensionCause::UnpaidPastDue,
        },
        "member.already_suspended",
        Some(Rule::Mem5),
    );
}

// rule MEM-5: 9 failed logins in a row do not suspend; the 10th does, in the same decision.
#[test]
fn mem_5_tenth_failed_login_suspends_and_ninth_does_not() {
    let at = noon(d(2026, 3, 1));
    jp().given(with(vec![registered()], failures(8)))
        .when(Issued::at(at, MemberCommand::RecordFailedLogin))
        .then_expect_events(vec![MemberEvent::LoginFailed {
            at,
            in_a_row: 9,
            limit: Some(10),
        }]);
    jp().given(with(vec![registered()], failures(9)))
        .when(Issued::at(at, MemberCommand::RecordFailedLogin))
        .then_expect_events(vec![
            MemberEvent::LoginFailed {
                at,
                in_a_row: 10,
                limit: Some(10),
            },
            suspended(
                SuspensionCause::FailedLogins,
                "10 failed logins in a row (limit 10)",
                d(2026, 3, 1),
            ),
        ]);
}

// rule MEM-5: a successful login restarts the count, and so does reinstatement.
#[test]
fn mem_5_successful_login_and_reinstatement_restart_the_failure_count() {
    let at = noon(d(2026, 3, 1));
    let one_failure = vec![MemberEvent::LoginFailed {
        at,
        in_a_row: 1,
        limit: Some(10),
    }];
    jp().given(with(
        with(vec![registered()], failures(9)),
        vec![MemberEvent::LoggedIn {
            at: noon(d(2026, 2, 2)),
        }],
    ))
    .when(Issued::at(at, MemberCommand::RecordFailedLogin))
    .then_expect_events(one_failure.clone());
    jp().given(with(
        with(vec![registered()], failures(10)),
        vec![
            suspended(
                SuspensionCause::FailedLogins,
                "10 failed logins in a row (limit 10)",
                d(2026, 2, 1),
            ),
            MemberEvent::Reinstated {
                reason: "password reset".into(),
                lifted_causes: vec![SuspensionCause::FailedLogins],
                reinstated_on: d(2026, 2, 2),
            },
        ],
    ))
    .when(Issued::at(at, MemberCommand::RecordFailedLogin))
    .then_expect_events(one_failure);
}

// rule MEM-5: failures beyond the limit do not suspend twice; reaching the limit while
// suspended for another cause adds the cause.
#[test]
fn mem_5_failed_logins_while_suspended() {
    let at = noon(d(2026, 3, 1));
    let already = with(
        with(vec![registered()], failures(10)),
        vec![suspended(
            SuspensionCause::FailedLogins,
            "10 failed logins in a row (limit 10)",
            d(2026, 2, 1),
        )],
    );
    jp().given(already)
        .when(Issued::at(at, MemberCommand::RecordFailedLogin))
        .then_expect_events(vec![MemberEvent::LoginFailed {
            at,
            in_a_row: 11,
            limit: Some(10),
        }]);
    let other_cause = with(
        vec![
            registered(),
            suspended(
                SuspensionCause::UnpaidPastDue,
                "invoice 7 unpaid",
                d(2026, 1, 20),
            ),
        ],
        failures(9),
    );
    let events = jp()
        .given(other_cause)
        .when(Issued::at(at, MemberCommand::RecordFailedLogin))
        .inspect_result()
        .unwrap();
    assert!(matches!(
        &events[..],
        [
            MemberEvent::LoginFailed {
                in_a_row: 10,
                limit: Some(10),
                ..
            },
            MemberEvent::Suspended {
                cause: SuspensionCause::FailedLogins,
                ..
            }
        ]
    ));
}

// rule ACC-3: the account reports consecutive rejected top-ups; 2 do not suspend, 3 do, with
// the cause of MEM-5. Same limit in both profiles (POL-2).
#[test]
fn acc_3_three_rejected_top_ups_suspend_the_member_and_two_do_not() {
    let account_id = AccountId::parse("acc-1").unwrap();
    for policy in [Policy::jp_forwarding(), Policy::cn_agency()] {
        let report = |n| MemberCommand::SuspendForRejectedTopUps {
            account_id: account_id.clone(),
            consecutive_rejections: n,
        };
        let err = framework(policy.clone())
            .given(vec![registered(), verified(d(2030, 1, 1))])
            .when(Issued::at(noon(d(2026, 3, 1)), report(2)))
            .inspect_result()
            .unwrap_err();
        assert_eq!(
            err,
            MemberError::TopUpRejectionsBelowLimit {
                reported: 2,
                limit: 3
            }
        );
        assert_eq!(err.code(), "member.top_up_rejections_below_limit");
        assert_eq!(err.rule(), Some(Rule::Acc3));
        framework(policy.clone())
            .given(vec![registered(), verified(d(2030, 1, 1))])
            .when(Issued::at(noon(d(2026, 3, 1)), report(3)))
            .then_expect_events(vec![MemberEvent::Suspended {
                cause: SuspensionCause::RejectedTopUps,
                reason: "3 consecutive rejected top-up applications on account acc-1 (limit 3)"
                    .into(),
                suspended_on: d(2026, 3, 1),
                policy: policy.version(),
            }]);
        // Reported again while suspended for it: nothing new.
        framework(policy)
            .given(vec![
                registered(),
                suspended(SuspensionCause::RejectedTopUps, "3 rejected", d(2026, 3, 1)),
            ])
            .when(Issued::at(noon(d(2026, 3, 2)), report(4)))
            .then_expect_events(vec![]);
    }
}

// rule MEM-8: the request records the destruction fee per item of the profile (POL-2:
// 100 JPY example in jp-forwarding, 5 CNY in cn-agency, seed 001).
#[test]
fn mem_8_withdrawal_request_records_the_disposal_fee_of_the_profile() {
    jp().given(vec![registered(), verified(d(2030, 1, 1))])
        .when(Issued::at(
            noon(d(2026, 10, 1)),
            MemberCommand::RequestWithdrawal,
        ))
        .then_expect_events(vec![withdrawal_requested(d(2026, 10, 1))]);
    let cn = Policy::cn_agency();
    framework(cn.clone())
        .given(vec![registered(), verified(d(2030, 1, 1))])
        .when(Issued::at(
            noon(d(2026, 10, 1)),
            MemberCommand::RequestWithdrawal,
        ))
        .then_expect_events(vec![MemberEvent::WithdrawalRequested {
            requested_on: d(2026, 10, 1),
            suspension_causes: vec![],
            disposal_fee_per_item: Money::cny(dec!(5)),
            policy: cn.version(),
        }]);
}

// rule MEM-8: a suspended member may still withdraw (seed 001: at any time); the causes in
// force are on the request.
#[test]
fn mem_8_suspended_member_may_withdraw() {
    jp().given(vec![
        registered(),
        suspended(SuspensionCause::RejectedTopUps, "3 rejected", d(2026, 9, 1)),
    ])
    .when(Issued::at(
        noon(d(2026, 10, 1)),
        MemberCommand::RequestWithdrawal,
    ))
    .then_expect_events(vec![MemberEvent::WithdrawalRequested {
        requested_on: d(2026, 10, 1),
        suspension_causes: vec![SuspensionCause::RejectedTopUps],
        disposal_fee_per_item: Money::jpy(100),
        policy: Policy::jp_forwarding().version(),
    }]);
}

// rule MEM-8: one request; while withdrawing only the closure remains.
#[test]
fn mem_8_withdrawing_member_cannot_ask_again_or_change_anything() {
    let withdrawing = vec![
        registered(),
        verified(d(2030, 1, 1)),
        withdrawal_requested(d(2026, 10, 1)),
    ];
    assert_refused(
        withdrawing.clone(),
        MemberCommand::RequestWithdrawal,
        MemberError::AlreadyWithdrawing,
        "member.already_withdrawing",
        Some(Rule::Mem8),
    );
    for command in [
        suspend(SuspensionCause::UnpaidPastDue, "late"),
        MemberCommand::SetAutoPack,
        MemberCommand::SetAutoShip {
            limit: Money::jpy(3000),
        },
        verify(PASSPORT, d(2035, 1, 1)),
    ] {
        assert_refused(
            withdrawing.clone(),
            command,
            MemberError::Withdrawing,
            "member.withdrawing",
            Some(Rule::Mem8),
        );
    }
}

// rule MEM-8: after the refund is recorded the withdrawing member is closed; without a
// withdrawal there is nothing to close.
#[test]
fn mem_8_member_is_closed_after_the_refund() {
    jp().given(vec![registered(), withdrawal_requested(d(2026, 10, 1))])
        .when(Issued::at(
            noon(d(2026, 12, 31)),
            MemberCommand::Close {
                refund_reference: refund("refund-2026-12-31-0001"),
            },
        ))
        .then_expect_events(vec![MemberEvent::Closed {
            refund_reference: refund("refund-2026-12-31-0001"),
            closed_on: d(2026, 12, 31),
        }]);
    assert_refused(
        vec![registered(), verified(d(2030, 1, 1))],
        MemberCommand::Close {
            refund_reference: refund("rf-1"),
        },
        MemberError::NotWithdrawing,
        "member.not_withdrawing",
        Some(Rule::Mem8),
    );
    assert!(RefundReference::parse("  ").is_err());
    assert!(serde_json::from_str::<RefundReference>("\"\"").is_err());
}

// rule MEM-9: last login is kept (its local date counts for dormancy).
#[test]
fn mem_9_successful_login_is_kept() {
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 16, 0, 0).unwrap();
    jp().given(vec![registered()])
        .when(Issued::at(at, MemberCommand::RecordSuccessfulLogin))
        .then_expect_events(vec![MemberEvent::LoggedIn { at }]);
    let member = replay(vec![registered(), MemberEvent::LoggedIn { at }]);
    assert_eq!(member.record().unwrap().last_login_at, Some(at));
}
