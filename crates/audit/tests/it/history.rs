//! `history --as-of`: a parcel and a charge account as they were between two of their events.

use crate::support::TestDb;
use audit::history::{history, AggregateKind, AsOf};
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use domain::account::{AccountEvent, ChargeAccount};
use domain::parcel::{Parcel, ParcelEvent};
use serde_json::Value;

/// `(sequence, recorded_at, payload)` of every event of an aggregate.
async fn events_of(db: &TestDb, kind: &str, id: &str) -> Vec<(i64, DateTime<Utc>, Value)> {
    sqlx::query_as(
        "SELECT sequence, recorded_at, payload FROM events \
          WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence",
    )
    .bind(kind)
    .bind(id)
    .fetch_all(db.pool())
    .await
    .expect("the aggregate's events")
}

/// The middle of the gap after event `index`: strictly between it and the next.
fn between(events: &[(i64, DateTime<Utc>, Value)], index: usize) -> DateTime<Utc> {
    let (earlier, later) = (events[index].1, events[index + 1].1);
    assert!(later - earlier >= chrono::Duration::microseconds(2));
    earlier + (later - earlier) / 2
}

#[tokio::test]
async fn a_parcel_as_of_a_time_between_two_events_is_in_its_earlier_state() {
    let db = TestDb::with_history(150).await;
    let id: String = sqlx::query_scalar(
        "SELECT aggregate_id FROM events WHERE aggregate_type = 'parcel' GROUP BY 1 \
          HAVING count(DISTINCT recorded_at) >= 3 ORDER BY min(position) LIMIT 1",
    )
    .fetch_one(db.pool())
    .await
    .expect("a parcel with three commits");
    let events = events_of(&db, "parcel", &id).await;
    let moment = between(&events, 0);
    let earlier = events.iter().take_while(|e| e.1 <= moment).count();

    let past = history(
        db.pool(),
        AggregateKind::Parcel,
        &id,
        Some(AsOf::Time(moment)),
    )
    .await
    .expect("the history");
    let now = history(db.pool(), AggregateKind::Parcel, &id, None)
        .await
        .expect("the history");

    assert_eq!(past.events.len(), earlier);
    assert_eq!(now.events.len(), events.len());
    // The state the domain reaches from those events alone.
    let mut expected = Parcel::default();
    for (_, _, payload) in &events[..earlier] {
        let event: ParcelEvent = serde_json::from_value(payload.clone()).expect("decodes");
        expected.apply(event);
    }
    assert_eq!(past.state, serde_json::to_value(&expected).expect("state"));
    assert_ne!(past.state, now.state);
    assert!(past
        .policy_versions
        .iter()
        .all(|v| v.starts_with("jp-forwarding@")));
}

#[tokio::test]
async fn a_charge_account_balance_as_of_a_time_between_two_events_is_the_earlier_balance() {
    let db = TestDb::with_history(400).await;
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT aggregate_id FROM events WHERE aggregate_type = 'account' GROUP BY 1 \
          HAVING count(DISTINCT recorded_at) >= 3 ORDER BY min(position)",
    )
    .fetch_all(db.pool())
    .await
    .expect("accounts");
    let now_balance = |state: &Value| {
        serde_json::from_value::<ChargeAccount>(state.clone())
            .expect("an account state")
            .balance()
    };
    for id in ids {
        let events = events_of(&db, "account", &id).await;
        let mut account = ChargeAccount::default();
        let mut balances = Vec::new();
        for (_, _, payload) in &events {
            let event: AccountEvent = serde_json::from_value(payload.clone()).expect("decodes");
            account.apply(event);
            balances.push(account.balance());
        }
        // An event after which the balance still changes, in a commit of its own.
        let Some(index) = (0..events.len() - 1).find(|&i| {
            balances[i] != balances[balances.len() - 1]
                && events[i + 1].1 - events[i].1 >= chrono::Duration::microseconds(2)
        }) else {
            continue;
        };
        let moment = between(&events, index);
        let past = history(
            db.pool(),
            AggregateKind::Account,
            &id,
            Some(AsOf::Time(moment)),
        )
        .await
        .expect("the history");
        let now = history(db.pool(), AggregateKind::Account, &id, None)
            .await
            .expect("the history");
        assert_eq!(now_balance(&past.state), balances[index]);
        assert_ne!(now_balance(&past.state), now_balance(&now.state));
        return;
    }
    panic!("the simulated history has no account whose balance moved twice");
}

#[tokio::test]
async fn as_of_a_position_bounds_the_history_too() {
    let db = TestDb::with_history(60).await;
    let (id, position): (String, i64) = sqlx::query_as(
        "SELECT aggregate_id, position FROM events WHERE aggregate_type = 'member' \
          AND sequence = 1 ORDER BY position LIMIT 1",
    )
    .fetch_one(db.pool())
    .await
    .expect("a member");
    let past = history(
        db.pool(),
        AggregateKind::Member,
        &id,
        Some(AsOf::Position(position)),
    )
    .await
    .expect("the history");
    assert_eq!(past.events.len(), 1);
    assert_eq!(past.events[0].event_type, "member.registered");
}
