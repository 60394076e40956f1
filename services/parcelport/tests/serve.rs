//! `parcelport serve` end to end, over HTTP on 127.0.0.1:0: embedded on a temporary data
//! directory (the data survives a restart; the projectors fill the SQLite views), and on a
//! fresh PostgreSQL database with the projectors (the storage-status view shows a received
//! parcel); views are read through `Server::views`, the handle a query service takes.

use hyper::Method;
use parcelport::{ServeConfig, Server, StoreChoice};
use projection_runtime::{catalog, rebuild, view_hash, Progress, Projection, RebuildOptions};
use projections::{audit, billing, storage_status, ViewDb};
use serde_json::json;
use std::time::Duration;

mod common;

use common::{secret, Running};

impl Running {
    /// Registers a member (as `admin`) and receives a parcel for them (as `staff`): the ids.
    async fn member_and_parcel(&self, admin: &str, staff: &str) -> (String, String) {
        let registration = json!({
            "name": "Yamada Taro",
            "birth_date": "1990-04-01",
            "email": "taro@example.com",
            "forwarding_only_accepted": true
        });
        let (status, member) = self
            .call(Method::POST, "/v1/members", admin, Some(registration))
            .await;
        assert_eq!(status, 201, "{member:#}");
        let suite_code = member["result"]["suite_code"]
            .as_str()
            .unwrap()
            .to_lowercase();
        let arrival = json!({
            "label": suite_code,
            "weight": 1200,
            "dimensions": { "length_mm": 300, "width_mm": 200, "height_mm": 100 }
        });
        let (status, parcel) = self
            .call(Method::POST, "/v1/parcels", staff, Some(arrival))
            .await;
        assert_eq!(status, 201, "{parcel:#}");
        (
            member["id"].as_str().unwrap().to_owned(),
            parcel["id"].as_str().unwrap().to_owned(),
        )
    }
}

/// Polls `read` until it answers `Some`, for at most a minute (a generous bound: the projectors
/// run beside the API, and the test only waits for them to catch up, it does not time them).
async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut read: impl FnMut() -> F,
) -> T {
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            if let Some(found) = read().await {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what}: not shown within a minute"))
}

/// The parcel as the storage-status view shows it, once it does.
async fn shown_parcel(views: &ViewDb, parcel_id: &str) -> storage_status::ParcelStorage {
    let policy = domain::Policy::jp_forwarding();
    let today = chrono::Utc::now().date_naive();
    eventually("the parcel", || async {
        storage_status::parcel(views, parcel_id, today, &policy)
            .await
            .ok()
            .flatten()
    })
    .await
}

#[tokio::test]
async fn embedded_data_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::open(ServeConfig::embedded(dir.path()))
        .await
        .unwrap();
    let (admin, staff) = (secret(&server, "admin"), secret(&server, "staff"));
    assert!(dir.path().join("tokens.toml").exists());
    let running = Running::start(server).await;
    let (member_id, parcel_id) = running.member_and_parcel(&admin, &staff).await;
    let (status, _) = running.call(Method::GET, "/metrics", &staff, None).await;
    assert_eq!(status, 200);
    running.stop().await;

    let server = Server::open(ServeConfig::embedded(dir.path()))
        .await
        .unwrap();
    assert!(server.issued().is_empty(), "the token file is made once");
    let running = Running::start(server).await;
    let (status, parcel) = running
        .call(
            Method::GET,
            &format!("/v1/parcels/{parcel_id}"),
            &staff,
            None,
        )
        .await;
    assert_eq!(status, 200, "{parcel:#}");
    assert_eq!(parcel["member_id"], member_id.as_str());
    running.stop().await;
}

/// A view whose shape changed in an upgrade is rebuilt from the store when `serve` starts:
/// here the schedule view's instance lacks the closure tables (MEM-9) a newer version added,
/// and the notices view's its `traceparent` column, as ones built before them would; the
/// restarted server rebuilds each into a new instance that has them, holding the facts of the
/// events appended before.
#[tokio::test]
async fn a_view_built_by_an_older_version_is_rebuilt_when_serve_starts() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::open(ServeConfig::embedded(dir.path()))
        .await
        .unwrap();
    let views = server.views().clone();
    let (admin, staff) = (secret(&server, "admin"), secret(&server, "staff"));
    let running = Running::start(server).await;
    let (member_id, _) = running.member_and_parcel(&admin, &staff).await;
    let before = eventually("the schedule view", || async {
        let schema = catalog::current(&views, projections::schedule::NAME)
            .await
            .ok()
            .flatten()?;
        let read = catalog::checkpoint(&views, &schema, projections::schedule::NAME)
            .await
            .ok()?;
        (read.position > 0).then_some(schema)
    })
    .await;
    running.stop().await;

    // The instance as an older version built it: without the closure tables.
    let views = ViewDb::open_sqlite(dir.path().join(parcelport::VIEWS_FILE))
        .await
        .expect("the views file");
    let ViewDb::Sqlite(sqlite) = &views else {
        panic!("embedded views are SQLite")
    };
    for table in ["closure_members", "closure_accounts"] {
        sqlx::query(&format!(
            "DROP TABLE {}",
            before.table(projection_runtime::Dialect::Sqlite, table)
        ))
        .execute(sqlite.writer())
        .await
        .expect("drop a table");
    }
    assert_eq!(
        catalog::missing_tables(&views, &projections::schedule::Schedule, &before)
            .await
            .unwrap(),
        vec!["closure_members", "closure_accounts"]
    );
    let notices = catalog::current(&views, projections::notices::NAME)
        .await
        .unwrap()
        .expect("the notices view");
    sqlx::query(&format!(
        "ALTER TABLE {} DROP COLUMN traceparent",
        notices.table(projection_runtime::Dialect::Sqlite, "notices")
    ))
    .execute(sqlite.writer())
    .await
    .expect("drop a column");
    assert_eq!(
        catalog::missing_tables(&views, &projections::notices::Notices, &notices)
            .await
            .unwrap(),
        vec!["notices"]
    );
    views.close().await;

    let server = Server::open(ServeConfig::embedded(dir.path()))
        .await
        .unwrap();
    let views = server.views().clone();
    let running = Running::start(server).await;
    let after = eventually("the rebuilt schedule view", || async {
        let schema = catalog::current(&views, projections::schedule::NAME)
            .await
            .ok()
            .flatten()?;
        (schema != before).then_some(schema)
    })
    .await;
    assert!(
        catalog::missing_tables(&views, &projections::schedule::Schedule, &after)
            .await
            .unwrap()
            .is_empty()
    );
    let rebuilt = catalog::current(&views, projections::notices::NAME)
        .await
        .unwrap()
        .expect("the notices view");
    assert_ne!(rebuilt, notices, "the notices view was not rebuilt");
    assert!(
        catalog::missing_tables(&views, &projections::notices::Notices, &rebuilt)
            .await
            .unwrap()
            .is_empty()
    );
    // Built from the whole store: the member registered before the restart, who never
    // topped up, is there with their registration day.
    let facts = eventually("the member's closure facts", || async {
        projections::schedule::closure_facts(&views, None, 100)
            .await
            .ok()
            .filter(|facts| !facts.is_empty())
    })
    .await;
    assert!(
        facts.iter().any(|f| f.member_id == member_id),
        "{member_id} not in {facts:?}"
    );
    running.stop().await;
}

#[tokio::test]
async fn on_postgres_the_storage_status_view_shows_a_received_parcel() {
    let db = testkit::ScratchDb::create("serve").await;
    let database_url = db.url().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let config = ServeConfig {
        store: StoreChoice::Postgres {
            database_url: database_url.clone(),
            nats_url: None,
        },
        max_connections: 8,
        ..ServeConfig::embedded(dir.path())
    };
    let server = Server::open(config).await.unwrap();
    let views = server.views().clone();
    let (admin, staff) = (secret(&server, "admin"), secret(&server, "staff"));
    let running = Running::start(server).await;
    let (_, parcel_id) = running.member_and_parcel(&admin, &staff).await;

    let shown = shown_parcel(&views, &parcel_id).await;
    assert_eq!(shown.parcel_id, parcel_id);
    assert!(shown.member_id.is_some(), "{shown:?}");
    running.stop().await;
}

#[tokio::test]
async fn embedded_serve_runs_the_projections_into_sqlite_views() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::open(ServeConfig::embedded(dir.path()))
        .await
        .unwrap();
    let views = server.views().clone();
    let (admin, staff) = (secret(&server, "admin"), secret(&server, "staff"));
    let running = Running::start(server).await;
    let (member_id, parcel_id) = running.member_and_parcel(&admin, &staff).await;

    // Storage status: the parcel arrived for the member.
    let shown = shown_parcel(&views, &parcel_id).await;
    assert_eq!(shown.member_id.as_deref(), Some(member_id.as_str()));
    assert_eq!(shown.state, "received");
    assert!(dir.path().join(parcelport::serve::VIEWS_FILE).exists());
    // Billing: registering opened the member's charge account, with nothing on it.
    let account = eventually("the account", || async {
        let open = billing::account(&views, &format!("acct-{member_id}")).await;
        open.ok().flatten()
    })
    .await;
    assert_eq!(
        account.account.member_id.as_deref(),
        Some(member_id.as_str())
    );
    assert!(account.movements.is_empty());
    // Audit: every event of the parcel, with the command that made it.
    let history = eventually("the parcel's history", || async {
        let history = audit::history(&views, "parcel", &parcel_id, None).await;
        history.ok().filter(|h| !h.is_empty())
    })
    .await;
    assert_eq!(history[0].event_type, "parcel.arrived");
    assert!(history[0].command.is_some(), "{:?}", history[0]);
    running.stop().await;

    // After a restart the projectors resume from their checkpoints: nothing is applied twice,
    // and a new command shows up.
    let server = Server::open(ServeConfig::embedded(dir.path()))
        .await
        .unwrap();
    let views = server.views().clone();
    let running = Running::start(server).await;
    let (second_member, second) = running.member_and_parcel(&admin, &staff).await;
    shown_parcel(&views, &second).await;
    // Every view has the new commands before the server stops (each projector runs at its
    // own pace): the rebuilds below must find the live views complete.
    eventually("the second parcel's history", || async {
        let history = audit::history(&views, "parcel", &second, None).await;
        history.ok().filter(|h| !h.is_empty())
    })
    .await;
    eventually("the second account", || async {
        let open = billing::account(&views, &format!("acct-{second_member}")).await;
        open.ok().flatten()
    })
    .await;
    let again = audit::history(&views, "parcel", &parcel_id, None)
        .await
        .unwrap();
    assert_eq!(again, history);
    let counts = storage_status::counts_per_state(&views).await.unwrap();
    assert_eq!(counts.get("received"), Some(&2), "{counts:?}");
    running.stop().await;

    // `parcelport rebuild` on the embedded store: each view rebuilt from `parcelport.db` into a
    // fresh instance of `views.db` equals the one the live projectors wrote.
    let store = event_store::sqlite::SqliteEventStore::open(dir.path())
        .await
        .unwrap();
    let views = ViewDb::open_sqlite(dir.path().join(parcelport::serve::VIEWS_FILE))
        .await
        .unwrap();
    rebuilt_equals_live(&views, &store, storage_status::StorageStatus).await;
    rebuilt_equals_live(&views, &store, billing::Billing).await;
    rebuilt_equals_live(&views, &store, audit::Audit).await;
    views.close().await;
    store.close().await;
}

async fn rebuilt_equals_live<P: Projection>(
    views: &ViewDb,
    store: &event_store::sqlite::SqliteEventStore,
    projection: P,
) {
    let name = projection.name();
    let tables = projection.tables();
    let live_schema = catalog::serving(views, name).await.unwrap();
    let live = view_hash(views, &live_schema, tables).await.unwrap();
    let options = RebuildOptions {
        progress: Progress::Hidden,
        grace: Duration::ZERO,
        ..RebuildOptions::default()
    };
    let report = rebuild(views, store, projection, options).await.unwrap();
    assert_eq!(report.replaced, Some(live_schema), "{name}");
    let rebuilt = view_hash(views, &report.schema, tables).await.unwrap();
    assert_eq!(rebuilt, live, "{name}: rebuilt = live");
    assert!(live.0.values().any(|(rows, _)| *rows > 0), "{name}: {live}");
}
