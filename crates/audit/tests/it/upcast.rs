//! Schema evolution: a history stored with `member.login_failed` version 1 (rows inserted
//! directly, as an older release wrote them) replays under the current code, version 2, through
//! the engine (cqrs-es upcasters), the projections' decode, the audit view's state as of a
//! moment and the auditor's history.

use crate::support::TestDb;
use audit::history::{history, AggregateKind};
use domain::member::{Member, MemberEvent};
use domain::{Policy, Services};
use engine::{EngineConfig, PgEngine};
use event_store::GlobalCursor;
use projection_runtime::{rebuild, EventEnvelope, Progress, RebuildOptions, ViewDb};
use projections::audit::Audit;
use projections::decode::{decode, DomainEventOf};

#[tokio::test]
async fn a_history_with_version_1_login_failures_replays_under_version_2() {
    let db = TestDb::with_history(30).await;
    let (member, last): (String, i64) = sqlx::query_as(
        "SELECT aggregate_id, max(sequence) FROM events WHERE aggregate_type = 'member' \
          GROUP BY 1 ORDER BY 1 LIMIT 1",
    )
    .fetch_one(db.pool())
    .await
    .expect("a member");
    for (offset, failures) in [(1, 1), (2, 2)] {
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
             event_version, payload, metadata) VALUES ('member', $1, $2, 'member.login_failed', \
             '1', $3, '{}')",
        )
        .bind(&member)
        .bind(last + offset)
        .bind(serde_json::json!({
            "login_failed": { "at": "2026-12-03T08:15:02Z", "consecutive_failures": failures }
        }))
        .execute(db.pool())
        .await
        .expect("a version-1 row");
    }

    // The engine loads through the upcasters.
    let engine = PgEngine::postgres(
        &db.store,
        Services::new(Policy::jp_forwarding()),
        EngineConfig::new("TYO").expect("a prefix"),
    );
    let loaded = engine.load::<Member>(&member).await.expect("loads");
    let record = loaded.state.record().expect("a registered member");
    assert_eq!(record.failed_logins, 2);
    let events = engine.history::<Member>(&member).await.expect("history");
    assert!(matches!(
        events.last(),
        Some(MemberEvent::LoginFailed {
            in_a_row: 2,
            limit: None,
            ..
        })
    ));

    // The projections decode it as the current version (once below the global watermark).
    audit::source::await_earlier_writers(db.pool())
        .await
        .expect("writers done");
    let stored = db
        .store
        .read_after(GlobalCursor::START, 10_000)
        .await
        .expect("read");
    let old = stored
        .into_iter()
        .rfind(|e| e.aggregate_id == member && e.event_type == "member.login_failed")
        .expect("the stored row");
    assert_eq!(old.event_version, "1");
    let decoded = decode(&EventEnvelope::from(old)).expect("decodes");
    assert!(matches!(
        decoded,
        DomainEventOf::Member(MemberEvent::LoginFailed {
            in_a_row: 2,
            limit: None,
            ..
        })
    ));

    // The audit view keeps it as stored, and its state as of a moment reads it upcast.
    let views = ViewDb::from(db.pool());
    rebuild(
        &views,
        &db.store,
        Audit,
        RebuildOptions {
            progress: Progress::Hidden,
            ..RebuildOptions::default()
        },
    )
    .await
    .expect("the audit view builds");
    let viewed = projections::audit::state_as_of::<Member>(&views, &member, None)
        .await
        .expect("the view's state decodes")
        .expect("a member");
    assert_eq!(viewed.record().map(|r| r.failed_logins), Some(2));

    // The auditor's history folds it too.
    let past = history(db.pool(), AggregateKind::Member, &member, None)
        .await
        .expect("history");
    let state: Member = serde_json::from_value(past.state).expect("a member state");
    assert_eq!(state.record().map(|r| r.failed_logins), Some(2));
    assert_eq!(
        past.events.last().map(|e| e.stored_version.as_str()),
        Some("1")
    );
}
