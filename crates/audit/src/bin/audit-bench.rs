//! `audit-bench`: how fast `verify` checks a large store, beside a baseline in the same run.
//!
//! Creates a scratch database, bulk-loads `--events` synthetic but well-formed events (chained
//! in Rust with `event_store::chain`, inserted with multi-row `INSERT ... SELECT FROM unnest`
//! with triggers off, `--per-aggregate` events per aggregate, one transaction per batch),
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
use chrono::Utc;
use clap::Parser;
use event_store::authorship::{AuthoredFields, EventSigner};
use event_store::chain::{ChainedFields, Hash32, GENESIS};
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
    sqlx::query("VACUUM ANALYZE events")
        .execute(store.pool())
        .await?;
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

/// Synthetic events, chained as the store would chain them, inserted in batches with the
/// trigger off (the hash is already right) and explicit positions.
async fn load(store: &EventStore, args: &Args) -> anyhow::Result<()> {
    let per_aggregate = args.per_aggregate.max(1);
    let mut heads: Vec<Hash32> = vec![GENESIS; args.events.div_ceil(per_aggregate)];
    let unsigned: serde_json::Value =
        serde_json::from_str(r#"{"actor":"bench","command":"Synthetic","correlation_id":"c"}"#)?;
    let signer = EventSigner::new(writer());
    let recorded_at = event_store::chain::to_micros(Utc::now());
    let mut conn = store.pool().acquire().await?;
    sqlx::query("SET session_replication_role = replica")
        .execute(&mut *conn)
        .await?;
    let mut position = 0_i64;
    while usize::try_from(position)? < args.events {
        let mut columns = Columns::default();
        let end = (usize::try_from(position)? + args.batch).min(args.events);
        // Aggregates interleave: event i belongs to aggregate i % aggregates, so each batch
        // touches many chains, like a busy store.
        let aggregates = heads.len();
        for index in usize::try_from(position)?..end {
            position += 1;
            let aggregate = index % aggregates;
            let sequence = i64::try_from(index / aggregates + 1)?;
            let aggregate_id = format!("p-{aggregate:07}");
            let payload = format!(
                r#"{{"arrived":{{"weight":{{"grams":{}}},"dimensions":{{"length_mm":300,"width_mm":200,"height_mm":100}},"received_on":"2026-11-20","policy":"jp-forwarding@2026.11"}}}}"#,
                1000 + index % 5000
            );
            let event_id = Uuid::new_v4();
            let metadata = signer
                .signed(AuthoredFields {
                    aggregate_type: "parcel",
                    aggregate_id: &aggregate_id,
                    sequence,
                    event_type: "parcel.arrived",
                    event_version: "1",
                    payload: &serde_json::from_str(&payload)?,
                    metadata: &unsigned,
                })
                .to_string();
            let hash = ChainedFields {
                aggregate_type: "parcel",
                aggregate_id: &aggregate_id,
                sequence,
                event_type: "parcel.arrived",
                event_version: "1",
                payload: &payload,
                metadata: &metadata,
                event_id,
                recorded_at,
                position,
            }
            .hash(&heads[aggregate]);
            heads[aggregate] = hash;
            columns.ids.push(aggregate_id);
            columns.sequences.push(sequence);
            columns.payloads.push(payload);
            columns.metadata.push(metadata);
            columns.event_ids.push(event_id);
            columns.positions.push(position);
            columns.hashes.push(hash.to_vec());
        }
        let mut tx = conn.begin().await?;
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
                 event_version, payload, metadata, event_id, recorded_at, position, hash) \
             SELECT 'parcel', id, seq, 'parcel.arrived', '1', payload::json, meta::json, \
                    event_id, $8, pos, hash \
               FROM unnest($1::text[], $2::bigint[], $3::text[], $4::uuid[], $5::bigint[], \
                           $6::bytea[], $7::text[]) AS t(id, seq, payload, event_id, pos, hash, meta)",
        )
        .bind(&columns.ids)
        .bind(&columns.sequences)
        .bind(&columns.payloads)
        .bind(&columns.event_ids)
        .bind(&columns.positions)
        .bind(&columns.hashes)
        .bind(&columns.metadata)
        .bind(recorded_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    Ok(())
}

#[derive(Default)]
struct Columns {
    ids: Vec<String>,
    sequences: Vec<i64>,
    payloads: Vec<String>,
    event_ids: Vec<Uuid>,
    positions: Vec<i64>,
    hashes: Vec<Vec<u8>>,
    metadata: Vec<String>,
}

/// The writer's key the synthetic events are signed with.
fn writer() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[9; 32])
}
