-- The ten titles played most that match no song, with the artist the event named: what the
-- song catalogue lacks. songplay_source keeps what each play asked for.
WITH unmatched_plays AS (
    SELECT
        songplay_source.song AS title,
        songplay_source.artist AS artist_name
    FROM songplay
    INNER JOIN songplay_source
        ON songplay_source.user_id = songplay.user_id
       AND songplay_source.session_key = COALESCE(songplay.session_id, -1)
       AND songplay_source.item_key = COALESCE(songplay.item_in_session, -1)
    WHERE songplay.song_id IS NULL
)

SELECT
    title,
    artist_name,
    COUNT(*) AS plays
FROM unmatched_plays
GROUP BY title, artist_name
ORDER BY plays DESC, title NULLS LAST, artist_name NULLS LAST
LIMIT 10
