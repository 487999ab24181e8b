-- The Terraform inventory: what each environment's state (format version 4)
-- manages, as read by the inventory job's leader. Only resource addresses
-- and types are kept, never attribute values.
CREATE TABLE terraform_states (
    environment_id    text PRIMARY KEY REFERENCES environments (id) ON DELETE CASCADE,
    -- Where it is read from (a file path or an http(s) URL), for the page.
    source            text NOT NULL CHECK (char_length(source) <= 2000),
    serial            bigint,
    lineage           text,
    terraform_version text,
    -- [{"address": ..., "kind": ...}], sorted by address.
    resources         jsonb NOT NULL DEFAULT '[]'::jsonb,
    -- What the source answered last (for conditional requests).
    etag              text,
    last_modified     text,
    -- When the serial last changed (the source's Last-Modified or a file's
    -- modification time when known, else when Gatehouse first saw it).
    applied_at        timestamptz,
    fetched_at        timestamptz,
    -- Why the last read failed, in words; NULL when it succeeded.
    error             text CHECK (char_length(error) <= 1000)
);

-- A read that finds nothing new (a 304) changes nothing a page shows.
CREATE TRIGGER terraform_states_notify AFTER INSERT OR DELETE ON terraform_states
    FOR EACH ROW EXECUTE FUNCTION notify_change('board');
CREATE TRIGGER terraform_states_change_notify AFTER UPDATE ON terraform_states
    FOR EACH ROW
    WHEN (OLD.serial IS DISTINCT FROM NEW.serial
          OR OLD.lineage IS DISTINCT FROM NEW.lineage
          OR OLD.error IS DISTINCT FROM NEW.error
          OR OLD.source IS DISTINCT FROM NEW.source)
    EXECUTE FUNCTION notify_change('board');
