-- A delivery's lease, taken and given back around each attempt to send a
-- decision, changes nothing a page shows: only a new delivery, its
-- outcome and CodePipeline's words notify. Every notifying transaction
-- holds Postgres's one notification lock through its commit, so the
-- lease's notification made every approval wait for one more commit of
-- everyone else's.
DROP TRIGGER approval_deliveries_notify ON approval_deliveries;
CREATE TRIGGER approval_deliveries_notify AFTER INSERT OR DELETE ON approval_deliveries
    FOR EACH ROW EXECUTE FUNCTION notify_change('approvals');
CREATE TRIGGER approval_deliveries_outcome_notify AFTER UPDATE ON approval_deliveries
    FOR EACH ROW
    WHEN (OLD.outcome IS DISTINCT FROM NEW.outcome
          OR OLD.aws_result IS DISTINCT FROM NEW.aws_result
          OR OLD.decision IS DISTINCT FROM NEW.decision)
    EXECUTE FUNCTION notify_change('approvals');
