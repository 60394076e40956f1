//! `scheduler-bench`: reads its flags, runs the harness (`scheduler_bench::run`), prints the
//! figures as Markdown on stdout and, with `--json`, writes them to a file. Progress goes to
//! stderr.
//!
//! ```sh
//! cargo run --release -p scheduler-bench -- --parcels 100000
//! cargo run --release -p scheduler-bench -- --parcels 100000 \
//!     --database-url postgres://postgres@127.0.0.1:5432 --json pg.json
//! ```

use anyhow::{bail, Context};
use chrono::NaiveDate;
use clap::Parser;
use domain::Policy;
use scheduler_bench::{run, Config, Plan};
use std::path::PathBuf;
use std::time::Duration;

/// How long the scheduler takes to find and fire a day's work, and its memory.
#[derive(Debug, Parser)]
#[command(about)]
struct Flags {
    /// Stored parcels.
    #[arg(long, default_value_t = 100_000)]
    parcels: u32,
    /// Members owning them in turn; one per ten parcels when absent.
    #[arg(long)]
    members: Option<u32>,
    /// Parcels arrive evenly over this many days before the measured day.
    #[arg(long, default_value_t = 40)]
    spread_days: u32,
    /// Percent of parcels on paid extended storage (STO-3), where the policy offers it.
    #[arg(long, default_value_t = 10)]
    extended_percent: u32,
    /// The measured day (the warehouse's local date).
    #[arg(long, default_value = "2026-06-15")]
    day: NaiveDate,
    /// The shipped policy: cn-agency (storage notices, the disposable mark and extended-storage
    /// fees) or jp-forwarding (`serve`'s default; no extended storage, so no STO-3).
    #[arg(long, default_value = "cn-agency")]
    policy: String,
    /// Days measured one after the other from --day.
    #[arg(long, default_value_t = 1)]
    days: u32,
    /// Parcels seeded at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// A PostgreSQL server (`postgres://user@host:port`): run on a scratch database there,
    /// dropped at the end, instead of the embedded SQLite store.
    #[arg(long)]
    database_url: Option<String>,
    /// The SQLite data directory (kept); a temporary one, removed at the end, when absent.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Keep the temporary directory or the scratch database.
    #[arg(long)]
    keep: bool,
    /// Write the figures as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// No progress on stderr.
    #[arg(long)]
    quiet: bool,
    /// Before each measured day, wait up to this many seconds until no cargo or rustc process
    /// has run for 10 s (on a machine shared with builds).
    #[arg(long, default_value_t = 0)]
    wait_quiet: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    let policy = match flags.policy.as_str() {
        "cn-agency" => Policy::cn_agency(),
        "jp-forwarding" => Policy::jp_forwarding(),
        other => bail!("--policy is cn-agency or jp-forwarding, not {other:?}"),
    };
    let config = Config {
        plan: Plan {
            parcels: flags.parcels,
            members: flags.members.unwrap_or((flags.parcels / 10).max(1)),
            spread_days: flags.spread_days,
            extended_percent: flags.extended_percent,
            day: flags.day,
            concurrency: flags.concurrency,
        },
        policy,
        database_url: flags.database_url,
        data_dir: flags.data_dir,
        keep: flags.keep,
        progress: !flags.quiet,
        days: flags.days,
        wait_quiet: (flags.wait_quiet > 0).then(|| Duration::from_secs(flags.wait_quiet)),
    };
    let report = run(&config).await?;
    println!("{}", report.markdown());
    if let Some(path) = &flags.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
