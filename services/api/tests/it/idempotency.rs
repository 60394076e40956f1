//! `Idempotency-Key`: a retried request with the same key gets the first answer and appends
//! nothing, refusals included; the same key with another body is refused; keys are scoped
//! to the token; a duplicate sent while the first still runs waits for its answer.

use crate::support::*;
use serde_json::json;

#[tokio::test]
async fn the_same_key_twice_returns_the_first_answer_and_appends_nothing() {
    let app = spawn_app().await;
    let member = app.verified().await;
    let key = key();
    let first = app
        .post_keyed("/v1/parcels", STAFF, &key, arrival(&member.suite_code, 700))
        .await;
    first.expect(201);
    let events = app.event_count().await;
    let again = app
        .post_keyed("/v1/parcels", STAFF, &key, arrival(&member.suite_code, 700))
        .await;
    again.expect(201);
    assert_eq!(again.body, first.body);
    assert_eq!(app.event_count().await, events);

    // A refusal is an answer too: replayed, not decided again.
    let path = format!("/v1/members/{}/set-auto-ship", member.id);
    let zero = json!({ "limit": yen(0) });
    let refused = app
        .post_keyed(&path, &member.token, "zero", zero.clone())
        .await;
    refused.problem(422, "member.auto_ship_limit_not_positive");
    assert_eq!(refused.body["rule"], "MEM-7");
    let replayed = app.post_keyed(&path, &member.token, "zero", zero).await;
    assert_eq!(replayed.body, refused.body);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused() {
    let app = spawn_app().await;
    let member = app.verified().await;
    let key = key();
    app.post_keyed("/v1/parcels", STAFF, &key, arrival(&member.suite_code, 700))
        .await
        .expect(201);
    let events = app.event_count().await;
    let other = app
        .post_keyed("/v1/parcels", STAFF, &key, arrival(&member.suite_code, 701))
        .await;
    other.problem(422, "idempotency.key_reused");
    // Another endpoint with the same key is another request too.
    let toggle = format!("/v1/members/{}/set-auto-pack", member.id);
    app.post_keyed(&toggle, STAFF, &key, json!({}))
        .await
        .problem(403, "auth.forbidden");
    app.post_keyed(&toggle, ADMIN, &key, json!({}))
        .await
        .expect(200);
    assert_eq!(app.event_count().await, events + 1);
}

#[tokio::test]
async fn keys_are_scoped_to_the_token() {
    let app = spawn_app().await;
    let member = app.verified().await;
    let a = app
        .post_keyed(
            "/v1/parcels",
            STAFF,
            "shared",
            arrival(&member.suite_code, 700),
        )
        .await;
    let b = app
        .post_keyed(
            "/v1/parcels",
            ADMIN,
            "shared",
            arrival(&member.suite_code, 700),
        )
        .await;
    a.expect(201);
    b.expect(201);
    assert_ne!(a.id(), b.id());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn duplicates_sent_together_get_one_answer_and_one_set_of_events() {
    let app = spawn_app().await;
    let member = app.verified().await;
    let address = app.listen().await;
    let events = app.event_count().await;
    let key = key();
    let body = arrival(&member.suite_code, 900);
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (key, body) = (key.clone(), body.clone());
            tokio::spawn(async move {
                http(
                    address,
                    axum::http::Method::POST,
                    "/v1/parcels",
                    STAFF,
                    &key,
                    Some(&body),
                )
                .await
            })
        })
        .collect();
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.unwrap());
    }
    for reply in &replies {
        reply.expect(201);
        assert_eq!(reply.body, replies[0].body);
    }
    // One arrival: parcel.arrived and its notice (PAR-3).
    assert_eq!(app.event_count().await, events + 2);
}
