//! The look-ups and pictures the dashboard is made of: a member's page, the search by suite
//! code, name, parcel id and tracking number, the warehouse day by day, and the views' lag over
//! the last hour, each checked against what the events and the other lists say.

use crate::support::{Warehouse, ADMIN, MEMBER_A, MEMBER_B, OPS, STAFF};
use serde_json::Value;
use std::time::Duration;

/// The registration of `member`: its payload.
async fn registration(warehouse: &Warehouse, member: &str) -> Value {
    let found = warehouse
        .ok(
            &format!("/v1/audit/events?event_type=member.registered&aggregate_id={member}"),
            ADMIN,
        )
        .await;
    found["items"][0]["payload"]["registered"].clone()
}

/// The hits of a search for `text` as the warehouse's staff.
async fn search(warehouse: &Warehouse, text: &str) -> Vec<Value> {
    let path = format!("/v1/search?q={}", urlencode(text));
    let found = warehouse.ok(&path, STAFF).await;
    found["items"].as_array().cloned().unwrap_or_default()
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_is_found_by_suite_code_name_parcel_and_tracking_number() {
    let warehouse = Warehouse::load().await;
    let a = &warehouse.member_a;
    let registered = registration(&warehouse, &a.member_id).await;
    let suite_code = registered["suite_code"].as_str().unwrap();
    let name = registered["name"].as_str().unwrap();

    // The member's page: who, every parcel of theirs, their shipments and account.
    let page = warehouse
        .ok(&format!("/v1/storage/members/{}", a.member_id), STAFF)
        .await;
    assert_eq!(page["member"]["suite_code"], suite_code);
    assert_eq!(page["member"]["name"], name);
    assert_eq!(page["member"]["state"], "active");
    assert_eq!(page["account_id"], a.account_id.as_str());
    let parcels = page["parcels"].as_array().unwrap();
    assert!(parcels
        .iter()
        .any(|p| p["parcel_id"] == a.parcel_id.as_str()));
    assert!(parcels
        .iter()
        .all(|p| p["member_id"] == a.member_id.as_str()));
    // Every parcel that arrived bears the member's suite code (an expected one none yet).
    assert!(parcels
        .iter()
        .all(|p| p["suite_code"] == suite_code || p["received_on"].is_null()));
    for shipment in page["shipments"].as_array().unwrap() {
        assert_eq!(shipment["member_id"], a.member_id.as_str());
    }

    // By suite code, in any case: the member first.
    let hits = search(&warehouse, &suite_code.to_lowercase()).await;
    assert_eq!(hits[0]["kind"], "member", "{hits:#?}");
    assert_eq!(hits[0]["id"], a.member_id.as_str());
    assert_eq!(hits[0]["matched"], "suite_code");
    assert_eq!(hits[0]["name"], name);
    // By part of the name, in another case.
    let part: String = name.chars().skip(1).take(4).collect();
    let hits = search(&warehouse, &part.to_uppercase()).await;
    assert!(
        hits.iter()
            .any(|h| h["id"] == a.member_id.as_str() && h["matched"] == "name"),
        "{part}: {hits:#?}"
    );
    assert!(hits.iter().all(|h| h["name"]
        .as_str()
        .unwrap()
        .to_lowercase()
        .contains(&part.to_lowercase())));
    // By parcel id: the parcel, with its member's suite code and name.
    let hits = search(&warehouse, &a.parcel_id).await;
    assert_eq!(hits[0]["kind"], "parcel");
    assert_eq!(hits[0]["suite_code"], suite_code);
    assert_eq!(hits[0]["name"], name);
    // By tracking number: the shipment.
    let shipped = warehouse
        .ok(
            "/v1/audit/events?event_type=shipment.shipped&limit=1",
            ADMIN,
        )
        .await;
    let shipped = &shipped["items"][0];
    let tracking = shipped["payload"]["shipped"]["tracking_number"]
        .as_str()
        .expect("the demo ships");
    let hits = search(&warehouse, tracking).await;
    assert_eq!(hits[0]["kind"], "shipment");
    assert_eq!(hits[0]["id"], shipped["aggregate_id"]);
    assert_eq!(hits[0]["matched"], "tracking_number");
    assert!(hits[0]["suite_code"].is_string());
    // Nothing for what is nowhere; bad input is a 400.
    assert!(search(&warehouse, "no-such-thing-anywhere")
        .await
        .is_empty());
    for bad in ["/v1/search", &format!("/v1/search?q={}", "x".repeat(101))] {
        let answer = warehouse.get(bad, STAFF).await;
        assert_eq!(answer.status, 400, "{bad}: {:#}", answer.body);
        assert_eq!(answer.body["code"], "query.invalid_parameter");
    }

    // Members by id: a member reads themselves only.
    let own = warehouse.ok("/v1/storage/members", MEMBER_A).await;
    assert_eq!(own["items"].as_array().unwrap().len(), 1);
    assert_eq!(own["items"][0]["member_id"], a.member_id.as_str());
    let other = warehouse
        .get(
            &format!("/v1/storage/members?ids={}", a.member_id),
            MEMBER_B,
        )
        .await;
    assert_eq!(other.status, 403);
    assert_eq!(other.body["code"], "auth.other_member");
    let other = warehouse
        .get(&format!("/v1/storage/members/{}", a.member_id), MEMBER_B)
        .await;
    assert_eq!(other.status, 404);
    assert_eq!(other.body["code"], "member.not_found");
    let both = format!(
        "/v1/storage/members?ids={},{}",
        a.member_id, warehouse.member_b.member_id
    );
    let both = warehouse.ok(&both, STAFF).await;
    assert_eq!(both["items"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_warehouse_day_by_day_agrees_with_todays_lists() {
    let warehouse = Warehouse::load().await;
    let daily = warehouse.ok("/v1/storage/daily?days=14", STAFF).await;
    let days = daily["days"].as_array().unwrap();
    assert_eq!(days.len(), 14);
    let today = &days[13];
    assert_eq!(today["date"], daily["today"]);
    let past = warehouse
        .ok("/v1/storage/past-limit?limit=500", STAFF)
        .await;
    assert!(past["next_cursor"].is_null());
    assert_eq!(
        today["past_limit"].as_u64().unwrap(),
        past["items"].as_array().unwrap().len() as u64
    );
    let here = warehouse.ok("/v1/storage/parcels?limit=500", STAFF).await;
    let here = here["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["received_on"].as_str() <= daily["today"].as_str())
        .count();
    let counts = warehouse.ok("/v1/storage/counts", STAFF).await;
    assert_eq!(
        today["in_warehouse"].as_u64().unwrap(),
        here as u64,
        "{daily:#} {counts:#}"
    );
    let arrivals: u64 = days.iter().map(|d| d["arrivals"].as_u64().unwrap()).sum();
    assert!(arrivals > 0, "the demo's parcels arrived in the period");
    let default = warehouse.ok("/v1/storage/daily", STAFF).await;
    assert_eq!(default["days"].as_array().unwrap().len(), 90);
    for bad in ["days=0", "days=367", "days=many"] {
        let answer = warehouse
            .get(&format!("/v1/storage/daily?{bad}"), STAFF)
            .await;
        assert_eq!(answer.status, 400, "{bad}");
        assert_eq!(answer.body["code"], "query.invalid_parameter");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_views_lag_is_sampled_from_the_start() {
    let warehouse = Warehouse::load().await;
    // The first sample is taken as the service starts: wait for it, no longer than a while.
    let history = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let history = warehouse.ok("/v1/projections/lag-history", OPS).await;
            if !history["samples"].as_array().unwrap().is_empty() {
                return history;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("a sample");
    assert_eq!(history["sample_every_seconds"], 15);
    let sample = &history["samples"][0];
    let views: Vec<&str> = sample["views"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["view"].as_str().unwrap())
        .collect();
    assert_eq!(views, ["storage_status", "billing", "audit"]);
    assert!(sample["at"].is_string());
    assert_eq!(sample["views"][0]["lag_events"], 0, "caught up: {sample:#}");
}
