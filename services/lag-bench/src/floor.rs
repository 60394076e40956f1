//! The floor: the least any "write, then bus, then view" path costs on this machine. At the same
//! steady rate, a command is one plain `INSERT` (autocommit) of an event-sized row; once it
//! returns the command is accepted and the writer publishes one core NATS message (no
//! JetStream, no store); a subscriber `INSERT`s a view row (autocommit) per message. The lag
//! is from the first `INSERT`'s return to the second's. No polling, no batching, no ordering,
//! no exactly-once bookkeeping: what remains is two commits and one NATS hop.

use crate::stats::Summary;
use crate::tracker::Tracker;
use anyhow::Context;
use futures::StreamExt;
use serde_json::json;
use sqlx::PgPool;
use std::time::{Duration, Instant};

const TABLES: &str = "
CREATE TABLE floor_commands (
    position bigserial PRIMARY KEY,
    aggregate_id text NOT NULL,
    payload jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE floor_view (
    aggregate_id text PRIMARY KEY,
    payload jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);";

/// Runs the floor at `rate` for `duration` in the database of `pool` and on `nats_url`;
/// records commands and view rows in `tracker`.
pub async fn run(
    pool: &PgPool,
    nats_url: &str,
    rate: f64,
    duration: Duration,
    tracker: &Tracker,
) -> anyhow::Result<crate::api::Driven> {
    sqlx::raw_sql(TABLES).execute(pool).await?;
    let client = async_nats::connect(nats_url)
        .await
        .context("connecting to NATS")?;
    let subject = format!("lagfloor.{}", uuid::Uuid::new_v4().simple());
    let mut subscription = client.subscribe(format!("{subject}.>")).await?;
    client.flush().await?;
    let viewer = {
        let (pool, tracker) = (pool.clone(), tracker.clone());
        tokio::spawn(async move {
            while let Some(message) = subscription.next().await {
                let id = message
                    .subject
                    .rsplit('.')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let payload: serde_json::Value = serde_json::from_slice(&message.payload)?;
                sqlx::query("INSERT INTO floor_view (aggregate_id, payload) VALUES ($1, $2)")
                    .bind(&id)
                    .bind(payload)
                    .execute(&pool)
                    .await?;
                tracker.committed(Instant::now(), [(id, 1)]);
            }
            anyhow::Ok(())
        })
    };

    let payload = json!({ "arrived": {
        "parcel_id": "01a1fcc7-839a-710b-882d-f764af749bb2", "suite_code": "TYO-000001",
        "member_id": "01a1fcc7-839a-710b-882d-f764af749bb3", "weight": 1200,
        "dimensions": { "length_mm": 300, "width_mm": 200, "height_mm": 100 },
        "received_on": "2026-12-01", "shop": "lag-shop", "policy": "jp-forwarding@2026.11"
    }});
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let started = Instant::now();
    let mut tasks = Vec::new();
    while started.elapsed() < duration {
        tick.tick().await;
        let (pool, client, tracker, payload) = (
            pool.clone(),
            client.clone(),
            tracker.clone(),
            payload.clone(),
        );
        let subject = subject.clone();
        tasks.push(tokio::spawn(async move {
            let id = uuid::Uuid::new_v4().simple().to_string();
            let sent = Instant::now();
            sqlx::query("INSERT INTO floor_commands (aggregate_id, payload) VALUES ($1, $2)")
                .bind(&id)
                .bind(&payload)
                .execute(&pool)
                .await?;
            let accepted = Instant::now();
            tracker.accepted(sent, accepted, vec![(id.clone(), 1)]);
            client
                .publish(
                    format!("{subject}.{id}"),
                    serde_json::to_vec(&payload)?.into(),
                )
                .await?;
            anyhow::Ok(accepted - sent)
        }));
    }
    let sent = tasks.len();
    let mut latencies = Vec::with_capacity(sent);
    for task in tasks {
        latencies.push(task.await??);
    }
    let elapsed = started.elapsed();
    client.flush().await?;
    tracker.settle(Duration::from_secs(30)).await;
    viewer.abort();
    Ok(crate::api::Driven {
        sent,
        elapsed,
        latency: Summary::of(&mut latencies),
    })
}
