//! `lag-bench`: end-to-end lag of the read side, from "command accepted" (the command API's
//! `201`) to "view updated" (the projector's transaction holding the command's events
//! committed), at steady command rates, in one run, for three pipelines:
//! - `jetstream`: API → PostgreSQL → relay (`crates/relay`) → JetStream → projector fed by
//!   `JetStreamFeed` (the distributed mode);
//! - `store`: API → PostgreSQL → projector fed by `StoreFeed` (the embedded style, no NATS);
//! - `floor`: a plain `INSERT`, a core NATS publish and subscribe, a plain `INSERT` (`floor.rs`),
//!   the least such a path costs here, so the others read as a ratio.
//!
//! Besides accepted→view it reports sent→view (from the request's sending): under load the
//! view can be updated before the `201` reaches the client, which makes accepted→view zero
//! (counted as "view before 201"); sent→view is the figure compared with the floor's.
//!
//! Each (rate, pipeline) phase gets a fresh database; JetStream phases a fresh stream on a
//! nats-server child of the benchmark's own (or `--nats-url`). The projector is the
//! storage-status view's, with production defaults unless flags say otherwise; commands are
//! parcel arrivals (`POST /v1/parcels`), each creating one parcel. The projector's commits are
//! observed through its feed (`tracker.rs`), without changing the runtime.
//!
//! ```sh
//! cargo run --release -p lag-bench -- --rates 20,100 --seconds 30
//! ```
//!
//! Map: `api.rs` (the API in-process and the command driver), `tracker.rs` (lags and the
//! observed feed), `floor.rs`, `nats_server.rs`, `stats.rs`.

mod api;
mod floor;
mod nats_server;
mod stats;
mod tracker;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use event_store::EventStore;
use projection_runtime::{
    catalog, JetStreamFeed, JetStreamOptions, Projector, ProjectorOptions, StatusHandle, StoreFeed,
};
use projections::storage_status::StorageStatus;
use sqlx::{Connection, PgConnection};
use stats::{millis, Summary};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tracker::{Observed, Tracker};

/// Measures command-accepted-to-view-updated lag at steady command rates.
#[derive(Debug, Parser)]
#[command(about)]
struct Flags {
    /// The PostgreSQL server, without a database name.
    #[arg(
        long,
        env = "PARCELPORT_BENCH_POSTGRES",
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    server: String,
    /// A NATS server to use instead of a nats-server child of the benchmark's own. Its
    /// streams must not take `parcelport.>` subjects.
    #[arg(long)]
    nats_url: Option<String>,
    /// The nats-server binary for the child.
    #[arg(long, default_value = "/usr/sbin/nats-server")]
    nats_server: String,
    /// Commands per second, one phase per rate and pipeline.
    #[arg(long, value_delimiter = ',', default_value = "20,100")]
    rates: Vec<f64>,
    /// Seconds of commands per phase.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Pipelines, in the order they run at each rate.
    #[arg(long, value_delimiter = ',', default_value = "floor,store,jetstream")]
    pipelines: Vec<Pipeline>,
    /// Events per projector transaction (production: 500).
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// The store feed's idle poll interval, ms (production: 50).
    #[arg(long, default_value_t = 50)]
    store_poll_ms: u64,
    /// The relay's idle tail poll interval, ms (production: 25).
    #[arg(long, default_value_t = 25)]
    relay_poll_ms: u64,
    /// The JetStream feed's wait after an empty fetch, ms (production: 100).
    #[arg(long, default_value_t = 100)]
    jetstream_poll_ms: u64,
    /// Keep the databases afterwards.
    #[arg(long)]
    keep: bool,
}

/// Where the events go after the write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Pipeline {
    /// Plain INSERT, core NATS, plain INSERT.
    Floor,
    /// The projector fed from the event store.
    Store,
    /// The relay, JetStream and the projector fed from JetStream.
    Jetstream,
}

impl Pipeline {
    fn describe(self) -> &'static str {
        match self {
            Pipeline::Floor => "floor: INSERT → NATS → INSERT",
            Pipeline::Store => "API → PG → StoreFeed projector",
            Pipeline::Jetstream => "API → PG → relay → JetStream → projector",
        }
    }
}

/// One phase's figures.
struct Row {
    pipeline: Pipeline,
    rate: f64,
    driven: api::Driven,
    lag: Summary,
    from_sent: Summary,
    before_accepted: usize,
    missing: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    if flags
        .rates
        .iter()
        .any(|&rate| !(rate > 0.0 && rate <= 10_000.0))
    {
        anyhow::bail!("--rates takes commands per second above 0, at most 10000");
    }
    let own_server = match &flags.nats_url {
        Some(_) => None,
        None => Some(nats_server::NatsServer::start(&flags.nats_server)?),
    };
    let nats_url = match (&flags.nats_url, &own_server) {
        (Some(url), _) => url.clone(),
        (None, Some(server)) => server.url(),
        (None, None) => unreachable!("a server is started when no URL is given"),
    };
    let mut rows = Vec::new();
    for &rate in &flags.rates {
        for &pipeline in &flags.pipelines {
            eprintln!("{rate}/s for {} s: {}", flags.seconds, pipeline.describe());
            let row = phase(&flags, &nats_url, pipeline, rate)
                .await
                .with_context(|| format!("{} at {rate}/s", pipeline.describe()))?;
            eprintln!(
                "  lag p50 {:.1} ms, p99 {:.1} ms",
                millis(row.lag.p50),
                millis(row.lag.p99)
            );
            rows.push(row);
        }
    }
    print(&flags, &rows);
    Ok(())
}

fn print(flags: &Flags, rows: &[Row]) {
    println!(
        "\n{} s per phase; projector: storage_status, batch {}; polls: store feed {} ms, relay tail {} ms, JetStream feed {} ms",
        flags.seconds, flags.batch, flags.store_poll_ms, flags.relay_poll_ms, flags.jetstream_poll_ms
    );
    println!("| rate/s | pipeline | achieved/s | commands | lag p50 ms | lag p99 ms | lag max ms | view before 201 | not applied | sent→view p50 ms | sent→view p99 ms | sent→view p50 / floor | accept p50 ms | accept p99 ms |");
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let floor = rows
            .iter()
            .find(|r| r.pipeline == Pipeline::Floor && r.rate == row.rate)
            .map(|r| r.from_sent.p50);
        let ratio = match floor {
            Some(floor) if !floor.is_zero() => {
                format!(
                    "{:.0}x",
                    row.from_sent.p50.as_secs_f64() / floor.as_secs_f64()
                )
            }
            _ => "-".to_owned(),
        };
        #[allow(clippy::cast_precision_loss)] // a rate
        let achieved = row.driven.sent as f64 / row.driven.elapsed.as_secs_f64();
        println!(
            "| {} | {} | {achieved:.1} | {} | {:.1} | {:.1} | {:.1} | {} | {} | {:.1} | {:.1} | {ratio} | {:.1} | {:.1} |",
            row.rate,
            row.pipeline.describe(),
            row.lag.count,
            millis(row.lag.p50),
            millis(row.lag.p99),
            millis(row.lag.max),
            row.before_accepted,
            row.missing,
            millis(row.from_sent.p50),
            millis(row.from_sent.p99),
            millis(row.driven.latency.p50),
            millis(row.driven.latency.p99),
        );
    }
}

/// One phase in a fresh database, dropped afterwards unless `--keep`.
async fn phase(
    flags: &Flags,
    nats_url: &str,
    pipeline: Pipeline,
    rate: f64,
) -> anyhow::Result<Row> {
    let database = format!("pp_lag_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&format!("{}/postgres", flags.server))
        .await
        .context("connecting to PostgreSQL")?;
    sqlx::query(&format!(
        r#"CREATE DATABASE "{database}" TEMPLATE template0"#
    ))
    .execute(&mut admin)
    .await?;
    let url = format!("{}/{database}", flags.server);
    let tracker = Tracker::default();
    let duration = Duration::from_secs(flags.seconds);
    let driven = match pipeline {
        Pipeline::Floor => match sqlx::PgPool::connect(&url).await {
            Ok(pool) => {
                let driven = floor::run(&pool, nats_url, rate, duration, &tracker).await;
                pool.close().await;
                driven
            }
            Err(error) => Err(error.into()),
        },
        Pipeline::Store => through_api(flags, &url, None, rate, &tracker).await,
        Pipeline::Jetstream => through_api(flags, &url, Some(nats_url), rate, &tracker).await,
    };
    if flags.keep {
        eprintln!("  kept database {database}");
    } else {
        sqlx::query(&format!(
            r#"DROP DATABASE IF EXISTS "{database}" WITH (FORCE)"#
        ))
        .execute(&mut admin)
        .await?;
    }
    let driven = driven?;
    let mut lags = tracker.lags();
    Ok(Row {
        pipeline,
        rate,
        driven,
        lag: Summary::of(&mut lags.lags),
        from_sent: Summary::of(&mut lags.from_sent),
        before_accepted: lags.before_accepted,
        missing: lags.missing,
    })
}

/// The API and the projector in this process, on pools of their own as if they were processes
/// of their own; given a NATS server, the relay too, and the projector fed from JetStream;
/// otherwise fed from the store.
async fn through_api(
    flags: &Flags,
    url: &str,
    nats_url: Option<&str>,
    rate: f64,
    tracker: &Tracker,
) -> anyhow::Result<api::Driven> {
    let store = EventStore::connect(url, 8).await?;
    let api = api::Api::start(&store).await?;
    let view_store = EventStore::connect(url, 4).await?;
    catalog::migrate(view_store.pool()).await?;
    let options = ProjectorOptions {
        batch_size: flags.batch,
        ..ProjectorOptions::default()
    };
    let (stop_projector, projector_stopped) = oneshot::channel::<()>();
    let stopped = async {
        let _ = projector_stopped.await;
    };
    let mut relay = None;
    let mut stream = None;
    let (projector, status): (_, StatusHandle) = match nats_url {
        None => {
            // The API's store, as inside `serve`: its commits wake the feed.
            let feed = StoreFeed::new(store.clone())
                .with(1_000, Duration::from_millis(flags.store_poll_ms));
            let feed = Observed::new(feed, tracker.clone());
            let projector = Projector::new(view_store.pool().clone(), StorageStatus, feed, options);
            let status = projector.status();
            (tokio::spawn(projector.run(stopped)), status)
        }
        Some(nats_url) => {
            let name = format!("LAG_{}", uuid::Uuid::new_v4().simple()).to_uppercase();
            let mut config = relay::RelayConfig::new(url, nats_url);
            config.stream = name.clone();
            config.tail.poll_interval = Duration::from_millis(flags.relay_poll_ms);
            let (stop_relay, relay_stopped) = oneshot::channel::<()>();
            relay = Some((
                stop_relay,
                tokio::spawn(relay::run(config, async {
                    let _ = relay_stopped.await;
                })),
            ));
            let mut options_js = JetStreamOptions::new(nats_url, "lag-storage-status");
            options_js.stream = name.clone();
            options_js.poll_interval = Duration::from_millis(flags.jetstream_poll_ms);
            options_js.max_ack_pending = options_js
                .max_ack_pending
                .max(i64::try_from(flags.batch.saturating_mul(2)).unwrap_or(i64::MAX));
            stream = Some(name);
            let feed = Observed::new(JetStreamFeed::new(options_js), tracker.clone());
            let projector = Projector::new(view_store.pool().clone(), StorageStatus, feed, options);
            let status = projector.status();
            (tokio::spawn(projector.run(stopped)), status)
        }
    };

    let result = async {
        // Warm-up: the registration's events through the whole pipeline before timing.
        let suite_code = api.register().await?;
        let deadline = Instant::now() + Duration::from_secs(60);
        while status.snapshot().events_committed == 0 {
            if Instant::now() > deadline {
                anyhow::bail!(
                    "the projector applied nothing within 60 s: {:?}",
                    status.snapshot().last_error
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let driven = api
            .drive(
                &suite_code,
                rate,
                Duration::from_secs(flags.seconds),
                tracker,
            )
            .await?;
        tracker.settle(Duration::from_secs(30)).await;
        Ok(driven)
    }
    .await;

    let _ = stop_projector.send(());
    projector.await?;
    if let Some((stop_relay, relay)) = relay {
        let _ = stop_relay.send(());
        relay.await??;
    }
    api.stop().await?;
    if let (Some(name), Some(nats_url)) = (stream, nats_url) {
        let client = async_nats::connect(nats_url).await?;
        async_nats::jetstream::new(client)
            .delete_stream(&name)
            .await
            .map_err(|error| anyhow::anyhow!("deleting stream {name}: {error}"))?;
    }
    store.pool().close().await;
    view_store.pool().close().await;
    result
}
