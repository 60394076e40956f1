//! The engine's integration tests, one binary, each test once against the real PostgreSQL
//! (in a database of its own) and once against the embedded SQLite (in a temporary directory
//! of its own), see `support`; they run in parallel and repeatedly.

#[macro_use]
mod support;

mod conflicts;
mod embedded;
mod idempotency;
mod lifecycle;
mod races;
mod use_cases;
