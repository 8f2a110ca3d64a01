-- Artists staged now are rebuilt below from all their kept records.
DELETE FROM artist
WHERE artist_id IN (
    SELECT artist_id
    FROM staging_songs
    WHERE NULLIF(artist_id, '') IS NOT NULL
)
