-- The level periods of the users of this load are rebuilt below from all their kept events.
DELETE FROM user_level_history
WHERE user_id IN (SELECT user_id FROM touched_users)
