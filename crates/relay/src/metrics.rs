//! The relay's metrics, through the `metrics` facade: the service installs an exporter (none
//! yet); without one they cost a branch.

/// Counter: events stored by the stream for the first time.
pub const EVENTS_PUBLISHED: &str = "relay_events_published_total";
/// Counter: re-published events the stream recognised by Msg-Id and dropped.
pub const DUPLICATES: &str = "relay_duplicates_total";
/// Counter: events past the checkpoint that the reconciliation found in the stream, and the
/// relay therefore did not send again.
pub const RECONCILED: &str = "relay_reconciled_total";
/// Histogram: seconds an attempt spent reading the stream's tail before publishing.
pub const RECONCILE_SECONDS: &str = "relay_reconcile_seconds";
/// Counter: publishes that failed or timed out (each makes the relay drain and retry).
pub const PUBLISH_FAILURES: &str = "relay_publish_failures_total";
/// Histogram: seconds from handing a publish to the client to its ack.
pub const PUBLISH_SECONDS: &str = "relay_publish_seconds";
/// Gauge: committed events after the leader's checkpoint.
pub const LAG_EVENTS: &str = "relay_lag_events";
/// Gauge: 1 while this replica holds the lease.
pub const LEADER: &str = "relay_leader";
