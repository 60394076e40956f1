//! # parcelport projections
//!
//! The read models, each a [`projection_runtime::Projection`]: a pure reducer from stored events
//! to changes of the view's rows, the code that writes those changes, and the query functions a
//! query API calls. Time-dependent answers (days stored, days left, interest so far) are
//! computed at query time from the facts the events carry and the domain's pure functions,
//! with `today` and the policy passed in; the tables never hold a value that goes stale.
//!
//! Map of the crate:
//! - [`storage_status`]: every parcel in the warehouse by member and state, its storage clock
//!   and fees, what must be dealt with today, counts per state (STO-1 to STO-4, PAR-1);
//! - [`billing`]: charge accounts, balances as the sum of their movements, open and overdue
//!   quotes with interest, fees by type and month, refunds due (ACC-1, ACC-6, ACC-7, PAY-2);
//! - [`audit`]: every event with its actor, command, correlation id, policy version and rule,
//!   searchable, and any aggregate's history as of any moment;
//! - [`notices`]: what to tell a member, with each aggregate's owner and each member's
//!   contact, for the notifier (`crates/notifier`);
//! - [`schedule`]: the deadlines an aggregate's own events set (PAY-2, CLM-3, CLM-6, MEM-2,
//!   MEM-7), for the business clock (`crates/scheduler`);
//! - [`decode`](mod@decode): payloads decoded with the domain's event enums, for every view;
//! - [`QueryError`] (`error.rs`): what a query can fail with;
//! - [`ViewDb`]: the backend-neutral handle every query function takes (PostgreSQL, or the
//!   embedded SQLite views file with feature `sqlite`); every query answers the same on both.
//!
//! *Architecture Invariant*: the changes of an aggregate's events touch only rows keyed by that
//! aggregate; relations between aggregates (a parcel's shipment, a quote's account) are joined
//! at query time. So a view does not depend on how a feed interleaves aggregates, only on each
//! aggregate's own order, which every feed keeps.

pub mod audit;
pub mod billing;
pub mod decode;
mod error;
pub mod notices;
pub mod schedule;
pub mod storage_status;

pub use error::QueryError;
/// The handle every query function takes: the database the views live in, PostgreSQL
/// (`ViewDb::from(pg_pool)`) or, with the `sqlite` feature, the embedded SQLite views file
/// (`ViewDb::open_sqlite(path)`). Queries answer the same on both.
pub use projection_runtime::ViewDb;

/// A page of a keyset-paginated query: the rows after `after`, at most `limit` of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<K> {
    /// The last key of the previous page; `None` for the first page.
    pub after: Option<K>,
    /// Rows at most.
    pub limit: u32,
}

impl<K> Page<K> {
    /// The first `limit` rows.
    pub fn first(limit: u32) -> Self {
        Self { after: None, limit }
    }

    /// Every row: for callers that need a whole list (the scheduler, the tests).
    pub fn all() -> Self {
        Self {
            after: None,
            limit: u32::MAX,
        }
    }
}
