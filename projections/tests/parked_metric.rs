//! The alert metric: `projection_parked_events` rises when an event is parked and falls back
//! to zero when a replay applies it. A binary of its own, because the metrics recorder is
//! global to the process.

#[allow(dead_code)]
#[path = "it/support.rs"]
mod support;

use domain::Policy;
use metrics::{
    Counter, Gauge, GaugeFn, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use projection_runtime::{metric, parked, EventEnvelope};
use projections::billing::Billing;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use support::{Buggy, TestDb};

/// Gauges by name and labels, as last set.
static GAUGES: LazyLock<Mutex<HashMap<String, Arc<Cell>>>> = LazyLock::new(Default::default);

struct Cell(AtomicU64);

impl GaugeFn for Cell {
    fn increment(&self, value: f64) {
        self.set(f64::from_bits(self.0.load(Ordering::Relaxed)) + value);
    }
    fn decrement(&self, value: f64) {
        self.increment(-value);
    }
    fn set(&self, value: f64) {
        self.0.store(value.to_bits(), Ordering::Relaxed);
    }
}

fn name(key: &Key) -> String {
    let labels: Vec<String> = key
        .labels()
        .map(|l| format!("{}={}", l.key(), l.value()))
        .collect();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

fn gauge(key: &str) -> Option<f64> {
    let gauges = GAUGES.lock().unwrap();
    gauges
        .get(key)
        .map(|cell| f64::from_bits(cell.0.load(Ordering::Relaxed)))
}

struct Gauges;

impl Recorder for Gauges {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> Counter {
        Counter::noop()
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        let cell = GAUGES
            .lock()
            .unwrap()
            .entry(name(key))
            .or_insert_with(|| Arc::new(Cell(AtomicU64::new(0))))
            .clone();
        Gauge::from_arc(cell)
    }
    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

fn late_interest(event: &EventEnvelope) -> bool {
    event.event_type == "account.late_interest_accrued"
}

#[tokio::test]
async fn the_parked_events_gauge_rises_and_falls_back_after_a_replay() {
    metrics::set_global_recorder(Gauges).expect("the only recorder of this binary");
    metric::describe();
    let key = format!("{}{{projection=billing}}", metric::PARKED_EVENTS);
    let db = TestDb::create().await;
    db.append(61, 2_500, Policy::jp_forwarding()).await;

    let buggy = Buggy {
        inner: Billing,
        refuse: late_interest,
    };
    let outcome = db
        .projector(
            buggy,
            projection_runtime::StoreFeed::new(db.store.clone()),
            300,
        )
        .catch_up()
        .await
        .unwrap();
    assert!(outcome.parked > 0, "the history accrues late interest");
    assert_eq!(
        gauge(&key),
        Some(outcome.parked as f64),
        "the alert metric rose"
    );

    parked::replay(&db.pool, &Billing).await.unwrap();
    assert_eq!(gauge(&key), Some(0.0), "and fell back once replayed");
}
