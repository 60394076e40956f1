//! # testkit
//!
//! What parcelport's tests and benchmarks share instead of copying: a [`NatsServer`] child with
//! JetStream on a free port and a store of its own, which a test can SIGKILL and restart; a
//! [`NatsCluster`] of three such nodes; and a [`ScratchDb`], a fresh PostgreSQL database
//! dropped when the test ends.
//! A dev-dependency only; nothing ships with it.

mod nats_cluster;
mod nats_server;
mod scratch_db;

pub use nats_cluster::NatsCluster;
pub use nats_server::NatsServer;
pub use scratch_db::{postgres_server, ScratchDb};
