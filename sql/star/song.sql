INSERT INTO song (song_id, title, artist_id, year, duration)
WITH restaged_songs AS (
    SELECT DISTINCT song_id
    FROM staging_songs
    WHERE NULLIF(song_id, '') IS NOT NULL
),

song_records_restaged AS (
    SELECT
        song_records.song_id,
        song_records.title,
        song_records.artist_id,
        song_records.year,
        song_records.duration
    FROM song_records
    INNER JOIN restaged_songs
        ON restaged_songs.song_id = song_records.song_id
),

-- A song repeated with different details: prefer a known year (not 0) and duration, then
-- the smallest title and artist_id, so load order never matters.
records_by_preference AS (
    SELECT
        song_records_restaged.*,
        ROW_NUMBER() OVER (
            PARTITION BY song_id
            ORDER BY CASE WHEN year IS NULL OR year = 0 THEN 1 ELSE 0 END,
                     CASE WHEN duration IS NULL THEN 1 ELSE 0 END,
                     title NULLS LAST,
                     artist_id NULLS LAST,
                     duration NULLS LAST,
                     year
        ) AS preference
    FROM song_records_restaged
)

SELECT
    song_id,
    title,
    artist_id,
    year,
    duration
FROM records_by_preference
WHERE preference = 1
