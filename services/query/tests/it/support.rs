//! One warehouse per test: a fresh PostgreSQL database, the command API in-process on a pinned
//! business day, the demo scenario loaded through it, the three projectors caught up, and the
//! query API served on 127.0.0.1:0 with a token per role and two member tokens.

use chrono::{DateTime, TimeZone, Utc};
use domain::{Policy, Services};
use engine::{Clock, EngineConfig, PgEngine, TestClock};
use event_store::EventStore;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::Request;
use hyper_util::rt::TokioIo;
use projection_runtime::{Projection, Projector, ProjectorOptions, StoreFeed};
use projections::audit::Audit;
use projections::billing::Billing;
use projections::storage_status::StorageStatus;
use query::{QueryState, Views};
use serde_json::Value;
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use web::auth::{Caller, Role, TokenBook};

pub const ADMIN: &str = "query-admin-secret";
pub const STAFF: &str = "query-staff-secret";
pub const OPS: &str = "query-ops-secret";
pub const FINANCE: &str = "query-finance-secret";
pub const AUDITOR: &str = "query-auditor-secret";
pub const MEMBER_A: &str = "query-member-a-secret";
pub const MEMBER_B: &str = "query-member-b-secret";

/// Tuesday 1 December 2026, 10:00 in Tokyo: a receiving day (TIM-2).
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 1, 0, 0).unwrap()
}

/// A secret per role, for the tests that walk the roles.
pub fn role_tokens() -> [(Role, &'static str); 6] {
    [
        (Role::Admin, ADMIN),
        (Role::WarehouseStaff, STAFF),
        (Role::Ops, OPS),
        (Role::Finance, FINANCE),
        (Role::Auditor, AUDITOR),
        (Role::Member, MEMBER_A),
    ]
}

pub use testkit::ScratchDb;

/// A loaded warehouse and its query API.
pub struct Warehouse {
    pub pool: PgPool,
    store: EventStore,
    api_url: String,
    pub address: SocketAddr,
    /// Member A and B: each has parcels in the warehouse and an account.
    pub member_a: Member,
    pub member_b: Member,
    stops: Vec<tokio::sync::oneshot::Sender<()>>,
    /// Dropped last, with the warehouse.
    _db: ScratchDb,
}

/// A member of the demo with its rows.
#[derive(Debug, Clone)]
pub struct Member {
    pub member_id: String,
    pub account_id: String,
    pub parcel_id: String,
}

/// An answer: status, content type and JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: Value,
}

/// Catches the three views up to the store's head. A projector that finds nothing stops, but
/// the commit-safe reader also finds nothing while any transaction of the cluster (another
/// test's) is open below the watermark, so this repeats until no view lags.
async fn catch_up_all(store: &EventStore) {
    let views = Views::postgres(store.pool().clone());
    loop {
        catch_up(store, StorageStatus).await;
        catch_up(store, Billing).await;
        catch_up(store, Audit).await;
        let health = views
            .health(std::time::Duration::MAX)
            .await
            .expect("the views' health");
        if health.iter().all(|view| view.lag_events == 0) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn catch_up<P: Projection + Send + 'static>(store: &EventStore, projection: P) {
    let mut projector = Projector::new(
        store.pool().clone(),
        projection,
        StoreFeed::new(store.clone()),
        ProjectorOptions::default(),
    );
    projector
        .catch_up()
        .await
        .expect("the projector catches up");
}

impl Warehouse {
    pub async fn load() -> Warehouse {
        Self::load_with(query::DEFAULT_STUCK_AFTER).await
    }

    /// [`Warehouse::load`] reporting a view stuck once events wait longer than `stuck_after`.
    pub async fn load_with(stuck_after: std::time::Duration) -> Warehouse {
        let db = ScratchDb::create("query").await;
        let store = EventStore::connect(db.url(), 10)
            .await
            .expect("connect to the test database");
        let pool = store.pool().clone();
        let clock = TestClock::at(start());
        let engine = PgEngine::postgres(
            &store,
            Services::new(Policy::jp_forwarding()),
            EngineConfig::new("TYO").unwrap(),
        )
        .with_clock(clock.clone());
        engine.migrate().await.expect("migrate the test database");
        let root = Caller {
            name: "root".to_owned(),
            role: Role::Admin,
            member_id: None,
        };
        let api_state = api::AppState::new(
            Arc::new(engine),
            TokenBook::default().with(ADMIN, root.clone()),
            pool.clone(),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api_url = format!("http://{}", listener.local_addr().unwrap());
        let (stop_api, api_stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(api::serve(api_state, listener, async {
            let _ = api_stopped.await;
        }));
        demo::run(
            demo::DemoOptions::new(api_url.clone(), ADMIN, 7),
            demo::Silent,
        )
        .await
        .unwrap_or_else(|e| panic!("the demo loads: {e}"));
        catch_up_all(&store).await;

        let (member_a, member_b) = two_members(&pool).await;
        let caller = |name: &str, role: Role| Caller {
            name: name.to_owned(),
            role,
            member_id: None,
        };
        let member = |name: &str, id: &str| Caller {
            name: name.to_owned(),
            role: Role::Member,
            member_id: Some(domain::ids::MemberId::parse(id).expect("a member id")),
        };
        let tokens = TokenBook::default()
            .with(ADMIN, root)
            .with(STAFF, caller("dock", Role::WarehouseStaff))
            .with(OPS, caller("ops", Role::Ops))
            .with(FINANCE, caller("finance", Role::Finance))
            .with(AUDITOR, caller("auditor", Role::Auditor))
            .with(MEMBER_A, member("member-a", &member_a.member_id))
            .with(MEMBER_B, member("member-b", &member_b.member_id));
        let state = QueryState::new(
            Views::postgres(pool.clone()),
            Arc::new(tokens),
            Policy::jp_forwarding(),
            personal_data::PersonalData::new(
                personal_data::KeyStore::postgres(pool.clone())
                    .await
                    .unwrap(),
            ),
        )
        .with_clock(move || clock.now())
        .with_stuck_after(stuck_after);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(query::serve(state, listener, async {
            let _ = stopped.await;
        }));
        Warehouse {
            _db: db,
            pool,
            address,
            member_a,
            member_b,
            store,
            api_url,
            stops: vec![stop_api, stop],
        }
    }

    /// Runs the three projectors until they have nothing more to apply.
    pub async fn catch_up(&self) {
        catch_up_all(&self.store).await;
    }

    /// Runs `projection` until its view has applied (or parked) every event of the store.
    pub async fn catch_up_with<P: Projection + Send + 'static>(&self, projection: P) {
        let name = projection.name();
        let views = Views::postgres(self.pool.clone());
        let mut projector = Projector::new(
            self.pool.clone(),
            projection,
            StoreFeed::new(self.store.clone()),
            ProjectorOptions::default(),
        );
        loop {
            projector
                .catch_up()
                .await
                .expect("the projector catches up");
            let health = views
                .health(std::time::Duration::MAX)
                .await
                .expect("the views' health");
            if health
                .iter()
                .any(|view| view.view == name && view.lag_events == 0)
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Registers a member through the command API (the projectors do not run on their own).
    pub async fn register_member(&self) {
        let body = serde_json::json!({
            "name": "Late Arrival",
            "birth_date": "1990-04-01",
            "email": "late@example.com",
            "forwarding_only_accepted": true
        });
        let address = self.api_url.trim_start_matches("http://").to_owned();
        let stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(connection);
        let request = Request::post("/v1/members")
            .header("host", address)
            .header("authorization", format!("Bearer {ADMIN}"))
            .header("idempotency-key", uuid::Uuid::new_v4().to_string())
            .header("content-type", "application/json")
            .body(http_body_util::Full::new(Bytes::from(body.to_string())))
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status().as_u16(), 201);
    }

    /// `GET path` with `token` (none when empty).
    pub async fn get(&self, path: &str, token: &str) -> Answer {
        get_at(self.address, path, token).await
    }

    /// `GET path` that must answer 200: its body.
    pub async fn ok(&self, path: &str, token: &str) -> Value {
        let answer = self.get(path, token).await;
        assert_eq!(answer.status, 200, "GET {path}: {:#}", answer.body);
        answer.body
    }
}

/// `GET path` on the server at `address` with `token` (none when empty).
pub async fn get_at(address: SocketAddr, path: &str, token: &str) -> Answer {
    {
        let stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(connection);
        let mut request = Request::get(path).header("host", address.to_string());
        if !token.is_empty() {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response = sender
            .send_request(request.body(Empty::<Bytes>::new()).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            content_type,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }
}

/// Two members with an account and a parcel in the warehouse each, from the views.
async fn two_members(pool: &PgPool) -> (Member, Member) {
    let storage: String =
        sqlx::query_scalar("SELECT schema FROM projections.views WHERE name = 'storage_status'")
            .fetch_one(pool)
            .await
            .unwrap();
    let billing: String =
        sqlx::query_scalar("SELECT schema FROM projections.views WHERE name = 'billing'")
            .fetch_one(pool)
            .await
            .unwrap();
    let rows: Vec<(String, String, String)> = sqlx::query_as(&format!(
        "SELECT p.member_id, min(a.account_id), min(p.parcel_id)
           FROM {storage}.parcels p JOIN {billing}.accounts a ON a.member_id = p.member_id
          WHERE p.state = 'stored'
          GROUP BY p.member_id ORDER BY p.member_id"
    ))
    .fetch_all(pool)
    .await
    .unwrap();
    let members: BTreeMap<String, Member> = rows
        .into_iter()
        .map(|(member_id, account_id, parcel_id)| {
            (
                member_id.clone(),
                Member {
                    member_id,
                    account_id,
                    parcel_id,
                },
            )
        })
        .collect();
    let mut members = members.into_values();
    let a = members.next().expect("a member with a stored parcel");
    let b = members
        .next()
        .expect("a second member with a stored parcel");
    (a, b)
}

impl Drop for Warehouse {
    fn drop(&mut self) {
        for stop in self.stops.drain(..) {
            let _ = stop.send(());
        }
    }
}
