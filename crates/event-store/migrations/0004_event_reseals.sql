-- Resealing (issue #10, `event_store::reseal`): members' personal data written in plain text
-- before the writer sealed it is sealed once, on purpose, by `parcelport audit
-- seal-personal-data`, the one sanctioned rewrite of stored events. Each run is recorded here:
-- every event whose chain hash changed, its old and new hash, signed by the writer's key, so
-- checkpoints recorded before it still verify against the hashes they covered. Rows are
-- appended, never changed.
CREATE TABLE event_reseals
(
    id          bigserial   PRIMARY KEY,
    resealed_at timestamptz NOT NULL,
    public_key  bytea       NOT NULL CHECK (length(public_key) = 32),
    signature   bytea       NOT NULL CHECK (length(signature) = 64)
);

CREATE TABLE event_reseal_entries
(
    reseal_id      bigint  NOT NULL REFERENCES event_reseals (id),
    aggregate_type text    NOT NULL,
    aggregate_id   text    NOT NULL,
    sequence       bigint  NOT NULL,
    position       bigint  NOT NULL,
    old_hash       bytea   NOT NULL CHECK (length(old_hash) = 32),
    new_hash       bytea   NOT NULL CHECK (length(new_hash) = 32),
    rewritten      boolean NOT NULL,
    PRIMARY KEY (reseal_id, position)
);
