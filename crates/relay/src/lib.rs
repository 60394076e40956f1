//! # parcelport outbox relay
//!
//! Tails the event store in its commit-safe global order and publishes every event to a NATS
//! JetStream stream as a CloudEvent, moving its checkpoint only past events the stream acked.
//! Run it with [`run`]; the `parcelport-relay` binary is a thin `main` over it.
//!
//! Map of the crate, in the order an event goes through it:
//! - `leader.rs`: the replica's life. It follows until it takes the lease, then leads: reads
//!   the checkpoint, creates or updates the stream, publishes; it follows again when the lease
//!   is lost;
//! - `lease.rs`: the lease, a PostgreSQL session advisory lock on a dedicated connection, which
//!   is also the only connection that writes the checkpoint (`relay_checkpoints`);
//! - `publisher.rs`: the publishing loop: tail, pipeline, JetStream, and the drain-and-retry
//!   from the stream's end after any publish failure;
//! - `stream_end.rs`: before each attempt, the stream's last event, after which publishing
//!   resumes;
//! - `pipeline.rs`: the pure bookkeeping of publishing in exact order: each event planned at
//!   a stream sequence and sent expecting its predecessor's, and the checkpoint;
//! - [`rewind()`] (`rewind.rs`): moves a stopped relay's checkpoint back, to fill a new or
//!   purged stream from an earlier event;
//! - [`CloudEvent`] (`cloud_event.rs`) and [`subject_for`] (`subject.rs`): the wire contract;
//! - [`stream_config`] (`stream.rs`): the stream and its duplicate window;
//! - [`hints`]: commit hints on core NATS (`hints.parcelport.committed`), which wake tailing
//!   readers in other processes; the relay's own tail is woken by them;
//! - `health.rs` and `metrics.rs`: logging once per state change, backoff, metric names.
//!
//! *Architecture Invariant*: the relay never blocks a command. It only reads `events` (and
//! writes its own `relay_checkpoints`); if NATS is down, commands commit and the relay
//! catches up later from its checkpoint.
//!
//! *Architecture Invariant*: the stream holds the store's events in the store's global order,
//! each once, whatever fails and for however long: see `docs/adr/0003-relay-to-jetstream.md`
//! (and its limits: the stream is the relay's alone).

mod cloud_event;
mod config;
mod error;
mod health;
pub mod hints;
mod leader;
mod lease;
pub mod metrics;
mod pipeline;
mod publisher;
mod rewind;
mod stream;
mod stream_end;
mod subject;

pub use cloud_event::{CloudEvent, DATA_CONTENT_TYPE, INSTANCE_HEADER, MESSAGE_CONTENT_TYPE};
pub use config::RelayConfig;
pub use error::RelayError;
pub use rewind::{rewind, RewindError, Rewound};
pub use stream::stream_config;
pub use subject::{subject_for, token, SUBJECT_PREFIX};

use std::future::Future;
use tokio::sync::watch;

/// Runs one relay replica until `shutdown` completes: follows, leads when it takes the lease,
/// and on shutdown stops taking events, waits for the publishes in flight, saves the
/// checkpoint and releases the lease.
///
/// Returns an error only for what retrying cannot fix (a malformed URL); outages of NATS or
/// PostgreSQL are retried and logged once per state change. Dropping the future (aborting its
/// task) stops the replica at once, like a crash: its lease connection closes and another
/// replica takes over from the last saved checkpoint.
pub async fn run(
    config: RelayConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), RelayError> {
    let (stop, stopped) = watch::channel(false);
    let relay = leader::relay(config, Stop(stopped));
    let signal = async {
        shutdown.await;
        let _ = stop.send(true);
        std::future::pending::<()>().await;
    };
    tokio::select! {
        result = relay => result,
        () = signal => unreachable!("the signal future never completes"),
    }
}

/// The shutdown request, as every loop of the relay sees it.
#[derive(Debug, Clone)]
pub(crate) struct Stop(watch::Receiver<bool>);

impl Stop {
    /// Completes once shutdown was requested.
    pub async fn stopped(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    pub fn is_stopped(&self) -> bool {
        *self.0.borrow()
    }
}
