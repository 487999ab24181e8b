-- Audit rows are chained right after their writer commits, no longer
-- inside the writer's transaction.
--
-- Until now a BEFORE INSERT trigger numbered and hashed each row under a
-- lock held until the writer committed, so every writer of the audit log
-- (each vote, each delivery) waited for the commits of all writers before
-- it: 50 people approving at once queued behind about 100 commits, one at
-- a time. Now a row is written with its time only; `audit_chain_pending()`
-- numbers and hashes the committed rows not yet chained, in the order it
-- finds them, under the same lock but for its own short transaction only.
-- Each writer calls it just after its commit without waiting: if another
-- session is chaining, that one or the next writer's call takes these rows
-- too, and every process calls it (waiting) four times a second for rows
-- a burst's last writer or a crash left behind.
--
-- What the chain proves is unchanged: once chained, a row can be neither
-- changed nor removed without the break being found. A row not yet
-- chained can only be chained (the append-only trigger checks that nothing
-- else changes and that its hash is right); pages, exports and
-- verification read chained rows only.

ALTER TABLE audit_log
    ALTER COLUMN seq DROP NOT NULL,
    ALTER COLUMN prev_hash DROP NOT NULL,
    ALTER COLUMN hash DROP NOT NULL,
    ADD CONSTRAINT audit_log_chained_whole CHECK (
        (seq IS NULL) = (hash IS NULL) AND (hash IS NULL) = (prev_hash IS NULL));

DROP TRIGGER audit_log_chain ON audit_log;
DROP TRIGGER audit_log_head ON audit_log;
DROP FUNCTION audit_log_chain();
DROP FUNCTION audit_log_head();

-- A new row gets its time and nothing of the chain, whatever it was given.
CREATE FUNCTION audit_log_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.at := COALESCE(NEW.at, clock_timestamp());
    NEW.seq := NULL;
    NEW.prev_hash := NULL;
    NEW.hash := NULL;
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_log_stamp BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_stamp();

-- Append-only, except for chaining a row not yet chained: its number, its
-- time (moved up to the row before it, so times rise with numbers), the
-- previous row's hash and its own (only the owner may update the table at
-- all, and a wrong hash is what verification finds).
CREATE OR REPLACE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    before_row audit_log;
    after_row audit_log;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.at >= OLD.at THEN
        before_row := OLD;
        after_row := NEW;
        before_row.seq := NULL; before_row.at := NULL; before_row.prev_hash := NULL; before_row.hash := NULL;
        after_row.seq := NULL; after_row.at := NULL; after_row.prev_hash := NULL; after_row.hash := NULL;
        IF before_row IS NOT DISTINCT FROM after_row THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP;
END
$$;

-- The rows waiting for the chainer.
CREATE INDEX audit_log_unchained_idx ON audit_log (id) WHERE seq IS NULL;

-- The page's indexes hold chained rows only: a row enters them once, when
-- it is chained, not once unchained and again chained.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_seq_unique;
CREATE UNIQUE INDEX audit_log_seq_unique ON audit_log (seq) WHERE seq IS NOT NULL;
DROP INDEX audit_log_actor_idx, audit_log_team_idx, audit_log_environment_idx,
    audit_log_service_idx, audit_log_event_idx, audit_log_actor_event_idx,
    audit_log_team_event_idx, audit_log_environment_event_idx,
    audit_log_service_event_idx, audit_log_at_idx;
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, seq) WHERE seq IS NOT NULL;
CREATE INDEX audit_log_team_idx ON audit_log (team, seq) WHERE seq IS NOT NULL;
CREATE INDEX audit_log_environment_idx ON audit_log (environment, seq) WHERE seq IS NOT NULL;
CREATE INDEX audit_log_service_idx ON audit_log (service, seq) WHERE seq IS NOT NULL;
CREATE INDEX audit_log_event_idx ON audit_log (event, seq) WHERE seq IS NOT NULL;
CREATE INDEX audit_log_actor_event_idx ON audit_log (actor_id, event, seq) WHERE seq IS NOT NULL;
CREATE INDEX audit_log_team_event_idx ON audit_log (team, event, seq) WHERE seq IS NOT NULL;
CREATE INDEX audit_log_environment_event_idx ON audit_log (environment, event, seq) WHERE seq IS NOT NULL;
CREATE INDEX audit_log_service_event_idx ON audit_log (service, event, seq) WHERE seq IS NOT NULL;
CREATE INDEX audit_log_at_idx ON audit_log (at, seq) WHERE seq IS NOT NULL;

-- Chains every committed row not yet chained, after the chain's head.
-- Returns how many it chained; with `wait` false, -1 at once when another
-- session is chaining (it or the next chainer takes these rows too).
-- Runs as the schema's owner.
CREATE FUNCTION audit_chain_pending(wait boolean DEFAULT true) RETURNS bigint LANGUAGE plpgsql VOLATILE
    SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    r audit_log;
    last_seq bigint;
    last_hash text;
    last_at timestamptz;
    chained bigint := 0;
BEGIN
    IF wait THEN
        PERFORM pg_advisory_xact_lock(113668262264836);
    ELSIF NOT pg_try_advisory_xact_lock(113668262264836) THEN
        RETURN -1;
    END IF;
    SELECT seq, hash INTO last_seq, last_hash FROM audit_chain_head;
    SELECT at INTO last_at FROM audit_log WHERE seq = last_seq;
    FOR r IN SELECT * FROM audit_log WHERE seq IS NULL ORDER BY id FOR UPDATE LOOP
        last_seq := last_seq + 1;
        r.seq := last_seq;
        r.at := GREATEST(r.at, COALESCE(last_at, r.at));
        r.prev_hash := last_hash;
        r.hash := audit_hash(r);
        UPDATE audit_log SET seq = r.seq, at = r.at, prev_hash = r.prev_hash, hash = r.hash
            WHERE id = r.id;
        last_hash := r.hash;
        last_at := r.at;
        chained := chained + 1;
    END LOOP;
    IF chained > 0 THEN
        UPDATE audit_chain_head SET seq = last_seq, hash = last_hash;
    END IF;
    RETURN chained;
END
$$;
