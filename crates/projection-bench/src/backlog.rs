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
use cqrs_es::persist::SerializedEvent;
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
        appended += copy(store, &chunk).await?;
        copying += copy_started.elapsed();
        eprintln!(
            "backlog: {appended} events (simulating {:.1} s, copying {:.1} s)",
            simulating.as_secs_f64(),
            copying.as_secs_f64()
        );
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

/// `events` in one `COPY`, in their order; returns how many rows were written.
async fn copy(store: &EventStore, events: &[SerializedEvent]) -> Result<usize, BenchError> {
    let mut text = String::with_capacity(events.len() * 512);
    for event in events {
        copy_row(&mut text, event);
    }
    let mut conn = store.pool().acquire().await?;
    let mut copy = conn
        .copy_in_raw(
            "COPY events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
             payload, metadata) FROM STDIN",
        )
        .await?;
    copy.send(text.into_bytes()).await?;
    let rows = copy.finish().await?;
    Ok(usize::try_from(rows).unwrap_or(usize::MAX))
}

/// One event as a line of `COPY`'s text format.
fn copy_row(out: &mut String, event: &SerializedEvent) {
    let fields = [
        event.aggregate_type.as_str(),
        event.aggregate_id.as_str(),
        &event.sequence.to_string(),
        event.event_type.as_str(),
        event.event_version.as_str(),
        &event.payload.to_string(),
        &event.metadata.to_string(),
    ];
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        escape(out, field);
    }
    out.push('\n');
}

/// `field` with the characters `COPY`'s text format gives a meaning (backslash, the tab
/// delimiter, line ends) escaped; everything else is taken as is.
fn escape(out: &mut String, field: &str) {
    for c in field.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_copy_would_read_as_syntax() {
        let mut out = String::new();
        escape(&mut out, "a\\b\tc\nd\re \"f\" é");
        assert_eq!(out, "a\\\\b\\tc\\nd\\re \"f\" é");
    }

    #[test]
    fn a_row_has_the_seven_columns_in_order() {
        let event = SerializedEvent::new(
            "p-1".to_owned(),
            3,
            "parcel".to_owned(),
            "parcel.arrived".to_owned(),
            "1".to_owned(),
            serde_json::json!({ "note": "tab\there" }),
            serde_json::json!({ "actor": "dock" }),
        );
        let mut out = String::new();
        copy_row(&mut out, &event);
        assert_eq!(
            out,
            "parcel\tp-1\t3\tparcel.arrived\t1\t{\"note\":\"tab\\\\there\"}\t{\"actor\":\"dock\"}\n"
        );
    }
}
