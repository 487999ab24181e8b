-- Identity by an immutable subject, never by a name.
--
-- A users row is one identity: one account at one provider, keyed by the
-- provider's subject (GitHub's numeric account id, the OIDC issuer and
-- `sub`, a demo persona's login). `login` is for display only. Identities
-- linked by configuration belong to one person, and votes count people.
ALTER TABLE users
    ADD COLUMN issuer    text NOT NULL DEFAULT '',
    ADD COLUMN subject   text,
    ADD COLUMN person    text,
    ADD COLUMN github_id bigint,
    ADD COLUMN emails    text[] NOT NULL DEFAULT '{}';

-- Rows written before this migration were keyed by username: demo personas
-- keep theirs (a persona is its login); provider rows can no longer be
-- matched to anyone and stay only as the authors of past votes.
UPDATE users SET subject = CASE WHEN provider = 'demo' THEN login ELSE 'legacy-username:' || login END;
UPDATE users SET person = provider || ':' || subject;

ALTER TABLE users
    ALTER COLUMN subject SET NOT NULL,
    ALTER COLUMN person SET NOT NULL,
    DROP CONSTRAINT users_provider_login_key,
    ADD CONSTRAINT users_identity_key UNIQUE (provider, issuer, subject);
CREATE INDEX users_person_idx ON users (person);

-- One vote per person per request (an identity linked to another is the
-- same person), and whether the voter could be the commit's author.
ALTER TABLE approval_votes
    ADD COLUMN person         text,
    ADD COLUMN author_unknown boolean NOT NULL DEFAULT false;
UPDATE approval_votes v SET person = u.person FROM users u WHERE u.id = v.user_id;
ALTER TABLE approval_votes
    ALTER COLUMN person SET NOT NULL,
    ADD CONSTRAINT approval_votes_person_key UNIQUE (request_id, person);

-- The commit's author as a whole: GitHub account id (immutable) and the
-- e-mail written in the commit, besides the login and name.
ALTER TABLE approval_requests
    ADD COLUMN author_id    bigint,
    ADD COLUMN author_email text;

-- Free text has a bound (the app checks first and says so in words); rows
-- written before the bound stay as they are.
ALTER TABLE approval_votes
    ADD CONSTRAINT approval_votes_comment_length CHECK (char_length(comment) <= 2000) NOT VALID;

-- The history pages by (when decided, id), newest first, without OFFSET.
CREATE INDEX approval_requests_history_idx
    ON approval_requests ((COALESCE(decided_at, requested_at)) DESC, id DESC)
    WHERE state <> 'pending';
