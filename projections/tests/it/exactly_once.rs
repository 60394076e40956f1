//! Exactly once, whatever happens to the projector or its feed: killed at random points and
//! restarted, fed everything twice, fed in a bus's order (per-aggregate order only, with
//! redeliveries), every view ends identical to a rebuild from scratch.

use crate::support::{bus_order, Backend, Flaky, TestDb, VecFeed};
use domain::Policy;
use projection_runtime::{catalog, parked, Projection, StoreFeed};
use projections::audit::Audit;
use projections::billing::Billing;
use projections::storage_status::StorageStatus;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Kills a projector of `projection` at random moments (between batches, inside a batch's
/// transaction, during its commit), again and again until the killed projectors got through
/// the whole stream, while a quarter of the batches also fail inside their transaction after
/// writing; then restarts it cleanly and compares the view with a rebuild from scratch.
async fn killed_and_restarted<P: Projection + Copy>(db: &TestDb, projection: P, seed: u64) {
    let total = db.event_count().await;
    let failures = Arc::new(AtomicUsize::new(0));
    let mut rng = StdRng::seed_from_u64(seed);
    // The instance exists before the first kill: creating it takes longer than most rounds
    // live (a killed creation rolls back and starts over, which proves nothing more).
    let schema = catalog::ensure(&db.views, &projection).await.unwrap();
    let applied = || db.events_applied(&schema, projection.name());
    let mut kills = 0;
    // A round that got nothing committed lives longer next time, so that a loaded machine
    // (where attaching alone can outlast a short round) still makes progress.
    let mut patience = 0;
    let mut progress = applied().await;
    while progress < total && kills < 500 {
        let flaky = Flaky::new(projection, seed * 1_000 + kills, 0.25, failures.clone());
        let feed = StoreFeed::new(db.store.clone())
            .with(rng.random_range(20..1_500), Duration::from_millis(5));
        let projector = db.projector(flaky, feed, rng.random_range(5..200));
        let task = tokio::spawn(projector.run(std::future::pending()));
        let lifetime = rng.random_range(5..60) + patience;
        tokio::time::sleep(Duration::from_millis(lifetime)).await;
        task.abort();
        let ended = task.await;
        assert!(
            ended.is_err_and(|e| e.is_cancelled()),
            "the projector was killed"
        );
        kills += 1;
        let now = applied().await;
        patience = if now > progress {
            0
        } else {
            (patience * 2 + 50).min(5_000)
        };
        progress = now;
    }
    let before = applied().await;
    assert!(
        kills >= 10,
        "{}: killed {kills} times only",
        projection.name()
    );
    assert!(
        failures.load(Ordering::Relaxed) > 0,
        "failures were injected inside transactions"
    );

    let finished = db.catch_up(projection).await;
    eprintln!(
        "{}: {} events, {before} applied by {kills} killed projectors, {} injected failures, \
         {} left for the clean restart",
        projection.name(),
        total,
        failures.load(Ordering::Relaxed),
        finished.applied
    );
    assert_eq!(finished.parked, 0);
    let applied = applied().await;
    let waiting = parked::list(&db.views, &projection, true).await.unwrap();
    assert!(waiting.is_empty(), "nothing parked: {waiting:?}");

    let live = db.hash(&projection).await;
    let rebuilt = db.rebuild(projection).await;
    assert_eq!(
        live,
        rebuilt,
        "{}: killed and restarted = rebuilt",
        projection.name()
    );
    // Every event was applied once: as many as the rebuild applied, counted in the same
    // transactions as the changes.
    let rebuilt_schema = db.serving(&projection).await;
    let rebuilt_applied = db.events_applied(&rebuilt_schema, projection.name()).await;
    assert_eq!(applied, rebuilt_applied);
    assert_eq!(applied, total, "every event counts once");
}

async fn killed_mid_batch_many_times_then_restarted_equals_a_rebuild(backend: Backend) {
    let db = TestDb::create_on(backend).await;
    // Enough history that even the quickest view is killed many times on an idle machine.
    db.append(11, 8_000, Policy::jp_forwarding()).await;
    killed_and_restarted(&db, StorageStatus, 1).await;
    killed_and_restarted(&db, Billing, 2).await;
    killed_and_restarted(&db, Audit, 3).await;
}

/// Feeds the whole stream twice more into a caught-up view.
async fn redelivered_twice<P: Projection + Copy>(db: &TestDb, projection: P) {
    db.catch_up(projection).await;
    let before = db.hash(&projection).await;
    let events = db.all_events().await;
    let twice: Vec<_> = events.iter().chain(&events).cloned().collect();
    let outcome = db
        .projector(projection, VecFeed::new(twice), 300)
        .catch_up()
        .await
        .unwrap();
    assert_eq!(
        outcome.applied,
        0,
        "{}: nothing applied again",
        projection.name()
    );
    assert_eq!(outcome.parked, 0);
    assert_eq!(outcome.skipped, 2 * events.len());
    assert_eq!(
        db.hash(&projection).await,
        before,
        "{}: unchanged",
        projection.name()
    );
}

async fn redelivering_the_whole_stream_twice_changes_nothing(backend: Backend) {
    let db = TestDb::create_on(backend).await;
    db.append(12, 2_000, Policy::cn_agency()).await;
    redelivered_twice(&db, StorageStatus).await;
    redelivered_twice(&db, Billing).await;
    redelivered_twice(&db, Audit).await;
}

/// Feeds a fresh view in a bus's order and compares it with a rebuild in the store's order.
async fn in_bus_order<P: Projection + Copy>(db: &TestDb, projection: P, seed: u64) {
    let events = db.all_events().await;
    let delivered = bus_order(&events, seed);
    let outcome = db
        .projector(projection, VecFeed::new(delivered.clone()), 250)
        .catch_up()
        .await
        .unwrap();
    assert_eq!(
        outcome.parked,
        0,
        "{}: per-aggregate order suffices",
        projection.name()
    );
    assert_eq!(outcome.skipped, delivered.len() - events.len());
    let fed = db.hash(&projection).await;
    assert_eq!(fed, db.rebuild(projection).await, "{}", projection.name());
}

async fn a_feed_with_per_aggregate_order_only_gives_the_same_views(backend: Backend) {
    let db = TestDb::create_on(backend).await;
    db.append(13, 2_000, Policy::jp_forwarding()).await;
    // No instance yet: the bus-fed projector creates the first one.
    assert!(catalog::current(&db.views, "billing")
        .await
        .unwrap()
        .is_none());
    in_bus_order(&db, StorageStatus, 1).await;
    in_bus_order(&db, Billing, 2).await;
    in_bus_order(&db, Audit, 3).await;
}

on_each_backend!(
    redelivering_the_whole_stream_twice_changes_nothing,
    a_feed_with_per_aggregate_order_only_gives_the_same_views,
);

on_each_backend!(multi_thread(2):
    killed_mid_batch_many_times_then_restarted_equals_a_rebuild,
);
