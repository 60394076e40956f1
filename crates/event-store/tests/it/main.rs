//! The event store's integration tests, one binary against the real PostgreSQL: each test
//! creates its own database (see `support`), so they run in parallel and repeatedly.

mod aborted_writers;
mod commit_order;
mod counter;
mod round_trip;
mod support;
