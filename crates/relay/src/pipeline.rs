//! [`Pipeline`]: the bookkeeping of publishing in the store's exact global order, without any
//! I/O.
//!
//! Events enter in the store's global order, and each is *planned* at the next stream
//! sequence: the first at the stream's last sequence plus one, each later one at the sequence
//! after its predecessor's. Each is sent with `Nats-Expected-Last-Sequence` set to the sequence
//! planned for the one before it, and the server stores a message only when the stream's last
//! sequence is that one. So, whatever is lost, refused or late, the stream holds a prefix of
//! the plan, and an ack at the planned sequence proves that every event planned before it is
//! stored, in order (ADR 0003).
//!
//! *Invariant*: the checkpoint is an event whose predecessors in the global order are all in
//! the stream with it: the last event acked at its planned sequence, or, after it, events the
//! stream held already ([`Pipeline::skip`]).

use event_store::GlobalCursor;
use std::collections::VecDeque;

/// Identifies an entered event until it is behind the checkpoint.
pub(crate) type Slot = u64;

/// Where the relay resumes when the stream holds none of its events: the last event it
/// confirmed in the stream, and that event's stream sequence (for operators; unknown for a
/// row saved by an older relay or moved by hand).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Checkpoint {
    pub cursor: GlobalCursor,
    pub stream_sequence: Option<u64>,
}

#[derive(Debug)]
struct Entry {
    cursor: GlobalCursor,
    /// The stream sequence it was planned at; `None` for an event the stream held already.
    planned: Option<u64>,
}

/// What an ack says about its event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Acked {
    /// Stored at its planned sequence: it and every event before it are in the stream.
    InPlace,
    /// The stream holds the event at another sequence (a duplicate ack naming an earlier copy,
    /// which only a stream written before exact order can have). Nothing planned after it can
    /// be stored: the attempt must end and the next one skip this event.
    Elsewhere,
}

/// The events entered and not yet behind the checkpoint. See the module documentation.
#[derive(Debug)]
pub(crate) struct Pipeline {
    entries: VecDeque<Entry>,
    /// The slot of `entries[0]`.
    first: Slot,
    /// The sequence the next planned event is planned at.
    next: u64,
    in_flight: usize,
    checkpoint: Checkpoint,
}

impl Pipeline {
    /// An empty pipeline resuming after `checkpoint`, over a stream whose last sequence is
    /// `last_sequence`.
    pub fn new(checkpoint: Checkpoint, last_sequence: u64) -> Self {
        Self {
            entries: VecDeque::new(),
            first: 0,
            next: last_sequence + 1,
            in_flight: 0,
            checkpoint,
        }
    }

    /// Events sent and neither acked nor failed.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// The last event known in the stream with all its predecessors.
    pub fn checkpoint(&self) -> Checkpoint {
        self.checkpoint
    }

    /// Plans the next event in global order at the next stream sequence. Returns its slot and
    /// the sequence the stream must end at for it to be stored (its predecessor's, or the
    /// stream's last at the start; 0, which the server does not check, on an empty stream).
    pub fn plan(&mut self, cursor: GlobalCursor) -> (Slot, u64) {
        let slot = self.first + self.entries.len() as Slot;
        let planned = self.next;
        self.next += 1;
        self.entries.push_back(Entry {
            cursor,
            planned: Some(planned),
        });
        self.in_flight += 1;
        (slot, planned - 1)
    }

    /// Enters the next event in global order as one the stream holds already: it is not sent,
    /// and the plan does not move.
    pub fn skip(&mut self, cursor: GlobalCursor) {
        self.entries.push_back(Entry {
            cursor,
            planned: None,
        });
        self.pop_skipped();
    }

    /// Records the ack of `slot`, which says the stream holds the event at `sequence`.
    pub fn ack(&mut self, slot: Slot, sequence: u64) -> Acked {
        self.in_flight -= 1;
        let Some(index) = slot.checked_sub(self.first) else {
            // Behind the checkpoint already: a later event's ack proved it stored.
            return Acked::InPlace;
        };
        let index = usize::try_from(index).expect("a slot of this pipeline");
        if self.entries[index].planned != Some(sequence) {
            return Acked::Elsewhere;
        }
        for entry in self.entries.drain(..=index) {
            self.checkpoint = Checkpoint {
                cursor: entry.cursor,
                stream_sequence: entry.planned.or(self.checkpoint.stream_sequence),
            };
        }
        self.first = slot + 1;
        self.pop_skipped();
        Acked::InPlace
    }

    /// Records that the publish of `slot` failed or timed out. Returns whether that matters:
    /// not when a later event's ack already proved it stored.
    pub fn fail(&mut self, slot: Slot) -> bool {
        self.in_flight -= 1;
        slot >= self.first
    }

    /// Moves the checkpoint over the skipped events at the front.
    fn pop_skipped(&mut self) {
        while self
            .entries
            .front()
            .is_some_and(|entry| entry.planned.is_none())
        {
            let entry = self.entries.pop_front().expect("a front entry");
            self.checkpoint.cursor = entry.cursor;
            self.first += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(position: i64) -> GlobalCursor {
        GlobalCursor { txid: 1, position }
    }

    fn start(last_sequence: u64) -> Pipeline {
        Pipeline::new(
            Checkpoint {
                cursor: cursor(0),
                stream_sequence: None,
            },
            last_sequence,
        )
    }

    #[test]
    fn each_event_expects_the_sequence_planned_for_the_one_before() {
        let mut pipeline = start(40);
        assert_eq!(pipeline.plan(cursor(1)), (0, 40));
        assert_eq!(pipeline.plan(cursor(2)), (1, 41));
        assert_eq!(pipeline.plan(cursor(3)), (2, 42));
        assert_eq!(pipeline.in_flight(), 3);
    }

    #[test]
    fn an_ack_in_place_moves_the_checkpoint_over_every_event_before_it() {
        let mut pipeline = start(0);
        for position in 1..=3 {
            pipeline.plan(cursor(position));
        }
        // The ack of the third came first: the stream can only have stored it after the others.
        assert_eq!(pipeline.ack(2, 3), Acked::InPlace);
        assert_eq!(
            pipeline.checkpoint(),
            Checkpoint {
                cursor: cursor(3),
                stream_sequence: Some(3)
            }
        );
        assert_eq!(pipeline.ack(0, 1), Acked::InPlace);
        assert!(!pipeline.fail(1), "the second is known stored");
        assert_eq!(pipeline.in_flight(), 0);
        assert_eq!(pipeline.checkpoint().cursor, cursor(3));
    }

    #[test]
    fn a_failure_before_any_later_ack_holds_the_checkpoint() {
        let mut pipeline = start(0);
        pipeline.plan(cursor(1));
        pipeline.plan(cursor(2));
        assert!(pipeline.fail(0));
        assert!(pipeline.fail(1));
        assert_eq!(pipeline.checkpoint().cursor, cursor(0));
    }

    #[test]
    fn an_event_stored_elsewhere_does_not_move_the_checkpoint() {
        let mut pipeline = start(10);
        pipeline.plan(cursor(1));
        pipeline.plan(cursor(2));
        assert_eq!(pipeline.ack(0, 11), Acked::InPlace);
        assert_eq!(pipeline.ack(1, 4), Acked::Elsewhere);
        assert_eq!(pipeline.checkpoint().cursor, cursor(1));
    }

    #[test]
    fn skipped_events_are_passed_only_once_everything_before_them_is_stored() {
        let mut pipeline = start(5);
        pipeline.plan(cursor(1));
        pipeline.skip(cursor(2));
        assert_eq!(pipeline.checkpoint().cursor, cursor(0));
        assert_eq!(
            pipeline.plan(cursor(3)),
            (2, 6),
            "a skip does not move the plan"
        );
        assert_eq!(pipeline.ack(0, 6), Acked::InPlace);
        assert_eq!(
            pipeline.checkpoint(),
            Checkpoint {
                cursor: cursor(2),
                stream_sequence: Some(6)
            }
        );
        assert_eq!(pipeline.ack(2, 7), Acked::InPlace);
        assert_eq!(pipeline.checkpoint().cursor, cursor(3));
    }

    /// The server's rules, simulated: a message whose id the stream holds is answered with
    /// that copy's sequence (Msg-Id deduplication); another is stored only when the stream's
    /// last sequence is the one it expects (or it expects 0). Publishes are lost, answers come
    /// back in random orders, and publishes of failed attempts still arrive during later ones;
    /// whatever happens, the stream is a prefix of the global order and the checkpoint never
    /// passes an event it does not hold.
    #[test]
    fn the_stream_is_always_a_prefix_of_the_global_order() {
        for seed in 0..500u64 {
            let mut state = seed;
            let mut random = |below: usize| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 33) as usize % below
            };
            let total = 40;
            let mut stream: Vec<i64> = Vec::new();
            // Sent and not yet handled by the server, in the order it receives them:
            // (attempt, slot, expected last sequence, position).
            let mut wire: VecDeque<(u32, Slot, u64, i64)> = VecDeque::new();
            let mut attempt = 0;
            while (stream.len() as i64) < total {
                attempt += 1;
                assert!(attempt < 1000, "seed {seed} does not converge");
                // An attempt resumes after the stream's last event.
                let resume = stream.last().copied().unwrap_or(0);
                let mut pipeline = Pipeline::new(
                    Checkpoint {
                        cursor: cursor(resume),
                        stream_sequence: None,
                    },
                    stream.len() as u64,
                );
                let mut next = resume + 1;
                let mut answers: Vec<(Slot, Option<u64>)> = Vec::new();
                let mut failed = false;
                while pipeline.in_flight() > 0 || !(failed || next > total) {
                    let action = random(4);
                    if action < 2 && !failed && next <= total && pipeline.in_flight() < 8 {
                        let (slot, expected) = pipeline.plan(cursor(next));
                        if random(10) == 0 {
                            answers.push((slot, None)); // lost on the way, timed out
                        } else {
                            wire.push_back((attempt, slot, expected, next));
                        }
                        next += 1;
                    } else if action == 2 && !wire.is_empty() {
                        let (sender, slot, expected, position) = wire.pop_front().unwrap();
                        let answer = if let Some(at) = stream.iter().position(|&p| p == position) {
                            Some(at as u64 + 1)
                        } else if expected == 0 || expected == stream.len() as u64 {
                            stream.push(position);
                            Some(stream.len() as u64)
                        } else {
                            None
                        };
                        if sender == attempt {
                            answers.push((slot, answer));
                        }
                    } else if !answers.is_empty() {
                        let (slot, answer) = answers.remove(random(answers.len()));
                        match answer {
                            Some(sequence) => {
                                assert_eq!(pipeline.ack(slot, sequence), Acked::InPlace);
                            }
                            None => failed |= pipeline.fail(slot),
                        }
                        let checkpoint = pipeline.checkpoint().cursor.position;
                        assert!(
                            checkpoint == resume || stream.contains(&checkpoint),
                            "seed {seed}: the checkpoint {checkpoint} is not in the stream"
                        );
                    }
                    let prefix: Vec<i64> = (1..=stream.len() as i64).collect();
                    assert_eq!(stream, prefix, "seed {seed}: not the global order");
                }
            }
        }
    }
}
