-- The plays this load touches, each computed from all its kept copies as a full load computes
-- every play: the plays it stages, plays kept before whose title and artist a song it stages
-- has, and plays of a song it stages again. A temporary table of the transform's session: songplay's update and insert
-- and time read it (Redshift's MERGE would need it as a table too).
CREATE TEMPORARY TABLE touched_plays AS
WITH staged_plays AS (
    SELECT
        user_id,
        COALESCE(session_id, -1) AS session_key,
        COALESCE(item_in_session, -1) AS item_key
    FROM staging_events
    WHERE page = 'NextSong'
      AND NULLIF(user_id, '') IS NOT NULL
),

staged_titles AS (
    SELECT DISTINCT
        NULLIF(title, '') AS title,
        NULLIF(artist_name, '') AS artist_name
    FROM staging_songs
),

rematched_plays AS (
    SELECT
        user_events.user_id,
        COALESCE(user_events.session_id, -1) AS session_key,
        COALESCE(user_events.item_in_session, -1) AS item_key
    FROM user_events
    INNER JOIN staged_titles
        ON staged_titles.title = user_events.song
       AND staged_titles.artist_name = user_events.artist
    WHERE user_events.is_play
),

-- A song staged again may change the artist_id its plays carry.
plays_of_staged_songs AS (
    SELECT
        songplay.user_id,
        COALESCE(songplay.session_id, -1) AS session_key,
        COALESCE(songplay.item_in_session, -1) AS item_key
    FROM songplay
    WHERE songplay.song_id IN (SELECT song_id FROM staging_songs)
),

touched_keys AS (
    SELECT * FROM staged_plays
    UNION
    SELECT * FROM rematched_plays
    UNION
    SELECT * FROM plays_of_staged_songs
),

play_copies AS (
    SELECT
        user_events.*,
        touched_keys.session_key,
        touched_keys.item_key
    FROM user_events
    INNER JOIN touched_keys
        ON touched_keys.user_id = user_events.user_id
       AND touched_keys.session_key = COALESCE(user_events.session_id, -1)
       AND touched_keys.item_key = COALESCE(user_events.item_in_session, -1)
    WHERE user_events.is_play
),

-- A play is its earliest copy (then the smallest content, so the pick never depends on load
-- order), matched to the kept song with its exact title and artist name whose duration is
-- closest to the played length, then the smallest song_id; no such song leaves it unmatched.
-- One window does both: a copy's candidates sort together, best first.
copies_and_candidates AS (
    SELECT
        play_copies.*,
        song_records.song_id,
        ROW_NUMBER() OVER (
            PARTITION BY play_copies.user_id, play_copies.session_key, play_copies.item_key
            ORDER BY play_copies.ts, play_copies.song, play_copies.artist, play_copies.length,
                     play_copies.level, play_copies.location, play_copies.user_agent,
                     play_copies.session_id, play_copies.item_in_session,
                     ABS(song_records.duration - play_copies.length) NULLS LAST,
                     song_records.song_id
        ) AS pick
    FROM play_copies
    LEFT JOIN song_records
        ON song_records.title = play_copies.song
       AND song_records.artist_name = play_copies.artist
),

plays AS (
    SELECT *
    FROM copies_and_candidates
    WHERE pick = 1
)

SELECT
    kept.songplay_id,
    kept.start_time AS kept_start_time,
    TIMESTAMP 'epoch' + plays.ts / 1000.0 * INTERVAL '1 second' AS start_time,
    plays.user_id,
    plays.level,
    plays.song_id,
    song.artist_id,
    plays.session_id,
    plays.item_in_session,
    plays.location,
    plays.user_agent,
    plays.session_key,
    plays.item_key
FROM plays
LEFT JOIN song
    ON song.song_id = plays.song_id
LEFT JOIN songplay AS kept
    ON kept.user_id = plays.user_id
   AND COALESCE(kept.session_id, -1) = plays.session_key
   AND COALESCE(kept.item_in_session, -1) = plays.item_key
