INSERT INTO song (song_id, title, artist_id, year, duration)
WITH song_records AS (
    SELECT
        song_id,
        NULLIF(title, '') AS title,
        NULLIF(artist_id, '') AS artist_id,
        year,
        duration
    FROM staging_songs
    WHERE NULLIF(song_id, '') IS NOT NULL
),

-- A song repeated with different details: prefer a known year (not 0) and duration, then
-- the smallest title and artist_id, so load order never matters.
records_by_preference AS (
    SELECT
        song_records.*,
        ROW_NUMBER() OVER (
            PARTITION BY song_id
            ORDER BY CASE WHEN year IS NULL OR year = 0 THEN 1 ELSE 0 END,
                     CASE WHEN duration IS NULL THEN 1 ELSE 0 END,
                     title NULLS LAST,
                     artist_id NULLS LAST,
                     duration NULLS LAST,
                     year
        ) AS preference
    FROM song_records
)

SELECT
    song_id,
    title,
    artist_id,
    year,
    duration
FROM records_by_preference
WHERE preference = 1
