//! # web
//!
//! HTTP plumbing shared by parcelport's command API and query API, so both answer alike:
//! - [`problem`]: every error is `application/problem+json` with a stable `code` and, for a
//!   business refusal, the `rule` of `DOMAIN.md` it enforces;
//! - [`auth`]: bearer tokens with roles, read from a file that holds only SHA-256 hashes;
//! - [`json`]: a JSON body extractor that turns every malformed request into a 4xx problem;
//! - [`policy`]: where the operator policy is read from at start-up;
//! - [`harden`]: the layers every router gets: a body size limit, panics caught as an opaque
//!   500 problem, and problem responses for unknown routes and methods.
//!
//! *Architecture Invariant*: nothing here knows a domain command. Services build their routes
//! on top and map their own errors into [`problem::Problem`] once.

pub mod auth;
pub mod json;
pub mod policy;
pub mod problem;

mod harden;

pub use harden::{harden, MAX_BODY_BYTES};
