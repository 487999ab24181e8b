-- The Prod plan: each service's calls (its IPC dependencies) and whether a
-- blocked Prod approval is refused outright.
ALTER TABLE services
    ADD COLUMN calls jsonb NOT NULL DEFAULT '[]'::jsonb
        CONSTRAINT services_calls_bounded
        CHECK (jsonb_typeof(calls) = 'array' AND pg_column_size(calls) <= 65536);

ALTER TABLE org_settings
    ADD COLUMN prod_plan_strict boolean NOT NULL DEFAULT false;
