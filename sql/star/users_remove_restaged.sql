-- Users seen in this load are rebuilt below from their latest staged event.
DELETE FROM users
USING (
    SELECT DISTINCT user_id
    FROM staging_events
    WHERE NULLIF(user_id, '') IS NOT NULL
) AS restaged_users
WHERE users.user_id = restaged_users.user_id
