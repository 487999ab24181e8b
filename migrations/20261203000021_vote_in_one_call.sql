-- A vote's transaction in one call, and one place that says how a
-- request's audit row is made.
--
-- A vote used to be seven round trips (BEGIN, the lock, the vote, its
-- audit rows, the decision, COMMIT), with the request's row locked across
-- all of them, including while the process waited for a core. Now
-- Gatehouse decides what it can in Rust (the policy, the sentences) and
-- hands PostgreSQL the result in one statement, so the lock is held for
-- that statement only. (Measured at 50 approvers at once on 2 cores with
-- the vote's request read in one statement too: PostgreSQL's CPU per
-- approval 3.2-3.7 ms before, 2.9-3.0 ms after; nearly all of the gain
-- came only once audit_request was PL/pgSQL, whose plan is kept, instead
-- of SQL, planned again on every call.)
--
-- The audit row of a request was written by an INSERT in two places (the
-- Rust helper and the delivery's one-statement finish); both now call
-- audit_request, so a new column is added once.

-- One audit row about a request: the request's pipeline, stage, action,
-- execution, revision, team, environment and service are copied from the
-- request; its sentence is `lead`, the pipeline's name, `tail` (a name is
-- never taken for a placeholder). Returns the row's id (NULL when there is
-- no such request).
CREATE FUNCTION audit_request(request uuid, event text, actor_id uuid, actor_name text,
                              actor_roles text[], decision text, comment text, sign_off jsonb,
                              aws_result text, lead text, tail text)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
-- PL/pgSQL, not SQL: its statement's plan is kept for the session instead
-- of made again on every call.
DECLARE
    appended bigint;
BEGIN
    INSERT INTO audit_log (event, actor_id, actor_name, actor_roles, request_id, pipeline, stage, action,
           execution_id, revision, decision, comment, sign_off, aws_result, team, environment, service, summary)
    SELECT audit_request.event, audit_request.actor_id, audit_request.actor_name,
           COALESCE(audit_request.actor_roles, '{}'), r.id, r.pipeline, r.stage, r.action,
           r.execution_id, r.commit_sha, audit_request.decision, audit_request.comment,
           audit_request.sign_off, audit_request.aws_result,
           s.team_id, r.environment_id, r.service_id, left(lead || r.pipeline || tail, 1000)
    FROM approval_requests r JOIN services s ON s.id = r.service_id
    WHERE r.id = request
    RETURNING id INTO appended;
    RETURN appended;
END
$$;

-- Records one vote on a pending request, atomically: false (and nothing
-- written) when the request is no longer pending, when its votes are no
-- longer exactly the `expected_votes` the vote was weighed with, or when
-- this identity or person has voted already. With `decided` set, the vote
-- decides: the delivery to make and the request's new state are written
-- too. `audits` are the rows to append after the vote, in order, each
-- {event, decision, comment, sign_off, lead, tail}, all by the voter.
CREATE FUNCTION cast_vote(request uuid, voter uuid, voter_person text, voter_name text,
                          voter_roles text[], vote_decision text, vote_comment text,
                          vote_sign_off jsonb, vote_author_unknown boolean,
                          expected_votes bigint, audits jsonb, decided text,
                          decided_state text, delivery_summary text)
RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    a record;
BEGIN
    PERFORM 1 FROM approval_requests WHERE id = request AND state = 'pending' FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    -- Lock first, count after: under READ COMMITTED each statement here
    -- takes its own snapshot, so this count, taken after the lock was
    -- granted, sees the vote the lock's previous holder committed (a count
    -- inside the locking statement would miss it, and two approvers at
    -- once would each leave a 2-of-M request undecided).
    INSERT INTO approval_votes (request_id, user_id, person, decision, comment, sign_off, author_unknown)
    SELECT request, voter, voter_person, vote_decision, vote_comment, vote_sign_off, vote_author_unknown
    WHERE (SELECT count(*) FROM approval_votes WHERE request_id = request) = expected_votes
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    IF decided IS NOT NULL THEN
        INSERT INTO approval_deliveries (request_id, decision, summary)
        VALUES (request, decided, delivery_summary);
        UPDATE approval_requests SET state = decided_state, decided_at = now() WHERE id = request;
    END IF;
    FOR a IN SELECT value AS row FROM jsonb_array_elements(audits) WITH ORDINALITY ORDER BY ordinality LOOP
        PERFORM audit_request(request, a.row->>'event', voter, voter_name, voter_roles,
                              a.row->>'decision', a.row->>'comment', NULLIF(a.row->'sign_off', 'null'::jsonb), NULL,
                              a.row->>'lead', a.row->>'tail');
    END LOOP;
    RETURN true;
END
$$;
