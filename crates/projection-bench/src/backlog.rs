//! The benchmark's backlog: a simulated history, appended through `postgres-es` in bulk, while
//! the simulation goes on (a busier warehouse than the tests', so a million events stay within
//! a few simulated years).

use crate::BenchError;
use domain::Policy;
use event_store::EventStore;
use simulation::Simulation;
use std::collections::HashMap;
use std::time::Duration;

/// Appends at least `events` events and returns how many; returns once all are readable.
pub(crate) async fn build(
    store: &EventStore,
    events: usize,
    seed: u64,
) -> Result<usize, BenchError> {
    let mut sim = Simulation::new(seed, Policy::jp_forwarding()).with_pace(1, 12);
    let mut sequences = HashMap::new();
    let mut appended = 0;
    while appended < events {
        let next = (appended + 50_000).min(events);
        sim.run_until_events(next);
        appended += simulation::append(store, &sim.drain_commands(), 1_000, &mut sequences).await?;
        eprintln!("backlog: {appended} events");
    }
    // Every event below the read watermark before anything is timed.
    loop {
        let hidden: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM events WHERE txid >= pg_snapshot_xmin(pg_current_snapshot())",
        )
        .fetch_one(store.pool())
        .await?;
        if hidden == 0 {
            return Ok(appended);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
