//! The embedded SQLite store: cqrs-es round trip, optimistic concurrency, atomic commits, and
//! concurrent writers reaching the global reader exactly once in commit order. Each test opens
//! its own store in its own temporary directory.

use crate::counter::{Counter, CounterCommand, CounterError, CounterEvent};
use crate::support::{keys, Background};
use cqrs_es::persist::{PersistedEventRepository, PersistenceError, SerializedEvent};
use cqrs_es::{AggregateError, DomainEvent};
use event_store::sqlite::{SqliteEventStore, DATABASE_FILE};
use event_store::{
    CommandMetadata, EventLog, EventStoreError, GlobalCursor, StoredEvent, TailOptions,
};
use futures::StreamExt;
use serde_json::json;
use sqlx::{Connection, SqliteConnection};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tempfile::TempDir;

/// A store in a fresh temporary directory, removed when the test ends.
struct TempStore {
    store: SqliteEventStore,
    dir: TempDir,
}

async fn open() -> TempStore {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SqliteEventStore::open(dir.path().join("data"))
        .await
        .expect("open the store");
    TempStore { store, dir }
}

/// Every event, read with the global reader in pages of `page`.
async fn read_all(store: &SqliteEventStore, page: u32) -> Vec<StoredEvent> {
    let mut cursor = GlobalCursor::START;
    let mut events = Vec::new();
    loop {
        let read = store.read_after(cursor, page).await.expect("read_after");
        let Some(last) = read.last() else {
            return events;
        };
        cursor = last.cursor;
        events.extend(read);
    }
}

/// One serialized `Counter` event at `sequence`, tagged with the commit that appends it.
fn counter_event(aggregate_id: &str, sequence: usize, commit: &str) -> SerializedEvent {
    let event = CounterEvent::Added { by: 1 };
    SerializedEvent::new(
        aggregate_id.to_owned(),
        sequence,
        "Counter".to_owned(),
        event.event_type(),
        event.event_version(),
        serde_json::to_value(&event).unwrap(),
        json!({ "commit": commit }),
    )
}

#[tokio::test]
async fn cqrs_round_trip_with_metadata_and_the_global_reader() {
    let temp = open().await;
    assert!(temp.dir.path().join("data").join(DATABASE_FILE).is_file());
    let cqrs = temp.store.cqrs::<Counter>(vec![], ());

    for by in [2, 3] {
        let metadata = CommandMetadata::new("operator:7", "Add", "request-1").caused_by("event-0");
        cqrs.execute_with_metadata("counter-1", CounterCommand::Add { by }, metadata.into())
            .await
            .expect("add");
    }
    let refused = cqrs
        .execute("counter-1", CounterCommand::Check { expected: 4 })
        .await;
    assert!(matches!(
        refused,
        Err(AggregateError::UserError(CounterError::WrongTotal {
            actual: 5,
            ..
        }))
    ));
    cqrs.execute("counter-1", CounterCommand::Check { expected: 5 })
        .await
        .expect("the total is loaded from the events");

    let events = read_all(&temp.store, 100).await;
    assert_eq!(events.len(), 2);
    for (event, sequence) in events.iter().zip(1..) {
        assert_eq!(event.aggregate_type, "Counter");
        assert_eq!(event.aggregate_id, "counter-1");
        assert_eq!(event.sequence, sequence);
        assert_eq!(event.event_type, "Added");
        assert_eq!(event.event_version, "1");
        assert_eq!(event.metadata["actor"], "operator:7");
        assert_eq!(event.correlation_id.as_deref(), Some("request-1"));
        assert_eq!(event.causation_id.as_deref(), Some("event-0"));
        assert!(!event.event_id.is_nil());
        assert_eq!(event.cursor, GlobalCursor::at_position(event.position));
    }
    assert_eq!(events[0].payload, json!({ "Added": { "by": 2 } }));
    assert!(events[0].cursor < events[1].cursor);
    assert!(events[0].recorded_at <= events[1].recorded_at);
    assert_ne!(events[0].event_id, events[1].event_id);

    // A page ends where it should, and the cursor resumes after it.
    let first = temp.store.read_after(GlobalCursor::START, 1).await.unwrap();
    let rest = temp.store.read_after(first[0].cursor, 10).await.unwrap();
    assert_eq!(first.len() + rest.len(), 2);
    assert_eq!(rest[0].event_id, events[1].event_id);

    // The replay streams of cqrs-es.
    let repository = temp.store.repository();
    for mut stream in [
        repository
            .stream_events::<Counter>("counter-1")
            .await
            .unwrap(),
        repository.stream_all_events::<Counter>().await.unwrap(),
    ] {
        let mut sequences = Vec::new();
        while let Some(envelope) = stream.next::<Counter>(&[]).await {
            sequences.push(envelope.unwrap().sequence);
        }
        assert_eq!(sequences, [1, 2]);
    }
    assert!(repository
        .get_snapshot::<Counter>("counter-1")
        .await
        .unwrap()
        .is_none());
    let last = repository
        .get_last_events::<Counter>("counter-1", 1)
        .await
        .unwrap();
    assert_eq!(last.iter().map(|e| e.sequence).collect::<Vec<_>>(), [2]);
}

#[tokio::test]
async fn a_taken_sequence_is_an_optimistic_lock_error_and_the_commit_appends_nothing() {
    let temp = open().await;
    let repository = temp.store.repository();
    repository
        .persist::<Counter>(
            &[counter_event("c", 1, "a"), counter_event("c", 2, "a")],
            None,
        )
        .await
        .expect("the first commit");

    // Sequence 3 is free, 2 is taken: the whole commit fails, 3 included.
    let lost = repository
        .persist::<Counter>(
            &[counter_event("c", 3, "b"), counter_event("c", 2, "b")],
            None,
        )
        .await;
    assert!(
        matches!(lost, Err(PersistenceError::OptimisticLockError)),
        "{lost:?}"
    );
    let stored = repository.get_events::<Counter>("c").await.unwrap();
    assert_eq!(
        stored.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        [1, 2]
    );
    assert!(stored.iter().all(|e| e.metadata["commit"] == "a"));

    // Snapshots are refused, not dropped.
    let snapshot = repository
        .persist::<Counter>(
            &[counter_event("c", 3, "c")],
            Some(("c".into(), json!({}), 1)),
        )
        .await;
    assert!(matches!(snapshot, Err(PersistenceError::UnknownError(_))));
    assert_eq!(read_all(&temp.store, 10).await.len(), 2);
}

#[tokio::test]
async fn racing_commands_on_one_aggregate_commit_or_conflict_and_stay_gapless() {
    let temp = open().await;
    let cqrs = temp.store.cqrs::<Counter>(vec![], ());
    let attempts = (0..8).map(|_| cqrs.execute("counter-3", CounterCommand::Add { by: 1 }));
    let outcomes = futures::future::join_all(attempts).await;
    let committed = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
    assert!(committed >= 1);
    assert!(outcomes
        .iter()
        .all(|outcome| matches!(outcome, Ok(()) | Err(AggregateError::AggregateConflict))));
    let events = read_all(&temp.store, 100).await;
    let sequences: Vec<i64> = events.iter().map(|e| e.sequence).collect();
    assert_eq!(sequences, (1..=committed as i64).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_cursor_of_another_store_is_refused() {
    let temp = open().await;
    let foreign = GlobalCursor {
        txid: 7,
        position: 1,
    };
    let read = temp.store.read_after(foreign, 10).await;
    assert!(matches!(read, Err(EventStoreError::ForeignCursor { cursor }) if cursor == foreign));
}

#[tokio::test]
async fn the_data_directory_survives_closing_and_reopening() {
    let temp = open().await;
    let cqrs = temp.store.cqrs::<Counter>(vec![], ());
    cqrs.execute("counter-1", CounterCommand::Add { by: 4 })
        .await
        .unwrap();
    let before = read_all(&temp.store, 10).await;
    temp.store.close().await;

    // Opening again finds the events and applies no migration twice.
    let reopened = SqliteEventStore::open(temp.dir.path().join("data"))
        .await
        .unwrap();
    assert_eq!(read_all(&reopened, 10).await, before);
    let cqrs = reopened.cqrs::<Counter>(vec![], ());
    cqrs.execute("counter-1", CounterCommand::Check { expected: 4 })
        .await
        .expect("loaded from the reopened file");
}

// Another process (here a connection of its own) holds SQLite's write lock: the store's
// appends wait for it, readers see nothing of it before its commit, and positions stay in
// commit order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_writer_holding_the_lock_delays_appends_and_is_read_in_commit_order() {
    let temp = open().await;
    let mut other = SqliteConnection::connect(&format!("sqlite://{}", temp.store.path().display()))
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata, event_id, recorded_at)
         VALUES ('Raw', 'other', 1, 'Appended', '1', '{}', '{}', 'e0b7a7e4-1c1a-4c54-9d4f-1d0a7d3c2b11',
                 '2026-12-01T01:00:00Z')",
    )
    .execute(&mut other)
    .await
    .unwrap();

    let repository = temp.store.repository();
    let waiting = tokio::spawn(async move {
        repository
            .persist::<Counter>(&[counter_event("mine", 1, "mine")], None)
            .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "the append waits for the lock");
    assert!(temp
        .store
        .read_after(GlobalCursor::START, 10)
        .await
        .unwrap()
        .is_empty());

    sqlx::query("COMMIT").execute(&mut other).await.unwrap();
    waiting
        .await
        .unwrap()
        .expect("appended after the lock was released");
    let events = read_all(&temp.store, 10).await;
    assert_eq!(
        keys(&events),
        [("other".to_owned(), 1), ("mine".to_owned(), 1)]
    );
}

// A caught-up tail wakes on the repository's commit signal, not on its poll interval.
#[tokio::test]
async fn a_caught_up_tail_wakes_on_a_commit_of_this_process() {
    let temp = open().await;
    let options = TailOptions {
        batch_size: 10,
        poll_interval: Duration::from_secs(600),
    };
    let mut tail = temp.store.tail_with(GlobalCursor::START, options).boxed();
    let cqrs = temp.store.cqrs::<Counter>(vec![], ());
    for expected in 1..=3 {
        let next = tail.next();
        let add = cqrs.execute("counter-1", CounterCommand::Add { by: 1 });
        let (event, added) =
            tokio::time::timeout(Duration::from_secs(5), async { tokio::join!(next, add) })
                .await
                .expect("woken long before the poll interval");
        added.unwrap();
        assert_eq!(event.unwrap().unwrap().sequence, expected);
    }
}

const DISTINCT_WRITERS: usize = 8;
const SHARED_WRITERS: usize = 8;
const SHARED_AGGREGATES: usize = 3;
const COMMITS: usize = 10;

/// Races lost by the writers, reported by the test.
static LOST_RACES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn lost_a_race() {
    LOST_RACES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// A writer through cqrs-es on `aggregate_id`: each command one event, a lost race retried.
async fn cqrs_writer(store: SqliteEventStore, aggregate_id: String) -> usize {
    let cqrs = store.cqrs::<Counter>(vec![], ());
    let mut committed = 0;
    while committed < COMMITS {
        match cqrs
            .execute(&aggregate_id, CounterCommand::Add { by: 1 })
            .await
        {
            Ok(()) => committed += 1,
            Err(AggregateError::AggregateConflict) => lost_a_race(),
            Err(other) => panic!("{other:?}"),
        }
    }
    committed
}

/// A writer through the repository on `aggregate_id`: each commit one to three events, tagged
/// with the commit, a lost race loaded and tried again.
async fn batch_writer(store: SqliteEventStore, aggregate_id: String, writer: usize) -> usize {
    let repository = store.repository();
    let mut committed = 0;
    for commit in 0..COMMITS {
        let size = 1 + (writer + commit) % 3;
        let tag = format!("{aggregate_id}/{writer}/{commit}");
        loop {
            let last = repository
                .get_events::<Counter>(&aggregate_id)
                .await
                .unwrap()
                .last()
                .map_or(0, |e| e.sequence);
            let events: Vec<_> = (1..=size)
                .map(|n| counter_event(&aggregate_id, last + n, &tag))
                .collect();
            match repository.persist::<Counter>(&events, None).await {
                Ok(()) => break,
                Err(PersistenceError::OptimisticLockError) => lost_a_race(),
                Err(other) => panic!("{other:?}"),
            }
        }
        committed += size;
    }
    committed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_reach_a_tailing_reader_exactly_once_in_order() {
    let temp = open().await;
    let store = temp.store.clone();

    let tailed: Arc<Mutex<Vec<StoredEvent>>> = Arc::default();
    let options = TailOptions {
        batch_size: 7,
        poll_interval: Duration::from_millis(100),
    };
    let tail = Background(tokio::spawn({
        let tailed = tailed.clone();
        let mut events = EventLog::tail_with(&store, GlobalCursor::START, options).boxed();
        async move {
            while let Some(event) = events.next().await {
                tailed.lock().unwrap().push(event.expect("tail"));
            }
        }
    }));

    // Half the writers on aggregates of their own, half sharing three, through cqrs-es and
    // through multi-event commits.
    let mut writers = Vec::new();
    for writer in 0..DISTINCT_WRITERS + SHARED_WRITERS {
        let aggregate_id = if writer < DISTINCT_WRITERS {
            format!("own-{writer}")
        } else {
            format!("shared-{}", writer % SHARED_AGGREGATES)
        };
        writers.push(if writer % 2 == 0 {
            tokio::spawn(cqrs_writer(store.clone(), aggregate_id))
        } else {
            tokio::spawn(batch_writer(store.clone(), aggregate_id, writer))
        });
    }
    let mut committed = 0;
    for writer in writers {
        committed += writer.await.unwrap();
    }

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while tailed.lock().unwrap().len() < committed {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the tail delivered {} of {committed} events within 30 s",
            tailed.lock().unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(3 * options.poll_interval).await;
    drop(tail);
    let tailed = tailed.lock().unwrap().clone();

    // Exactly what the table holds, once each, in the order a fresh reader reads.
    assert_eq!(tailed.len(), committed);
    let stored = read_all(&store, 1_000).await;
    assert_eq!(tailed, stored);
    let unique: BTreeSet<_> = keys(&tailed).into_iter().collect();
    assert_eq!(unique.len(), committed, "no event twice");
    assert!(tailed
        .windows(2)
        .all(|pair| pair[0].cursor < pair[1].cursor));
    // Per aggregate in sequence order, without gaps.
    let mut last_sequence: HashMap<&str, i64> = HashMap::new();
    for event in &tailed {
        let last = last_sequence.insert(&event.aggregate_id, event.sequence);
        assert_eq!(last.unwrap_or(0) + 1, event.sequence);
    }
    // The events of one commit are contiguous in the global order.
    let mut finished: BTreeSet<&str> = BTreeSet::new();
    let mut current: Option<&str> = None;
    for event in &tailed {
        let commit = event.metadata["commit"].as_str();
        if commit != current {
            if let Some(done) = current {
                finished.insert(done);
            }
            if let Some(commit) = commit {
                assert!(!finished.contains(commit), "commit {commit} split");
            }
            current = commit;
        }
    }
    eprintln!(
        "{committed} events from {} writers, {} lost races retried",
        DISTINCT_WRITERS + SHARED_WRITERS,
        LOST_RACES.load(std::sync::atomic::Ordering::Relaxed)
    );
}

/// A reader's backlog, exact or counted up to a bound, and its head.
#[tokio::test]
async fn the_backlog_is_counted_exactly_or_up_to_a_bound() {
    let temp = open().await;
    let store = &temp.store;
    assert_eq!(store.head().await.unwrap(), None);
    let repository = store.repository();
    for sequence in 1..=5 {
        repository
            .persist::<Counter>(&[counter_event("c-1", sequence, "one")], None)
            .await
            .expect("append");
    }
    let events = read_all(store, 100).await;
    assert_eq!(store.head().await.unwrap(), Some(events[4].cursor));
    let all = store.backlog(GlobalCursor::START).await.unwrap();
    assert_eq!((all.events, all.more), (5, false));
    assert_eq!(all.oldest_recorded_at, Some(events[0].recorded_at));
    let after_two = store.backlog(events[1].cursor).await.unwrap();
    assert_eq!(after_two.events, 3);
    let bounded = store.backlog_at_most(GlobalCursor::START, 3).await.unwrap();
    assert_eq!((bounded.events, bounded.more), (3, true));
    assert_eq!(bounded.oldest_recorded_at, Some(events[0].recorded_at));
    let exact = store.backlog_at_most(events[1].cursor, 3).await.unwrap();
    assert_eq!((exact.events, exact.more), (3, false));
    let none = store.backlog_at_most(events[4].cursor, 3).await.unwrap();
    assert_eq!(
        (none.events, none.more, none.oldest_recorded_at),
        (0, false, None)
    );
}
