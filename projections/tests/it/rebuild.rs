//! Blue/green rebuilds: a rebuild from the event store equals the live view, switches the
//! serving instance in one step and drops the old one; a live projector keeps serving from the
//! old instance until the switch, then follows the pointer.

use crate::support::{Backend, TestDb};
use domain::Policy;
use event_store::GlobalCursor;
use projection_runtime::{catalog, rebuild, Progress, Projection, RebuildOptions, StoreFeed};
use projections::audit::Audit;
use projections::billing::Billing;
use projections::storage_status::{self, StorageStatus};
use simulation::Simulation;
use std::collections::HashMap;
use std::time::Duration;

async fn rebuilt_equals_live<P: Projection + Copy>(db: &TestDb, projection: P) {
    db.catch_up(projection).await;
    let live_schema = db.serving(&projection).await;
    let live = db.hash(&projection).await;
    let rebuilt = db.rebuild(projection).await;
    assert_eq!(live, rebuilt, "{}: rebuilt = live", projection.name());
    let serving = db.serving(&projection).await;
    assert_ne!(serving, live_schema, "the new instance serves");
    assert_eq!(
        catalog::instances(&db.views, projection.name())
            .await
            .unwrap(),
        vec![serving],
        "the old instance is gone"
    );
}

async fn rebuilding_each_view_from_the_event_store_gives_exactly_the_live_view(backend: Backend) {
    let db = TestDb::create_on(backend).await;
    db.play(41, 2_000, Policy::cn_agency()).await;
    rebuilt_equals_live(&db, StorageStatus).await;
    rebuilt_equals_live(&db, Billing).await;
    rebuilt_equals_live(&db, Audit).await;
}

async fn head(db: &TestDb) -> GlobalCursor {
    db.settle().await;
    db.all_events().await.last().map(|e| e.cursor).unwrap()
}

async fn wait_until_caught_up(db: &TestDb, target: GlobalCursor) {
    for _ in 0..3_000 {
        // The projector registers its view when it starts: until then there is none to serve.
        if let Ok(schema) = catalog::serving(&db.views, storage_status::NAME).await {
            let at = catalog::checkpoint(&db.views, &schema, storage_status::NAME).await;
            if at.is_ok_and(|at| at >= target) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the live projector did not catch up");
}

async fn a_live_projector_serves_during_a_rebuild_and_follows_the_switch(backend: Backend) {
    let db = TestDb::create_on(backend).await;
    let policy = Policy::jp_forwarding();
    let mut sim = Simulation::new(42, policy.clone());
    let mut sequences = HashMap::new();
    sim.run(1_500);
    simulation::append(&db.store, &sim.drain_commands(), 200, &mut sequences)
        .await
        .unwrap();

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let live = db.projector(StorageStatus, StoreFeed::new(db.store.clone()), 200);
    let live = tokio::spawn(live.run(async {
        let _ = stopped.await;
    }));
    wait_until_caught_up(&db, head(&db).await).await;
    let old = db.serving(&StorageStatus).await;

    // More commands while the rebuild runs.
    sim.run(1_500);
    let more = sim.drain_commands();
    let store = db.store.clone();
    let writer = tokio::spawn(async move {
        for chunk in more.chunks(100) {
            simulation::append(&store, chunk, 50, &mut sequences)
                .await
                .unwrap();
        }
    });
    let views = db.views.clone();
    let store = db.store.clone();
    let rebuilding = tokio::spawn(async move {
        let options = RebuildOptions {
            progress: Progress::Hidden,
            batch_size: 100,
            page_size: 200,
            grace: Duration::from_millis(50),
        };
        rebuild(&views, &store, StorageStatus, options).await
    });
    // The old instance answers while the new one is built.
    let today = sim.today();
    let counts = storage_status::counts_per_state(&db.views).await.unwrap();
    assert!(!counts.is_empty());
    storage_status::due_today(&db.views, today, &policy)
        .await
        .unwrap();

    writer.await.unwrap();
    let report = rebuilding.await.unwrap().unwrap();
    assert_eq!(report.replaced.as_ref(), Some(&old));
    assert_eq!(db.serving(&StorageStatus).await, report.schema);
    wait_until_caught_up(&db, head(&db).await).await;
    assert_eq!(
        catalog::instances(&db.views, storage_status::NAME)
            .await
            .unwrap(),
        vec![report.schema.clone()]
    );
    stop.send(()).unwrap();
    live.await.unwrap();

    let followed = db.hash(&StorageStatus).await;
    assert_eq!(followed, db.rebuild(StorageStatus).await);
}

on_each_backend!(rebuilding_each_view_from_the_event_store_gives_exactly_the_live_view,);

on_each_backend!(multi_thread(2):
    a_live_projector_serves_during_a_rebuild_and_follows_the_switch,
);
