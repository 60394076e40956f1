//! [`PostgresRepository`]: `postgres-es`'s repository, unchanged, telling this process's
//! tailing readers when an append committed (#13: fresh views without busy polling).
//!
//! A wake-up only says "a transaction appended and committed"; the readers then read the
//! global order below the watermark as always (ADR 0002), so a wake-up that comes early, late
//! or not at all changes when they read, never what. Readers in other processes are woken by a
//! commit hint over NATS where one is configured, and by their poll interval otherwise.

use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::Aggregate;
use postgres_es::PostgresEventRepository;
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::watch;

/// The command side's repository on the PostgreSQL store (see the module documentation).
#[derive(Clone)]
pub struct PostgresRepository {
    inner: Arc<PostgresEventRepository>,
    commits: Arc<watch::Sender<u64>>,
}

impl PostgresRepository {
    pub(crate) fn new(inner: PostgresEventRepository, commits: Arc<watch::Sender<u64>>) -> Self {
        Self {
            inner: Arc::new(inner),
            commits,
        }
    }
}

impl std::fmt::Debug for PostgresRepository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresRepository").finish_non_exhaustive()
    }
}

impl PersistedEventRepository for PostgresRepository {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.inner.get_events::<A>(aggregate_id).await
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.inner
            .get_last_events::<A>(aggregate_id, last_sequence)
            .await
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        self.inner.get_snapshot::<A>(aggregate_id).await
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        self.inner.persist::<A>(events, snapshot_update).await?;
        self.commits
            .send_modify(|commits| *commits = commits.wrapping_add(1));
        Ok(())
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        self.inner.stream_events::<A>(aggregate_id).await
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        self.inner.stream_all_events::<A>().await
    }
}
