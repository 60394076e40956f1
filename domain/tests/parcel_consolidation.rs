//! The parcel side of shipments and disposal: one open shipment per parcel (CON-3), Auto Pack
//! parcels never consolidated (MEM-6), release on cancellation (CON-5), held for non-payment
//! (PAY-2), and disposal only for a recorded cause with its fee (DSP-1, MEM-8).

mod parcel_support;

use chrono::NaiveDate;
use domain::facts::StandingStatus;
use domain::ids::MemberId;
use domain::money::Money;
use domain::parcel::{
    DisposalCause, DisposedBecause, HeldFrom, ParcelCommand, ParcelError, ParcelEvent,
    ParcelStatus, ShipmentHeld,
};
use domain::{Policy, Rule};
use parcel_support::*;
use rust_decimal_macros::dec;

fn day() -> NaiveDate {
    d(2026, 11, 20)
}

fn reserve(id: &str) -> ParcelCommand {
    ParcelCommand::ReserveForConsolidation {
        shipment_id: shipment(id),
        member: verified(),
    }
}

fn then(
    policy: &Policy,
    mut events: Vec<ParcelEvent>,
    commands: Vec<ParcelCommand>,
) -> Vec<ParcelEvent> {
    for command in commands {
        let more = decide(policy, &events, on(day(), command)).unwrap();
        events.extend(more);
    }
    events
}

// ---- CON-3

// rule CON-3: a stored parcel is taken into one shipment's consolidation.
#[test]
fn con_3_stored_parcel_is_reserved_into_a_shipment() {
    let policy = jp();
    framework(policy.clone())
        .given(stored_on(&policy, day()))
        .when(on(day(), reserve("s-1")))
        .then_expect_events(vec![ParcelEvent::Consolidated {
            shipment_id: shipment("s-1"),
            member_id: member_id(),
        }]);
}

// rule CON-3: a parcel already in an open shipment refuses a second reservation (reserved or packed).
#[test]
fn con_3_parcel_in_an_open_shipment_refuses_a_second_reservation() {
    let policy = jp();
    let reserved = then(&policy, stored_on(&policy, day()), vec![reserve("s-1")]);
    assert_eq!(
        state(&reserved).status(),
        &ParcelStatus::Reserved {
            shipment_id: shipment("s-1")
        }
    );
    assert_refused(
        decide(&policy, &reserved, on(day(), reserve("s-2"))),
        ParcelError::AlreadyInShipment {
            shipment_id: shipment("s-1"),
        },
        "consolidation.parcel_taken",
        Some(Rule::Con3),
    );
    let packed = then(
        &policy,
        reserved,
        vec![ParcelCommand::Pack {
            shipment_id: shipment("s-1"),
        }],
    );
    assert_refused(
        decide(&policy, &packed, on(day(), reserve("s-1"))),
        ParcelError::AlreadyInShipment {
            shipment_id: shipment("s-1"),
        },
        "consolidation.parcel_taken",
        Some(Rule::Con3),
    );
}

// rule CON-3: only stored parcels are reserved; a parcel packed on its own is not consolidated either.
#[test]
fn con_3_parcel_not_stored_is_not_reserved() {
    let policy = jp();
    let inspected = history(
        &policy,
        vec![
            on(day(), ParcelCommand::Arrive(arrival())),
            on(day(), inspect_quantity(1)),
        ],
    );
    assert_refused(
        decide(&policy, &inspected, on(day(), reserve("s-1"))),
        ParcelError::NotStored {
            status: "inspected",
        },
        "consolidation.parcel_not_stored",
        Some(Rule::Con3),
    );
    let requested = then(
        &policy,
        stored_on(&policy, day()),
        vec![ParcelCommand::RequestPacking {
            member: verified(),
            shipment_id: shipment("s-1"),
        }],
    );
    assert_refused(
        decide(&policy, &requested, on(day(), reserve("s-1"))),
        ParcelError::NotStored {
            status: "packing_requested",
        },
        "consolidation.parcel_not_stored",
        Some(Rule::Con3),
    );
    assert_refused(
        decide(&policy, &[], on(day(), reserve("s-1"))),
        ParcelError::NotFound,
        "parcel.not_found",
        None,
    );
}

// rule CON-3: packing names the parcel's own shipment.
#[test]
fn con_3_pack_into_another_shipment_is_refused() {
    let policy = jp();
    let reserved = then(&policy, stored_on(&policy, day()), vec![reserve("s-1")]);
    assert_refused(
        decide(
            &policy,
            &reserved,
            on(
                day(),
                ParcelCommand::Pack {
                    shipment_id: shipment("s-2"),
                },
            ),
        ),
        ParcelError::OtherShipment {
            actual: shipment("s-1"),
            named: shipment("s-2"),
        },
        "consolidation.other_shipment",
        Some(Rule::Con3),
    );
}

// rule CON-1: a consolidation takes one member's parcels only.
#[test]
fn con_1_other_members_parcel_is_not_reserved() {
    let policy = jp();
    let mut stranger = verified();
    stranger.member_id = MemberId::parse("m-9999").unwrap();
    assert_refused(
        decide(
            &policy,
            &stored_on(&policy, day()),
            on(
                day(),
                ParcelCommand::ReserveForConsolidation {
                    shipment_id: shipment("s-1"),
                    member: stranger.clone(),
                },
            ),
        ),
        ParcelError::OtherMembersParcel,
        "consolidation.other_member",
        Some(Rule::Con1),
    );
    assert_refused(
        decide(
            &policy,
            &stored_on(&policy, day()),
            on(
                day(),
                ParcelCommand::RequestPacking {
                    member: stranger,
                    shipment_id: shipment("s-1"),
                },
            ),
        ),
        ParcelError::OtherMember {
            member_id: MemberId::parse("m-9999").unwrap(),
        },
        "parcel.other_member",
        None,
    );
}

// rule MEM-2: an unverified member requests nothing; rule MEM-4: nor does a suspended one.
#[test]
fn mem_4_member_standing_gates_packing_and_consolidation() {
    let policy = jp();
    let given = stored_on(&policy, day());
    for (status, rule) in [
        (StandingStatus::Unverified, Rule::Mem2),
        (StandingStatus::Suspended, Rule::Mem4),
    ] {
        let member = standing(status, false);
        assert_refused(
            decide(
                &policy,
                &given,
                on(
                    day(),
                    ParcelCommand::RequestPacking {
                        member: member.clone(),
                        shipment_id: shipment("s-1"),
                    },
                ),
            ),
            ParcelError::MayNotRequest { status },
            "member.may_not_request",
            Some(rule),
        );
        assert_refused(
            decide(
                &policy,
                &given,
                on(
                    day(),
                    ParcelCommand::ReserveForConsolidation {
                        shipment_id: shipment("s-1"),
                        member,
                    },
                ),
            ),
            ParcelError::MayNotRequest { status },
            "member.may_not_request",
            Some(rule),
        );
    }
}

// rule PAR-4: no consolidation before the declaration is confirmed.
#[test]
fn par_4_reservation_refused_until_declaration_confirmed() {
    let policy = jp();
    let unconfirmed = history(
        &policy,
        vec![
            on(day(), ParcelCommand::Arrive(arrival())),
            on(day(), declare(1)),
            on(day(), inspect_quantity(1)),
            on(day(), store()),
        ],
    );
    assert_refused(
        decide(&policy, &unconfirmed, on(day(), reserve("s-1"))),
        ParcelError::DeclarationNotConfirmed,
        "declaration.not_confirmed",
        Some(Rule::Par4),
    );
}

// ---- MEM-6

// rule MEM-6: a parcel that arrived under Auto Pack is never consolidated, requested or stored.
#[test]
fn mem_6_auto_pack_parcel_cannot_be_consolidated() {
    let policy = jp();
    // Auto Pack set while unverified: the parcel goes through storage, still an Auto Pack parcel.
    let mut waiting = arrival();
    waiting.member = Some(standing(StandingStatus::Unverified, true));
    let stored = history(
        &policy,
        vec![
            on(day(), ParcelCommand::Arrive(waiting)),
            on(day(), declare(1)),
            on(day(), ParcelCommand::ConfirmDeclaration),
            on(day(), inspect_quantity(1)),
            on(day(), store()),
        ],
    );
    assert_eq!(state(&stored).status(), &ParcelStatus::Stored);
    assert_refused(
        decide(&policy, &stored, on(day(), reserve("s-1"))),
        ParcelError::AutoPack,
        "consolidation.auto_pack",
        Some(Rule::Mem6),
    );
    // It can still be packed on its own.
    assert!(decide(
        &policy,
        &stored,
        on(
            day(),
            ParcelCommand::RequestPacking {
                member: auto_packer(),
                shipment_id: shipment("s-1"),
            }
        )
    )
    .is_ok());
    // Auto-packed on arrival.
    let mut a = arrival();
    a.member = Some(auto_packer());
    let requested = history(&policy, vec![on(day(), ParcelCommand::Arrive(a))]);
    assert_refused(
        decide(&policy, &requested, on(day(), reserve("s-1"))),
        ParcelError::AutoPack,
        "consolidation.auto_pack",
        Some(Rule::Mem6),
    );
}

// ---- CON-5

// rule CON-5: a shipment cancelled before payment releases its parcels back to storage, from
// reservation, packing or hold; they can then be consolidated again.
#[test]
fn con_5_cancelled_shipment_releases_parcel_to_storage() {
    let policy = jp();
    let held = ShipmentHeld {
        shipment_id: shipment("s-1"),
        quote_due_on: d(2026, 11, 27),
    };
    let stages = [
        vec![reserve("s-1")],
        vec![
            reserve("s-1"),
            ParcelCommand::Pack {
                shipment_id: shipment("s-1"),
            },
        ],
        vec![
            reserve("s-1"),
            ParcelCommand::Pack {
                shipment_id: shipment("s-1"),
            },
            ParcelCommand::HoldForNonPayment { shipment: held },
        ],
    ];
    for stage in stages {
        let given = then(&policy, stored_on(&policy, day()), stage);
        let release = ParcelCommand::Release {
            shipment_id: shipment("s-1"),
        };
        let released = decide(&policy, &given, on(d(2026, 11, 30), release)).unwrap();
        assert_eq!(
            released,
            vec![ParcelEvent::Released {
                shipment_id: shipment("s-1"),
                released_on: d(2026, 11, 30)
            }]
        );
        let mut events = given;
        events.extend(released);
        assert_eq!(state(&events).status(), &ParcelStatus::Stored);
        assert!(decide(&policy, &events, on(d(2026, 11, 30), reserve("s-2"))).is_ok());
    }
}

// rule CON-5: a single-parcel shipment cancelled before packing releases its parcel: the
// packing request records its shipment, and only that shipment releases it.
#[test]
fn con_5_single_parcel_shipment_cancelled_before_packing_releases_its_parcel() {
    let policy = jp();
    let request = ParcelCommand::RequestPacking {
        member: verified(),
        shipment_id: shipment("s-1"),
    };
    let requested = then(&policy, stored_on(&policy, day()), vec![request]);
    assert!(matches!(
        requested.last(),
        Some(ParcelEvent::PackingRequested { shipment_id: Some(s), .. }) if *s == shipment("s-1")
    ));
    let release = |id: &str| {
        on(
            d(2026, 11, 30),
            ParcelCommand::Release {
                shipment_id: shipment(id),
            },
        )
    };
    assert_refused(
        decide(&policy, &requested, release("s-2")),
        ParcelError::OtherShipment {
            actual: shipment("s-1"),
            named: shipment("s-2"),
        },
        "consolidation.other_shipment",
        Some(Rule::Con3),
    );
    let released = decide(&policy, &requested, release("s-1")).unwrap();
    assert_eq!(
        released,
        vec![ParcelEvent::Released {
            shipment_id: shipment("s-1"),
            released_on: d(2026, 11, 30)
        }]
    );
    let mut events = requested.clone();
    events.extend(released);
    assert_eq!(state(&events).status(), &ParcelStatus::Stored);

    // A request stored as version 1 (no shipment, upcast to `None`) is released by the
    // shipment that lists the parcel.
    let mut legacy = requested;
    if let Some(ParcelEvent::PackingRequested { shipment_id, .. }) = legacy.last_mut() {
        *shipment_id = None;
    }
    assert!(decide(&policy, &legacy, release("s-9")).is_ok());
}

// rule CON-5 / MEM-6: an Auto Pack request, made before inspection, has no stored state to go
// back to: its cancellation does not release it.
#[test]
fn con_5_auto_pack_request_is_not_released() {
    let policy = jp();
    let mut a = arrival();
    a.member = Some(auto_packer());
    let given = history(&policy, vec![on(day(), ParcelCommand::Arrive(a))]);
    assert_eq!(state(&given).status(), &ParcelStatus::PackingRequested);
    let err = decide(
        &policy,
        &given,
        on(
            day(),
            ParcelCommand::Release {
                shipment_id: shipment("pack-p-0001"),
            },
        ),
    )
    .unwrap_err();
    assert!(matches!(err, ParcelError::InvalidState { .. }), "{err:?}");
}

// rule CON-5: only the parcel's own shipment releases it; a stored parcel has nothing to release.
#[test]
fn con_5_release_names_the_parcels_shipment() {
    let policy = jp();
    let reserved = then(&policy, stored_on(&policy, day()), vec![reserve("s-1")]);
    assert_refused(
        decide(
            &policy,
            &reserved,
            on(
                day(),
                ParcelCommand::Release {
                    shipment_id: shipment("s-2"),
                },
            ),
        ),
        ParcelError::OtherShipment {
            actual: shipment("s-1"),
            named: shipment("s-2"),
        },
        "consolidation.other_shipment",
        Some(Rule::Con3),
    );
    assert_refused(
        decide(
            &policy,
            &stored_on(&policy, day()),
            on(
                day(),
                ParcelCommand::Release {
                    shipment_id: shipment("s-1"),
                },
            ),
        ),
        ParcelError::InvalidState {
            command: "release",
            status: "stored",
        },
        "parcel.invalid_state",
        None,
    );
}

// ---- PAY-2

fn held(id: &str) -> ShipmentHeld {
    ShipmentHeld {
        shipment_id: shipment(id),
        quote_due_on: d(2026, 11, 27),
    }
}

// rule PAY-2: a parcel whose shipment is held for non-payment is held, then may be disposed of
// under STO-2: once past its maximum storage and marked disposable, not before.
#[test]
fn pay_2_parcel_of_unpaid_shipment_may_be_disposed() {
    let policy = jp();
    let packed = held_parcel(&policy, false);
    let (packed, hold) = packed.split_at(packed.len() - 1);
    assert_eq!(
        hold,
        vec![ParcelEvent::Held {
            shipment_id: shipment("s-1"),
            quote_due_on: d(2026, 11, 27),
            held_on: d(2026, 11, 28),
            rule: Rule::Pay2,
        }]
    );
    let mut events = packed.to_vec();
    events.extend(hold.to_vec());
    let unpaid = |id| ParcelCommand::Dispose {
        cause: DisposalCause::Unpaid { shipment: held(id) },
    };
    events.extend(past_storage_limit(&policy, &events));
    let disposed = ParcelEvent::Disposed {
        member_id: Some(member_id()),
        cause: DisposedBecause::Unpaid {
            shipment_id: shipment("s-1"),
            quote_due_on: d(2026, 11, 27),
        },
        fee: Money::jpy(500),
        rule: Rule::Pay2,
        policy: policy.version(),
    };
    framework(policy.clone())
        .given(events)
        .when(on(d(2026, 12, 20), unpaid("s-1")))
        .then_expect_events(vec![disposed]);
    // Another shipment's hold, a packed parcel not held, or a parcel in no shipment, is refused.
    for given in [packed.to_vec(), stored_on(&policy, day())] {
        assert_refused(
            decide(&policy, &given, on(d(2026, 12, 20), unpaid("s-1"))),
            ParcelError::ShipmentNotHeld,
            "disposal.shipment_not_held",
            Some(Rule::Pay2),
        );
    }
}

/// A parcel stored on `day()`, reserved into s-1 (packed unless `reserved_only`), then held
/// on 2026-11-28 for the quote due 2026-11-27 (PAY-2); the hold is the last event.
fn held_parcel(policy: &Policy, reserved_only: bool) -> Vec<ParcelEvent> {
    let mut commands = vec![reserve("s-1")];
    if !reserved_only {
        commands.push(ParcelCommand::Pack {
            shipment_id: shipment("s-1"),
        });
    }
    let mut events = then(policy, stored_on(policy, day()), commands);
    let hold = decide(
        policy,
        &events,
        on(
            d(2026, 11, 28),
            ParcelCommand::HoldForNonPayment {
                shipment: held("s-1"),
            },
        ),
    )
    .unwrap();
    events.extend(hold);
    events
}

/// The disposable mark, on the first day past the parcel's maximum storage (STO-2).
fn past_storage_limit(policy: &Policy, given: &[ParcelEvent]) -> Vec<ParcelEvent> {
    let mark = || ParcelCommand::MarkDisposable {
        earliest_waiting_arrival: None,
    };
    let last_free_day = match decide(policy, given, on(d(2026, 12, 1), mark())) {
        Err(ParcelError::LimitNotReached { last_free_day }) => last_free_day,
        other => panic!("a held parcel is on the storage clock (STO-1): {other:?}"),
    };
    decide(policy, given, on(last_free_day.succ_opt().unwrap(), mark())).unwrap()
}

// rule PAY-2: an unpaid shipment's parcels may be disposed of under STO-2 only: held, but
// within the maximum storage, the parcel is not disposed of.
#[test]
fn pay_2_unpaid_disposal_respects_the_storage_limit() {
    for policy in [jp(), cn()] {
        let events = held_parcel(&policy, false);
        assert_refused(
            decide(
                &policy,
                &events,
                on(
                    d(2026, 12, 1),
                    ParcelCommand::Dispose {
                        cause: DisposalCause::Unpaid {
                            shipment: held("s-1"),
                        },
                    },
                ),
            ),
            ParcelError::UnpaidBeforeStorageLimit,
            "disposal.unpaid_before_storage_limit",
            Some(Rule::Pay2),
        );
    }
}

// rule PAY-2: paying the held shipment releases the hold: each parcel goes back to the state it
// was held from, packed or reserved, and is no longer disposable for non-payment.
#[test]
fn pay_2_paying_a_held_shipment_releases_its_parcels() {
    let policy = jp();
    for (reserved_only, restored, status) in [
        (
            false,
            HeldFrom::Packed,
            ParcelStatus::Packed {
                shipment_id: shipment("s-1"),
            },
        ),
        (
            true,
            HeldFrom::Reserved,
            ParcelStatus::Reserved {
                shipment_id: shipment("s-1"),
            },
        ),
    ] {
        let events = held_parcel(&policy, reserved_only);
        let release = |id| ParcelCommand::ReleaseHold {
            shipment_id: shipment(id),
        };
        let released = decide(&policy, &events, on(d(2026, 12, 2), release("s-1"))).unwrap();
        assert_eq!(
            released,
            vec![ParcelEvent::HoldReleased {
                shipment_id: shipment("s-1"),
                restored,
                released_on: d(2026, 12, 2),
                rule: Rule::Pay2,
            }]
        );
        let mut after = events.clone();
        after.extend(released);
        assert_eq!(*state(&after).status(), status);
        // Not held any more: unpaid disposal and a second release are refused.
        assert_refused(
            decide(
                &policy,
                &after,
                on(
                    d(2026, 12, 2),
                    ParcelCommand::Dispose {
                        cause: DisposalCause::Unpaid {
                            shipment: held("s-1"),
                        },
                    },
                ),
            ),
            ParcelError::ShipmentNotHeld,
            "disposal.shipment_not_held",
            Some(Rule::Pay2),
        );
        assert!(decide(&policy, &after, on(d(2026, 12, 2), release("s-1"))).is_err());
        // Another shipment cannot release it.
        assert!(matches!(
            decide(&policy, &events, on(d(2026, 12, 2), release("s-2"))),
            Err(ParcelError::OtherShipment { .. })
        ));
    }
}

// ---- DSP-1, MEM-8

fn withdrawing() -> ParcelCommand {
    ParcelCommand::Dispose {
        cause: DisposalCause::LeftAtWithdrawal {
            member: standing(StandingStatus::Withdrawing, false),
        },
    }
}

// rule DSP-1: left behind at withdrawal: destroyed at the per-item fee (MEM-8: 5 CNY per item
// under cn-agency; the jp-forwarding amount is example configuration), recorded for the account.
#[test]
fn dsp_1_left_at_withdrawal_is_charged_per_item() {
    for (policy, per_item, total) in [
        (cn(), Money::cny(dec!(5)), Money::cny(dec!(10))),
        (jp(), Money::jpy(100), Money::jpy(200)),
    ] {
        framework(policy.clone())
            .given(stored_on(&policy, day()))
            .when(on(day(), withdrawing()))
            .then_expect_events(vec![ParcelEvent::Disposed {
                member_id: Some(member_id()),
                cause: DisposedBecause::LeftAtWithdrawal {
                    items: 2,
                    fee_per_item: per_item,
                },
                fee: total,
                rule: Rule::Mem8,
                policy: policy.version(),
            }]);
    }
}

// rule DSP-1: a parcel arriving after the withdrawal request is destroyed too; items count from
// the inspection, else the declaration, else the box itself (MEM-8).
#[test]
fn dsp_1_item_count_for_withdrawal_disposal() {
    let policy = cn();
    let received = history(&policy, vec![on(day(), ParcelCommand::Arrive(arrival()))]);
    assert_eq!(state(&received).item_count(), 1);
    let declared = then(&policy, received.clone(), vec![declare(3)]);
    assert_eq!(state(&declared).item_count(), 3);
    let inspected = then(&policy, declared, vec![inspect_quantity(4)]);
    assert_eq!(state(&inspected).item_count(), 4);
    let events = decide(&policy, &received, on(day(), withdrawing())).unwrap();
    assert!(
        matches!(&events[..], [ParcelEvent::Disposed { fee, .. }] if *fee == Money::cny(dec!(5)))
    );
}

// rule DSP-1: each cause needs its precondition.
#[test]
fn dsp_1_disposal_cause_needs_its_precondition() {
    let policy = cn();
    let given = stored_on(&policy, day());
    assert_refused(
        decide(
            &policy,
            &given,
            on(
                day(),
                ParcelCommand::Dispose {
                    cause: DisposalCause::LeftAtWithdrawal { member: verified() },
                },
            ),
        ),
        ParcelError::MemberNotWithdrawing,
        "disposal.member_not_withdrawing",
        Some(Rule::Dsp1),
    );
    assert_refused(
        decide(
            &policy,
            &given,
            on(
                day(),
                ParcelCommand::Dispose {
                    cause: DisposalCause::Prohibited,
                },
            ),
        ),
        ParcelError::NotQuarantined,
        "disposal.not_quarantined",
        Some(Rule::Dsp1),
    );
    assert_refused(
        decide(
            &policy,
            &given,
            on(
                d(2027, 1, 1),
                ParcelCommand::Dispose {
                    cause: DisposalCause::PastMaxStorage,
                },
            ),
        ),
        ParcelError::NotDisposable,
        "disposal.not_disposable",
        Some(Rule::Dsp1),
    );
    let mut stranger = standing(StandingStatus::Withdrawing, false);
    stranger.member_id = MemberId::parse("m-9999").unwrap();
    assert!(matches!(
        decide(
            &policy,
            &given,
            on(
                day(),
                ParcelCommand::Dispose {
                    cause: DisposalCause::LeftAtWithdrawal { member: stranger }
                }
            )
        ),
        Err(ParcelError::OtherMember { .. })
    ));
    // Disposed is final.
    let disposed = then(&policy, given, vec![withdrawing()]);
    assert_eq!(state(&disposed).status(), &ParcelStatus::Disposed);
    assert_refused(
        decide(&policy, &disposed, on(day(), withdrawing())),
        ParcelError::InvalidState {
            command: "dispose",
            status: "disposed",
        },
        "parcel.invalid_state",
        None,
    );
}
