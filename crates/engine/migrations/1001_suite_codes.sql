-- MEM-1: every member gets one unique suite code (the personal warehouse address), allocated
-- from a sequence. The Member aggregate records the code; this table is what makes it unique
-- across members and what an arriving label is resolved with (PAR-1).
--
-- The engine's migrations live in the `engine` schema with a migration history of their own
-- (engine._sqlx_migrations), so they never mix with the event store's; versions start at 1000
-- so that the two histories can never be confused either.
CREATE SEQUENCE engine.suite_code_numbers START 1;

CREATE TABLE engine.suite_codes
(
    code         text PRIMARY KEY,
    member_id    text        NOT NULL UNIQUE,
    allocated_at timestamptz NOT NULL DEFAULT now()
);
