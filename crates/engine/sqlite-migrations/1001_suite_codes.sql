-- MEM-1: every member gets one unique suite code (the personal warehouse address); the
-- embedded twin of migrations/1001_suite_codes.sql. Numbers come from a one-row counter
-- instead of a sequence, and like a sequence's they are never handed out twice: a released
-- code's number stays used.
--
-- These migrations share the database's one migration history with the event store's
-- (versions below 1000); each migrator ignores the other's versions.
CREATE TABLE suite_code_numbers
(
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    last INTEGER NOT NULL CHECK (last >= 0)
);
INSERT INTO suite_code_numbers (id, last) VALUES (1, 0);

CREATE TABLE suite_codes
(
    code         TEXT PRIMARY KEY,
    member_id    TEXT NOT NULL UNIQUE,
    allocated_at TEXT NOT NULL
);
