//! The JetStream stream the relay publishes to, created or updated at the start of every
//! leadership term.

use crate::subject::SUBJECT_PREFIX;
use async_nats::jetstream::stream::{Config, DiscardPolicy, RetentionPolicy, StorageType};
use std::time::Duration;

/// The stream's configuration: every `parcelport.>` subject, kept on file without limits
/// (subscribers and re-publishing need the whole history; trimming is a later decision), and
/// Msg-Id deduplication over `duplicate_window`.
///
/// The relay does not rely on the duplicate window to store each event once: every publish
/// expects the stream to end where its predecessor was planned (`pipeline.rs`), so a copy is
/// refused wherever it comes from. Msg-Id turns the refusal of a copy that raced its twin (a
/// stale publish of a leader that lost the lease, a late one of a failed attempt) into a
/// duplicate ack, and keeps the very first event of an empty stream, which the server cannot
/// check by sequence, from being stored twice. The server keeps one map entry per message in
/// the window (about 600k entries at 1k events/s for ten minutes). ADR 0003.
pub fn stream_config(name: &str, replicas: usize, duplicate_window: Duration) -> Config {
    Config {
        name: name.to_owned(),
        description: Some("parcelport events, one message per stored event".to_owned()),
        subjects: vec![format!("{SUBJECT_PREFIX}.>")],
        storage: StorageType::File,
        retention: RetentionPolicy::Limits,
        discard: DiscardPolicy::Old,
        num_replicas: replicas,
        duplicate_window,
        ..Config::default()
    }
}
