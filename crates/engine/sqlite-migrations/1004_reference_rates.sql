-- The reference bank rates finance records (MON-3, ACC-7); the embedded twin of
-- migrations/1004_reference_rates.sql. The rate is exact decimal text.
CREATE TABLE reference_rates
(
    base        TEXT NOT NULL,
    quote       TEXT NOT NULL,
    valid_on    TEXT NOT NULL,
    rate        TEXT NOT NULL,
    source      TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (base, quote, valid_on)
);
