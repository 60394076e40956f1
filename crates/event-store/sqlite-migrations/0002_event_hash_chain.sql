-- Tamper evidence (ADR 0006): the same per-aggregate hash chain as PostgreSQL's
-- (migrations/0003), computed in Rust by the repository (`event_store::chain`) as it appends.
-- NULL only for events appended before this migration, until `SqliteEventStore::open` chains
-- them (it does so right after migrating).
ALTER TABLE events ADD COLUMN hash BLOB CHECK (hash IS NULL OR length(hash) = 32);
