-- One audit log for everything that matters, chained so that an edited,
-- deleted or reordered row is detectable.
--
-- Every row gets a gap-free sequence number, the SHA-256 of its canonical
-- form (`audit_canonical`, documented in the README) and the previous
-- row's hash. A BEFORE INSERT trigger assigns all three under a lock on
-- the single `audit_chain_head` row, so concurrent writers queue there and
-- never fork the chain; a writer that rolls back rolls its number back too.

ALTER TABLE audit_log
    ADD COLUMN seq         bigint,
    ADD COLUMN team        text,
    ADD COLUMN environment text,
    ADD COLUMN service     text,
    ADD COLUMN subject     text,
    ADD COLUMN summary     text NOT NULL DEFAULT '',
    ADD COLUMN details     jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN prev_hash   text,
    ADD COLUMN hash        text;

CREATE TABLE audit_chain_head (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    seq      bigint NOT NULL,
    hash     text NOT NULL
);

-- The canonical form hashed for a row: a version tag, then each field in
-- this order as `<UTF-8 byte length>:<value>;`, or `~;` when NULL. Roles
-- are one field holding each role in the same form. `at` is UTC with
-- microseconds (2026-12-02T09:30:00.000000Z); JSON fields are Postgres's
-- text of the stored jsonb.
CREATE FUNCTION audit_canonical(a audit_log) RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    roles text := '';
    role text;
    fields text[];
    value text;
    out text := 'gatehouse-audit-v1;';
BEGIN
    FOREACH role IN ARRAY COALESCE(a.actor_roles, '{}') LOOP
        roles := roles || octet_length(role) || ':' || role || ';';
    END LOOP;
    fields := ARRAY[a.seq::text,
        to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        a.event, a.actor_id::text, a.actor_name, roles, a.request_id::text, a.pipeline, a.stage,
        a.action, a.execution_id, a.revision, a.decision, a.comment, a.sign_off::text,
        a.aws_result, a.team, a.environment, a.service, a.subject, a.summary, a.details::text,
        a.prev_hash];
    FOREACH value IN ARRAY fields LOOP
        IF value IS NULL THEN
            out := out || '~;';
        ELSE
            out := out || octet_length(value) || ':' || value || ';';
        END IF;
    END LOOP;
    RETURN out;
END
$$;
CREATE FUNCTION audit_hash(a audit_log) RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN encode(sha256(convert_to(audit_canonical(a), 'UTF8')), 'hex');
END
$$;

-- Chain the rows already written, in the order they were written.
ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_or_delete;
DO $$
DECLARE
    r audit_log;
    n bigint := 0;
    previous text := repeat('0', 64);
BEGIN
    FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
        n := n + 1;
        r.seq := n;
        r.prev_hash := previous;
        r.summary := CASE WHEN r.summary = '' THEN r.event || ' ' || COALESCE(r.pipeline, '') ELSE r.summary END;
        r.hash := audit_hash(r);
        UPDATE audit_log SET seq = r.seq, prev_hash = r.prev_hash, summary = r.summary, hash = r.hash WHERE id = r.id;
        previous := r.hash;
    END LOOP;
    INSERT INTO audit_chain_head (seq, hash) VALUES (n, previous);
END
$$;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_or_delete;

ALTER TABLE audit_log
    ALTER COLUMN at DROP DEFAULT,
    ALTER COLUMN seq SET NOT NULL,
    ALTER COLUMN prev_hash SET NOT NULL,
    ALTER COLUMN hash SET NOT NULL,
    ADD CONSTRAINT audit_log_seq_unique UNIQUE (seq),
    ADD CONSTRAINT audit_log_summary_bounded CHECK (length(summary) <= 1000),
    ADD CONSTRAINT audit_log_details_bounded CHECK (octet_length(details::text) <= 65536);

-- Chains each new row to the last one. Writers queue on one transaction-
-- level advisory lock (held until commit, so numbers are handed out in
-- commit order and a rolled-back writer gives its number back); the last
-- row is read from the sequence index, which sees rows written earlier in
-- the same statement. Runs as the schema's owner.
CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql VOLATILE
    SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    last_seq bigint;
    last_hash text;
    last_at timestamptz;
BEGIN
    PERFORM pg_advisory_xact_lock(113668262264836);
    SELECT seq, hash, at INTO last_seq, last_hash, last_at FROM audit_log ORDER BY seq DESC LIMIT 1;
    NEW.seq := COALESCE(last_seq, 0) + 1;
    -- When the row was written, never before the row it follows: times
    -- rise with sequence numbers, so a time range is a range of rows.
    NEW.at := GREATEST(COALESCE(NEW.at, clock_timestamp()), last_at);
    NEW.prev_hash := COALESCE(last_hash, repeat('0', 64));
    NEW.hash := audit_hash(NEW);
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

-- The head remembers the last row once per statement, so a deleted tail
-- is caught too.
CREATE FUNCTION audit_log_head() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE audit_chain_head h SET seq = n.seq, hash = n.hash
    FROM (SELECT seq, hash FROM written ORDER BY seq DESC LIMIT 1) n
    WHERE n.seq > h.seq;
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_log_head AFTER INSERT ON audit_log
    REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_head();

-- The Audit page's filters, each newest first by sequence number.
-- A kind is the filter most often added to another, so each subject
-- filter also has an index with the kind.
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, seq);
CREATE INDEX audit_log_team_idx ON audit_log (team, seq);
CREATE INDEX audit_log_environment_idx ON audit_log (environment, seq);
CREATE INDEX audit_log_service_idx ON audit_log (service, seq);
CREATE INDEX audit_log_event_idx ON audit_log (event, seq);
CREATE INDEX audit_log_actor_event_idx ON audit_log (actor_id, event, seq);
CREATE INDEX audit_log_team_event_idx ON audit_log (team, event, seq);
CREATE INDEX audit_log_environment_event_idx ON audit_log (environment, event, seq);
CREATE INDEX audit_log_service_event_idx ON audit_log (service, event, seq);
-- A time range becomes a range of sequence numbers (times rise with them).
CREATE INDEX audit_log_at_idx ON audit_log (at, seq);

-- The last verification of the chain, by the background job or the
-- command line: how far it got and what it found.
CREATE TABLE audit_verifications (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    checked_to  bigint NOT NULL,
    rows        bigint NOT NULL,
    ok          boolean NOT NULL,
    first_bad   bigint,
    problem     text
);

-- The hash of the row a verification ended on: a later walk that finds
-- another hash there knows the chain was rewritten after that point.
ALTER TABLE audit_verifications ADD COLUMN hash text;

-- The org model last applied at start, to audit what the next start
-- changes.
ALTER TABLE org_settings ADD COLUMN applied_model jsonb;

-- Rows an operator exported, stored elsewhere and removed (README:
-- Retention): a walk of the chain starts after the last of them, from the
-- hash recorded here. Written by the schema's owner only.
CREATE TABLE audit_archives (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    up_to    bigint NOT NULL,
    hash     text NOT NULL,
    location text NOT NULL
);
