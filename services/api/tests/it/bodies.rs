//! Every way a request can be malformed answers 4xx problem+json, never 500 or a panic:
//! checked for every command of the document (key, path id, missing aggregate, not JSON,
//! malformed, unknown field, wrong top-level type, too large), then wrong types and invalid
//! values inside real bodies.

use crate::checks::{ops, request_checks, Reached, World};
use crate::support::*;
use serde_json::json;

#[tokio::test]
async fn every_endpoint_refuses_malformed_requests_with_a_problem() {
    let app = spawn_app().await;
    let world = World::new(&app).await;
    let mut seen = Reached::new();
    for op in ops(&api::openapi_document()) {
        request_checks(&app, &world, &op, &mut seen).await;
    }
    assert!(seen.len() > 400, "{}", seen.len());
}

#[tokio::test]
async fn wrong_types_and_invalid_values_inside_bodies_are_422() {
    let app = spawn_app().await;
    let member = app.verified().await;
    let cases = [
        (
            "/v1/parcels",
            STAFF,
            json!({ "weight": "heavy", "dimensions": { "length_mm": 1, "width_mm": 1, "height_mm": 1 } }),
        ),
        (
            "/v1/parcels",
            STAFF,
            json!({ "weight": 0, "dimensions": { "length_mm": 1, "width_mm": 1, "height_mm": 1 } }),
        ),
        (
            "/v1/parcels",
            STAFF,
            json!({ "weight": -5, "dimensions": { "length_mm": 1, "width_mm": 1, "height_mm": 1 } }),
        ),
        (
            "/v1/parcels",
            STAFF,
            json!({ "weight": 100, "dimensions": { "length_mm": 0, "width_mm": 1, "height_mm": 1 } }),
        ),
        (
            "/v1/parcels",
            STAFF,
            json!({ "weight": 100, "dimensions": { "length_mm": 1, "width_mm": 1, "height_mm": 1, "depth": 1 } }),
        ),
        ("/v1/parcels", STAFF, json!({ "weight": 100 })),
        (
            "/v1/parcels",
            STAFF,
            json!({ "parcel_id": "no spaces allowed", "weight": 100, "dimensions": { "length_mm": 1, "width_mm": 1, "height_mm": 1 } }),
        ),
        (
            "/v1/members",
            OPS,
            json!({ "name": "A", "birth_date": "1990-02-30", "email": "a@example.com", "forwarding_only_accepted": true }),
        ),
        (
            "/v1/members",
            OPS,
            json!({ "name": "A", "birth_date": "1990-01-01", "email": "not-an-email", "forwarding_only_accepted": true }),
        ),
        (
            "/v1/members",
            OPS,
            json!({ "name": "A", "birth_date": "1990-01-01", "email": "a@example.com", "forwarding_only_accepted": "yes" }),
        ),
        (
            "/v1/shipments",
            &member.token,
            json!({ "parcel_ids": "p-1" }),
        ),
        (
            "/v1/shipments",
            &member.token,
            json!({ "parcel_ids": [1, 2] }),
        ),
    ];
    for (path, token, body) in cases {
        let reply = app.post(path, token, body.clone()).await;
        reply.problem(422, "request.invalid_body");
        assert!(
            reply.body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{body}"
        );
    }
    let money = [
        json!({ "limit": { "amount": "lots", "currency": "JPY" } }),
        json!({ "limit": { "amount": "5000", "currency": "XXX" } }),
        json!({ "limit": "5000" }),
    ];
    for body in money {
        let reply = app
            .post(
                &format!("/v1/members/{}/set-auto-ship", member.id),
                &member.token,
                body.clone(),
            )
            .await;
        reply.problem(422, "request.invalid_body");
    }
    assert_eq!(
        app.event_count().await,
        3,
        "nothing appended after the setup"
    );
}
