-- The organisation model, synced from the org configuration file at start.

CREATE TABLE org_settings (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    name        text NOT NULL,
    source_file text NOT NULL,
    synced_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE teams (
    id       text PRIMARY KEY,
    name     text NOT NULL,
    position integer NOT NULL,
    CONSTRAINT teams_name_key UNIQUE (name) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE services (
    id         text PRIMARY KEY,
    team_id    text NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name       text NOT NULL,
    repository text NOT NULL,
    position   integer NOT NULL
);
CREATE INDEX services_team_id_idx ON services (team_id);

CREATE TABLE environments (
    id           text PRIMARY KEY,
    name         text NOT NULL,
    position     integer NOT NULL,
    usage        text NOT NULL,
    test_types   text[] NOT NULL,
    branches     text[] NOT NULL CHECK (cardinality(branches) > 0),
    trigger      text NOT NULL,
    stakeholders text[] NOT NULL CHECK (cardinality(stakeholders) > 0),
    down_policy  text NOT NULL,
    CONSTRAINT environments_name_key UNIQUE (name) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT environments_position_key UNIQUE (position) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE environment_overrides (
    team_id        text NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    environment_id text NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    branches       text[],
    trigger        text,
    stakeholders   text[],
    PRIMARY KEY (team_id, environment_id),
    CHECK (branches IS NOT NULL OR trigger IS NOT NULL OR stakeholders IS NOT NULL)
);

-- People. Demo personas are users with provider 'demo'.
CREATE TABLE users (
    id               uuid PRIMARY KEY,
    login            text NOT NULL,
    display_name     text NOT NULL,
    roles            text[] NOT NULL DEFAULT '{}',
    provider         text NOT NULL CHECK (provider IN ('demo', 'github', 'oidc')),
    persona_title    text,
    persona_position integer,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_provider_login_key UNIQUE (provider, login)
);

-- Server-side sessions (tower-sessions' Postgres store layout).
CREATE SCHEMA IF NOT EXISTS tower_sessions;
CREATE TABLE tower_sessions.session (
    id          text PRIMARY KEY NOT NULL,
    data        bytea NOT NULL,
    expiry_date timestamptz NOT NULL
);
CREATE INDEX session_expiry_date_idx ON tower_sessions.session (expiry_date);
