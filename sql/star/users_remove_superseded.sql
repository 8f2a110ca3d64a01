-- Users with a later event in this load are rebuilt below from it.
DELETE FROM users
USING newer_user_events
WHERE users.user_id = newer_user_events.user_id
