-- The level history of every user staged now is rebuilt below from all their kept events.
DELETE FROM user_level_history
WHERE user_id IN (
    SELECT user_id
    FROM staging_events
    WHERE NULLIF(user_id, '') IS NOT NULL
)
