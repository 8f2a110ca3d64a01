-- The best song for every play this load can affect: the plays staged now, and earlier plays
-- whose title and artist name match a song staged now.
INSERT INTO play_matches (user_id, session_key, item_key, song_id)
-- The first part is a semi-join (staged_plays has one row per play): as an inner join on the
-- three key columns the planner expects a few hundred plays where it reads all of the load.
WITH affected_plays AS (
    SELECT songplay_source.*
    FROM songplay_source
    WHERE EXISTS (
        SELECT 1
        FROM staged_plays
        WHERE staged_plays.user_id = songplay_source.user_id
          AND staged_plays.session_key = songplay_source.session_key
          AND staged_plays.item_key = songplay_source.item_key
    )

    -- the two parts never share a play, so no UNION has to deduplicate them
    UNION ALL

    -- Earlier plays: until star/songplay below, songplay holds exactly the plays loaded
    -- before (songplay_source gets the same plays in the same transactions), so when it is
    -- empty (a first load) this part cannot find any and is skipped.
    SELECT songplay_source.*
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
