//! Who may read what: 401 without a valid token, 403 for the roles outside an endpoint's list
//! (walked from the route table), and a member's token scoped to that member's rows.

use crate::support::{role_tokens, Warehouse, MEMBER_A, MEMBER_B};
use web::auth::Role;

/// The route's path with its parameters filled with rows of member A, and its required query
/// parameters with their first allowed value.
fn concrete(route: &query::RouteInfo, warehouse: &Warehouse) -> String {
    let path = route
        .path
        .replace("{parcel_id}", &warehouse.member_a.parcel_id)
        .replace("{account_id}", &warehouse.member_a.account_id)
        .replace("{member_id}", &warehouse.member_a.member_id)
        .replace("{aggregate_type}", "parcel")
        .replace("{aggregate_id}", &warehouse.member_a.parcel_id)
        .replace("{view}", "storage_status");
    let required: Vec<String> = route
        .params
        .iter()
        .filter(|param| param.required && param.location == "query")
        .map(|param| match param.shape {
            query::Shape::OneOf(words) => format!("{}={}", param.name, words[0]),
            query::Shape::Search => format!("{}=x", param.name),
            shape => panic!("no value for a required {shape:?}"),
        })
        .collect();
    if required.is_empty() {
        path
    } else {
        format!("{path}?{}", required.join("&"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_wants_a_valid_token_and_one_of_its_roles() {
    let warehouse = Warehouse::load().await;
    let routes = query::routes_table();
    assert_eq!(routes.len(), 19);
    for route in routes {
        let path = concrete(&route, &warehouse);
        let missing = warehouse.get(&path, "").await;
        assert_eq!(missing.status, 401, "{path}");
        assert_eq!(missing.body["code"], "auth.missing_token", "{path}");
        assert_eq!(missing.content_type, "application/problem+json");
        let invalid = warehouse.get(&path, "not-a-token").await;
        assert_eq!(invalid.status, 401, "{path}");
        assert_eq!(invalid.body["code"], "auth.invalid_token", "{path}");
        for (role, token) in role_tokens() {
            let answer = warehouse.get(&path, token).await;
            if role == Role::Admin || route.roles.contains(&role) {
                assert_eq!(answer.status, 200, "{role:?} {path}: {:#}", answer.body);
                assert!(answer.content_type.starts_with("application/json"));
            } else {
                assert_eq!(answer.status, 403, "{role:?} {path}: {:#}", answer.body);
                assert_eq!(answer.body["code"], "auth.forbidden", "{role:?} {path}");
                assert_eq!(answer.content_type, "application/problem+json");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_sees_only_their_own_parcels_and_balance() {
    let warehouse = Warehouse::load().await;
    let (a, b) = (&warehouse.member_a, &warehouse.member_b);

    // Their own: the parcel and the account with its balance.
    let parcel = warehouse
        .ok(&format!("/v1/storage/parcels/{}", a.parcel_id), MEMBER_A)
        .await;
    assert_eq!(parcel["member_id"], a.member_id.as_str());
    let account = warehouse
        .ok(&format!("/v1/billing/accounts/{}", a.account_id), MEMBER_A)
        .await;
    assert_eq!(account["account"]["member_id"], a.member_id.as_str());
    assert!(account["account"]["balance"].is_string(), "{account:#}");

    // Another member's: answered as missing.
    let other = warehouse
        .get(&format!("/v1/storage/parcels/{}", a.parcel_id), MEMBER_B)
        .await;
    assert_eq!(other.status, 404, "{:#}", other.body);
    assert_eq!(other.body["code"], "parcel.not_found");
    let other = warehouse
        .get(&format!("/v1/billing/accounts/{}", a.account_id), MEMBER_B)
        .await;
    assert_eq!(other.status, 404, "{:#}", other.body);
    assert_eq!(other.body["code"], "account.not_found");

    // Lists are the member's own; naming another member is refused.
    let own = warehouse
        .ok("/v1/storage/parcels?limit=500", MEMBER_B)
        .await;
    let items = own["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|p| p["member_id"] == b.member_id.as_str()));
    let all = warehouse
        .ok("/v1/storage/parcels?limit=500", crate::support::STAFF)
        .await;
    assert!(all["items"].as_array().unwrap().len() > items.len());
    let named = warehouse
        .get(
            &format!("/v1/storage/parcels?member_id={}", a.member_id),
            MEMBER_B,
        )
        .await;
    assert_eq!(named.status, 403);
    assert_eq!(named.body["code"], "auth.other_member");
    let quotes = warehouse.ok("/v1/billing/open-quotes", MEMBER_B).await;
    assert!(quotes["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|q| q["member_id"] == b.member_id.as_str()));
    let named = warehouse
        .get(
            &format!("/v1/billing/open-quotes?member_id={}", a.member_id),
            MEMBER_B,
        )
        .await;
    assert_eq!(named.status, 403);
}
