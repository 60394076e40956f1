//! [`Projection`]: a pure reducer from events to view changes, and the storage side that writes
//! those changes into the view's tables.

use crate::{Dialect, EventEnvelope, Schema, TableSpec, ViewConn};
use std::fmt;
use std::future::Future;

/// A read model.
///
/// [`Projection::reduce`] is pure: it reads one event and nothing else (no clock, no database),
/// so the same event always yields the same changes, and a rebuild reproduces the live view.
/// [`Projection::apply`] writes the changes of a whole batch, in order, inside the batch's
/// transaction; the runtime commits them with the applied sequences and the checkpoint.
///
/// Views that must stay correct under a feed that keeps only per-aggregate order (a bus) keep
/// one rule: the changes of an aggregate's events touch only rows that aggregate owns (keyed by
/// its id), and relations between aggregates are joined at query time. Then the tables do not
/// depend on how aggregates interleave.
pub trait Projection: Send + Sync + 'static {
    /// One change to the view's tables.
    type Change: Send + Sync + fmt::Debug + 'static;

    /// The view's stable name: `storage_status`. Its instances live in schemas
    /// `view_<name>_v<N>`.
    fn name(&self) -> &'static str;

    /// The view's tables, for hashing and bulk writes.
    fn tables(&self) -> &'static [TableSpec];

    /// The DDL that creates the view's tables (and indexes) of instance `schema` in `dialect`
    /// (on PostgreSQL the schema exists; on SQLite tables are named by [`Schema::table`]).
    fn create_tables(&self, schema: &Schema, dialect: Dialect) -> String;

    /// The changes one event makes, or why it cannot be applied (the event is then parked).
    /// Events the view does not care about yield no change.
    fn reduce(&self, event: &EventEnvelope) -> Result<Vec<Self::Change>, ReduceError>;

    /// Writes `changes`, in order, into the tables of `schema`, inside the caller's transaction,
    /// on either backend (through [`crate::rows`]).
    fn apply(
        &self,
        conn: &mut ViewConn<'_>,
        schema: &Schema,
        changes: &[Self::Change],
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
}

/// Why a reducer cannot apply an event: the event is parked with this message.
#[derive(Debug, thiserror::Error)]
pub enum ReduceError {
    /// The payload does not decode as the domain event.
    #[error("cannot decode {event_type}: {source}")]
    Decode {
        /// The event type.
        event_type: String,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
    /// An event type or version this reducer does not know.
    #[error("unknown event {event_type} version {event_version}")]
    Unknown {
        /// The event type.
        event_type: String,
        /// Its version.
        event_version: String,
    },
    /// The event decodes but breaks an assumption of the view.
    #[error("{0}")]
    Invalid(String),
}
