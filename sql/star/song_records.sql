-- Keep every distinct song record staged now, unless already kept.
INSERT INTO song_records (
    song_id, title, artist_id, artist_name, artist_location,
    artist_latitude, artist_longitude, duration, year
)
WITH staged_records AS (
    SELECT DISTINCT
        song_id,
        NULLIF(title, '') AS title,
        NULLIF(artist_id, '') AS artist_id,
        NULLIF(artist_name, '') AS artist_name,
        NULLIF(artist_location, '') AS artist_location,
        artist_latitude,
        artist_longitude,
        duration,
        year
    FROM staging_songs
    WHERE NULLIF(song_id, '') IS NOT NULL
)

SELECT staged_records.*
FROM staged_records
WHERE NOT EXISTS (
    SELECT 1
    FROM song_records AS kept
    WHERE kept.song_id = staged_records.song_id
      AND COALESCE(kept.title, '') = COALESCE(staged_records.title, '')
      AND COALESCE(kept.artist_id, '') = COALESCE(staged_records.artist_id, '')
      AND COALESCE(kept.artist_name, '') = COALESCE(staged_records.artist_name, '')
      AND COALESCE(kept.artist_location, '') = COALESCE(staged_records.artist_location, '')
      AND COALESCE(kept.artist_latitude, -999) = COALESCE(staged_records.artist_latitude, -999)
      AND COALESCE(kept.artist_longitude, -999) = COALESCE(staged_records.artist_longitude, -999)
      AND COALESCE(kept.duration, -1) = COALESCE(staged_records.duration, -1)
      AND COALESCE(kept.year, -1) = COALESCE(staged_records.year, -1)
)
