//! [`Timed`]: the engine as the scheduler fires through it, with the time spent inside each
//! call counted per rule and action. It wraps the real [`Fire`] implementation (the engine's)
//! and changes nothing else, so the tick measured is the scheduler's own; the wrapper costs
//! one clock read and one uncontended lock per action.

use engine::{CommandContext, EngineError};
use scheduler::{DueAction, Fire, Fired};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Calls of one rule's action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Calls {
    /// Calls made.
    pub calls: u64,
    /// Calls the engine answered with a refusal or an error.
    pub refused: u64,
    /// Seconds spent inside the engine.
    pub seconds: f64,
}

/// `F`, timed.
pub struct Timed<F> {
    inner: Arc<F>,
    calls: Mutex<BTreeMap<(&'static str, &'static str), Calls>>,
}

impl<F> Timed<F> {
    /// `inner`, timed from now on.
    pub fn new(inner: Arc<F>) -> Self {
        Self {
            inner,
            calls: Mutex::new(BTreeMap::new()),
        }
    }

    /// The calls counted since the last take, by (rule, action); starts counting afresh.
    pub fn take(&self) -> BTreeMap<(&'static str, &'static str), Calls> {
        std::mem::take(&mut *self.calls.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl<F: Fire> Fire for Timed<F> {
    async fn fire(&self, action: &DueAction, ctx: &CommandContext) -> Result<Fired, EngineError> {
        let started = Instant::now();
        let fired = self.inner.fire(action, ctx).await;
        let seconds = started.elapsed().as_secs_f64();
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        let entry = calls
            .entry((action.rule(), action.kind.name()))
            .or_default();
        entry.calls += 1;
        entry.refused += u64::from(fired.is_err());
        entry.seconds += seconds;
        fired
    }
}
