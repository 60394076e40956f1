//! One scheduler (or notifier) works at a time: of two replicas in [`scheduler::while_leading`],
//! one works while the other stands by, and when the worker crashes (its task aborted, its
//! connection with it), the other takes over.

use sqlx::{Connection, PgConnection};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use testkit::ScratchDb;
use tokio::sync::watch;
use tokio::time::Instant;

/// A replica whose work counts itself in `working` while it runs, and records its number in
/// `worked_by`.
fn replica(
    url: String,
    number: usize,
    stopping: watch::Receiver<bool>,
    working: Arc<AtomicUsize>,
    worked_by: Arc<AtomicUsize>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        scheduler::while_leading(&url, "scheduler", stopping, |stop| {
            let (working, worked_by) = (working.clone(), worked_by.clone());
            async move {
                let _working = Working::start(working);
                worked_by.store(number, Ordering::SeqCst);
                stop.await;
            }
        })
        .await;
    })
}

/// Counts a replica's work while it lasts, however it ends.
struct Working(Arc<AtomicUsize>);

impl Working {
    fn start(count: Arc<AtomicUsize>) -> Working {
        count.fetch_add(1, Ordering::SeqCst);
        Working(count)
    }
}

impl Drop for Working {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn wait_for(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !condition() {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_replica_works_and_the_other_takes_over_when_it_crashes() {
    let db = ScratchDb::create("scheduler_lease").await;
    let (stop, stopping) = watch::channel(false);
    let working = Arc::new(AtomicUsize::new(0));
    let worked_by = Arc::new(AtomicUsize::new(0));
    let first = replica(
        db.url().to_owned(),
        1,
        stopping.clone(),
        working.clone(),
        worked_by.clone(),
    );
    wait_for("the first replica never worked", || {
        worked_by.load(Ordering::SeqCst) == 1
    })
    .await;
    let second = replica(
        db.url().to_owned(),
        2,
        stopping.clone(),
        working.clone(),
        worked_by.clone(),
    );
    // The second stands by through several of its tries.
    for _ in 0..30 {
        assert_eq!(working.load(Ordering::SeqCst), 1, "two replicas work");
        assert_eq!(worked_by.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The working replica crashes: its connection, and the lock, go with it.
    first.abort();
    let _ = first.await;
    wait_for("the second replica never took over", || {
        worked_by.load(Ordering::SeqCst) == 2
    })
    .await;
    assert_eq!(working.load(Ordering::SeqCst), 1);
    let holders: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity
          WHERE application_name = 'parcelport scheduler' AND datname = current_database()",
    )
    .fetch_one(&mut PgConnection::connect(db.url()).await.expect("connect"))
    .await
    .expect("count lease sessions");
    assert_eq!(holders, 1, "the crashed replica's session is gone");

    stop.send(true).expect("the replica listens");
    second.await.expect("the second replica");
    assert_eq!(working.load(Ordering::SeqCst), 0);
}
