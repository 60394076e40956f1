//! The projector service against the real thing: a fresh PostgreSQL database and a nats-server
//! child per test, a simulated history written through postgres-es, the relay running
//! in-process, and the service's `run` fed from JetStream, killed mid-stream and restarted;
//! and two processes of one view, one active, one standing by; and a projector reading on a
//! 3-node cluster while the stream's leader and another node die.

// The relay's harness, shared rather than copied: a nats-server child on a free port.
mod cluster;
#[allow(dead_code)]
mod jetstream;
mod lease;
