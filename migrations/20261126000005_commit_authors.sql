-- Who wrote the commit an approval is for, as GitHub says, so the four-eyes
-- rule can refuse its author. `author_checked` is false until GitHub has
-- answered (a lookup that failed is tried again before a vote counts).
ALTER TABLE approval_requests
    ADD COLUMN author_login   text,
    ADD COLUMN author_name    text,
    ADD COLUMN author_checked boolean NOT NULL DEFAULT false;
