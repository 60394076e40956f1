//! Keyset pages: walking a list page by page gives every row once, in order, with no gap; and
//! the filters keep only what they name.

use crate::support::{Warehouse, AUDITOR, FINANCE, OPS, STAFF};
use serde_json::Value;
use std::collections::HashSet;

/// Every item of `path` (which has a `?`), page by page of `limit`.
async fn walk(warehouse: &Warehouse, path: &str, limit: u32, token: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(cursor) => format!("{path}&limit={limit}&cursor={cursor}"),
            None => format!("{path}&limit={limit}"),
        };
        let page = warehouse.ok(&url, token).await;
        let got = page["items"].as_array().unwrap();
        assert!(got.len() <= limit as usize);
        items.extend(got.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return items,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parcel_pages_have_no_duplicate_and_no_gap_and_filters_keep_what_they_name() {
    let warehouse = Warehouse::load().await;
    let whole = warehouse.ok("/v1/storage/parcels?limit=500", STAFF).await;
    let whole: Vec<&str> = whole["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["parcel_id"].as_str().unwrap())
        .collect();
    assert!(whole.len() > 20, "{whole:?}");
    let paged = walk(&warehouse, "/v1/storage/parcels?", 7, STAFF).await;
    let paged: Vec<&str> = paged
        .iter()
        .map(|p| p["parcel_id"].as_str().unwrap())
        .collect();
    assert_eq!(paged, whole);

    let counts = warehouse.ok("/v1/storage/counts", STAFF).await;
    let stored = walk(&warehouse, "/v1/storage/parcels?state=stored", 5, STAFF).await;
    assert!(stored.iter().all(|p| p["state"] == "stored"));
    assert_eq!(
        stored.len() as i64,
        counts["states"]["stored"].as_i64().unwrap()
    );
    let two_states = warehouse
        .ok("/v1/storage/parcels?state=stored,received&limit=500", STAFF)
        .await;
    let two_states = two_states["items"].as_array().unwrap();
    assert!(two_states.len() > stored.len());
    assert!(two_states
        .iter()
        .all(|p| p["state"] == "stored" || p["state"] == "received"));

    let member = &warehouse.member_a.member_id;
    let own = warehouse
        .ok(
            &format!("/v1/storage/parcels?member_id={member}&limit=500"),
            STAFF,
        )
        .await;
    let own = own["items"].as_array().unwrap();
    assert!(!own.is_empty());
    assert!(own.iter().all(|p| p["member_id"] == member.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_pages_list_every_event_once_and_filters_keep_what_they_name() {
    let warehouse = Warehouse::load().await;
    let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&warehouse.pool)
        .await
        .unwrap();
    let events = walk(&warehouse, "/v1/audit/events?", 50, AUDITOR).await;
    assert_eq!(events.len() as i64, recorded);
    let ids: HashSet<&str> = events
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), events.len(), "an event listed twice");

    let arrived = walk(
        &warehouse,
        "/v1/audit/events?event_type=parcel.arrived",
        10,
        AUDITOR,
    )
    .await;
    assert!(!arrived.is_empty());
    assert!(arrived.iter().all(|e| e["event_type"] == "parcel.arrived"));

    let parcel = &warehouse.member_a.parcel_id;
    let one = walk(
        &warehouse,
        &format!("/v1/audit/events?aggregate_type=parcel&aggregate_id={parcel}"),
        3,
        AUDITOR,
    )
    .await;
    let history = warehouse
        .ok(&format!("/v1/audit/parcel/{parcel}/history"), AUDITOR)
        .await;
    assert_eq!(one.len() as u64, history["count"].as_u64().unwrap());
    assert!(one.iter().all(|e| e["aggregate_id"] == parcel.as_str()));
    let sequences: Vec<i64> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(sequences, (1..=sequences.len() as i64).collect::<Vec<_>>());

    let none = warehouse
        .ok("/v1/audit/events?from=2999-01-01T00:00:00Z", AUDITOR)
        .await;
    assert_eq!(none["items"], serde_json::json!([]));
    assert_eq!(none["next_cursor"], Value::Null);
    let all = walk(
        &warehouse,
        "/v1/audit/events?from=2000-01-01T00:00:00Z&to=2999-01-01T00:00:00Z",
        500,
        AUDITOR,
    )
    .await;
    assert_eq!(all.len(), events.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_list_is_a_keyset_page_and_its_pages_make_the_whole_list() {
    let warehouse = Warehouse::load().await;
    let lists = [
        ("/v1/storage/past-limit?", STAFF),
        ("/v1/storage/due-today?task=notices", STAFF),
        ("/v1/storage/due-today?task=to_mark_disposable", STAFF),
        ("/v1/storage/due-today?task=to_dispose", STAFF),
        ("/v1/storage/due-today?task=fees_to_accrue", STAFF),
        ("/v1/storage/due-today?task=arrivals_to_notify", STAFF),
        ("/v1/storage/due-today?task=unidentified", STAFF),
        ("/v1/billing/open-quotes?", FINANCE),
        ("/v1/billing/overdue?", FINANCE),
        ("/v1/billing/fees?by=type", FINANCE),
        ("/v1/billing/fees?by=month", FINANCE),
        ("/v1/billing/refunds-due?", FINANCE),
        ("/v1/projections/audit/parked?", OPS),
    ];
    let mut rows = 0;
    for (path, token) in lists {
        let whole = warehouse.ok(&format!("{path}&limit=500"), token).await;
        assert!(whole["next_cursor"].is_null(), "{path}: {whole:#}");
        let whole = whole["items"].as_array().unwrap().clone();
        let paged = walk(&warehouse, path, 2, token).await;
        assert_eq!(paged, whole, "{path}");
        rows += whole.len();
    }
    assert!(rows > 10, "the demo fills the lists: {rows} rows");

    // A page's cursor belongs to its list: another task's, or the other grouping's, refuses it.
    let fees = warehouse
        .ok("/v1/billing/fees?by=type&limit=1", FINANCE)
        .await;
    let cursor = fees["next_cursor"]
        .as_str()
        .expect("more than one fee type");
    let crossed = warehouse
        .get(
            &format!("/v1/billing/fees?by=month&cursor={cursor}"),
            FINANCE,
        )
        .await;
    assert_eq!(crossed.status, 422, "{:#}", crossed.body);
    assert_eq!(crossed.body["code"], "query.invalid_cursor");
    let due = warehouse
        .ok("/v1/storage/due-today?task=notices&limit=1", STAFF)
        .await;
    if let Some(cursor) = due["next_cursor"].as_str() {
        let crossed = warehouse
            .get(
                &format!("/v1/storage/due-today?task=to_dispose&cursor={cursor}"),
                STAFF,
            )
            .await;
        assert_eq!(crossed.body["code"], "query.invalid_cursor");
    }
}
