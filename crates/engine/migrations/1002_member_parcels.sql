-- Which parcels belong to which member: the engine records it when a parcel arrives for a
-- member or is attached to one, so that it can find the member's parcels still waiting (STO-1
-- first-waiting-arrival, MEM-8 parcels left at withdrawal) without a read model.
-- A parcel belongs to one member at most.
CREATE TABLE engine.member_parcels
(
    member_id  text        NOT NULL,
    parcel_id  text        NOT NULL UNIQUE,
    indexed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (member_id, parcel_id)
);
