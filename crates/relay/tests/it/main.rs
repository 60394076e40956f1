//! The relay's integration tests, one binary against the real PostgreSQL and a nats-server
//! child process per test: each test has its own database, server port and store directory,
//! so tests run in parallel and can kill their server without disturbing anyone.

mod beyond_window;
mod cluster;
mod delivery;
mod hints;
mod nats_outage;
mod replicas;
mod restart;
mod subscribers;
mod support;
