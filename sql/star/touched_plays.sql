-- The plays this load touches, each computed from all its copies as a full load computes every
-- play: the plays it stages, plays kept before whose title and artist a song it stages has,
-- and plays of a song it stages again. Runs before star/user_events adds this load's events,
-- so a play's copies are the staged ones and those kept before. A temporary table of the
-- transform's session: songplay's update and insert and time read it.
CREATE TEMPORARY TABLE touched_plays AS
WITH staged_copies AS (
    SELECT
        user_id,
        session_id,
        item_in_session,
        ts,
        level,
        song,
        artist,
        length,
        location,
        user_agent
    FROM staged_user_events
    WHERE is_play
),

staged_titles AS (
    SELECT DISTINCT
        NULLIF(title, '') AS title,
        NULLIF(artist_name, '') AS artist_name
    FROM staging_songs
),

-- Plays kept before that a staged song may match now (their earliest copy asked for its title
-- and artist), or whose song is staged again (its artist_id may change).
rematched_plays AS (
    SELECT
        songplay.user_id,
        songplay.session_id,
        songplay.item_in_session
    FROM songplay
    INNER JOIN staged_titles
        ON staged_titles.title = songplay.song_title
       AND staged_titles.artist_name = songplay.artist_name

    UNION

    SELECT
        songplay.user_id,
        songplay.session_id,
        songplay.item_in_session
    FROM songplay
    WHERE songplay.song_id IN (SELECT song_id FROM staging_songs)
),

-- The copies kept before of those plays and of the staged ones. A copy read twice (its play
-- is staged and rematched) changes no pick below.
kept_copies AS (
    SELECT user_events.*
    FROM user_events
    WHERE user_events.is_play
      AND EXISTS (
          SELECT 1
          FROM staged_user_events AS staged
          WHERE staged.is_play
            AND staged.user_id = user_events.user_id
            AND staged.session_id = user_events.session_id
            AND staged.item_in_session = user_events.item_in_session
      )

    UNION ALL

    SELECT user_events.*
    FROM user_events
    INNER JOIN rematched_plays
        ON rematched_plays.user_id = user_events.user_id
       AND rematched_plays.session_id = user_events.session_id
       AND rematched_plays.item_in_session = user_events.item_in_session
    WHERE user_events.is_play
),

play_copies AS (
    SELECT * FROM staged_copies

    UNION ALL

    SELECT
        user_id,
        session_id,
        item_in_session,
        ts,
        level,
        song,
        artist,
        length,
        location,
        user_agent
    FROM kept_copies
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
            PARTITION BY play_copies.user_id, play_copies.session_id, play_copies.item_in_session
            ORDER BY play_copies.ts, play_copies.song, play_copies.artist, play_copies.length,
                     play_copies.level, play_copies.location, play_copies.user_agent,
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
    plays.song AS song_title,
    plays.artist AS artist_name
FROM plays
LEFT JOIN song
    ON song.song_id = plays.song_id
LEFT JOIN songplay AS kept
    ON kept.user_id = plays.user_id
   AND kept.session_id = plays.session_id
   AND kept.item_in_session = plays.item_in_session
