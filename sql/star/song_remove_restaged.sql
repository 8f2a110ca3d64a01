-- Songs staged now are rebuilt below from all their kept records.
DELETE FROM song
WHERE song_id IN (
    SELECT song_id
    FROM staging_songs
    WHERE NULLIF(song_id, '') IS NOT NULL
)
