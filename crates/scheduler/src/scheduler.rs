//! [`Scheduler`]: what falls due, fired through [`Fire`] exactly once, journaled.
//!
//! A *tick* reads what is due at the clock's "now" (the schedule view's deadlines and the
//! storage-status view's storage clock) and what was started and not finished, drops what the
//! journal already holds, fires the rest one by one under their idempotency keys, noting each
//! as started before it reaches the engine, and journals each outcome. Ticks never overlap in a
//! process (a lock); across replicas the engine's key claim makes a second firing of the same
//! key return the first one's result, appending nothing, and the journal keeps the first row.
//!
//! On a simulated clock, [`Scheduler::advance_to`] moves time forward step by step (the last
//! instant of each local day and each local midnight, and each exact deadline such as CLM-3's
//! in between) and ticks at every step once the views have read every event, so each rule fires
//! on its own day however far the clock jumps, what the day's commands made due is done that
//! day, and what one step's actions cause is due on its own day too.

use crate::clock::{BusinessClock, ClockError};
use crate::due::{DueAction, Kind};
use crate::fire::{context, Fire, Fired};
use crate::journal::{Entry, Journal, Outcome};
use chrono::{DateTime, Days, FixedOffset, NaiveDate, NaiveTime, Utc};
use domain::member::{auto_closure_due_on, AutoClosureFacts, BalanceSign};
use domain::Policy;
use engine::Clock;
use event_store::EventLog;
use projection_runtime::{catalog, ViewDb};
use projections::schedule::{self, Deadline};
use projections::{billing, storage_status, Page};
use serde::Serialize;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tracing::Instrument;

/// Why a tick or an advance failed (what a retry may overcome; refusals are outcomes).
#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    /// A view could not be read.
    #[error("reading the views: {0}")]
    Views(#[from] projections::QueryError),
    /// The projection runtime's catalog could not be read.
    #[error("reading the view catalog: {0}")]
    Catalog(#[from] projection_runtime::RuntimeError),
    /// The journal could not be read or written.
    #[error("the scheduler journal: {0}")]
    Journal(#[from] sqlx::Error),
    /// The event store could not be read.
    #[error("reading the event store: {0}")]
    Store(#[from] event_store::EventStoreError),
    /// The clock cannot be moved as asked.
    #[error(transparent)]
    Clock(#[from] ClockError),
    /// The views did not catch up with the store in time.
    #[error("the views did not catch up with the event store within {0:?}")]
    Lagging(Duration),
}

/// How the scheduler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedulerOptions {
    /// How often the background loop ticks.
    pub interval: Duration,
    /// At most this many actions read per source and tick.
    pub batch: u32,
    /// How long an advance waits for the views to catch up before it gives up.
    pub catch_up: Duration,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(30),
            batch: 10_000,
            catch_up: Duration::from_secs(60),
        }
    }
}

/// What one tick did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TickReport {
    /// The actions done, nothing-due or skipped, journaled.
    pub journaled: Vec<Entry>,
    /// Actions that failed in a way a retry may overcome; fired again next tick.
    pub failed: u32,
    /// Actions that cannot be done yet (key, why): not issued, fired again next tick.
    pub waiting: Vec<(String, String)>,
}

/// What an advance did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdvanceReport {
    /// The clock before.
    pub from: DateTime<Utc>,
    /// The clock after.
    pub to: DateTime<Utc>,
    /// The ticks run on the way.
    pub steps: u32,
    /// Everything journaled on the way, in order.
    pub journaled: Vec<Entry>,
    /// Failures a retry may overcome (they fire again at the next tick).
    pub failed: u32,
    /// What still waits at the end (key, why): not issued, fired again at the next tick.
    pub waiting: Vec<(String, String)>,
}

/// The business clock's scheduler over engine `F`, reading views in `views` that follow `log`.
pub struct Scheduler<F, L> {
    fire: Arc<F>,
    log: L,
    views: ViewDb,
    journal: Journal,
    clock: BusinessClock,
    policy: Arc<Policy>,
    options: SchedulerOptions,
    ticking: Mutex<()>,
}

impl<F: Fire, L: EventLog + 'static> Scheduler<F, L> {
    /// A scheduler firing through `fire`, reading `views` (which follow `log`), journaling
    /// beside them; creates the journal's table when missing.
    pub async fn new(
        fire: Arc<F>,
        log: L,
        views: ViewDb,
        clock: BusinessClock,
        policy: Arc<Policy>,
        options: SchedulerOptions,
    ) -> Result<Self, SchedulerError> {
        let journal = Journal::open(views.clone()).await?;
        Ok(Self {
            fire,
            log,
            views,
            journal,
            clock,
            policy,
            options,
            ticking: Mutex::new(()),
        })
    }

    /// The clock.
    pub fn clock(&self) -> &BusinessClock {
        &self.clock
    }

    /// The journal.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The policy (time zone, calendar).
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Everything due at `now`, or (with `None`) every action the views know of, due or not:
    /// the schedule view's deadlines, then the storage clock's actions of the day.
    pub async fn due(&self, now: Option<DateTime<Utc>>) -> Result<Vec<DueAction>, SchedulerError> {
        let today = self
            .policy
            .local_date(now.unwrap_or_else(|| self.clock.now()));
        let by = now.map(|now| (self.policy.local_date(now), now));
        let deadlines = not_yet_empty(schedule::due_by(&self.views, by, self.options.batch).await)?;
        let mut due: Vec<DueAction> = deadlines
            .into_iter()
            .filter_map(|deadline| DueAction::of_deadline(deadline, today, &self.policy))
            .collect();
        due.extend(self.storage_due(today).await?);
        due.extend(self.refunds_due(by.map(|(today, _)| today)).await?);
        due.extend(self.closures_due(by.map(|(today, _)| today)).await?);
        Ok(due)
    }

    /// The automatic closures due by `today` (every upcoming one with `None`), from the
    /// schedule view's closure facts, under a policy that closes automatically (MEM-9).
    async fn closures_due(
        &self,
        today: Option<NaiveDate>,
    ) -> Result<Vec<DueAction>, SchedulerError> {
        let Some(auto_closure) = &self.policy.member.auto_closure else {
            return Ok(Vec::new());
        };
        // Every candidate, a page at a time: the days are computed here, not in the view, so
        // no page limit may cut off a member whose day has come.
        let mut members = Vec::new();
        loop {
            let after = members
                .last()
                .map(|last: &schedule::ClosureFacts| last.member_id.clone());
            let page = schedule::closure_facts(&self.views, after.as_deref(), self.options.batch);
            let Some(page) = not_yet(page.await)? else {
                return Ok(Vec::new());
            };
            let full = page.len() >= self.options.batch as usize;
            members.extend(page);
            if !full {
                break;
            }
        }
        let mut due = Vec::new();
        for member in members {
            let negative_since = member.negative_since.map(|at| self.policy.local_date(at));
            let balance = match negative_since {
                Some(since) => BalanceSign::Negative { since },
                None if member.balance.is_zero() => BalanceSign::Zero,
                None => BalanceSign::Positive,
            };
            let facts = AutoClosureFacts {
                balance,
                first_top_up_on: member.first_top_up_on,
            };
            let last_login_on = member.last_login_at.map(|at| self.policy.local_date(at));
            let Some(due_on) =
                auto_closure_due_on(auto_closure, member.registered_on, last_login_on, &facts)
            else {
                continue;
            };
            if today.is_none_or(|today| due_on <= today) {
                due.push(DueAction::auto_closure(
                    &member.member_id,
                    due_on,
                    negative_since,
                ));
            }
        }
        Ok(due)
    }

    /// The withdrawing members' refunds due by `today` (all of them with `None`), from the
    /// billing view (ACC-7).
    async fn refunds_due(
        &self,
        today: Option<NaiveDate>,
    ) -> Result<Vec<DueAction>, SchedulerError> {
        let Some(refunds) = not_yet(billing::refunds_due(&self.views, &Page::all()).await)? else {
            return Ok(Vec::new());
        };
        Ok(refunds
            .into_iter()
            .filter(|refund| today.is_none_or(|today| refund.due_on <= today))
            .filter_map(|refund| Some(DueAction::refund(&refund.member_id?, refund.due_on)))
            .collect())
    }

    /// The storage clock's actions due on `today` (STO-2, STO-3), from the storage-status view.
    /// An action is due from its day on the parcel's clock, or from the parcel's arrival when
    /// that is later (STO-1: a parcel joining a member's waiting parcels takes their clock, so
    /// it may arrive past its limit).
    async fn storage_due(&self, today: NaiveDate) -> Result<Vec<DueAction>, SchedulerError> {
        let Some(day) = not_yet(storage_status::due_today(&self.views, today, &self.policy).await)?
        else {
            return Ok(Vec::new());
        };
        let mut due = Vec::new();
        let arrived = |parcel: &storage_status::ParcelStorage, on: NaiveDate| {
            parcel.received_on.map_or(on, |received| on.max(received))
        };
        for parcel in day.notices {
            if let (Some(days_before), Some(storage)) = (parcel.notice_due, &parcel.storage) {
                let on = storage
                    .last_free_day
                    .checked_sub_days(Days::new(u64::from(days_before)))
                    .unwrap_or(today);
                due.push(DueAction::on_parcel(
                    Kind::StorageNotice { days_before },
                    &parcel.parcel_id,
                    arrived(&parcel, on),
                ));
            }
        }
        for parcel in day.to_mark_disposable {
            if let Some(storage) = &parcel.storage {
                let on = storage
                    .last_free_day
                    .checked_add_days(Days::new(1))
                    .unwrap_or(today);
                due.push(DueAction::on_parcel(
                    Kind::MarkDisposable,
                    &parcel.parcel_id,
                    arrived(&parcel, on),
                ));
            }
        }
        for parcel in day.fees_to_accrue {
            if let Some(storage) = &parcel.storage {
                due.push(DueAction::on_parcel(
                    Kind::AccrueStorageFee {
                        months: storage.extended_months,
                    },
                    &parcel.parcel_id,
                    today,
                ));
            }
        }
        Ok(due)
    }

    /// Fires everything due now that the journal does not hold yet.
    pub async fn tick(&self) -> Result<TickReport, SchedulerError> {
        let _one_at_a_time = self.ticking.lock().await;
        let now = self.clock.now();
        let today = self.policy.local_date(now);
        // What was fired and not finished first (its first steps may have taken it off the
        // views' lists), then what the views find due.
        let mut due = self.journal.unfinished().await?;
        let mut seen: HashSet<String> = due.iter().map(DueAction::key).collect();
        due.extend(
            self.due(Some(now))
                .await?
                .into_iter()
                .filter(|action| action.is_due(today, now) && seen.insert(action.key())),
        );
        let keys: Vec<String> = due.iter().map(DueAction::key).collect();
        let done = self.journal.done(&keys).await?;
        due.retain(|action| !done.contains(&action.key()));
        // Noted as started before any reaches the engine (one commit a tick); an action a
        // crash leaves unfired is fired at the next tick like one left unfinished.
        self.journal.start_all(&due, now).await?;
        let mut report = TickReport::default();
        for action in due {
            // Each firing starts a trace, which the events it appends record and every
            // consumer of them continues.
            let span = tracing::info_span!(
                "scheduler.fire",
                rule = action.rule(),
                key = %action.key(),
                trace_id = tracing::field::Empty,
            );
            telemetry::trace::continue_trace(&span, None);
            let fired = match context(&action) {
                Ok(ctx) => {
                    let ctx = ctx.traced(telemetry::trace::traceparent(&span));
                    self.fire.fire(&action, &ctx).instrument(span).await
                }
                Err(invalid) => Err(invalid),
            };
            let (outcome, events, reason) = match fired {
                Ok(Fired::Waiting(reason)) => {
                    // Not issued: nothing to finish, and due again at the next tick.
                    self.journal.forget(&action.key()).await?;
                    tracing::info!(key = action.key(), reason, "a due action waits");
                    metrics::counter!("parcelport_scheduler_waiting_total", "rule" => action.rule())
                        .increment(1);
                    report.waiting.push((action.key(), reason));
                    continue;
                }
                Ok(Fired::Appended(0)) => (Outcome::NothingDue, 0, None),
                Ok(Fired::Appended(events)) => (Outcome::Done, events, None),
                Err(refused) if refused.is_final() => (
                    Outcome::Skipped,
                    0,
                    Some(format!("{}: {refused}", refused.code())),
                ),
                Err(error) => {
                    tracing::warn!(key = action.key(), %error, "a due action failed; retried next tick");
                    metrics::counter!("parcelport_scheduler_failures_total", "rule" => action.rule())
                        .increment(1);
                    report.failed += 1;
                    continue;
                }
            };
            let entry = Entry::of(&action, now, outcome, events, reason);
            self.journal.record(&entry).await?;
            metrics::counter!(
                "parcelport_scheduler_actions_total",
                "rule" => action.rule(),
                "outcome" => outcome_label(outcome)
            )
            .increment(1);
            tracing::info!(
                key = entry.key,
                rule = entry.rule,
                outcome = outcome_label(outcome),
                events,
                "scheduled action"
            );
            report.journaled.push(entry);
        }
        Ok(report)
    }

    /// Moves the simulated clock to `to`, ticking at every local midnight and exact deadline
    /// on the way, each once the views have read every event.
    pub async fn advance_to(&self, to: DateTime<Utc>) -> Result<AdvanceReport, SchedulerError> {
        let BusinessClock::Simulated(_) = &self.clock else {
            return Err(ClockError::Real.into());
        };
        let from = self.clock.now();
        if to < from {
            return Err(ClockError::Backwards { now: from, to }.into());
        }
        let mut report = AdvanceReport {
            from,
            to,
            steps: 0,
            journaled: Vec::new(),
            failed: 0,
            waiting: Vec::new(),
        };
        // How long a step retries actions that failed (a request another process left
        // pending holds its key until the engine's lease ends) before the clock moves on.
        let mut retrying_since: Option<tokio::time::Instant> = None;
        loop {
            self.caught_up().await?;
            let tick = self.tick().await?;
            report.steps += 1;
            report.waiting = tick.waiting;
            let fired = !tick.journaled.is_empty();
            report.journaled.extend(tick.journaled);
            if fired {
                // What this step's actions caused may be due at this very moment.
                continue;
            }
            if tick.failed > 0 {
                let since = *retrying_since.get_or_insert_with(tokio::time::Instant::now);
                if since.elapsed() < self.options.catch_up {
                    // Each action on its day: retry before the day ends on a simulated clock.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                report.failed += tick.failed;
            }
            retrying_since = None;
            let now = self.clock.now();
            if now >= to {
                break;
            }
            let next = self.next_step(now, to).await?;
            self.clock.set(next)?;
        }
        Ok(report)
    }

    /// The next moment to tick at after `now`: the last instant of the local day (so what the
    /// day's own commands made due is done that day), the next local midnight, or an exact
    /// deadline before them, never past `to`.
    async fn next_step(
        &self,
        now: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, SchedulerError> {
        let offset = FixedOffset::east_opt(self.policy.utc_offset_minutes * 60)
            .unwrap_or(FixedOffset::east_opt(0).expect("UTC"));
        let tomorrow = self
            .policy
            .local_date(now)
            .checked_add_days(Days::new(1))
            .unwrap_or(NaiveDate::MAX);
        let midnight = tomorrow
            .and_time(NaiveTime::MIN)
            .and_local_timezone(offset)
            .single()
            .map_or(to, |at| at.to_utc());
        let end_of_day = Some(midnight - chrono::Duration::milliseconds(1)).filter(|at| *at > now);
        let exact = not_yet_empty(schedule::due_by(&self.views, None, self.options.batch).await)?
            .into_iter()
            .filter_map(|Deadline { due_at, .. }| due_at)
            .filter(|at| *at > now)
            .min();
        Ok([end_of_day, Some(midnight), exact, Some(to)]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(to))
    }

    /// Waits until the views the scheduler reads have applied every event of the store.
    pub async fn caught_up(&self) -> Result<(), SchedulerError> {
        let deadline = tokio::time::Instant::now() + self.options.catch_up;
        loop {
            if self.views_caught_up().await? {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(SchedulerError::Lagging(self.options.catch_up));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn views_caught_up(&self) -> Result<bool, SchedulerError> {
        for view in [schedule::NAME, storage_status::NAME] {
            let Some(instance) = catalog::current(&self.views, view).await? else {
                return Ok(false);
            };
            let read = catalog::checkpoint(&self.views, &instance, view).await?;
            if !self.log.read_after(read, 1).await?.is_empty() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Ticks every `interval` until `stop` completes; a failed tick is logged and retried.
    pub async fn run(&self, stop: impl std::future::Future<Output = ()>) {
        let mut stop = std::pin::pin!(stop);
        let mut every = tokio::time::interval(self.options.interval);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = &mut stop => return,
                _ = every.tick() => {
                    if let Err(error) = self.tick().await {
                        tracing::warn!(%error, "scheduler tick failed; retried at the next one");
                    }
                }
            }
        }
    }
}

/// A view's answer, or `None` while the view has no instance yet (a fresh server whose
/// projector has not started): nothing is due in a view that does not exist.
fn not_yet<T>(answer: Result<T, projections::QueryError>) -> Result<Option<T>, SchedulerError> {
    match answer {
        Ok(found) => Ok(Some(found)),
        Err(projections::QueryError::Runtime(projection_runtime::RuntimeError::NoView(_))) => {
            Ok(None)
        }
        Err(error) => Err(error.into()),
    }
}

fn not_yet_empty<T>(
    answer: Result<Vec<T>, projections::QueryError>,
) -> Result<Vec<T>, SchedulerError> {
    Ok(not_yet(answer)?.unwrap_or_default())
}

fn outcome_label(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Done => "done",
        Outcome::NothingDue => "nothing_due",
        Outcome::Skipped => "skipped",
    }
}
