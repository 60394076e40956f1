//! The JetStream stream the relay publishes to, created or updated at the start of every
//! leadership term.

use crate::subject::SUBJECT_PREFIX;
use async_nats::jetstream::stream::{Config, DiscardPolicy, RetentionPolicy, StorageType};
use std::time::Duration;

/// The stream's configuration: every `parcelport.>` subject, kept on file without limits
/// (subscribers and re-publishing need the whole history; trimming is a later decision), and
/// Msg-Id deduplication over `duplicate_window`.
///
/// The duplicate window bounds how long after an event was first stored a re-publish of it is
/// still recognised; ADR 0003 gives the events that may be re-published and when. Ten minutes
/// covers a relay crash and restart, a leader hand-over (1 s retry plus up to ~25 s for the
/// server to drop a silent leader's session) and NATS restarts, with room to spare; the server
/// keeps one map entry per message in the window (about 600k entries at 1k events/s).
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
