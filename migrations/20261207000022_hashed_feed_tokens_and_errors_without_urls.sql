-- Secrets kept out of the database's plain text.
--
-- A calendar-feed token stands for its person (calendar apps cannot sign
-- in), so whoever reads `feed_tokens` could read every feed as anyone.
-- Gatehouse now keeps only each token's SHA-256 (hex) and looks a feed's
-- token up by its hash; the token itself is shown to its owner once, when
-- it is made. Links made before this keep working: their hashes are taken
-- here. (A token is 244 random bits, so an unsalted hash is enough.)
ALTER TABLE feed_tokens ADD COLUMN token_hash text;
UPDATE feed_tokens SET token_hash = encode(sha256(convert_to(token, 'UTF8')), 'hex');
ALTER TABLE feed_tokens
    ALTER COLUMN token_hash SET NOT NULL,
    ADD CONSTRAINT feed_tokens_token_hash_key UNIQUE (token_hash),
    ADD CONSTRAINT feed_tokens_token_hash_check CHECK (token_hash ~ '^[0-9a-f]{64}$');
DROP TRIGGER feed_tokens_notify ON feed_tokens;
ALTER TABLE feed_tokens DROP COLUMN token;
-- The Calendar page says whether its viewer has a link and since when: a
-- new, replaced or removed link changes it.
CREATE TRIGGER feed_tokens_notify AFTER INSERT OR UPDATE OR DELETE ON feed_tokens
    FOR EACH ROW EXECUTE FUNCTION notify_change('people');

-- A webhook that could not be reached was recorded with the error's text,
-- which named the webhook's secret URL. New errors are written without
-- URLs; the ones already kept lose theirs.
UPDATE notification_deliveries
   SET last_error = regexp_replace(last_error, 'https?://[^[:space:]"''<>()`]*', '[URL hidden]', 'gi')
 WHERE last_error ~* 'https?://';
