-- Every deployment a pipeline finished, per service and environment. The
-- board keeps only the newest (deployments); the delivery metrics (DORA)
-- need them all. Rows come from the board's job (a trigger on deployments)
-- and, once per Prod pipeline, from its earlier executions in CodePipeline.
CREATE TABLE deployment_history (
    id bigserial PRIMARY KEY,
    service_id text NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    environment_id text NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    execution_id text NOT NULL,
    commit_sha text,
    commit_message text,
    branch text,
    deployed_at timestamptz NOT NULL,
    -- When each commit this deployment brought was made (author dates, as
    -- RFC 3339 strings, at most 250), read from GitHub; NULL until read.
    commit_times jsonb,
    -- Why they cannot be read (the commit is not on GitHub), in words.
    commits_note text,
    UNIQUE (service_id, environment_id, execution_id),
    CHECK (commit_times IS NULL OR jsonb_typeof(commit_times) = 'array')
);
CREATE INDEX deployment_history_by_time ON deployment_history (environment_id, deployed_at);
CREATE INDEX deployment_history_by_service ON deployment_history (service_id, environment_id, deployed_at);
CREATE INDEX deployment_history_unread ON deployment_history (deployed_at)
    WHERE commit_times IS NULL AND commits_note IS NULL;

-- Pipelines whose earlier executions were read into the history.
CREATE TABLE deployment_history_backfills (
    service_id text NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    environment_id text NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    pipeline text NOT NULL,
    executions integer NOT NULL CHECK (executions >= 0),
    read_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, environment_id)
);

CREATE FUNCTION deployment_history_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO deployment_history
        (service_id, environment_id, execution_id, commit_sha, commit_message, branch, deployed_at)
    VALUES (NEW.service_id, NEW.environment_id, NEW.deployed_execution, NEW.commit_sha,
            NEW.commit_message, NEW.branch, NEW.deployed_at)
    ON CONFLICT (service_id, environment_id, execution_id) DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER deployments_history AFTER INSERT OR UPDATE OF deployed_execution ON deployments
    FOR EACH ROW
    WHEN (NEW.deployed_execution IS NOT NULL AND NEW.deployed_at IS NOT NULL)
    EXECUTE FUNCTION deployment_history_record();

INSERT INTO deployment_history
    (service_id, environment_id, execution_id, commit_sha, commit_message, branch, deployed_at)
SELECT service_id, environment_id, deployed_execution, commit_sha, commit_message, branch, deployed_at
FROM deployments
WHERE deployed_execution IS NOT NULL AND deployed_at IS NOT NULL
ON CONFLICT DO NOTHING;

-- New history changes what the Metrics page shows.
CREATE TRIGGER deployment_history_notify AFTER INSERT OR UPDATE ON deployment_history
    FOR EACH ROW EXECUTE FUNCTION notify_change('board');

-- An outage recorded after it ended (history, not news) sends no
-- "environment down" notification.
DROP TRIGGER outages_notify_down ON outages;
CREATE TRIGGER outages_notify_down AFTER INSERT ON outages
    FOR EACH ROW
    WHEN (NEW.ended_at IS NULL)
    EXECUTE FUNCTION notification_from_outage();
