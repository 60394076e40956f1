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
