//! The operational surface: liveness, readiness (and its 503 when the database is gone),
//! Prometheus metrics by route and status, correlation ids, and an opaque 500 when the
//! store fails.

use crate::support::*;
use axum::body::Body;
use axum::http::Request;
use serde_json::json;
use std::sync::Arc;

#[tokio::test]
async fn healthz_and_readyz_answer_and_readyz_knows_when_the_database_is_gone() {
    let app = spawn_app().await;
    let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
    app.send(get("/healthz")).await.expect(200);
    let ready = app.send(get("/readyz")).await;
    ready.expect(200);
    assert_eq!(ready.body["status"], "ready");

    let nowhere = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_millis(300))
        .connect_lazy("postgres://postgres@127.0.0.1:1/nowhere")
        .unwrap();
    let router = api::router(api::AppState::new(
        Arc::clone(&app.engine),
        web::auth::TokenBook::default(),
        nowhere,
    ));
    let response = tower::ServiceExt::oneshot(router, get("/readyz"))
        .await
        .unwrap();
    read(response).await.problem(503, "service.unavailable");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app().await;
    let member = app.verified().await;
    app.post(
        &format!("/v1/members/{}/set-auto-pack", member.id),
        &member.token,
        json!({}),
    )
    .await
    .expect(200);
    let metrics = app
        .send(Request::get("/metrics").body(Body::empty()).unwrap())
        .await;
    metrics.expect(200);
    let text = metrics.body.as_str().unwrap_or_default();
    assert!(
        text.contains(r#"api_requests_total{route="/v1/members/{member_id}/set-auto-pack",method="POST",status="200"}"#),
        "{text}"
    );
    assert!(text.contains("api_request_duration_seconds"), "{text}");
}

#[tokio::test]
async fn correlation_ids_are_taken_or_made_and_always_echoed() {
    let app = spawn_app().await;
    let request = |id: Option<&str>| {
        let mut builder = Request::get("/healthz");
        if let Some(id) = id {
            builder = builder.header("x-correlation-id", id);
        }
        builder.body(Body::empty()).unwrap()
    };
    let given = app.send(request(Some("flow-1"))).await;
    assert_eq!(given.headers["x-correlation-id"], "flow-1");
    let made = app.send(request(None)).await;
    let made = made.headers["x-correlation-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(uuid::Uuid::parse_str(&made).is_ok(), "{made}");
    let too_long = "x".repeat(129);
    let replaced = app.send(request(Some(&too_long))).await;
    assert_ne!(replaced.headers["x-correlation-id"], too_long.as_str());
    // Problems carry it too.
    let problem = app
        .send(
            Request::get("/v1/members/m-1")
                .header("x-correlation-id", "flow-2")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    problem.problem(401, "auth.missing_token");
    assert_eq!(problem.headers["x-correlation-id"], "flow-2");
}

#[tokio::test]
async fn a_store_failure_is_an_opaque_500() {
    let app = spawn_app().await;
    let member = app.verified().await;
    sqlx::query("DROP TABLE engine.idempotency_keys")
        .execute(&app.pool)
        .await
        .unwrap();
    let reply = app
        .post(
            &format!("/v1/members/{}/set-auto-pack", member.id),
            &member.token,
            json!({}),
        )
        .await;
    reply.problem(500, "internal");
    let text = reply.body.to_string();
    assert!(
        !text.contains("idempotency_keys") && !text.contains("relation"),
        "{text}"
    );
}
