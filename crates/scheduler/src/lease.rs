//! [`while_leading`]: one active replica among many (distributed mode), by a [`lease::Lease`]
//! on the replica's name. The others wait and try again; when the leader dies or its
//! connection is cut, the server releases the lock and the next one to try leads. Leading is an
//! economy, not the guarantee: two schedulers firing at once still fire each action once (the
//! engine's keys), they only do the work twice.

use lease::Lease;
use sqlx::postgres::PgConnectOptions;
use std::time::Duration;

/// The first key of the schedulers' and notifiers' advisory locks; the second is
/// `hashtext(name)`.
const LOCK_CLASS: i32 = 0x7073_6368; // "psch"

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
    let options: PgConnectOptions = match url.parse() {
        Ok(options) => options,
        Err(error) => {
            tracing::error!(%error, name, "the database url does not parse: not leading");
            return;
        }
    };
    let application_name = format!("parcelport {name}");
    loop {
        let retry = Duration::from_secs(1);
        let acquire = Lease::acquire(
            &options,
            LOCK_CLASS,
            name,
            &application_name,
            retry,
            stopped(stopping.clone()),
        );
        let Some(mut lease) = acquire.await else {
            return;
        };
        tracing::info!(name, "leading: this replica works, the others stand by");
        tokio::select! {
            () = work(Box::pin(stopped(stopping.clone()))) => {
                lease.release().await;
                return;
            }
            lost = lease.keep(Duration::from_secs(2), Duration::from_secs(5)) => {
                tracing::warn!(error = %lost, "lost the lease; standing by");
            }
        }
    }
}
