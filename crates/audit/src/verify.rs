//! [`Verifier`]: every aggregate's hash chain and every checkpoint re-checked in one pass over
//! the global order, and the typed [`VerifyReport`] of what is broken and where.
//!
//! Per event: its sequence must follow the aggregate's previous one (1 for the first), and its
//! stored hash must be the hash of its content chained to the previous stored hash. After a
//! break the verifier resynchronizes on the stored values, so one altered row is one finding,
//! not a cascade. Given the writers' public keys, every event must carry a valid signature by
//! one of them from the first signed event on (`event_store::authorship`). Per checkpoint: the count and the Merkle root of the stored hashes up to its
//! bound must be the recorded ones, and a signature must be valid.

use crate::merkle::Peaks;
use crate::source::{self, ChainedEvent};
use crate::{checkpoint, AuditError, Checkpoint};
use ed25519_dalek::VerifyingKey;
use event_store::authorship::{claim, settle, AuthoredFields, Authorship, Claim};
use event_store::chain::{Hash32, GENESIS};
use event_store::reseal::Reseal;
use event_store::sqlite::{ChainUpgrade, SqliteEventStore};
use futures::{Stream, TryStreamExt};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::collections::{HashMap, VecDeque};

/// Where an event is: its aggregate, its sequence there and its global position.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EventAt {
    /// The aggregate type.
    pub aggregate_type: String,
    /// The aggregate id.
    pub aggregate_id: String,
    /// The sequence stored in the row.
    pub sequence: i64,
    /// The global position stored in the row.
    pub position: i64,
}

impl std::fmt::Display for EventAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} sequence {} (position {})",
            self.aggregate_type, self.aggregate_id, self.sequence, self.position
        )
    }
}

/// One broken link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Break {
    /// The row's content (or its stored hash) is not what was chained: edited, forged, or
    /// moved to another sequence or position.
    Altered {
        /// The row.
        at: EventAt,
    },
    /// The row has no chain hash (NULL, or not 32 bytes): whatever it holds is unproven. The
    /// verifier carries on from the hash its content would have, so the next event's link
    /// tells whether the content was changed too.
    Unhashed {
        /// The row.
        at: EventAt,
    },
    /// The row's sequence is not the one that follows its aggregate's previous event: events
    /// before it are missing, or rows were reordered.
    OutOfSequence {
        /// The row.
        at: EventAt,
        /// The sequence that should be here.
        expected: i64,
    },
    /// The events up to a checkpoint's bound are not the ones it recorded: some were deleted,
    /// inserted behind the bound, or their hashes changed.
    CheckpointMismatch {
        /// The checkpoint's id.
        checkpoint: i64,
        /// Events it covers.
        recorded_count: u64,
        /// Events found up to its bound.
        found_count: u64,
    },
    /// A checkpoint anchored outside the database is no longer recorded in it: checkpoint
    /// rows were deleted or changed.
    CheckpointDeleted {
        /// The anchored checkpoint's id.
        checkpoint: i64,
    },
    /// A checkpoint's signature does not verify.
    BadSignature {
        /// The checkpoint's id.
        checkpoint: i64,
    },
    /// (Exports) the checkpoint is unsigned, or signed by another key than the trusted one.
    UntrustedKey {
        /// The checkpoint's id.
        checkpoint: i64,
    },
    /// The event carries no writer's signature although events before it do: it was not
    /// appended by parcelport (an `INSERT` through the ordinary path, a row added by hand).
    Unsigned {
        /// The row.
        at: EventAt,
    },
    /// The event's signature does not match it: it was changed after signing, or forged.
    ForgedSignature {
        /// The row.
        at: EventAt,
        /// The key id the signature names.
        key_id: String,
    },
    /// The event is signed by a key that is not among the trusted writers' keys.
    UnknownWriter {
        /// The row.
        at: EventAt,
        /// The key id the signature names.
        key_id: String,
    },
    /// A recorded reseal is not signed by a trusted writer (or its signature does not
    /// verify): the old hashes it lists are not believed, so checkpoints from before it are
    /// checked against the hashes as they are now.
    UntrustedReseal {
        /// The reseal's id.
        reseal: i64,
    },
    /// (Exports) the event's Merkle proof does not lead to the checkpoint's root.
    NotInCheckpoint {
        /// The event.
        at: EventAt,
        /// The checkpoint's id.
        checkpoint: i64,
    },
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Break::Altered { at } => write!(f, "altered: {at} does not match its chain hash"),
            Break::Unhashed { at } => write!(f, "unhashed: {at} has no chain hash"),
            Break::OutOfSequence { at, expected } => write!(
                f,
                "out of sequence: {at}, expected sequence {expected} (missing or reordered)"
            ),
            Break::CheckpointMismatch {
                checkpoint,
                recorded_count,
                found_count,
            } => write!(
                f,
                "checkpoint {checkpoint}: the Merkle root differs ({recorded_count} events \
                 recorded, {found_count} found up to its bound)"
            ),
            Break::CheckpointDeleted { checkpoint } => write!(
                f,
                "checkpoint {checkpoint}: anchored outside the database, but no longer recorded in it"
            ),
            Break::BadSignature { checkpoint } => {
                write!(f, "checkpoint {checkpoint}: the signature does not verify")
            }
            Break::UntrustedKey { checkpoint } => write!(
                f,
                "checkpoint {checkpoint}: not signed by the trusted public key"
            ),
            Break::Unsigned { at } => {
                write!(f, "unsigned: {at} was not appended by parcelport (no writer's signature)")
            }
            Break::ForgedSignature { at, key_id } => write!(
                f,
                "forged: {at} does not match its signature by key {key_id}"
            ),
            Break::UnknownWriter { at, key_id } => write!(
                f,
                "unknown writer: {at} is signed by key {key_id}, not a trusted one"
            ),
            Break::UntrustedReseal { reseal } => write!(
                f,
                "reseal {reseal}: not signed by a trusted writer, so the hashes it says it \
                 replaced are not believed"
            ),
            Break::NotInCheckpoint { at, checkpoint } => write!(
                f,
                "{at}: its Merkle proof does not lead to checkpoint {checkpoint}'s root"
            ),
        }
    }
}

/// What a verification found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// Events checked.
    pub events: u64,
    /// Distinct aggregates seen.
    pub aggregates: u64,
    /// Checkpoints checked.
    pub checkpoints: u64,
    /// Every break, in the global order where it was found.
    pub breaks: Vec<Break>,
    /// Events checked against the writers' keys and found signed by one (zero when no key
    /// was given).
    #[serde(default)]
    pub signed: u64,
    /// Events without a signature before the first signed one: written before the store's
    /// writer signed (their authorship rests on the checkpoints only).
    #[serde(default)]
    pub unsigned_before_signing: u64,
    /// (Embedded store) the recorded `chain-legacy` upgrades: the events they chained were
    /// hashed after the fact, so their chain proves nothing changed since the upgrade only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chained_after_the_fact: Vec<ChainUpgrade>,
    /// The recorded reseals (`parcelport audit seal-personal-data`): personal data written in
    /// plain text, sealed after the fact. Checkpoints from before one are checked against the
    /// hashes it vouches for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resealed: Vec<ResealSummary>,
}

/// A recorded reseal, as a report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResealSummary {
    /// Its id.
    pub id: i64,
    /// When it ran.
    pub resealed_at: chrono::DateTime<chrono::Utc>,
    /// Events whose payload it sealed.
    pub rewritten: u64,
    /// Events whose chain hash it changed (the rewritten ones and every later one of their
    /// aggregates).
    pub rehashed: u64,
}

/// The hashes as they were before a reseal, for the checkpoints recorded then.
#[derive(Debug, Default)]
struct Before {
    /// The old hash by global position, of this reseal and every later one (an earlier
    /// reseal's old hash wins: it is older).
    old: HashMap<i64, Hash32>,
    /// The Merkle peaks over those hashes.
    peaks: Peaks,
}

impl VerifyReport {
    /// Nothing broken.
    pub fn is_clean(&self) -> bool {
        self.breaks.is_empty()
    }

    /// The first break in the global order.
    pub fn first_break(&self) -> Option<&Break> {
        self.breaks.first()
    }
}

/// How a missing stored hash reads (see `source::stored_hash`): no SHA-256 output is all zeros
/// in practice.
const MISSING: Hash32 = GENESIS;

/// The verification state: the last stored hash of every aggregate, the Merkle peaks, the
/// checkpoints still ahead. Feed it every event in the global order, then [`Verifier::finish`].
#[derive(Debug, Default)]
pub struct Verifier {
    heads: HashMap<(String, String), (i64, Hash32)>,
    peaks: Peaks,
    checkpoints: VecDeque<Checkpoint>,
    /// One per trusted reseal, oldest first.
    before: Vec<Before>,
    writers: Vec<VerifyingKey>,
    signing_began: bool,
    report: VerifyReport,
    /// Events pushed and not checked yet: checked a batch at a time, their signatures on every
    /// core, then each in order as if one by one.
    pending: Vec<ChainedEvent>,
}

/// Events checked together (their signatures spread over the cores).
const BATCH: usize = 1024;

/// What `event` claims about its writer, against `writers`.
fn claim_of(event: &ChainedEvent, writers: &[VerifyingKey]) -> Claim {
    let (payload, metadata) = (
        serde_json::from_str(&event.payload).unwrap_or(serde_json::Value::Null),
        serde_json::from_str(&event.metadata).unwrap_or(serde_json::Value::Null),
    );
    claim(
        AuthoredFields {
            aggregate_type: &event.aggregate_type,
            aggregate_id: &event.aggregate_id,
            sequence: event.sequence,
            event_type: &event.event_type,
            event_version: &event.event_version,
            payload: &payload,
            metadata: &metadata,
        },
        writers,
    )
}

/// The authorship of each of `events`, in order, computed on every core, each core's share
/// verified as one Ed25519 batch (a signature check costs far more than the rest of an event's
/// checks).
fn authors_of(events: &[ChainedEvent], writers: &[VerifyingKey]) -> Vec<Authorship> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let chunk = events.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = events
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    settle(part.iter().map(|event| claim_of(event, writers)).collect())
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

impl Verifier {
    /// A verifier that also checks `checkpoints` (in the global order of their bounds).
    pub fn new(mut checkpoints: Vec<Checkpoint>) -> Verifier {
        checkpoints.sort_by_key(|checkpoint| (checkpoint.bound, checkpoint.id));
        Verifier {
            checkpoints: checkpoints.into(),
            ..Verifier::default()
        }
    }

    /// The same verifier also checking who wrote each event against the `writers`' public
    /// keys (every key the store was written with: keys rotate).
    pub fn with_writers(self, writers: Vec<VerifyingKey>) -> Verifier {
        Verifier { writers, ..self }
    }

    /// The same verifier checking checkpoints from before each of `reseals` (oldest first)
    /// against the hashes it replaced. Call after [`Verifier::with_writers`]: a reseal counts
    /// only when signed by one of the writers (by a valid signature when none are given).
    pub fn with_reseals(mut self, reseals: Vec<Reseal>) -> Verifier {
        let mut trusted = Vec::new();
        for reseal in reseals {
            self.report.resealed.push(ResealSummary {
                id: reseal.id,
                resealed_at: reseal.resealed_at,
                rewritten: reseal.events.iter().filter(|e| e.rewritten).count() as u64,
                rehashed: reseal.events.len() as u64,
            });
            let by_writer = self.writers.is_empty()
                || self
                    .writers
                    .iter()
                    .any(|key| key.to_bytes() == reseal.public_key);
            if by_writer && reseal.signature_is_valid() {
                trusted.push(reseal);
            } else {
                self.report
                    .breaks
                    .push(Break::UntrustedReseal { reseal: reseal.id });
            }
        }
        let mut old = HashMap::new();
        let mut before = Vec::with_capacity(trusted.len());
        for reseal in trusted.iter().rev() {
            for event in &reseal.events {
                old.insert(event.position, event.old_hash);
            }
            before.push(Before {
                old: old.clone(),
                peaks: Peaks::default(),
            });
        }
        before.reverse();
        Verifier { before, ..self }
    }

    fn check_author(&mut self, event: &ChainedEvent, author: Option<Authorship>) {
        let Some(author) = author else {
            return;
        };
        match author {
            Authorship::Signed { .. } => {
                self.signing_began = true;
                self.report.signed += 1;
            }
            Authorship::Unsigned if !self.signing_began => {
                self.report.unsigned_before_signing += 1;
            }
            Authorship::Unsigned => self.report.breaks.push(Break::Unsigned {
                at: EventAt::of(event),
            }),
            Authorship::Invalid { key_id } => {
                self.signing_began = true;
                self.report.breaks.push(Break::ForgedSignature {
                    at: EventAt::of(event),
                    key_id,
                });
            }
            Authorship::UnknownKey { key_id } => {
                self.signing_began = true;
                self.report.breaks.push(Break::UnknownWriter {
                    at: EventAt::of(event),
                    key_id,
                });
            }
        }
    }

    /// Takes the next event of the global order (checked with its batch).
    pub fn push(&mut self, event: ChainedEvent) {
        self.pending.push(event);
        if self.pending.len() >= BATCH {
            self.flush();
        }
    }

    /// Checks every event pushed so far.
    pub fn flush(&mut self) {
        let events = std::mem::take(&mut self.pending);
        let authors: Vec<Option<Authorship>> = if self.writers.is_empty() {
            events.iter().map(|_| None).collect()
        } else {
            authors_of(&events, &self.writers)
                .into_iter()
                .map(Some)
                .collect()
        };
        for (event, author) in events.into_iter().zip(authors) {
            self.check(event, author);
        }
    }

    /// Checks one event, whose authorship is known.
    fn check(&mut self, event: ChainedEvent, author: Option<Authorship>) {
        let cursor = event.cursor();
        while self
            .checkpoints
            .front()
            .is_some_and(|checkpoint| checkpoint.bound < cursor)
        {
            self.check_next_checkpoint();
        }
        self.report.events += 1;
        let key = (event.aggregate_type.clone(), event.aggregate_id.clone());
        let (expected, previous) = match self.heads.get(&key) {
            Some(&(sequence, hash)) => (sequence + 1, hash),
            None => {
                self.report.aggregates += 1;
                (1, GENESIS)
            }
        };
        let mut head = event.hash;
        if event.sequence != expected {
            self.report.breaks.push(Break::OutOfSequence {
                at: EventAt::of(&event),
                expected,
            });
        } else if event.hash == MISSING {
            self.report.breaks.push(Break::Unhashed {
                at: EventAt::of(&event),
            });
            head = event.fields().hash(&previous);
        } else if event.fields().hash(&previous) != event.hash {
            self.report.breaks.push(Break::Altered {
                at: EventAt::of(&event),
            });
        }
        self.check_author(&event, author);
        self.peaks.push(&event.hash);
        for before in &mut self.before {
            let hash = before.old.get(&event.position).unwrap_or(&event.hash);
            before.peaks.push(hash);
        }
        self.heads.insert(key, (event.sequence, head));
    }

    /// Checks the checkpoints at or beyond the last event, and reports.
    pub fn finish(mut self) -> VerifyReport {
        self.flush();
        while !self.checkpoints.is_empty() {
            self.check_next_checkpoint();
        }
        self.report
    }

    fn check_next_checkpoint(&mut self) {
        let Some(checkpoint) = self.checkpoints.pop_front() else {
            return;
        };
        self.report.checkpoints += 1;
        // As the store is now, or as it was before one of the reseals.
        let covers = |peaks: &Peaks| {
            checkpoint.event_count == peaks.len() && checkpoint.root == peaks.root()
        };
        if !covers(&self.peaks) && !self.before.iter().any(|before| covers(&before.peaks)) {
            self.report.breaks.push(Break::CheckpointMismatch {
                checkpoint: checkpoint.id,
                recorded_count: checkpoint.event_count,
                found_count: self.peaks.len(),
            });
        }
        if checkpoint.signature_is_valid() == Some(false) {
            self.report.breaks.push(Break::BadSignature {
                checkpoint: checkpoint.id,
            });
        }
    }
}

/// Verifies every event of `events` (in the global order) with `verifier`, calling
/// `progress` with the events done every few thousand.
pub async fn verify_stream<S>(
    events: S,
    verifier: Verifier,
    mut progress: impl FnMut(u64),
) -> Result<VerifyReport, AuditError>
where
    S: Stream<Item = Result<ChainedEvent, AuditError>>,
{
    let mut verifier = verifier;
    let mut events = std::pin::pin!(events);
    while let Some(event) = events.try_next().await? {
        verifier.push(event);
        if verifier.pending.is_empty() {
            progress(verifier.report.events);
        }
    }
    verifier.flush();
    progress(verifier.report.events);
    Ok(verifier.finish())
}

/// Verifies the PostgreSQL store: every chain, every recorded checkpoint, every event
/// committed before the call (it waits for transactions still open).
pub async fn verify_postgres(
    pool: &PgPool,
    progress: impl FnMut(u64),
) -> Result<VerifyReport, AuditError> {
    verify_postgres_anchored(pool, &Anchors::default(), progress).await
}

/// Checkpoints anchored outside the event store (`anchor::AnchorFile`), and the key they must
/// be signed with.
#[derive(Debug, Clone, Default)]
pub struct Anchors {
    /// The anchored checkpoints.
    pub checkpoints: Vec<Checkpoint>,
    /// The writer's public keys (every key the store was written with): anchors signed
    /// otherwise (or unsigned) are reported, and so is every event not signed by one of them.
    pub trusted: Vec<[u8; 32]>,
}

impl Anchors {
    fn verifier(&self, checkpoints: Vec<Checkpoint>, reseals: Vec<Reseal>) -> Verifier {
        let writers = self
            .trusted
            .iter()
            .filter_map(|key| VerifyingKey::from_bytes(key).ok())
            .collect();
        Verifier::new(checkpoints)
            .with_writers(writers)
            .with_reseals(reseals)
    }
}

impl Anchors {
    /// The checkpoints to verify the store against, the recorded ones (`recorded`) and the
    /// anchored ones, and what is wrong with the anchors themselves: an anchor not signed by
    /// the trusted key, or (when the store records checkpoints) no longer recorded.
    fn merge(
        &self,
        recorded: Vec<Checkpoint>,
        store_records: bool,
    ) -> (Vec<Checkpoint>, Vec<Break>) {
        let mut breaks = Vec::new();
        let mut all = recorded.clone();
        for anchor in &self.checkpoints {
            let trusted = match &anchor.signature {
                None => false,
                Some(signed) => {
                    self.trusted.is_empty() || self.trusted.contains(&signed.public_key)
                }
            };
            if !trusted {
                breaks.push(Break::UntrustedKey {
                    checkpoint: anchor.id,
                });
            }
            let kept = recorded.iter().any(|row| {
                (row.id, row.bound, row.event_count, row.root)
                    == (anchor.id, anchor.bound, anchor.event_count, anchor.root)
            });
            if store_records && !kept {
                breaks.push(Break::CheckpointDeleted {
                    checkpoint: anchor.id,
                });
            }
            if !kept {
                all.push(anchor.clone());
            }
        }
        (all, breaks)
    }
}

/// [`verify_postgres`], also against checkpoints anchored outside the database.
pub async fn verify_postgres_anchored(
    pool: &PgPool,
    anchors: &Anchors,
    progress: impl FnMut(u64),
) -> Result<VerifyReport, AuditError> {
    source::await_earlier_writers(pool).await?;
    let (checkpoints, mut breaks) = anchors.merge(checkpoint::list(pool).await?, true);
    let reseals = event_store::EventStore::from_pool(pool.clone())
        .reseals()
        .await?;
    let verifier = anchors.verifier(checkpoints, reseals);
    let mut report = verify_stream(source::postgres_events(pool), verifier, progress).await?;
    breaks.append(&mut report.breaks);
    report.breaks = breaks;
    Ok(report)
}

/// [`verify_sqlite`], against checkpoints anchored outside the store (the embedded store
/// records none of its own).
pub async fn verify_sqlite_anchored(
    store: &SqliteEventStore,
    anchors: &Anchors,
    progress: impl FnMut(u64),
) -> Result<VerifyReport, AuditError> {
    let (checkpoints, mut breaks) = anchors.merge(Vec::new(), false);
    let verifier = anchors.verifier(checkpoints, store.reseals().await?);
    let mut report = verify_stream(source::sqlite_events(store), verifier, progress).await?;
    report.chained_after_the_fact = store.chain_upgrades().await?;
    breaks.append(&mut report.breaks);
    report.breaks = breaks;
    Ok(report)
}

/// Verifies the embedded store's chains (it records no checkpoints), and reports any
/// `chain-legacy` upgrade. Open the store with `SqliteEventStore::open_read_only`: verifying
/// reads, it never writes.
pub async fn verify_sqlite(
    store: &SqliteEventStore,
    progress: impl FnMut(u64),
) -> Result<VerifyReport, AuditError> {
    verify_sqlite_anchored(store, &Anchors::default(), progress).await
}
