//! The metrics every projector reports, through the `metrics` facade (the service installs the
//! exporter). Every metric carries the label `projection` (the view's name).
//!
//! Alert on `projection_parked_events > 0`: an event is waiting for an operator.

use crate::{RuntimeError, Schema};
use sqlx::PgPool;

/// Counter: events whose changes were committed.
pub const EVENTS_APPLIED: &str = "projection_events_applied_total";
/// Counter: events delivered again after they were applied, which changed nothing.
pub const EVENTS_SKIPPED: &str = "projection_events_skipped_total";
/// Gauge: parked events not yet replayed, in the instance the projector feeds.
pub const PARKED_EVENTS: &str = "projection_parked_events";
/// Histogram: seconds from the start of a batch's transaction to its commit.
pub const BATCH_SECONDS: &str = "projection_batch_seconds";
/// Counter: batches that failed and will be retried.
pub const BATCH_FAILURES: &str = "projection_batch_failures_total";

/// Registers the descriptions of the metrics above with the installed recorder.
pub fn describe() {
    metrics::describe_counter!(EVENTS_APPLIED, "events applied to a view");
    metrics::describe_counter!(EVENTS_SKIPPED, "redelivered events skipped");
    metrics::describe_gauge!(PARKED_EVENTS, "parked events waiting for a replay");
    metrics::describe_histogram!(
        BATCH_SECONDS,
        metrics::Unit::Seconds,
        "batch transaction time"
    );
    metrics::describe_counter!(BATCH_FAILURES, "failed batches");
}

/// Sets [`PARKED_EVENTS`] for `projection` from the instance's table, and returns the count.
pub(crate) async fn refresh_parked(
    pool: &PgPool,
    schema: &Schema,
    projection: &'static str,
) -> Result<u64, RuntimeError> {
    let count: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM {schema}.parked_events WHERE projection = $1 AND replayed_at IS NULL"
    ))
    .bind(projection)
    .fetch_one(pool)
    .await?;
    let count = u64::try_from(count).unwrap_or(0);
    #[allow(clippy::cast_precision_loss)] // a gauge is a float; counts stay far below 2^52
    metrics::gauge!(PARKED_EVENTS, "projection" => projection).set(count as f64);
    Ok(count)
}
