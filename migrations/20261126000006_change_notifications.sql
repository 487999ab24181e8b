-- Live updates: every write that changes what a page shows notifies the
-- channel `gatehouse_changes` with its topic. One listener per server
-- process fans the notifications out to the browsers watching (server-sent
-- events), whichever replica made the change.

CREATE FUNCTION notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('gatehouse_changes', '{"topic":"' || TG_ARGV[0] || '"}');
    RETURN NULL;
END
$$;

CREATE TRIGGER approval_requests_notify AFTER INSERT OR UPDATE OR DELETE ON approval_requests
    FOR EACH STATEMENT EXECUTE FUNCTION notify_change('approvals');
CREATE TRIGGER approval_votes_notify AFTER INSERT OR UPDATE OR DELETE ON approval_votes
    FOR EACH STATEMENT EXECUTE FUNCTION notify_change('approvals');
CREATE TRIGGER approval_deliveries_notify AFTER INSERT OR UPDATE OR DELETE ON approval_deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION notify_change('approvals');
CREATE TRIGGER calendar_changes_notify AFTER INSERT ON calendar_changes
    FOR EACH STATEMENT EXECUTE FUNCTION notify_change('calendar');
