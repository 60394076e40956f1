//! # projection-bench
//!
//! Catch-up throughput of each projector, from a backlog of simulated events, against the stock
//! cqrs-es way on the same data, in one run:
//! - **runtime**: [`projection_runtime::rebuild`] into a fresh instance: batches of events per
//!   transaction, rows loaded and written in bulk, the checkpoint and applied sequences in the
//!   same transaction;
//! - **baseline**: `cqrs_es::persist::GenericQuery` over `postgres_es::PostgresViewRepository`,
//!   one view load and one save per event, each save its own transaction (`baseline.rs`), with
//!   view documents that fold the same changes as the runtime's rows.
//!
//! The backlog is a [`simulation::Simulation`] history loaded into the store's `events` table
//! with `COPY` in the order the commands were issued (`backlog.rs`), in a database of its own,
//! dropped at the end unless asked to keep it. The baseline may read only a prefix of it
//! (`--baseline-events`): it is one to two orders of magnitude slower. Compare ratios measured
//! side by side, not absolute figures (LIMITS.md, `docs/benchmarks.md`).

mod backlog;
mod baseline;

use event_store::EventStore;
use projection_runtime::{rebuild, Progress, Projection, RebuildOptions};
use projections::audit::Audit;
use projections::billing::Billing;
use projections::storage_status::StorageStatus;
use sqlx::{Connection, Executor, PgConnection};
use std::fmt;
use std::time::{Duration, Instant};

/// What to measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Events in the backlog.
    pub events: usize,
    /// Events the baseline reads (it is slow); all of them when `None`.
    pub baseline_events: Option<usize>,
    /// Events per transaction in the runtime.
    pub batch_size: usize,
    /// Events per read from the store.
    pub page_size: u32,
    /// The simulation's seed.
    pub seed: u64,
    /// The PostgreSQL server, without a database name.
    pub server: String,
    /// Keep the benchmark's database.
    pub keep: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            events: 1_000_000,
            baseline_events: None,
            batch_size: 500,
            page_size: 2_000,
            seed: 1,
            server: "postgres://postgres@127.0.0.1:5432".to_owned(),
            keep: false,
        }
    }
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A command-line argument was not understood.
    #[error("{0}\nusage: projection-bench [--events N] [--baseline-events M] [--batch B] [--page P] [--seed S] [--server URL] [--keep]")]
    Usage(String),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The event store failed.
    #[error("event store: {0}")]
    Store(#[from] event_store::EventStoreError),
    /// The runtime failed.
    #[error("projection runtime: {0}")]
    Runtime(#[from] projection_runtime::RuntimeError),
    /// The backlog could not be appended.
    #[error("backlog: {0}")]
    Backlog(#[from] simulation::PlayError),
}

impl Config {
    /// Parses `--name value` arguments over the defaults.
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Config, BenchError> {
        let mut config = Config::default();
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            if flag == "--keep" {
                config.keep = true;
                continue;
            }
            let value = args
                .next()
                .ok_or_else(|| BenchError::Usage(format!("{flag} needs a value")))?;
            let number = || {
                value
                    .replace('_', "")
                    .parse::<u64>()
                    .map_err(|_| BenchError::Usage(format!("{flag}: {value:?} is not a number")))
            };
            let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
            match flag.as_str() {
                "--events" => config.events = size(number()?),
                "--baseline-events" => config.baseline_events = Some(size(number()?)),
                "--batch" => config.batch_size = size(number()?).max(1),
                "--page" => config.page_size = u32::try_from(number()?).unwrap_or(u32::MAX),
                "--seed" => config.seed = number()?,
                "--server" => config.server = value,
                _ => return Err(BenchError::Usage(format!("unknown option {flag}"))),
            }
        }
        Ok(config)
    }
}

/// One projector's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// The view.
    pub view: &'static str,
    /// Events the runtime read.
    pub runtime_events: usize,
    /// Its time.
    pub runtime_time: Duration,
    /// Events the baseline read.
    pub baseline_events: usize,
    /// Its time.
    pub baseline_time: Duration,
}

fn per_second(events: usize, time: Duration) -> f64 {
    #[allow(clippy::cast_precision_loss)] // a rate
    let events = events as f64;
    events / time.as_secs_f64().max(1e-9)
}

impl Figures {
    /// Runtime events per second.
    pub fn runtime_rate(&self) -> f64 {
        per_second(self.runtime_events, self.runtime_time)
    }

    /// Baseline events per second.
    pub fn baseline_rate(&self) -> f64 {
        per_second(self.baseline_events, self.baseline_time)
    }
}

/// The run's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Events in the backlog.
    pub events: usize,
    /// How long simulating and loading them took.
    pub append_time: Duration,
    /// Per view.
    pub views: Vec<Figures>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "backlog: {} events loaded in {:.1} s ({:.0} events/s)",
            self.events,
            self.append_time.as_secs_f64(),
            per_second(self.events, self.append_time)
        )?;
        writeln!(
            f,
            "{:<16} {:>22} {:>30} {:>8}",
            "view", "runtime events/s", "cqrs-es GenericQuery events/s", "ratio"
        )?;
        for v in &self.views {
            writeln!(
                f,
                "{:<16} {:>12.0} ({:>7} ev) {:>20.0} ({:>7} ev) {:>7.1}x",
                v.view,
                v.runtime_rate(),
                v.runtime_events,
                v.baseline_rate(),
                v.baseline_events,
                v.runtime_rate() / v.baseline_rate().max(1e-9)
            )?;
        }
        Ok(())
    }
}

/// Builds the backlog in a new database, measures each view both ways, and drops the database
/// unless `config.keep`.
pub async fn run(config: &Config) -> Result<Report, BenchError> {
    let database = format!("pp_bench_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&format!("{}/postgres", config.server)).await?;
    admin
        .execute(format!(r#"CREATE DATABASE "{database}" TEMPLATE template0"#).as_str())
        .await?;
    eprintln!("database {database}");
    let result = measure(config, &database).await;
    if config.keep {
        eprintln!("kept database {database}");
    } else {
        admin
            .execute(format!(r#"DROP DATABASE IF EXISTS "{database}" WITH (FORCE)"#).as_str())
            .await?;
    }
    result
}

async fn measure(config: &Config, database: &str) -> Result<Report, BenchError> {
    let store = EventStore::connect(&format!("{}/{database}", config.server), 8).await?;
    store.migrate().await?;
    let pool = store.pool().clone();
    projection_runtime::catalog::migrate(&pool).await?;

    let started = Instant::now();
    let events = backlog::build(&store, config.events, config.seed).await?;
    let append_time = started.elapsed();
    eprintln!(
        "backlog: {events} events in {:.1} s",
        append_time.as_secs_f64()
    );

    let baseline_events = config.baseline_events.unwrap_or(events).min(events);
    let mut views = Vec::new();
    views.push(
        figures(
            config,
            &store,
            StorageStatus,
            baseline_events,
            baseline::storage_status,
        )
        .await?,
    );
    views.push(figures(config, &store, Billing, baseline_events, baseline::billing).await?);
    views.push(figures(config, &store, Audit, baseline_events, baseline::audit).await?);
    Ok(Report {
        events,
        append_time,
        views,
    })
}

async fn figures<P, F, Fut>(
    config: &Config,
    store: &EventStore,
    projection: P,
    baseline_events: usize,
    baseline: F,
) -> Result<Figures, BenchError>
where
    P: Projection,
    F: FnOnce(EventStore, usize) -> Fut,
    Fut: std::future::Future<Output = Result<(usize, Duration), BenchError>>,
{
    let view = projection.name();
    eprintln!("{view}: runtime");
    let options = RebuildOptions {
        batch_size: config.batch_size,
        page_size: config.page_size,
        progress: Progress::Auto,
        grace: Duration::ZERO,
    };
    let report = rebuild(store.pool(), store, projection, options).await?;
    let outcome = report.outcome;
    assert_eq!(outcome.parked, 0, "{view}: nothing parked");
    eprintln!(
        "{view}: runtime {:.0} events/s; baseline (GenericQuery, one load and save per event)",
        report.events_per_second()
    );
    let (baseline_events, baseline_time) = baseline(store.clone(), baseline_events).await?;
    Ok(Figures {
        view,
        runtime_events: outcome.applied + outcome.skipped + outcome.parked,
        runtime_time: report.elapsed,
        baseline_events,
        baseline_time,
    })
}
