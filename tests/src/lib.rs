//! # e2e: end-to-end tests across parcelport's services
//!
//! This crate owns the tests that cross service boundaries: the ones that start several
//! processes (the API, the relay, projectors, a NATS cluster) or check the deployment as a
//! whole. Issue #14 moves the end-to-end tests that live today in each service's own `tests/`
//! here, beside a dev-only `testkit` for scratch databases, nats-server children and clusters,
//! tokens and spawned services. The library itself is empty on purpose; the tests are in
//! `tests/`:
//!
//! - `tests/deploy.rs`: `deploy/` (the image, the Compose file, the Kubernetes manifests and
//!   the NATS chart values) validated against the Compose and Kubernetes schemas and against
//!   the binaries' command lines, by `scripts/validate-deploy.py`, since no container engine
//!   runs here.
//! - `tests/layout.rs`: the dependency rule of ARCHITECTURE.md on the manifests: nothing
//!   outside `services/` depends on `services/`, the domain on no workspace crate.
//!
//! See `tests/README.md`.
