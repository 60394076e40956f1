//! [`LagHistory`]: every view's lag over the last hour, for the dashboard's picture of it. A
//! task the service starts with its routes samples the views' health every
//! [`SAMPLE_EVERY`] and keeps an hour of samples in memory, so the history starts when the
//! service does. Samples are stamped with the machine's clock, not the business clock: lag is
//! an operational measure, and a simulated clock may be days ahead.

use crate::views::Views;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;
use tokio::sync::Notify;

/// How often the views' lag is sampled.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(15);
/// How long samples are kept.
pub const KEPT_FOR: Duration = Duration::from_secs(3600);

/// One view's lag at a sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ViewLag {
    /// The view.
    pub view: &'static str,
    /// Events behind the store's head (counted up to a bound, as the health page does).
    pub lag_events: i64,
    /// Seconds since the oldest event not applied yet was recorded; 0 when caught up.
    pub lag_seconds: f64,
}

/// Every view's lag at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LagSample {
    /// When.
    pub at: DateTime<Utc>,
    /// Per view.
    pub views: Vec<ViewLag>,
}

/// The samples of the last hour, oldest first.
#[derive(Debug, Default)]
pub struct LagHistory {
    samples: Mutex<VecDeque<LagSample>>,
    started: OnceLock<()>,
    /// Told when the history is dropped: the sampling task then ends at once, letting go of
    /// its connections.
    dropped: Arc<Notify>,
}

impl Drop for LagHistory {
    fn drop(&mut self) {
        self.dropped.notify_one();
    }
}

impl LagHistory {
    /// The samples of the last [`KEPT_FOR`], oldest first.
    pub fn samples(&self) -> Vec<LagSample> {
        let samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        samples.iter().cloned().collect()
    }

    /// Starts sampling `views` (once per history, whoever asks first), until the last handle on
    /// this history is dropped.
    pub(crate) fn start(self: &Arc<Self>, views: Views, stuck_after: Duration) {
        let history = Arc::downgrade(self);
        let dropped = Arc::clone(&self.dropped);
        self.started.get_or_init(|| {
            tokio::spawn(sample(history, dropped, views, stuck_after));
        });
    }

    fn record(&self, sample: LagSample) {
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        let kept_for = chrono::Duration::from_std(KEPT_FOR).unwrap_or(chrono::Duration::MAX);
        let oldest = sample.at - kept_for;
        samples.push_back(sample);
        while samples.front().is_some_and(|s| s.at < oldest) {
            samples.pop_front();
        }
    }
}

async fn sample(
    history: Weak<LagHistory>,
    dropped: Arc<Notify>,
    views: Views,
    stuck_after: Duration,
) {
    let mut every = tokio::time::interval(SAMPLE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            () = dropped.notified() => return,
        }
        let Some(history) = history.upgrade() else {
            return;
        };
        match views.health(stuck_after).await {
            Ok(health) => history.record(LagSample {
                at: Utc::now(),
                views: health
                    .into_iter()
                    .map(|view| ViewLag {
                        view: view.view,
                        lag_events: view.lag_events,
                        lag_seconds: view.lag_seconds,
                    })
                    .collect(),
            }),
            Err(error) => tracing::debug!(%error, "no lag sample this time"),
        }
    }
}
