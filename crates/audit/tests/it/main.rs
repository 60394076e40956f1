//! The audit crate's integration tests against the real PostgreSQL (a database per test) and
//! the embedded SQLite store (a temporary directory per test).

mod export;
mod global_order;
mod history;
mod jetstream_anchor;
mod replay;
mod sqlite;
mod support;
mod tamper;
mod upcast;
