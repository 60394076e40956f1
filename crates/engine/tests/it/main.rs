//! The engine's integration tests, one binary against the real PostgreSQL: each test creates
//! its own database (see `support`), so they run in parallel and repeatedly.

mod conflicts;
mod idempotency;
mod lifecycle;
mod races;
mod support;
mod use_cases;
