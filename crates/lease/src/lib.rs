//! # lease: one active process per name
//!
//! A [`Lease`] is a PostgreSQL session advisory lock `(class, hashtext(name))` held by a
//! connection of its own. Whoever holds it is the active one (the relay that publishes, the
//! projector that applies a view); the others stand by and try again. The lock lives exactly
//! as long as its session: if the holder dies, or its connection is cut or terminated, the
//! server releases it and the next one to try takes it.
//!
//! The holder checks its connection every interval, with a timeout ([`Lease::keep`]), and
//! stops at the first failure, so it stops within about a second after its connection is cut;
//! the server needs the TCP keepalives set here (10 s idle, 3 probes 5 s apart) to notice a
//! silent peer and hand the lock over. A new holder should wait that same bound (interval +
//! timeout) before acting, so that two holders never act at once unless one stalls longer.
//!
//! Writes that must be fenced by the lease (the relay's checkpoint) go through
//! [`Lease::connection`]: a holder that lost the lease can no longer make them.

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};
use std::future::Future;
use std::time::Duration;

/// Why a holder stopped holding its lease.
#[derive(Debug, thiserror::Error)]
pub enum LeaseLost {
    /// The lease connection failed: the lock may be someone else's already.
    #[error("the lease connection failed")]
    Connection(#[from] sqlx::Error),
    /// The lease connection did not answer in time.
    #[error("the lease connection did not answer within {0:?}")]
    Timeout(Duration),
}

/// An advisory lock held by a dedicated connection. See the crate documentation.
#[derive(Debug)]
pub struct Lease {
    connection: PgConnection,
    class: i32,
    name: String,
}

impl Lease {
    /// Connects as `application_name` and tries the lock `(class, hashtext(name))` once:
    /// `None` when someone else holds it.
    pub async fn try_acquire(
        options: &PgConnectOptions,
        class: i32,
        name: &str,
        application_name: &str,
    ) -> Result<Option<Lease>, sqlx::Error> {
        let mut connection = options
            .clone()
            .application_name(application_name)
            .options([
                ("tcp_keepalives_idle", "10"),
                ("tcp_keepalives_interval", "5"),
                ("tcp_keepalives_count", "3"),
            ])
            .connect()
            .await?;
        let acquired: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, hashtext($2))")
            .bind(class)
            .bind(name)
            .fetch_one(&mut connection)
            .await?;
        if !acquired {
            connection.close().await?;
            return Ok(None);
        }
        Ok(Some(Lease {
            connection,
            class,
            name: name.to_owned(),
        }))
    }

    /// Tries every `retry` until the lease is taken (`Some`) or `stop` completes (`None`).
    /// Logs once when another process holds it, and once per outage of the database.
    pub async fn acquire(
        options: &PgConnectOptions,
        class: i32,
        name: &str,
        application_name: &str,
        retry: Duration,
        stop: impl Future<Output = ()>,
    ) -> Option<Lease> {
        let mut stop = std::pin::pin!(stop);
        let mut standing_by = false;
        let mut failing = false;
        loop {
            match Self::try_acquire(options, class, name, application_name).await {
                Ok(Some(lease)) => {
                    tracing::info!(lease = name, "lease: taken; active");
                    return Some(lease);
                }
                Ok(None) => {
                    failing = false;
                    if !standing_by {
                        tracing::info!(lease = name, "lease: held by another process; standing by");
                        standing_by = true;
                    }
                }
                Err(error) => {
                    if !failing {
                        tracing::warn!(lease = name, %error, "lease: the database fails; retrying");
                        failing = true;
                    }
                }
            }
            tokio::select! {
                () = tokio::time::sleep(retry) => {}
                () = &mut stop => return None,
            }
        }
    }

    /// The lease's own connection, for writes the lease fences.
    pub fn connection(&mut self) -> &mut PgConnection {
        &mut self.connection
    }

    /// Checks the connection once, within `timeout`.
    pub async fn check(&mut self, timeout: Duration) -> Result<(), LeaseLost> {
        tokio::time::timeout(timeout, self.connection.ping())
            .await
            .map_err(|_| LeaseLost::Timeout(timeout))??;
        Ok(())
    }

    /// Checks the connection every `interval` (each within `timeout`) until a check fails,
    /// which it returns: the lease may be someone else's from then on.
    pub async fn keep(&mut self, interval: Duration, timeout: Duration) -> LeaseLost {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(lost) = self.check(timeout).await {
                return lost;
            }
        }
    }

    /// Gives the lease up for the next process at once, rather than when the session ends.
    pub async fn release(mut self) {
        let unlocked = sqlx::query("SELECT pg_advisory_unlock($1, hashtext($2))")
            .bind(self.class)
            .bind(&self.name)
            .execute(&mut self.connection)
            .await;
        if let Err(error) = unlocked {
            tracing::debug!(%error, "lease: unlock failed; closing the session releases it");
        }
        let _ = self.connection.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use testkit::ScratchDb;

    const CLASS: i32 = 0x7465_7374; // "test"

    #[tokio::test]
    async fn one_holder_at_a_time_and_the_next_takes_over_when_it_goes() {
        let db = ScratchDb::create("lease").await;
        let options: PgConnectOptions = db.url().parse().unwrap();
        let first = Lease::try_acquire(&options, CLASS, "view", "first")
            .await
            .unwrap()
            .expect("free");
        assert!(Lease::try_acquire(&options, CLASS, "view", "second")
            .await
            .unwrap()
            .is_none());
        let other = Lease::try_acquire(&options, CLASS, "another view", "second")
            .await
            .unwrap();
        assert!(other.is_some(), "names are independent");
        let waiting = tokio::spawn({
            let options = options.clone();
            async move {
                Lease::acquire(
                    &options,
                    CLASS,
                    "view",
                    "second",
                    Duration::from_millis(20),
                    std::future::pending(),
                )
                .await
            }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!waiting.is_finished(), "the second stands by");
        drop(first);
        let mut second = waiting.await.unwrap().expect("taken over");
        second.check(Duration::from_secs(2)).await.unwrap();
        second.release().await;
    }
}
