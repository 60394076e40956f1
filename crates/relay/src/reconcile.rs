//! Reconciliation: before an attempt publishes from the checkpoint, it reads the stream's tail
//! to learn which events past the checkpoint the stream holds already, so that it skips them
//! instead of storing them again. Msg-Id deduplication only recognises a copy within the
//! duplicate window; this works whatever the time since the first copy (ADR 0003).
//!
//! What is read: with a saved stream sequence (the checkpoint's *floor*, `window.rs`), the
//! messages after it, up to the stream's last sequence when the scan began: every message of an
//! event after the checkpoint lies there. Without one (a row saved by an older relay, a cursor
//! an operator moved, a first start) or when the floor is past the stream's last sequence (the
//! stream was recreated or lost its tail), the stream is read backwards from its end, in
//! chunks, until `margin` messages before the last message of an event at or before the
//! checkpoint. Within one attempt, a message of an event after the checkpoint is stored at
//! most 2 × `max_pending` messages before such a message (both were in the window together);
//! the margin is twice that.
//!
//! Reading is an ephemeral pull consumer (no acks, in memory) from a start sequence, fetched
//! in batches: nats-server 2.9.10 supports it, and it reads ~100k messages/s here, where a
//! message-by-sequence request costs a round trip each.

use crate::window::Checkpoint;
use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use async_nats::jetstream::stream::Stream;
use async_nats::jetstream::Context;
use event_store::GlobalCursor;
use futures::StreamExt;
use serde::Deserialize;
use std::collections::HashMap;
use std::time::Duration;

/// Messages per fetch.
const BATCH: usize = 1000;

/// What the stream holds past the checkpoint.
#[derive(Debug, Default)]
pub(crate) struct Reconciled {
    /// The ids of the events past the checkpoint that the stream holds, each with the stream
    /// sequence of its first copy.
    pub stored: HashMap<String, u64>,
    /// The latest of their cursors: once the store's tail passes it, an id still in `stored`
    /// is not one of this store's events.
    pub last_stored: Option<GlobalCursor>,
    /// The stream's last sequence when the scan began.
    pub last: u64,
    /// Messages read.
    pub scanned: u64,
}

impl Reconciled {
    /// The lowest sequence any event in [`Reconciled::stored`] is at.
    pub fn first_stored(&self) -> Option<u64> {
        self.stored.values().min().copied()
    }
}

/// Reads the tail of stream `stream` past `from` (see the module documentation).
pub(crate) async fn reconcile(
    jetstream: &Context,
    stream: &str,
    from: Checkpoint,
    margin: u64,
) -> Result<Reconciled, async_nats::Error> {
    let stream = jetstream.get_stream(stream).await?;
    let state = stream.cached_info().state.clone();
    let mut scan = Scan::new(from.cursor);
    scan.reconciled.last = state.last_sequence;
    if state.messages == 0 {
        return Ok(scan.reconciled);
    }
    let first = state.first_sequence;
    let last = state.last_sequence;
    match from.stream_sequence {
        Some(floor) if floor <= last => {
            if floor < last {
                read(&stream, (floor + 1).max(first), last, &mut scan).await?;
            }
        }
        _ => {
            let margin = margin.max(1);
            let mut high = last;
            loop {
                let low = high.saturating_sub(margin - 1).max(first);
                read(&stream, low, high, &mut scan).await?;
                let enough = scan
                    .last_behind
                    .is_some_and(|behind| low <= behind.saturating_sub(margin));
                if enough || low <= first {
                    break;
                }
                high = low - 1;
            }
        }
    }
    Ok(scan.reconciled)
}

/// Reads messages `low..=high` (those still in the stream) into `scan`.
async fn read(
    stream: &Stream,
    low: u64,
    high: u64,
    scan: &mut Scan,
) -> Result<(), async_nats::Error> {
    let consumer = stream
        .create_consumer(pull::Config {
            description: Some("parcelport relay reconciliation".to_owned()),
            deliver_policy: DeliverPolicy::ByStartSequence {
                start_sequence: low,
            },
            ack_policy: AckPolicy::None,
            memory_storage: true,
            num_replicas: 1,
            inactive_threshold: Duration::from_secs(60),
            ..Default::default()
        })
        .await?;
    let name = consumer.cached_info().name.clone();
    let result = async {
        loop {
            let mut batch = consumer.fetch().max_messages(BATCH).messages().await?;
            let mut received = false;
            while let Some(message) = batch.next().await {
                let message = message?;
                received = true;
                let info = message.info()?;
                if info.stream_sequence > high {
                    return Ok(());
                }
                scan.see(info.stream_sequence, &message.payload);
                if info.stream_sequence == high || info.pending == 0 {
                    return Ok(());
                }
            }
            if !received {
                // A fetch that does not wait returns nothing once nothing is pending.
                let pending = consumer.get_info().await?.num_pending;
                if pending == 0 {
                    return Ok(());
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    .await;
    // Best effort: the server drops it after `inactive_threshold` anyway.
    let _ = stream.delete_consumer(&name).await;
    result
}

/// The fields of a published CloudEvent that place it in the store's global order.
#[derive(Deserialize)]
struct Stamp {
    id: String,
    txid: String,
    position: String,
}

/// Where a message's event lies in the global order, if it is one the relay published.
fn stamp(payload: &[u8]) -> Option<(String, GlobalCursor)> {
    let stamp: Stamp = serde_json::from_slice(payload).ok()?;
    let cursor = GlobalCursor {
        txid: stamp.txid.parse().ok()?,
        position: stamp.position.parse().ok()?,
    };
    Some((stamp.id, cursor))
}

/// The messages read so far.
struct Scan {
    from: GlobalCursor,
    reconciled: Reconciled,
    /// The highest sequence of a message whose event is at or before `from`.
    last_behind: Option<u64>,
}

impl Scan {
    fn new(from: GlobalCursor) -> Self {
        Self {
            from,
            reconciled: Reconciled::default(),
            last_behind: None,
        }
    }

    /// Records the message at `sequence`. Messages the relay did not publish are ignored.
    fn see(&mut self, sequence: u64, payload: &[u8]) {
        self.reconciled.scanned += 1;
        let Some((id, cursor)) = stamp(payload) else {
            return;
        };
        if cursor > self.from {
            let first = self.reconciled.stored.entry(id).or_insert(sequence);
            *first = (*first).min(sequence);
            let last = &mut self.reconciled.last_stored;
            *last = Some(last.map_or(cursor, |last| last.max(cursor)));
        } else {
            self.last_behind = Some(self.last_behind.map_or(sequence, |s| s.max(sequence)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(id: &str, txid: u64, position: i64) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "specversion": "1.0",
            "id": id,
            "data": { "arrived": { "weight": 1 } },
            "sequence": "1",
            "position": position.to_string(),
            "txid": txid.to_string(),
        }))
        .unwrap()
    }

    #[test]
    fn only_events_past_the_checkpoint_are_collected_with_their_first_copy() {
        let mut scan = Scan::new(GlobalCursor {
            txid: 10,
            position: 5,
        });
        scan.see(1, &body("before", 10, 5));
        scan.see(2, &body("after", 10, 6));
        scan.see(3, &body("later-transaction", 11, 1));
        scan.see(4, &body("earlier-transaction", 9, 99));
        scan.see(5, &body("after", 10, 6));
        scan.see(6, b"not a cloud event");
        assert_eq!(scan.reconciled.scanned, 6);
        let mut stored: Vec<(&str, u64)> = scan
            .reconciled
            .stored
            .iter()
            .map(|(id, at)| (id.as_str(), *at))
            .collect();
        stored.sort();
        assert_eq!(stored, [("after", 2), ("later-transaction", 3)]);
        assert_eq!(scan.reconciled.first_stored(), Some(2));
        assert_eq!(
            scan.reconciled.last_stored,
            Some(GlobalCursor {
                txid: 11,
                position: 1
            })
        );
        assert_eq!(scan.last_behind, Some(4));
    }

    #[test]
    fn decimal_string_extensions_are_read_as_the_relay_writes_them() {
        let event = serde_json::json!({
            "id": "e",
            "txid": u64::MAX.to_string(),
            "position": i64::MAX.to_string(),
        });
        let (id, cursor) = stamp(&serde_json::to_vec(&event).unwrap()).unwrap();
        assert_eq!(id, "e");
        assert_eq!(cursor.txid, u64::MAX);
        assert_eq!(cursor.position, i64::MAX);
        assert!(stamp(br#"{"id": "e", "txid": 5, "position": "1"}"#).is_none());
    }
}
