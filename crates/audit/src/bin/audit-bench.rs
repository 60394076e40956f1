//! `audit-bench`: how fast `verify` checks a large store, beside a baseline in the same run.
//!
//! Creates a scratch database, bulk-loads `--events` synthetic but well-formed, signed events
//! (`EventStore::bulk_append`, chained by the insert trigger, `--per-aggregate` events per
//! aggregate, one `COPY` per batch),
//! records a checkpoint, then measures, each `--runs` times:
//! - baseline: the verifier's own query streamed and decoded into `ChainedEvent`s, no hashing;
//! - verify: the full verification (every chain hash, the Merkle root, the checkpoint);
//! - verify with the writer's public key: the same, and every event's Ed25519 signature
//!   checked (every synthetic event is signed, as `serve` signs them; issue #10).
//!
//! `cargo run --release -p audit --bin audit-bench -- --events 1000000`

use anyhow::Context;
use audit::source::{self, ChainedEvent};
use audit::{checkpoint, verify};
use clap::Parser;
use cqrs_es::persist::SerializedEvent;
use event_store::authorship::{AuthoredFields, EventSigner};
use event_store::EventStore;
use futures::TryStreamExt;
use sqlx::{Connection, PgConnection};
use std::time::Instant;
use uuid::Uuid;

#[derive(Debug, Parser)]
struct Args {
    /// Events to load.
    #[arg(long, default_value_t = 1_000_000)]
    events: usize,
    /// Events per aggregate.
    #[arg(long, default_value_t = 10)]
    per_aggregate: usize,
    /// Events per insert transaction.
    #[arg(long, default_value_t = 10_000)]
    batch: usize,
    /// Measurements of each kind.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// The PostgreSQL server, without a database name.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    server: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let name = format!("pp_audit_bench_{}", Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&format!("{}/postgres", args.server)).await?;
    sqlx::query(&format!(r#"CREATE DATABASE "{name}" TEMPLATE template0"#))
        .execute(&mut admin)
        .await?;
    let result = run(&args, &format!("{}/{name}", args.server)).await;
    sqlx::query(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
        .execute(&mut admin)
        .await?;
    result
}

async fn run(args: &Args, url: &str) -> anyhow::Result<()> {
    let store = EventStore::connect(url, 4).await?;
    store.migrate().await?;
    let started = Instant::now();
    load(&store, args).await.context("bulk load")?;
    println!(
        "loaded {} events ({} per aggregate) in {:.1} s",
        args.events,
        args.per_aggregate,
        started.elapsed().as_secs_f64()
    );
    store.vacuum_analyze().await?;
    let started = Instant::now();
    let recorded = checkpoint::record(store.pool(), None).await?;
    println!(
        "checkpoint over {} events in {:.2} s",
        recorded.event_count,
        started.elapsed().as_secs_f64()
    );
    for run in 1..=args.runs {
        let started = Instant::now();
        let events = source::postgres_events(store.pool())
            .try_fold(0_u64, |count, event: ChainedEvent| async move {
                Ok(count + u64::from(!event.payload.is_empty()))
            })
            .await?;
        let baseline = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let report = verify::verify_postgres(store.pool(), |_| {}).await?;
        let verified = started.elapsed().as_secs_f64();
        anyhow::ensure!(report.is_clean(), "the synthetic store does not verify");
        anyhow::ensure!(
            report.events == events,
            "verify read another number of events"
        );
        let started = Instant::now();
        let anchors = verify::Anchors {
            checkpoints: Vec::new(),
            trusted: vec![writer().verifying_key().to_bytes()],
        };
        let signed = verify::verify_postgres_anchored(store.pool(), &anchors, |_| {}).await?;
        let checked = started.elapsed().as_secs_f64();
        anyhow::ensure!(
            signed.is_clean(),
            "the synthetic store's signatures do not verify"
        );
        anyhow::ensure!(
            signed.signed == events,
            "not every event's signature was checked"
        );
        #[allow(clippy::cast_precision_loss)] // rates
        let (baseline_rate, verify_rate, signed_rate) = (
            events as f64 / baseline,
            events as f64 / verified,
            events as f64 / checked,
        );
        println!(
            "run {run}: {events} events; baseline SELECT+decode {baseline:.2} s \
             ({baseline_rate:.0} events/s); verify {verified:.2} s ({verify_rate:.0} events/s); \
             verify/baseline throughput {:.2}; with signatures {checked:.2} s \
             ({signed_rate:.0} events/s), {:.2} of verify without",
            verify_rate / baseline_rate,
            signed_rate / verify_rate
        );
    }
    Ok(())
}

/// Synthetic events, signed as `serve` signs them, appended in batches with the event store's
/// bulk loader (`COPY`; the insert trigger chains them as it chains every append).
async fn load(store: &EventStore, args: &Args) -> anyhow::Result<()> {
    let per_aggregate = args.per_aggregate.max(1);
    let aggregates = args.events.div_ceil(per_aggregate);
    let unsigned: serde_json::Value =
        serde_json::from_str(r#"{"actor":"bench","command":"Synthetic","correlation_id":"c"}"#)?;
    let signer = EventSigner::new(writer());
    let mut index = 0;
    while index < args.events {
        let end = (index + args.batch).min(args.events);
        // Aggregates interleave: event i belongs to aggregate i % aggregates, so each batch
        // touches many chains, like a busy store.
        let mut batch = Vec::with_capacity(end - index);
        for index in index..end {
            let aggregate = index % aggregates;
            let sequence = index / aggregates + 1;
            let aggregate_id = format!("p-{aggregate:07}");
            let payload = serde_json::json!({"arrived": {
                "weight": {"grams": 1000 + index % 5000},
                "dimensions": {"length_mm": 300, "width_mm": 200, "height_mm": 100},
                "received_on": "2026-11-20", "policy": "jp-forwarding@2026.11"
            }});
            let metadata = signer.signed(AuthoredFields {
                aggregate_type: "parcel",
                aggregate_id: &aggregate_id,
                sequence: i64::try_from(sequence)?,
                event_type: "parcel.arrived",
                event_version: "1",
                payload: &payload,
                metadata: &unsigned,
            });
            batch.push(SerializedEvent::new(
                aggregate_id,
                sequence,
                "parcel".to_owned(),
                "parcel.arrived".to_owned(),
                "1".to_owned(),
                payload,
                metadata,
            ));
        }
        store.bulk_append(&batch).await?;
        index = end;
    }
    Ok(())
}

/// The writer's key the synthetic events are signed with.
fn writer() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[9; 32])
}
