//! A member's whole story through HTTP on the jp-forwarding profile: registered by ops,
//! verified, topped up by finance; two parcels received, inspected and stored by the
//! warehouse, declared by the member; consolidated, packed, quoted and paid; shipped,
//! delivered; a claim filed, answered and paid out. Every step is one request to one
//! endpoint, with the caller the role table says.

use crate::support::*;
use axum::body::Body;
use axum::http::{header, Request};
use serde_json::json;

#[tokio::test]
async fn a_member_from_registration_to_a_claim_paid_out() {
    let app = spawn_app().await;

    // Registration (MEM-1), verification (MEM-2), a top-up (ACC-2).
    let member = app.verified().await;
    assert!(member.suite_code.starts_with("TYO-"), "{member:?}");
    assert_eq!(member.account_id, format!("acct-{}", member.id));
    app.top_up(&member, 100_000).await;
    assert_eq!(app.balance(&member).await, "100000");

    // Two parcels, stored.
    let first = app.stored_parcel(&member, 1_500, 3_000).await;
    let second = app.stored_parcel(&member, 1_200, 5_000).await;

    // Consolidated by the member: 201 with the new shipment's id (CON-1..CON-3).
    let consolidated = app
        .post(
            "/v1/shipments",
            &member.token,
            json!({ "parcel_ids": [first, second] }),
        )
        .await;
    consolidated.expect(201);
    let shipment = consolidated.id();
    assert_eq!(
        consolidated.event_types(),
        [
            "parcel.consolidated",
            "parcel.consolidated",
            "shipment.consolidated"
        ]
    );
    let path = |command: &str| format!("/v1/shipments/{shipment}/{command}");

    // Packed by the warehouse, quoted for the member, paid from the balance (PAY-1).
    let packed = app
        .post(&path("record-packing"), STAFF, ems_packing(3_100))
        .await;
    packed.expect(200);
    assert_eq!(
        packed.event_types(),
        ["shipment.packed", "parcel.packed", "parcel.packed"]
    );
    let quoted = app.post(&path("quote"), &member.token, ems_to_us()).await;
    quoted.expect(200);
    assert_eq!(quoted.event_types(), ["shipment.quoted"]);
    let total = quoted.body["result"]["total"].clone();
    let paid = app
        .post(
            &path("pay"),
            &member.token,
            json!({ "method": "balance", "amount": total }),
        )
        .await;
    paid.expect(200);
    // Each parcel's stream records the payment too.
    assert_eq!(
        paid.event_types(),
        [
            "account.debited",
            "shipment.paid",
            "parcel.paid",
            "parcel.paid"
        ]
    );
    assert_eq!(paid.body["events"][1]["aggregate_id"], shipment.as_str());
    let total: i64 = total["amount"].as_str().unwrap().parse().unwrap();
    assert_eq!(app.balance(&member).await, (100_000 - total).to_string());

    // Shipped (SHP-1), delivered four days later (SHP-2).
    app.post(
        &path("ship"),
        STAFF,
        json!({
            "carrier": "EMS", "service": "EMS", "tracking_number": "ej123456789jp",
            "declared_value": yen(8_000)
        }),
    )
    .await
    .expect(200);
    app.clock.advance(days(4));
    app.post(
        &path("record-tracking"),
        STAFF,
        json!({ "status": "delivered", "on": app.today() }),
    )
    .await
    .expect(200);

    // A defect claim (CLM-1), answered (CLM-3), approved and paid out (CLM-5).
    let filed = app
        .post(
            &path("file-claim"),
            &member.token,
            json!({
                "claim_id": "clm-1", "claim_type": "defect",
                "evidence": { "photos": ["stain.jpg"], "comment": "a stain on the front" },
                "item": { "parcel_id": first, "line": 0, "quantity": 1 }
            }),
        )
        .await;
    filed.expect(201);
    assert_eq!(filed.id(), "clm-1");
    app.post(
        &path("respond-to-claim"),
        OPS,
        json!({ "claim_id": "clm-1", "message": "we are looking into it" }),
    )
    .await
    .expect(200);
    let approved = app
        .post(
            &path("approve-claim"),
            FINANCE,
            json!({ "claim_id": "clm-1", "payout": yen(3_000) }),
        )
        .await;
    approved.expect(200);
    assert_eq!(
        approved.event_types(),
        [
            "shipment.claim_approved",
            "account.credited",
            "parcel.claim_settled"
        ]
    );
    assert_eq!(
        app.balance(&member).await,
        (100_000 - total + 3_000).to_string()
    );

    // The member reads their shipment; an auditor reads a parcel.
    let read = app
        .get(&format!("/v1/shipments/{shipment}"), &member.token)
        .await;
    read.expect(200);
    assert_eq!(read.body["type"], "shipment");
    assert_eq!(read.body["member_id"], member.id.as_str());
    assert!(
        read.body["version"].as_u64().unwrap() >= 8,
        "{:#}",
        read.body
    );
    app.get(&format!("/v1/parcels/{first}"), AUDITOR)
        .await
        .expect(200);

    // Every event records who asked and the request's correlation id, which is echoed.
    let request = Request::post(format!("/v1/members/{}/set-auto-pack", member.id))
        .header(header::AUTHORIZATION, format!("Bearer {}", member.token))
        .header("idempotency-key", key())
        .header("x-correlation-id", "flow-42")
        .body(Body::empty())
        .unwrap();
    let toggled = app.send(request).await;
    toggled.expect(200);
    assert_eq!(toggled.headers["x-correlation-id"], "flow-42");
    let (actor, correlation): (String, String) = sqlx::query_as(
        "SELECT metadata ->> 'actor', correlation_id FROM events
          WHERE aggregate_id = $1 AND event_type = 'member.auto_pack_set'",
    )
    .bind(&member.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(actor, format!("member:{}", member.id));
    assert_eq!(correlation, "flow-42");
}
