//! [`Projector`]: feeds one projection from one feed, a batch per transaction, forever or until
//! caught up; retries failed batches, isolates an event whose changes cannot be written, and
//! follows the view's pointer across blue/green switches.

use crate::batch::{self, BatchOutcome as Outcome, ParkReason};
use crate::{catalog, metric, EventEnvelope, Feed, Projection, RuntimeError, Schema};
use crate::{ViewConn, ViewDb};
use chrono::{DateTime, Utc};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use telemetry::trace::TRACEPARENT;

pub use crate::batch::BatchOutcome;

/// Which instance of the view a projector writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The serving instance, following the pointer when a rebuild switches it (live projectors).
    Serving,
    /// This instance, whatever serves (rebuilds).
    Instance(Schema),
}

/// How a projector batches and retries.
#[derive(Debug, Clone)]
pub struct ProjectorOptions {
    /// Events per transaction.
    pub batch_size: usize,
    /// Wait after a failed batch before trying again.
    pub retry_backoff: Duration,
    /// The instance written.
    pub target: Target,
}

impl Default for ProjectorOptions {
    fn default() -> Self {
        Self {
            batch_size: 500,
            retry_backoff: Duration::from_secs(1),
            target: Target::Serving,
        }
    }
}

/// What one [`Projector::step`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The feed had nothing.
    Idle,
    /// A batch was committed.
    Committed(BatchOutcome),
    /// The serving instance changed under the projector: it now feeds `to` from its checkpoint.
    Switched {
        /// The instance written before.
        from: Schema,
        /// The instance written from now on.
        to: Schema,
    },
}

/// What a projector has been doing, for health checks and lag metrics.
#[derive(Debug, Clone, Default)]
pub struct ProjectorStatus {
    /// When it attached to its instance, or last committed a batch.
    pub last_progress: Option<Instant>,
    /// The newest `recorded_at` among the events of the batches committed.
    pub last_event_at: Option<DateTime<Utc>>,
    /// Events committed (applied, skipped or parked) since the process started.
    pub events_committed: u64,
    /// Steps that failed in a row; 0 after a successful one.
    pub consecutive_failures: u32,
    /// The last failure, with its sources.
    pub last_error: Option<String>,
    /// The feed's backlog at the last look ([`Feed::backlog`]).
    pub backlog: Option<u64>,
    /// Whether the last step found the feed empty.
    pub idle: bool,
}

/// A shared view of a projector's [`ProjectorStatus`], updated by every step.
#[derive(Debug, Clone, Default)]
pub struct StatusHandle(Arc<Mutex<ProjectorStatus>>);

impl StatusHandle {
    /// A copy of the status now.
    pub fn snapshot(&self) -> ProjectorStatus {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn update(&self, change: impl FnOnce(&mut ProjectorStatus)) {
        change(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

/// One projection fed from one feed.
#[derive(Debug)]
pub struct Projector<P, F> {
    db: ViewDb,
    projection: P,
    feed: F,
    options: ProjectorOptions,
    schema: Option<Schema>,
    /// The batch read but not yet committed: retried as is after a failure.
    pending: Vec<EventEnvelope>,
    status: StatusHandle,
}

enum Commit {
    Done(Outcome),
    Switched,
}

impl<P: Projection, F: Feed> Projector<P, F> {
    /// A projector writing `projection`'s view in `db` (a [`ViewDb`], or a `PgPool`), fed by
    /// `feed`.
    pub fn new(db: impl Into<ViewDb>, projection: P, feed: F, options: ProjectorOptions) -> Self {
        Self {
            db: db.into(),
            projection,
            feed,
            options,
            schema: None,
            pending: Vec::new(),
            status: StatusHandle::default(),
        }
    }

    /// A handle on the projector's status, which every step updates.
    pub fn status(&self) -> StatusHandle {
        self.status.clone()
    }

    /// The projection.
    pub fn projection(&self) -> &P {
        &self.projection
    }

    /// The instance written, once the first step attached to it.
    pub fn schema(&self) -> Option<&Schema> {
        self.schema.as_ref()
    }

    /// The feed, for whoever needs its state.
    pub fn feed_mut(&mut self) -> &mut F {
        &mut self.feed
    }

    /// Finds the instance to write and positions the feed at its checkpoint.
    async fn attach(&mut self) -> Result<Schema, RuntimeError> {
        let schema = match &self.options.target {
            Target::Serving => catalog::ensure(&self.db, &self.projection).await?,
            Target::Instance(schema) => schema.clone(),
        };
        let cursor = catalog::checkpoint(&self.db, &schema, self.projection.name()).await?;
        self.feed.seek(cursor).await?;
        self.pending.clear();
        metric::refresh_parked(&self.db, &schema, self.projection.name()).await?;
        tracing::info!(
            projection = self.projection.name(),
            %schema,
            txid = cursor.txid,
            position = cursor.position,
            "projector attached"
        );
        self.schema = Some(schema.clone());
        self.status
            .update(|status| status.last_progress = Some(Instant::now()));
        Ok(schema)
    }

    /// Reads one batch and commits it. A failed batch is kept and tried again by the next step.
    pub async fn step(&mut self) -> Result<Step, RuntimeError> {
        let step = self.try_step().await;
        let backlog = self.feed.backlog();
        if let Some(backlog) = backlog {
            #[allow(clippy::cast_precision_loss)] // a gauge is a float
            metrics::gauge!(metric::LAG_EVENTS, "projection" => self.projection.name())
                .set(backlog as f64);
        }
        self.status.update(|status| {
            status.backlog = backlog;
            match &step {
                Ok(step) => {
                    status.consecutive_failures = 0;
                    status.idle = *step == Step::Idle;
                }
                Err(error) => {
                    status.consecutive_failures += 1;
                    status.last_error = Some(error_chain(error));
                }
            }
        });
        step
    }

    async fn try_step(&mut self) -> Result<Step, RuntimeError> {
        let schema = match &self.schema {
            Some(schema) => schema.clone(),
            None => self.attach().await?,
        };
        if self.pending.is_empty() {
            self.pending = self.feed.next_batch(self.options.batch_size).await?;
        }
        if self.pending.is_empty() {
            return Ok(Step::Idle);
        }
        let name = self.projection.name();
        let started = Instant::now();
        // Each event of a sampled command's trace gets a span here, ended once its batch is
        // committed: the moment the view holds it.
        let _spans: Vec<tracing::Span> = self
            .pending
            .iter()
            .filter_map(|event| applying_span(name, event))
            .collect();
        let committed = match self.commit(&schema, false).await {
            Err(error) if error.is_data_error() => {
                tracing::warn!(projection = name, %schema, error = %error_chain(&error),
                    "a batch's changes could not be written; isolating its events");
                self.commit(&schema, true).await
            }
            other => other,
        };
        match committed? {
            Commit::Done(outcome) => {
                let newest = self.pending.iter().map(|event| event.recorded_at).max();
                let count = self.pending.len() as u64;
                self.pending.clear();
                self.feed.committed().await?;
                self.status.update(|status| {
                    status.last_progress = Some(Instant::now());
                    status.last_event_at = status.last_event_at.max(newest);
                    status.events_committed += count;
                });
                let labels = [("projection", name)];
                metrics::histogram!(metric::BATCH_SECONDS, &labels)
                    .record(started.elapsed().as_secs_f64());
                metrics::counter!(metric::EVENTS_APPLIED, &labels)
                    .increment(outcome.applied as u64);
                metrics::counter!(metric::EVENTS_SKIPPED, &labels)
                    .increment(outcome.skipped as u64);
                if outcome.parked > 0 {
                    let waiting = metric::refresh_parked(&self.db, &schema, name).await?;
                    tracing::warn!(projection = name, %schema, parked = outcome.parked, waiting,
                        "events parked; the projector goes on");
                }
                tracing::debug!(
                    projection = name,
                    applied = outcome.applied,
                    skipped = outcome.skipped,
                    parked = outcome.parked,
                    "batch committed"
                );
                Ok(Step::Committed(outcome))
            }
            Commit::Switched => {
                self.schema = None;
                let to = self.attach().await?;
                tracing::info!(projection = name, from = %schema, %to, "followed a switch");
                Ok(Step::Switched { from: schema, to })
            }
        }
    }

    /// Commits the pending batch into `schema`, in one transaction; `isolated` writes each
    /// event under its own savepoint and parks the ones whose changes fail.
    async fn commit(&mut self, schema: &Schema, isolated: bool) -> Result<Commit, RuntimeError> {
        let name = self.projection.name();
        let mut tx = self.db.begin().await?;
        let mut conn = tx.conn();
        if self.options.target == Target::Serving {
            let serving = catalog::lock_serving_shared(&mut conn, name).await?;
            if serving.as_ref() != Some(schema) {
                return Ok(Commit::Switched);
            }
        }
        batch::lock_checkpoint(&mut conn, schema, name).await?;
        let outcome = if isolated {
            isolate(&mut conn, schema, &self.projection, &self.pending).await?
        } else {
            batch::process(&mut conn, schema, &self.projection, &self.pending).await?
        };
        tx.commit().await?;
        Ok(Commit::Done(outcome))
    }

    /// Steps until the feed has nothing more: what rebuilds and tests use.
    pub async fn catch_up(&mut self) -> Result<BatchOutcome, RuntimeError> {
        let mut total = BatchOutcome::default();
        loop {
            match self.step().await? {
                Step::Idle => return Ok(total),
                Step::Committed(outcome) => total.add(outcome),
                Step::Switched { .. } => {}
            }
        }
    }

    /// Steps until `shutdown` completes. A failed step is logged, counted and tried again after
    /// the backoff; the projector never stops on its own.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let name = self.projection.name();
        loop {
            let step = tokio::select! {
                biased;
                () = &mut shutdown => return,
                step = self.step() => step,
            };
            let pause = match step {
                Ok(Step::Idle) => {
                    tokio::select! {
                        biased;
                        () = &mut shutdown => return,
                        () = self.feed.wait() => {}
                    }
                    continue;
                }
                Ok(_) => continue,
                Err(error) => {
                    metrics::counter!(metric::BATCH_FAILURES, "projection" => name).increment(1);
                    tracing::error!(projection = name, error = %error_chain(&error),
                        "projector step failed; retrying");
                    if matches!(error, RuntimeError::Feed(_)) {
                        // The feed's position is unknown after its failure: start over from
                        // the checkpoint.
                        self.schema = None;
                    }
                    self.options.retry_backoff
                }
            };
            tokio::select! {
                biased;
                () = &mut shutdown => return,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }
}

/// The span of `event` being applied to view `projection`, in its command's trace, when that
/// trace is sampled.
fn applying_span(projection: &'static str, event: &EventEnvelope) -> Option<tracing::Span> {
    let traceparent = event
        .metadata_str(TRACEPARENT)
        .filter(|traceparent| telemetry::trace::is_sampled(traceparent))?;
    let span = tracing::info_span!(
        "projection.apply",
        otel.kind = "consumer",
        projection,
        event_id = %event.event_id,
        event_type = %event.event_type,
        aggregate_id = %event.aggregate_id,
        position = event.cursor.position,
        trace_id = tracing::field::Empty,
    );
    telemetry::trace::continue_trace(&span, Some(traceparent));
    Some(span)
}

/// Each event of `events` under its own savepoint; an event whose changes fail on their own is
/// parked (`apply_failed`). When every event fails, the fault is not in the events: the error
/// is returned and nothing is committed.
async fn isolate<P: Projection>(
    conn: &mut ViewConn<'_>,
    schema: &Schema,
    projection: &P,
    events: &[EventEnvelope],
) -> Result<BatchOutcome, RuntimeError> {
    let mut total = BatchOutcome::default();
    let mut failed = 0;
    let mut last_error = None;
    for event in events {
        conn.execute("SAVEPOINT projection_event").await?;
        match batch::process(conn, schema, projection, std::slice::from_ref(event)).await {
            Ok(outcome) => {
                conn.execute("RELEASE SAVEPOINT projection_event").await?;
                total.add(outcome);
            }
            Err(error) if error.is_data_error() => {
                conn.execute("ROLLBACK TO SAVEPOINT projection_event")
                    .await?;
                failed += 1;
                let message = error_chain(&error);
                tracing::warn!(projection = projection.name(), event_id = %event.event_id,
                    error = %message, "parking an event whose changes cannot be written");
                let parked = [(event, ParkReason::ApplyFailed, message)];
                total.parked += batch::park(conn, schema, projection.name(), &parked).await?;
                total.cursor = total.cursor.max(Some(event.cursor));
                last_error = Some(error);
            }
            Err(error) => return Err(error),
        }
    }
    match last_error {
        Some(error) if failed == events.len() => Err(error),
        _ => Ok(total),
    }
}

/// An error with its sources, for one log line.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
