-- The distinct plays of the current staging load, built once per transform (three statements
-- read it). A temporary table: it lives as long as the transform's session.
CREATE TEMPORARY TABLE staged_plays AS
WITH next_song_events AS (
    SELECT
        user_id,
        session_id,
        item_in_session,
        COALESCE(session_id, -1) AS session_key,
        COALESCE(item_in_session, -1) AS item_key,
        ts,
        song,
        artist,
        length,
        NULLIF(level, '') AS level,
        NULLIF(location, '') AS location,
        NULLIF(user_agent, '') AS user_agent
    FROM staging_events
    WHERE page = 'NextSong'
      AND NULLIF(user_id, '') IS NOT NULL
),

-- A play is identified by (user_id, session_id, item_in_session): an event staged twice is
-- one play, its earliest copy (then the smallest content, so the pick never depends on load
-- order; star/earlier_copies.sql applies the same order across loads). The -1 keys let plays
-- with a missing session or item still compare equal.
numbered_events AS (
    SELECT
        next_song_events.*,
        ROW_NUMBER() OVER (
            PARTITION BY user_id, session_key, item_key
            ORDER BY ts, song, artist, length, level, location, user_agent
        ) AS copy_number
    FROM next_song_events
)

SELECT
    TIMESTAMP 'epoch' + ts / 1000.0 * INTERVAL '1 second' AS start_time,
    user_id,
    session_id,
    item_in_session,
    session_key,
    item_key,
    song,
    artist,
    length,
    level,
    location,
    user_agent
FROM numbered_events
WHERE copy_number = 1
