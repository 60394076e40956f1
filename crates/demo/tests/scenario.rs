//! The demo against the real API, in-process on a fresh PostgreSQL database (the pattern of
//! `services/api/tests/it/support.rs`): every planned state is reached with no refused step,
//! and a rerun with the same seed appends nothing.

use chrono::{DateTime, TimeZone, Utc};
use domain::{Policy, Services};
use engine::{EngineConfig, PgEngine, TestClock};
use event_store::EventStore;
use sqlx::PgPool;
use std::sync::Arc;
use testkit::ScratchDb;
use web::auth::{Caller, Role, TokenBook};

const ADMIN: &str = "demo-admin-secret";

/// Tuesday 1 December 2026, 10:00 in Tokyo: a receiving day (TIM-2).
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 1, 0, 0).unwrap()
}

/// The API on a database of its own, served on 127.0.0.1:0; dropped when the test ends.
struct Served {
    pool: PgPool,
    base_url: String,
    clock: TestClock,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// Declared last: the database goes after the server is told to stop and the pool.
    _db: ScratchDb,
}

async fn serve() -> Served {
    let db = ScratchDb::create("demo").await;
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
    let caller = Caller {
        name: "root".to_owned(),
        role: Role::Admin,
        member_id: None,
    };
    let tokens = TokenBook::default().with(ADMIN, caller);
    let state = api::AppState::new(Arc::new(engine), tokens, pool.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel();
    tokio::spawn(api::serve(state, listener, async {
        let _ = stopped.await;
    }));
    Served {
        pool,
        base_url,
        clock,
        stop: Some(stop),
        _db: db,
    }
}

impl Served {
    async fn events(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_reaches_every_planned_state_and_a_rerun_appends_nothing() {
    let app = serve().await;
    let options = demo::DemoOptions::new(app.base_url.clone(), ADMIN, 42);

    let first = demo::run(options.clone(), demo::Silent)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first.missing(), Vec::<String>::new(), "{first}");
    let parcels: usize = first.parcels.values().sum();
    assert_eq!(parcels, 40, "{first}");
    assert_eq!(first.members.values().sum::<usize>(), 5, "{first}");
    assert!(first.events > first.commands, "{first}");
    let events = app.events().await;
    assert!(events as u64 >= first.events, "{events} < {first}");

    // The next day, the same seed: the same requests under the same keys, nothing appended.
    app.clock.advance(chrono::Duration::days(1));
    let again = demo::run(options, demo::Silent)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(app.events().await, events);
    assert_eq!(again, first);
}

#[tokio::test]
async fn a_size_below_the_minimum_is_refused_before_any_request() {
    let mut options = demo::DemoOptions::new("http://127.0.0.1:9", ADMIN, 1);
    options.size.parcels = demo::DemoSize::MIN_PARCELS - 1;
    let refused = demo::run(options, demo::Silent).await.unwrap_err();
    assert!(
        matches!(refused, demo::DemoError::TooSmall { .. }),
        "{refused}"
    );
}
