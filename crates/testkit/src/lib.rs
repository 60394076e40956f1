//! # testkit
//!
//! What parcelport's tests and benchmarks share instead of copying: a [`NatsServer`] child with
//! JetStream on a free port and a store of its own, which a test can SIGKILL and restart.
//! A dev-dependency only; nothing ships with it.

mod nats_server;

pub use nats_server::NatsServer;
