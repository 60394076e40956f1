//! Projection health: caught-up views are `ok`; events appended and not applied show as lag,
//! and past `stuck_after` as stuck; the document, the probes and the dashboard are served.

use crate::support::{get_at, ScratchDb, Warehouse, ADMIN, OPS};
use projection_runtime::{
    Dialect, EventEnvelope, Projection, ReduceError, Schema, TableSpec, ViewConn,
};
use projections::audit::Audit;
use std::time::Duration;

/// The audit view with a bug: it refuses every `member.registered` event.
struct RefusesRegistrations;

impl Projection for RefusesRegistrations {
    type Change = <Audit as Projection>::Change;

    fn name(&self) -> &'static str {
        Audit.name()
    }

    fn tables(&self) -> &'static [TableSpec] {
        Audit.tables()
    }

    fn create_tables(&self, schema: &Schema, dialect: Dialect) -> String {
        Audit.create_tables(schema, dialect)
    }

    fn reduce(&self, event: &EventEnvelope) -> Result<Vec<Self::Change>, ReduceError> {
        if event.event_type == "member.registered" {
            return Err(ReduceError::Invalid("bug: registrations".to_owned()));
        }
        Audit.reduce(event)
    }

    async fn apply(
        &self,
        conn: &mut ViewConn<'_>,
        schema: &Schema,
        changes: &[Self::Change],
    ) -> Result<(), sqlx::Error> {
        Audit.apply(conn, schema, changes).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parked_event_is_counted_and_listed_with_its_error() {
    let warehouse = Warehouse::load().await;
    warehouse.register_member().await;
    warehouse.catch_up_with(RefusesRegistrations).await;
    warehouse.catch_up().await;

    let health = warehouse.ok("/v1/projections", OPS).await;
    let audit = health["views"]
        .as_array()
        .unwrap()
        .iter()
        .find(|view| view["view"] == "audit")
        .unwrap()
        .clone();
    assert_eq!(audit["parked"], 1, "{audit:#}");
    assert_eq!(audit["status"], "parked", "{audit:#}");
    assert_eq!(audit["lag_events"], 0, "{audit:#}");
    let parked = warehouse.ok("/v1/projections/audit/parked", OPS).await;
    assert_eq!(parked["items"].as_array().unwrap().len(), 1, "{parked:#}");
    let event = &parked["items"][0];
    assert_eq!(event["event_type"], "member.registered");
    assert_eq!(event["aggregate_type"], "member");
    assert!(event["error"]
        .as_str()
        .unwrap()
        .contains("bug: registrations"));
    let others = warehouse.ok("/v1/projections/billing/parked", OPS).await;
    assert_eq!(others["items"], serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_behind_the_store_show_their_lag_and_are_stuck_past_the_threshold() {
    let warehouse = Warehouse::load_with(Duration::ZERO).await;
    let health = warehouse.ok("/v1/projections", OPS).await;
    let views = health["views"].as_array().unwrap();
    let names: Vec<&str> = views.iter().map(|v| v["view"].as_str().unwrap()).collect();
    assert_eq!(names, ["storage_status", "billing", "audit"]);
    for view in views {
        assert_eq!(view["status"], "ok", "{view:#}");
        assert_eq!(view["lag_events"], 0, "{view:#}");
        assert_eq!(view["last_applied"], view["head"], "{view:#}");
        assert_eq!(view["parked"], 0, "{view:#}");
        assert_eq!(view["stuck"], false, "{view:#}");
        assert!(view["serving"].as_str().unwrap().starts_with("view_"));
        let parked = warehouse
            .ok(
                &format!("/v1/projections/{}/parked", view["view"].as_str().unwrap()),
                OPS,
            )
            .await;
        assert_eq!(parked["items"], serde_json::json!([]));
    }

    warehouse.register_member().await;
    let behind = warehouse.ok("/v1/projections", OPS).await;
    for view in behind["views"].as_array().unwrap() {
        assert!(view["lag_events"].as_i64().unwrap() >= 1, "{view:#}");
        assert_ne!(view["last_applied"], view["head"], "{view:#}");
        assert_eq!(view["stuck"], true, "{view:#}");
        assert_eq!(view["status"], "stuck", "{view:#}");
    }

    warehouse.catch_up().await;
    let caught_up = warehouse.ok("/v1/projections", OPS).await;
    for view in caught_up["views"].as_array().unwrap() {
        assert_eq!(view["status"], "ok", "{view:#}");
        assert_eq!(view["lag_events"], 0, "{view:#}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_the_probes_and_the_dashboard_are_served() {
    let warehouse = Warehouse::load().await;
    let document = warehouse.ok("/openapi.json", "").await;
    for route in query::routes_table() {
        let operation = &document["paths"][route.path]["get"];
        assert!(operation.is_object(), "{} is undocumented", route.path);
        assert!(!operation["x-roles"].as_array().unwrap().is_empty());
    }
    assert_eq!(warehouse.ok("/query/openapi.json", "").await, document);
    assert_eq!(warehouse.ok("/healthz", "").await["status"], "ok");
    assert_eq!(warehouse.ok("/readyz", "").await["status"], "ready");
    assert_eq!(warehouse.get("/metrics", "").await.status, 200);
    let root = warehouse.get("/", "").await;
    assert_eq!(root.status, 303);
    for (path, kind) in [
        ("/dashboard", "text/html"),
        ("/dashboard/app.js", "text/javascript"),
        ("/dashboard/style.css", "text/css"),
        ("/dashboard/i18n.js", "text/javascript"),
        ("/dashboard/vendor/uPlot.iife.min.js", "text/javascript"),
        ("/dashboard/vendor/uPlot.min.css", "text/css"),
    ] {
        let answer = warehouse.get(path, "").await;
        assert_eq!(answer.status, 200, "{path}");
        assert!(answer.content_type.starts_with(kind), "{path}");
    }

    // Today's work is the storage clock on the service's day, not the machine's.
    let due = warehouse
        .ok("/v1/storage/due-today?task=notices", ADMIN)
        .await;
    assert_eq!(due["today"], "2026-12-01");
    let counts = warehouse.ok("/v1/storage/counts", ADMIN).await;
    assert!(counts["total"].as_i64().unwrap() >= 40, "{counts:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_an_empty_database_the_views_are_not_ready_not_failing() {
    let db = ScratchDb::create("query").await;
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    let tokens = web::auth::TokenBook::default().with(
        ADMIN,
        web::auth::Caller {
            name: "root".to_owned(),
            role: web::auth::Role::Admin,
            member_id: None,
        },
    );
    let state = query::QueryState::new(
        query::Views::postgres(pool.clone()),
        std::sync::Arc::new(tokens),
        domain::Policy::jp_forwarding(),
        personal_data::PersonalData::new(
            personal_data::KeyStore::postgres(pool.clone())
                .await
                .unwrap(),
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(query::serve(state, listener, async {
        let _ = stopped.await;
    }));
    for path in [
        "/v1/storage/counts",
        "/v1/billing/refunds-due",
        "/v1/audit/events",
        "/v1/projections",
    ] {
        let answer = get_at(address, path, ADMIN).await;
        assert_eq!(answer.status, 503, "{path}: {:#}", answer.body);
        assert_eq!(answer.body["code"], "view.not_ready", "{path}");
    }
    assert_eq!(get_at(address, "/readyz", "").await.status, 200);
    stop.send(()).unwrap();
    served.await.unwrap().unwrap();
    pool.close().await;
}

/// Transaction ids gain a digit as a cluster ages (99,999 then 100,000): the store's head is
/// the last event in the global order, compared as numbers ("10" sorts before "9" as text).
#[tokio::test]
async fn the_head_is_the_last_event_when_transaction_ids_gain_a_digit() {
    let db = ScratchDb::create("query").await;
    let store = event_store::EventStore::connect(db.url(), 2).await.unwrap();
    store.migrate().await.unwrap();
    projection_runtime::catalog::migrate(&projection_runtime::ViewDb::from(store.pool()))
        .await
        .unwrap();
    let mut last = 0;
    for (id, txid) in [("a", "10"), ("b", "9")] {
        let position: i64 = sqlx::query_scalar(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type,
                                 event_version, payload, metadata, txid)
             VALUES ('Raw', $1, 1, 'Appended', '1.0', '{}', '{}', $2::xid8)
             RETURNING position",
        )
        .bind(id)
        .bind(txid)
        .fetch_one(store.pool())
        .await
        .unwrap();
        if txid == "10" {
            last = position;
        }
    }
    let health = query::Views::postgres(store.pool().clone())
        .health(Duration::MAX)
        .await
        .unwrap();
    assert_eq!(health.len(), 3);
    for view in health {
        let head = view.head.expect("a head");
        assert_eq!(
            (head.txid.as_str(), head.position),
            ("10", last),
            "{}",
            view.view
        );
    }
    store.pool().close().await;
}
