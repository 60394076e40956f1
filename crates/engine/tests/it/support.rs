//! The test harness: a fresh, migrated database per test with an engine on it (its clock
//! set to a Tokyo business morning), a repository that fails on demand, and the steps every
//! story repeats (a verified member with a balance, a stored parcel, a quoted shipment).

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
use engine::{CommandContext, Engine, EngineConfig, PgEngineStore, TestClock};
use event_store::EventStore;
use postgres_es::PostgresEventRepository;
use serde_json::Value;
use sqlx::{Connection, PgConnection, PgPool};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// The server the tests run against, without a database name.
fn server_url() -> String {
    std::env::var("PARCELPORT_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// The engine under test: over PostgreSQL, through a repository that can be told to fail.
pub type TestEngine = Engine<FaultyRepository, PgEngineStore>;

/// A database of its own for one test, migrated, with an engine on it; dropped (best-effort)
/// when the test ends, even when it fails.
pub struct TestApp {
    name: String,
    pub pool: PgPool,
    pub engine: Arc<TestEngine>,
    pub clock: TestClock,
    pub faults: Arc<Faults>,
}

/// Tuesday 1 December 2026, 10:00 in Tokyo: a receiving day (TIM-2).
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 1, 0, 0).unwrap()
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::with_config(EngineConfig::new("TYO").unwrap()).await
    }

    pub async fn with_config(config: EngineConfig) -> TestApp {
        let name = format!("pp_engine_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&format!("{}/postgres", server_url()))
            .await
            .expect("connect to the postgres database");
        sqlx::query(&format!(r#"CREATE DATABASE "{name}" TEMPLATE template0"#))
            .execute(&mut admin)
            .await
            .expect("create the test database");
        let store = EventStore::connect(&format!("{}/{name}", server_url()), 12)
            .await
            .expect("connect to the test database");
        let pool = store.pool().clone();
        let faults = Arc::new(Faults::default());
        let repository = FaultyRepository {
            inner: store.repository(),
            faults: Arc::clone(&faults),
        };
        let clock = TestClock::at(start());
        let engine = Engine::new(
            repository,
            PgEngineStore::new(pool.clone()),
            Services::new(Policy::jp_forwarding()),
            config,
        )
        .with_clock(clock.clone());
        engine.migrate().await.expect("migrate the test database");
        // Twice: both migrators must accept a database the other has migrated.
        engine.migrate().await.expect("migrate again");
        TestApp {
            name,
            pool,
            engine: Arc::new(engine),
            clock,
            faults,
        }
    }

    /// A request context for `actor`.
    pub fn ctx(&self) -> CommandContext {
        CommandContext::new("operator:test", uuid::Uuid::new_v4().to_string())
    }

    /// Every event in the store.
    pub async fn event_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// The `(aggregate_type, aggregate_id, sequence, metadata)` of every event, in order.
    pub async fn events_with_key(&self, key: &str) -> Vec<(String, String, i64, Value)> {
        sqlx::query_as(
            "SELECT aggregate_type, aggregate_id, sequence, metadata::jsonb FROM events
              WHERE metadata ->> 'idempotency_key' = $1 ORDER BY position",
        )
        .bind(key)
        .fetch_all(&self.pool)
        .await
        .unwrap()
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

impl Drop for TestApp {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop is synchronous and may run inside the test's runtime: drop the database from a
        // thread with a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test database");
            runtime.block_on(async {
                let mut admin =
                    PgConnection::connect(&format!("{}/postgres", server_url())).await?;
                sqlx::query(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
                    .execute(&mut admin)
                    .await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(_))) {
            eprintln!("could not drop test database {}", self.name);
        }
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
    }
}

pub fn declaration(yen: i64) -> ParcelCommand {
    ParcelCommand::Declare {
        items: vec![DeclaredItem {
            description: "T-shirt".into(),
            quantity: 1,
            unit_price: Money::jpy(yen),
            category: ItemCategory::Apparel,
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
    /// Appends PostgreSQL refused because another append of the aggregate got there first.
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

/// postgres-es, failing appends on demand: the engine is generic over its repository.
pub struct FaultyRepository {
    inner: PostgresEventRepository,
    faults: Arc<Faults>,
}

impl PersistedEventRepository for FaultyRepository {
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
