-- The ten artists played most (plays matched to a song); ties by name, then artist_id.
WITH plays_per_artist AS (
    SELECT
        artist_id,
        COUNT(*) AS plays
    FROM songplay
    WHERE artist_id IS NOT NULL
    GROUP BY artist_id
)

SELECT
    artist.artist_id,
    artist.name,
    plays_per_artist.plays
FROM plays_per_artist
INNER JOIN artist
    ON artist.artist_id = plays_per_artist.artist_id
ORDER BY plays_per_artist.plays DESC, artist.name, artist.artist_id
LIMIT 10
