-- The release calendar: the configured cycle (synced from the org
-- configuration like the rest of the model) and the changes managers make
-- to it. The changes are the calendar's history and its current state at
-- once: the latest move of a milestone wins. Append-only.

ALTER TABLE org_settings ADD COLUMN calendar jsonb;

CREATE TABLE calendar_changes (
    id              bigserial PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    kind            text NOT NULL CHECK (kind IN ('move-milestone', 'add-blackout')),
    actor_id        uuid NOT NULL,
    actor_name      text NOT NULL,
    actor_roles     text[] NOT NULL DEFAULT '{}',
    reason          text NOT NULL CHECK (length(btrim(reason)) > 0),
    -- move-milestone
    release_number  integer CHECK (release_number > 0),
    milestone       text,
    team_id         text,
    before_at       timestamptz,
    after_date      date,
    after_time      time,
    -- add-blackout
    blackout_name   text,
    first_day       date,
    last_day        date,
    environments    text[],
    CHECK (kind <> 'move-milestone' OR (release_number IS NOT NULL AND milestone IS NOT NULL
                                         AND before_at IS NOT NULL AND after_date IS NOT NULL)),
    CHECK (kind <> 'add-blackout' OR (blackout_name IS NOT NULL AND first_day IS NOT NULL
                                       AND last_day IS NOT NULL AND last_day >= first_day
                                       AND environments IS NOT NULL))
);

CREATE FUNCTION calendar_changes_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'calendar_changes is append-only: % is not allowed', TG_OP;
END
$$;
CREATE TRIGGER calendar_changes_no_update_or_delete BEFORE UPDATE OR DELETE ON calendar_changes
    FOR EACH ROW EXECUTE FUNCTION calendar_changes_are_append_only();
CREATE TRIGGER calendar_changes_no_truncate BEFORE TRUNCATE ON calendar_changes
    FOR EACH STATEMENT EXECUTE FUNCTION calendar_changes_are_append_only();
