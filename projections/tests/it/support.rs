//! The test harness: a fresh, migrated database per test (its views on PostgreSQL or in a
//! SQLite file of a temporary directory: [`Backend`], [`on_each_backend!`]), simulated
//! histories, feeds that redeliver and reorder, a projection that fails on purpose, and view
//! hashes.

use domain::{Policy, Services};
use event_store::{EventStore, GlobalCursor};
use projection_runtime::{
    catalog, rebuild, view_hash, BatchOutcome, Dialect, EventEnvelope, Feed, FeedError, Progress,
    Projection, Projector, ProjectorOptions, RebuildOptions, ReduceError, Schema, StoreFeed,
    TableSpec, ViewConn, ViewDb, ViewHash,
};
use projections::audit::{self, AuditEntry, AuditFilter};
use projections::Page;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use simulation::Simulation;
use sqlx::PgPool;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tempfile::TempDir;
use testkit::ScratchDb;

/// Where a test's views live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// In the event store's PostgreSQL database.
    Postgres,
    /// In a SQLite views file of a temporary directory.
    Sqlite,
}

/// Runs each named test body (an `async fn(Backend)`) once per backend:
/// `<test>::postgres` and `<test>::sqlite`.
#[allow(unused_macros)] // `parked_metric.rs` shares this file and runs on PostgreSQL only
macro_rules! on_each_backend {
    (multi_thread($workers:literal): $($body:ident),+ $(,)?) => {
        on_each_backend!(@tests [tokio::test(flavor = "multi_thread", worker_threads = $workers)] $($body),+);
    };
    ($($body:ident),+ $(,)?) => {
        on_each_backend!(@tests [tokio::test] $($body),+);
    };
    (@tests [$test:meta] $($body:ident),+) => {
        $(
            mod $body {
                #[$test]
                async fn postgres() {
                    super::$body(crate::support::Backend::Postgres).await
                }

                #[$test]
                async fn sqlite() {
                    super::$body(crate::support::Backend::Sqlite).await
                }
            }
        )+
    };
}

/// A database of its own for one test, with the event store and the projection catalog
/// migrated; dropped (best-effort) when the test ends, even when it fails. The events are
/// always in PostgreSQL (the simulation plays through `postgres-es`); the views are where
/// [`Backend`] says.
pub struct TestDb {
    pub store: EventStore,
    pub pool: PgPool,
    /// Where the views live.
    pub views: ViewDb,
    /// The SQLite views file's directory, removed at the end.
    _views_dir: Option<TempDir>,
    /// Declared last: the database goes after the pools on it.
    _db: ScratchDb,
}

impl TestDb {
    /// Views on PostgreSQL.
    pub async fn create() -> TestDb {
        TestDb::create_on(Backend::Postgres).await
    }

    /// Views on `backend`.
    pub async fn create_on(backend: Backend) -> TestDb {
        let db = ScratchDb::create("proj").await;
        let store = EventStore::connect(db.url(), 8)
            .await
            .expect("connect to the test database");
        store.migrate().await.expect("migrate the event store");
        let pool = store.pool().clone();
        let (views, views_dir) = match backend {
            Backend::Postgres => (ViewDb::from(&pool), None),
            Backend::Sqlite => {
                let (views, dir) = sqlite_views().await;
                (views, Some(dir))
            }
        };
        catalog::migrate(&views).await.expect("migrate the catalog");
        TestDb {
            store,
            pool,
            views,
            _views_dir: views_dir,
            _db: db,
        }
    }

    /// How many events instance `schema` of `view` has applied, counted with its changes.
    pub async fn events_applied(&self, schema: &Schema, view: &str) -> usize {
        let (_, applied) = catalog::progress(&self.views, schema, view)
            .await
            .expect("read the checkpoint");
        usize::try_from(applied).expect("a count")
    }

    /// A simulated history of `commands` commands under `policy`, played through the
    /// `postgres-es` command side (each command decided again against the stored events).
    pub async fn play(&self, seed: u64, commands: usize, policy: Policy) -> Simulation {
        // The simulation's copy of the policy: its calendar reaches past the shipped one's end.
        let mut sim = Simulation::new(seed, policy);
        sim.run(commands);
        simulation::play(
            &self.store,
            &Services::new(sim.policy().clone()),
            sim.commands(),
        )
        .await
        .expect("the store accepts every simulated command");
        self.settle().await;
        sim
    }

    /// Like [`TestDb::play`], appending the decided events in bulk (faster; same events).
    pub async fn append(&self, seed: u64, commands: usize, policy: Policy) -> Simulation {
        let mut sim = Simulation::new(seed, policy);
        sim.run(commands);
        let mut sequences = HashMap::new();
        simulation::append(&self.store, sim.commands(), 200, &mut sequences)
            .await
            .expect("append the simulated events");
        self.settle().await;
        sim
    }

    /// Waits until every committed event is below the read watermark (an open transaction
    /// anywhere on the server, another test's included, holds readers back until it ends).
    pub async fn settle(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let hidden: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM events WHERE txid >= pg_snapshot_xmin(pg_current_snapshot())",
            )
            .fetch_one(&self.pool)
            .await
            .expect("count hidden events");
            if hidden == 0 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{hidden} events stayed above the watermark for 60 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Gives every event the transaction id of its position, as if each had committed alone:
    /// the ids then gain digits (9, 10, ..., 999, 1000) the way a real cluster's do at 99,999
    /// → 100,000, all far below any watermark.
    pub async fn renumber_transactions(&self) {
        sqlx::query("UPDATE events SET txid = position::text::xid8")
            .execute(&self.pool)
            .await
            .expect("renumber the transactions");
    }

    pub async fn event_count(&self) -> usize {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.pool)
            .await
            .expect("count events");
        usize::try_from(count).expect("a count")
    }

    /// Every stored event, in the global order.
    pub async fn all_events(&self) -> Vec<EventEnvelope> {
        self.settle().await;
        let mut events = Vec::new();
        let mut cursor = GlobalCursor::START;
        loop {
            let page = self.store.read_after(cursor, 5_000).await.expect("read");
            let Some(last) = page.last() else {
                break;
            };
            cursor = last.cursor;
            events.extend(page.into_iter().map(EventEnvelope::from));
        }
        events
    }

    /// The serving instance of `projection`'s view.
    pub async fn serving<P: Projection>(&self, projection: &P) -> Schema {
        catalog::serving(&self.views, projection.name())
            .await
            .expect("a serving instance")
    }

    /// The hash of the serving instance of `projection`'s view.
    pub async fn hash<P: Projection>(&self, projection: &P) -> ViewHash {
        let schema = self.serving(projection).await;
        view_hash(&self.views, &schema, projection.tables())
            .await
            .expect("hash the view")
    }

    /// Feeds `projection`'s serving view from the store until it has read everything, and
    /// checks the store feed handed out every stored event after the view's checkpoint.
    pub async fn catch_up<P: Projection>(&self, projection: P) -> BatchOutcome {
        self.settle().await;
        let name = projection.name();
        let from = match catalog::current(&self.views, name)
            .await
            .expect("read the catalog")
        {
            Some(schema) => catalog::checkpoint(&self.views, &schema, name)
                .await
                .expect("read the checkpoint"),
            None => GlobalCursor::START,
        };
        let feed = Recording::new(StoreFeed::new(self.store.clone()));
        let handed_out = feed.handed_out.clone();
        let outcome = self
            .projector(projection, feed, 500)
            .catch_up()
            .await
            .expect("catch up");
        let handed_out: HashSet<GlobalCursor> = handed_out
            .lock()
            .expect("not poisoned")
            .iter()
            .copied()
            .collect();
        let stored: Vec<GlobalCursor> = self
            .all_events()
            .await
            .iter()
            .map(|e| e.cursor)
            .filter(|c| *c > from)
            .collect();
        let missing: Vec<(usize, GlobalCursor)> = stored
            .iter()
            .enumerate()
            .filter(|(_, c)| !handed_out.contains(c))
            .map(|(i, c)| (i, *c))
            .collect();
        assert!(
            missing.is_empty(),
            "the store feed skipped {} of {} events after {from:?}; {outcome:?}; first and last \
             skipped (index in the global order, cursor): {:?} .. {:?}",
            missing.len(),
            stored.len(),
            missing.first(),
            missing.last(),
        );
        // The views' reducers accept every event the simulation decides.
        let schema = catalog::serving(&self.views, name).await.expect("a view");
        let parked = projection_runtime::parked::list_in(&self.views, &schema, name, true)
            .await
            .expect("list parked events");
        assert!(
            parked.is_empty(),
            "{name}: {} events parked; {outcome:?}; the first: {:#?}",
            parked.len(),
            parked
                .iter()
                .take(3)
                .map(|p| (
                    &p.reason,
                    &p.error,
                    &p.event.event_type,
                    &p.event.aggregate_id,
                    p.event.sequence,
                    p.event.cursor,
                    &p.event.payload
                ))
                .collect::<Vec<_>>()
        );
        outcome
    }

    /// Every entry of the audit view, read a page of `size` at a time.
    pub async fn audit_pages(&self, size: u32) -> Vec<AuditEntry> {
        let mut found = Vec::new();
        let mut page = Page::first(size);
        loop {
            let rows = audit::search(&self.views, &AuditFilter::default(), &page)
                .await
                .expect("search the audit view");
            let Some(last) = rows.last() else { break };
            page.after = Some((last.txid.clone(), last.position));
            found.extend(rows);
        }
        found
    }

    /// What the store and the serving instance of `view` hold of one aggregate, for a failure
    /// message.
    pub async fn explain(&self, aggregate_type: &str, aggregate_id: &str, view: &str) -> String {
        let events: Vec<(i64, String, String, i64)> = sqlx::query_as(
            "SELECT sequence, event_type, txid::text, position FROM events
              WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence",
        )
        .bind(aggregate_type)
        .bind(aggregate_id)
        .fetch_all(&self.pool)
        .await
        .expect("read the aggregate's events");
        let schema = catalog::serving(&self.views, view).await.expect("a view");
        let (checkpoint, applied) = catalog::progress(&self.views, &schema, view)
            .await
            .expect("read the checkpoint");
        format!(
            "stored events (sequence, type, txid, position): {events:?}; view {schema} at \
             {checkpoint:?} after {applied} events"
        )
    }

    /// A projector on the serving view, quick to retry.
    pub fn projector<P: Projection, F: Feed>(
        &self,
        projection: P,
        feed: F,
        batch_size: usize,
    ) -> Projector<P, F> {
        Projector::new(
            self.views.clone(),
            projection,
            feed,
            ProjectorOptions {
                batch_size,
                retry_backoff: Duration::from_millis(2),
                ..ProjectorOptions::default()
            },
        )
    }

    /// Rebuilds `projection`'s view from the store (switching the serving instance) and
    /// returns the new instance's hash.
    pub async fn rebuild<P: Projection>(&self, projection: P) -> ViewHash {
        self.settle().await;
        let tables = projection.tables();
        let report = rebuild(
            &self.views,
            &self.store,
            projection,
            RebuildOptions {
                progress: Progress::Hidden,
                grace: Duration::ZERO,
                ..RebuildOptions::default()
            },
        )
        .await
        .expect("rebuild");
        view_hash(&self.views, &report.schema, tables)
            .await
            .expect("hash the rebuilt view")
    }
}

/// A fresh SQLite views file in a temporary directory (kept while the directory lives).
pub async fn sqlite_views() -> (ViewDb, TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let views = ViewDb::open_sqlite(dir.path().join("views.db"))
        .await
        .expect("open the SQLite views file");
    (views, dir)
}

/// A feed that remembers the cursor of every event it handed out.
pub struct Recording<F> {
    inner: F,
    pub handed_out: Arc<Mutex<Vec<GlobalCursor>>>,
}

impl<F> Recording<F> {
    pub fn new(inner: F) -> Self {
        Self {
            inner,
            handed_out: Arc::default(),
        }
    }
}

impl<F: Feed> Feed for Recording<F> {
    async fn seek(&mut self, cursor: GlobalCursor) -> Result<(), FeedError> {
        self.inner.seek(cursor).await
    }

    async fn next_batch(&mut self, max: usize) -> Result<Vec<EventEnvelope>, FeedError> {
        let batch = self.inner.next_batch(max).await?;
        self.handed_out
            .lock()
            .expect("not poisoned")
            .extend(batch.iter().map(|e| e.cursor));
        Ok(batch)
    }

    async fn wait(&mut self) {
        self.inner.wait().await;
    }

    async fn committed(&mut self) -> Result<(), FeedError> {
        self.inner.committed().await
    }
}

/// A feed over a fixed list of events, whatever the checkpoint says: redeliveries, reorders,
/// holes, as a bus could deliver them.
pub struct VecFeed {
    events: VecDeque<EventEnvelope>,
}

impl VecFeed {
    pub fn new(events: impl IntoIterator<Item = EventEnvelope>) -> Self {
        Self {
            events: events.into_iter().collect(),
        }
    }
}

impl Feed for VecFeed {
    async fn seek(&mut self, _cursor: GlobalCursor) -> Result<(), FeedError> {
        Ok(())
    }

    async fn next_batch(&mut self, max: usize) -> Result<Vec<EventEnvelope>, FeedError> {
        let take = max.min(self.events.len());
        Ok(self.events.drain(..take).collect())
    }

    async fn wait(&mut self) {}

    async fn committed(&mut self) -> Result<(), FeedError> {
        Ok(())
    }
}

/// `events` reordered as a bus may deliver them: each aggregate's events in their order, the
/// aggregates interleaved at random, and about one event in ten delivered a second time later.
pub fn bus_order(events: &[EventEnvelope], seed: u64) -> Vec<EventEnvelope> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut queues: Vec<VecDeque<EventEnvelope>> = Vec::new();
    let mut index = HashMap::new();
    for event in events {
        let slot = *index.entry(event.aggregate_key()).or_insert_with(|| {
            queues.push(VecDeque::new());
            queues.len() - 1
        });
        queues[slot].push_back(event.clone());
    }
    let mut out: Vec<EventEnvelope> = Vec::with_capacity(events.len() * 11 / 10);
    let mut live: Vec<usize> = (0..queues.len()).collect();
    while !live.is_empty() {
        let pick = rng.random_range(0..live.len());
        let event = queues[live[pick]]
            .pop_front()
            .expect("live queues are not empty");
        out.push(event);
        if queues[live[pick]].is_empty() {
            live.swap_remove(pick);
        }
        if rng.random_bool(0.1) {
            let again = out[rng.random_range(0..out.len())].clone();
            out.push(again);
        }
    }
    out
}

/// A projection whose writes fail now and then after they were made, before the commit: the
/// batch's transaction rolls back as if the process had died there.
pub struct Flaky<P> {
    inner: P,
    rng: Mutex<StdRng>,
    rate: f64,
    pub failures: Arc<AtomicUsize>,
}

impl<P> Flaky<P> {
    pub fn new(inner: P, seed: u64, rate: f64, failures: Arc<AtomicUsize>) -> Self {
        Self {
            inner,
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            rate,
            failures,
        }
    }
}

impl<P: Projection> Projection for Flaky<P> {
    type Change = P::Change;

    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn tables(&self) -> &'static [TableSpec] {
        self.inner.tables()
    }

    fn create_tables(&self, schema: &Schema, dialect: Dialect) -> String {
        self.inner.create_tables(schema, dialect)
    }

    fn reduce(&self, event: &EventEnvelope) -> Result<Vec<P::Change>, ReduceError> {
        self.inner.reduce(event)
    }

    async fn apply(
        &self,
        conn: &mut ViewConn<'_>,
        schema: &Schema,
        changes: &[P::Change],
    ) -> Result<(), sqlx::Error> {
        self.inner.apply(conn, schema, changes).await?;
        let fail = self
            .rng
            .lock()
            .expect("the test rng is never poisoned")
            .random_bool(self.rate);
        if fail {
            self.failures.fetch_add(1, Ordering::Relaxed);
            return Err(sqlx::Error::Protocol(
                "injected failure inside the batch transaction".into(),
            ));
        }
        Ok(())
    }
}

/// A projection whose reducer refuses the events `refuse` picks: a bug, fixed by going back
/// to the plain projection.
#[derive(Clone, Copy)]
pub struct Buggy<P> {
    pub inner: P,
    pub refuse: fn(&EventEnvelope) -> bool,
}

impl<P: Projection> Projection for Buggy<P> {
    type Change = P::Change;

    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn tables(&self) -> &'static [TableSpec] {
        self.inner.tables()
    }

    fn create_tables(&self, schema: &Schema, dialect: Dialect) -> String {
        self.inner.create_tables(schema, dialect)
    }

    fn reduce(&self, event: &EventEnvelope) -> Result<Vec<P::Change>, ReduceError> {
        if (self.refuse)(event) {
            return Err(ReduceError::Invalid(format!(
                "bug: cannot handle {}",
                event.event_type
            )));
        }
        self.inner.reduce(event)
    }

    async fn apply(
        &self,
        conn: &mut ViewConn<'_>,
        schema: &Schema,
        changes: &[P::Change],
    ) -> Result<(), sqlx::Error> {
        self.inner.apply(conn, schema, changes).await
    }
}
