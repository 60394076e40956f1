//! The demo (`crates/demo`) against this API over HTTP, on a fresh PostgreSQL database: every
//! planned state is reached with no refused step, and a rerun with the same seed appends
//! nothing.

use crate::support::{spawn_app, ADMIN};
use event_store::{EventLog, EventStore, GlobalCursor};

/// The events in the store.
async fn events(store: &EventStore) -> u64 {
    store.backlog(GlobalCursor::START).await.unwrap().events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_reaches_every_planned_state_and_a_rerun_appends_nothing() {
    let app = spawn_app().await;
    let store = EventStore::from_pool(app.pool.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let options = demo::DemoOptions::new(base_url, ADMIN, 42);

    let first = demo::run(options.clone(), demo::Silent)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first.missing(), Vec::<String>::new(), "{first}");
    let parcels: usize = first.parcels.values().sum();
    assert_eq!(parcels, 40, "{first}");
    assert_eq!(first.members.values().sum::<usize>(), 5, "{first}");
    assert!(first.events > first.commands, "{first}");
    let appended = events(&store).await;
    assert!(appended >= first.events, "{appended} < {first}");

    // The next day, the same seed: the same requests under the same keys, nothing appended.
    app.clock.advance(chrono::Duration::days(1));
    let again = demo::run(options, demo::Silent)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(events(&store).await, appended);
    assert_eq!(again, first);
    server.abort();
}
