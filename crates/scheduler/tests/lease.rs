//! One scheduler leads at a time: a second replica waits while the first holds the lease and
//! takes over as soon as the first's session ends, released or killed.

use scheduler::Lease;
use std::time::Duration;

fn database_url() -> String {
    let server = std::env::var("PARCELPORT_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
    format!("{server}/postgres")
}

#[tokio::test]
async fn a_standby_leads_only_once_the_leader_is_gone() {
    let url = database_url();
    let name = format!("test-{}", std::process::id());
    let leader = Lease::try_acquire(&url, &name)
        .await
        .expect("connect")
        .expect("the first replica leads");
    assert!(
        Lease::try_acquire(&url, &name)
            .await
            .expect("connect")
            .is_none(),
        "two leaders"
    );
    leader.release().await;
    let second = tokio::time::timeout(
        Duration::from_secs(10),
        Lease::acquire(&url, &name, Duration::from_millis(20)),
    )
    .await
    .expect("the standby takes over");

    // The leader's session is killed (a crashed process): the lock goes with it.
    let mut admin = sqlx::PgConnection::connect_with(&url.parse().unwrap())
        .await
        .expect("connect");
    use sqlx::Connection;
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
          WHERE application_name = $1",
    )
    .bind(format!("parcelport-scheduler {name}"))
    .execute(&mut admin)
    .await
    .expect("kill the leader's session");
    let mut lost = second;
    let why = lost
        .watch(Duration::from_millis(20), Duration::from_secs(5))
        .await;
    assert!(matches!(why, scheduler::LeaseLost::Connection(_)), "{why}");
    let third = tokio::time::timeout(
        Duration::from_secs(10),
        Lease::acquire(&url, &name, Duration::from_millis(20)),
    )
    .await
    .expect("a standby takes over from a killed leader");
    third.release().await;
}
