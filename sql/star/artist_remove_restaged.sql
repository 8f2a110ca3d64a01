-- Artists staged now are rebuilt below from all their kept records.
DELETE FROM artist
USING (
    SELECT DISTINCT artist_id
    FROM staging_songs
    WHERE NULLIF(artist_id, '') IS NOT NULL
) AS restaged_artists
WHERE artist.artist_id = restaged_artists.artist_id
