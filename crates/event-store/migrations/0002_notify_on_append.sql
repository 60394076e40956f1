-- Wakes tailing readers early: one notification per appending transaction (identical payloads
-- within a transaction are folded by PostgreSQL), delivered at commit, never for a rollback.
-- A wake-up hint only: readers still poll, and never trust a notification for order or content.
CREATE FUNCTION parcelport_notify_events() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM pg_notify('parcelport_events', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER events_notify_on_append
    AFTER INSERT ON events
    FOR EACH STATEMENT
EXECUTE FUNCTION parcelport_notify_events();
