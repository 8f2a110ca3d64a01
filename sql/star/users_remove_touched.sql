-- The users of this load are rebuilt below from all their kept events.
DELETE FROM users
WHERE user_id IN (SELECT user_id FROM touched_users)
