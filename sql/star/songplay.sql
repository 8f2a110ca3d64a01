-- Only plays not loaded before: a rerun adds nothing and keeps every songplay_id.
INSERT INTO songplay (
    start_time, user_id, level, song_id, artist_id,
    session_id, item_in_session, location, user_agent
)
SELECT
    staged_plays.start_time,
    staged_plays.user_id,
    staged_plays.level,
    staged_plays.song_id,
    staged_plays.artist_id,
    staged_plays.session_id,
    staged_plays.item_in_session,
    staged_plays.location,
    staged_plays.user_agent
FROM staged_plays
WHERE NOT EXISTS (
    SELECT 1
    FROM songplay
    WHERE songplay.user_id = staged_plays.user_id
      AND COALESCE(songplay.session_id, -1) = staged_plays.session_key
      AND COALESCE(songplay.item_in_session, -1) = staged_plays.item_key
)
ORDER BY staged_plays.start_time, staged_plays.user_id, staged_plays.session_key,
         staged_plays.item_key
