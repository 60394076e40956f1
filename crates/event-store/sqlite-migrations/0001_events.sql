-- The embedded store's events: the PostgreSQL table (migrations/0001) in SQLite.
--
-- One difference matters: `position` is commit order here. SQLite lets one write transaction
-- run at a time (the database's write lock is held from the first write to COMMIT), so every
-- row of a transaction gets its position after every row of every transaction that committed
-- before it, and no reader ever sees a higher position before a lower one. There is no
-- transaction id and no watermark (ADR 0002, "SQLite"). Nothing may UPDATE or DELETE an event.
CREATE TABLE events
(
    aggregate_type TEXT    NOT NULL,
    aggregate_id   TEXT    NOT NULL,
    sequence       INTEGER NOT NULL CHECK (sequence >= 0),
    event_type     TEXT    NOT NULL,
    event_version  TEXT    NOT NULL,
    payload        TEXT    NOT NULL CHECK (json_valid(payload)),
    metadata       TEXT    NOT NULL CHECK (json_valid(metadata)),
    -- Assigned by the repository (a v4 UUID, hyphenated): a stable identity for consumers.
    event_id       TEXT    NOT NULL UNIQUE,
    -- Assigned by the repository, one per commit: every event of one command shares it.
    recorded_at    TEXT    NOT NULL,
    -- The global order. AUTOINCREMENT: a position is never handed out again once committed,
    -- even if the highest row were deleted.
    position       INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Copied from the command metadata (event_store::CommandMetadata) so they can be queried.
    correlation_id TEXT GENERATED ALWAYS AS (json_extract(metadata, '$.correlation_id')) STORED,
    causation_id   TEXT GENERATED ALWAYS AS (json_extract(metadata, '$.causation_id')) STORED,
    -- Optimistic concurrency: of two commits appending the same sequence, the second fails.
    UNIQUE (aggregate_type, aggregate_id, sequence)
);

CREATE INDEX events_correlation_id ON events (correlation_id) WHERE correlation_id IS NOT NULL;

