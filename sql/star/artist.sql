INSERT INTO artist (artist_id, name, location, latitude, longitude)
WITH restaged_artists AS (
    SELECT DISTINCT artist_id
    FROM staging_songs
    WHERE NULLIF(artist_id, '') IS NOT NULL
),

artist_records AS (
    SELECT
        song_records.artist_id,
        song_records.artist_name AS name,
        song_records.artist_location AS location,
        song_records.artist_latitude AS latitude,
        song_records.artist_longitude AS longitude
    FROM song_records
    INNER JOIN restaged_artists
        ON restaged_artists.artist_id = song_records.artist_id
),

-- An artist repeated with different details: keep the most complete record (a location,
-- then coordinates), then the smallest name and location, so load order never matters.
records_by_preference AS (
    SELECT
        artist_records.*,
        ROW_NUMBER() OVER (
            PARTITION BY artist_id
            ORDER BY CASE WHEN location IS NULL THEN 1 ELSE 0 END,
                     CASE WHEN latitude IS NULL OR longitude IS NULL THEN 1 ELSE 0 END,
                     name NULLS LAST,
                     location NULLS LAST,
                     latitude NULLS LAST,
                     longitude NULLS LAST
        ) AS preference
    FROM artist_records
)

SELECT
    artist_id,
    name,
    location,
    latitude,
    longitude
FROM records_by_preference
WHERE preference = 1
