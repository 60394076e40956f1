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
//! what entered: it never passes an event that was not acked.

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
}

impl<M> Window<M> {
    /// An empty window whose checkpoint is `checkpoint`.
    pub fn new(checkpoint: GlobalCursor) -> Self {
        Self {
            entries: VecDeque::new(),
            first: 0,
            busy: HashMap::new(),
            in_flight: 0,
            checkpoint,
        }
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

    /// The cursor the relay may resume from: every event up to it was acked.
    pub fn checkpoint(&self) -> GlobalCursor {
        self.checkpoint
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
        if let Some(parked) = self.busy.get_mut(&aggregate) {
            parked.push_back(slot);
            self.entries.push_back(Entry {
                cursor,
                aggregate,
                parked: Some(message),
                acked: false,
            });
            return None;
        }
        self.busy.insert(aggregate.clone(), VecDeque::new());
        self.entries.push_back(Entry {
            cursor,
            aggregate,
            parked: None,
            acked: false,
        });
        self.in_flight += 1;
        Some((slot, message))
    }

    /// Records the ack of `slot`: moves the checkpoint over the acked prefix and returns the
    /// aggregate's next parked event, which may be sent now.
    pub fn ack(&mut self, slot: Slot) -> Option<(Slot, M)> {
        let index = usize::try_from(slot - self.first).expect("a slot of this window");
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
        while self.entries.front().is_some_and(|entry| entry.acked) {
            let entry = self.entries.pop_front().expect("a front entry");
            self.checkpoint = entry.cursor;
            self.first += 1;
        }
        next
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
        let mut window = Window::new(GlobalCursor::START);
        assert_eq!(window.enter(cursor(1), key("a"), "a1"), Some((0, "a1")));
        assert_eq!(window.enter(cursor(2), key("b"), "b1"), Some((1, "b1")));
        assert_eq!(window.in_flight(), 2);
    }

    #[test]
    fn a_later_event_of_an_aggregate_waits_for_its_predecessors_ack() {
        let mut window = Window::new(GlobalCursor::START);
        assert!(window.enter(cursor(1), key("a"), "a1").is_some());
        assert_eq!(window.enter(cursor(2), key("a"), "a2"), None);
        assert_eq!(window.enter(cursor(3), key("a"), "a3"), None);
        assert_eq!(window.in_flight(), 1);
        assert_eq!(window.ack(0), Some((1, "a2")));
        assert_eq!(window.ack(1), Some((2, "a3")));
        assert_eq!(window.ack(2), None);
        // The aggregate is free again.
        assert_eq!(window.enter(cursor(4), key("a"), "a4"), Some((3, "a4")));
    }

    #[test]
    fn the_checkpoint_moves_only_over_the_contiguous_acked_prefix() {
        let mut window = Window::new(cursor(0));
        for (position, id) in [(1, "a"), (2, "b"), (3, "c")] {
            window.enter(cursor(position), key(id), id);
        }
        window.ack(2);
        window.ack(1);
        assert_eq!(window.checkpoint(), cursor(0), "the first is not acked yet");
        assert_eq!(window.len(), 3);
        window.ack(0);
        assert_eq!(window.checkpoint(), cursor(3));
        assert_eq!(window.len(), 0);
    }

    #[test]
    fn a_failed_slot_holds_the_checkpoint_back() {
        let mut window = Window::new(cursor(0));
        window.enter(cursor(1), key("a"), "a1");
        window.enter(cursor(2), key("b"), "b1");
        window.fail(0);
        window.ack(1);
        assert_eq!(window.in_flight(), 0);
        assert_eq!(window.checkpoint(), cursor(0));
    }

    #[test]
    fn any_ack_order_keeps_both_invariants() {
        // Three aggregates, interleaved; in-flight events acked in scrambled orders.
        let ids = ["a", "b", "a", "c", "a", "b", "c", "c"];
        for seed in 0..50u64 {
            let mut window = Window::new(cursor(0));
            // A message is (aggregate id, its sequence, its position).
            let mut in_flight: Vec<(Slot, (&str, i64, i64))> = Vec::new();
            let mut acked: Vec<(&str, i64, i64)> = Vec::new();
            let mut counts: HashMap<&str, i64> = HashMap::new();
            for (position, id) in (1..).zip(ids) {
                let sequence = counts.entry(id).or_default();
                *sequence += 1;
                let message = (id, *sequence, position);
                in_flight.extend(window.enter(cursor(position), key(id), message));
            }
            let mut state = seed;
            while !in_flight.is_empty() {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let pick = (state >> 33) as usize % in_flight.len();
                let (slot, message) = in_flight.remove(pick);
                assert!(
                    in_flight.iter().all(|(_, other)| other.0 != message.0),
                    "two events of {} in flight",
                    message.0
                );
                acked.push(message);
                in_flight.extend(window.ack(slot));
                let checkpoint = window.checkpoint().position;
                assert!(
                    (1..=checkpoint).all(|p| acked.iter().any(|acked| acked.2 == p)),
                    "the checkpoint {checkpoint} passed an unacked event"
                );
            }
            assert_eq!(window.checkpoint(), cursor(ids.len() as i64));
            for id in ["a", "b", "c"] {
                let order: Vec<i64> = acked
                    .iter()
                    .filter(|acked| acked.0 == id)
                    .map(|acked| acked.1)
                    .collect();
                assert_eq!(order, (1..=counts[id]).collect::<Vec<_>>());
            }
        }
    }
}
