//! Poison events and holes: an event the reducer refuses, or one that comes after a missing
//! one, is parked with its error; the aggregate's later events wait behind it; the projector
//! goes on with everything else; a replay through the fixed reducer (or once the missing event
//! is there) applies them, once.

use crate::support::{Backend, Buggy, TestDb, VecFeed};
use domain::Policy;
use projection_runtime::{parked, EventEnvelope};
use projections::billing::{self, Billing};
use projections::storage_status::StorageStatus;
use std::collections::{BTreeMap, BTreeSet};

fn late_interest(event: &EventEnvelope) -> bool {
    event.event_type == "account.late_interest_accrued"
}

async fn a_poison_event_is_parked_the_projector_goes_on_and_a_fixed_reducer_applies_it_once(
    backend: Backend,
) {
    let db = TestDb::create_on(backend).await;
    let sim = db.append(31, 3_000, Policy::jp_forwarding()).await;
    let events = db.all_events().await;
    let poison: Vec<&EventEnvelope> = events.iter().filter(|e| late_interest(e)).collect();
    assert!(!poison.is_empty(), "the history accrues late interest");
    let bad_accounts: BTreeSet<&str> = poison.iter().map(|e| e.aggregate_id.as_str()).collect();

    // The buggy reducer parks each late-interest event, and every later event of its account.
    let buggy = Buggy {
        inner: Billing,
        refuse: late_interest,
    };
    let outcome = db
        .projector(buggy, VecFeed::new(events.clone()), 200)
        .catch_up()
        .await
        .unwrap();
    let behind: Vec<&EventEnvelope> = events
        .iter()
        .filter(|e| {
            poison.iter().any(|p| {
                p.aggregate_id == e.aggregate_id
                    && p.aggregate_type == e.aggregate_type
                    && e.sequence > p.sequence
            }) && !late_interest(e)
        })
        .collect();
    let first_poison_per_account: BTreeMap<&str, i64> =
        poison.iter().fold(BTreeMap::new(), |mut first, p| {
            first.entry(p.aggregate_id.as_str()).or_insert(p.sequence);
            first
        });
    let expected_parked = events
        .iter()
        .filter(|e| {
            first_poison_per_account
                .get(e.aggregate_id.as_str())
                .is_some_and(|&first| e.aggregate_type == "account" && e.sequence >= first)
        })
        .count();
    assert_eq!(outcome.parked, expected_parked);
    assert!(expected_parked >= poison.len() && expected_parked <= poison.len() + behind.len());
    let waiting = parked::list(&db.views, &Billing, false).await.unwrap();
    assert_eq!(waiting.len(), expected_parked);
    for p in &waiting {
        assert!(bad_accounts.contains(p.event.aggregate_id.as_str()));
        match p.reason.as_str() {
            "poison" => assert!(p.error.contains("bug: cannot handle"), "{}", p.error),
            "blocked" => assert!(p.error.contains("waits behind"), "{}", p.error),
            other => panic!("unexpected reason {other}"),
        }
        assert_eq!(p.attempts, 1);
    }
    // The projector went on: every other account is complete and right.
    for (account_id, balance) in sim.balances() {
        if bad_accounts.contains(account_id.as_str()) {
            continue;
        }
        let statement = billing::account(&db.views, account_id.as_str())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(statement.account.balance, balance.amount, "{account_id}");
    }

    // Replaying through the same bug changes nothing but the attempts.
    let again = parked::replay(&db.views, &buggy).await.unwrap();
    assert_eq!(again.applied, 0);
    assert_eq!(again.still_parked, expected_parked);

    // The fix: the plain reducer replays every parked event, in order, once.
    let replayed = parked::replay(&db.views, &Billing).await.unwrap();
    assert_eq!(replayed.applied, expected_parked);
    assert_eq!(replayed.still_parked, 0);
    assert!(parked::list(&db.views, &Billing, false)
        .await
        .unwrap()
        .is_empty());
    let all = parked::list(&db.views, &Billing, true).await.unwrap();
    assert!(all.iter().all(|p| p.replayed_at.is_some()));
    assert!(all
        .iter()
        .filter(|p| p.reason == "poison")
        .all(|p| p.attempts == 2));
    for (account_id, balance) in sim.balances() {
        let statement = billing::account(&db.views, account_id.as_str())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            statement.account.balance, balance.amount,
            "{account_id} after replay"
        );
    }
    let fixed = db.hash(&Billing).await;

    // Once: a second replay and a full redelivery change nothing.
    let twice = parked::replay(&db.views, &Billing).await.unwrap();
    assert_eq!((twice.applied, twice.still_parked), (0, 0));
    let redelivered = db
        .projector(Billing, VecFeed::new(events.clone()), 500)
        .catch_up()
        .await
        .unwrap();
    assert_eq!(redelivered.applied, 0);
    assert_eq!(redelivered.parked, 0);
    assert_eq!(db.hash(&Billing).await, fixed);
    assert_eq!(
        db.rebuild(Billing).await,
        fixed,
        "replayed view = rebuilt view"
    );
}

async fn a_hole_parks_the_aggregate_until_the_missing_event_arrives_and_is_replayed(
    backend: Backend,
) {
    let db = TestDb::create_on(backend).await;
    db.append(32, 1_500, Policy::jp_forwarding()).await;
    let events = db.all_events().await;
    // A parcel with at least four events loses its second on the way.
    let mut per_parcel: BTreeMap<&str, usize> = BTreeMap::new();
    for e in events.iter().filter(|e| e.aggregate_type == "parcel") {
        *per_parcel.entry(&e.aggregate_id).or_default() += 1;
    }
    let (victim, count) = per_parcel
        .iter()
        .find(|(_, &n)| n >= 4)
        .map(|(id, n)| ((*id).to_owned(), *n))
        .expect("a parcel with four events");
    let is_victim = |e: &EventEnvelope| e.aggregate_type == "parcel" && e.aggregate_id == victim;
    let missing = events
        .iter()
        .find(|e| is_victim(e) && e.sequence == 2)
        .cloned()
        .unwrap();
    let delivered: Vec<EventEnvelope> = events
        .iter()
        .filter(|e| e.event_id != missing.event_id)
        .cloned()
        .collect();

    let outcome = db
        .projector(StorageStatus, VecFeed::new(delivered), 300)
        .catch_up()
        .await
        .unwrap();
    assert_eq!(outcome.parked, count - 2, "the events after the hole wait");
    let waiting = parked::list(&db.views, &StorageStatus, false)
        .await
        .unwrap();
    assert_eq!(waiting[0].reason, "gap");
    assert!(
        waiting[0].error.contains("expected 2"),
        "{}",
        waiting[0].error
    );
    assert!(waiting[1..].iter().all(|p| p.reason == "blocked"));

    // The waiting list a page at a time is the whole list, and the count stops at its bound.
    let schema = projection_runtime::catalog::serving(&db.views, "storage_status")
        .await
        .unwrap();
    let mut paged = Vec::new();
    let mut after: Option<parked::ParkedKey> = None;
    loop {
        let page = parked::page_in(&db.views, &schema, "storage_status", after.as_ref(), 2)
            .await
            .unwrap();
        after = page.last().map(|p| {
            let e = &p.event;
            (e.aggregate_type.clone(), e.aggregate_id.clone(), e.sequence)
        });
        let full = page.len() == 2;
        paged.extend(page.into_iter().map(|p| p.event.event_id));
        if !full {
            break;
        }
    }
    let whole: Vec<_> = waiting.iter().map(|p| p.event.event_id).collect();
    assert_eq!(paged, whole);
    let waiting_now = u64::try_from(waiting.len()).unwrap();
    let count_in = |up_to| parked::waiting_count_in(&db.views, &schema, "storage_status", up_to);
    assert_eq!(count_in(100).await.unwrap(), (waiting_now, false));
    assert_eq!(count_in(waiting_now).await.unwrap(), (waiting_now, false));
    assert_eq!(count_in(1).await.unwrap(), (1, true));

    // A replay before the missing event arrives changes nothing.
    let early = parked::replay(&db.views, &StorageStatus).await.unwrap();
    assert_eq!((early.applied, early.still_parked), (0, count - 2));

    // The missing event arrives (a relay re-publishes it): it queues behind, and a replay
    // applies the whole aggregate in order.
    let late = db
        .projector(StorageStatus, VecFeed::new([missing]), 10)
        .catch_up()
        .await
        .unwrap();
    assert_eq!(late.parked, 1);
    let replayed = parked::replay(&db.views, &StorageStatus).await.unwrap();
    assert_eq!((replayed.applied, replayed.still_parked), (count - 1, 0));
    let live = db.hash(&StorageStatus).await;
    assert_eq!(live, db.rebuild(StorageStatus).await);
}

on_each_backend!(
    a_poison_event_is_parked_the_projector_goes_on_and_a_fixed_reducer_applies_it_once,
    a_hole_parks_the_aggregate_until_the_missing_event_arrives_and_is_replayed,
);
