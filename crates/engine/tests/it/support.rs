//! The test harness: an engine per test on a backend of its own (a fresh, migrated PostgreSQL
//! database, or an embedded SQLite store in a fresh temporary directory), its clock set to a
//! Tokyo business morning; a repository that fails on demand; and the steps every story
//! repeats (a verified member with a balance, a stored parcel, a quoted shipment).
//!
//! Test bodies are generic over [`Backend`]; `on_each_backend!` makes one test per backend.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::Aggregate;
use domain::account::{BankDeposit, ChargeAccount, DeclaredDeposit};
use domain::facts::{DeclaredItem, ItemCategory};
use domain::ids::{CauseId, MemberId, ParcelId, ShipmentId, SuiteCode};
use domain::measure::{Dimensions, Weight};
use domain::member::{EmailAddress, IdentityDocument, Member, MemberCommand, PersonName};
use domain::money::Money;
use domain::parcel::{DeclarationSource, InspectionReport, Parcel, ParcelCommand, VariationCount};
use domain::{Policy, Services};
use engine::use_cases::intake::ParcelArrival;
use engine::use_cases::packing::Packing;
use engine::use_cases::payment::QuoteRequest;
use engine::use_cases::register::Registration;
use engine::use_cases::top_up::TopUpApplication;
use engine::{
    CommandContext, Engine, EngineConfig, EngineStore, PgEngineStore, SqliteEngineStore, TestClock,
};
use event_store::sqlite::{SqliteEventRepository, SqliteEventStore};
use event_store::EventStore;
use event_store::PostgresRepository;
use serde_json::Value;
use sqlx::PgPool;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use testkit::ScratchDb;
use tokio::sync::Notify;

/// One test per backend for each generic test body named: `<body>::postgres` and
/// `<body>::sqlite`, on the current-thread runtime or, with `multi_thread(n):`, on `n` workers.
macro_rules! on_each_backend {
    (multi_thread($workers:literal): $($body:ident),+ $(,)?) => {
        on_each_backend!(@tests [tokio::test(flavor = "multi_thread", worker_threads = $workers)] $($body),+);
    };
    ($($body:ident),+ $(,)?) => {
        on_each_backend!(@tests [tokio::test] $($body),+);
    };
    (@tests [$test:meta] $($body:ident),+) => {
        $(
            mod $body {
                #[$test]
                async fn postgres() {
                    super::$body::<crate::support::Postgres>().await
                }

                #[$test]
                async fn sqlite() {
                    super::$body::<crate::support::Sqlite>().await
                }
            }
        )+
    };
}

/// Where a test's engine keeps its data: a backend with a fresh store per test, and the few
/// direct looks into it the tests take.
pub trait Backend: Sized + Send + Sync + 'static {
    /// The event repository the engine appends through.
    type Repository: PersistedEventRepository + 'static;
    /// The engine's own tables.
    type Store: EngineStore;

    /// A fresh, empty store for one test.
    fn create() -> impl Future<Output = (Self, Self::Repository, Self::Store)>;

    /// Every event in the store.
    fn event_count(&self) -> impl Future<Output = i64>;

    /// Events of type `event_type`.
    fn events_of_type(&self, event_type: &str) -> impl Future<Output = i64>;

    /// The `(aggregate_type, aggregate_id, sequence, metadata)` of every event appended under
    /// idempotency key `key`, in the global order.
    fn events_with_key(&self, key: &str)
        -> impl Future<Output = Vec<(String, String, i64, Value)>>;

    /// The actor and correlation id of the `event_type` event of `aggregate_id`.
    fn actor_and_correlation(
        &self,
        aggregate_id: &str,
        event_type: &str,
    ) -> impl Future<Output = (String, String)>;

    /// Suite codes allocated and not released.
    fn suite_code_count(&self) -> impl Future<Output = i64>;

    /// As if the process holding key `key` died after its appends and before it stored the
    /// result: the claim pending, its lease long over.
    fn forget_result(&self, key: &str) -> impl Future<Output = ()>;
}

/// A PostgreSQL database of its own, dropped (best-effort) when the test ends, even when it
/// fails.
pub struct Postgres {
    pool: PgPool,
    // Declared after the pool: the database goes after it.
    _db: ScratchDb,
}

impl Backend for Postgres {
    type Repository = PostgresRepository;
    type Store = PgEngineStore;

    async fn create() -> (Self, PostgresRepository, PgEngineStore) {
        let db = ScratchDb::create("engine").await;
        let store = EventStore::connect(db.url(), 12)
            .await
            .expect("connect to the test database");
        let pool = store.pool().clone();
        let engine_store = PgEngineStore::new(pool.clone());
        (Self { pool, _db: db }, store.repository(), engine_store)
    }

    async fn event_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    async fn events_of_type(&self, event_type: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = $1")
            .bind(event_type)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    async fn events_with_key(&self, key: &str) -> Vec<(String, String, i64, Value)> {
        sqlx::query_as(
            "SELECT aggregate_type, aggregate_id, sequence, metadata::jsonb FROM events
              WHERE metadata ->> 'idempotency_key' = $1 ORDER BY position",
        )
        .bind(key)
        .fetch_all(&self.pool)
        .await
        .unwrap()
    }

    async fn actor_and_correlation(
        &self,
        aggregate_id: &str,
        event_type: &str,
    ) -> (String, String) {
        sqlx::query_as(
            "SELECT metadata ->> 'actor', correlation_id FROM events
              WHERE aggregate_id = $1 AND event_type = $2",
        )
        .bind(aggregate_id)
        .bind(event_type)
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    async fn suite_code_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM engine.suite_codes")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    async fn forget_result(&self, key: &str) {
        sqlx::query(
            "UPDATE engine.idempotency_keys
                SET status = 'pending', response = NULL, claimed_at = '-infinity'
              WHERE key = $1",
        )
        .bind(key)
        .execute(&self.pool)
        .await
        .unwrap();
    }
}

/// The embedded store in a temporary directory of its own, removed when the test ends.
pub struct Sqlite {
    store: SqliteEventStore,
    _dir: tempfile::TempDir,
}

impl Backend for Sqlite {
    type Repository = SqliteEventRepository;
    type Store = SqliteEngineStore;

    async fn create() -> (Self, SqliteEventRepository, SqliteEngineStore) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = SqliteEventStore::open(dir.path())
            .await
            .expect("open the store");
        let repository = store.repository();
        let engine_store = SqliteEngineStore::new(store.clone());
        (Self { store, _dir: dir }, repository, engine_store)
    }

    async fn event_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(self.store.reader())
            .await
            .unwrap()
    }

    async fn events_of_type(&self, event_type: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = ?1")
            .bind(event_type)
            .fetch_one(self.store.reader())
            .await
            .unwrap()
    }

    async fn events_with_key(&self, key: &str) -> Vec<(String, String, i64, Value)> {
        let rows: Vec<(String, String, i64, String)> = sqlx::query_as(
            "SELECT aggregate_type, aggregate_id, sequence, metadata FROM events
              WHERE json_extract(metadata, '$.idempotency_key') = ?1 ORDER BY position",
        )
        .bind(key)
        .fetch_all(self.store.reader())
        .await
        .unwrap();
        rows.into_iter()
            .map(|(t, id, sequence, metadata)| {
                (t, id, sequence, serde_json::from_str(&metadata).unwrap())
            })
            .collect()
    }

    async fn actor_and_correlation(
        &self,
        aggregate_id: &str,
        event_type: &str,
    ) -> (String, String) {
        sqlx::query_as(
            "SELECT json_extract(metadata, '$.actor'), correlation_id FROM events
              WHERE aggregate_id = ?1 AND event_type = ?2",
        )
        .bind(aggregate_id)
        .bind(event_type)
        .fetch_one(self.store.reader())
        .await
        .unwrap()
    }

    async fn suite_code_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM suite_codes")
            .fetch_one(self.store.reader())
            .await
            .unwrap()
    }

    async fn forget_result(&self, key: &str) {
        sqlx::query(
            "UPDATE idempotency_keys
                SET status = 'pending', response = NULL, claimed_at = '1970-01-01T00:00:00Z'
              WHERE key = ?1",
        )
        .bind(key)
        .execute(self.store.writer())
        .await
        .unwrap();
    }
}

/// The engine under test, through a repository that can be told to fail.
pub type TestEngine<B> =
    Engine<FaultyRepository<<B as Backend>::Repository>, <B as Backend>::Store>;

/// One test's engine on a store of its own.
pub struct TestApp<B: Backend> {
    pub engine: Arc<TestEngine<B>>,
    pub clock: TestClock,
    pub faults: Arc<Faults>,
    /// Dropped last: the store outlives the engine on it.
    pub db: B,
}

/// Tuesday 1 December 2026, 10:00 in Tokyo: a receiving day (TIM-2).
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 1, 0, 0).unwrap()
}

impl<B: Backend> TestApp<B> {
    pub async fn new() -> Self {
        Self::with_config(EngineConfig::new("TYO").unwrap()).await
    }

    pub async fn with_config(config: EngineConfig) -> Self {
        Self::with(config, Policy::jp_forwarding()).await
    }

    /// An engine deciding with `policy` (the default is jp-forwarding).
    pub async fn with_policy(policy: Policy) -> Self {
        Self::with(EngineConfig::new("TYO").unwrap(), policy).await
    }

    async fn with(config: EngineConfig, policy: Policy) -> Self {
        let (db, repository, store) = B::create().await;
        let faults = Arc::new(Faults::default());
        let repository = FaultyRepository {
            inner: repository,
            faults: Arc::clone(&faults),
        };
        let clock = TestClock::at(start());
        let engine =
            Engine::new(repository, store, Services::new(policy), config).with_clock(clock.clone());
        engine.migrate().await.expect("migrate the test database");
        // Twice: both migrators must accept a database the other has migrated.
        engine.migrate().await.expect("migrate again");
        TestApp {
            engine: Arc::new(engine),
            clock,
            faults,
            db,
        }
    }

    /// A request context for `actor`.
    pub fn ctx(&self) -> CommandContext {
        CommandContext::new("operator:test", uuid::Uuid::new_v4().to_string())
    }

    /// Every event in the store.
    pub async fn event_count(&self) -> i64 {
        self.db.event_count().await
    }

    /// The `(aggregate_type, aggregate_id, sequence, metadata)` of every event, in order.
    pub async fn events_with_key(&self, key: &str) -> Vec<(String, String, i64, Value)> {
        self.db.events_with_key(key).await
    }

    /// The local date now.
    pub fn today(&self) -> NaiveDate {
        self.engine.today()
    }

    /// A registered member with a verified passport.
    pub async fn verified_member(&self) -> (MemberId, SuiteCode) {
        let registered = self
            .engine
            .register_member(registration(), &self.ctx())
            .await
            .expect("register");
        self.engine
            .execute::<Member>(
                registered.member_id.as_str(),
                MemberCommand::VerifyIdentity {
                    document: IdentityDocument::Passport {
                        photo_page_checked: true,
                        address_page_checked: true,
                    },
                    expires_on: NaiveDate::from_ymd_opt(2031, 1, 1).unwrap(),
                },
                &self.ctx(),
            )
            .await
            .expect("verify");
        (registered.member_id, registered.suite_code)
    }

    /// Tops `member`'s balance up by `yen`, approved (ACC-2).
    pub async fn top_up(&self, member: &MemberId, yen: i64) {
        let deposited_on = self.today();
        let declared = DeclaredDeposit {
            deposited_on,
            bank: "Rakuten Bank".into(),
            amount: Money::jpy(yen),
            payer_name: "YAMADA TARO".into(),
        };
        let deposit = BankDeposit {
            deposit_id: CauseId::parse(&format!("dep-{}", uuid::Uuid::new_v4().simple())).unwrap(),
            deposited_on,
            bank: declared.bank.clone(),
            amount: declared.amount,
            payer_name: declared.payer_name.clone(),
        };
        let decided = self
            .engine
            .apply_for_top_up(
                member,
                TopUpApplication {
                    declared,
                    deposit: Some(deposit),
                    rate: None,
                },
                &self.ctx(),
            )
            .await
            .expect("top up");
        assert!(decided.suspension.is_none());
    }

    /// The member's balance.
    pub async fn balance(&self, member: &MemberId) -> Money {
        let account = engine::ids::account_of(member).unwrap();
        self.engine
            .load::<ChargeAccount>(account.as_str())
            .await
            .unwrap()
            .state
            .balance()
            .expect("opened")
    }

    /// A parcel for `suite_code`, received, inspected, declared (one T-shirt at `yen`),
    /// confirmed and stored.
    pub async fn stored_parcel(&self, suite_code: &SuiteCode, grams: u32, yen: i64) -> ParcelId {
        let engine = &self.engine;
        let received = engine
            .receive_parcel(arrival(suite_code, grams), &self.ctx())
            .await
            .expect("receive");
        let parcel = received.parcel_id;
        engine
            .inspect_parcel(&parcel, inspection(), &self.ctx())
            .await
            .expect("inspect");
        engine
            .execute::<Parcel>(parcel.as_str(), declaration(yen), &self.ctx())
            .await
            .expect("declare");
        engine
            .confirm_declaration(&parcel, &self.ctx())
            .await
            .expect("confirm");
        engine
            .store_parcel(&parcel, "A-01", &self.ctx())
            .await
            .expect("store");
        parcel
    }

    /// A shipment of one stored parcel, packed and quoted for EMS to the US: its total.
    pub async fn quoted_single(&self, member: &MemberId, parcel: &ParcelId) -> (ShipmentId, Money) {
        let requested = self
            .engine
            .request_packing(member, parcel, &self.ctx())
            .await
            .expect("request packing");
        let shipment = requested.shipment_id;
        self.engine
            .record_packing(&shipment, ems_packing(1_600), &self.ctx())
            .await
            .expect("record packing");
        let quoted = self
            .engine
            .quote(&shipment, ems_to_us(), &self.ctx())
            .await
            .expect("quote");
        (shipment, quoted.total)
    }
}

pub fn registration() -> Registration {
    Registration {
        name: PersonName::parse("Yamada Taro").unwrap(),
        birth_date: NaiveDate::from_ymd_opt(1990, 4, 1).unwrap(),
        email: EmailAddress::parse("taro@example.com").unwrap(),
        guardian_consent: None,
        forwarding_only_accepted: true,
    }
}

pub fn arrival(suite_code: &SuiteCode, grams: u32) -> ParcelArrival {
    ParcelArrival {
        parcel_id: None,
        label: Some(suite_code.as_str().to_lowercase()),
        weight: Weight::from_grams(grams).unwrap(),
        dimensions: Dimensions::from_mm(300, 200, 100).unwrap(),
        shop: None,
        collect_on_delivery: None,
    }
}

pub fn inspection() -> InspectionReport {
    InspectionReport {
        level: None,
        variations: vec![VariationCount {
            variation: "blue / M".into(),
            units: 1,
        }],
        findings: vec![],
        observed_categories: vec![],
        oversize_cost: None,
    }
}

pub fn declaration(yen: i64) -> ParcelCommand {
    ParcelCommand::Declare {
        items: vec![DeclaredItem {
            description: "T-shirt".into(),
            quantity: 1,
            unit_price: Money::jpy(yen),
            category: ItemCategory::Apparel,
            domestic_shipping: None,
            order_service: None,
        }],
        sender: "Shop A".into(),
        source: DeclarationSource::Member,
    }
}

pub fn ems_packing(grams: u32) -> Packing {
    Packing {
        carrier: "EMS".into(),
        weight: Weight::from_grams(grams).unwrap(),
        dimensions: Dimensions::from_mm(400, 300, 200).unwrap(),
    }
}

pub fn ems_to_us() -> QuoteRequest {
    QuoteRequest {
        carrier: "EMS".into(),
        destination: "US".into(),
        options: vec![],
        insurance: None,
        warranty: false,
    }
}

/// Advances the test clock by `days`.
pub fn days(n: i64) -> Duration {
    Duration::days(n)
}

/// What the [`FaultyRepository`] is told to do.
#[derive(Debug, Default)]
pub struct Faults {
    /// Appends refused as lost races (optimistic-lock errors) before they pass again.
    pub conflicts: AtomicU32,
    /// Appends of shipments fail as if the database went away.
    pub fail_shipments: AtomicBool,
    /// Appends attempted.
    pub appends: AtomicU32,
    /// Appends the store refused because another append of the aggregate got there first.
    pub lost_races: AtomicU32,
    /// The aggregate whose next append waits for [`Faults::release`], after notifying
    /// [`Faults::held`]: it has decided on the state it loaded, and another request may now
    /// change that state before the append lands. Interleaves a race deterministically.
    hold: Mutex<Option<String>>,
    /// Notified when an append is held.
    pub held: Notify,
    /// Lets the held append go on.
    pub release: Notify,
}

impl Faults {
    /// Holds the next append to aggregate `aggregate_id` (see [`Faults::held`]).
    pub fn hold_next_append_of(&self, aggregate_id: &str) {
        *self.hold.lock().unwrap() = Some(aggregate_id.to_owned());
    }
}

/// A backend's repository, failing appends on demand: the engine is generic over its repository.
pub struct FaultyRepository<R> {
    inner: R,
    faults: Arc<Faults>,
}

impl<R: PersistedEventRepository> PersistedEventRepository for FaultyRepository<R> {
    async fn get_events<A: Aggregate>(
        &self,
        id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.inner.get_events::<A>(id).await
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.inner.get_last_events::<A>(id, last_sequence).await
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        self.inner.get_snapshot::<A>(id).await
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        self.faults.appends.fetch_add(1, Ordering::SeqCst);
        let held = {
            let mut hold = self.faults.hold.lock().unwrap();
            let target = events.first().map(|e| e.aggregate_id.as_str());
            if hold.is_some() && hold.as_deref() == target {
                hold.take()
            } else {
                None
            }
        };
        if held.is_some() {
            self.faults.held.notify_one();
            self.faults.release.notified().await;
        }
        let conflict = self
            .faults
            .conflicts
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if conflict {
            return Err(PersistenceError::OptimisticLockError);
        }
        if A::TYPE == "shipment" && self.faults.fail_shipments.load(Ordering::SeqCst) {
            return Err(PersistenceError::ConnectionError("connection lost".into()));
        }
        let persisted = self.inner.persist::<A>(events, snapshot_update).await;
        if matches!(persisted, Err(PersistenceError::OptimisticLockError)) {
            self.faults.lost_races.fetch_add(1, Ordering::SeqCst);
        }
        persisted
    }

    async fn stream_events<A: Aggregate>(
        &self,
        id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        self.inner.stream_events::<A>(id).await
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        self.inner.stream_all_events::<A>().await
    }
}
