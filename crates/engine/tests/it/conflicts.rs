//! Lost append races are decided again on the fresh state, a bounded number of times.

use crate::support::*;
use domain::member::{Member, MemberCommand};
use engine::{EngineConfig, EngineError, RetryPolicy};
use std::sync::atomic::Ordering;
use std::time::Duration;

on_each_backend!(
    conflict_retries_are_bounded_then_fail_typed,
    a_lost_race_is_decided_again_and_lands,
);

fn set_auto_pack() -> MemberCommand {
    MemberCommand::SetAutoPack
}

async fn conflict_retries_are_bounded_then_fail_typed<B: Backend>() {
    let mut config = EngineConfig::new("TYO").unwrap();
    config.retry = RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(1),
    };
    let app = TestApp::<B>::with_config(config).await;
    let (member, _) = app.verified_member().await;
    let before = app.engine.history::<Member>(member.as_str()).await.unwrap();

    app.faults.appends.store(0, Ordering::SeqCst);
    app.faults.conflicts.store(u32::MAX, Ordering::SeqCst);
    let error = app
        .engine
        .execute::<Member>(member.as_str(), set_auto_pack(), &app.ctx())
        .await
        .unwrap_err();
    app.faults.conflicts.store(0, Ordering::SeqCst);

    assert_eq!(
        error,
        EngineError::Conflict {
            aggregate_type: "member".into(),
            aggregate_id: member.to_string(),
            attempts: 4,
        }
    );
    assert_eq!(error.code(), "engine.conflict");
    // The first attempt and three retries, each decided and appended once; nothing landed.
    assert_eq!(app.faults.appends.load(Ordering::SeqCst), 4);
    let after = app.engine.history::<Member>(member.as_str()).await.unwrap();
    assert_eq!(after, before);
}

async fn a_lost_race_is_decided_again_and_lands<B: Backend>() {
    let app = TestApp::<B>::new().await;
    let (member, _) = app.verified_member().await;
    app.faults.appends.store(0, Ordering::SeqCst);
    app.faults.conflicts.store(2, Ordering::SeqCst);
    let executed = app
        .engine
        .execute::<Member>(member.as_str(), set_auto_pack(), &app.ctx())
        .await
        .unwrap();
    assert_eq!(app.faults.appends.load(Ordering::SeqCst), 3);
    assert_eq!(executed.events.len(), 1);
    // registered (1), verified (2), auto pack set (3).
    assert_eq!(executed.events[0].sequence, 3);
    let standing = app.engine.standing(&member).await.unwrap();
    assert!(standing.auto_pack);
}
