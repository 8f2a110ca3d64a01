-- The users this load stages an event of: their users row and level periods are recomputed.
-- A temporary table of the transform's session, read by four statements.
CREATE TEMPORARY TABLE touched_users AS
SELECT DISTINCT user_id
FROM staged_user_events
