//! The test harness: a fresh, migrated database per test, filled with a seeded simulated
//! warehouse history played through postgres-es; raw SQL for the tampering.

use domain::{Policy, Services};
use event_store::EventStore;
use simulation::Simulation;
use sqlx::PgPool;
use testkit::ScratchDb;

/// A database of its own for one test, dropped (best-effort) when the test ends.
pub struct TestDb {
    pub store: EventStore,
    // Declared after the store: the database goes after the store's pool.
    _db: ScratchDb,
}

impl TestDb {
    pub async fn create() -> TestDb {
        let db = ScratchDb::create("audit").await;
        let store = EventStore::connect(db.url(), 4)
            .await
            .expect("connect to the test database");
        store.migrate().await.expect("migrate the test database");
        TestDb { store, _db: db }
    }

    /// A database holding `commands` simulated commands (seed 5) played one by one.
    pub async fn with_history(commands: usize) -> TestDb {
        let db = TestDb::create().await;
        let mut simulation = Simulation::new(5, Policy::jp_forwarding());
        simulation.run(commands);
        let services = Services::new(simulation.policy().clone());
        simulation::play(&db.store, &services, simulation.commands())
            .await
            .expect("play the simulated history");
        db
    }

    pub fn pool(&self) -> &PgPool {
        self.store.pool()
    }

    /// Runs `sql` as an attacker with direct access would: triggers off for the session
    /// (`session_replication_role = replica`), in a connection of its own.
    pub async fn tamper(&self, sql: &str) {
        let mut conn = self.pool().acquire().await.expect("a connection");
        sqlx::query("SET session_replication_role = replica")
            .execute(&mut *conn)
            .await
            .expect("triggers off");
        sqlx::raw_sql(sql)
            .execute(&mut *conn)
            .await
            .expect("tamper with the store");
        sqlx::query("SET session_replication_role = origin")
            .execute(&mut *conn)
            .await
            .expect("triggers on");
    }

    /// Gives every event the transaction id of its position, as if each had committed alone:
    /// the ids then gain digits (9, 10, ..., 99, 100) the way a real cluster's do at 99,999 →
    /// 100,000, all far below any watermark. Hashes do not cover the transaction id, so the
    /// chain stays intact.
    pub async fn renumber_transactions(&self) {
        self.tamper("UPDATE events SET txid = position::text::xid8")
            .await;
    }

    /// The `(aggregate_type, aggregate_id)` of an aggregate with at least `events` events,
    /// and the positions of its events in sequence order.
    pub async fn aggregate_with(&self, events: i64) -> (String, String, Vec<i64>) {
        let (aggregate_type, aggregate_id): (String, String) = sqlx::query_as(
            "SELECT aggregate_type, aggregate_id FROM events GROUP BY 1, 2 \
              HAVING count(*) >= $1 ORDER BY min(position) LIMIT 1",
        )
        .bind(events)
        .fetch_one(self.pool())
        .await
        .expect("an aggregate with enough events");
        let positions = sqlx::query_scalar(
            "SELECT position FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 \
              ORDER BY sequence",
        )
        .bind(&aggregate_type)
        .bind(&aggregate_id)
        .fetch_all(self.pool())
        .await
        .expect("its positions");
        (aggregate_type, aggregate_id, positions)
    }
}
