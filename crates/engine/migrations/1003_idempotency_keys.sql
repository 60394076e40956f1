-- Idempotency keys: "a retried request with the same key returns the first result and appends
-- nothing". A request claims its key (status pending) before it runs and records its result
-- (status done) after. A claim whose holder went away is taken over after a lease
-- (`claimed_at`); `attempt` fences the old holder out, and `allocated_ids` replays the ids the
-- first attempt allocated so that a resumed request names the same shipment or member.
CREATE TABLE engine.idempotency_keys
(
    key                 text PRIMARY KEY,
    request_fingerprint text        NOT NULL,
    status              text        NOT NULL CHECK (status IN ('pending', 'done')),
    response            jsonb,
    attempt             integer     NOT NULL DEFAULT 1,
    allocated_ids       text[]      NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now(),
    claimed_at          timestamptz NOT NULL DEFAULT now(),
    completed_at        timestamptz,
    CHECK ((status = 'done') = (response IS NOT NULL))
);

-- Every event a keyed request appends carries the key (and the step) in its metadata: a retry
-- after a crash between appending and recording the result finds them here.
CREATE INDEX events_idempotency_key ON events ((metadata ->> 'idempotency_key'))
    WHERE (metadata ->> 'idempotency_key') IS NOT NULL;
