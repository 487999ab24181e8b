-- Notifications: a transactional outbox and its deliveries.
--
-- What is worth telling people is written to notification_outbox by
-- triggers, in the transaction that records it (an audited approval event,
-- an outage opening or closing), or by the reminder job (code freeze
-- tomorrow, release day) under a unique key. One process at a time (the
-- notifier's leader) routes each outbox row to the channels subscribed to
-- it, as notification_deliveries rows, unique per row, channel and
-- recipient, and sends each delivery with retries and backoff.

CREATE TABLE notification_outbox (
    id          bigserial PRIMARY KEY,
    event       text NOT NULL CHECK (event IN (
                    'approval-waiting', 'approval-decided', 'delivery-failed',
                    'environment-down', 'environment-up',
                    'code-freeze-tomorrow', 'release-day', 'pipeline-problem')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- Where it came from: an audit row, an outage, or a reminder's key.
    audit_id    bigint,
    outage_id   bigint,
    dedupe_key  text UNIQUE CHECK (char_length(dedupe_key) <= 200),
    -- What the reminder job knew (release, team, day).
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
    routed_at   timestamptz
);
CREATE INDEX notification_outbox_unrouted_idx ON notification_outbox (id) WHERE routed_at IS NULL;

CREATE TABLE notification_deliveries (
    id              bigserial PRIMARY KEY,
    outbox_id       bigint NOT NULL REFERENCES notification_outbox (id) ON DELETE CASCADE,
    event           text NOT NULL,
    channel         text NOT NULL CHECK (char_length(channel) <= 64),
    -- An e-mail address, or '' for a webhook.
    recipient       text NOT NULL DEFAULT '' CHECK (char_length(recipient) <= 320),
    team_id         text,
    environment_id  text,
    title           text NOT NULL CHECK (char_length(title) <= 300),
    body            text NOT NULL CHECK (char_length(body) <= 4000),
    link            text CHECK (char_length(link) <= 2000),
    -- pending: to send; sent; failed: given up (admins see why);
    -- recorded: demo mode without a sink, kept for the Notifications page.
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sent', 'failed', 'recorded')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_until     timestamptz,
    last_error      text CHECK (char_length(last_error) <= 1000),
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    CONSTRAINT notification_deliveries_once UNIQUE (outbox_id, channel, recipient)
);
CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX notification_deliveries_recent_idx ON notification_deliveries (id DESC);

-- A person's muted events (by person, so linked identities share them).
CREATE TABLE notification_mutes (
    person     text PRIMARY KEY,
    events     text[] NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION notification_from_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notification_outbox (event, audit_id)
    VALUES (CASE NEW.event
                WHEN 'requested' THEN 'approval-waiting'
                WHEN 'decision' THEN 'approval-decided'
                WHEN 'aws_failed' THEN 'delivery-failed'
                ELSE 'pipeline-problem'
            END,
            NEW.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_log_notifies AFTER INSERT ON audit_log
    FOR EACH ROW
    WHEN (NEW.event IN ('requested', 'decision', 'aws_failed', 'pipeline_problem'))
    EXECUTE FUNCTION notification_from_audit();

CREATE FUNCTION notification_from_outage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notification_outbox (event, outage_id)
    VALUES (CASE WHEN TG_OP = 'INSERT' THEN 'environment-down' ELSE 'environment-up' END, NEW.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER outages_notify_down AFTER INSERT ON outages
    FOR EACH ROW EXECUTE FUNCTION notification_from_outage();
CREATE TRIGGER outages_notify_up AFTER UPDATE OF ended_at ON outages
    FOR EACH ROW
    WHEN (OLD.ended_at IS NULL AND NEW.ended_at IS NOT NULL)
    EXECUTE FUNCTION notification_from_outage();

CREATE TRIGGER notification_deliveries_notify AFTER INSERT OR UPDATE OF state ON notification_deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION notify_change('notifications');
