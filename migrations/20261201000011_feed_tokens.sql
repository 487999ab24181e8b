-- Each person's secret calendar-feed address: calendar apps cannot sign
-- in, so a feed URL carries a token that stands for its user, and the user
-- can replace it (the old link stops working at once).
CREATE TABLE feed_tokens (
    user_id    uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    token      text NOT NULL UNIQUE CHECK (char_length(token) BETWEEN 32 AND 128),
    created_at timestamptz NOT NULL DEFAULT now()
);
