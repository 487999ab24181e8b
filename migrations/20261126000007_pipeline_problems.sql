-- Mapped pipelines that do not match the org configuration (missing
-- pipeline, stage or approval action), as the last pipeline check found
-- them; replaced by each check. Shown to admins and SRE.
CREATE TABLE pipeline_problems (
    pipeline       text PRIMARY KEY,
    service_id     text NOT NULL,
    environment_id text NOT NULL,
    problem        text NOT NULL,
    checked_at     timestamptz NOT NULL DEFAULT now()
);
