-- Idempotency keys; the embedded twin of migrations/1003_idempotency_keys.sql (see there for
-- the protocol). `allocated_ids` is a JSON array; `claimed_at` is set to the Unix epoch when a
-- holder gives its claim up, so that the next request takes it over at once.
CREATE TABLE idempotency_keys
(
    key                 TEXT PRIMARY KEY,
    request_fingerprint TEXT    NOT NULL,
    status              TEXT    NOT NULL CHECK (status IN ('pending', 'done')),
    response            TEXT CHECK (response IS NULL OR json_valid(response)),
    attempt             INTEGER NOT NULL DEFAULT 1,
    allocated_ids       TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(allocated_ids)),
    created_at          TEXT    NOT NULL,
    claimed_at          TEXT    NOT NULL,
    completed_at        TEXT,
    CHECK ((status = 'done') = (response IS NOT NULL))
);

-- Every event a keyed request appends carries the key (and the step) in its metadata: a retry
-- after a crash between appending and recording the result finds them here.
CREATE INDEX events_idempotency_key ON events (json_extract(metadata, '$.idempotency_key'))
    WHERE json_extract(metadata, '$.idempotency_key') IS NOT NULL;
