-- The reference bank rates finance records, one per currency pair and day (MON-3): the
-- scheduler converts a refund due in another currency with the rates of the charge month and
-- of the refund month (ACC-7), the latest recorded in each. The rates a conversion used are
-- recorded in its event; a correction of a day's rate replaces it here.
CREATE TABLE engine.reference_rates
(
    base        text        NOT NULL,
    quote       text        NOT NULL,
    valid_on    date        NOT NULL,
    rate        numeric     NOT NULL CHECK (rate > 0),
    source      text        NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (base, quote, valid_on)
);
