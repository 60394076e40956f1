//! Commit hints (#13: fresh views without busy polling): a core NATS message on
//! [`SUBJECT`] after a process's commits, so that tailing readers in other processes read at
//! once instead of at their next poll.
//!
//! A hint carries nothing but its subject: it only wakes (`EventStore::committed`), the woken
//! reader reads the global order below the watermark as always (ADR 0002). Core NATS delivers
//! at most once, so a lost hint (NATS down, a slow subscriber) delays a reader by its poll
//! interval at worst, and never loses an event. Hints are coalesced: a burst of commits while
//! one is being published sends one more, not one per commit.

use event_store::EventStore;

/// The subject of commit hints. Outside `parcelport.>` on purpose: the event stream captures
/// every subject there (`crate::stream_config`), and a hint is no event.
pub const SUBJECT: &str = "hints.parcelport.committed";

/// Publishes a hint after each of `store`'s commits in this process; runs until dropped.
pub async fn publish_commits(store: &EventStore, client: async_nats::Client) {
    let mut commits = store.commits();
    while commits.changed().await.is_ok() {
        commits.borrow_and_update();
        if let Err(error) = client.publish(SUBJECT, bytes::Bytes::new()).await {
            tracing::debug!(%error, "a commit hint was not published");
        }
    }
}

/// [`publish_commits`] over a connection of its own to `nats_url` (one server, or a cluster's
/// comma-separated; made in the background, retried until NATS answers); runs until dropped.
pub async fn publish_commits_to(store: &EventStore, nats_url: &str) {
    let servers = match nats_servers::parse(nats_url) {
        Ok(servers) => servers,
        Err(error) => {
            tracing::warn!(%error, "no commit hints: readers elsewhere poll");
            return;
        }
    };
    let client = async_nats::ConnectOptions::new()
        .name("parcelport commit hints")
        .retry_on_initial_connect()
        .connect(servers)
        .await;
    match client {
        Ok(client) => publish_commits(store, client).await,
        Err(error) => tracing::warn!(%error, "no commit hints: readers elsewhere poll"),
    }
}

/// Wakes `store`'s tailing readers on every commit hint; runs until dropped (or the
/// subscription ends).
///
/// Once the server has the subscription (a flush's round trip), the readers are woken once:
/// a commit made before then sent its hint to nobody, and this read takes it at once instead
/// of at the next poll.
pub async fn wake_on_hints(
    store: &EventStore,
    client: async_nats::Client,
) -> Result<(), async_nats::SubscribeError> {
    use futures::StreamExt;
    let mut hints = client.subscribe(SUBJECT).await?;
    if let Err(error) = client.flush().await {
        tracing::debug!(%error, "the hint subscription was not confirmed; reading anyway");
    }
    store.committed();
    while hints.next().await.is_some() {
        store.committed();
    }
    Ok(())
}
