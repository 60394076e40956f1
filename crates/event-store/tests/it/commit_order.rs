//! Commit-safety of the global order: writers whose commits land out of position order never
//! make the reader skip or repeat an event, while the naive readers this replaces do skip.

use crate::counter::{Counter, CounterCommand};
use crate::support::{append, keys, read_until, Background, TestDb};
use event_store::{CommandMetadata, GlobalCursor, StoredEvent, TailOptions};
use futures::StreamExt;
use sqlx::PgPool;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The reader this crate replaces: `position > last`, in position order.
async fn naive_read(pool: &PgPool, last: i64) -> Vec<(i64, String)> {
    sqlx::query_as(
        "SELECT position, aggregate_id FROM events WHERE position > $1 ORDER BY position",
    )
    .bind(last)
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_lower_position_committed_later_is_missed_by_position_but_not_by_the_store() {
    let db = TestDb::create(6).await;
    let pool = db.store.pool();

    let mut slow = pool.begin().await.unwrap();
    let slow_position = append(&mut slow, "slow", 1).await;
    let mut fast = pool.begin().await.unwrap();
    let fast_position = append(&mut fast, "fast", 1).await;
    assert!(slow_position < fast_position);
    fast.commit().await.unwrap();

    // The naive reader sees the higher position first and moves past the lower one.
    let seen = naive_read(pool, 0).await;
    assert_eq!(seen, vec![(fast_position, "fast".to_owned())]);
    // The store's reader waits: "fast" got its transaction id after "slow", which still runs.
    assert!(db
        .store
        .read_after(GlobalCursor::START, 10)
        .await
        .unwrap()
        .is_empty());

    slow.commit().await.unwrap();
    assert!(
        naive_read(pool, fast_position).await.is_empty(),
        "the naive reader never sees the slow event: the test can tell a skipping reader"
    );
    let read = read_until(&db.store, GlobalCursor::START, 2).await;
    assert_eq!(
        keys(&read),
        [("slow".to_owned(), 1), ("fast".to_owned(), 1)]
    );
}

#[tokio::test]
async fn the_watermark_alone_is_not_enough_without_txid_order() {
    let db = TestDb::create(6).await;
    let pool = db.store.pool();

    // "early" gets its transaction id first but inserts after "late".
    let mut early = pool.begin().await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *early)
        .await
        .unwrap();
    let mut late = pool.begin().await.unwrap();
    let late_position = append(&mut late, "late", 1).await;
    let early_position = append(&mut early, "early", 1).await;
    assert!(late_position < early_position);
    early.commit().await.unwrap();

    // Below the watermark but in position order: "early" is below it (only "late" runs), so
    // this reader takes it and its cursor moves past the position "late" holds.
    let watermark_by_position = |last: i64| {
        sqlx::query_as::<_, (i64, String)>(
            "SELECT position, aggregate_id FROM events
              WHERE position > $1 AND txid < pg_snapshot_xmin(pg_current_snapshot())
              ORDER BY position",
        )
        .bind(last)
        .fetch_all(pool)
    };
    let seen = loop {
        // Another transaction on the server may hold the watermark lower for a while.
        let seen = watermark_by_position(0).await.unwrap();
        if !seen.is_empty() {
            break seen;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(seen, vec![(early_position, "early".to_owned())]);
    // The store's reader takes it too, at a cursor "late" will still come after.
    let first = read_until(&db.store, GlobalCursor::START, 1).await;
    assert_eq!(keys(&first), [("early".to_owned(), 1)]);

    late.commit().await.unwrap();
    read_until(&db.store, first[0].cursor, 1).await;
    assert!(
        watermark_by_position(early_position)
            .await
            .unwrap()
            .is_empty(),
        "ordering by position below the watermark skips \"late\""
    );
    let rest = read_until(&db.store, first[0].cursor, 1).await;
    assert_eq!(keys(&rest), [("late".to_owned(), 1)]);
}

/// Transaction ids gain a digit as a cluster ages (99,999 then 100,000, and so on): the global
/// order compares them as numbers, whatever the page size. Ordering by the text form puts
/// "10" before "9", and a keyset reader then jumps over every shorter id behind its cursor.
#[tokio::test]
async fn transaction_ids_that_gain_a_digit_keep_the_global_order() {
    let db = TestDb::create(2).await;
    let pool = db.store.pool();
    // Finished transactions far below any watermark, inserted out of their order.
    let txids: [u64; 7] = [100, 9, 1_000, 10, 99, 11, 8];
    for (sequence, txid) in txids.iter().enumerate() {
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                                 payload, metadata, txid)
             VALUES ('Raw', $1, 1, 'Appended', '1.0', '{}', '{}', $2::text::xid8)",
        )
        .bind(format!("t{sequence}"))
        .bind(txid.to_string())
        .execute(pool)
        .await
        .expect("append an event with its transaction id");
    }
    let mut expected = txids.to_vec();
    expected.sort_unstable();

    for page_size in [1, 2, 3, 100] {
        let mut cursor = GlobalCursor::START;
        let mut read = Vec::new();
        loop {
            let page = db.store.read_after(cursor, page_size).await.expect("read");
            let Some(last) = page.last() else { break };
            cursor = last.cursor;
            read.extend(page.iter().map(|event| event.cursor.txid));
        }
        assert_eq!(read, expected, "pages of {page_size}");
    }
}

const RAW_WRITERS: usize = 15;
const CQRS_WRITERS: usize = 5;
const TRANSACTIONS: i64 = 6;

/// A writer on aggregate `w{writer}` whose transactions take positions, sleep a random while
/// holding them, and commit, so commits land out of position order; about one in ten rolls
/// back. Returns what it committed.
async fn raw_writer(pool: PgPool, writer: usize) -> Vec<(String, i64)> {
    let aggregate_id = format!("w{writer}");
    let mut committed = Vec::new();
    let mut sequence = 0;
    for transaction in 0..TRANSACTIONS {
        let mut tx = pool.begin().await.unwrap();
        let events = 1 + (writer as i64 + transaction) % 3;
        let mut appended = Vec::new();
        for event in 1..=events {
            append(&mut tx, &aggregate_id, sequence + event).await;
            appended.push((aggregate_id.clone(), sequence + event));
            sqlx::query("SELECT pg_sleep(random() * 0.05)")
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        if (writer as i64 * 7 + transaction) % 10 == 3 {
            tx.rollback().await.unwrap();
        } else {
            tx.commit().await.unwrap();
            sequence += events;
            committed.extend(appended);
        }
    }
    committed
}

/// A writer going through postgres-es, as the services do.
async fn cqrs_writer(store: event_store::EventStore, writer: usize) -> Vec<(String, i64)> {
    let cqrs = store.cqrs::<Counter>(vec![], ());
    let aggregate_id = format!("c{writer}");
    for transaction in 0..TRANSACTIONS {
        let metadata = CommandMetadata::new("test", "Add", format!("{aggregate_id}-{transaction}"));
        cqrs.execute_with_metadata(
            &aggregate_id,
            CounterCommand::Add { by: 1 },
            metadata.into(),
        )
        .await
        .unwrap();
    }
    (1..=TRANSACTIONS)
        .map(|sequence| (aggregate_id.clone(), sequence))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_reach_a_tailing_reader_exactly_once_in_order() {
    let db = TestDb::create(32).await;
    let store = db.store.clone();

    // The reader under test: a tail with small pages, started before any write.
    let tailed: Arc<Mutex<Vec<StoredEvent>>> = Arc::default();
    let options = TailOptions {
        batch_size: 7,
        poll_interval: Duration::from_millis(100),
    };
    let tail = Background(tokio::spawn({
        let tailed = tailed.clone();
        let mut events = store.tail_with(GlobalCursor::START, options).boxed();
        async move {
            while let Some(event) = events.next().await {
                tailed.lock().unwrap().push(event.expect("tail"));
            }
        }
    }));
    // The naive reader, alongside, to report what it would have missed.
    let naively_seen: Arc<Mutex<HashSet<i64>>> = Arc::default();
    let naive = Background(tokio::spawn({
        let (pool, seen) = (store.pool().clone(), naively_seen.clone());
        async move {
            let mut last = 0;
            loop {
                for (position, _) in naive_read(&pool, last).await {
                    last = position;
                    seen.lock().unwrap().insert(position);
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    }));

    let raw = (0..RAW_WRITERS).map(|writer| tokio::spawn(raw_writer(store.pool().clone(), writer)));
    let cqrs = (0..CQRS_WRITERS).map(|writer| tokio::spawn(cqrs_writer(store.clone(), writer)));
    let mut committed = BTreeSet::new();
    for writer in raw.chain(cqrs).collect::<Vec<_>>() {
        committed.extend(writer.await.unwrap());
    }

    // Wait for the tail to deliver everything, then a little longer for anything extra.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while tailed.lock().unwrap().len() < committed.len() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the tail delivered {} of {} events within 30 s",
            tailed.lock().unwrap().len(),
            committed.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(
        3 * options.poll_interval.as_millis() as u64,
    ))
    .await;
    drop((tail, naive));
    let tailed = tailed.lock().unwrap().clone();

    // Exactly the committed events, once each...
    let delivered: Vec<(String, i64)> = keys(&tailed);
    let delivered_set: BTreeSet<_> = delivered.iter().cloned().collect();
    assert_eq!(delivered.len(), delivered_set.len(), "no event twice");
    assert_eq!(
        delivered_set, committed,
        "every committed event, and nothing else"
    );
    let stored: BTreeSet<(String, i64)> =
        sqlx::query_as("SELECT aggregate_id, sequence FROM events")
            .fetch_all(store.pool())
            .await
            .unwrap()
            .into_iter()
            .collect();
    assert_eq!(stored, committed);
    // ...in the global order, and so in sequence order per aggregate.
    assert!(tailed
        .windows(2)
        .all(|pair| pair[0].cursor < pair[1].cursor));
    let mut last_sequence: HashMap<&str, i64> = HashMap::new();
    for event in &tailed {
        let last = last_sequence.insert(&event.aggregate_id, event.sequence);
        assert_eq!(last.unwrap_or(0) + 1, event.sequence);
    }

    let naively_missed = tailed
        .iter()
        .filter(|event| !naively_seen.lock().unwrap().contains(&event.position))
        .count();
    eprintln!(
        "{} events from {} writers; a `position > last` reader alongside missed {naively_missed}",
        committed.len(),
        RAW_WRITERS + CQRS_WRITERS
    );
}
