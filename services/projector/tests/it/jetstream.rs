//! Each view fed from JetStream by the service, killed (its task aborted) three times mid-stream
//! and restarted, equals a rebuild from the store; the whole stream delivered a second time (the
//! durable consumer deleted and created again from the start) changes nothing.

use async_nats::jetstream;
use domain::{Policy, Services};
use event_store::EventStore;
use projection_runtime::{
    catalog, rebuild, view_hash, JetStreamOptions, Progress, Projection, RebuildOptions, TableSpec,
    ViewHash,
};
use projections::audit::Audit;
use projections::billing::Billing;
use projections::notices::Notices;
use projections::schedule::Schedule;
use projections::storage_status::StorageStatus;
use projector_service::{Config, Source, View};
use relay::RelayConfig;
use simulation::Simulation;
use std::time::Duration;
use testkit::{NatsServer, ScratchDb};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How long any wait may take before it fails the test.
pub(crate) const PATIENCE: Duration = Duration::from_secs(180);

/// A database of its own, migrated; dropped (best-effort) when the test ends.
pub(crate) struct TestDb {
    pub(crate) url: String,
    pub(crate) store: EventStore,
    // Declared after the store: the database goes after the store's pool.
    _db: ScratchDb,
}

impl TestDb {
    pub(crate) async fn create() -> TestDb {
        let db = ScratchDb::create("projector").await;
        let url = db.url().to_owned();
        let store = EventStore::connect(&url, 8).await.expect("connect");
        store.migrate().await.expect("migrate the event store");
        catalog::migrate(store.pool())
            .await
            .expect("migrate the catalog");
        TestDb {
            url,
            store,
            _db: db,
        }
    }

    pub(crate) async fn event_count(&self) -> u64 {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(self.store.pool())
            .await
            .expect("count events");
        u64::try_from(count).expect("a count")
    }

    /// The hash of the serving instance of `view`.
    pub(crate) async fn hash(&self, view: View) -> ViewHash {
        let schema = catalog::serving(self.store.pool(), view.name())
            .await
            .expect("a serving instance");
        view_hash(self.store.pool(), &schema, tables(view))
            .await
            .expect("hash the view")
    }

    /// The hash of `view` rebuilt from the store.
    pub(crate) async fn rebuilt(&self, view: View) -> ViewHash {
        let options = RebuildOptions {
            progress: Progress::Hidden,
            grace: Duration::ZERO,
            ..RebuildOptions::default()
        };
        let pool = self.store.pool();
        let report = match view {
            View::StorageStatus => rebuild(pool, &self.store, StorageStatus, options).await,
            View::Billing => rebuild(pool, &self.store, Billing, options).await,
            View::Audit => rebuild(pool, &self.store, Audit, options).await,
            View::Schedule => rebuild(pool, &self.store, Schedule, options).await,
            View::Notices => rebuild(pool, &self.store, Notices, options).await,
        }
        .expect("rebuild");
        view_hash(pool, &report.schema, tables(view))
            .await
            .expect("hash the rebuilt view")
    }
}

fn tables(view: View) -> &'static [TableSpec] {
    match view {
        View::StorageStatus => StorageStatus.tables(),
        View::Billing => Billing.tables(),
        View::Audit => Audit.tables(),
        View::Schedule => Schedule.tables(),
        View::Notices => Notices.tables(),
    }
}

/// The service fed from `nats`, in small batches, quick to poll and retry. It is given a
/// cluster's list whose first server is down, as after losing a node: it reads from the other.
fn config(view: View, db: &TestDb, nats: &NatsServer) -> Config {
    fed_from(view, db, format!("nats://127.0.0.1:1,{}", nats.url()))
}

/// The service fed from the NATS `servers` (comma-separated), as [`config`] configures it.
pub(crate) fn fed_from(view: View, db: &TestDb, servers: String) -> Config {
    let mut options = JetStreamOptions::new(servers, view.name());
    options.poll_interval = Duration::from_millis(20);
    let mut config = Config::new(view, db.url.clone(), Source::JetStream(options));
    config.listen = "127.0.0.1:0".parse().expect("an address");
    config.batch_size = 40;
    config.retry_backoff = Duration::from_millis(20);
    config
}

/// A running projector service, stopped gracefully by [`Service::stop`] or killed by
/// [`Service::kill`].
pub(crate) struct Service {
    task: JoinHandle<anyhow::Result<()>>,
    stop: oneshot::Sender<()>,
}

impl Service {
    pub(crate) fn start(config: Config) -> Service {
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(projector_service::run(config, async {
            let _ = stopped.await;
        }));
        Service { task, stop }
    }

    pub(crate) async fn stop(self) {
        let _ = self.stop.send(());
        self.task
            .await
            .expect("the service task")
            .expect("the service stops cleanly");
    }

    /// Aborts the task: whatever batch is in flight dies uncommitted or unacknowledged.
    pub(crate) async fn kill(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// The durable consumer's ack floor (stream sequence), messages waiting and messages
/// delivered but not acknowledged; `None` while it does not exist.
pub(crate) async fn consumer_state(
    js: &jetstream::Context,
    name: &str,
) -> Option<(u64, u64, usize)> {
    let stream = js.get_stream("PARCELPORT").await.ok()?;
    let info = stream.consumer_info(name).await.ok()?;
    Some((
        info.ack_floor.stream_sequence,
        info.num_pending,
        info.num_ack_pending,
    ))
}

/// Waits until the stream holds `events` messages; returns its last sequence.
pub(crate) async fn published(js: &jetstream::Context, events: u64) -> u64 {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Ok(mut stream) = js.get_stream("PARCELPORT").await {
            let state = stream.info().await.expect("stream info").state.clone();
            assert!(state.messages <= events, "the stream holds duplicates");
            if state.messages == events {
                return state.last_sequence;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the relay did not publish everything"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until `view`'s consumer acknowledged every message up to `floor`, that is, until the
/// projector committed them.
pub(crate) async fn acknowledged(
    js: &jetstream::Context,
    view: View,
    floor: u64,
    service: &Service,
) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some((ack_floor, _, _)) = consumer_state(js, view.name()).await {
            if ack_floor >= floor {
                return;
            }
        }
        assert!(!service.task.is_finished(), "the projector stopped");
        assert!(
            Instant::now() < deadline,
            "{} did not acknowledge up to {floor}",
            view.name()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_projectors_equal_a_rebuild_and_a_second_delivery_changes_nothing() {
    let db = TestDb::create().await;
    let nats = NatsServer::start();
    let policy = Policy::jp_forwarding();
    let mut sim = Simulation::new(23, policy.clone());
    sim.run(250);
    simulation::play(
        &db.store,
        &Services::new(sim.policy().clone()),
        sim.commands(),
    )
    .await
    .expect("the store accepts every simulated command");
    let events = db.event_count().await;
    assert!(events > 200, "a history worth projecting: {events} events");

    let mut relay_config = RelayConfig::new(db.url.clone(), nats.url());
    relay_config.tail.poll_interval = Duration::from_millis(20);
    relay_config.checkpoint_interval = Duration::from_millis(50);
    let (stop_relay, relay_stopped) = oneshot::channel::<()>();
    let relay = tokio::spawn(relay::run(relay_config, async {
        let _ = relay_stopped.await;
    }));
    let js = jetstream::new(async_nats::connect(nats.url()).await.expect("connect"));

    for view in [
        View::StorageStatus,
        View::Billing,
        View::Audit,
        View::Schedule,
        View::Notices,
    ] {
        // Killed three times, each once it has committed another quarter of the stream (the
        // first view while the relay is still publishing).
        for quarter in 1..=3 {
            let service = Service::start(config(view, &db, &nats));
            acknowledged(&js, view, events * quarter / 4, &service).await;
            service.kill().await;
            if let Some((floor, _, unacked)) = consumer_state(&js, view.name()).await {
                eprintln!(
                    "{}: killed at ack floor {floor}, {unacked} unacked",
                    view.name()
                );
            }
        }
        let last = published(&js, events).await;
        let service = Service::start(config(view, &db, &nats));
        acknowledged(&js, view, last, &service).await;
        service.stop().await;
        let live = db.hash(view).await;

        // Everything again: the consumer deleted and created from the stream's start.
        js.get_stream("PARCELPORT")
            .await
            .expect("the stream")
            .delete_consumer(view.name())
            .await
            .expect("delete the consumer");
        let service = Service::start(config(view, &db, &nats));
        acknowledged(&js, view, last, &service).await;
        service.stop().await;
        assert_eq!(
            db.hash(view).await,
            live,
            "{}: a second delivery changed the view",
            view.name()
        );

        assert_eq!(
            db.rebuilt(view).await,
            live,
            "{}: the view fed from JetStream differs from a rebuild",
            view.name()
        );
    }

    let _ = stop_relay.send(());
    relay
        .await
        .expect("the relay task")
        .expect("the relay stops cleanly");
}
