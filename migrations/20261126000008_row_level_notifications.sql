-- Notify only when rows really change: statement-level triggers also fired
-- for the poller's UPDATEs that matched nothing, making every open page
-- refetch on every poll.
DROP TRIGGER approval_requests_notify ON approval_requests;
DROP TRIGGER approval_votes_notify ON approval_votes;
DROP TRIGGER approval_deliveries_notify ON approval_deliveries;
DROP TRIGGER calendar_changes_notify ON calendar_changes;

-- Postgres folds identical notifications within a transaction into one.
CREATE TRIGGER approval_requests_notify AFTER INSERT OR UPDATE OR DELETE ON approval_requests
    FOR EACH ROW EXECUTE FUNCTION notify_change('approvals');
CREATE TRIGGER approval_votes_notify AFTER INSERT OR UPDATE OR DELETE ON approval_votes
    FOR EACH ROW EXECUTE FUNCTION notify_change('approvals');
CREATE TRIGGER approval_deliveries_notify AFTER INSERT OR UPDATE OR DELETE ON approval_deliveries
    FOR EACH ROW EXECUTE FUNCTION notify_change('approvals');
CREATE TRIGGER calendar_changes_notify AFTER INSERT ON calendar_changes
    FOR EACH ROW EXECUTE FUNCTION notify_change('calendar');
