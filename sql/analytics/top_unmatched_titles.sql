-- The ten titles played most that match no song, with the artist the event named: what the
-- song catalogue lacks. A play asked for what its earliest copy in user_events names (the copy
-- star/touched_plays takes, in the same order).
WITH unmatched_plays AS (
    SELECT
        user_id,
        COALESCE(session_id, -1) AS session_key,
        COALESCE(item_in_session, -1) AS item_key
    FROM songplay
    WHERE song_id IS NULL
),

copies_by_age AS (
    SELECT
        user_events.song AS title,
        user_events.artist AS artist_name,
        ROW_NUMBER() OVER (
            PARTITION BY unmatched_plays.user_id, unmatched_plays.session_key,
                         unmatched_plays.item_key
            ORDER BY user_events.ts, user_events.song, user_events.artist, user_events.length,
                     user_events.level, user_events.location, user_events.user_agent,
                     user_events.session_id, user_events.item_in_session
        ) AS age
    FROM user_events
    INNER JOIN unmatched_plays
        ON unmatched_plays.user_id = user_events.user_id
       AND unmatched_plays.session_key = COALESCE(user_events.session_id, -1)
       AND unmatched_plays.item_key = COALESCE(user_events.item_in_session, -1)
    WHERE user_events.is_play
)

SELECT
    title,
    artist_name,
    COUNT(*) AS plays
FROM copies_by_age
WHERE age = 1
GROUP BY title, artist_name
ORDER BY plays DESC, title NULLS LAST, artist_name NULLS LAST
LIMIT 10
