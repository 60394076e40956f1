//! Catching up the two views the scheduler reads, `storage_status` (the storage clock) and
//! `schedule` (deadlines), with the projection runtime exactly as `parcelport serve` feeds
//! them: a `Projector` per view over a `StoreFeed` on the store's global log, default options
//! (500 events per transaction), the serving instance. Here each projector is stepped until
//! its feed is empty instead of running forever, so nothing projects while the scheduler is
//! measured.

use crate::progress::Progress;
use event_store::EventLog;
use projection_runtime::{Projection, Projector, ProjectorOptions, Step, StoreFeed, ViewDb};
use projections::schedule::Schedule;
use projections::storage_status::StorageStatus;
use serde::Serialize;
use std::time::Instant;

/// What a catch-up did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct CatchUp {
    /// Events each view read (applied or skipped), summed over the views.
    pub events: u64,
    /// Seconds for both views, one after the other.
    pub seconds: f64,
}

/// Brings both views up to the end of `log`; `expected` (events appended since the last
/// catch-up) sizes the bars.
pub async fn catch_up<L: EventLog + Clone + 'static>(
    log: &L,
    views: &ViewDb,
    expected: u64,
    progress: &Progress,
) -> anyhow::Result<CatchUp> {
    let started = Instant::now();
    let mut events = one(log, views, StorageStatus, expected, progress).await?;
    events += one(log, views, Schedule, expected, progress).await?;
    Ok(CatchUp {
        events,
        seconds: started.elapsed().as_secs_f64(),
    })
}

async fn one<P: Projection + Send + 'static, L: EventLog + Clone + 'static>(
    log: &L,
    views: &ViewDb,
    projection: P,
    expected: u64,
    progress: &Progress,
) -> anyhow::Result<u64> {
    let name = projection.name();
    let bar = progress.bar(expected, name);
    let mut projector = Projector::new(
        views.clone(),
        projection,
        StoreFeed::new(log.clone()),
        ProjectorOptions::default(),
    );
    let mut events = 0u64;
    loop {
        match projector.step().await? {
            Step::Idle => break,
            Step::Committed(outcome) => {
                anyhow::ensure!(
                    outcome.parked == 0,
                    "{name}: {} events parked",
                    outcome.parked
                );
                let read = (outcome.applied + outcome.skipped) as u64;
                events += read;
                bar.inc(read);
            }
            Step::Switched { .. } => {}
        }
    }
    bar.finish_and_clear();
    Ok(events)
}
