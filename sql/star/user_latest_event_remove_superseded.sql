DELETE FROM user_latest_event
USING newer_user_events
WHERE user_latest_event.user_id = newer_user_events.user_id
