-- Personal access tokens: a person's way in for scripts and the command
-- line. A token acts as its person (their roles decide, as in the
-- browser); its scopes only narrow what it may do. Only each token's
-- SHA-256 (hex) is kept, never the token: it is shown to its maker once.
-- `shown` is its first characters, so lists tell tokens apart.
--
-- A token made by someone signed in at GitHub or an OpenID provider keeps
-- that sign-in (provider, subject and the provider's token, sealed as a
-- session keeps it), so the person's roles are read again from there as
-- a session's are (`roles_checked_at`), and a revoked sign-in revokes it.
--
-- Adds a table only: a release without it ignores it (expand only).
CREATE TABLE api_tokens (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name             text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
    token_hash       text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    shown            text NOT NULL CHECK (shown ~ '^gatehouse_pat_[0-9A-Za-z]{4}$'),
    scopes           text[] NOT NULL CHECK (
                         cardinality(scopes) BETWEEN 1 AND 4
                         AND scopes <@ ARRAY['read', 'approve', 'calendar', 'audit']::text[]),
    provider         text CHECK (provider IN ('github', 'oidc')),
    subject          text CHECK (char_length(subject) BETWEEN 1 AND 255),
    sealed_token     text CHECK (char_length(sealed_token) BETWEEN 1 AND 8192),
    roles_checked_at timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL CHECK (expires_at > created_at),
    last_used_at     timestamptz,
    revoked_at       timestamptz,
    revoked_by       uuid REFERENCES users (id) ON DELETE SET NULL,
    CHECK ((provider IS NULL) = (subject IS NULL) AND (provider IS NULL) = (sealed_token IS NULL))
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id, created_at DESC);
