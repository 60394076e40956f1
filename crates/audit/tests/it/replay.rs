//! `replay --as-of`: a view built as of a position holds, per aggregate, exactly the events at
//! or below it, in a scratch instance that does not serve.

use crate::support::TestDb;
use audit::history::AsOf;
use audit::replay::replay;
use std::collections::BTreeMap;

#[tokio::test]
async fn a_view_replayed_as_of_a_position_stops_there_in_an_unserved_instance() {
    let db = TestDb::with_history(150).await;
    let position: i64 = sqlx::query_scalar(
        "SELECT position FROM events ORDER BY position OFFSET (SELECT count(*) / 2 FROM events) \
          LIMIT 1",
    )
    .fetch_one(db.pool())
    .await
    .expect("a middle position");
    let report = replay(
        db.pool(),
        &db.store,
        projections::billing::Billing,
        AsOf::Position(position),
        |_| {},
    )
    .await
    .expect("replay");

    let expected: BTreeMap<(String, String), i64> = sqlx::query_as(
        "SELECT aggregate_type, aggregate_id, max(sequence) FROM events WHERE position <= $1 \
          GROUP BY 1, 2",
    )
    .bind(position)
    .fetch_all(db.pool())
    .await
    .expect("the expected prefixes")
    .into_iter()
    .map(|(t, i, s): (String, String, i64)| ((t, i), s))
    .collect();
    let applied: BTreeMap<(String, String), i64> = sqlx::query_as(&format!(
        "SELECT aggregate_type, aggregate_id, last_sequence FROM {}.applied",
        report.schema
    ))
    .fetch_all(db.pool())
    .await
    .expect("the instance's applied sequences")
    .into_iter()
    .map(|(t, i, s): (String, String, i64)| ((t, i), s))
    .collect();
    assert!(!applied.is_empty());
    // The billing view reads accounts only; each aggregate it saw stopped at the bound.
    for (aggregate, sequence) in &applied {
        assert_eq!(expected.get(aggregate), Some(sequence), "{aggregate:?}");
    }
    let serving: Option<String> =
        sqlx::query_scalar("SELECT schema FROM projections.views WHERE name = 'billing'")
            .fetch_optional(db.pool())
            .await
            .expect("the pointer");
    assert_ne!(serving.as_deref(), Some(report.schema.as_str()));
}
