//! The projections' integration tests, one binary against the real PostgreSQL: each test
//! creates its own database (see `support`), fills it with a simulated history played through
//! the domain and `postgres-es`, and projects it.

mod billing_balance;
mod exactly_once;
mod poison;
mod queries;
mod rebuild;
mod support;
