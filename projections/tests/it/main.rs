//! The projections' integration tests, one binary against the real PostgreSQL: each test
//! creates its own database (see `support`), fills it with a simulated history played through
//! the domain and `postgres-es`, and projects it, into views on PostgreSQL and, for the tests
//! run `on_each_backend!`, into a SQLite views file too.

#[macro_use]
mod support;
mod billing_balance;
mod exactly_once;
mod global_order;
mod poison;
mod queries;
mod rebuild;
mod same_answers;
