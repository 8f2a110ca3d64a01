-- Artists seen in this load are rebuilt below from their staged records.
DELETE FROM artist
USING (
    SELECT DISTINCT artist_id
    FROM staging_songs
    WHERE NULLIF(artist_id, '') IS NOT NULL
) AS restaged_artists
WHERE artist.artist_id = restaged_artists.artist_id
