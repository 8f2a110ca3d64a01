-- The ten titles played most that match no song, with the artist the event named: what the
-- song catalogue lacks.
SELECT
    song_title AS title,
    artist_name,
    COUNT(*) AS plays
FROM songplay
WHERE song_id IS NULL
GROUP BY song_title, artist_name
ORDER BY plays DESC, title NULLS LAST, artist_name NULLS LAST
LIMIT 10
