-- How services and environments map to CodePipeline pipelines.
ALTER TABLE org_settings
    ADD COLUMN pipeline_template text NOT NULL DEFAULT '{service}-{environment}',
    ADD COLUMN approval_stage    text NOT NULL DEFAULT 'Approval',
    ADD COLUMN approval_action   text NOT NULL DEFAULT 'ManualApproval';
