//! The test harness: [`spawn_app`] gives each test a fresh, migrated database and the API's
//! router on it (the engine's clock set to a Tokyo business morning), requests go through
//! `tower::ServiceExt::oneshot` (or a real listener, [`TestApp::listen`]), and the steps every
//! story repeats (a verified member with a balance, a stored parcel, a quoted shipment) are
//! taken through HTTP like a client would.

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use domain::ids::MemberId;
use domain::{Policy, Services};
use engine::{EngineConfig, PgEngine, TestClock};
use event_store::EventStore;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::sync::{Arc, Mutex};
use testkit::ScratchDb;
use tower::ServiceExt;
use web::auth::{Caller, Role, TokenBook};

/// The secrets of the operator tokens every app has.
pub const STAFF: &str = "staff-secret";
pub const FINANCE: &str = "finance-secret";
pub const AUDITOR: &str = "auditor-secret";
pub const OPS: &str = "ops-secret";
pub const ADMIN: &str = "admin-secret";
/// A token no book knows.
pub const UNKNOWN: &str = "nobody-knows-this";

/// Tuesday 1 December 2026, 10:00 in Tokyo: a receiving day (TIM-2).
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 1, 0, 0).unwrap()
}

/// `n` days.
pub fn days(n: i64) -> Duration {
    Duration::days(n)
}

/// The API on a database of its own, dropped (best-effort) when the test ends.
pub struct TestApp {
    pub pool: PgPool,
    pub engine: Arc<PgEngine>,
    pub clock: TestClock,
    tokens: Mutex<TokenBook>,
    router: Mutex<Router>,
    /// Declared last: the database goes after the pools on it.
    _db: ScratchDb,
}

/// A member registered through the API, with a token of their own.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: String,
    pub suite_code: String,
    pub account_id: String,
    pub token: String,
}

/// A response, read.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The problem's code, or "" for a success.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    /// The content type.
    pub fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// Panics unless the status is `status`.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "{:#}", self.body);
        self
    }

    /// Panics unless this is a problem with `status` and `code`.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> &Self {
        assert_eq!(
            (self.status.as_u16(), self.code()),
            (status, code),
            "{:#}",
            self.body
        );
        assert_eq!(self.content_type(), "application/problem+json");
        self
    }

    /// The created id.
    pub fn id(&self) -> String {
        self.body["id"].as_str().expect("an id").to_owned()
    }

    /// The types of the events appended.
    pub fn event_types(&self) -> Vec<String> {
        self.body["events"]
            .as_array()
            .map(|events| {
                events
                    .iter()
                    .map(|e| e["type"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A new app with the default engine settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(EngineConfig::new("TYO").unwrap()).await
}

/// A new app whose engine runs with `config`.
pub async fn spawn_app_with(config: EngineConfig) -> TestApp {
    spawn_app_on(config, Policy::jp_forwarding()).await
}

/// A new app whose engine runs with `config` under `policy` (a profile's refusals).
pub async fn spawn_app_on(config: EngineConfig, policy: Policy) -> TestApp {
    let db = ScratchDb::create("api").await;
    let store = EventStore::connect(db.url(), 10)
        .await
        .expect("connect to the test database");
    let pool = store.pool().clone();
    let clock = TestClock::at(start());
    // As `Config::state` does: the members' keys in the same database.
    let keys = personal_data::KeyStore::postgres(pool.clone())
        .await
        .expect("the key store");
    let config = config.protecting_personal_data(Arc::new(personal_data::PersonalData::new(keys)));
    let engine =
        PgEngine::postgres(&store, Services::new(policy), config).with_clock(clock.clone());
    engine.migrate().await.expect("migrate the test database");
    let engine = Arc::new(engine);
    let tokens = operator_tokens();
    let router = api::router(api::AppState::new(
        Arc::clone(&engine),
        tokens.clone(),
        pool.clone(),
    ));
    TestApp {
        pool,
        engine,
        clock,
        tokens: Mutex::new(tokens),
        router: Mutex::new(router),
        _db: db,
    }
}

fn operator(name: &str, role: Role) -> Caller {
    Caller {
        name: name.to_owned(),
        role,
        member_id: None,
    }
}

fn operator_tokens() -> TokenBook {
    TokenBook::default()
        .with(STAFF, operator("dock-1", Role::WarehouseStaff))
        .with(FINANCE, operator("finance-1", Role::Finance))
        .with(AUDITOR, operator("auditor-1", Role::Auditor))
        .with(OPS, operator("ops-1", Role::Ops))
        .with(ADMIN, operator("root", Role::Admin))
}

/// A fresh idempotency key.
pub fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl TestApp {
    /// The router as it is now (its token book included).
    pub fn router(&self) -> Router {
        self.router.lock().unwrap().clone()
    }

    /// Adds a member token for `member_id`, secret `secret`.
    pub fn add_member_token(&self, secret: &str, member_id: &str) {
        let mut tokens = self.tokens.lock().unwrap();
        let caller = Caller {
            name: format!("member:{member_id}"),
            role: Role::Member,
            member_id: Some(MemberId::parse(member_id).unwrap()),
        };
        *tokens = tokens.clone().with(secret, caller);
        *self.router.lock().unwrap() = api::router(api::AppState::new(
            Arc::clone(&self.engine),
            tokens.clone(),
            self.pool.clone(),
        ));
    }

    /// Sends `request` through the router.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router().oneshot(request).await.expect("infallible");
        read(response).await
    }

    /// `POST path` as `token`, under a new idempotency key.
    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.post_keyed(path, token, &key(), body).await
    }

    /// `POST path` as `token` under idempotency key `key`.
    pub async fn post_keyed(&self, path: &str, token: &str, key: &str, body: Value) -> Reply {
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header("idempotency-key", key)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(request).await
    }

    /// `GET path` as `token`.
    pub async fn get(&self, path: &str, token: &str) -> Reply {
        let request = Request::get(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        self.send(request).await
    }

    /// Serves the router on 127.0.0.1:0; the address.
    pub async fn listen(&self) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let router = self.router();
        tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        address
    }

    /// Every event in the store.
    pub async fn event_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// The local date now.
    pub fn today(&self) -> NaiveDate {
        self.engine.today()
    }

    /// Registers a member through the API and gives them a token.
    pub async fn register(&self) -> Member {
        let reply = self.post("/v1/members", OPS, registration()).await;
        reply.expect(201);
        let id = reply.id();
        let token = format!("member-{id}");
        self.add_member_token(&token, &id);
        Member {
            suite_code: reply.body["result"]["suite_code"]
                .as_str()
                .unwrap()
                .to_owned(),
            account_id: reply.body["result"]["account_id"]
                .as_str()
                .unwrap()
                .to_owned(),
            id,
            token,
        }
    }

    /// A registered member with a verified passport.
    pub async fn verified(&self) -> Member {
        let member = self.register().await;
        self.post(
            &format!("/v1/members/{}/verify-identity", member.id),
            OPS,
            passport(),
        )
        .await
        .expect(200);
        member
    }

    /// Tops `member`'s balance up by `yen`, approved (ACC-2).
    pub async fn top_up(&self, member: &Member, yen: i64) {
        let reply = self
            .post(
                &format!("/v1/members/{}/top-up-applications", member.id),
                FINANCE,
                top_up(&self.today(), yen),
            )
            .await;
        reply.expect(200);
        assert!(
            reply
                .event_types()
                .contains(&"account.top_up_approved".to_owned()),
            "{:#}",
            reply.body
        );
    }

    /// The member's balance in yen.
    pub async fn balance(&self, member: &Member) -> String {
        let reply = self
            .get(&format!("/v1/accounts/{}", member.account_id), FINANCE)
            .await;
        reply.expect(200);
        let state = &reply.body["state"];
        find_key(state, "balance")
            .and_then(|b| b["amount"].as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("no balance in {state:#}"))
    }

    /// A parcel for `member` received at `grams`.
    pub async fn receive(&self, member: &Member, grams: u32) -> String {
        let reply = self
            .post("/v1/parcels", STAFF, arrival(&member.suite_code, grams))
            .await;
        reply.expect(201);
        reply.id()
    }

    /// A parcel for `member`, received, inspected, declared (one T-shirt at `yen`),
    /// confirmed and stored.
    pub async fn stored_parcel(&self, member: &Member, grams: u32, yen: i64) -> String {
        let parcel = self.receive(member, grams).await;
        let path = |command: &str| format!("/v1/parcels/{parcel}/{command}");
        self.post(&path("inspect"), STAFF, inspection())
            .await
            .expect(200);
        self.post(&path("declare"), &member.token, declaration(yen))
            .await
            .expect(200);
        self.post(&path("confirm-declaration"), &member.token, json!({}))
            .await
            .expect(200);
        self.post(&path("store"), STAFF, json!({ "location": "A-01" }))
            .await
            .expect(200);
        parcel
    }

    /// A shipment of one stored parcel, packed and quoted for EMS to the US: its id and total.
    pub async fn quoted_single(&self, member: &Member, parcel: &str) -> (String, Value) {
        let requested = self
            .post(
                &format!("/v1/parcels/{parcel}/request-packing"),
                &member.token,
                json!({}),
            )
            .await;
        requested.expect(201);
        let shipment = requested.id();
        self.post(
            &format!("/v1/shipments/{shipment}/record-packing"),
            STAFF,
            ems_packing(1_600),
        )
        .await
        .expect(200);
        let quoted = self
            .post(
                &format!("/v1/shipments/{shipment}/quote"),
                &member.token,
                ems_to_us(),
            )
            .await;
        quoted.expect(200);
        let total = quoted.body["result"]["total"].clone();
        (shipment, total)
    }
}

/// Reads a response.
pub async fn read(response: axum::response::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Reply {
        status,
        headers,
        body,
    }
}

/// The first value under `key` anywhere in `value`.
pub fn find_key<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    match value {
        Value::Object(map) => map
            .get(key)
            .or_else(|| map.values().find_map(|v| find_key(v, key))),
        Value::Array(items) => items.iter().find_map(|v| find_key(v, key)),
        _ => None,
    }
}

pub fn registration() -> Value {
    json!({
        "name": "Yamada Taro",
        "birth_date": "1990-04-01",
        "email": "taro@example.com",
        "forwarding_only_accepted": true
    })
}

pub fn passport() -> Value {
    json!({
        "document": { "passport": { "photo_page_checked": true, "address_page_checked": true } },
        "expires_on": "2031-01-01"
    })
}

pub fn top_up(today: &NaiveDate, yen: i64) -> Value {
    let deposit_id = format!("dep-{}", uuid::Uuid::new_v4().simple());
    json!({
        "declared": {
            "deposited_on": today, "bank": "Rakuten Bank",
            "amount": { "amount": yen.to_string(), "currency": "JPY" },
            "payer_name": "YAMADA TARO"
        },
        "deposit": {
            "deposit_id": deposit_id, "deposited_on": today, "bank": "Rakuten Bank",
            "amount": { "amount": yen.to_string(), "currency": "JPY" },
            "payer_name": "YAMADA TARO"
        }
    })
}

pub fn arrival(suite_code: &str, grams: u32) -> Value {
    json!({
        "label": suite_code.to_lowercase(),
        "weight": grams,
        "dimensions": { "length_mm": 300, "width_mm": 200, "height_mm": 100 }
    })
}

pub fn inspection() -> Value {
    json!({ "variations": [ { "variation": "blue / M", "units": 1 } ] })
}

pub fn declaration(yen: i64) -> Value {
    json!({
        "items": [ {
            "description": "T-shirt", "quantity": 1,
            "unit_price": { "amount": yen.to_string(), "currency": "JPY" },
            "category": "apparel"
        } ],
        "sender": "Shop A",
        "source": "member"
    })
}

pub fn ems_packing(grams: u32) -> Value {
    json!({
        "carrier": "EMS",
        "weight": grams,
        "dimensions": { "length_mm": 400, "width_mm": 300, "height_mm": 200 }
    })
}

pub fn ems_to_us() -> Value {
    json!({ "carrier": "EMS", "destination": "US" })
}

pub fn yen(amount: i64) -> Value {
    json!({ "amount": amount.to_string(), "currency": "JPY" })
}

/// A minimal HTTP/1 client over a real TCP connection: `POST` (or `GET` without a body) as
/// `token`, under idempotency key `key`.
pub async fn http(
    address: std::net::SocketAddr,
    method: Method,
    path: &str,
    token: &str,
    key: &str,
    body: Option<&Value>,
) -> Reply {
    let stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, address.to_string())
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header("idempotency-key", key);
    let body = match body {
        Some(body) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            http_body_util::Full::new(bytes_of(body))
        }
        None => http_body_util::Full::new(Default::default()),
    };
    let response = sender
        .send_request(request.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

fn bytes_of(body: &Value) -> axum::body::Bytes {
    axum::body::Bytes::from(body.to_string())
}
