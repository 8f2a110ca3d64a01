-- Only plays not loaded before: a rerun adds nothing and keeps every songplay_id.
INSERT INTO songplay (
    start_time, user_id, level, song_id, artist_id,
    session_id, item_in_session, location, user_agent
)
WITH new_plays AS (
    SELECT staged_plays.*
    FROM staged_plays
    WHERE NOT EXISTS (
        SELECT 1
        FROM songplay
        WHERE songplay.user_id = staged_plays.user_id
          AND COALESCE(songplay.session_id, -1) = staged_plays.session_key
          AND COALESCE(songplay.item_in_session, -1) = staged_plays.item_key
    )
)

SELECT
    new_plays.start_time,
    new_plays.user_id,
    new_plays.level,
    play_matches.song_id,
    song.artist_id,
    new_plays.session_id,
    new_plays.item_in_session,
    new_plays.location,
    new_plays.user_agent
FROM new_plays
LEFT JOIN play_matches
    ON play_matches.user_id = new_plays.user_id
   AND play_matches.session_key = new_plays.session_key
   AND play_matches.item_key = new_plays.item_key
LEFT JOIN song
    ON song.song_id = play_matches.song_id
ORDER BY new_plays.start_time, new_plays.user_id, new_plays.session_key, new_plays.item_key
