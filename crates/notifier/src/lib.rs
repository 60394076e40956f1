//! # parcelport's notifier
//!
//! Tells members what the sources promise to tell them: a parcel's arrival (PAR-3), inspection
//! findings (INS-3), storage notices and the disposable mark (STO-2), quotes and their hold
//! (FEE-1, PAY-2), shipping with tracking (SHP-1), claim answers (CLM-3, CLM-5), refunds
//! (ACC-7), payment reminders and dunning notices (ACC-6), by e-mail (SMTP) and signed webhooks, in Japanese or English.
//!
//! Map of the crate:
//! - [`templates`]: the words of each notice, per language;
//! - [`Outbox`] (`outbox.rs`): the notices waiting per channel (the notices view joined with
//!   owners and contacts, `projections::notices`) and `notifier_deliveries`, the record of
//!   every attempt, beside the views;
//! - [`Channel`] (`channel.rs`): SMTP through `lettre`, webhooks signed as Standard Webhooks;
//! - [`Notifier`] (`notifier.rs`): rounds of delivery with retries and backoff;
//! - [`NotifierFlags`] (`flags.rs`): the channel flags `parcelport serve` and
//!   `parcelport-notifier` share.
//!
//! What to tell is a view fed like any projector (the store feed in `parcelport serve`), so
//! the notifier subscribes to the events exactly as an internal service would, and a rebuild
//! of the view sends nothing again: deliveries are recorded by notice id outside the view.
//!
//! *Architecture Invariant*: a notice is delivered to a channel until one attempt is recorded
//! as sent (or the attempts run out); a crash between a delivery and its record repeats that
//! one delivery, with the same id (`Message-ID`, `webhook-id`) for the receiver to deduplicate.

mod channel;
mod flags;
mod notifier;
mod outbox;
pub mod templates;

pub use channel::{sign, Channel, ChannelError};
pub use flags::{ChannelConfig, NotifierFlags};
pub use notifier::{Notifier, NotifierError, NotifierOptions, Round};
pub use outbox::{Delivery, Outbox, Pending, State};
pub use templates::Language;
