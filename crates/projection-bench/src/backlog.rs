//! The benchmark's backlog: a simulated history (a busier warehouse than the tests', so a
//! million events stay within a few simulated years), loaded into the store's `events` table
//! with `COPY`, in the order the simulation issued the commands.
//!
//! Each chunk is one `COPY` in a transaction of its own, so the store's global order (txid,
//! position) is the simulation's order. Only the columns `postgres-es` writes are sent; the
//! event id, time, position and txid come from the table's defaults, exactly as for an append.
//! The events are the domain's own, decided by `decide` and serialized as `postgres-es` would
//! (`simulation::serialized_events`), so the projections accept every one.

use crate::BenchError;
use domain::Policy;
use event_store::EventStore;
use simulation::Simulation;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Events simulated and copied per step.
const CHUNK: usize = 50_000;

/// Appends at least `events` events and returns how many; returns once all are readable.
pub(crate) async fn build(
    store: &EventStore,
    events: usize,
    seed: u64,
) -> Result<usize, BenchError> {
    let mut sim = Simulation::new(seed, Policy::jp_forwarding()).with_pace(1, 12);
    let mut sequences = HashMap::new();
    let mut appended = 0;
    let (mut simulating, mut copying) = (Duration::ZERO, Duration::ZERO);
    while appended < events {
        let started = Instant::now();
        sim.run_until_events((appended + CHUNK).min(events));
        let chunk = simulation::serialized_events(&sim.drain_commands(), &mut sequences)?;
        let copy_started = Instant::now();
        simulating += copy_started - started;
        appended += store.bulk_append(&chunk).await?;
        copying += copy_started.elapsed();
        eprintln!(
            "backlog: {appended} events (simulating {:.1} s, copying {:.1} s)",
            simulating.as_secs_f64(),
            copying.as_secs_f64()
        );
    }
    // Every event below the read watermark before anything is timed.
    event_store::chained::await_earlier_writers(store.pool()).await?;
    Ok(appended)
}
