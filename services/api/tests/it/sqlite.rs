//! The same API on the embedded SQLite store: a smoke test that the router, the pipeline and
//! the views run on `SqliteEngine` as they do on PostgreSQL.

use crate::support::{arrival, key, read, registration, start, Reply, ADMIN, STAFF};
use axum::body::Body;
use axum::http::{header, Method, Request};
use axum::Router;
use domain::{Policy, Services};
use engine::{EngineConfig, SqliteEngine, TestClock};
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;
use web::auth::{Caller, Role, TokenBook};

async fn call(
    router: &Router,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Reply {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header("idempotency-key", key());
    let request = match body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    };
    read(
        router
            .clone()
            .oneshot(request.unwrap())
            .await
            .expect("infallible"),
    )
    .await
}

#[tokio::test]
async fn a_member_registers_and_a_parcel_arrives_on_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    let engine = SqliteEngine::open(
        dir.path(),
        Services::new(Policy::jp_forwarding()),
        EngineConfig::new("TYO").unwrap(),
    )
    .await
    .expect("open the embedded engine")
    .with_clock(TestClock::at(start()));
    let caller = |name: &str, role| Caller {
        name: name.to_owned(),
        role,
        member_id: None,
    };
    let tokens = TokenBook::default()
        .with(ADMIN, caller("root", Role::Admin))
        .with(STAFF, caller("dock-1", Role::WarehouseStaff));
    let router = api::router(api::AppState::sqlite(Arc::new(engine), tokens));

    let member = call(
        &router,
        Method::POST,
        "/v1/members",
        ADMIN,
        Some(registration()),
    )
    .await;
    member.expect(201);
    let suite_code = member.body["result"]["suite_code"].as_str().unwrap();
    let parcel = call(
        &router,
        Method::POST,
        "/v1/parcels",
        STAFF,
        Some(arrival(suite_code, 1200)),
    )
    .await;
    parcel.expect(201);
    let parcel_id = parcel.id();

    let read_back = call(
        &router,
        Method::GET,
        &format!("/v1/parcels/{parcel_id}"),
        STAFF,
        None,
    )
    .await;
    read_back.expect(200);
    assert_eq!(read_back.body["member_id"], member.body["id"]);
    // parcel.arrived and its arrival notice (PAR-3).
    assert_eq!(read_back.body["version"], 2, "{:#}", read_back.body);
    let ready = call(&router, Method::GET, "/readyz", STAFF, None).await;
    ready.expect(200);
}
