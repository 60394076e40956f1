//! The event store's integration tests, one binary against the real PostgreSQL (each test
//! creates its own database, see `support`) and the embedded SQLite (each test in its own
//! temporary directory), so they run in parallel and repeatedly.

mod aborted_writers;
mod commit_order;
mod counter;
mod round_trip;
mod sqlite;
mod support;
