-- Which parcels belong to which member (STO-1 first-waiting-arrival, MEM-8 parcels left at
-- withdrawal); the embedded twin of migrations/1002_member_parcels.sql.
-- A parcel belongs to one member at most.
CREATE TABLE member_parcels
(
    member_id  TEXT NOT NULL,
    parcel_id  TEXT NOT NULL UNIQUE,
    indexed_at TEXT NOT NULL,
    PRIMARY KEY (member_id, parcel_id)
);
