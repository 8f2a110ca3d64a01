-- The users of this load are rebuilt below from all their kept events.
DELETE FROM users
WHERE user_id IN (
    SELECT user_id
    FROM staging_events
    WHERE NULLIF(user_id, '') IS NOT NULL
)
