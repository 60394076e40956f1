//! [`Window`]: the bookkeeping of pipelined publishing, without any I/O.
//!
//! Events enter in the store's global order. Each is either sent at once or parked behind an
//! event of the same aggregate that is still in flight; acks arrive in any order. The window
//! answers two questions: what may be sent now, and how far the checkpoint may move.
//!
//! *Invariant*: at most one event per aggregate is in flight, and an aggregate's events are
//! sent in the order they entered, each only after its predecessor's ack. A stream therefore
//! stores an aggregate's event only once its predecessor is stored (ADR 0003).
//!
//! *Invariant*: the checkpoint is the cursor of the last event of the longest acked prefix of
//! what entered: it never passes an event that was not acked. An event already in the stream
//! (found by the reconciliation, `reconcile.rs`) enters as acked and is never sent.
//!
//! *Invariant*: with the checkpoint goes a stream sequence, the *floor*, below every message of
//! the stream whose event lies after the checkpoint, so that the next reconciliation reads
//! the stream from the floor on. Each entry records a floor when it enters: the highest
//! sequence known taken then (the stream's last sequence when the attempt began, raised by
//! every ack), since whatever the relay sends later is stored above it. The `cap` keeps floors
//! at or below the first copy of each event found in the stream until they entered, and at or
//! below the attempt's start while a publish of an earlier attempt may still land. An ack at
//! or below an entry's floor (its event was stored earlier, by an earlier publish) lowers the
//! floors up to it. The checkpoint's floor is the floor of the first entry not behind it.

use event_store::GlobalCursor;
use std::collections::{HashMap, VecDeque};

/// Identifies an entered event until its ack.
pub(crate) type Slot = u64;

/// What the aggregate key of an event is: `(aggregate_type, aggregate_id)`.
pub(crate) type AggregateKey = (String, String);

#[derive(Debug)]
struct Entry<M> {
    cursor: GlobalCursor,
    aggregate: AggregateKey,
    /// The message while parked; taken when sent.
    parked: Option<M>,
    acked: bool,
    /// A stream sequence below any copy of this event stored after it entered.
    floor: u64,
}

/// Where the relay resumes: the checkpoint, and a stream sequence below every message of the
/// stream whose event lies after it (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Checkpoint {
    pub cursor: GlobalCursor,
    /// `None` when unknown: a row saved by an older relay, or a cursor an operator moved.
    pub stream_sequence: Option<u64>,
}

/// The events entered and not yet behind the checkpoint. See the module documentation.
#[derive(Debug)]
pub(crate) struct Window<M> {
    entries: VecDeque<Entry<M>>,
    /// The slot of `entries[0]`.
    first: Slot,
    /// Aggregates with an event in flight, each with the slots of its parked successors.
    busy: HashMap<AggregateKey, VecDeque<Slot>>,
    in_flight: usize,
    checkpoint: GlobalCursor,
    /// The highest stream sequence known taken.
    seen: u64,
    /// While set, no floor exceeds it.
    cap: Option<u64>,
}

impl<M> Window<M> {
    /// An empty window whose checkpoint is `checkpoint`, over a stream whose last sequence is
    /// `last`; floors stay at or below `cap` until [`Window::uncap`].
    pub fn new(checkpoint: GlobalCursor, last: u64, cap: Option<u64>) -> Self {
        Self {
            entries: VecDeque::new(),
            first: 0,
            busy: HashMap::new(),
            in_flight: 0,
            checkpoint,
            seen: last,
            cap,
        }
    }

    /// The floor of an event entering now.
    fn horizon(&self) -> u64 {
        self.cap.map_or(self.seen, |cap| cap.min(self.seen))
    }

    /// Lifts the cap: every event found in the stream entered, and every publish of an earlier
    /// attempt is accounted for.
    pub fn uncap(&mut self) {
        self.cap = None;
    }

    /// Events entered and not yet behind the checkpoint: in flight, parked, or acked after an
    /// unacked one.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Events sent and not yet acked.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Where the relay may resume: every event up to the cursor was acked, and every message
    /// of an event after it lies above the stream sequence.
    pub fn checkpoint(&self) -> Checkpoint {
        let floor = self
            .entries
            .front()
            .map_or_else(|| self.horizon(), |entry| entry.floor);
        Checkpoint {
            cursor: self.checkpoint,
            stream_sequence: Some(floor),
        }
    }

    /// Enters the next event in global order. Returns it with its slot when it may be sent now,
    /// or `None` when it is parked behind its aggregate's event in flight.
    pub fn enter(
        &mut self,
        cursor: GlobalCursor,
        aggregate: AggregateKey,
        message: M,
    ) -> Option<(Slot, M)> {
        let slot = self.first + self.entries.len() as Slot;
        let floor = self.horizon();
        if let Some(parked) = self.busy.get_mut(&aggregate) {
            parked.push_back(slot);
            self.entries.push_back(Entry {
                cursor,
                aggregate,
                parked: Some(message),
                acked: false,
                floor,
            });
            return None;
        }
        self.busy.insert(aggregate.clone(), VecDeque::new());
        self.entries.push_back(Entry {
            cursor,
            aggregate,
            parked: None,
            acked: false,
            floor,
        });
        self.in_flight += 1;
        Some((slot, message))
    }

    /// Enters the next event in global order as acked: the stream holds it already, at
    /// `sequence`. It is not sent, and its aggregate's later events need not wait for it.
    pub fn skip(&mut self, cursor: GlobalCursor, aggregate: AggregateKey, sequence: u64) {
        let floor = self.horizon().min(sequence.saturating_sub(1));
        self.entries.push_back(Entry {
            cursor,
            aggregate,
            parked: None,
            acked: true,
            floor,
        });
        self.pop_acked_prefix();
    }

    /// Records the ack of `slot`, stored at stream `sequence`: moves the checkpoint over the
    /// acked prefix and returns the aggregate's next parked event, which may be sent now.
    pub fn ack(&mut self, slot: Slot, sequence: u64) -> Option<(Slot, M)> {
        let index = usize::try_from(slot - self.first).expect("a slot of this window");
        self.seen = self.seen.max(sequence);
        let below = sequence.saturating_sub(1);
        if below < self.entries[index].floor {
            // Stored before it entered (a duplicate ack names the first copy): no entry up to
            // it may promise a floor above that copy.
            for entry in self.entries.range_mut(..=index) {
                entry.floor = entry.floor.min(below);
            }
        }
        let entry = &mut self.entries[index];
        debug_assert!(!entry.acked && entry.parked.is_none(), "acked a sent slot");
        entry.acked = true;
        self.in_flight -= 1;
        let aggregate = entry.aggregate.clone();
        let next = match self.busy.get_mut(&aggregate).and_then(VecDeque::pop_front) {
            Some(next) => {
                let index = usize::try_from(next - self.first).expect("a parked slot");
                let message = self.entries[index].parked.take().expect("parked");
                self.in_flight += 1;
                Some((next, message))
            }
            None => {
                self.busy.remove(&aggregate);
                None
            }
        };
        self.pop_acked_prefix();
        next
    }

    fn pop_acked_prefix(&mut self) {
        while self.entries.front().is_some_and(|entry| entry.acked) {
            let entry = self.entries.pop_front().expect("a front entry");
            self.checkpoint = entry.cursor;
            self.first += 1;
        }
    }

    /// Records that `slot` failed: it stays unacked, so the checkpoint stops before it.
    pub fn fail(&mut self, slot: Slot) {
        debug_assert!(slot >= self.first);
        self.in_flight -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(position: i64) -> GlobalCursor {
        GlobalCursor { txid: 1, position }
    }

    fn key(id: &str) -> AggregateKey {
        ("parcel".to_owned(), id.to_owned())
    }

    #[test]
    fn events_of_different_aggregates_are_all_sent_at_once() {
        let mut window = Window::new(GlobalCursor::START, 0, None);
        assert_eq!(window.enter(cursor(1), key("a"), "a1"), Some((0, "a1")));
        assert_eq!(window.enter(cursor(2), key("b"), "b1"), Some((1, "b1")));
        assert_eq!(window.in_flight(), 2);
    }

    #[test]
    fn a_later_event_of_an_aggregate_waits_for_its_predecessors_ack() {
        let mut window = Window::new(GlobalCursor::START, 0, None);
        assert!(window.enter(cursor(1), key("a"), "a1").is_some());
        assert_eq!(window.enter(cursor(2), key("a"), "a2"), None);
        assert_eq!(window.enter(cursor(3), key("a"), "a3"), None);
        assert_eq!(window.in_flight(), 1);
        assert_eq!(window.ack(0, 1), Some((1, "a2")));
        assert_eq!(window.ack(1, 2), Some((2, "a3")));
        assert_eq!(window.ack(2, 3), None);
        // The aggregate is free again.
        assert_eq!(window.enter(cursor(4), key("a"), "a4"), Some((3, "a4")));
    }

    #[test]
    fn the_checkpoint_moves_only_over_the_contiguous_acked_prefix() {
        let mut window = Window::new(cursor(0), 0, None);
        for (position, id) in [(1, "a"), (2, "b"), (3, "c")] {
            window.enter(cursor(position), key(id), id);
        }
        window.ack(2, 1);
        window.ack(1, 2);
        assert_eq!(
            window.checkpoint().cursor,
            cursor(0),
            "the first is not acked"
        );
        assert_eq!(window.len(), 3);
        window.ack(0, 3);
        assert_eq!(window.checkpoint().cursor, cursor(3));
        assert_eq!(window.len(), 0);
    }

    #[test]
    fn a_failed_slot_holds_the_checkpoint_back() {
        let mut window = Window::new(cursor(0), 0, None);
        window.enter(cursor(1), key("a"), "a1");
        window.enter(cursor(2), key("b"), "b1");
        window.fail(0);
        window.ack(1, 1);
        assert_eq!(window.in_flight(), 0);
        assert_eq!(window.checkpoint().cursor, cursor(0));
    }

    #[test]
    fn an_event_already_in_the_stream_is_not_sent_and_counts_as_acked() {
        // The stream holds a1 at 8 and b1 at 6, past the checkpoint; its last sequence is 9.
        let mut window = Window::new(cursor(0), 9, Some(5));
        window.skip(cursor(1), key("a"), 8);
        assert_eq!(window.checkpoint().cursor, cursor(1));
        assert_eq!(window.enter(cursor(2), key("a"), "a2"), Some((1, "a2")));
        window.skip(cursor(3), key("b"), 6);
        window.uncap();
        assert_eq!(
            window.checkpoint(),
            Checkpoint {
                cursor: cursor(1),
                stream_sequence: Some(5),
            },
            "b1, past the checkpoint, is at 6"
        );
        window.ack(1, 10);
        assert_eq!(
            window.checkpoint(),
            Checkpoint {
                cursor: cursor(3),
                stream_sequence: Some(10),
            }
        );
    }

    #[test]
    fn an_ack_naming_an_earlier_copy_lowers_the_floor() {
        let mut window = Window::new(cursor(0), 100, None);
        window.enter(cursor(1), key("a"), "a1");
        window.enter(cursor(2), key("b"), "b1");
        // b1 was stored at 40 by a publish of an earlier attempt: a duplicate ack says so.
        window.ack(1, 40);
        assert_eq!(window.checkpoint().stream_sequence, Some(39));
        window.ack(0, 101);
        assert_eq!(window.checkpoint().stream_sequence, Some(101));
    }

    /// A simulated stream: messages are positions, in stream order.
    fn check_floor(stream: &[i64], checkpoint: Checkpoint) {
        let floor = checkpoint.stream_sequence.expect("a floor");
        for (sequence, &position) in (1..).zip(stream) {
            if position > checkpoint.cursor.position {
                assert!(
                    sequence > floor,
                    "event {position} at {sequence}, past the checkpoint {checkpoint:?}, is not above the floor"
                );
            }
        }
    }

    #[test]
    fn any_order_of_reading_and_acks_keeps_every_invariant() {
        // Three aggregates, interleaved; some of their first events are in the stream already
        // (an earlier attempt stored them); events enter and acks come back in scrambled orders.
        let ids = ["a", "b", "a", "c", "a", "b", "c", "c", "b", "a", "c", "b"];
        for seed in 0..500u64 {
            let mut state = seed;
            let mut random = |below: usize| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 33) as usize % below
            };
            // A message is (aggregate id, its sequence, its position).
            let mut counts: HashMap<&str, i64> = HashMap::new();
            let events: Vec<(&str, i64, i64)> = (1..)
                .zip(ids)
                .map(|(position, id)| {
                    let sequence = counts.entry(id).or_default();
                    *sequence += 1;
                    (id, *sequence, position)
                })
                .collect();
            // The stream: two older messages, then a per-aggregate prefix of the events.
            let stored_prefix: HashMap<&str, i64> = ["a", "b", "c"]
                .into_iter()
                .map(|id| (id, random(3) as i64))
                .collect();
            let mut stream: Vec<i64> = vec![-1, 0];
            let mut found: HashMap<i64, u64> = HashMap::new();
            for &(id, sequence, position) in &events {
                if sequence <= stored_prefix[id] {
                    stream.push(position);
                    found.insert(position, stream.len() as u64);
                }
            }
            let cap = found.values().min().map(|first| first - 1);
            let mut window = Window::new(cursor(0), stream.len() as u64, cap);

            let mut next = 0;
            let mut in_flight: Vec<(Slot, (&str, i64, i64))> = Vec::new();
            let mut acked: Vec<i64> = Vec::new();
            while next < events.len() || !in_flight.is_empty() {
                if next < events.len() && (in_flight.is_empty() || random(2) == 0) {
                    let (id, sequence, position) = events[next];
                    next += 1;
                    match found.remove(&position) {
                        Some(at) => {
                            window.skip(cursor(position), key(id), at);
                            acked.push(position);
                            if found.is_empty() {
                                window.uncap();
                            }
                        }
                        None => in_flight.extend(window.enter(
                            cursor(position),
                            key(id),
                            (id, sequence, position),
                        )),
                    }
                } else {
                    let (slot, message) = in_flight.remove(random(in_flight.len()));
                    assert!(
                        in_flight.iter().all(|(_, other)| other.0 != message.0),
                        "two events of {} in flight",
                        message.0
                    );
                    stream.push(message.2);
                    acked.push(message.2);
                    in_flight.extend(window.ack(slot, stream.len() as u64));
                }
                let checkpoint = window.checkpoint();
                assert!(
                    (1..=checkpoint.cursor.position).all(|p| acked.contains(&p)),
                    "the checkpoint {checkpoint:?} passed an unacked event"
                );
                check_floor(&stream, checkpoint);
            }
            assert_eq!(window.checkpoint().cursor, cursor(ids.len() as i64));
            assert_eq!(stream.len(), ids.len() + 2, "each event stored once");
            for id in ["a", "b", "c"] {
                let order: Vec<i64> = stream
                    .iter()
                    .filter_map(|&p| events.iter().find(|e| e.2 == p && e.0 == id))
                    .map(|e| e.1)
                    .collect();
                assert_eq!(order, (1..=counts[id]).collect::<Vec<_>>());
            }
        }
    }
}
