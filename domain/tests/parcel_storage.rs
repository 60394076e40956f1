//! Parcel storage: the clock's anchor (STO-1), the maximum and its notices (STO-2), paid
//! extended storage (STO-3) and the storage-status view's helper (STO-4).

mod parcel_support;

use chrono::NaiveDate;
use domain::calendar::add_days;
use domain::money::Money;
use domain::parcel::storage::{
    extended_month_end, extended_months_started, extended_storage_fee, storage_anchor,
    storage_units,
};
use domain::parcel::{
    storage_status, DisposalCause, DisposedBecause, ParcelCommand, ParcelError, ParcelEvent,
    ParcelStatus, ShipmentHeld, StorageStatus, StoredBox,
};
use domain::policy::{StorageAnchor, StorageLimit};
use domain::{Policy, Rule};
use parcel_support::*;
use proptest::prelude::*;
use rust_decimal_macros::dec;

fn mark(earliest: Option<NaiveDate>) -> ParcelCommand {
    ParcelCommand::MarkDisposable {
        earliest_waiting_arrival: earliest,
    }
}

fn notice() -> ParcelCommand {
    ParcelCommand::SendStorageNotice {
        earliest_waiting_arrival: None,
    }
}

// ---- STO-1

// rule STO-1: jp-forwarding counts from the member's earliest waiting arrival: a later parcel does not extend it.
#[test]
fn sto_1_first_waiting_arrival_anchors_later_parcels_jp() {
    let policy = jp();
    let given = stored_on(&policy, d(2026, 11, 10));
    let earliest = Some(d(2026, 11, 2));
    framework(policy.clone())
        .given(given.clone())
        .when(on(d(2026, 11, 24), mark(earliest)))
        .then_expect_events(vec![ParcelEvent::MarkedDisposable {
            anchor_rule: StorageAnchor::FirstWaitingArrival,
            anchor: d(2026, 11, 2),
            last_free_day: d(2026, 11, 23),
            disposable_on: d(2026, 11, 24),
            rule: Rule::Sto2,
            policy: policy.version(),
        }]);
    // Without an earlier waiting parcel its own arrival anchors the clock.
    assert_refused(
        decide(&policy, &given, on(d(2026, 11, 24), mark(None))),
        ParcelError::LimitNotReached {
            last_free_day: d(2026, 12, 1),
        },
        "storage.limit_not_reached",
        Some(Rule::Sto2),
    );
}

// rule STO-1: cn-agency counts each parcel from its own arrival (POL-2).
#[test]
fn sto_1_per_parcel_anchor_ignores_earlier_parcels_cn() {
    let policy = cn();
    let given = stored_on(&policy, d(2026, 11, 10));
    assert_refused(
        decide(
            &policy,
            &given,
            on(d(2026, 12, 10), mark(Some(d(2026, 11, 2)))),
        ),
        ParcelError::LimitNotReached {
            last_free_day: d(2026, 12, 10),
        },
        "storage.limit_not_reached",
        Some(Rule::Sto2),
    );
    let events = decide(
        &policy,
        &given,
        on(d(2026, 12, 11), mark(Some(d(2026, 11, 2)))),
    )
    .unwrap();
    assert!(matches!(
        &events[..],
        [ParcelEvent::MarkedDisposable { anchor_rule: StorageAnchor::PerParcel, anchor, .. }] if *anchor == d(2026, 11, 10)
    ));
}

// rule STO-1: a "waiting" date after the parcel's own arrival never moves the anchor later.
#[test]
fn sto_1_anchor_is_never_later_than_own_arrival() {
    let own = d(2026, 11, 10);
    assert_eq!(
        storage_anchor(
            own,
            Some(d(2026, 11, 12)),
            StorageAnchor::FirstWaitingArrival
        ),
        own
    );
    assert_eq!(
        storage_anchor(
            own,
            Some(d(2026, 11, 2)),
            StorageAnchor::FirstWaitingArrival
        ),
        d(2026, 11, 2)
    );
    assert_eq!(
        storage_anchor(own, Some(d(2026, 11, 2)), StorageAnchor::PerParcel),
        own
    );
    assert_eq!(
        storage_anchor(own, None, StorageAnchor::FirstWaitingArrival),
        own
    );
}

/// A cn-agency parcel received on `received`, consolidated into shipment s-1, packed, and held
/// when the quote went unpaid (PAY-2).
fn held_in_unpaid_shipment(policy: &Policy, received: NaiveDate) -> Vec<ParcelEvent> {
    let mut events = stored_on(policy, received);
    for command in [
        ParcelCommand::ReserveForConsolidation {
            shipment_id: shipment("s-1"),
            member: verified(),
        },
        ParcelCommand::Pack {
            shipment_id: shipment("s-1"),
        },
        ParcelCommand::HoldForNonPayment {
            shipment: ShipmentHeld {
                shipment_id: shipment("s-1"),
                quote_due_on: add_days(received, 8),
            },
        },
    ] {
        let more = decide(policy, &events, on(add_days(received, 9), command)).unwrap();
        events.extend(more);
    }
    events
}

// rule STO-1 (with STO-2, PAY-2): parcels reserved, packed or held stay on the storage clock: a
// shipment stuck unpaid reaches its limit, its parcels get their notices and become disposable.
#[test]
fn sto_1_parcel_of_a_held_shipment_stays_on_the_clock() {
    let policy = cn();
    let received = d(2026, 11, 2);
    let held = held_in_unpaid_shipment(&policy, received);
    assert!(matches!(state(&held).status(), ParcelStatus::Held { .. }));
    // 1 month from 2 Nov: 2 Dec is the last free day; the 1-day notice goes out on 1 Dec.
    let notices = decide(
        &policy,
        &held,
        on(
            d(2026, 12, 1),
            ParcelCommand::SendStorageNotice {
                earliest_waiting_arrival: None,
            },
        ),
    )
    .unwrap();
    assert!(matches!(
        &notices[..],
        [ParcelEvent::StorageNoticeSent { last_free_day, days_before: 1, .. }] if *last_free_day == d(2026, 12, 2)
    ));
    assert_refused(
        decide(&policy, &held, on(d(2026, 12, 2), mark(None))),
        ParcelError::LimitNotReached {
            last_free_day: d(2026, 12, 2),
        },
        "storage.limit_not_reached",
        Some(Rule::Sto2),
    );
    let marked = decide(&policy, &held, on(d(2026, 12, 3), mark(None))).unwrap();
    assert!(matches!(
        &marked[..],
        [ParcelEvent::MarkedDisposable { anchor, last_free_day, .. }]
            if *anchor == received && *last_free_day == d(2026, 12, 2)
    ));
}

// rule STO-1: a consolidated shipment keeps the earliest arrival of its parcels, under either
// anchor: a later parcel in it runs out with the earliest one (cn-agency counts a waiting
// parcel from its own arrival only).
#[test]
fn sto_1_consolidated_shipment_runs_from_its_earliest_arrival() {
    let policy = cn();
    let held = held_in_unpaid_shipment(&policy, d(2026, 11, 10));
    let shipment_earliest = Some(d(2026, 11, 2));
    let marked = decide(&policy, &held, on(d(2026, 12, 3), mark(shipment_earliest))).unwrap();
    assert!(matches!(
        &marked[..],
        [ParcelEvent::MarkedDisposable { anchor, last_free_day, .. }]
            if *anchor == d(2026, 11, 2) && *last_free_day == d(2026, 12, 2)
    ));
    // The view's helper agrees.
    let parcel = state(&held).stored_box().unwrap();
    assert!(parcel.in_shipment);
    let status = storage_status(&parcel, d(2026, 12, 3), shipment_earliest, &policy);
    assert_eq!((status.anchor, status.disposable), (d(2026, 11, 2), true));
    // A waiting cn-agency parcel still counts from its own arrival.
    let waiting = StoredBox {
        in_shipment: false,
        ..parcel
    };
    assert_eq!(
        storage_status(&waiting, d(2026, 12, 3), shipment_earliest, &policy).anchor,
        d(2026, 11, 10)
    );
}

// ---- STO-2

// rule STO-2 (TIM-1): jp-forwarding: received 2 Nov, the arrival day is not counted; day 21
// after it (23 Nov) is free, day 22 (24 Nov) is past the limit.
#[test]
fn sto_2_day_21_after_arrival_is_free_day_22_is_disposable_jp() {
    let policy = jp();
    let given = stored_on(&policy, d(2026, 11, 2));
    for day in [d(2026, 11, 22), d(2026, 11, 23)] {
        assert_refused(
            decide(&policy, &given, on(day, mark(None))),
            ParcelError::LimitNotReached {
                last_free_day: d(2026, 11, 23),
            },
            "storage.limit_not_reached",
            Some(Rule::Sto2),
        );
    }
    let events = decide(&policy, &given, on(d(2026, 11, 24), mark(None))).unwrap();
    assert!(
        matches!(&events[..], [ParcelEvent::MarkedDisposable { last_free_day, .. }] if *last_free_day == d(2026, 11, 23))
    );
    let mut all = given;
    all.extend(events);
    assert_refused(
        decide(&policy, &all, on(d(2026, 11, 25), mark(None))),
        ParcelError::AlreadyDisposable,
        "storage.already_disposable",
        Some(Rule::Sto2),
    );
}

// rule TIM-1: one convention for every period, days and months alike: the day of the event is
// not counted, so a window of N days from day D ends at the end of D + N (day N is inside,
// day N + 1 is not), and a month from 15 January ends at the end of 15 February. Storage (STO-2,
// both profiles), claims (CLM-2), the warranty add-on (FEE-2), the proxy-payment wait (PAR-2),
// the top-up filing window (ACC-2) and the quote's due date (PAY-2) all count so.
#[test]
fn tim_1_every_window_ends_n_days_or_months_after_the_day_of_its_event() {
    use domain::account::top_up_filing_deadline;
    use domain::parcel::intake::proxy_cancellable_from;
    use domain::shipment::claim::{claim_window_last_day, warranty_claim_last_day};
    use domain::shipment::pricing::quote_due_on;
    let (jp, cn) = (jp(), cn());
    let event = d(2026, 11, 1);
    // (window, its last day, the rule's length in days from the policy, if a day window)
    let day_windows = [
        (
            "STO-2 jp",
            jp.storage.max_storage.last_day(event),
            match jp.storage.max_storage {
                StorageLimit::Days(n) => n,
                StorageLimit::Months(_) => unreachable!("jp-forwarding counts days"),
            },
        ),
        (
            "CLM-2",
            claim_window_last_day(event, jp.claims.window_days),
            jp.claims.window_days,
        ),
        (
            "FEE-2",
            warranty_claim_last_day(event, event, jp.fees.warranty.as_ref().unwrap().claim_days),
            jp.fees.warranty.as_ref().unwrap().claim_days,
        ),
        (
            "PAY-2",
            quote_due_on(event, &jp.payment),
            jp.payment.quote_due_days,
        ),
    ];
    for (window, last_day, n) in day_windows {
        assert_eq!(last_day, add_days(event, n), "{window}: day {n} is inside");
        assert!(
            add_days(event, n + 1) > last_day,
            "{window}: day {n} + 1 is past"
        );
    }
    // 21 days from an arrival on the 1st end at the end of the 22nd.
    assert_eq!(jp.storage.max_storage.last_day(event), d(2026, 11, 22));
    // PAR-2: "within 45 days of the purchase": day 45 still waits, day 46 cancels.
    let proxy = jp.intake.proxy_payment.as_ref().unwrap();
    assert_eq!(
        proxy_cancellable_from(event, proxy),
        add_days(event, proxy.cancel_after_days + 1)
    );
    // Month windows: a month from 15 January ends on 15 February (STO-2 cn, ACC-2).
    assert_eq!(
        cn.storage.max_storage.last_day(d(2026, 1, 15)),
        d(2026, 2, 15)
    );
    assert_eq!(top_up_filing_deadline(d(2026, 1, 15), 1), d(2026, 2, 15));
}

// rule STO-2: cn-agency: one calendar month; received 31 Jan, 28 Feb is the last free day, 1 Mar is past.
#[test]
fn sto_2_one_calendar_month_from_jan_31_cn() {
    let policy = cn();
    let given = stored_on(&policy, d(2026, 1, 31));
    assert_refused(
        decide(&policy, &given, on(d(2026, 2, 28), mark(None))),
        ParcelError::LimitNotReached {
            last_free_day: d(2026, 2, 28),
        },
        "storage.limit_not_reached",
        Some(Rule::Sto2),
    );
    assert!(decide(&policy, &given, on(d(2026, 3, 1), mark(None))).is_ok());
}

// rule STO-2: past the limit the parcel is not disposed of without the recorded decision; with it,
// the disposal records the cause and the per-parcel fee (500 JPY / 5 CNY, POL-2).
#[test]
fn sto_2_disposal_needs_the_recorded_decision() {
    for (policy, fee) in [(jp(), Money::jpy(500)), (cn(), Money::cny(dec!(5)))] {
        let received = d(2026, 3, 2);
        let given = stored_on(&policy, received);
        let dispose = || ParcelCommand::Dispose {
            cause: DisposalCause::PastMaxStorage,
        };
        assert_refused(
            decide(&policy, &given, on(d(2026, 6, 1), dispose())),
            ParcelError::NotDisposable,
            "disposal.not_disposable",
            Some(Rule::Dsp1),
        );
        let mut all = given;
        all.extend(decide(&policy, &all, on(d(2026, 6, 1), mark(None))).unwrap());
        let last_free_day = policy.storage.max_storage.last_day(received);
        framework(policy.clone())
            .given(all)
            .when(on(d(2026, 6, 2), dispose()))
            .then_expect_events(vec![ParcelEvent::Disposed {
                member_id: Some(member_id()),
                cause: DisposedBecause::PastMaxStorage {
                    last_free_day,
                    disposable_on: d(2026, 6, 1),
                },
                fee,
                rule: Rule::Sto2,
                policy: policy.version(),
            }]);
    }
}

fn sent(policy: &Policy, given: &[ParcelEvent], day: NaiveDate) -> Vec<ParcelEvent> {
    decide(policy, given, on(day, notice())).unwrap()
}

// rule STO-2: notices go out 7, 3 and 1 days before the last free day (policy), each once.
#[test]
fn sto_2_notices_go_out_before_the_limit() {
    let policy = jp();
    let mut events = stored_on(&policy, d(2026, 11, 2)); // last free day 23 Nov
    assert_refused(
        decide(&policy, &events, on(d(2026, 11, 15), notice())),
        ParcelError::NoticeNotDue {
            next_notice_on: Some(d(2026, 11, 16)),
        },
        "storage.notice_not_due",
        Some(Rule::Sto2),
    );
    let first = sent(&policy, &events, d(2026, 11, 16));
    assert_eq!(
        first,
        vec![ParcelEvent::StorageNoticeSent {
            member_id: member_id(),
            days_before: 7,
            last_free_day: d(2026, 11, 23),
            sent_on: d(2026, 11, 16),
            policy: policy.version(),
        }]
    );
    events.extend(first);
    assert_refused(
        decide(&policy, &events, on(d(2026, 11, 16), notice())),
        ParcelError::NoticeNotDue {
            next_notice_on: Some(d(2026, 11, 20)),
        },
        "storage.notice_not_due",
        Some(Rule::Sto2),
    );
    for (day, days_before) in [(d(2026, 11, 20), 3), (d(2026, 11, 22), 1)] {
        let next = sent(&policy, &events, day);
        assert!(
            matches!(&next[..], [ParcelEvent::StorageNoticeSent { days_before: b, .. }] if *b == days_before)
        );
        events.extend(next);
    }
    assert!(decide(&policy, &events, on(d(2026, 11, 23), notice())).is_err());
    assert!(decide(&policy, &events, on(d(2026, 11, 24), notice())).is_err());
}

// rule STO-2: a missed notice day is caught up with the most urgent notice due.
#[test]
fn sto_2_missed_notice_is_caught_up() {
    let policy = jp();
    let events = stored_on(&policy, d(2026, 11, 2));
    let late = sent(&policy, &events, d(2026, 11, 17));
    assert!(matches!(
        &late[..],
        [ParcelEvent::StorageNoticeSent { days_before: 7, .. }]
    ));
    let later = sent(&policy, &events, d(2026, 11, 20));
    assert!(matches!(
        &later[..],
        [ParcelEvent::StorageNoticeSent { days_before: 3, .. }]
    ));
}

// ---- STO-3

/// 600×600×500 mm = 180,000,000 mm³ = 1.2 units of 50×60×50 cm: 2 units.
fn big_box(policy: &Policy, received: NaiveDate) -> Vec<ParcelEvent> {
    let mut a = arrival();
    a.dimensions = dims(600, 600, 500);
    history(policy, vec![on(received, ParcelCommand::Arrive(a))])
}

const EXTEND: ParcelCommand = ParcelCommand::ExtendStorage {
    earliest_waiting_arrival: None,
};

// rule STO-3: cn-agency extended storage: 60 CNY per 50×60×50 cm unit per started month, units
// rounded up, each month accrued once.
#[test]
fn sto_3_extended_storage_accrues_per_unit_and_started_month_once() {
    let policy = cn();
    let mut events = big_box(&policy, d(2026, 1, 31));
    let extended = decide(&policy, &events, on(d(2026, 2, 20), EXTEND)).unwrap();
    assert_eq!(
        extended,
        vec![ParcelEvent::StorageExtended {
            anchor: d(2026, 1, 31),
            max_storage: StorageLimit::Months(1),
            last_free_day: d(2026, 2, 28),
            units: 2,
            fee_per_unit_month: Money::cny(dec!(60)),
            policy: policy.version(),
        }]
    );
    events.extend(extended);
    assert_eq!(
        decide(
            &policy,
            &events,
            on(d(2026, 2, 28), ParcelCommand::AccrueStorageFee)
        )
        .unwrap(),
        vec![]
    );
    let accrued = |month, start, end| ParcelEvent::StorageFeeAccrued {
        month,
        period_start: start,
        period_end: end,
        units: 2,
        fee: Money::cny(dec!(120)),
        rule: Rule::Sto3,
        policy: policy.version(),
    };
    let march = decide(
        &policy,
        &events,
        on(d(2026, 3, 1), ParcelCommand::AccrueStorageFee),
    )
    .unwrap();
    assert_eq!(march, vec![accrued(1, d(2026, 3, 1), d(2026, 3, 31))]);
    events.extend(march);
    // Never the same month twice.
    assert_eq!(
        decide(
            &policy,
            &events,
            on(d(2026, 3, 31), ParcelCommand::AccrueStorageFee)
        )
        .unwrap(),
        vec![]
    );
    // A missed run catches up, month by month.
    framework(policy.clone())
        .given(events)
        .when(on(d(2026, 5, 1), ParcelCommand::AccrueStorageFee))
        .then_expect_events(vec![
            accrued(2, d(2026, 4, 1), d(2026, 4, 30)),
            accrued(3, d(2026, 5, 1), d(2026, 5, 31)),
        ]);
}

// rule STO-3: extended storage is a cn-agency offer, agreed before the free storage ends; a parcel
// on it is not disposable, and without it nothing accrues (POL-2).
#[test]
fn sto_3_extension_conditions() {
    let jp_policy = jp();
    assert_refused(
        decide(
            &jp_policy,
            &big_box(&jp_policy, d(2026, 11, 2)),
            on(d(2026, 11, 5), EXTEND),
        ),
        ParcelError::ExtensionUnavailable,
        "storage.extension_unavailable",
        Some(Rule::Sto3),
    );
    let policy = cn();
    let given = big_box(&policy, d(2026, 1, 31));
    assert_refused(
        decide(&policy, &given, on(d(2026, 3, 1), EXTEND)),
        ParcelError::ExtensionTooLate {
            last_free_day: d(2026, 2, 28),
        },
        "storage.extension_too_late",
        Some(Rule::Sto3),
    );
    assert_refused(
        decide(
            &policy,
            &given,
            on(d(2026, 3, 1), ParcelCommand::AccrueStorageFee),
        ),
        ParcelError::NotExtended,
        "storage.not_extended",
        Some(Rule::Sto3),
    );
    let mut extended = given;
    extended.extend(decide(&policy, &extended, on(d(2026, 2, 28), EXTEND)).unwrap());
    assert_refused(
        decide(&policy, &extended, on(d(2026, 2, 28), EXTEND)),
        ParcelError::AlreadyExtended,
        "storage.already_extended",
        Some(Rule::Sto3),
    );
    assert_refused(
        decide(&policy, &extended, on(d(2026, 4, 1), mark(None))),
        ParcelError::OnPaidStorage,
        "storage.on_paid_extension",
        Some(Rule::Sto3),
    );
}

// rule STO-3: the unit count rounds up: exactly one unit is 1, a cubic millimetre more is 2.
#[test]
fn sto_3_units_round_up() {
    let unit = [500, 600, 500];
    assert_eq!(storage_units(dims(500, 600, 500), unit), 1);
    assert_eq!(storage_units(dims(500, 600, 501), unit), 2);
    assert_eq!(storage_units(dims(10, 10, 10), unit), 1);
    assert_eq!(storage_units(dims(1_000, 1_200, 1_000), unit), 8);
}

proptest! {
    // rule STO-3: units are the smallest whole number covering the volume.
    #[test]
    fn sto_3_units_cover_the_volume(l in 1u32..3_000, w in 1u32..3_000, h in 1u32..3_000) {
        let units = storage_units(dims(l, w, h), [500, 600, 500]);
        let volume = u64::from(l) * u64::from(w) * u64::from(h);
        let unit = 500u64 * 600 * 500;
        prop_assert!(units >= 1);
        prop_assert!(units * unit >= volume);
        prop_assert!(units == 1 || (units - 1) * unit < volume);
    }

    // rule STO-3: started months count whole: today lies inside the last started month.
    #[test]
    fn sto_3_started_months_contain_today(anchor_offset in 0u32..1_500, after in 0u32..800, monthly in any::<bool>()) {
        let anchor = add_days(d(2024, 1, 1), anchor_offset);
        let today = add_days(anchor, after);
        let limit = if monthly { StorageLimit::Months(1) } else { StorageLimit::Days(21) };
        let months = extended_months_started(anchor, limit, today);
        if months == 0 {
            prop_assert!(today <= extended_month_end(anchor, limit, 0));
        } else {
            prop_assert!(extended_month_end(anchor, limit, months - 1) < today);
            prop_assert!(today <= extended_month_end(anchor, limit, months));
        }
    }

    // rule STO-3: the fee is exactly 60 CNY × units × months.
    #[test]
    fn sto_3_fee_is_units_times_months(units in 1u64..50, months in 0u32..36) {
        let policy = cn();
        let ext = policy.storage.extended.as_ref().unwrap();
        let fee = extended_storage_fee(units, months, ext);
        prop_assert_eq!(fee, Money::cny(dec!(60) * rust_decimal::Decimal::from(units) * rust_decimal::Decimal::from(months)));
    }
}

// ---- STO-4

// rule STO-4: the storage status shows days stored, the last free day, days left, the next notice.
#[test]
fn sto_4_storage_status_jp() {
    let policy = jp();
    let parcel = state(&stored_on(&policy, d(2026, 11, 2)))
        .stored_box()
        .unwrap();
    let status = |day| storage_status(&parcel, day, None, &policy);
    assert_eq!(
        status(d(2026, 11, 16)),
        StorageStatus {
            anchor: d(2026, 11, 2),
            days_stored: 15,
            last_free_day: d(2026, 11, 23),
            days_left: 8,
            disposable: false,
            next_notice_on: Some(d(2026, 11, 16)),
            extended_months: 0,
            fee_accrued: Money::jpy(0),
        }
    );
    // Days stored count the receiving day as the first in the warehouse (a count, not a
    // period): on day 21 after the arrival the parcel has been in for 22 days.
    let day_21 = status(d(2026, 11, 23));
    assert_eq!(
        (day_21.days_stored, day_21.days_left, day_21.disposable),
        (22, 1, false)
    );
    let day_22 = status(d(2026, 11, 24));
    assert_eq!(
        (
            day_22.days_stored,
            day_22.days_left,
            day_22.disposable,
            day_22.next_notice_on
        ),
        (23, 0, true, None)
    );
    // A member's earlier waiting parcel brings the limit forward (STO-1).
    let later = StoredBox {
        received_on: d(2026, 11, 10),
        ..parcel
    };
    assert!(storage_status(&later, d(2026, 11, 24), Some(d(2026, 11, 2)), &policy).disposable);
    assert!(!storage_status(&later, d(2026, 11, 24), None, &policy).disposable);
}

// rule STO-4: on extended storage (cn-agency) the fee so far is shown, never "disposable", and it
// equals the sum of the accrued events whatever the day.
#[test]
fn sto_4_storage_status_fee_matches_accrued_events_cn() {
    let policy = cn();
    let mut events = big_box(&policy, d(2026, 1, 31));
    events.extend(decide(&policy, &events, on(d(2026, 2, 1), EXTEND)).unwrap());
    let mut accrued = Money::cny(dec!(0));
    let mut day = d(2026, 2, 1);
    while day <= d(2026, 12, 31) {
        let new = decide(&policy, &events, on(day, ParcelCommand::AccrueStorageFee)).unwrap();
        for e in &new {
            let ParcelEvent::StorageFeeAccrued { fee, .. } = e else {
                panic!("{e:?}")
            };
            accrued = accrued.checked_add(*fee).unwrap();
        }
        events.extend(new);
        let status = storage_status(&state(&events).stored_box().unwrap(), day, None, &policy);
        assert_eq!(status.fee_accrued, accrued, "on {day}");
        assert!(!status.disposable);
        day = add_days(day, 1);
    }
    // 1 Mar to 31 Dec: 10 started months × 2 units × 60 CNY.
    assert_eq!(accrued, Money::cny(dec!(1200)));
}
