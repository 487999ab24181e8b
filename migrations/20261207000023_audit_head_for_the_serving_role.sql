-- The audit chain's tamper check runs as the role Gatehouse serves with.
--
-- The serving role may not read or move `audit_chain_head` (only the
-- owner's chaining function moves it), yet a verification needs the head:
-- without it, rows deleted from the end of the log go unseen, and without
-- a recorded verification nothing anchors earlier hashes. This function
-- runs with its owner's rights and answers the head and nothing else.
-- `migrate_and_grant` grants EXECUTE on it to the serving role.
CREATE FUNCTION audit_chain_head_now()
RETURNS TABLE (seq bigint, hash text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$ SELECT h.seq, h.hash FROM public.audit_chain_head h $$;

REVOKE ALL ON FUNCTION audit_chain_head_now() FROM PUBLIC;

-- A verification that could not run at all (a permission, a lost
-- connection) says why here, with ok false and nothing checked, so the
-- Audit page can say so instead of "not verified yet". NULL for a
-- verification that ran, whatever it found.
ALTER TABLE audit_verifications ADD COLUMN could_not_run text;
