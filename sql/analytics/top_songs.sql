-- The ten songs played most (plays matched to a song); ties by title, then song_id.
WITH plays_per_song AS (
    SELECT
        song_id,
        COUNT(*) AS plays
    FROM songplay
    WHERE song_id IS NOT NULL
    GROUP BY song_id
)

SELECT
    song.song_id,
    song.title,
    artist.name AS artist_name,
    plays_per_song.plays
FROM plays_per_song
INNER JOIN song
    ON song.song_id = plays_per_song.song_id
LEFT JOIN artist
    ON artist.artist_id = song.artist_id
ORDER BY plays_per_song.plays DESC, song.title, song.song_id
LIMIT 10
