//! [`Store`]: the event store the engine writes, for what the harness asks of it directly:
//! how many events it holds, and the baseline (plain single-row INSERTs into a scratch table
//! of the same database: the embedded SQLite file through the store's own writer connection,
//! or the PostgreSQL database through one connection of the store's pool).

use event_store::sqlite::SqliteEventStore;
use event_store::{EventLog, EventStore, GlobalCursor};
use serde::Serialize;
use std::time::Instant;

/// The store under the engine.
#[derive(Debug, Clone)]
pub enum Store {
    /// The embedded SQLite file (WAL, `synchronous = FULL`, one writer connection).
    Sqlite(SqliteEventStore),
    /// PostgreSQL.
    Postgres(EventStore),
}

/// The baseline: `inserts` plain single-row INSERTs, one after the other, each its own
/// transaction (autocommit), of an event-sized row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Baseline {
    /// INSERTs made.
    pub inserts: u64,
    /// Seconds they took.
    pub seconds: f64,
}

impl Baseline {
    /// INSERTs per second.
    pub fn per_second(&self) -> f64 {
        rate(self.inserts, self.seconds)
    }
}

/// `count / seconds`, 0 when nothing was timed.
pub fn rate(count: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        count as f64 / seconds
    } else {
        0.0
    }
}

impl Store {
    /// `sqlite` or `postgres`.
    pub fn name(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Events in the store.
    pub async fn events(&self) -> anyhow::Result<u64> {
        let backlog = match self {
            Store::Sqlite(store) => store.backlog(GlobalCursor::START).await?,
            Store::Postgres(store) => store.backlog(GlobalCursor::START).await?,
        };
        Ok(backlog.events)
    }

    /// `n` plain single-row INSERTs into a scratch table `bench_inserts` shaped like `events`
    /// (created here), one at a time on one connection; the rows look like the storage notice
    /// the scheduler appends most.
    pub async fn baseline(&self, n: u64) -> anyhow::Result<Baseline> {
        let payload = serde_json::json!({ "storage_notice_sent": {
            "member_id": "01a1fcc7-839a-710b-882d-f764af749bb3", "days_before": 3,
            "last_free_day": "2026-06-18", "sent_on": "2026-06-15", "policy": "cn-agency@2026.12"
        }})
        .to_string();
        let metadata = serde_json::json!({
            "actor": "scheduler", "command": "send_storage_notice", "rule": "STO-2",
            "correlation_id": "scheduler:STO-2:send_storage_notice:01a1fcc7:2026-06-15:3d"
        })
        .to_string();
        let started;
        match self {
            Store::Sqlite(store) => {
                let writer = store.writer();
                sqlx::query(
                    "CREATE TABLE IF NOT EXISTS bench_inserts (
                         position       INTEGER PRIMARY KEY AUTOINCREMENT,
                         aggregate_type TEXT NOT NULL,
                         aggregate_id   TEXT NOT NULL,
                         sequence       INTEGER NOT NULL,
                         payload        TEXT NOT NULL,
                         metadata       TEXT NOT NULL,
                         recorded_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                     )",
                )
                .execute(writer)
                .await?;
                started = Instant::now();
                for _ in 0..n {
                    sqlx::query(
                        "INSERT INTO bench_inserts (aggregate_type, aggregate_id, sequence, payload, metadata)
                         VALUES ('parcel', ?1, 1, ?2, ?3)",
                    )
                    .bind(uuid::Uuid::new_v4().to_string())
                    .bind(&payload)
                    .bind(&metadata)
                    .execute(writer)
                    .await?;
                }
            }
            Store::Postgres(store) => {
                let mut connection = store.pool().acquire().await?;
                sqlx::query(
                    "CREATE TABLE IF NOT EXISTS bench_inserts (
                         position       bigserial PRIMARY KEY,
                         aggregate_type text NOT NULL,
                         aggregate_id   text NOT NULL,
                         sequence       bigint NOT NULL,
                         payload        jsonb NOT NULL,
                         metadata       jsonb NOT NULL,
                         recorded_at    timestamptz NOT NULL DEFAULT now()
                     )",
                )
                .execute(&mut *connection)
                .await?;
                started = Instant::now();
                for _ in 0..n {
                    sqlx::query(
                        "INSERT INTO bench_inserts (aggregate_type, aggregate_id, sequence, payload, metadata)
                         VALUES ('parcel', $1, 1, $2::jsonb, $3::jsonb)",
                    )
                    .bind(uuid::Uuid::new_v4().to_string())
                    .bind(&payload)
                    .bind(&metadata)
                    .execute(&mut *connection)
                    .await?;
                }
            }
        }
        Ok(Baseline {
            inserts: n,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}
