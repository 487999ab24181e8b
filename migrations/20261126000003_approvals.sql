-- Approval rules per environment (NULL approvers: no approval needed).
ALTER TABLE environments
    ADD COLUMN approvers          text[],
    ADD COLUMN required_approvals integer CHECK (required_approvals BETWEEN 1 AND 5);

-- A CodePipeline manual approval Gatehouse has seen waiting.
CREATE TABLE approval_requests (
    id             uuid PRIMARY KEY,
    service_id     text NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    environment_id text NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    pipeline       text NOT NULL,
    stage          text NOT NULL,
    action         text NOT NULL,
    execution_id   text NOT NULL,
    token          text NOT NULL,
    commit_sha     text NOT NULL,
    commit_message text,
    branch         text,
    commit_url     text,
    requested_at   timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    seen_at        timestamptz NOT NULL DEFAULT now(),
    -- pending: waiting for votes; approved/rejected: decided in Gatehouse;
    -- closed: answered elsewhere, expired or superseded.
    state          text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'rejected', 'closed')),
    closed_reason  text,
    decided_at     timestamptz,
    CONSTRAINT approval_requests_execution_key UNIQUE (pipeline, stage, action, execution_id)
);
CREATE INDEX approval_requests_state_idx ON approval_requests (state, requested_at DESC);

-- One vote per person per request.
CREATE TABLE approval_votes (
    request_id uuid NOT NULL REFERENCES approval_requests (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id),
    decision   text NOT NULL CHECK (decision IN ('approve', 'reject')),
    comment    text NOT NULL DEFAULT '',
    sign_off   jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, user_id)
);

-- The decision to send to CodePipeline: at most one per request. Whoever
-- holds the lease calls PutApprovalResult; the outcome is written after.
CREATE TABLE approval_deliveries (
    request_id   uuid PRIMARY KEY REFERENCES approval_requests (id) ON DELETE CASCADE,
    decision     text NOT NULL CHECK (decision IN ('approve', 'reject')),
    summary      text NOT NULL CHECK (char_length(summary) <= 512),
    created_at   timestamptz NOT NULL DEFAULT now(),
    attempts     integer NOT NULL DEFAULT 0,
    lease_until  timestamptz,
    outcome      text CHECK (outcome IN ('delivered', 'reconciled', 'failed')),
    aws_result   text,
    completed_at timestamptz
);
CREATE INDEX approval_deliveries_open_idx ON approval_deliveries (created_at) WHERE outcome IS NULL;

-- Every decision and every answer from AWS. Append-only.
CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    event        text NOT NULL,
    actor_id     uuid,
    actor_name   text,
    actor_roles  text[] NOT NULL DEFAULT '{}',
    request_id   uuid,
    pipeline     text,
    stage        text,
    action       text,
    execution_id text,
    revision     text,
    decision     text,
    comment      text,
    sign_off     jsonb,
    aws_result   text
);
CREATE INDEX audit_log_request_idx ON audit_log (request_id, id);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP;
END
$$;
CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
