-- Tamper evidence (ADR 0006): every event carries `hash`, a SHA-256 over its canonical encoding
-- and the hash of the previous event of the same aggregate, so each aggregate is a hash chain;
-- `audit_checkpoints` records Merkle roots over the global order that can be signed and kept
-- outside the database.
--
-- The canonical encoding is defined here once for PostgreSQL and once in Rust
-- (`event_store::chain`); `parcelport audit verify` recomputes it and a test compares both.
-- Version 0002 is skipped on purpose: it was the removed NOTIFY trigger (ADR 0002).

-- A length-prefixed string: the 4-byte big-endian byte length, then the UTF-8 bytes.
CREATE FUNCTION event_chain_field(value text) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT int4send(length(b)) || b FROM (SELECT convert_to(value, 'UTF8') AS b) AS utf8 $$;

-- SHA-256 of: the tag 'parcelport/event/v1', the previous hash (32 bytes), the aggregate type
-- and id, the sequence (8 bytes), the event type and version, the payload and metadata as
-- stored (text), the event id (16 bytes), recorded_at (8 bytes, microseconds since the Unix
-- epoch) and the position (8 bytes). Integers are big-endian.
CREATE FUNCTION event_chain_hash(previous bytea, aggregate_type text, aggregate_id text,
                                 sequence bigint, event_type text, event_version text,
                                 payload text, metadata text, event_id uuid,
                                 recorded_at timestamptz, "position" bigint) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
SELECT sha256(convert_to('parcelport/event/v1', 'UTF8')
              || previous
              || event_chain_field(aggregate_type)
              || event_chain_field(aggregate_id)
              || int8send(sequence)
              || event_chain_field(event_type)
              || event_chain_field(event_version)
              || event_chain_field(payload)
              || event_chain_field(metadata)
              || uuid_send(event_id)
              || int8send((extract(epoch FROM recorded_at) * 1000000)::bigint)
              || int8send("position"))
$$;

ALTER TABLE events ADD COLUMN hash bytea;

-- Existing events, chained in sequence order per aggregate.
DO $$
DECLARE
    event    record;
    previous bytea;
    last_key text[];
BEGIN
    FOR event IN SELECT aggregate_type, aggregate_id, sequence, event_type, event_version,
                        payload::text AS payload, metadata::text AS metadata, event_id,
                        recorded_at, position
                   FROM events ORDER BY aggregate_type, aggregate_id, sequence
    LOOP
        IF last_key IS DISTINCT FROM ARRAY[event.aggregate_type, event.aggregate_id] THEN
            previous := decode(repeat('00', 32), 'hex');
            last_key := ARRAY[event.aggregate_type, event.aggregate_id];
        END IF;
        previous := event_chain_hash(previous, event.aggregate_type, event.aggregate_id,
                                     event.sequence, event.event_type, event.event_version,
                                     event.payload, event.metadata, event.event_id,
                                     event.recorded_at, event.position);
        UPDATE events SET hash = previous
         WHERE aggregate_type = event.aggregate_type AND aggregate_id = event.aggregate_id
           AND sequence = event.sequence;
    END LOOP;
END
$$;

ALTER TABLE events ALTER COLUMN hash SET NOT NULL;

-- Computes NEW.hash at insert; a hash given by the writer is overwritten. The previous event is
-- the aggregate's row at sequence - 1 (an index probe of the primary key); without one (the
-- first event, or a gap) the previous hash is 32 zero bytes, and the verifier reports the gap.
-- The defaults (event_id, recorded_at, position) are already set when a BEFORE trigger runs.
CREATE FUNCTION events_chain() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    previous bytea;
BEGIN
    SELECT hash INTO previous FROM events
     WHERE aggregate_type = NEW.aggregate_type AND aggregate_id = NEW.aggregate_id
       AND sequence = NEW.sequence - 1;
    NEW.hash := event_chain_hash(coalesce(previous, decode(repeat('00', 32), 'hex')),
                                 NEW.aggregate_type, NEW.aggregate_id, NEW.sequence,
                                 NEW.event_type, NEW.event_version, NEW.payload::text,
                                 NEW.metadata::text, NEW.event_id, NEW.recorded_at,
                                 NEW.position);
    RETURN NEW;
END
$$;

CREATE TRIGGER events_chain BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION events_chain();

-- A checkpoint: the Merkle root (RFC 6962 shape, see ADR 0006) over the hashes of every event
-- up to `(bound_txid, bound_position)` in the global order of ADR 0002, optionally signed with
-- Ed25519. Rows are appended, never changed.
CREATE TABLE audit_checkpoints
(
    id             bigserial   PRIMARY KEY,
    bound_txid     xid8        NOT NULL,
    bound_position bigint      NOT NULL,
    event_count    bigint      NOT NULL CHECK (event_count >= 0),
    root           bytea       NOT NULL CHECK (length(root) = 32),
    created_at     timestamptz NOT NULL DEFAULT now(),
    public_key     bytea CHECK (length(public_key) = 32),
    signature      bytea CHECK (length(signature) = 64),
    CHECK ((public_key IS NULL) = (signature IS NULL))
);
