//! [`stream_end`]: where the stream ends, read before every attempt. The stream, not the saved
//! checkpoint, says where publishing resumes: it holds a prefix of the store's global order
//! (`pipeline.rs`), so the event after its last one is the next to publish, whatever the relay
//! saved before it crashed, and whatever NATS lost in a crash of its own (LIMITS.md: an ack is
//! page cache on nats-server 2.9.10) is published again (ADR 0003).
//!
//! The last message is read by sequence (one request); messages deleted by hand, or not the
//! relay's, are stepped over backwards.

use async_nats::jetstream::stream::RawMessageErrorKind;
use async_nats::jetstream::Context;
use event_store::GlobalCursor;
use serde::Deserialize;

/// The stream's end when an attempt starts.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct StreamEnd {
    /// The stream's last sequence (0 when it never held a message).
    pub last_sequence: u64,
    /// The last event the relay published in it, if it holds any: its id, its place in the
    /// global order and its stream sequence.
    pub last_event: Option<(String, GlobalCursor, u64)>,
}

/// Reads the end of stream `stream`.
pub(crate) async fn stream_end(
    jetstream: &Context,
    stream: &str,
) -> Result<StreamEnd, async_nats::Error> {
    let stream = jetstream.get_stream(stream).await?;
    let state = stream.cached_info().state.clone();
    let mut end = StreamEnd {
        last_sequence: state.last_sequence,
        last_event: None,
    };
    if state.messages == 0 {
        return Ok(end);
    }
    let mut sequence = state.last_sequence;
    while sequence >= state.first_sequence.max(1) {
        match stream.get_raw_message(sequence).await {
            Ok(message) => {
                if let Some((id, cursor)) = stamp(&message.payload) {
                    end.last_event = Some((id, cursor, sequence));
                    return Ok(end);
                }
            }
            Err(error) if error.kind() == RawMessageErrorKind::NoMessageFound => {}
            Err(error) => return Err(error.into()),
        }
        sequence -= 1;
    }
    Ok(end)
}

/// Whether stream `stream` holds the event `id` at `sequence`: a duplicate ack names the
/// sequence of the copy the server remembers, which may have been deleted or purged since.
pub(crate) async fn holds(
    jetstream: &Context,
    stream: &str,
    sequence: u64,
    id: &str,
) -> Result<bool, async_nats::Error> {
    let stream = jetstream.get_stream_no_info(stream).await?;
    match stream.get_raw_message(sequence).await {
        Ok(message) => Ok(stamp(&message.payload).is_some_and(|(held, _)| held == id)),
        Err(error) if error.kind() == RawMessageErrorKind::NoMessageFound => Ok(false),
        Err(error) => Err(error.into()),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(stamp(b"not a cloud event").is_none());
    }
}
