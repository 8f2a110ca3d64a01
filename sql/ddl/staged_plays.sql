-- The plays of the current staging load, each matched to at most one song.
-- Shared by the songplay insert and the songplay re-match, so both apply the same rule.
CREATE OR REPLACE VIEW staged_plays AS
WITH next_song_events AS (
    SELECT
        user_id,
        session_id,
        item_in_session,
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
-- one play. The -1 keys let plays with a missing session or item still compare equal.
distinct_plays AS (
    SELECT *
    FROM (
        SELECT
            next_song_events.*,
            COALESCE(session_id, -1) AS session_key,
            COALESCE(item_in_session, -1) AS item_key,
            ROW_NUMBER() OVER (
                PARTITION BY user_id, session_id, item_in_session
                ORDER BY ts, song, artist, length
            ) AS copy_number
        FROM next_song_events
    ) AS numbered_events
    WHERE copy_number = 1
),

-- Every song with the play's exact title and artist name. When several match, the one whose
-- duration is closest to the played length wins, then the smallest song_id.
song_candidates AS (
    SELECT
        distinct_plays.user_id,
        distinct_plays.session_key,
        distinct_plays.item_key,
        staging_songs.song_id,
        ROW_NUMBER() OVER (
            PARTITION BY distinct_plays.user_id, distinct_plays.session_key, distinct_plays.item_key
            ORDER BY ABS(staging_songs.duration - distinct_plays.length) NULLS LAST,
                     staging_songs.song_id
        ) AS closeness
    FROM distinct_plays
    INNER JOIN staging_songs
        ON staging_songs.title = distinct_plays.song
       AND staging_songs.artist_name = distinct_plays.artist
    WHERE NULLIF(staging_songs.song_id, '') IS NOT NULL
),

best_matches AS (
    SELECT user_id, session_key, item_key, song_id
    FROM song_candidates
    WHERE closeness = 1
)

SELECT
    TIMESTAMP 'epoch' + distinct_plays.ts / 1000.0 * INTERVAL '1 second' AS start_time,
    distinct_plays.user_id,
    distinct_plays.level,
    best_matches.song_id,
    song.artist_id,
    distinct_plays.session_id,
    distinct_plays.item_in_session,
    distinct_plays.location,
    distinct_plays.user_agent,
    distinct_plays.session_key,
    distinct_plays.item_key
FROM distinct_plays
LEFT JOIN best_matches
    ON best_matches.user_id = distinct_plays.user_id
   AND best_matches.session_key = distinct_plays.session_key
   AND best_matches.item_key = distinct_plays.item_key
LEFT JOIN song
    ON song.song_id = best_matches.song_id
