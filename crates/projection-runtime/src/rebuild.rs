//! [`rebuild()`]: a view rebuilt from the event store into a fresh instance, then switched over
//! (blue/green) while the old instance keeps serving until the switch.
//!
//! 1. Create instance `view_<name>_v<N+1>` beside the serving one.
//! 2. Feed it from the store, from the start, in batches, showing progress, events per second
//!    and an ETA on a terminal.
//! 3. Switch, in one transaction: lock the view's pointer (live projectors wait between two
//!    batches), apply what arrived meanwhile, point the view at the new instance, commit. Live
//!    projectors then follow the pointer from the new instance's checkpoint.
//! 4. Drop the old instance.

use crate::batch::{self, BatchOutcome};
use crate::projector::error_chain;
use crate::{catalog, Feed, Projection, Projector, ProjectorOptions, RuntimeError, Schema};
use crate::{Step, StoreFeed, Target, ViewDb};
use event_store::EventLog;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// An event log a rebuild reads; how many events it holds is the progress bar's length
/// ([`EventLog::backlog`] from the start).
pub trait RebuildSource: EventLog + Clone + std::fmt::Debug + 'static {}

impl<L: EventLog + Clone + std::fmt::Debug + 'static> RebuildSource for L {}

/// Whether a rebuild draws a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// On standard error when it is a terminal; hidden otherwise (logs, CI, tests).
    Auto,
    /// Never.
    Hidden,
}

/// How a rebuild reads and writes.
#[derive(Debug, Clone, Copy)]
pub struct RebuildOptions {
    /// Events per transaction.
    pub batch_size: usize,
    /// Events per read from the store.
    pub page_size: u32,
    /// The progress bar.
    pub progress: Progress,
    /// How long the old instance outlives the switch before it is dropped, so that queries
    /// that read the pointer just before the switch can finish.
    pub grace: Duration,
}

impl Default for RebuildOptions {
    fn default() -> Self {
        Self {
            batch_size: 500,
            page_size: 2_000,
            progress: Progress::Auto,
            grace: Duration::from_secs(2),
        }
    }
}

/// What a rebuild did.
#[derive(Debug, Clone, PartialEq)]
pub struct RebuildReport {
    /// The new serving instance.
    pub schema: Schema,
    /// The instance it replaced, now dropped.
    pub replaced: Option<Schema>,
    /// Events read, applied, skipped and parked.
    pub outcome: BatchOutcome,
    /// From the start to the switch.
    pub elapsed: Duration,
}

impl RebuildReport {
    /// Events read per second.
    pub fn events_per_second(&self) -> f64 {
        let events = self.outcome.applied + self.outcome.skipped + self.outcome.parked;
        #[allow(clippy::cast_precision_loss)] // a rate; exactness does not matter
        let events = events as f64;
        events / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Rebuilds `projection`'s view from `store` into a new instance in `db` (a [`ViewDb`] or a
/// `PgPool`), and switches the view over to it. See the module documentation.
pub async fn rebuild<P: Projection, L: RebuildSource>(
    db: impl Into<ViewDb>,
    store: &L,
    projection: P,
    options: RebuildOptions,
) -> Result<RebuildReport, RuntimeError> {
    let db = db.into();
    let started = Instant::now();
    let name = projection.name();
    let schema = catalog::create_unserved_instance(&db, &projection).await?;
    tracing::info!(view = name, %schema, "rebuild started");
    let built = build_and_switch(&db, store, projection, &schema, options, started).await;
    match built {
        Ok(report) => {
            tracing::info!(view = name, %schema, events = report.outcome.applied,
                events_per_second = report.events_per_second(), "rebuild switched over");
            if let Some(old) = &report.replaced {
                tokio::time::sleep(options.grace).await;
                catalog::drop_instance(&db, old).await?;
            }
            Ok(report)
        }
        Err(error) => {
            tracing::error!(view = name, %schema, error = %error_chain(&error),
                "rebuild failed; dropping the unfinished instance");
            let dropped = catalog::drop_instance(&db, &schema).await;
            if let Err(drop_error) = dropped {
                tracing::warn!(%schema, error = %drop_error, "could not drop the unfinished instance");
            }
            Err(error)
        }
    }
}

/// Rebuilds `projection` when its serving instance was made by an older version of it (a
/// table, or a column, the projection now has is missing), so that a view whose shape changed in an upgrade
/// is rebuilt from the store before its projector resumes, instead of failing on the missing
/// table. `None` when the instance is current or there is none yet.
pub async fn upgrade<P: Projection, L: RebuildSource>(
    db: impl Into<ViewDb>,
    store: &L,
    projection: P,
    options: RebuildOptions,
) -> Result<Option<RebuildReport>, RuntimeError> {
    let db = db.into();
    // A fresh database has no catalog yet: nothing to upgrade.
    catalog::migrate(&db).await?;
    let Some(schema) = catalog::current(&db, projection.name()).await? else {
        return Ok(None);
    };
    let missing = catalog::missing_tables(&db, &projection, &schema).await?;
    if missing.is_empty() {
        return Ok(None);
    }
    tracing::warn!(view = projection.name(), %schema, ?missing,
        "the view's shape changed since this instance was built: rebuilding it from the store");
    rebuild(db, store, projection, options).await.map(Some)
}

async fn build_and_switch<P: Projection, L: RebuildSource>(
    db: &ViewDb,
    store: &L,
    projection: P,
    schema: &Schema,
    options: RebuildOptions,
    started: Instant,
) -> Result<RebuildReport, RuntimeError> {
    let name = projection.name();
    let total = store
        .backlog(event_store::GlobalCursor::START)
        .await
        .map_err(crate::FeedError::from)?
        .events;
    let bar = progress_bar(options.progress, total, name);
    let feed = StoreFeed::new(store.clone()).with(options.page_size, Duration::from_millis(20));
    let mut projector = Projector::new(
        db.clone(),
        projection,
        feed,
        ProjectorOptions {
            batch_size: options.batch_size,
            target: Target::Instance(schema.clone()),
            ..ProjectorOptions::default()
        },
    );
    let mut outcome = BatchOutcome::default();
    let count = |o: &BatchOutcome| (o.applied + o.skipped + o.parked) as u64;
    loop {
        match projector.step().await? {
            Step::Idle => break,
            Step::Committed(batch) => {
                bar.inc(count(&batch));
                if bar.position() > bar.length().unwrap_or(0) {
                    bar.set_length(bar.position());
                }
                outcome.add(batch);
            }
            Step::Switched { .. } => unreachable!("a rebuild writes a pinned instance"),
        }
    }

    // The switch: everything that arrived meanwhile, and the pointer, in one transaction.
    bar.set_message(format!("{name}: switching"));
    let mut tx = db.begin().await?;
    let mut conn = tx.conn();
    let replaced = catalog::lock_serving_exclusive(&mut conn, name).await?;
    batch::lock_checkpoint(&mut conn, schema, name).await?;
    loop {
        let events = projector.feed_mut().next_batch(options.batch_size).await?;
        if events.is_empty() {
            break;
        }
        let batch = batch::process(&mut conn, schema, projector.projection(), &events).await?;
        bar.inc(count(&batch));
        outcome.add(batch);
    }
    catalog::point(&mut conn, name, schema).await?;
    tx.commit().await?;
    bar.finish_with_message(format!("{name}: switched to {schema}"));
    Ok(RebuildReport {
        schema: schema.clone(),
        replaced,
        outcome,
        elapsed: started.elapsed(),
    })
}

fn progress_bar(progress: Progress, total: u64, name: &str) -> ProgressBar {
    let target = match progress {
        Progress::Auto if std::io::stderr().is_terminal() => ProgressDrawTarget::stderr(),
        Progress::Auto | Progress::Hidden => ProgressDrawTarget::hidden(),
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    let style = ProgressStyle::with_template(
        "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} events, {per_sec}, ETA {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(format!("{name}: rebuilding"));
    bar
}
