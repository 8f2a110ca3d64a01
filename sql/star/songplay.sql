-- Touched plays not in songplay yet, numbered in time order (then by play key).
INSERT INTO songplay (
    start_time, user_id, level, song_id, artist_id,
    session_id, item_in_session, location, user_agent, song_title, artist_name
)
SELECT
    start_time,
    user_id,
    level,
    song_id,
    artist_id,
    session_id,
    item_in_session,
    location,
    user_agent,
    song_title,
    artist_name
FROM touched_plays
WHERE songplay_id IS NULL
ORDER BY start_time, user_id, session_id, item_in_session
