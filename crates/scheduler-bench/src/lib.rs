//! # scheduler-bench
//!
//! How long parcelport's scheduler (`crates/scheduler`) takes to find and fire one day's work
//! in a warehouse of stored parcels, and how much memory it takes, on the embedded SQLite
//! store or on PostgreSQL, against plain single-row INSERTs into the same store measured in
//! the same run (the repository's benchmarks are ratios against a baseline, see
//! `docs/benchmarks.md`).
//!
//! One run ([`run`]):
//! 1. a fresh store: a temporary data directory (SQLite), or a scratch PostgreSQL database
//!    `pp_schedbench_<random>` dropped at the end, even on an error, a panic or Ctrl-C; the
//!    engine, the views and the scheduler are built with the public constructors
//!    `parcelport serve` uses (`SqliteEngine::open`, `ViewDb::open_sqlite`, `PgEngine::postgres`,
//!    `Scheduler::new`, `Projector` over `StoreFeed`) on a simulated `BusinessClock`;
//! 2. seeding through the engine (`seed.rs`): members registered and topped up, parcels
//!    received, inspected and stored over a spread of past days, a share on extended storage;
//! 3. the `storage_status` and `schedule` views caught up (`views.rs`);
//! 4. the backlog: the scheduler ticks on the day before the measured one until nothing is
//!    left, so the measured day holds exactly one day's work (what a scheduler that ran every
//!    day would find);
//! 5. the measured day: the clock moved to its first instant; `Scheduler::due` timed alone
//!    (find), then `Scheduler::tick` (find again, journal check, fire everything through the
//!    engine, journal it), the time inside the engine counted by `timed::Timed`; peak RSS
//!    reset before and read after;
//! 6. the baseline: as many plain INSERTs as actions journaled, into a scratch table of the
//!    same store (`store.rs`); then the views read the day's events and a second tick shows
//!    that nothing is left and what an idle tick costs;
//! 7. with `days` > 1, steps 5 and 6 again for each following day (no parcel arrives after the
//!    first measured day, so later days hold the same kinds of work from the same history).
//!
//! Map of the crate: `seed.rs` (the warehouse), `views.rs` (catch-up), `timed.rs` (the engine
//! timed), `store.rs` (event counts and the baseline), `memory.rs` (`/proc`), `progress.rs`
//! (bars and stage lines), `report.rs` (the figures, Markdown and JSON); `main.rs` the flags.
//!
//! No figure is asserted or hard-coded: everything printed is measured in the run.

mod memory;
mod progress;
mod report;
mod seed;
mod store;
mod timed;
mod views;

pub use memory::Memory;
pub use report::{Backlog, Day, MemoryFigures, Report, RuleFigures};
pub use seed::{Plan, Seeded};
pub use store::Baseline;
pub use views::CatchUp;

use anyhow::{anyhow, ensure, Context};
use chrono::{Days, NaiveDate, Utc};
use cqrs_es::persist::PersistedEventRepository;
use domain::{Policy, Services};
use engine::{Engine, EngineConfig, EngineStore, PgEngine, SqliteEngine};
use event_store::{EventLog, EventStore};
use futures::FutureExt;
use progress::Progress;
use projection_runtime::ViewDb;
use scheduler::{BusinessClock, Entry, Fire, Outcome, Scheduler, SchedulerOptions};
use sqlx::Connection;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::Store;
use timed::{Calls, Timed};

/// The views file beside the store in a data directory, as `parcelport serve` names it
/// (`parcelport::VIEWS_FILE`; not a dependency, to keep the serve binary's crates out).
const VIEWS_FILE: &str = "views.db";
/// The suite-code prefix `parcelport serve` uses by default.
const SUITE_PREFIX: &str = "TYO";
/// PostgreSQL connections, as `parcelport serve` by default.
const MAX_CONNECTIONS: u32 = 16;

/// One run's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The warehouse and the measured day.
    pub plan: Plan,
    /// The operator policy (a shipped profile).
    pub policy: Policy,
    /// The PostgreSQL server (`postgres://user@host:port[/db]`); the embedded store when `None`.
    pub database_url: Option<String>,
    /// The SQLite data directory; a temporary one, removed at the end, when `None`.
    pub data_dir: Option<PathBuf>,
    /// Keep the temporary directory or the scratch database.
    pub keep: bool,
    /// Progress on stderr.
    pub progress: bool,
    /// Days measured one after the other from `plan.day` (each the next day's work).
    pub days: u32,
    /// Before each measured day, wait up to this long until no `cargo` or `rustc` process has
    /// run for 10 s (a shared machine); measure at once when `None`.
    pub wait_quiet: Option<Duration>,
}

/// Seeds, measures and reports one run (see the crate's documentation).
pub async fn run(config: &Config) -> anyhow::Result<Report> {
    ensure!(
        config.plan.parcels > 0 && config.plan.members > 0 && config.plan.spread_days > 0,
        "parcels, members and spread days must be positive"
    );
    ensure!(
        config.plan.extended_percent <= 100,
        "the extended share is a percentage"
    );
    let start = memory::now();
    let progress = Progress::new(config.progress);
    match &config.database_url {
        None => {
            let mut temporary = None;
            let dir = match &config.data_dir {
                Some(dir) => dir.clone(),
                None => {
                    let made = tempfile::Builder::new()
                        .prefix("pp_schedbench_")
                        .tempdir()?;
                    let path = made.path().to_owned();
                    temporary = Some(made);
                    path
                }
            };
            progress.note(&format!("embedded store in {}", dir.display()));
            let outcome = guarded(on_sqlite(config, dir.clone(), start, &progress)).await;
            if let (true, Some(made)) = (config.keep, temporary) {
                progress.note(&format!("kept {}", made.keep().display()));
            }
            outcome
        }
        Some(server) => {
            let name = format!("pp_schedbench_{}", uuid::Uuid::new_v4().simple());
            let admin_url = with_database(server, "postgres")?;
            let mut admin = sqlx::PgConnection::connect(&admin_url)
                .await
                .with_context(|| format!("connecting to {admin_url}"))?;
            sqlx::query(&format!(r#"CREATE DATABASE "{name}" TEMPLATE template0"#))
                .execute(&mut admin)
                .await?;
            admin.close().await?;
            progress.note(&format!("scratch database {name}"));
            let url = with_database(server, &name)?;
            let outcome = guarded(on_postgres(config, url, start, &progress)).await;
            if config.keep {
                progress.note(&format!("kept the database {name}"));
                return outcome;
            }
            let dropped = drop_database(&admin_url, &name).await;
            match (outcome, dropped) {
                (Ok(report), Ok(())) => Ok(report),
                (Ok(_), Err(error)) => Err(error.context(format!("dropping {name}"))),
                (Err(error), dropped) => {
                    if let Err(also) = dropped {
                        eprintln!("dropping {name} failed too: {also:#}");
                    }
                    Err(error)
                }
            }
        }
    }
}

async fn drop_database(admin_url: &str, name: &str) -> anyhow::Result<()> {
    let mut admin = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    Ok(())
}

/// `server` (a PostgreSQL URL, with or without a database) naming database `name` instead.
fn with_database(server: &str, name: &str) -> anyhow::Result<String> {
    let (base, query) = match server.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server, None),
    };
    let authority = base
        .find("://")
        .map(|at| at + 3)
        .ok_or_else(|| anyhow!("{server:?} is not a postgres:// URL"))?;
    let path = base[authority..]
        .find('/')
        .map_or(base.len(), |at| authority + at);
    let mut url = format!("{}/{name}", &base[..path]);
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    Ok(url)
}

/// `work`, ended early by Ctrl-C, its panic turned into an error, so the caller always gets
/// to clean up.
async fn guarded<T>(work: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::select! {
        outcome = std::panic::AssertUnwindSafe(work).catch_unwind() => match outcome {
            Ok(result) => result,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(anyhow!("the harness panicked: {message}"))
            }
        },
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
    }
}

fn clock_for(config: &Config) -> BusinessClock {
    BusinessClock::simulated(seed::local(
        config.plan.registration_day(),
        9,
        &config.policy,
    ))
}

async fn on_sqlite(
    config: &Config,
    dir: PathBuf,
    start: Memory,
    progress: &Progress,
) -> anyhow::Result<Report> {
    let clock = clock_for(config);
    let engine = SqliteEngine::open(
        &dir,
        Services::new(config.policy.clone()),
        EngineConfig::new(SUITE_PREFIX)?,
    )
    .await?
    .with_clock(clock.clone());
    let log = engine.event_log().clone();
    let views = ViewDb::open_sqlite(dir.join(VIEWS_FILE)).await?;
    let store = Store::Sqlite(log.clone());
    let report = measure(
        config,
        Arc::new(engine),
        log.clone(),
        views.clone(),
        store,
        clock,
        start,
        progress,
    )
    .await;
    views.close().await;
    log.close().await;
    report
}

async fn on_postgres(
    config: &Config,
    url: String,
    start: Memory,
    progress: &Progress,
) -> anyhow::Result<Report> {
    let clock = clock_for(config);
    let store = EventStore::connect(&url, MAX_CONNECTIONS).await?;
    let engine = PgEngine::postgres(
        &store,
        Services::new(config.policy.clone()),
        EngineConfig::new(SUITE_PREFIX)?,
    )
    .with_clock(clock.clone());
    engine.migrate().await?;
    let views = ViewDb::from(store.pool());
    let report = measure(
        config,
        Arc::new(engine),
        store.clone(),
        views,
        Store::Postgres(store.clone()),
        clock,
        start,
        progress,
    )
    .await;
    store.pool().close().await;
    report
}

/// Seeds, catches up, runs the backlog, measures the day and the baseline.
#[allow(clippy::too_many_arguments)]
async fn measure<R, S, L>(
    config: &Config,
    engine: Arc<Engine<R, S>>,
    log: L,
    views: ViewDb,
    store: Store,
    clock: BusinessClock,
    start: Memory,
    progress: &Progress,
) -> anyhow::Result<Report>
where
    R: PersistedEventRepository + 'static,
    S: EngineStore + 'static,
    Engine<R, S>: Send + Sync,
    L: EventLog + Clone + 'static,
{
    let started_at = Utc::now();
    let plan = &config.plan;
    let policy = Arc::new(config.policy.clone());

    let seeding = seed::seed(&engine, &clock, plan, progress).await?;
    let after_seeding = memory::now();
    let events_seeded = store.events().await?;
    progress.note(&format!(
        "seeded {} parcels and {} members ({} events) in {:.1} s",
        seeding.parcels, seeding.members, events_seeded, seeding.seconds
    ));
    let catch_up = views::catch_up(&log, &views, events_seeded, progress).await?;
    progress.note(&format!(
        "views caught up: {} events read in {:.1} s",
        catch_up.events, catch_up.seconds
    ));

    let timed = Arc::new(Timed::new(Arc::clone(&engine)));
    let scheduler = Scheduler::new(
        Arc::clone(&timed),
        log.clone(),
        views.clone(),
        clock.clone(),
        Arc::clone(&policy),
        SchedulerOptions::default(),
    )
    .await?;

    // The backlog, on the day before: what a scheduler running every day would have done.
    let backlog_day = plan
        .day
        .pred_opt()
        .context("the measured day has no day before")?;
    clock.set(seed::local(backlog_day, 20, &policy))?;
    let backlog_started = Instant::now();
    let mut events_before = store.events().await?;
    let mut entries: Vec<Entry> = Vec::new();
    let mut ticks = 0u32;
    loop {
        let tick = scheduler.tick().await?;
        ticks += 1;
        ensure!(
            tick.failed == 0,
            "{} backlog actions failed (see the log)",
            tick.failed
        );
        let fired = !tick.journaled.is_empty();
        progress.note(&format!(
            "backlog tick {ticks} on {backlog_day}: {} actions",
            tick.journaled.len()
        ));
        entries.extend(tick.journaled);
        let now = store.events().await?;
        views::catch_up(&log, &views, now.saturating_sub(events_before), progress).await?;
        events_before = now;
        if !fired {
            break;
        }
    }
    let backlog = Backlog {
        day: backlog_day,
        ticks,
        actions: entries.len() as u64,
        seconds: backlog_started.elapsed().as_secs_f64(),
        by_rule: by_rule(&entries, &timed.take(), &BTreeMap::new()),
    };
    drop(entries);
    progress.note(&format!(
        "backlog: {} actions in {:.1} s",
        backlog.actions, backlog.seconds
    ));

    // The measured days, each on a quiet machine when asked.
    let before_days = memory::now();
    let mut days = Vec::new();
    for k in 0..config.days.max(1) {
        let date = plan
            .day
            .checked_add_days(Days::new(u64::from(k)))
            .context("the measured days run past the calendar")?;
        let day = measure_day(
            date,
            &scheduler,
            &timed,
            &log,
            &views,
            &store,
            &clock,
            &policy,
            &mut events_before,
            config.wait_quiet,
            progress,
        )
        .await?;
        days.push(day);
    }
    Ok(Report {
        store: store.name(),
        policy: policy.version().to_string(),
        plan: plan.clone(),
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        started_at,
        seeding,
        events_seeded,
        catch_up,
        backlog,
        days,
        memory: MemoryFigures {
            start,
            after_seeding,
            before_days,
        },
    })
}

/// One measured day on `date`: the clock moved to its local midnight, `due` timed alone, then
/// the tick; the baseline of as many INSERTs; the views reading the day's events; an idle tick.
#[allow(clippy::too_many_arguments)]
async fn measure_day<F: Fire, L: EventLog + Clone + 'static>(
    date: NaiveDate,
    scheduler: &Scheduler<Timed<F>, L>,
    timed: &Timed<F>,
    log: &L,
    views: &ViewDb,
    store: &Store,
    clock: &BusinessClock,
    policy: &Policy,
    events_before: &mut u64,
    wait: Option<Duration>,
    progress: &Progress,
) -> anyhow::Result<Day> {
    let quiet_wait_seconds = match wait {
        Some(limit) => wait_quiet(limit, progress).await,
        None => 0.0,
    };
    let builds_before = memory::builds_running();
    let memory_before = memory::now();
    let peak_reset = memory::reset_peak();
    let at = seed::local(date, 0, policy);
    clock.set(at)?;
    let _ = timed.take();
    let load_before = memory::load_average();
    let find_started = Instant::now();
    let found = scheduler.due(Some(at)).await?;
    let find_seconds = find_started.elapsed().as_secs_f64();
    let mut found_by: BTreeMap<(String, String), u64> = BTreeMap::new();
    for action in &found {
        *found_by
            .entry((action.rule().to_owned(), action.kind.name().to_owned()))
            .or_default() += 1;
    }
    let found_count = found.len() as u64;
    drop(found);
    let tick_started = Instant::now();
    let tick = scheduler.tick().await?;
    let tick_seconds = tick_started.elapsed().as_secs_f64();
    let load_after = memory::load_average();
    let memory_after = memory::now();
    let calls = timed.take();
    let journaled = tick.journaled.len() as u64;
    progress.note(&format!(
        "{date}: found {found_count} in {find_seconds:.3} s; the tick journaled {journaled} in {tick_seconds:.3} s"
    ));

    let baseline = store.baseline(journaled).await?;
    let builds_after = memory::builds_running();
    progress.note(&format!(
        "{date}: baseline {} INSERTs in {:.3} s",
        baseline.inserts, baseline.seconds
    ));

    let now = store.events().await?;
    let views_after =
        views::catch_up(log, views, now.saturating_sub(*events_before), progress).await?;
    *events_before = store.events().await?;
    let idle_started = Instant::now();
    let idle = scheduler.tick().await?;
    let idle_tick_seconds = idle_started.elapsed().as_secs_f64();
    let _ = timed.take();
    ensure!(
        idle.journaled.is_empty() && idle.failed == 0 && tick.failed == 0,
        "{date}: {} actions failed and {} were left for a second tick",
        tick.failed + idle.failed,
        idle.journaled.len()
    );

    let count = |outcome: Outcome| {
        tick.journaled
            .iter()
            .filter(|entry| entry.outcome == outcome)
            .count() as u64
    };
    Ok(Day {
        date,
        clock: at,
        load_before,
        load_after,
        builds_before,
        builds_after,
        quiet_wait_seconds,
        find_seconds,
        found: found_count,
        tick_seconds,
        engine_seconds: calls.values().map(|c| c.seconds).sum(),
        journaled,
        done: count(Outcome::Done),
        nothing_due: count(Outcome::NothingDue),
        skipped: count(Outcome::Skipped),
        failed: u64::from(tick.failed),
        events: tick.journaled.iter().map(|e| u64::from(e.events)).sum(),
        by_rule: by_rule(&tick.journaled, &calls, &found_by),
        baseline,
        views_after,
        idle_tick_seconds,
        left_after: idle.journaled.len() as u64,
        memory_before,
        memory_after,
        peak_reset,
    })
}

/// Waits until no build has run for 10 s in a row, at most `limit`: the seconds waited.
async fn wait_quiet(limit: Duration, progress: &Progress) -> f64 {
    let started = Instant::now();
    let mut quiet_since = Instant::now();
    let mut told = false;
    while started.elapsed() < limit {
        if memory::builds_running().is_empty() {
            if quiet_since.elapsed() >= Duration::from_secs(10) {
                break;
            }
        } else {
            if !told {
                progress.note("waiting for the builds on this machine to end before the day");
                told = true;
            }
            quiet_since = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    started.elapsed().as_secs_f64()
}

/// The figures of `entries` by rule and action, with the engine's calls and what `due` found.
fn by_rule(
    entries: &[Entry],
    calls: &BTreeMap<(&'static str, &'static str), Calls>,
    found: &BTreeMap<(String, String), u64>,
) -> Vec<RuleFigures> {
    let mut rows: BTreeMap<(String, String), RuleFigures> = BTreeMap::new();
    fn row<'a>(
        rows: &'a mut BTreeMap<(String, String), RuleFigures>,
        rule: &str,
        action: &str,
    ) -> &'a mut RuleFigures {
        rows.entry((rule.to_owned(), action.to_owned()))
            .or_insert_with(|| RuleFigures {
                rule: rule.to_owned(),
                action: action.to_owned(),
                ..RuleFigures::default()
            })
    }
    for ((rule, action), &n) in found {
        row(&mut rows, rule, action).found = n;
    }
    for entry in entries {
        let r = row(&mut rows, &entry.rule, &entry.action);
        match entry.outcome {
            Outcome::Done => r.done += 1,
            Outcome::NothingDue => r.nothing_due += 1,
            Outcome::Skipped => r.skipped += 1,
        }
        r.events += u64::from(entry.events);
    }
    for ((rule, action), c) in calls {
        let r = row(&mut rows, rule, action);
        r.calls = c.calls;
        r.engine_seconds = c.seconds;
    }
    rows.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn a_server_url_names_the_scratch_database() {
        let name = |url| with_database(url, "pp_x").unwrap();
        assert_eq!(
            name("postgres://postgres@127.0.0.1:5432"),
            "postgres://postgres@127.0.0.1:5432/pp_x"
        );
        assert_eq!(
            name("postgres://u:p@h:5432/parcelport?sslmode=disable"),
            "postgres://u:p@h:5432/pp_x?sslmode=disable"
        );
        assert!(with_database("127.0.0.1:5432", "pp_x").is_err());
    }
}
