//! The metrics every projector reports, through the `metrics` facade (the service installs the
//! exporter). Every metric carries the label `projection` (the view's name).
//!
//! Alert on `projection_parked_events > 0`: an event is waiting for an operator.

use crate::{RuntimeError, Schema, ViewDb};

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

/// Gauge: events waiting in the feed beyond those handed out (a consumer's `num_pending`);
/// set when the feed can tell.
pub const LAG_EVENTS: &str = "projection_lag_events";
/// Gauge: seconds from the `recorded_at` of the newest applied event to now, while the feed has
/// a backlog; 0 when caught up (set by the service, which samples it).
pub const LAG_SECONDS: &str = "projection_lag_seconds";

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
    metrics::describe_gauge!(LAG_EVENTS, "events waiting in the feed");
    metrics::describe_gauge!(
        LAG_SECONDS,
        metrics::Unit::Seconds,
        "age of the newest applied event while events wait"
    );
}

/// Sets [`PARKED_EVENTS`] for `projection` from the instance's table, and returns the count.
pub(crate) async fn refresh_parked(
    db: &ViewDb,
    schema: &Schema,
    projection: &'static str,
) -> Result<u64, RuntimeError> {
    let count: i64 = match db {
        ViewDb::Postgres(pool) => {
            sqlx::query_scalar(&format!(
                "SELECT count(*) FROM {schema}.parked_events
                  WHERE projection = $1 AND replayed_at IS NULL"
            ))
            .bind(projection)
            .fetch_one(pool)
            .await?
        }
        #[cfg(feature = "sqlite")]
        ViewDb::Sqlite(views) => {
            sqlx::query_scalar(&format!(
                "SELECT count(*) FROM {schema}_parked_events
                  WHERE projection = ?1 AND replayed_at IS NULL"
            ))
            .bind(projection)
            .fetch_one(views.reader())
            .await?
        }
    };
    let count = u64::try_from(count).unwrap_or(0);
    #[allow(clippy::cast_precision_loss)] // a gauge is a float; counts stay far below 2^52
    metrics::gauge!(PARKED_EVENTS, "projection" => projection).set(count as f64);
    Ok(count)
}
