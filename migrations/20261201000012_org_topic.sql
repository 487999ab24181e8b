-- The org model is cached in each server process; a sync of the org
-- configuration (any replica's start-up) tells every process to reload it.
CREATE TRIGGER org_settings_notify AFTER INSERT OR UPDATE OR DELETE ON org_settings
    FOR EACH STATEMENT EXECUTE FUNCTION notify_change('org');
CREATE TRIGGER teams_notify AFTER INSERT OR UPDATE OR DELETE ON teams
    FOR EACH STATEMENT EXECUTE FUNCTION notify_change('org');
CREATE TRIGGER services_notify AFTER INSERT OR UPDATE OR DELETE ON services
    FOR EACH STATEMENT EXECUTE FUNCTION notify_change('org');
CREATE TRIGGER environments_notify AFTER INSERT OR UPDATE OR DELETE ON environments
    FOR EACH STATEMENT EXECUTE FUNCTION notify_change('org');
CREATE TRIGGER environment_overrides_notify AFTER INSERT OR UPDATE OR DELETE ON environment_overrides
    FOR EACH STATEMENT EXECUTE FUNCTION notify_change('org');
