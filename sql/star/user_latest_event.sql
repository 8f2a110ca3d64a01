INSERT INTO user_latest_event (user_id, ts, item_in_session, session_id)
SELECT
    user_id,
    ts,
    item_in_session,
    session_id
FROM newer_user_events
