//! The business clock end to end, on the embedded store and on PostgreSQL: `parcelport serve`
//! on a simulated clock, the demo loaded, then 60 days advanced through `POST
//! /v1/clock/advance`. Every time-driven action the scheduler takes fires on its due day, as
//! actor `scheduler` with its rule; nothing is left due; and nothing is ever appended twice:
//! not when the journal is lost and every action fires again, not after a restart, not when a
//! second server ticks the same store on the same clock at the same time. Killed three times at
//! random moments mid-advance (every task dropped where it stood), its schedule view rebuilt
//! meanwhile, the scheduler ends with the same events as a run that was never interrupted.

mod common;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use engine::TestClock;
use event_store::{EventLog, GlobalCursor, StoredEvent};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use parcelport::{ServeConfig, Server, StoreChoice};
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::oneshot;

/// The first day: 2026-04-01, 09:00 in Tokyo.
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap()
}

fn tokyo(at: DateTime<Utc>) -> NaiveDate {
    domain::Policy::jp_forwarding().local_date(at)
}

/// 23:59 in Tokyo on `day`, as UTC: the last minute before the next day's deadlines.
fn last_minute_of(day: NaiveDate) -> DateTime<Utc> {
    last_minute_in(&domain::Policy::jp_forwarding(), day)
}

/// 23:59 on `day` in the warehouse of `policy`, as UTC.
fn last_minute_in(policy: &domain::Policy, day: NaiveDate) -> DateTime<Utc> {
    let offset = policy.utc_offset_minutes;
    day.and_hms_opt(23, 59, 0).unwrap().and_utc() - chrono::Duration::minutes(i64::from(offset))
}

/// A running `serve` ([`common::Running`]) and the admin secret every request here uses.
struct Running {
    server: common::Running,
    address: SocketAddr,
    admin: String,
}

impl Running {
    async fn start(config: ServeConfig, admin: Option<String>) -> Self {
        let server = Server::open(config).await.expect("serve");
        let admin = admin.unwrap_or_else(|| common::secret(&server, "admin"));
        let server = common::Running::start(server).await;
        Self {
            address: server.address,
            admin,
            server,
        }
    }

    async fn stop(self) {
        self.server.stop().await;
    }

    /// `method path` as admin; the status and JSON body.
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.send(method, path, body, None).await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        key: Option<String>,
    ) -> (u16, Value) {
        send(self.address, &self.admin, method, path, body, key).await
    }

    async fn advance(&self, by: Value) -> Value {
        let (status, advanced) = self.call(Method::POST, "/v1/clock/advance", Some(by)).await;
        assert_eq!(status, 200, "{advanced:#}");
        advanced
    }

    /// `serve` on the embedded `store` under cn-agency's policy (MEM-9, CNY accounts), on
    /// `clock`.
    async fn cn_agency(store: &Store, dir: &Path, clock: &TestClock) -> Self {
        let mut config = store.config(dir, clock);
        config.policy = web::policy::PolicySource::CnAgency;
        Running::start(config, None).await
    }

    /// `POST path` with `body` under a fresh idempotency key, which must be carried out.
    async fn command(&self, path: &str, body: Value) -> Value {
        let key = Some(uuid::Uuid::new_v4().to_string());
        let (status, answer) = self.send(Method::POST, path, Some(body), key).await;
        assert!((200..300).contains(&status), "{path}: {answer:#}");
        answer
    }

    /// Registers a member named `name`: their id.
    async fn register(&self, name: &str, birth_date: &str) -> String {
        let email = format!("{}@example.com", name.replace(' ', ".").to_lowercase());
        let registered = self
            .command(
                "/v1/members",
                json!({
                    "name": name, "birth_date": birth_date, "email": email,
                    "forwarding_only_accepted": true
                }),
            )
            .await;
        registered["id"].as_str().unwrap().to_owned()
    }

    /// The first action named `name` that the schedule lists as due now.
    async fn pending_now(&self, name: &str) -> Value {
        let (_, schedule) = self.call(Method::GET, "/v1/schedule", None).await;
        schedule["pending"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name && p["due_now"] == true)
            .unwrap_or_else(|| panic!("no {name} due now: {schedule:#}"))
            .clone()
    }

    /// The first action named `name` that the schedule lists as upcoming, not due yet.
    async fn pending(&self, name: &str) -> Value {
        let (_, schedule) = self.call(Method::GET, "/v1/schedule", None).await;
        schedule["pending"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name && p["due_now"] == false)
            .unwrap_or_else(|| panic!("no {name} pending, not due yet: {schedule:#}"))
            .clone()
    }

    async fn demo(&self) {
        demo::run(
            demo::DemoOptions::new(format!("http://{}", self.address), self.admin.clone(), 1),
            demo::Silent,
        )
        .await
        .unwrap_or_else(|e| panic!("the demo loads: {e}"));
    }
}

/// `method path` at `address` as `admin`, with an idempotency key when given.
async fn send(
    address: SocketAddr,
    admin: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    key: Option<String>,
) -> (u16, Value) {
    try_send(address, admin, method, path, body, key)
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// [`send`], or why no answer came (the server died).
async fn try_send(
    address: SocketAddr,
    admin: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    key: Option<String>,
) -> Result<(u16, Value), String> {
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", address.to_string())
        .header("authorization", format!("Bearer {admin}"))
        .header("content-type", "application/json");
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let request = request
        .body(Full::new(Bytes::from(
            body.map(|b| b.to_string()).unwrap_or_default(),
        )))
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

/// A `serve` on a runtime of its own, so that it can be killed: every task it runs, open
/// transactions and in-flight requests included, stops where it is (as a crashed process
/// would: what was not committed is rolled back by the database).
struct Killable {
    address: SocketAddr,
    admin: String,
    kill: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Killable {
    fn start(config: ServeConfig, admin: Option<String>) -> Self {
        let (ready, started) = std::sync::mpsc::channel();
        let (kill, killed) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime for the server");
            runtime.block_on(async move {
                let server = Server::open(config).await.expect("serve");
                let admin = admin.unwrap_or_else(|| {
                    server
                        .issued()
                        .iter()
                        .find(|token| token.name == "admin")
                        .map(|token| token.secret.clone())
                        .expect("an admin token")
                });
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                ready
                    .send((listener.local_addr().unwrap(), admin))
                    .expect("the test waits");
                tokio::select! {
                    _ = server.run(listener, std::future::pending()) => {}
                    _ = killed => {}
                }
            });
            // Every task still running (connections, projectors, the scheduler) is dropped
            // where it stands.
            runtime.shutdown_background();
        });
        let (address, admin) = started.recv().expect("the server starts");
        Self {
            address,
            admin,
            kill: Some(kill),
            thread: Some(thread),
        }
    }

    /// Advances the clock to `to`, killing the server after `after` if it is not done by then:
    /// whether it finished.
    async fn advance_or_die(mut self, to: DateTime<Utc>, after: Duration) -> bool {
        let (address, admin) = (self.address, self.admin.clone());
        let advance = tokio::spawn(async move {
            try_send(
                address,
                &admin,
                Method::POST,
                "/v1/clock/advance",
                Some(json!({ "to": to })),
                None,
            )
            .await
        });
        let finished = tokio::time::timeout(after, advance).await;
        self.kill();
        matches!(finished, Ok(Ok(Ok((200, _)))))
    }

    fn kill(&mut self) {
        if let Some(kill) = self.kill.take() {
            let _ = kill.send(());
        }
        if let Some(thread) = self.thread.take() {
            thread.join().expect("the server's thread");
        }
    }
}

impl Drop for Killable {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Where a test's events live, to read them back.
enum Store {
    Embedded(PathBuf),
    /// A scratch database, dropped when the test ends.
    Postgres(testkit::ScratchDb),
}

impl Store {
    fn config(&self, data_dir: &Path, clock: &TestClock) -> ServeConfig {
        let mut config = ServeConfig::embedded(data_dir);
        if let Store::Postgres(db) = self {
            config.store = StoreChoice::Postgres {
                database_url: db.url().to_owned(),
                nats_url: None,
            };
            config.max_connections = 8;
        }
        config.clock = Some(clock.clone());
        config
    }

    async fn postgres() -> Self {
        Store::Postgres(testkit::ScratchDb::create("scheduler").await)
    }

    /// Every stored event, in the global order.
    async fn events(&self) -> Vec<StoredEvent> {
        match self {
            Store::Embedded(dir) => {
                let store = event_store::sqlite::SqliteEventStore::open_read_only(dir)
                    .await
                    .expect("open the store");
                let events = read_all(&store).await;
                store.close().await;
                events
            }
            Store::Postgres(db) => {
                let store = event_store::EventStore::connect_read_only(db.url(), 2)
                    .await
                    .expect("connect");
                let events = read_all(&store).await;
                store.pool().close().await;
                events
            }
        }
    }

    /// Forgets what the scheduler journaled, as if its table were lost.
    async fn lose_the_journal(&self) {
        match self {
            Store::Embedded(dir) => {
                let url = format!("sqlite://{}", dir.join(parcelport::VIEWS_FILE).display());
                let mut views = sqlx::SqliteConnection::connect(&url).await.expect("views");
                sqlx::query("DELETE FROM scheduler_journal")
                    .execute(&mut views)
                    .await
                    .expect("lose the journal");
            }
            Store::Postgres(db) => {
                let mut db = PgConnection::connect(db.url()).await.expect("connect");
                sqlx::query("DELETE FROM scheduler_journal")
                    .execute(&mut db)
                    .await
                    .expect("lose the journal");
            }
        }
    }
}

async fn read_all(log: &impl EventLog) -> Vec<StoredEvent> {
    let mut events = Vec::new();
    let mut cursor = GlobalCursor::default();
    loop {
        let page = log.read_after(cursor, 1000).await.expect("read the store");
        let Some(last) = page.last() else {
            return events;
        };
        cursor = last.cursor;
        events.extend(page);
    }
}

/// The events the scheduler caused.
fn scheduled(events: &[StoredEvent]) -> Vec<&StoredEvent> {
    events
        .iter()
        .filter(|e| e.metadata["actor"] == "scheduler")
        .collect()
}

/// No action appended anything twice: per key (the correlation id), each aggregate's event
/// type appears once.
fn assert_once(events: &[StoredEvent]) {
    let mut seen = BTreeSet::new();
    for event in scheduled(events) {
        let id = (
            event.metadata["correlation_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            event.aggregate_id.clone(),
            event.event_type.clone(),
        );
        assert!(seen.insert(id.clone()), "appended twice: {id:?}");
    }
}

/// Journal entries by key, as `(rule, action, due_on, done on, outcome)`.
type Journaled = BTreeMap<String, (String, String, NaiveDate, NaiveDate, String)>;

fn journaled(entries: &Value) -> Journaled {
    entries
        .as_array()
        .expect("journal entries")
        .iter()
        .map(|entry| {
            let done_at: DateTime<Utc> = entry["done_at"].as_str().unwrap().parse().unwrap();
            (
                entry["key"].as_str().unwrap().to_owned(),
                (
                    entry["rule"].as_str().unwrap().to_owned(),
                    entry["action"].as_str().unwrap().to_owned(),
                    entry["due_on"].as_str().unwrap().parse().unwrap(),
                    tokyo(done_at),
                    entry["outcome"].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect()
}

/// The whole journal, page by page through `GET /v1/schedule`.
async fn journal(running: &Running) -> Journaled {
    let mut all = Journaled::new();
    let mut path = "/v1/schedule?limit=50".to_owned();
    loop {
        let (status, page) = running.call(Method::GET, &path, None).await;
        assert_eq!(status, 200, "{page:#}");
        all.extend(journaled(&page["done"]));
        match page["next"].as_str() {
            Some(next) => path = format!("/v1/schedule?limit=50&after={next}"),
            None => return all,
        }
    }
}

async fn sixty_days(store: Store) {
    let data_dir = match &store {
        Store::Embedded(dir) => dir.clone(),
        Store::Postgres(_) => tempfile::tempdir().unwrap().keep(),
    };
    let clock = TestClock::at(start());
    let running = Running::start(store.config(&data_dir, &clock), None).await;
    running.demo().await;

    // The first 25 days on one server.
    let first = running.advance(json!({ "days": 25 })).await;
    let mut entries = journaled(&first["report"]["journaled"]);

    // The journal lost: whatever the views still list fires again under the same keys, and
    // the engine answers from its stored results (09:00 to 10:00: nothing new falls due).
    let before = store.events().await;
    store.lose_the_journal().await;
    running.advance(json!({ "hours": 1 })).await;
    assert_eq!(
        store.events().await.len(),
        before.len(),
        "firing again appended events"
    );
    let admin = running.admin.clone();
    running.stop().await;

    // A restart, and on PostgreSQL a second server ticking the same store on the same clock
    // every few milliseconds while the first advances the other 35 days.
    let restarted = Running::start(store.config(&data_dir, &clock), Some(admin.clone())).await;
    let rival = match &store {
        // One process owns the embedded store; the race is PostgreSQL's.
        Store::Embedded(_) => None,
        Store::Postgres(_) => {
            let mut config = store.config(&data_dir, &clock);
            config.scheduler.interval = Duration::from_millis(5);
            Some(Running::start(config, Some(admin)).await)
        }
    };
    let rest = restarted.advance(json!({ "hours": 35 * 24 - 1 })).await;
    assert_eq!(rest["clock"]["today"], "2026-05-31", "{:#}", rest["clock"]);
    // What either server journaled (the first 25 days' rows were lost with the journal).
    entries.extend(journal(&restarted).await);

    let actions: BTreeMap<&str, usize> = entries.values().fold(BTreeMap::new(), |mut all, e| {
        *all.entry(e.1.as_str()).or_default() += 1;
        all
    });
    // The demo's warehouse: parcels wait past their notices and their limit, a quote goes
    // unpaid (held, reminded, dunned, interest at each month's end), a claim is not answered.
    for action in [
        "send_storage_notice",
        "mark_disposable",
        "hold_unpaid",
        "remind_payment",
        "send_dunning_notice",
        "accrue_late_interest",
        "escalate_claim",
        "cancel_expected_parcel",
    ] {
        assert!(actions.contains_key(action), "no {action} in {actions:?}");
    }
    // Dunning is never refused: each step, and each month's interest, appended its events.
    for (rule, action, due_on, _, outcome) in entries.values() {
        if rule == "ACC-6" {
            assert_eq!(outcome, "done", "{action} due {due_on}");
        }
    }
    // Each on its day: what fell due during the 60 days was done on its due date (what was
    // overdue when the clock started, on the first day).
    let first_day = tokyo(start());
    for (rule, action, due_on, done_on, outcome) in entries.values() {
        let expected = (*due_on).max(first_day);
        assert_eq!(
            *done_on, expected,
            "{rule} {action} due {due_on} done {done_on} ({outcome})"
        );
    }
    // Nothing is left due.
    let (status, schedule) = restarted.call(Method::GET, "/v1/schedule", None).await;
    assert_eq!(status, 200, "{schedule:#}");
    let left: Vec<&Value> = schedule["pending"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["due_now"] == true)
        .collect();
    assert!(left.is_empty(), "still due: {left:#?}");
    restarted.stop().await;
    if let Some(rival) = rival {
        rival.stop().await;
    }

    // Every event it caused names the scheduler and the rule, and was appended once.
    let events = store.events().await;
    let caused = scheduled(&events);
    assert!(!caused.is_empty());
    for event in &caused {
        let rule = event.metadata["rule"].as_str().unwrap_or_default();
        assert!(
            [
                "STO-2", "STO-3", "PAY-2", "ACC-6", "PAR-2", "CLM-3", "CLM-6", "MEM-2", "MEM-7",
                "MEM-9"
            ]
            .contains(&rule),
            "{} without a rule: {:#}",
            event.event_type,
            event.metadata
        );
    }
    assert_once(&events);
    if let Store::Postgres(_) = store {
        let _ = std::fs::remove_dir_all(&data_dir);
    }
    drop(store);
}

#[tokio::test]
async fn sixty_simulated_days_on_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    sixty_days(Store::Embedded(dir.path().to_owned())).await;
}

#[tokio::test]
async fn sixty_simulated_days_on_postgres() {
    sixty_days(Store::postgres().await).await;
}

#[tokio::test]
async fn a_real_clock_cannot_be_advanced() {
    let dir = tempfile::tempdir().unwrap();
    let running = Running::start(ServeConfig::embedded(dir.path()), None).await;
    let (status, problem) = running
        .call(
            Method::POST,
            "/v1/clock/advance",
            Some(json!({ "days": 1 })),
        )
        .await;
    assert_eq!(status, 409, "{problem:#}");
    assert_eq!(problem["code"], "clock.real", "{problem:#}");
    let (status, clock) = running.call(Method::GET, "/v1/clock", None).await;
    assert_eq!(status, 200);
    assert_eq!(clock["simulated"], false);
    running.stop().await;
}

#[tokio::test]
async fn an_unpaid_quote_is_held_the_day_after_its_due_date_not_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(start());
    let store = Store::Embedded(dir.path().to_owned());
    let running = Running::start(store.config(dir.path(), &clock), None).await;
    running.demo().await;
    running.advance(json!({ "hours": 1 })).await;
    let hold = running.pending("hold_unpaid").await;
    let due_on: NaiveDate = hold["due_on"].as_str().unwrap().parse().unwrap();
    let shipment = hold["aggregate_id"].as_str().unwrap();
    let quote_due = due_on.pred_opt().unwrap();

    // The last minute of the quote's due date: not held.
    running
        .advance(json!({ "to": last_minute_of(quote_due) }))
        .await;
    let held = |events: &[StoredEvent]| {
        events
            .iter()
            .find(|e| e.aggregate_id == shipment && e.event_type == "shipment.held")
            .cloned()
    };
    assert_eq!(held(&store.events().await), None, "held on its due date");

    // The next day: held, by the scheduler, under PAY-2.
    running.advance(json!({ "hours": 1 })).await;
    let held = held(&store.events().await)
        .unwrap_or_else(|| panic!("{shipment} not held the day after {quote_due}"));
    assert_eq!(held.metadata["actor"], "scheduler");
    assert_eq!(held.metadata["rule"], "PAY-2");
    assert_eq!(held.payload["held"]["held_on"], due_on.to_string());
    running.stop().await;
}

#[tokio::test]
async fn a_withdrawing_members_refund_is_paid_on_its_due_date_not_before() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(start());
    let store = Store::Embedded(dir.path().to_owned());
    let running = Running::start(store.config(dir.path(), &clock), None).await;
    running.demo().await;
    running.advance(json!({ "hours": 1 })).await;
    let refund = running.pending("pay_refund").await;
    assert_eq!(refund["rule"], "ACC-7", "{refund:#}");
    let due_on: NaiveDate = refund["due_on"].as_str().unwrap().parse().unwrap();
    let member = refund["aggregate_id"].as_str().unwrap().to_owned();
    // ACC-7: requested in April, a month passed in May, due on the last day of June.
    assert_eq!(due_on, NaiveDate::from_ymd_opt(2026, 6, 30).unwrap());
    let refunded = |events: &[StoredEvent]| refund_of(events, &member);

    // The last minute of the day before: not refunded.
    let eve = last_minute_of(due_on.pred_opt().unwrap());
    running.advance(json!({ "to": eve })).await;
    assert_eq!(
        refunded(&store.events().await),
        None,
        "refunded before its due date"
    );

    // Its due date: refunded in yen and the member closed, by the scheduler under ACC-7.
    running.advance(json!({ "hours": 1 })).await;
    let events = store.events().await;
    let paid =
        refunded(&events).unwrap_or_else(|| panic!("{member}'s refund not paid on {due_on}"));
    assert_eq!(paid.metadata["actor"], "scheduler");
    assert_eq!(paid.metadata["rule"], "ACC-7");
    assert_eq!(
        paid.payload["refunded"]["paid"]["currency"], "JPY",
        "{paid:?}"
    );
    assert_closed_with_the_refund(&events, &member);
    running.stop().await;
}

// rule MEM-9: on a cn-agency warehouse a member who never applied for a top-up is closed
// automatically the day after the month from their registration, by the scheduler, and not
// on the month's last day; a member who withdrew is not.
#[tokio::test]
async fn mem_9_a_member_never_topped_up_is_closed_the_day_after_a_month_not_before() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(start());
    let store = Store::Embedded(dir.path().to_owned());
    let running = Running::cn_agency(&store, dir.path(), &clock).await;
    let closing = running.register("Li Wei", "1990-05-05").await;
    let withdrawing = running.register("Wang Fang", "1990-05-05").await;
    running
        .command(
            &format!("/v1/members/{withdrawing}/request-withdrawal"),
            json!({}),
        )
        .await;

    running.advance(json!({ "hours": 1 })).await;
    let pending = running.pending("auto_close").await;
    assert_eq!(pending["rule"], "MEM-9", "{pending:#}");
    assert_eq!(pending["aggregate_id"], closing.as_str(), "{pending:#}");
    // Registered on 1 April (in Shanghai's time, the policy's): a month passes on 1 May,
    // closed from 2 May.
    let due_on = NaiveDate::from_ymd_opt(2026, 5, 2).unwrap();
    assert_eq!(pending["due_on"], due_on.to_string(), "{pending:#}");

    let closed = |events: &[StoredEvent], member: &str| {
        events
            .iter()
            .find(|e| e.aggregate_id == member && e.event_type == "member.auto_closed")
            .cloned()
    };
    running
        .advance(json!({ "to": last_minute_in(&domain::Policy::cn_agency(), due_on.pred_opt().unwrap()) }))
        .await;
    assert_eq!(
        closed(&store.events().await, &closing),
        None,
        "closed early"
    );

    let advanced = running.advance(json!({ "hours": 1 })).await;
    let events = store.events().await;
    let auto_closed = closed(&events, &closing)
        .unwrap_or_else(|| panic!("{closing} not closed on {due_on}: {advanced:#}"));
    assert_eq!(auto_closed.metadata["actor"], "scheduler");
    assert_eq!(auto_closed.metadata["rule"], "MEM-9");
    let payload = &auto_closed.payload["auto_closed"];
    assert_eq!(payload["closed_on"], due_on.to_string(), "{payload:#}");
    assert!(
        payload["conditions"][0].get("no_top_up").is_some(),
        "{payload:#}"
    );
    assert_eq!(
        closed(&events, &withdrawing),
        None,
        "a withdrawing member closed"
    );

    // Nothing is left for it, and it fires once however long the clock runs on.
    running.advance(json!({ "days": 40 })).await;
    let events = store.events().await;
    let closures = events
        .iter()
        .filter(|e| e.event_type == "member.auto_closed")
        .count();
    assert_eq!(closures, 1);
    let (_, schedule) = running.call(Method::GET, "/v1/schedule", None).await;
    assert!(
        !schedule["pending"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "auto_close"),
        "{schedule:#}"
    );
    running.stop().await;
}

// rule ACC-7: a yuan balance (cn-agency) is refunded in yen on its due date at the refund rate
// of MON-3: until finance recorded the reference rates of the charge month and of the refund
// month the refund waits, its key unused; once both are there the next tick pays it.
#[tokio::test]
async fn acc_7_a_yuan_refund_waits_for_the_months_reference_rates_then_pays_in_yen() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(start());
    let store = Store::Embedded(dir.path().to_owned());
    let running = Running::cn_agency(&store, dir.path(), &clock).await;
    let member = running.register("Zhang Min", "1988-08-08").await;
    let deposit = json!({
        "deposited_on": "2026-04-01", "bank": "Bank of China",
        "amount": { "amount": "500", "currency": "CNY" }, "payer_name": "ZHANG MIN"
    });
    let mut bank = deposit.clone();
    bank["deposit_id"] = json!("dep-zhang-1");
    running
        .command(
            &format!("/v1/members/{member}/top-up-applications"),
            json!({ "declared": deposit, "deposit": bank }),
        )
        .await;
    running
        .command(
            &format!("/v1/members/{member}/request-withdrawal"),
            json!({}),
        )
        .await;
    let cn = domain::Policy::cn_agency();
    let due_on = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
    let refunded = |events: &[StoredEvent]| refund_of(events, &member);

    // Its due date comes without rates: the refund waits, and says why.
    let eve = last_minute_in(&cn, due_on.pred_opt().unwrap());
    running.advance(json!({ "to": eve })).await;
    let advanced = running.advance(json!({ "hours": 1 })).await;
    assert_eq!(advanced["clock"]["today"], due_on.to_string());
    let waiting = advanced["report"]["waiting"].to_string();
    assert!(
        waiting.contains("no reference rate of CNY in JPY recorded for 2026-04"),
        "{advanced:#}"
    );
    assert_eq!(
        refunded(&store.events().await),
        None,
        "refunded without rates"
    );
    let pending = running.pending_now("pay_refund").await;
    assert_eq!(pending["aggregate_id"], member.as_str(), "{pending:#}");

    // A rate of nothing, or of a currency in itself, is refused, by the request's schema.
    for (base, rate) in [("CNY", "0"), ("JPY", "20.00")] {
        let (status, problem) = running
            .send(
                Method::POST,
                "/v1/reference-rates",
                Some(json!({
                    "base": base, "quote": "JPY", "rate": rate,
                    "source": "Bank of China reference rate", "valid_on": "2026-06-30"
                })),
                Some(uuid::Uuid::new_v4().to_string()),
            )
            .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (422, Some("request.invalid_body")),
            "{problem:#}"
        );
    }

    // Finance records April's rate (the top-up's month) and June's: the next tick pays.
    for (valid_on, rate) in [("2026-04-15", "21.50"), ("2026-06-30", "20.80")] {
        running
            .command(
                "/v1/reference-rates",
                json!({
                    "base": "CNY", "quote": "JPY", "rate": rate,
                    "source": "Bank of China reference rate", "valid_on": valid_on
                }),
            )
            .await;
    }
    let advanced = running.advance(json!({ "hours": 1 })).await;
    assert_eq!(advanced["report"]["waiting"], json!([]), "{advanced:#}");
    let paid = refunded(&store.events().await).expect("refunded once the rates are recorded");
    assert_eq!(paid.metadata["actor"], "scheduler");
    assert_eq!(paid.metadata["rule"], "ACC-7");
    // MON-3: the lower of the two rates, less 1.00 JPY per CNY: 500 CNY at 19.80 = 9,900 JPY.
    let refund = &paid.payload["refunded"];
    assert_eq!(refund["paid"]["currency"], "JPY", "{refund:#}");
    let amount: f64 = refund["paid"]["amount"].as_str().unwrap().parse().unwrap();
    assert_eq!(amount, 9900.0, "{refund:#}");
    let events = store.events().await;
    assert_closed_with_the_refund(&events, &member);
    running.stop().await;
}

#[tokio::test]
async fn the_living_demo_plays_sixty_days() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(start());
    let store = Store::Embedded(dir.path().to_owned());
    let running = Running::start(store.config(dir.path(), &clock), None).await;
    let report = demo::run(
        demo::DemoOptions {
            days: 60,
            ..demo::DemoOptions::new(format!("http://{}", running.address), &running.admin, 1)
        },
        demo::Silent,
    )
    .await
    .unwrap_or_else(|e| panic!("the living demo plays: {e}"));
    // The first day's unpaid quote was held as the days passed, with the later ones.
    assert!(
        report.shipments.get("held").is_some_and(|n| *n > 1),
        "{report}"
    );
    let (_, clock_now) = running.call(Method::GET, "/v1/clock", None).await;
    assert_eq!(clock_now["today"], "2026-05-31", "{clock_now:#}");

    // Parcels of many ages on the shelves, some past their limit.
    let (status, page) = running
        .call(Method::GET, "/v1/storage/parcels?limit=500", None)
        .await;
    assert_eq!(status, 200, "{page:#}");
    let ages: BTreeSet<u64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["storage"]["days_stored"].as_u64())
        .collect();
    assert!(ages.len() > 20, "days stored: {ages:?}");
    let (status, past) = running
        .call(Method::GET, "/v1/storage/past-limit", None)
        .await;
    assert_eq!(status, 200, "{past:#}");
    assert_ne!(
        past.to_string().matches("parcel_id").count(),
        0,
        "nothing past its limit: {past:#}"
    );

    // The scheduler did its part, each on its day.
    let entries = journal(&running).await;
    let first_day = tokyo(start());
    let mut holds = 0;
    for (rule, action, due_on, done_on, outcome) in entries.values() {
        assert_eq!(
            *done_on,
            (*due_on).max(first_day),
            "{rule} {action} due {due_on} done {done_on} ({outcome})"
        );
        holds += usize::from(action == "hold_unpaid" && outcome == "done");
    }
    assert!(holds > 1, "unpaid quotes held: {holds}");
    running.stop().await;
    assert_once(&store.events().await);
}

#[tokio::test]
async fn the_clock_api_refuses_what_its_document_forbids() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(start());
    let store = Store::Embedded(dir.path().to_owned());
    let running = Running::start(store.config(dir.path(), &clock), None).await;
    let (status, document) = running
        .call(Method::GET, "/scheduler/openapi.json", None)
        .await;
    assert_eq!(status, 200);
    for path in ["/v1/clock", "/v1/clock/advance", "/v1/schedule"] {
        assert!(document["paths"][path].is_object(), "{path} undocumented");
    }
    let advance = &document["paths"]["/v1/clock/advance"]["post"];
    let bounds = &advance["requestBody"]["content"]["application/json"]["schema"]["properties"];
    assert_eq!(bounds["days"]["maximum"], 3660);
    for (body, code) in [
        (json!({ "days": 0 }), "request.invalid"),
        (json!({ "days": 3661 }), "request.invalid"),
        (json!({ "days": 1, "hours": 1 }), "request.invalid"),
        (json!({}), "request.invalid"),
        (json!({ "weeks": 1 }), "request.invalid_body"),
        (json!({ "to": "2026-03-01T00:00:00Z" }), "clock.backwards"),
    ] {
        let (status, problem) = running
            .call(Method::POST, "/v1/clock/advance", Some(body.clone()))
            .await;
        assert_eq!(problem["code"], code, "{body}: {status} {problem:#}");
        assert!(
            advance["responses"][status.to_string()]["description"]
                .as_str()
                .is_some_and(|d| d.contains(code)),
            "{status} {code} undocumented"
        );
    }
    for query in ["limit=0", "limit=501", "after=zz"] {
        let (status, problem) = running
            .call(Method::GET, &format!("/v1/schedule?{query}"), None)
            .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (400, Some("request.invalid")),
            "{query}"
        );
    }
    let (_, clock_now) = running.call(Method::GET, "/v1/clock", None).await;
    assert_eq!(
        clock_now["now"], "2026-04-01T00:00:00Z",
        "a refused advance moved the clock"
    );
    running.stop().await;
}

impl Store {
    /// Rebuilds the schedule view from the store, blue/green, while no server runs.
    async fn rebuild_the_schedule(&self) {
        let options = projection_runtime::RebuildOptions::default();
        let schedule = projections::schedule::Schedule;
        match self {
            Store::Embedded(dir) => {
                let store = event_store::sqlite::SqliteEventStore::open(dir)
                    .await
                    .expect("open the store");
                let views = projections::ViewDb::open_sqlite(dir.join(parcelport::VIEWS_FILE))
                    .await
                    .expect("the views file");
                projection_runtime::rebuild(&views, &store, schedule, options)
                    .await
                    .expect("rebuild the schedule view");
                views.close().await;
                store.close().await;
            }
            Store::Postgres(db) => {
                let store = event_store::EventStore::connect(db.url(), 2)
                    .await
                    .expect("connect");
                let views = projections::ViewDb::from(store.pool());
                projection_runtime::rebuild(&views, &store, schedule, options)
                    .await
                    .expect("rebuild the schedule view");
                store.pool().close().await;
            }
        }
    }
}

/// What the scheduler caused, without the ids that differ from run to run: per event type,
/// rule, action and due date (the key's parts), how many events.
fn caused(events: &[StoredEvent]) -> BTreeMap<String, usize> {
    let mut caused = BTreeMap::new();
    for event in scheduled(events) {
        let key = event.metadata["correlation_id"]
            .as_str()
            .unwrap_or_default();
        let parts: Vec<&str> = key.split(':').collect();
        // The due date, without the key's suffix (STO-3's months count, read from the view
        // at the time: a second server ticking on a view that lags names the months it saw,
        // while the parcel, which decides, accrues the same fee).
        let due = parts
            .iter()
            .find(|part| part.parse::<NaiveDate>().is_ok())
            .copied()
            .unwrap_or_default();
        let signature = format!(
            "{} {} {} {}",
            parts.get(1).unwrap_or(&""),
            parts.get(2).unwrap_or(&""),
            due,
            event.event_type
        );
        *caused.entry(signature).or_default() += 1;
    }
    caused
}

/// `member`'s refund (ACC-7), once paid.
fn refund_of(events: &[StoredEvent], member: &str) -> Option<StoredEvent> {
    events
        .iter()
        .find(|e| e.aggregate_id == format!("acct-{member}") && e.event_type == "account.refunded")
        .cloned()
}

/// `member` was closed (MEM-8), as the refund that ends a withdrawal closes it.
fn assert_closed_with_the_refund(events: &[StoredEvent], member: &str) {
    assert!(
        events
            .iter()
            .any(|e| e.aggregate_id == member && e.event_type == "member.closed"),
        "the member is closed with the refund"
    );
}

/// A pseudo-random number in `low..high` from a seed printed for reproduction.
fn next(seed: &mut u64, low: u64, high: u64) -> u64 {
    *seed = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    low + (*seed >> 33) % (high - low)
}

/// The 60 days played twice from the same demo: once without interruption, once with the
/// server killed three times at random moments mid-advance (every task dropped where it
/// stood), the schedule view rebuilt after the second kill, and on PostgreSQL a second server
/// ticking the same store for the rest. Both end with the same events caused by the scheduler,
/// none appended twice.
async fn killed_and_rebuilt(calm: Store, rough: Store) {
    let end = start() + chrono::Duration::days(60) - chrono::Duration::hours(1);
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (calm_dir, rough_dir) = match (&calm, &rough) {
        (Store::Embedded(a), Store::Embedded(b)) => (a.clone(), b.clone()),
        _ => (dirs.0.path().to_owned(), dirs.1.path().to_owned()),
    };

    let clock = TestClock::at(start());
    let running = Running::start(calm.config(&calm_dir, &clock), None).await;
    running.demo().await;
    running.advance(json!({ "to": end })).await;
    running.stop().await;
    let expected = caused(&calm.events().await);

    let clock = TestClock::at(start());
    let server = Killable::start(rough.config(&rough_dir, &clock), None);
    let admin = server.admin.clone();
    demo::run(
        demo::DemoOptions::new(format!("http://{}", server.address), admin.clone(), 1),
        demo::Silent,
    )
    .await
    .unwrap_or_else(|e| panic!("the demo loads: {e}"));
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("kill seed {seed}");
    let mut server = Some(server);
    for round in 0..3 {
        let after = Duration::from_millis(next(&mut seed, 100, 1_500));
        let killed = server.take().expect("a server");
        eprintln!(
            "round {round}: killed after {after:?} at {}",
            engine::Clock::now(&clock)
        );
        if killed.advance_or_die(end, after).await {
            break;
        }
        if round == 1 {
            rough.rebuild_the_schedule().await;
        }
        server = Some(Killable::start(
            rough.config(&rough_dir, &clock),
            Some(admin.clone()),
        ));
    }
    drop(server);
    let last = Running::start(rough.config(&rough_dir, &clock), Some(admin.clone())).await;
    let rival = match &rough {
        Store::Embedded(_) => None,
        Store::Postgres(_) => {
            let mut config = rough.config(&rough_dir, &clock);
            config.scheduler.interval = Duration::from_millis(5);
            Some(Running::start(config, Some(admin)).await)
        }
    };
    last.advance(json!({ "to": end })).await;
    last.stop().await;
    if let Some(rival) = rival {
        rival.stop().await;
    }
    let events = rough.events().await;
    assert_once(&events);
    let found = caused(&events);
    let differences: Vec<_> = expected
        .keys()
        .chain(found.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|key| expected.get(*key) != found.get(*key))
        .map(|key| (key, expected.get(key), found.get(key)))
        .collect();
    assert!(
        differences.is_empty(),
        "(caused, uninterrupted, interrupted): {differences:#?}"
    );
}

#[tokio::test]
async fn killed_rebuilt_and_restarted_on_the_embedded_store_the_same_events() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    killed_and_rebuilt(
        Store::Embedded(a.path().to_owned()),
        Store::Embedded(b.path().to_owned()),
    )
    .await;
}

#[tokio::test]
async fn killed_rebuilt_restarted_and_raced_on_postgres_the_same_events() {
    killed_and_rebuilt(Store::postgres().await, Store::postgres().await).await;
}
