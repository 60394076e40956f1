//! # parcelport's business clock
//!
//! About a fifth of the rules happen because time passed: an unpaid quote is held (PAY-2), a
//! claim not answered in time is escalated (CLM-3), an exchange lapses (CLM-6), an identity
//! document expires (MEM-2), Auto Ship lapses (MEM-7), storage notices go out and parcels past
//! their limit are marked disposable (STO-2), extended storage is charged (STO-3). The
//! scheduler issues each through the engine when it falls due, exactly once, as actor
//! `scheduler` with the rule id in every event's metadata.
//!
//! Map of the crate:
//! - [`BusinessClock`] (`clock.rs`): the one clock a server reads, real or simulated;
//! - [`DueAction`] (`due.rs`): one action, its rule and its idempotency key;
//! - [`Fire`] (`fire.rs`): how an action reaches the engine (implemented for `engine::Engine`);
//! - [`Journal`] (`journal.rs`): what was done, beside the views;
//! - [`Scheduler`] (`scheduler.rs`): ticks, the simulated clock's advance, the loop;
//! - [`routes`] (`http.rs`): `/v1/clock`, `/v1/clock/advance`, `/v1/schedule`;
//! - [`while_leading`] (`lease.rs`): one active scheduler (or notifier) among replicas, by a
//!   [`lease::Lease`].
//!
//! What falls due comes from views fed like any projector: `projections::schedule` (deadlines
//! an aggregate's own events set) and `projections::storage_status` (the storage clock).
//!
//! *Architecture Invariant*: exactly once rests on the engine, not on the scheduler's memory.
//! Each action's idempotency key is derived from (rule, action, aggregate, subject, due date);
//! the engine claims it before deciding and stores the result, refusals included, so a crash,
//! a restart, a second replica or a rebuilt view that fires an action again gets the first
//! result and appends nothing. The journal only spares the engine the call.

mod clock;
mod due;
mod fire;
mod http;
mod journal;
mod lease;
mod scheduler;

pub use clock::{BusinessClock, ClockError};
pub use due::{DueAction, Kind};
pub use fire::{context, Fire, Fired, ACTOR};
pub use http::{openapi, routes, Advance, ClockView, ScheduleView};
pub use journal::{Entry, Journal, Outcome};
pub use lease::while_leading;
pub use scheduler::{AdvanceReport, Scheduler, SchedulerError, SchedulerOptions, TickReport};
