-- The best song for every play this load can affect: its new plays, the plays loaded before
-- that it stages again, and earlier plays whose title and artist name match a song staged now.
-- Until star/songplay below, songplay holds exactly the plays loaded before (songplay_source
-- gets the same plays in the same transactions).
INSERT INTO play_matches (user_id, session_key, item_key, song_id)
WITH affected_plays AS (
    -- New plays ask for what staged_plays holds (star/songplay_source kept the same).
    SELECT
        staged_plays.user_id,
        staged_plays.session_key,
        staged_plays.item_key,
        staged_plays.song,
        staged_plays.artist,
        staged_plays.length
    FROM staged_plays
    WHERE NOT EXISTS (
        SELECT 1
        FROM songplay
        WHERE songplay.user_id = staged_plays.user_id
          AND COALESCE(songplay.session_id, -1) = staged_plays.session_key
          AND COALESCE(songplay.item_in_session, -1) = staged_plays.item_key
    )

    -- the three parts never share a play, so no UNION has to deduplicate them
    UNION ALL

    -- Plays loaded before and staged again ask for what their earliest copy asked for, as
    -- songplay_source keeps it (star/songplay_source_earlier). None on a first load.
    SELECT
        songplay_source.user_id,
        songplay_source.session_key,
        songplay_source.item_key,
        songplay_source.song,
        songplay_source.artist,
        songplay_source.length
    FROM songplay_source
    WHERE EXISTS (SELECT 1 FROM songplay)
      AND EXISTS (
        SELECT 1
        FROM staged_plays
        WHERE staged_plays.user_id = songplay_source.user_id
          AND staged_plays.session_key = songplay_source.session_key
          AND staged_plays.item_key = songplay_source.item_key
    )
      AND EXISTS (
        SELECT 1
        FROM songplay
        WHERE songplay.user_id = songplay_source.user_id
          AND COALESCE(songplay.session_id, -1) = songplay_source.session_key
          AND COALESCE(songplay.item_in_session, -1) = songplay_source.item_key
    )

    UNION ALL

    -- Earlier plays not staged again whose title and artist a staged song has. None on a
    -- first load.
    SELECT
        songplay_source.user_id,
        songplay_source.session_key,
        songplay_source.item_key,
        songplay_source.song,
        songplay_source.artist,
        songplay_source.length
    FROM songplay_source
    INNER JOIN (SELECT DISTINCT title, artist_name FROM staging_songs) AS staged_titles
        ON staged_titles.title = songplay_source.song
       AND staged_titles.artist_name = songplay_source.artist
    WHERE EXISTS (SELECT 1 FROM songplay)
      AND NOT EXISTS (
        SELECT 1
        FROM staged_plays
        WHERE staged_plays.user_id = songplay_source.user_id
          AND staged_plays.session_key = songplay_source.session_key
          AND staged_plays.item_key = songplay_source.item_key
    )
),

-- Every kept song with the play's exact title and artist name, or one row without a song when
-- none has them. When several match, the one whose duration is closest to the played length
-- wins, then the smallest song_id.
ranked_candidates AS (
    SELECT
        affected_plays.user_id,
        affected_plays.session_key,
        affected_plays.item_key,
        song_records.song_id,
        ROW_NUMBER() OVER (
            PARTITION BY affected_plays.user_id, affected_plays.session_key, affected_plays.item_key
            ORDER BY ABS(song_records.duration - affected_plays.length) NULLS LAST,
                     song_records.song_id
        ) AS closeness
    FROM affected_plays
    LEFT JOIN song_records
        ON song_records.title = affected_plays.song
       AND song_records.artist_name = affected_plays.artist
)

SELECT
    user_id,
    session_key,
    item_key,
    song_id
FROM ranked_candidates
WHERE closeness = 1
