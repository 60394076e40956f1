//! [`Report`]: every figure of one run, as JSON (`--json`) and as the Markdown printed on
//! stdout. Nothing here is measured; it only arranges what `lib.rs` measured.

use crate::memory::{mib, Memory};
use crate::seed::{Plan, Seeded};
use crate::store::{rate, Baseline};
use crate::views::CatchUp;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::fmt::Write as _;

/// One run's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// `sqlite` or `postgres`.
    pub store: &'static str,
    /// The policy decided with (`cn-agency@2026.12`).
    pub policy: String,
    /// The warehouse asked for.
    pub plan: Plan,
    /// CPUs the process may use.
    pub cores: usize,
    /// When the run started (the machine's clock).
    pub started_at: DateTime<Utc>,
    /// The warehouse seeded.
    pub seeding: Seeded,
    /// Events in the store after seeding.
    pub events_seeded: u64,
    /// The views caught up with the seeded store.
    pub catch_up: CatchUp,
    /// The scheduler's first run, on the day before the measured one: everything the seeded
    /// history made due up to then, so that the measured day holds one day's work only.
    pub backlog: Backlog,
    /// The measured days, in order.
    pub days: Vec<Day>,
    /// Memory before and after setting up.
    pub memory: MemoryFigures,
}

/// The backlog run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Backlog {
    /// Its day.
    pub day: NaiveDate,
    /// Ticks until one journaled nothing.
    pub ticks: u32,
    /// Actions journaled.
    pub actions: u64,
    /// Seconds, ticks and view catch-ups between them.
    pub seconds: f64,
    /// Actions by rule and action.
    pub by_rule: Vec<RuleFigures>,
}

/// One measured day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Day {
    /// Its local date.
    pub date: NaiveDate,
    /// The clock when it was measured (the day's first instant, local).
    pub clock: DateTime<Utc>,
    /// Load average (1, 5, 15 min) just before.
    pub load_before: Option<[f64; 3]>,
    /// Load average just after the tick.
    pub load_after: Option<[f64; 3]>,
    /// Builds (`cargo`, `rustc`) running just before the day.
    pub builds_before: Vec<String>,
    /// Builds running just after the baseline.
    pub builds_after: Vec<String>,
    /// Seconds waited for a quiet machine before the day (`--wait-quiet`).
    pub quiet_wait_seconds: f64,
    /// `Scheduler::due` alone: seconds.
    pub find_seconds: f64,
    /// Actions it returned (due or not yet, journaled or not).
    pub found: u64,
    /// `Scheduler::tick`: seconds (it finds again, checks the journal, fires each action
    /// through the engine and journals it).
    pub tick_seconds: f64,
    /// Of the tick, seconds inside the engine's use cases.
    pub engine_seconds: f64,
    /// Actions the tick journaled.
    pub journaled: u64,
    /// Of which done (events appended).
    pub done: u64,
    /// Of which nothing due (the aggregate had nothing to do).
    pub nothing_due: u64,
    /// Of which skipped (refused).
    pub skipped: u64,
    /// Actions that failed and would be retried.
    pub failed: u64,
    /// Events the day's actions appended.
    pub events: u64,
    /// By rule and action.
    pub by_rule: Vec<RuleFigures>,
    /// Plain INSERTs, as many as the day's actions, into the same store, right after the tick.
    pub baseline: Baseline,
    /// The views reading the day's events afterwards.
    pub views_after: CatchUp,
    /// A second tick, the views caught up: seconds (what every later tick of the day costs
    /// while nothing new is due; `serve` ticks every 30 s).
    pub idle_tick_seconds: f64,
    /// Actions the second tick journaled (0: the day's work was done by the first).
    pub left_after: u64,
    /// Resident memory just before the day.
    pub memory_before: Memory,
    /// Resident memory after the tick; its `peak_kib` is the peak of the find and the tick
    /// alone when `peak_reset`, else the process's.
    pub memory_after: Memory,
    /// Whether the peak was reset before the day (`/proc/self/clear_refs`).
    pub peak_reset: bool,
}

impl Day {
    /// Actions journaled per second of tick.
    pub fn actions_per_second(&self) -> f64 {
        rate(self.journaled, self.tick_seconds)
    }

    /// Plain INSERTs one action costs: the tick's time per action over one INSERT's.
    pub fn inserts_per_action(&self) -> Option<f64> {
        self.per_insert(self.tick_seconds)
    }

    /// The same, counting only the time inside the engine.
    pub fn engine_inserts_per_action(&self) -> Option<f64> {
        self.per_insert(self.engine_seconds)
    }

    fn per_insert(&self, seconds: f64) -> Option<f64> {
        let per_insert = self.baseline.seconds / self.baseline.inserts as f64;
        (self.journaled > 0 && self.baseline.inserts > 0 && per_insert > 0.0)
            .then(|| seconds / self.journaled as f64 / per_insert)
    }

    /// Growth during the day: the day's peak over the resident size just before.
    pub fn growth_kib(&self) -> u64 {
        self.memory_after
            .peak_kib
            .saturating_sub(self.memory_before.rss_kib)
    }

    /// Whether a build ran beside the day.
    pub fn disturbed(&self) -> bool {
        !self.builds_before.is_empty() || !self.builds_after.is_empty()
    }
}

/// One rule's action.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RuleFigures {
    /// The rule id.
    pub rule: String,
    /// The action's name.
    pub action: String,
    /// Returned by `due` (measured day only).
    pub found: u64,
    /// Journaled done.
    pub done: u64,
    /// Journaled nothing due.
    pub nothing_due: u64,
    /// Journaled skipped.
    pub skipped: u64,
    /// Events appended.
    pub events: u64,
    /// Engine calls.
    pub calls: u64,
    /// Seconds inside the engine.
    pub engine_seconds: f64,
}

/// Resident memory while setting up (`VmRSS`, and the peak `VmHWM`); each day has its own.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MemoryFigures {
    /// Before seeding.
    pub start: Memory,
    /// After seeding.
    pub after_seeding: Memory,
    /// After the views caught up and the backlog ran, just before the first measured day.
    pub before_days: Memory,
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn load(load: Option<[f64; 3]>) -> String {
    load.map_or_else(
        || "n/a".to_owned(),
        |[a, b, c]| format!("{a:.2} / {b:.2} / {c:.2}"),
    )
}

fn builds(list: &[String]) -> String {
    if list.is_empty() {
        "none".to_owned()
    } else {
        list.join(", ")
    }
}

fn ms_per(seconds: f64, count: u64) -> String {
    if count == 0 {
        "n/a".to_owned()
    } else {
        format!("{:.2}", seconds * 1_000.0 / count as f64)
    }
}

impl Report {
    /// The process's peak resident memory over the whole run.
    pub fn process_peak_kib(&self) -> u64 {
        self.days
            .iter()
            .map(|d| d.memory_after.peak_kib)
            .fold(self.memory.before_days.peak_kib, u64::max)
    }

    /// The report as Markdown: the first measured day in full, every day in a row, the first
    /// day and the backlog by rule.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let Some(d) = self.days.first() else {
            return out;
        };
        let m = &self.memory;
        let store = match self.store {
            "sqlite" => "embedded SQLite (WAL, synchronous=FULL; views in views.db)",
            _ => "PostgreSQL (store, views and journal in one scratch database)",
        };
        let _ = writeln!(
            out,
            "\nScheduler, a day's work: {} stored parcels on {store}, policy {}, {} core(s)\n",
            thousands(u64::from(self.seeding.parcels)),
            self.policy,
            self.cores
        );
        let _ = writeln!(out, "| figure | value |\n|---|---:|");
        let mut row = |name: &str, value: String| {
            let _ = writeln!(out, "| {name} | {value} |");
        };
        row(
            "stored parcels (members; on extended storage)",
            format!(
                "{} ({}; {})",
                thousands(u64::from(self.seeding.parcels)),
                thousands(u64::from(self.seeding.members)),
                thousands(u64::from(self.seeding.extended))
            ),
        );
        row(
            "arrivals",
            format!(
                "{} to {} ({} days)",
                self.seeding.first_arrival, self.seeding.last_arrival, self.plan.spread_days
            ),
        );
        row(
            "measured day",
            format!(
                "{} (from its local midnight, {} UTC)",
                d.date,
                d.clock.format("%Y-%m-%d %H:%M")
            ),
        );
        row("load average before (1/5/15 min)", load(d.load_before));
        row("load average after the tick", load(d.load_after));
        row(
            "builds running before the day; after the baseline",
            format!("{}; {}", builds(&d.builds_before), builds(&d.builds_after)),
        );
        row(
            "**find** what is due (`Scheduler::due`)",
            format!(
                "**{:.3} s** ({} actions returned)",
                d.find_seconds,
                thousands(d.found)
            ),
        );
        row(
            "**tick** (find again, journal check, fire all, journal)",
            format!("**{:.3} s**", d.tick_seconds),
        );
        row(
            "of the tick, inside the engine (**fire**)",
            format!(
                "**{:.3} s** ({} ms/action)",
                d.engine_seconds,
                ms_per(d.engine_seconds, d.journaled)
            ),
        );
        row(
            "actions journaled (done / nothing due / skipped; failed)",
            format!(
                "{} ({} / {} / {}; {})",
                thousands(d.journaled),
                thousands(d.done),
                thousands(d.nothing_due),
                thousands(d.skipped),
                thousands(d.failed)
            ),
        );
        row("events appended", thousands(d.events));
        row(
            "**actions/s** (journaled / tick)",
            format!(
                "**{:.0}** ({} ms/action)",
                d.actions_per_second(),
                ms_per(d.tick_seconds, d.journaled)
            ),
        );
        row(
            "plain INSERTs, same count, same store",
            format!(
                "{} in {:.3} s = {:.0}/s ({} ms each)",
                thousands(d.baseline.inserts),
                d.baseline.seconds,
                d.baseline.per_second(),
                ms_per(d.baseline.seconds, d.baseline.inserts)
            ),
        );
        row(
            "**an action costs** (tick; engine only)",
            match (d.inserts_per_action(), d.engine_inserts_per_action()) {
                (Some(tick), Some(engine)) => {
                    format!("**{tick:.1} plain INSERTs** ({engine:.1} in the engine)")
                }
                _ => "n/a".to_owned(),
            },
        );
        row(
            "idle tick afterwards (nothing left; journaled)",
            format!("{:.3} s ({})", d.idle_tick_seconds, d.left_after),
        );
        row(
            "views reading the day's events",
            format!(
                "{} events in {:.1} s",
                thousands(d.views_after.events),
                d.views_after.seconds
            ),
        );
        row(
            "peak RSS (VmHWM): before seeding / after seeding / after the day(s)",
            format!(
                "{:.0} / {:.0} / {:.0} MiB",
                mib(m.start.peak_kib),
                mib(m.after_seeding.peak_kib),
                mib(self.process_peak_kib())
            ),
        );
        row(
            "RSS during the day: before → peak (growth)",
            if d.peak_reset {
                format!(
                    "{:.0} → {:.0} MiB (+{:.1} MiB)",
                    mib(d.memory_before.rss_kib),
                    mib(d.memory_after.peak_kib),
                    mib(d.growth_kib())
                )
            } else {
                format!(
                    "{:.0} → {:.0} MiB (peak not resettable here)",
                    mib(d.memory_before.rss_kib),
                    mib(d.memory_after.rss_kib)
                )
            },
        );
        row(
            "setup: seeding / views catch-up / backlog",
            format!(
                "{:.0} s ({} events) / {:.0} s / {:.0} s ({} actions on {}, {} ticks)",
                self.seeding.seconds,
                thousands(self.events_seeded),
                self.catch_up.seconds,
                self.backlog.seconds,
                thousands(self.backlog.actions),
                self.backlog.day,
                self.backlog.ticks
            ),
        );

        let _ = writeln!(out, "\nEvery measured day:\n");
        let _ = writeln!(
            out,
            "| day | load before → after (1 min) | builds beside | find s | tick s | engine s | actions | actions/s | INSERT ms | INSERTs/action (engine) | idle tick s | RSS growth MiB |\n|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for d in &self.days {
            let one = |l: Option<[f64; 3]>| {
                l.map_or_else(|| "n/a".to_owned(), |l| format!("{:.2}", l[0]))
            };
            let _ = writeln!(
                out,
                "| {} | {} → {} | {} | {:.3} | {:.3} | {:.3} | {} | {:.0} | {} | {} | {:.3} | {:.1} |",
                d.date,
                one(d.load_before),
                one(d.load_after),
                if d.disturbed() { "yes" } else { "no" },
                d.find_seconds,
                d.tick_seconds,
                d.engine_seconds,
                thousands(d.journaled),
                d.actions_per_second(),
                ms_per(d.baseline.seconds, d.baseline.inserts),
                match (d.inserts_per_action(), d.engine_inserts_per_action()) {
                    (Some(tick), Some(engine)) => format!("{tick:.1} ({engine:.1})"),
                    _ => "n/a".to_owned(),
                },
                d.idle_tick_seconds,
                mib(d.growth_kib())
            );
        }

        let _ = writeln!(
            out,
            "\n{} by rule (found = returned by `due`; engine ms = inside the engine per call):\n",
            d.date
        );
        let _ = writeln!(
            out,
            "| rule | action | found | done | nothing due | skipped | events | engine ms/action |\n|---|---|---:|---:|---:|---:|---:|---:|"
        );
        for r in &d.by_rule {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                r.rule,
                r.action,
                thousands(r.found),
                thousands(r.done),
                thousands(r.nothing_due),
                thousands(r.skipped),
                thousands(r.events),
                ms_per(r.engine_seconds, r.calls)
            );
        }
        let _ = writeln!(out, "\nThe backlog day ({}), by rule:\n", self.backlog.day);
        let _ = writeln!(
            out,
            "| rule | action | done | nothing due | skipped | events | engine ms/action |\n|---|---|---:|---:|---:|---:|---:|"
        );
        for r in &self.backlog.by_rule {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                r.rule,
                r.action,
                thousands(r.done),
                thousands(r.nothing_due),
                thousands(r.skipped),
                thousands(r.events),
                ms_per(r.engine_seconds, r.calls)
            );
        }
        out
    }
}
