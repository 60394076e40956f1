//! Services spawn projectors, replays and rebuilds on a multi-threaded runtime: their futures
//! must be `Send` for every lifetime. This compiles only while they are (a `sqlx::raw_sql` call
//! once broke it, found only when a test spawned a projector).

use crate::*;
use event_store::EventStore;
use sqlx::PgPool;

struct Nothing;

impl Projection for Nothing {
    type Change = ();

    fn name(&self) -> &'static str {
        "nothing"
    }

    fn tables(&self) -> &'static [TableSpec] {
        &[]
    }

    fn create_tables(&self, _: &Schema, _: Dialect) -> String {
        String::new()
    }

    fn reduce(&self, _: &EventEnvelope) -> Result<Vec<()>, ReduceError> {
        Ok(Vec::new())
    }

    async fn apply(&self, _: &mut ViewConn<'_>, _: &Schema, _: &[()]) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

fn send<T: Send>(_: T) {}

#[allow(dead_code)] // never run: it only has to compile
fn futures_are_send(pool: PgPool, store: EventStore, projector: Projector<Nothing, StoreFeed>) {
    send(projector.run(std::future::pending()));
    send(catalog::ensure(&pool, &Nothing));
    send(parked::replay(&pool, &Nothing));
    send(rebuild(&pool, &store, Nothing, RebuildOptions::default()));
}

#[cfg(feature = "sqlite")]
#[allow(dead_code)] // never run: it only has to compile
fn sqlite_futures_are_send(
    db: ViewDb,
    store: event_store::sqlite::SqliteEventStore,
    projector: Projector<Nothing, StoreFeed<event_store::sqlite::SqliteEventStore>>,
) {
    send(projector.run(std::future::pending()));
    send(catalog::ensure(&db, &Nothing));
    send(parked::replay(&db, &Nothing));
    send(rebuild(&db, &store, Nothing, RebuildOptions::default()));
}

#[test]
fn projector_replay_and_rebuild_futures_are_send() {
    let _compiled: fn(PgPool, EventStore, Projector<Nothing, StoreFeed>) = futures_are_send;
}
