-- The environment board: what each service's pipeline for each environment
-- last deployed and what it is doing now, how far each environment is
-- behind the one before it, hotfix branches, and health with outages.
-- Written by the leader's jobs, read by every page: no page asks AWS or
-- GitHub.

-- One row per service and environment, rewritten only when it changes.
CREATE TABLE deployments (
    service_id text NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    environment_id text NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    pipeline text NOT NULL,
    -- The revision the last successful execution deployed.
    commit_sha text,
    commit_message text,
    branch text,
    revision_url text,
    tag text,
    deployed_execution text,
    deployed_at timestamptz,
    -- The newest execution and each action's latest status.
    latest_execution text,
    latest_status text,
    actions jsonb NOT NULL DEFAULT '[]'::jsonb,
    -- Why CodePipeline could not be read, in words.
    problem text,
    PRIMARY KEY (service_id, environment_id)
);

-- How many commits an environment's revision lacks of the environment
-- before it (`ahead_of`), with those commits.
CREATE TABLE commit_gaps (
    service_id text NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    environment_id text NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    ahead_of text NOT NULL,
    base_sha text NOT NULL,
    head_sha text NOT NULL,
    behind_by integer NOT NULL CHECK (behind_by >= 0),
    commits jsonb NOT NULL,
    PRIMARY KEY (service_id, environment_id)
);

-- hotfix/* branches and where they have reached.
CREATE TABLE hotfixes (
    service_id text NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    branch text NOT NULL,
    head_sha text NOT NULL,
    -- The Release environment runs a revision containing the hotfix.
    in_release_env boolean NOT NULL,
    merged_develop boolean NOT NULL,
    -- NULL when there is no open release branch.
    release_branch text,
    merged_release boolean,
    -- The revisions these answers were computed from.
    checked_key text NOT NULL,
    PRIMARY KEY (service_id, branch)
);

-- The prober's view of each health URL; written when a probe differs from
-- the one before (`checked_at` is that probe's time). Changes of state are
-- in health_changes, which notifies.
CREATE TABLE health_status (
    service_id text NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    environment_id text NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    url text NOT NULL,
    up boolean,
    since timestamptz,
    -- Consecutive probes that disagree with `up`.
    streak integer NOT NULL DEFAULT 0,
    streak_since timestamptz,
    checked_at timestamptz,
    detail text,
    PRIMARY KEY (service_id, environment_id)
);

-- Every change of state, never every probe.
CREATE TABLE health_changes (
    id bigserial PRIMARY KEY,
    service_id text NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    environment_id text NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    up boolean NOT NULL,
    at timestamptz NOT NULL,
    detail text
);

-- Downtime, for environments whose policy counts it or raises a ticket.
CREATE TABLE outages (
    id bigserial PRIMARY KEY,
    service_id text NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    environment_id text NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    started_at timestamptz NOT NULL,
    ended_at timestamptz,
    -- Whether the down policy wants a Critical ticket for it.
    ticket boolean NOT NULL,
    issue_number bigint,
    issue_url text,
    -- The ticket was commented on and closed after recovery.
    issue_closed boolean NOT NULL DEFAULT false,
    CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE UNIQUE INDEX outages_one_open ON outages (service_id, environment_id) WHERE ended_at IS NULL;
CREATE INDEX outages_by_cell ON outages (service_id, environment_id, started_at DESC);

CREATE TRIGGER deployments_notify AFTER INSERT OR UPDATE OR DELETE ON deployments
    FOR EACH ROW EXECUTE FUNCTION notify_change('board');
CREATE TRIGGER commit_gaps_notify AFTER INSERT OR UPDATE OR DELETE ON commit_gaps
    FOR EACH ROW EXECUTE FUNCTION notify_change('board');
CREATE TRIGGER hotfixes_notify AFTER INSERT OR UPDATE OR DELETE ON hotfixes
    FOR EACH ROW EXECUTE FUNCTION notify_change('board');
CREATE TRIGGER health_changes_notify AFTER INSERT ON health_changes
    FOR EACH ROW EXECUTE FUNCTION notify_change('board');
CREATE TRIGGER outages_notify AFTER INSERT OR UPDATE ON outages
    FOR EACH ROW EXECUTE FUNCTION notify_change('board');
