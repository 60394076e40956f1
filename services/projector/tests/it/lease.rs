//! Two projector processes for one view: one holds the view's lease and applies, the other
//! stands by for as long as the first lives; the active one killed, the standby takes the lease,
//! applies what came since, and the view equals a rebuild.

use crate::jetstream::{Service, TestDb, PATIENCE};
use domain::{Policy, Services};
use event_store::{EventLog, GlobalCursor};
use projection_runtime::catalog;
use projector_service::{Config, Source, View};
use simulation::Simulation;
use std::time::Duration;
use tokio::time::Instant;

const VIEW: View = View::Billing;

fn config(db: &TestDb, instance: &str) -> Config {
    let mut config = Config::new(VIEW, db.url.clone(), Source::Store);
    config.listen = "127.0.0.1:0".parse().expect("an address");
    config.batch_size = 40;
    config.retry_backoff = Duration::from_millis(20);
    config.instance = instance.to_owned();
    config.lease_retry = Duration::from_millis(50);
    config
}

/// The instance holding the view's lease, if any (`parcelport-projector billing <instance>`),
/// in this test's database: the other tests of the binary run projectors of their own.
async fn holder(db: &TestDb) -> Option<String> {
    let prefix = format!("parcelport-projector {} ", VIEW.name());
    let holders: Vec<String> = sqlx::query_scalar(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE $1 || '%'
            AND a.datname = current_database()",
    )
    .bind(&prefix)
    .fetch_all(db.store.pool())
    .await
    .expect("query pg_locks");
    assert!(holders.len() <= 1, "two holders: {holders:?}");
    holders
        .first()
        .map(|name| name.trim_start_matches(&prefix).to_owned())
}

async fn wait_for_holder(db: &TestDb, instance: &str) {
    let deadline = Instant::now() + PATIENCE;
    while holder(db).await.as_deref() != Some(instance) {
        assert!(Instant::now() < deadline, "{instance} never took the lease");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the serving instance of the view has read up to the store's head.
async fn caught_up(db: &TestDb) {
    let head = db.store.head().await.expect("the head").expect("events");
    let deadline = Instant::now() + PATIENCE;
    loop {
        let read = match catalog::serving(db.store.pool(), VIEW.name()).await {
            Ok(schema) => catalog::checkpoint(db.store.pool(), &schema, VIEW.name())
                .await
                .unwrap_or(GlobalCursor::START),
            Err(_) => GlobalCursor::START,
        };
        if read >= head {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the view stopped at {read:?}, the head is {head:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_projectors_for_one_view_one_applies_and_the_standby_takes_over_when_it_dies() {
    let db = TestDb::create().await;
    let mut sim = Simulation::new(31, Policy::jp_forwarding());
    sim.run(160);
    let commands = sim.commands().to_vec();
    let (before, after) = commands.split_at(commands.len() / 2);
    let services = Services::new(sim.policy().clone());
    simulation::play(&db.store, &services, before)
        .await
        .expect("the store accepts the first half");

    let active = Service::start(config(&db, "a"));
    wait_for_holder(&db, "a").await;
    let standby = Service::start(config(&db, "b"));
    caught_up(&db).await;
    // The standby tried many times meanwhile, and keeps trying: the lease stays the first's.
    for _ in 0..20 {
        assert_eq!(holder(&db).await.as_deref(), Some("a"));
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    active.kill().await;
    simulation::play(&db.store, &services, after)
        .await
        .expect("the store accepts the second half");
    wait_for_holder(&db, "b").await;
    caught_up(&db).await;
    standby.stop().await;
    assert!(
        holder(&db).await.is_none(),
        "a graceful stop releases the lease"
    );
    assert_eq!(db.hash(VIEW).await, db.rebuilt(VIEW).await);
}
