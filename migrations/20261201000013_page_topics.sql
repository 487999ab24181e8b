-- Whole pages are kept in each server process until something they show
-- changes. Two things a page shows had no notification: a person's
-- calendar-feed link (replaced on request) and the pipeline problems the
-- Approvals page lists (rewritten by each check only when they differ).
CREATE TRIGGER feed_tokens_notify AFTER UPDATE ON feed_tokens
    FOR EACH ROW WHEN (OLD.token IS DISTINCT FROM NEW.token)
    EXECUTE FUNCTION notify_change('people');
CREATE TRIGGER pipeline_problems_notify AFTER INSERT OR UPDATE OR DELETE ON pipeline_problems
    FOR EACH ROW EXECUTE FUNCTION notify_change('approvals');
