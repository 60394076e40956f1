//! An action fired and not finished is fired again, whatever the views say.
//!
//! A request the engine runs in steps (PAY-2's hold: the shipment, then each parcel) may be
//! killed after its first step. The views then no longer list the action (the shipment is
//! held), so only the journal's record that it was started brings it back, and the engine's
//! idempotency key, resumed, finishes its other steps. Here the views are empty (no view has
//! an instance yet), so every action a tick fires comes from that record, and the engine is a
//! stand-in that counts what reaches it (the end-to-end kill tests in `services/parcelport`
//! run the real one).

use chrono::{DateTime, NaiveDate, Utc};
use domain::Policy;
use engine::{CommandContext, EngineError};
use event_store::sqlite::SqliteEventStore;
use projection_runtime::ViewDb;
use projections::schedule::Action;
use scheduler::{
    BusinessClock, DueAction, Fire, Fired, Kind, Outcome, Scheduler, SchedulerOptions,
};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// A stand-in engine: fails the first `failures` firings with a retryable error (a key
/// another process still holds), then does the action with two events.
struct Flaky {
    failures: AtomicU32,
    fired: Mutex<Vec<(String, String)>>,
}

impl Fire for Flaky {
    async fn fire(&self, action: &DueAction, ctx: &CommandContext) -> Result<Fired, EngineError> {
        let key = ctx
            .idempotency_key
            .as_ref()
            .map(|key| key.as_str().to_owned())
            .unwrap_or_default();
        self.fired.lock().unwrap().push((action.key(), key.clone()));
        if self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(EngineError::InProgress { key });
        }
        Ok(Fired::Appended(2))
    }
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
}

fn hold(shipment: &str) -> DueAction {
    DueAction {
        kind: Kind::Deadline {
            action: Action::HoldUnpaid,
        },
        aggregate_type: "shipment".to_owned(),
        aggregate_id: shipment.to_owned(),
        subject: String::new(),
        due_on: NaiveDate::from_ymd_opt(2026, 4, 10).unwrap(),
        due_at: None,
    }
}

async fn scheduler(
    dir: &std::path::Path,
    failures: u32,
) -> (Scheduler<Flaky, SqliteEventStore>, Arc<Flaky>) {
    let log = SqliteEventStore::open(dir.join("store"))
        .await
        .expect("open the store");
    let views = ViewDb::open_sqlite(dir.join("views.db"))
        .await
        .expect("open the views");
    projection_runtime::catalog::migrate(views.clone())
        .await
        .expect("the views' catalog");
    let fire = Arc::new(Flaky {
        failures: AtomicU32::new(failures),
        fired: Mutex::new(Vec::new()),
    });
    let scheduler = Scheduler::new(
        Arc::clone(&fire),
        log,
        views,
        BusinessClock::simulated(at("2026-04-12T03:00:00Z")),
        Arc::new(Policy::jp_forwarding()),
        SchedulerOptions::default(),
    )
    .await
    .expect("the scheduler opens");
    (scheduler, fire)
}

// rule PAY-2: a hold killed after the shipment's step is finished by the next scheduler,
// though the views no longer list it, under the same key, once.
#[tokio::test]
async fn pay_2_an_action_started_by_a_process_that_died_is_fired_again_once() {
    let dir = tempfile::tempdir().unwrap();
    let action = hold("9b0c7c55-3f63-4c1b-9d7a-0f1f4b1f2a10");
    {
        // The process that died: it noted the action as started, then stopped.
        let (died, fire) = scheduler(dir.path(), 0).await;
        died.journal()
            .start(&action, at("2026-04-11T15:00:00Z"))
            .await
            .expect("note the start");
        assert!(fire.fired.lock().unwrap().is_empty());
    }

    let (next, fire) = scheduler(dir.path(), 0).await;
    assert_eq!(
        next.journal().unfinished().await.unwrap(),
        vec![action.clone()]
    );
    let report = next.tick().await.expect("tick");
    assert_eq!(report.journaled.len(), 1, "{report:?}");
    assert_eq!(report.journaled[0].outcome, Outcome::Done);
    assert_eq!(report.journaled[0].key, action.key());
    assert_eq!(
        *fire.fired.lock().unwrap(),
        vec![(action.key(), action.key())],
        "fired once, under the action's own key"
    );
    assert!(next.journal().unfinished().await.unwrap().is_empty());

    next.tick().await.expect("tick");
    assert_eq!(fire.fired.lock().unwrap().len(), 1, "never fired twice");
}

// rule PAY-2: an action the engine asks to retry (its key held by a request still running or
// not yet abandoned) stays started and is fired at every tick until it has an outcome.
#[tokio::test]
async fn pay_2_an_action_the_engine_asks_to_retry_is_fired_until_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let action = hold("4f2d9a0e-8c1b-4e5f-a6d7-1b2c3d4e5f60");
    let (scheduler, fire) = scheduler(dir.path(), 2).await;
    scheduler
        .journal()
        .start(&action, at("2026-04-11T15:00:00Z"))
        .await
        .unwrap();

    for _ in 0..2 {
        let report = scheduler.tick().await.expect("tick");
        assert_eq!((report.failed, report.journaled.len()), (1, 0));
        assert_eq!(
            scheduler.journal().unfinished().await.unwrap(),
            vec![action.clone()]
        );
    }
    let report = scheduler.tick().await.expect("tick");
    assert_eq!((report.failed, report.journaled.len()), (0, 1));
    assert!(scheduler.journal().unfinished().await.unwrap().is_empty());
    assert_eq!(fire.fired.lock().unwrap().len(), 3);
    assert_eq!(scheduler.journal().all().await.unwrap().len(), 1);
}
