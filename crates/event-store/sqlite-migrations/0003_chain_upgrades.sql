-- Tamper evidence (ADR 0006): a store written before the hash chain existed is chained once,
-- on purpose, by `parcelport audit chain-legacy`, which refuses when any event already has a
-- hash. Each such upgrade is recorded here and reported by `verify`: hashes of events up to
-- `last_position` prove nothing changed since `upgraded_at`, not since they were written.
-- (0002's comment says `SqliteEventStore::open` chains them: it no longer does, since that
-- laundered edits; applied migrations are never edited, their checksums are recorded.)
CREATE TABLE chain_upgrades
(
    id            INTEGER PRIMARY KEY,
    upgraded_at   TEXT    NOT NULL,
    events        INTEGER NOT NULL CHECK (events >= 0),
    last_position INTEGER NOT NULL
);
