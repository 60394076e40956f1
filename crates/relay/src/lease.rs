//! [`Lease`]: leadership among relay replicas (a [`lease::Lease`] on the relay's name), and the
//! checkpoint only the leader may write. Whoever holds it publishes; the others try again
//! every `lease_retry`.
//!
//! *Invariant*: the checkpoint is written only through the lease connection, so a replica that
//! lost the lease can no longer write one; and writes only move it forward.
//!
//! The leader pings (or saves) every `checkpoint_interval`, with a timeout, and stops
//! publishing at the first failure. So it stops within about a second after its connection is
//! cut, while the server needs the TCP keepalives set below (10 s idle, 3 probes 5 s apart) to
//! notice a silent peer and hand the lock over. A terminated session is released at once, so a
//! new leader waits that same bound (interval + timeout) before it publishes: two replicas do
//! not publish at once unless one stalls longer than that, and ADR 0003 explains why even
//! then no event is reordered, and why none is stored twice unless the stall outlasts the
//! duplicate window.
//!
//! The checkpoint is where a leader resumes when the stream holds no event of the relay (a new
//! or purged stream); otherwise it resumes after the stream's last event (ADR 0003). Saves
//! only move it forward. The row also holds the stream sequence of the checkpoint's event, for
//! operators, with the `position` it was saved for; a rewind ([`Lease::overwrite`]) or a
//! hand-moved `position` leaves none.

use crate::pipeline::Checkpoint;
use event_store::GlobalCursor;
pub(crate) use lease::LeaseLost;
use sqlx::postgres::PgConnectOptions;
use sqlx::Connection;
use std::time::Duration;
use tokio::sync::watch;

/// The first key of the relay's advisory locks (`pg_try_advisory_lock(int, int)`); the second
/// is `hashtext(name)`. Advisory locks are per database.
const LOCK_CLASS: i32 = 0x7072_6c79; // "prly"

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS relay_checkpoints (
    name       text PRIMARY KEY,
    txid       xid8        NOT NULL,
    position   bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
)";

/// The stream sequence of the checkpoint's event, and the `position` it was saved with: an
/// operator who moves `txid` and `position` and leaves these alone makes them disagree, and
/// the sequence then reads as unknown.
const ADD_STREAM_SEQUENCE: &str = "ALTER TABLE relay_checkpoints
    ADD COLUMN IF NOT EXISTS stream_sequence bigint,
    ADD COLUMN IF NOT EXISTS stream_sequence_position bigint";

/// The advisory lock for one relay name, held by its own connection.
#[derive(Debug)]
pub(crate) struct Lease {
    inner: lease::Lease,
    name: String,
}

impl Lease {
    /// Connects and tries the lock once: `None` when another replica holds it.
    pub async fn try_acquire(
        options: &PgConnectOptions,
        name: &str,
        instance: &str,
    ) -> Result<Option<Lease>, sqlx::Error> {
        let application_name = format!("parcelport-relay {name} {instance}");
        let Some(inner) =
            lease::Lease::try_acquire(options, LOCK_CLASS, name, &application_name).await?
        else {
            return Ok(None);
        };
        let mut lease = Lease {
            inner,
            name: name.to_owned(),
        };
        lease.create_table().await?;
        Ok(Some(lease))
    }

    /// Creates the checkpoint table when it is missing. The relay owns this table and nothing
    /// else: the event store's migrations stay the store's. Relays of different names may start
    /// together, so the DDL runs under a transaction-level lock of its own.
    async fn create_table(&mut self) -> Result<(), sqlx::Error> {
        let mut tx = self.inner.connection().begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1, 0)")
            .bind(LOCK_CLASS)
            .execute(&mut *tx)
            .await?;
        sqlx::query(CREATE_TABLE).execute(&mut *tx).await?;
        sqlx::query(ADD_STREAM_SEQUENCE).execute(&mut *tx).await?;
        tx.commit().await
    }

    /// The saved checkpoint, or the start of the store with no stream sequence.
    pub async fn checkpoint(&mut self) -> Result<Checkpoint, sqlx::Error> {
        let row: Option<(String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT txid::text, position,
                    CASE WHEN stream_sequence_position = position THEN stream_sequence END
               FROM relay_checkpoints WHERE name = $1",
        )
        .bind(&self.name)
        .fetch_optional(self.inner.connection())
        .await?;
        let Some((txid, position, stream_sequence)) = row else {
            return Ok(Checkpoint {
                cursor: GlobalCursor::START,
                stream_sequence: None,
            });
        };
        let txid = txid
            .parse()
            .map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
        Ok(Checkpoint {
            cursor: GlobalCursor { txid, position },
            stream_sequence: stream_sequence.and_then(|sequence| u64::try_from(sequence).ok()),
        })
    }

    /// Saves `checkpoint` unless a later cursor is saved already.
    pub async fn save(&mut self, checkpoint: Checkpoint) -> Result<(), sqlx::Error> {
        let Checkpoint {
            cursor,
            stream_sequence,
        } = checkpoint;
        sqlx::query(
            "INSERT INTO relay_checkpoints AS saved
                    (name, txid, position, stream_sequence, stream_sequence_position)
             VALUES ($1, $2::text::xid8, $3, $4, $3)
             ON CONFLICT (name) DO UPDATE
                SET txid = excluded.txid, position = excluded.position,
                    stream_sequence = excluded.stream_sequence,
                    stream_sequence_position = excluded.stream_sequence_position,
                    updated_at = now()
              WHERE (saved.txid, saved.position) <= (excluded.txid, excluded.position)",
        )
        .bind(&self.name)
        .bind(cursor.txid.to_string())
        .bind(cursor.position)
        .bind(stream_sequence.and_then(|sequence| i64::try_from(sequence).ok()))
        .execute(self.inner.connection())
        .await?;
        Ok(())
    }

    /// Overwrites the checkpoint with `cursor`, even backwards, and forgets the stream
    /// sequence saved with it (see [`crate::rewind()`]).
    pub async fn overwrite(&mut self, cursor: GlobalCursor) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO relay_checkpoints (name, txid, position)
             VALUES ($1, $2::text::xid8, $3)
             ON CONFLICT (name) DO UPDATE
                SET txid = excluded.txid, position = excluded.position,
                    stream_sequence = NULL, stream_sequence_position = NULL,
                    updated_at = now()",
        )
        .bind(&self.name)
        .bind(cursor.txid.to_string())
        .bind(cursor.position)
        .execute(self.inner.connection())
        .await?;
        Ok(())
    }

    /// Gives the lease up for the next replica at once, rather than when the session ends.
    pub async fn release(self) {
        self.inner.release().await;
    }

    /// Holds the lease while the leader publishes: every `interval`, saves the latest value of
    /// `cursor` (or pings when it has not moved), each within `timeout`. Returns `Ok` after a
    /// last save once the publisher dropped its end of `cursor`; `Err` as soon as the
    /// connection fails, which means the lease may be someone else's already.
    pub async fn keep(
        &mut self,
        mut cursor: watch::Receiver<Checkpoint>,
        interval: Duration,
        timeout: Duration,
    ) -> Result<(), LeaseLost> {
        let mut saved = *cursor.borrow_and_update();
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let publisher_done = cursor.has_changed().is_err();
            let latest = *cursor.borrow_and_update();
            if latest == saved {
                self.inner.check(timeout).await?;
            } else {
                tokio::time::timeout(timeout, self.save(latest))
                    .await
                    .map_err(|_| LeaseLost::Timeout(timeout))??;
            }
            saved = latest;
            if publisher_done {
                return Ok(());
            }
        }
    }
}
