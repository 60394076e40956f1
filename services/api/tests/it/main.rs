//! The command API's integration tests, one binary against the real PostgreSQL: each test
//! gets its own database and router from `support::spawn_app`, so they run in parallel.

mod auth;
mod bodies;
mod checks;
mod coverage;
mod demo;
mod happy_path;
mod idempotency;
mod openapi;
mod probes;
mod races;
mod sqlite;
mod support;
