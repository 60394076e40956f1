//! [`Lease`]: one active scheduler among replicas (distributed mode), by a PostgreSQL session
//! advisory lock held on a dedicated connection. The others wait and try again; when the
//! leader dies or its connection is cut, the server releases the lock and the next one to try
//! leads. Leading is an economy, not the guarantee: two schedulers firing at once still fire
//! each action once (the engine's keys), they only do the work twice.

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};
use std::time::Duration;

/// The first key of the schedulers' advisory locks; the second is `hashtext(name)`.
const LOCK_CLASS: i32 = 0x7073_6368; // "psch"

/// The lock of one scheduler name, held by its own connection.
#[derive(Debug)]
pub struct Lease {
    connection: PgConnection,
    name: String,
}

/// Why the leader stopped holding the lease.
#[derive(Debug, thiserror::Error)]
pub enum LeaseLost {
    /// The connection failed.
    #[error("the lease connection failed: {0}")]
    Connection(#[from] sqlx::Error),
    /// The connection did not answer in time.
    #[error("the lease connection did not answer within {0:?}")]
    Timeout(Duration),
}

impl Lease {
    /// Connects and tries the lock once: `None` when another replica holds it.
    pub async fn try_acquire(url: &str, name: &str) -> Result<Option<Lease>, sqlx::Error> {
        let options: PgConnectOptions = url.parse()?;
        let mut connection = options
            .application_name(&format!("parcelport-scheduler {name}"))
            .connect()
            .await?;
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, hashtext($2))")
            .bind(LOCK_CLASS)
            .bind(name)
            .fetch_one(&mut connection)
            .await?;
        if !locked {
            let _ = connection.close().await;
            return Ok(None);
        }
        Ok(Some(Lease {
            connection,
            name: name.to_owned(),
        }))
    }

    /// Tries every `retry` until the lock is ours.
    pub async fn acquire(url: &str, name: &str, retry: Duration) -> Lease {
        loop {
            match Lease::try_acquire(url, name).await {
                Ok(Some(lease)) => return lease,
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "scheduler lease: trying again"),
            }
            tokio::time::sleep(retry).await;
        }
    }

    /// Pings every `interval` (each within `timeout`) until the connection fails: the lease
    /// may be someone else's from then on.
    pub async fn watch(&mut self, interval: Duration, timeout: Duration) -> LeaseLost {
        loop {
            tokio::time::sleep(interval).await;
            match tokio::time::timeout(timeout, self.connection.ping()).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => return LeaseLost::Connection(error),
                Err(_) => return LeaseLost::Timeout(timeout),
            }
        }
    }

    /// Gives the lease up for the next replica at once.
    pub async fn release(mut self) {
        let _ = sqlx::query("SELECT pg_advisory_unlock($1, hashtext($2))")
            .bind(LOCK_CLASS)
            .bind(&self.name)
            .execute(&mut self.connection)
            .await;
        let _ = self.connection.close().await;
    }
}

/// Runs `work` whenever this process leads `name`, until `stopping` turns true: acquires the
/// lease (waiting while another replica leads), runs `work` with a future that completes on a
/// stop, and stands by again if the lease is lost meanwhile. What one replica among many does:
/// `parcelport-scheduler` fires what falls due, `parcelport-notifier` delivers notices.
pub async fn while_leading<W, F>(
    url: &str,
    name: &str,
    stopping: tokio::sync::watch::Receiver<bool>,
    mut work: W,
) where
    W: FnMut(std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>) -> F,
    F: std::future::Future<Output = ()>,
{
    let stopped = |mut stopping: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopping.wait_for(|stop| *stop).await;
    };
    loop {
        let mut lease = tokio::select! {
            () = stopped(stopping.clone()) => return,
            lease = Lease::acquire(url, name, Duration::from_secs(1)) => lease,
        };
        tracing::info!(name, "leading: this replica works, the others stand by");
        tokio::select! {
            () = work(Box::pin(stopped(stopping.clone()))) => {
                lease.release().await;
                return;
            }
            lost = lease.watch(Duration::from_secs(2), Duration::from_secs(5)) => {
                tracing::warn!(error = %lost, "lost the lease; standing by");
            }
        }
    }
}
