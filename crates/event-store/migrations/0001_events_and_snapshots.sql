-- The postgres-es 0.5 tables (see its db/init.sql), extended with what a global reader needs.
--
-- postgres-es inserts only aggregate_type .. metadata; every added column has a default or is
-- generated, so postgres-es works unchanged. Nothing may UPDATE an event: the columns below are
-- set once, by the defaults, inside the appending transaction.
CREATE TABLE events
(
    -- postgres-es columns, exactly as it reads and writes them.
    aggregate_type text                         NOT NULL,
    aggregate_id   text                         NOT NULL,
    sequence       bigint CHECK (sequence >= 0) NOT NULL,
    event_type     text                         NOT NULL,
    event_version  text                         NOT NULL,
    payload        json                         NOT NULL,
    metadata       json                         NOT NULL,
    -- A stable identity for consumers (deduplication, NATS Msg-Id).
    event_id       uuid        NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    -- Transaction time: every event of one command shares it.
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    -- Allocation order. Not commit order: a lower position can commit later than a higher one.
    position       bigserial   NOT NULL UNIQUE,
    -- The appending transaction's 64-bit id. Rows below pg_snapshot_xmin(pg_current_snapshot())
    -- belong to finished transactions; the global reader reads in (txid, position) order only below
    -- that watermark (ADR 0002).
    txid           xid8        NOT NULL DEFAULT pg_current_xact_id(),
    -- Copied from the command metadata (event_store::CommandMetadata) so they can be queried.
    correlation_id text GENERATED ALWAYS AS (metadata ->> 'correlation_id') STORED,
    causation_id   text GENERATED ALWAYS AS (metadata ->> 'causation_id') STORED,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);

-- The global order; the reader's keyset pages are range scans of this index.
CREATE INDEX events_global_order ON events (txid, position);
CREATE INDEX events_correlation_id ON events (correlation_id) WHERE correlation_id IS NOT NULL;

-- Only needed when snapshotting is used; exactly the postgres-es 0.5 shape.
CREATE TABLE snapshots
(
    aggregate_type   text                                 NOT NULL,
    aggregate_id     text                                 NOT NULL,
    last_sequence    bigint CHECK (last_sequence >= 0)    NOT NULL,
    current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
    payload          json                                 NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
);
