//! [`replay()`]: a view built as it stood at a past moment, into a scratch instance beside the
//! serving one, for comparison with reports issued then. The projection runtime's own pinned
//! projector does the work; [`AsOfFeed`] hands it only the events up to the moment.

use crate::history::AsOf;
use crate::AuditError;
use event_store::{EventStore, GlobalCursor};
use projection_runtime::catalog;
use projection_runtime::{
    EventEnvelope, Feed, FeedError, Projection, Projector, ProjectorOptions, Schema, Step,
    StoreFeed, Target,
};
use sqlx::PgPool;

/// A feed that passes on only the events recorded up to a moment: at or before a time, or at
/// or below a position. Per aggregate both grow with the sequence, so what it keeps of each
/// aggregate is a prefix, as a view needs.
#[derive(Debug)]
pub struct AsOfFeed<F> {
    inner: F,
    as_of: AsOf,
}

impl<F: Feed> AsOfFeed<F> {
    /// `inner`, cut at `as_of`.
    pub fn new(inner: F, as_of: AsOf) -> Self {
        Self { inner, as_of }
    }

    fn keeps(&self, event: &EventEnvelope) -> bool {
        match self.as_of {
            AsOf::Time(time) => event.recorded_at <= time,
            AsOf::Position(position) => event.cursor.position <= position,
        }
    }
}

impl<F: Feed> Feed for AsOfFeed<F> {
    async fn seek(&mut self, cursor: GlobalCursor) -> Result<(), FeedError> {
        self.inner.seek(cursor).await
    }

    /// The next events up to the moment; reads on past whole batches of later events, so an
    /// empty answer means the inner feed had nothing more.
    async fn next_batch(&mut self, max: usize) -> Result<Vec<EventEnvelope>, FeedError> {
        loop {
            let batch = self.inner.next_batch(max).await?;
            if batch.is_empty() {
                return Ok(batch);
            }
            let kept: Vec<EventEnvelope> = batch.into_iter().filter(|e| self.keeps(e)).collect();
            if !kept.is_empty() {
                return Ok(kept);
            }
        }
    }

    async fn wait(&mut self) {
        self.inner.wait().await;
    }

    async fn committed(&mut self) -> Result<(), FeedError> {
        self.inner.committed().await
    }
}

/// What a replay built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayReport {
    /// The scratch instance holding the view as of the moment.
    pub schema: Schema,
    /// Events applied.
    pub applied: u64,
    /// Events parked (the view could not apply them).
    pub parked: u64,
}

/// Builds `projection`'s view as it stood at `as_of` into a new scratch instance (never served)
/// in `pool`'s database, from `store`; `progress` gets the events handled so far.
pub async fn replay<P: Projection>(
    pool: &PgPool,
    store: &EventStore,
    projection: P,
    as_of: AsOf,
    mut progress: impl FnMut(u64),
) -> Result<ReplayReport, AuditError> {
    // Everything committed before the call is then below the feed's watermark: an empty page
    // means the end, not a writer still open elsewhere.
    crate::source::await_earlier_writers(store.pool()).await?;
    let schema = catalog::create_unserved_instance(pool, &projection).await?;
    let feed = AsOfFeed::new(StoreFeed::new(store.clone()), as_of);
    let mut projector = Projector::new(
        pool.clone(),
        projection,
        feed,
        ProjectorOptions {
            target: Target::Instance(schema.clone()),
            ..ProjectorOptions::default()
        },
    );
    let (mut applied, mut parked, mut handled) = (0, 0, 0);
    loop {
        match projector.step().await? {
            Step::Idle => break,
            Step::Committed(batch) => {
                applied += batch.applied as u64;
                parked += batch.parked as u64;
                handled += (batch.applied + batch.skipped + batch.parked) as u64;
                progress(handled);
            }
            Step::Switched { .. } => {}
        }
    }
    Ok(ReplayReport {
        schema,
        applied,
        parked,
    })
}
